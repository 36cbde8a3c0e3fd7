"""API latency under a fixed request rate: the officers' inbox and a home's 90 days of readings.

A database is filled with `--homes` homes (default 2,000 over 20 boroughs, two sensed rooms
each) and a winter of readings (`--days` 90 at one reading per `--interval-min` 30 minutes per
sensor), risk assessments and alerts, and its hourly rollup is refreshed as `dampwatch score`
does. `dampwatch api` serves it from its own process. Requests are sent open-loop at `--rate`
per second (default 200) for `--seconds`: each is timed from the moment it was *scheduled*, so
a slow server cannot hide its queueing (coordinated omission). Three runs per scenario; the
table and bench/results/api.json give the medians of p50, p99, response size and the serving
process's CPU per request, and every status code seen (a full pool must answer 503, never
500).

Target (issue 7): p99 under 100 ms at 200 requests/s with 2,000 homes of a winter's data. The
load generator shares the machine's cores with the server and the database, so figures are an
upper bound. Beside them, in the same run, the peer (bench/peer_app.py): the same server stack
answering with bytes of the readings answer's size held in memory, the floor of this machine.
`--workers 2` serves the API as DAMP_API_WORKERS=2 does.

    .venv/bin/python -m bench api            # or: .venv/bin/python -m bench.bench_api --help
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from api.auth import create_api_key
from dampwatch.embedded import free_port, tcp_reachable
from store.migrate import migrate
from store.rollups import refresh_hourly

RESULTS = Path(__file__).resolve().parent / "results" / "api.json"
BOROUGHS = [f"E09{n:06d}" for n in range(1, 21)]
RUNS = 3
SENDERS = 64  # requests in flight at most, like as many browsers or integration threads
WARM_UP_S = 2.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_api", description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--interval-min", type=int, default=30)
    parser.add_argument(
        "--rates",
        default="200",
        help="Comma-separated request rates per second; the first is the target's (200).",
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes. 1: `dampwatch api` as shipped; more: uvicorn's --workers with "
        "api.app:create_app_from_environment, as DAMP_API_WORKERS would give.",
    )
    args = parser.parse_args(argv)
    admin_url = os.environ.get(
        "DAMP_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    if not os.environ.get("DAMP_BENCH_DATABASE_URL") and not tcp_reachable("127.0.0.1", 5432):
        print("no PostgreSQL: set DAMP_BENCH_DATABASE_URL")
        return 1
    name = f"dampwatch_bench_api_{args.homes}_{args.days}_{args.interval_min}"
    url = make_conninfo(admin_url, dbname=name)
    started = time.monotonic()
    rows = _ensure_data(admin_url, url, name, args.homes, args.days, args.interval_min)
    print(f"data: {args.homes} homes, {rows:,} readings ({time.monotonic() - started:.0f} s)")
    with psycopg.connect(url) as conn:
        started = time.monotonic()
        hours = refresh_hourly(conn, now=datetime.now(UTC))
        conn.commit()
        rollup_s = time.monotonic() - started
        print(f"rollup refreshed: {hours:,} sensor-hours written ({rollup_s:.1f} s)")
        last = conn.execute("SELECT max(recorded_at) FROM readings").fetchone()
        data_end = last[0] if last and last[0] else datetime.now(UTC)
        _, key = create_api_key(
            conn, borough_code=BOROUGHS[0], role="borough_system", label="bench"
        )
        uprns = [
            r[0]
            for r in conn.execute("SELECT uprn FROM homes WHERE borough_code = %s", (BOROUGHS[0],))
        ]
    port, peer_port = free_port(), free_port()
    server = _start_api(url, port, args.workers)
    peer = _start_peer(peer_port)
    try:
        base = f"http://127.0.0.1:{port}"
        # The last 90 days of the data, however long ago the database was filled.
        end = (data_end + timedelta(minutes=1)).isoformat().replace("+", "%2B")
        start = (data_end - timedelta(days=args.days)).isoformat().replace("+", "%2B")
        clients = _clients(base, key)
        # The peer: bytes from memory, the size of the readings answer, same stack, same load.
        peer_clients = _clients(f"http://127.0.0.1:{peer_port}", key)
        scenarios = {
            "inbox": (clients, server, lambda rng: "/api/v1/alerts"),
            "home_readings_90d_hourly": (
                clients,
                server,
                lambda rng: (
                    f"/api/v1/homes/{rng.choice(uprns)}/readings/hourly?start={start}&end={end}"
                ),
            ),
            "peer_244kB_from_memory": (peer_clients, peer, lambda rng: "/peer"),
        }
        rates = [float(r) for r in args.rates.split(",")]
        results = {}
        for (scenario, (senders, serving, path_of)), rate in itertools.product(
            scenarios.items(), rates
        ):
            # Warm up (connections opened, statements prepared, caches filled): not measured.
            _run(senders, path_of, rate, WARM_UP_S, seed=99)
            load_avg = os.getloadavg()[0]
            runs = []
            for seed in range(RUNS):
                cpu_before = _cpu_s(serving.pid)
                run = _run(senders, path_of, rate, args.seconds, seed)
                # CPU of the serving process per request sent (with --workers the work is in
                # the worker processes, not in the one measured: not reported then).
                served_by_one = serving is peer or args.workers == 1
                run["server_cpu_ms"] = (
                    (_cpu_s(serving.pid) - cpu_before) * 1000 / (rate * args.seconds)
                    if served_by_one
                    else None
                )
                runs.append(run)
            statuses: dict[str, int] = {}
            for run in runs:
                for code, count in run["statuses"].items():
                    statuses[code] = statuses.get(code, 0) + count
            results[f"{scenario}@{rate:g}/s"] = {
                "scenario": scenario,
                "rate_per_s": rate,
                "load_avg_1m_before": load_avg,
                "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                "bytes": statistics.median(r["bytes"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "statuses": statuses,
                "achieved_rate": statistics.median(r["achieved_rate"] for r in runs),
                "server_cpu_ms": (
                    statistics.median(r["server_cpu_ms"] for r in runs)
                    if runs[0]["server_cpu_ms"] is not None
                    else None
                ),
                "runs": runs,
            }
    finally:
        for process in (server, peer):
            process.terminate()
            process.wait(timeout=15)
    print(
        f"\n{'scenario':34} {'sent/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'target p99':>11} {'kB':>7} {'cpu ms':>7} {'errors':>7} {'load':>5}"
    )
    for name, r in results.items():
        cpu = "-" if r["server_cpu_ms"] is None else f"{r['server_cpu_ms']:.2f}"
        print(
            f"{name:34} {r['achieved_rate']:7.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{'< 100':>11} {r['bytes'] / 1000:7.1f} {cpu:>7} {r['errors']:7d} "
            f"{r['load_avg_1m_before']:5.1f}  {r['statuses']}"
        )
    results_path = RESULTS if args.workers == 1 else RESULTS.with_name(f"api-{args.workers}w.json")
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(
        json.dumps(
            {
                "homes": args.homes,
                "days": args.days,
                "interval_min": args.interval_min,
                "readings": rows,
                "rollup_refresh_s": rollup_s,
                "rates_per_s": rates,
                "api_workers": args.workers,
                "seconds": args.seconds,
                "runs": RUNS,
                "target_p99_ms": 100,
                "scenarios": results,
                "cpus": os.cpu_count(),
                "measured_at": datetime.now(UTC).isoformat(),
            },
            indent=2,
        )
    )
    print(f"written {results_path}")
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1


def _clients(base: str, key: str) -> queue.SimpleQueue[httpx.Client]:
    """HTTP clients made once, before any timing: making one costs tens of milliseconds (its
    TLS context), which would otherwise land on the first requests of every run."""
    clients: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()
    for _ in range(SENDERS):
        clients.put(
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        )
    return clients


def _run(
    clients: queue.SimpleQueue[httpx.Client],
    path_of: object,
    rate: float,
    seconds: float,
    seed: int,
) -> dict[str, Any]:
    """Open-loop load: request i is due at t0 + i/rate; latency counts from when it was due."""
    rng = random.Random(seed)
    total = int(rate * seconds)
    paths = [path_of(rng) for _ in range(total)]  # type: ignore[operator]
    latencies: list[float] = [0.0] * total
    sizes: list[int] = [0] * total
    statuses: list[str] = ["none"] * total
    t0 = time.perf_counter() + 0.2

    def send(i: int) -> None:
        due = t0 + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        client = clients.get()
        try:
            response = client.get(paths[i])
            statuses[i] = str(response.status_code)
            sizes[i] = len(response.content)
        except httpx.HTTPError as err:
            statuses[i] = type(err).__name__
        finally:
            clients.put(client)
        latencies[i] = (time.perf_counter() - due) * 1000

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        list(pool.map(send, range(total)))
    elapsed = time.perf_counter() - t0
    ordered = np.sort(np.array(latencies))
    served = [size for size, status in zip(sizes, statuses, strict=True) if status == "200"]
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return {
        "p50_ms": float(np.percentile(ordered, 50)),
        "p99_ms": float(np.percentile(ordered, 99)),
        "bytes": float(np.median(served)) if served else 0.0,
        "errors": total - counts.get("200", 0),
        "statuses": counts,
        "achieved_rate": total / elapsed,
    }


def _start_api(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env.update(
        DAMP_DATABASE_URL=url,
        DAMP_API_PORT=str(port),
        DAMP_RATE_LIMIT_PER_S="100000",
        DAMP_RATE_LIMIT_BURST="100000",
        DAMP_POOL_MIN_SIZE="16",
        DAMP_POOL_MAX_SIZE="16",
        DAMP_LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "dampwatch", "api"]
    if workers > 1:
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_environment"),
            *("--port", str(port), "--workers", str(workers), "--no-access-log"),
        ]
    return _listening(subprocess.Popen(command, env=env), port)


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux /proc, proc(5))."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_peer(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "bench.peer_app:app", "--port", str(port)]
    return _listening(
        subprocess.Popen([*command, "--no-access-log", "--log-level", "warning"]), port
    )


def _listening(proc: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """`proc`, once it accepts connections on `port` (at most 30 s)."""
    deadline = time.monotonic() + 30
    while not tcp_reachable("127.0.0.1", port):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"nothing listens on port {port}: the server did not start")
        time.sleep(0.1)
    return proc


def _ensure_data(
    admin_url: str, url: str, name: str, homes: int, days: int, interval_min: int
) -> int:
    """Create and fill the bench database once; later runs reuse it."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrate(url)
    with psycopg.connect(url) as conn:
        count = conn.execute("SELECT count(*) FROM homes").fetchone()
        if count is not None and count[0] >= homes:
            row = conn.execute("SELECT count(*) FROM readings").fetchone()
            return int(row[0]) if row else 0
        return _fill(conn, homes, days, interval_min)


