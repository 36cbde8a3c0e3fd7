"""Ingest throughput: the broker alone, the database alone, and the whole path, side by side.

    python -m bench ingest                      # 3 runs of each, 200,000 readings a run
    python -m bench.bench_ingest --runs 5 --readings 400000 --publishers 3
    python -m bench.bench_ingest --quick        # one small run, to see that it works
    python -m bench.bench_ingest --soak-s 600   # and ten minutes at a steady rate: memory

(a) broker alone: QoS 1 publishers -> a private Mosquitto -> `mosquitto_sub` (C, MQTT 5, QoS 1)
    doing nothing with the messages;
(b) database alone: the same rows, decoded beforehand, written as ingest writes them (binary
    COPY into the staging table, INSERT ... ON CONFLICT, sensors touched per batch), one
    connection; plain binary COPY into `readings` beside it;
(c) the whole path: publishers -> Mosquitto -> one `dampwatch ingest` process -> committed rows,
    one reading per message, every reading counted in the database afterwards.

By default each reading comes from a different, already provisioned sensor, as in a fleet that
reports every 15 minutes: every reading then also updates its sensor's row. Publishers are
raw-socket clients in their own processes (tests/ingest/rawpub.py), never the bottleneck. Each
reading's recorded_at is its publish time, so ingest's commit-lag histogram (from its /metrics)
gives publish-to-commit latency, at full speed and at half the measured rate. CPU per reading
comes from /proc for each process (ingest's MQTT and writer threads apart): where the time goes.
Everything shares this machine; the load average before each run is recorded beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dampwatch.embedded import free_port, tcp_reachable
from ingest.batch import Inbound, prepare_batch
from ingest.decoders import DEFAULT_LIMITS, DEFAULT_ROUTER
from ingest.writer import prepare_connection, write_batch
from store.migrate import migrate
from tests.ingest.brokers import PrivateMosquitto
from tests.ingest.harness import IngestProcess
from tests.ingest.measure import (
    cpu_s,
    histogram_buckets,
    histogram_quantile,
    peak_rss_mib,
    rss_mib,
    scrape,
    threads_cpu_s,
)
from tests.ingest.rawpub import PublisherProcesses

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
# No limit on the queue or on messages in flight (ingest's Receive Maximum bounds those), and no
# disk persistence: the benchmark measures throughput, the fault tests measure survival.
BROKER_CONFIG = (
    "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
    "set_tcp_nodelay true\npersistence false\n"
)
TOPIC_PREFIX = "bench/"
STORED = "dampwatch_ingest_readings_stored_total"


@dataclass
class RunResult:
    readings_per_s: float
    load_avg_1m: float
    extra: dict[str, float] = field(default_factory=dict)


def bench_broker(broker: PrivateMosquitto, args: argparse.Namespace, run: str) -> RunResult:
    """(a) publishers -> Mosquitto -> mosquitto_sub doing nothing."""
    load = os.getloadavg()[0]
    subscriber = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(broker.port),
            "-V",
            "mqttv5",
            "-q",
            "1",
            "-t",
            f"{TOPIC_PREFIX}#",
            "-C",
            str(args.readings),
            "-i",
            f"sub-{run}",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it subscribe
    cpu_before = broker.cpu_seconds()
    publishers = PublisherProcesses(
        broker.port,
        topic_prefix=TOPIC_PREFIX,
        run=run,
        count=args.readings,
        sensors=args.sensors,
        processes=args.publishers,
    )
    stats = publishers.join()
    subscriber.wait(timeout=300)
    finished = time.monotonic()
    started = min(s["started_at"] for s in stats)
    return RunResult(
        readings_per_s=publishers.count / (finished - started),
        load_avg_1m=load,
        extra={
            "broker_cpu_us_per_msg": (broker.cpu_seconds() - cpu_before) / publishers.count * 1e6,
            "publisher_cpu_us_per_msg": sum(s["cpu_s"] for s in stats) / publishers.count * 1e6,
        },
    )


def bench_database(database_url: str, args: argparse.Namespace, run: str) -> RunResult:
    """(b) the same rows written as ingest writes them, decoded beforehand; and plain COPY."""
    at = datetime.now(UTC) - timedelta(hours=1)
    messages = [
        Inbound(
            f"{TOPIC_PREFIX}dw/v1/readings/{run}-{i % args.sensors}",
            f'{{"recorded_at":"{(at + timedelta(microseconds=7 * i)).isoformat()}",'
            f'"temperature_c":{18 + i % 40 / 10},"humidity_pct":{55 + i % 30},'
            f'"battery_pct":87}}'.encode(),
            time.time(),
        )
        for i in range(args.readings)
    ]
    size = args.batch_size
    batches = [
        prepare_batch(
            messages[i : i + size],
            prefix=TOPIC_PREFIX,
            router=DEFAULT_ROUTER,
            limits=DEFAULT_LIMITS,
        )
        for i in range(0, len(messages), size)
    ]
    load = os.getloadavg()[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        prepare_connection(conn)
        cpu_before = cpu_s(conn.info.backend_pid)
        started = time.monotonic()
        for batch in batches:
            with conn.transaction():
                write_batch(conn, batch)
        elapsed = time.monotonic() - started
        cpu = cpu_s(conn.info.backend_pid) - cpu_before
        rows = [(f"copy-{r[0]}", *r[1:5]) for batch in batches for r in batch.readings]
        copy_started = time.monotonic()
        for i in range(0, len(rows), size):
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct,"
                    " battery_pct) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["text", "timestamptz", "float4", "float4", "float4"])
                for row in rows[i : i + size]:
                    copy.write_row(row)
        copy_elapsed = time.monotonic() - copy_started
    return RunResult(
        readings_per_s=len(messages) / elapsed,
        load_avg_1m=load,
        extra={
            "postgres_cpu_us_per_row": cpu / len(messages) * 1e6,
            "plain_copy_rows_per_s": len(rows) / copy_elapsed,
        },
    )


def start_ingest(
    broker: PrivateMosquitto, database_url: str, spool: str, run: str, args: argparse.Namespace
) -> tuple[IngestProcess, int]:
    """A `dampwatch ingest` process on the private broker, and the port of its /metrics."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env.update(
        DAMP_DATABASE_URL=database_url,
        DAMP_MQTT_URL=broker.url,
        DAMP_MQTT_PROTOCOL="5",
        DAMP_MQTT_TOPIC_PREFIX=TOPIC_PREFIX,
        DAMP_INGEST_CLIENT_ID=f"bench-ingest-{run}",
        DAMP_INGEST_SPOOL_DIR=spool,
        DAMP_INGEST_METRICS_PORT=str(port),
        DAMP_INGEST_METRICS_HOST="127.0.0.1",
        DAMP_INGEST_BATCH_SIZE=str(args.batch_size),
        DAMP_INGEST_RECEIVE_MAXIMUM=str(min(65535, 4 * args.batch_size)),
    )
    return IngestProcess(env).start(), port


