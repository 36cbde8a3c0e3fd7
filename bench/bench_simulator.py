"""The simulated fleet's own speed, so that it is never the bottleneck of an ingest benchmark.

Scenarios, each run three times against a local broker (DAMP_BENCH_MQTT_URL, default Mosquitto
on 127.0.0.1:1883), the median reported:

- generate: `generate_dataset` in-process (physics, firmware, truth), readings per second;
- backfill: history published as native backlogs (2,000 readings per message), readings/s;
- load: one reading per message at an unlimited rate (mixed formats), messages/s;
- peer: a bare paho client publishing pre-encoded native messages of the same size at QoS 1
  with the same in-flight window: what this machine's client and broker can take, the limit
  the simulator's load mode is compared with.

Every publish is acknowledged (PUBACK) before a run's clock stops. Results are printed as a
table and written to bench/results/simulator.json. The machine is shared: compare figures only
within one run of this benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dampsim import SimOptions, generate_dataset, run_simulation
from dampsim.publisher import Publisher

RESULTS = Path(__file__).resolve().parent / "results" / "simulator.json"
RUNS = 3
END = datetime(2026, 1, 20, tzinfo=UTC)
SINGLE_READING = (
    b'{"recorded_at":"2026-01-19T12:00:00+00:00","temperature_c":18.4,"humidity_pct":61.5,'
    b'"battery_pct":87}'
)


def _median_of(runs: int, once: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    """Median (count/s) of `runs` runs of `once`, which returns (count, seconds)."""
    rates = []
    counts = []
    for _ in range(runs):
        count, seconds = once()
        rates.append(count / seconds)
        counts.append(count)
    return {
        "median_per_s": statistics.median(rates),
        "runs_per_s": rates,
        "count": statistics.median(counts),
    }


def _options(args: argparse.Namespace, **overrides: object) -> SimOptions:
    base = SimOptions(
        homes=args.homes,
        boroughs=10,
        seed=7,
        history_days=args.days,
        end_at=END,
        mqtt_url=args.mqtt_url,
        mqtt_protocol=args.protocol,
        topic_prefix=f"bench/{uuid.uuid4().hex[:8]}/",
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def bench_generate(args: argparse.Namespace) -> tuple[float, float]:
    started = time.perf_counter()
    dataset = generate_dataset(_options(args))
    return len(dataset.readings), time.perf_counter() - started


def bench_backfill(args: argparse.Namespace) -> tuple[float, float]:
    report = run_simulation(_options(args, mode="backfill"))
    return report.readings, report.elapsed_s


def bench_load(args: argparse.Namespace) -> tuple[float, float]:
    report = run_simulation(
        _options(args, mode="load", formats="mixed", rate_per_s=1e9, duration_s=args.seconds)
    )
    return report.messages, report.elapsed_s


def bench_peer(args: argparse.Namespace) -> tuple[float, float]:
    prefix = f"bench/{uuid.uuid4().hex[:8]}/dw/v1/readings/"
    with Publisher(args.mqtt_url, args.protocol) as publisher:
        started = time.perf_counter()
        sent = 0
        while time.perf_counter() - started < args.seconds:
            for i in range(1000):
                publisher.publish(f"{prefix}dw-{i % 500:012d}", SINGLE_READING)
            sent += 1000
        publisher.flush()
        return sent, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_simulator", description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seconds", type=float, default=5.0, help="per load and peer run")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--mqtt-url", default=os.environ.get("DAMP_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
    )
    parser.add_argument("--protocol", default=os.environ.get("DAMP_BENCH_MQTT_PROTOCOL", "5"))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    scenarios: dict[str, tuple[str, Callable[[argparse.Namespace], tuple[float, float]]]] = {
        "generate": ("readings/s", bench_generate),
        "backfill": ("readings/s", bench_backfill),
        "load": ("messages/s", bench_load),
        "peer": ("messages/s", bench_peer),
    }
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, (unit, run) in scenarios.items():
            stats = _median_of(args.runs, lambda run=run: run(args))  # type: ignore[misc]
            results[name] = {"unit": unit, **stats}
    except OSError as err:
        print(f"no broker at {args.mqtt_url}: {err}")
        return 1
    print(f"\nsimulator: {args.homes} homes, {args.days:g} days, median of {args.runs} runs")
    print(f"{'scenario':<10} {'rate':>14}  unit        runs")
    for name, result in results.items():
        runs = ", ".join(f"{r:,.0f}" for r in result["runs_per_s"])
        print(f"{name:<10} {result['median_per_s']:>14,.0f}  {result['unit']:<11} {runs}")
    load = float(results["load"]["median_per_s"])
    peer = float(results["peer"]["median_per_s"])
    print(f"load mode reaches {load / peer:.0%} of what a bare client publishes on this machine")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "simulator",
                "measured_at": datetime.now(UTC).isoformat(),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "parameters": {
                    "homes": args.homes,
                    "days": args.days,
                    "seconds": args.seconds,
                    "runs": args.runs,
                    "mqtt_url": args.mqtt_url,
                    "protocol": args.protocol,
                },
                "results": results,
                "load_over_peer": load / peer,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