def _fill(
    conn: psycopg.Connection[tuple[object, ...]], homes: int, days: int, interval_min: int
) -> int:
    rng = np.random.default_rng(7)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    months = sorted({(start + timedelta(days=d)).replace(day=1, hour=0) for d in range(days + 32)})
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    steps = int(days * 24 * 60 / interval_min)
    offsets_s = np.arange(steps) * interval_min * 60
    stamps = np.datetime_as_string(
        (np.datetime64(start.replace(tzinfo=None), "s") + offsets_s.astype("timedelta64[s]")),
        unit="s",
    ).tolist()
    total = 0
    with conn.cursor() as cur:
        for n in range(homes):
            uprn = 10_000_000 + n
            borough = BOROUGHS[n % len(BOROUGHS)]
            cur.execute(
                "INSERT INTO homes (uprn, borough_code, address, postcode, archetype) "
                "VALUES (%s, %s, %s, 'E1 1AA', 'bench')",
                (uprn, borough, f"{n} Bench Road"),
            )
            band = ("red", "amber", "green", "green", "green")[n % 5]
            for room_name, kind in (("Bedroom", "bedroom"), ("Living room", "living_room")):
                cur.execute(
                    "INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, %s) RETURNING room_id",
                    (uprn, room_name, kind),
                )
                room_id = cur.fetchone()[0]  # type: ignore[index]
                sensor_id = f"bench-{uprn}-{kind}"
                cur.execute(
                    "INSERT INTO sensors (sensor_id, borough_code, last_seen_at, battery_pct) "
                    "VALUES (%s, %s, %s, 90)",
                    (sensor_id, borough, end),
                )
                cur.execute(
                    "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) "
                    "VALUES (%s, %s, %s)",
                    (sensor_id, room_id, start - timedelta(days=1)),
                )
                temperature = (
                    18 + 2 * np.sin(offsets_s / 86400 * 2 * np.pi) + rng.normal(0, 0.3, steps)
                )
                humidity = 65 + 10 * np.cos(offsets_s / 86400 * 2 * np.pi) + rng.normal(0, 2, steps)
                lines = "".join(
                    f"{sensor_id}\t{at}Z\t{temp}\t{hum}\n"
                    for at, temp, hum in zip(
                        stamps,
                        np.round(temperature, 2).tolist(),
                        np.round(humidity, 1).tolist(),
                        strict=True,
                    )
                )
                with cur.copy(
                    "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct) FROM STDIN"
                ) as copy:
                    copy.write(lines)
                total += steps
            cur.execute(
                """INSERT INTO risk_assessments (uprn, window_start, window_end, score, band,
                       mould_index, days_to_m1, days_to_m3, cause, explanation, coverage,
                       model_version)
                   VALUES (%s, %s, %s, %s, %s, 0.4, 10, 40, 'moisture', 'bench', 0.9, 'bench')""",
                (uprn, end - timedelta(days=7), end, {"red": 80, "amber": 55}.get(band, 10), band),
            )
            if band != "green":
                cur.execute(
                    """INSERT INTO alerts (borough_code, uprn, kind, severity, title, explanation)
                       VALUES (%s, %s, 'damp_mould', %s, 'Damp and mould risk', 'bench')""",
                    (borough, uprn, band),
                )
            if n % 100 == 99:
                conn.commit()
                print(f"  {n + 1} homes, {total:,} readings", flush=True)
    conn.commit()
    conn.execute("ANALYZE")
    return total


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