def bench_full_path(
    broker: PrivateMosquitto,
    database_url: str,
    args: argparse.Namespace,
    run: str,
    rate: float | None = None,
) -> RunResult:
    """(c) publishers -> broker -> ingest -> committed rows; `rate` paces the publishers."""
    with tempfile.TemporaryDirectory() as spool:
        ingest, port = start_ingest(broker, database_url, spool, run, args)
        assert ingest.process is not None
        pid = ingest.process.pid
        try:
            threads_before, broker_before = threads_cpu_s(pid), broker.cpu_seconds()
            lag_before = histogram_buckets(scrape(port))
            load = os.getloadavg()[0]
            publishers = PublisherProcesses(
                broker.port,
                topic_prefix=TOPIC_PREFIX,
                run=run,
                sensors=args.sensors,
                count=args.readings if rate is None else int(rate * args.paced_s),
                processes=args.publishers,
                rate_per_s=rate,
            )
            timeline: list[tuple[float, float]] = []
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                timeline.append((time.monotonic(), scrape(port).get(STORED, 0.0)))
                if timeline[-1][1] >= publishers.count:
                    break
                time.sleep(0.05)
            stats = publishers.join()
            samples, threads_after = scrape(port), threads_cpu_s(pid)
            broker_cpu, peak_mib = broker.cpu_seconds() - broker_before, peak_rss_mib(pid)
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "SELECT count(*), count(DISTINCT (sensor_id, recorded_at)) FROM readings"
                    " WHERE sensor_id LIKE %s",
                    (f"{run}-%",),
                ).fetchone()
                backend = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'dampwatch-ingest'"
                ).fetchone()
                pg_cpu = cpu_s(int(backend[0])) if backend else float("nan")
        finally:
            ingest.stop()
    assert row is not None
    expected = publishers.count
    lag_after = histogram_buckets(samples)
    main_cpu = threads_after.get(pid, 0.0) - threads_before.get(pid, 0.0)
    total_cpu = sum(threads_after.values()) - sum(threads_before.get(t, 0.0) for t in threads_after)
    return RunResult(
        readings_per_s=_sustained_rate(timeline, expected),
        load_avg_1m=load,
        extra={
            "overall_readings_per_s": expected
            / (timeline[-1][0] - min(s["started_at"] for s in stats)),
            "stored": float(row[0]),
            "distinct": float(row[1]),
            "expected": float(expected),
            "latency_p50_s": histogram_quantile(lag_before, lag_after, 0.50),
            "latency_p99_s": histogram_quantile(lag_before, lag_after, 0.99),
            "ingest_cpu_us_per_reading": total_cpu / expected * 1e6,
            "ingest_mqtt_thread_cpu_us_per_reading": main_cpu / expected * 1e6,
            "ingest_other_threads_cpu_us_per_reading": (total_cpu - main_cpu) / expected * 1e6,
            "broker_cpu_us_per_msg": broker_cpu / expected * 1e6,
            "postgres_cpu_us_per_row": pg_cpu / expected * 1e6,
            "ingest_peak_rss_mib": peak_mib,
        },
    )


def _sustained_rate(timeline: list[tuple[float, float]], expected: float) -> float:
    """Rows per second between 10 % and 90 % of the run, leaving out start and tail."""
    low = next((t, n) for t, n in timeline if n >= 0.1 * expected)
    high = next(((t, n) for t, n in timeline if n >= 0.9 * expected), timeline[-1])
    return (high[1] - low[1]) / (high[0] - low[0]) if high[0] > low[0] else float("nan")


def soak(broker: PrivateMosquitto, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """`--soak-rate` for `--soak-s` seconds; ingest's resident memory sampled every 10 s."""
    run = f"soak{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as spool:
        ingest, _port = start_ingest(broker, database_url, spool, run, args)
        assert ingest.process is not None
        publishers = PublisherProcesses(
            broker.port,
            topic_prefix=TOPIC_PREFIX,
            run=run,
            sensors=args.sensors,
            count=int(args.soak_rate * args.soak_s),
            processes=args.publishers,
            rate_per_s=args.soak_rate,
        )
        samples = []
        while not publishers.ready():
            samples.append((round(time.monotonic(), 1), rss_mib(ingest.process.pid)))
            publishers.wait(10)
        publishers.join()
        ingest.stop()
    rss = [m for _, m in samples]
    return {
        "rate_per_s": args.soak_rate,
        "seconds": args.soak_s,
        "rss_mib_samples": samples,
        "rss_first_mib": rss[0],
        "rss_last_mib": rss[-1],
        "rss_max_mib": max(rss),
    }


def _reset(url: str, run: str, sensors: int, provisioned: bool) -> None:
    """Empty tables; with `provisioned`, the run's sensors exist already, as in a real fleet."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE readings")
        conn.execute("DELETE FROM sensors")
        conn.execute("DELETE FROM rejected_messages")
        if provisioned:
            conn.execute(
                "INSERT INTO sensors (sensor_id, payload_format, first_seen_at)"
                " SELECT %s || g, 'native', now() FROM generate_series(0, %s) g",
                (f"{run}-", sensors - 1),
            )
        conn.execute("VACUUM ANALYZE sensors")
        conn.execute("CHECKPOINT")


def _median(results: list[RunResult], key: str | None = None) -> float:
    return statistics.median(r.readings_per_s if key is None else r.extra[key] for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--sensors", type=int, help="distinct sensors (default: one a reading)")
    parser.add_argument(
        "--provisioned",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sensors exist before the run, rather than being created by ingest",
    )
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--batch-size", type=int, default=5000, help="DAMP_INGEST_BATCH_SIZE")
    parser.add_argument("--paced-s", type=float, default=10.0, help="length of a half-rate run")
    parser.add_argument("--quick", action="store_true", help="one run of 20,000 readings")
    parser.add_argument("--soak-s", type=float, default=0.0, help="also soak for this long")
    parser.add_argument("--soak-rate", type=float, default=10_000.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.readings, args.paced_s = 1, 20_000, 3.0
    args.sensors = args.sensors or args.readings
    admin_url = os.environ.get("DAMP_BENCH_DATABASE_URL", LOCAL_POSTGRES)
    if admin_url == LOCAL_POSTGRES and not tcp_reachable("127.0.0.1", 5432):
        print("needs PostgreSQL: DAMP_BENCH_DATABASE_URL or one on 127.0.0.1:5432")
        return 2
    name = f"dampwatch_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = make_conninfo(admin_url, dbname=name)
    migrate(database_url)
    broker = PrivateMosquitto(
        Path(tempfile.mkdtemp(prefix="bench-mqtt-")), extra_config=BROKER_CONFIG
    )
    broker.start()
    results: dict[str, list[RunResult]] = {"broker": [], "database": [], "full": [], "half": []}
    soak_result = None
    try:
        for i in range(args.runs):
            run = f"r{i}{uuid.uuid4().hex[:4]}"
            results["broker"].append(bench_broker(broker, args, run + "a"))
            _reset(database_url, run + "b", args.sensors, args.provisioned)
            results["database"].append(bench_database(database_url, args, run + "b"))
            _reset(database_url, run + "c", args.sensors, args.provisioned)
            results["full"].append(bench_full_path(broker, database_url, args, run + "c"))
            print(
                f"run {i + 1}/{args.runs}: broker {results['broker'][-1].readings_per_s:,.0f}/s,"
                f" database {results['database'][-1].readings_per_s:,.0f}/s,"
                f" full path {results['full'][-1].readings_per_s:,.0f}/s",
                flush=True,
            )
        for i in range(args.runs):
            run = f"h{i}{uuid.uuid4().hex[:4]}"
            _reset(database_url, run, args.sensors, args.provisioned)
            half = _median(results["full"]) / 2
            results["half"].append(bench_full_path(broker, database_url, args, run, half))
        if args.soak_s > 0:
            _reset(database_url, "soak", 0, provisioned=False)
            soak_result = soak(broker, database_url, args)
    finally:
        broker.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    report = _report(results, args, soak_result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    _print_table(report)
    print(f"\nwritten to {RESULTS}")
    runs = results["full"] + results["half"]
    return 1 if any(r.extra["stored"] != r.extra["expected"] for r in runs) else 0


def _report(
    results: dict[str, list[RunResult]],
    args: argparse.Namespace,
    soak_result: dict[str, Any] | None,
) -> dict[str, Any]:
    broker, database, full, half = (results[k] for k in ("broker", "database", "full", "half"))

    def lost(runs: list[RunResult]) -> float:
        return sum(r.extra["expected"] - r.extra["stored"] for r in runs)

    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_per_run": [r.load_avg_1m for r in full]},
        "settings": dict(vars(args)),
        "broker_alone": {"median_msgs_per_s": _median(broker), "runs": [asdict(r) for r in broker]},
        "database_alone": {
            "median_rows_per_s": _median(database),
            "median_plain_copy_rows_per_s": _median(database, "plain_copy_rows_per_s"),
            "runs": [asdict(r) for r in database],
        },
        "full_path": {
            "ratio_to_slower_of_broker_and_database": (
                _median(full) / min(_median(broker), _median(database))
            ),
            "lost": lost(full),
            "runs": [asdict(r) for r in full],
            "median_readings_per_s": _median(full),
            **{f"median_{k}": _median(full, k) for k in full[0].extra},
        },
        "half_rate": {
            "rate_per_s": _median(full) / 2,
            "median_latency_p50_s": _median(half, "latency_p50_s"),
            "median_latency_p99_s": _median(half, "latency_p99_s"),
            "lost": lost(half),
            "runs": [asdict(r) for r in half],
        },
        "soak": soak_result,
    }


def _print_table(report: dict[str, Any]) -> None:
    full, half, db = report["full_path"], report["half_rate"], report["database_alone"]
    m = {k.removeprefix("median_"): v for k, v in full.items() if k.startswith("median_")}
    m["ratio"] = full["ratio_to_slower_of_broker_and_database"]
    soak = report["soak"]
    rows = [
        ("(a) broker alone, msgs/s", f"{report['broker_alone']['median_msgs_per_s']:,.0f}"),
        ("(b) database alone (ingest's SQL), rows/s", f"{db['median_rows_per_s']:,.0f}"),
        ("    plain binary COPY, rows/s", f"{db['median_plain_copy_rows_per_s']:,.0f}"),
        ("(c) full path, readings/s (sustained)", f"{m['readings_per_s']:,.0f}"),
        ("    ratio (c) / slower of (a), (b)", f"{m['ratio']:.2f}"),
        ("    publish-to-commit p50 / p99, s",
         f"{m['latency_p50_s']:.3f} / {m['latency_p99_s']:.3f}"),
        (f"    at half rate ({half['rate_per_s']:,.0f}/s)", f"{half['median_latency_p50_s']:.3f} / "
         f"{half['median_latency_p99_s']:.3f}"),
        ("    ingest CPU per reading, us", f"{m['ingest_cpu_us_per_reading']:.1f}"),
        ("      MQTT thread / writer and others",
         f"{m['ingest_mqtt_thread_cpu_us_per_reading']:.1f} / "
         f"{m['ingest_other_threads_cpu_us_per_reading']:.1f}"),
        ("    broker CPU per message, us", f"{m['broker_cpu_us_per_msg']:.1f}"),
        ("    PostgreSQL backend CPU per row, us", f"{m['postgres_cpu_us_per_row']:.1f}"),
        ("    ingest peak memory, MiB", f"{m['ingest_peak_rss_mib']:.0f}"),
        ("    readings lost (all runs)", f"{full['lost'] + half['lost']:.0f}"),
        ("load average (1 min) at each run",
         ", ".join(f"{x:.1f}" for x in report["machine"]["load_avg_1m_per_run"])),
    ]  # fmt: skip
    if soak:
        label = f"soak {soak['seconds']:.0f} s at {soak['rate_per_s']:,.0f}/s, RSS first/last/max"
        rss = (
            f"{soak['rss_first_mib']:.0f} / {soak['rss_last_mib']:.0f} / {soak['rss_max_mib']:.0f}"
        )
        rows.append((label, rss + " MiB"))
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value:>20}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
