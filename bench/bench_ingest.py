"""Ingest throughput: the broker alone, the database alone, and the whole path, side by side.

    python -m bench ingest                      # 3 runs of each, 200,000 readings a run
    python -m bench.bench_ingest --runs 5 --readings 400000 --publishers 2
    python -m bench.bench_ingest --quick        # one small run, to see that it works
    python -m bench.bench_ingest --soak-s 600   # half rate for ten minutes, ingest memory

(a) broker alone: QoS 1 publishers -> a private Mosquitto -> `mosquitto_sub` (C, MQTT 5, QoS 1)
    that does nothing with the messages;
(b) database alone: the same rows, decoded in advance, written as ingest writes them (binary COPY
    into the staging table, INSERT ... ON CONFLICT, sensors touched per batch), one connection;
    plain binary COPY into `readings` is shown beside it;
(c) the whole path: publishers -> Mosquitto -> one `dampwatch ingest` process -> committed rows,
    one reading per message, every reading counted in the database at the end.

Publishers are raw-socket MQTT clients in their own processes (tests/ingest/rawpub.py), so they
are not the bottleneck. Each reading's recorded_at is its publish time, so ingest's own
commit-lag histogram (scraped from its /metrics) gives publish-to-commit latency; it is read at
full speed and again at half the measured rate. CPU per reading comes from /proc for each
process (ingest's MQTT and writer threads apart), so the table says where the time goes.

Everything shares this machine; the load average before each run is recorded beside it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
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
from tests.ingest.rawpub import RawPublisher

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
# Tuned for throughput and for an ingest that may be away: no limit on the queue or on messages
# in flight (ingest's Receive Maximum bounds those), no disk persistence in the benchmark.
BROKER_CONFIG = (
    "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
    "set_tcp_nodelay true\npersistence false\n"
)
TOPIC_PREFIX = "bench/"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- publishers ---------------------------------------------------------------------------


def _messages(worker: int, count: int, sensors: int, run: str) -> Iterator[tuple[bytes, bytes]]:
    """Native readings stamped at publish time; sensor ids unique to the run."""
    prefix = f"{TOPIC_PREFIX}dw/v1/readings/{run}-".encode()
    for i in range(count):
        sensor = (worker * count + i) % sensors
        at = datetime.now(UTC).isoformat()
        yield (
            prefix + str(sensor).encode(),
            (
                f'{{"recorded_at":"{at}","temperature_c":{18 + i % 40 / 10},'
                f'"humidity_pct":{55 + i % 30},"battery_pct":87}}'
            ).encode(),
        )


def _publish_worker(args: tuple[int, int, int, int, str, float | None]) -> dict[str, float]:
    port, worker, count, sensors, run, rate = args
    publisher = RawPublisher("127.0.0.1", port, client_id=f"bench-pub-{run}-{worker}", window=5000)
    started_cpu = time.process_time()
    stats = publisher.publish_all(_messages(worker, count, sensors, run), rate_per_s=rate)
    return {
        "started_at": stats.started_at,
        "finished_at": stats.finished_at,
        "acked": stats.acked,
        "cpu_s": time.process_time() - started_cpu,
    }


def _publish(
    port: int, count: int, publishers: int, sensors: int, run: str, rate: float | None = None
) -> list[dict[str, float]]:
    per = count // publishers
    per_rate = None if rate is None else rate / publishers
    jobs = [(port, w, per, sensors, run, per_rate) for w in range(publishers)]
    with mp.get_context("spawn").Pool(publishers) as pool:
        return pool.map(_publish_worker, jobs)


# -- /proc ---------------------------------------------------------------------------------


def _cpu_s(pid: int, tid: int | None = None) -> float:
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _threads_cpu_s(pid: int) -> dict[int, float]:
    return {int(t): _cpu_s(pid, int(t)) for t in os.listdir(f"/proc/{pid}/task")}


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- metrics -------------------------------------------------------------------------------


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def _lag_buckets(samples: dict[str, float]) -> list[tuple[float, float]]:
    prefix = 'dampwatch_ingest_commit_lag_seconds_bucket{le="'
    buckets = []
    for name, value in samples.items():
        if name.startswith(prefix):
            bound = name[len(prefix) : -2]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value))
    return sorted(buckets)


def _quantile(
    before: list[tuple[float, float]], after: list[tuple[float, float]], q: float
) -> float:
    """Quantile of the observations between two scrapes, interpolated within its bucket."""
    counts = [
        (bound, a - b)
        for (bound, a), (_, b) in zip(after, before or [(x, 0.0) for x, _ in after], strict=True)
    ]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return float("nan")
    target = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound, cumulative in counts:
        if cumulative >= target:
            if bound == float("inf"):
                return previous_bound
            share = (target - previous_count) / max(1e-12, cumulative - previous_count)
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, cumulative
    return previous_bound


# -- the parts -----------------------------------------------------------------------------


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
    stats = _publish(broker.port, args.readings, args.publishers, args.sensors, run)
    subscriber.wait(timeout=300)
    finished = time.monotonic()
    started = min(s["started_at"] for s in stats)
    return RunResult(
        readings_per_s=args.readings / (finished - started),
        load_avg_1m=load,
        extra={
            "broker_cpu_us_per_msg": (broker.cpu_seconds() - cpu_before) / args.readings * 1e6,
            "publisher_cpu_us_per_msg": sum(s["cpu_s"] for s in stats) / args.readings * 1e6,
            "publish_rate_per_s": args.readings / (max(s["finished_at"] for s in stats) - started),
        },
    )


def _rows(count: int, sensors: int, run: str) -> list[Inbound]:
    at = datetime.now(UTC) - timedelta(hours=1)
    return [
        Inbound(
            f"{TOPIC_PREFIX}dw/v1/readings/{run}-{i % sensors}",
            (
                f'{{"recorded_at":"{(at + timedelta(microseconds=i * 7)).isoformat()}",'
                f'"temperature_c":{18 + i % 40 / 10},"humidity_pct":{55 + i % 30},'
                '"battery_pct":87}'
            ).encode(),
            time.time(),
        )
        for i in range(count)
    ]


def bench_database(database_url: str, args: argparse.Namespace, run: str) -> RunResult:
    """(b) the same rows written as ingest writes them, decoded beforehand; and plain COPY."""
    messages = _rows(args.readings, args.sensors, run)
    batches = [
        prepare_batch(
            messages[i : i + args.batch_size],
            prefix=TOPIC_PREFIX,
            router=DEFAULT_ROUTER,
            limits=DEFAULT_LIMITS,
        )
        for i in range(0, len(messages), args.batch_size)
    ]
    load = os.getloadavg()[0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        prepare_connection(conn)
        backend = conn.info.backend_pid
        cpu_before = _cpu_s(backend)
        started = time.monotonic()
        for batch in batches:
            with conn.transaction():
                write_batch(conn, batch)
        elapsed = time.monotonic() - started
        cpu = _cpu_s(backend) - cpu_before
        # Plain binary COPY of the same rows into readings, under other sensor ids.
        rows = [(f"copy-{r[0]}", *r[1:5]) for batch in batches for r in batch.readings]
        copy_started = time.monotonic()
        for i in range(0, len(rows), args.batch_size):
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct,"
                    " battery_pct) FROM STDIN (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["text", "timestamptz", "float4", "float4", "float4"])
                for row in rows[i : i + args.batch_size]:
                    copy.write_row(row)
        copy_elapsed = time.monotonic() - copy_started
    return RunResult(
        readings_per_s=args.readings / elapsed,
        load_avg_1m=load,
        extra={
            "postgres_cpu_us_per_row": cpu / args.readings * 1e6,
            "plain_copy_rows_per_s": len(rows) / copy_elapsed,
        },
    )


class IngestUnderBench:
    """`python -m dampwatch ingest` against the private broker, with /metrics on a free port."""

    def __init__(
        self,
        broker: PrivateMosquitto,
        database_url: str,
        spool: Path,
        run: str,
        batch_size: int,
    ) -> None:
        self.metrics_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
        env.update(
            DAMP_DATABASE_URL=database_url,
            DAMP_MQTT_URL=broker.url,
            DAMP_MQTT_PROTOCOL="5",
            DAMP_MQTT_TOPIC_PREFIX=TOPIC_PREFIX,
            DAMP_INGEST_CLIENT_ID=f"bench-ingest-{run}",
            DAMP_INGEST_SPOOL_DIR=str(spool),
            DAMP_INGEST_METRICS_PORT=str(self.metrics_port),
            DAMP_INGEST_METRICS_HOST="127.0.0.1",
            DAMP_INGEST_BATCH_SIZE=str(batch_size),
            DAMP_INGEST_RECEIVE_MAXIMUM=str(min(65535, 4 * batch_size)),
            DAMP_LOG_LEVEL="WARNING",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dampwatch", "ingest"], env=env, cwd=REPO_ROOT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if _scrape(self.metrics_port).get("dampwatch_ingest_broker_connected") == 1:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("ingest did not start")
            time.sleep(0.1)
        time.sleep(0.3)  # SUBACK follows CONNACK

    def stored(self) -> float:
        return _scrape(self.metrics_port).get("dampwatch_ingest_readings_stored_total", 0.0)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def bench_full_path(
    broker: PrivateMosquitto,
    database_url: str,
    args: argparse.Namespace,
    run: str,
    rate: float | None = None,
) -> RunResult:
    """(c) publishers -> broker -> ingest -> committed rows; `rate` paces the publishers."""
    with tempfile.TemporaryDirectory() as spool:
        ingest = IngestUnderBench(broker, database_url, Path(spool), run, args.batch_size)
        try:
            pid = ingest.process.pid
            threads_before = _threads_cpu_s(pid)
            broker_before = broker.cpu_seconds()
            lag_before = _lag_buckets(_scrape(ingest.metrics_port))
            load = os.getloadavg()[0]
            count = args.readings if rate is None else int(rate * args.paced_s)
            pool = mp.get_context("spawn").Pool(args.publishers)
            per = count // args.publishers
            per_rate = None if rate is None else rate / args.publishers
            jobs = [
                (broker.port, w, per, args.sensors, run, per_rate) for w in range(args.publishers)
            ]
            pending = pool.map_async(_publish_worker, jobs)
            timeline: list[tuple[float, float]] = []
            deadline = time.monotonic() + 600
            expected = per * args.publishers
            while time.monotonic() < deadline:
                stored = ingest.stored()
                timeline.append((time.monotonic(), stored))
                if stored >= expected:
                    break
                time.sleep(0.05)
            stats = pending.get(timeout=60)
            pool.close()
            samples = _scrape(ingest.metrics_port)
            threads_after = _threads_cpu_s(pid)
            broker_cpu = broker.cpu_seconds() - broker_before
            peak_mib = _peak_rss_mib(pid)
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "SELECT count(*), count(DISTINCT (sensor_id, recorded_at)) FROM readings"
                    " WHERE sensor_id LIKE %s",
                    (f"{run}-%",),
                ).fetchone()
                backend = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'dampwatch-ingest'"
                ).fetchone()
                pg_cpu = _cpu_s(int(backend[0])) if backend else float("nan")
        finally:
            ingest.stop()
    assert row is not None
    started = min(s["started_at"] for s in stats)
    lag_after = _lag_buckets(samples)
    main_cpu = threads_after.get(pid, 0.0) - threads_before.get(pid, 0.0)
    total_cpu = sum(threads_after.values()) - sum(threads_before.get(t, 0.0) for t in threads_after)
    return RunResult(
        readings_per_s=_sustained_rate(timeline, expected),
        load_avg_1m=load,
        extra={
            "overall_readings_per_s": expected / (timeline[-1][0] - started),
            "stored": float(row[0]),
            "distinct": float(row[1]),
            "expected": float(expected),
            "latency_p50_s": _quantile(lag_before, lag_after, 0.50),
            "latency_p99_s": _quantile(lag_before, lag_after, 0.99),
            "ingest_cpu_us_per_reading": total_cpu / expected * 1e6,
            "ingest_mqtt_thread_cpu_us_per_reading": main_cpu / expected * 1e6,
            "ingest_other_threads_cpu_us_per_reading": (total_cpu - main_cpu) / expected * 1e6,
            "broker_cpu_us_per_msg": broker_cpu / expected * 1e6,
            "postgres_backend_cpu_s_total": pg_cpu,
            "postgres_cpu_us_per_row": pg_cpu / expected * 1e6,
            "ingest_peak_rss_mib": peak_mib,
        },
    )


def _sustained_rate(timeline: list[tuple[float, float]], expected: float) -> float:
    """Rows per second between 10 % and 90 % of the run, leaving out start and tail."""
    low = next((t, n) for t, n in timeline if n >= 0.1 * expected)
    high = next(((t, n) for t, n in timeline if n >= 0.9 * expected), timeline[-1])
    if high[0] <= low[0]:
        return float("nan")
    return (high[1] - low[1]) / (high[0] - low[0])


def soak(broker: PrivateMosquitto, database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Half rate for `--soak-s` seconds; ingest's resident memory sampled every 10 s."""
    run = f"soak{uuid.uuid4().hex[:6]}"
    rate = args.soak_rate
    with tempfile.TemporaryDirectory() as spool:
        ingest = IngestUnderBench(broker, database_url, Path(spool), run, args.batch_size)
        pool = mp.get_context("spawn").Pool(args.publishers)
        count = int(rate * args.soak_s)
        per = count // args.publishers
        jobs = [
            (broker.port, w, per, args.sensors, run, rate / args.publishers)
            for w in range(args.publishers)
        ]
        pending = pool.map_async(_publish_worker, jobs)
        samples = []
        while not pending.ready():
            samples.append((round(time.monotonic(), 1), _rss_mib(ingest.process.pid)))
            pending.wait(10)
        pool.close()
        ingest.stop()
    rss = [m for _, m in samples]
    return {
        "rate_per_s": rate,
        "seconds": args.soak_s,
        "rss_mib_samples": samples,
        "rss_first_mib": rss[0],
        "rss_last_mib": rss[-1],
        "rss_max_mib": max(rss),
    }


# -- driver --------------------------------------------------------------------------------


def _database(admin_url: str) -> tuple[str, str]:
    name = f"dampwatch_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(admin_url, dbname=name)
    migrate(url)
    return name, url


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


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
    values = [r.readings_per_s if key is None else r.extra[key] for r in results]
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument(
        "--sensors",
        type=int,
        default=None,
        help="distinct sensor ids (default: as many as readings, each reading another sensor, "
        "as in a fleet reporting every 15 minutes)",
    )
    parser.add_argument(
        "--provisioned",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sensors exist before the run (default), rather than being created by ingest",
    )
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--batch-size", type=int, default=5000, help="DAMP_INGEST_BATCH_SIZE")
    parser.add_argument("--paced-s", type=float, default=10.0, help="length of the half-rate run")
    parser.add_argument("--quick", action="store_true", help="one run of 20,000 readings")
    parser.add_argument("--soak-s", type=float, default=0.0, help="also soak for this long")
    parser.add_argument("--soak-rate", type=float, default=12_500.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.readings, args.paced_s = 1, 20_000, 3.0
    if args.sensors is None:
        args.sensors = args.readings
    if not tcp_reachable("127.0.0.1", 5432) and "DAMP_BENCH_DATABASE_URL" not in os.environ:
        print("needs PostgreSQL: DAMP_BENCH_DATABASE_URL or one on 127.0.0.1:5432")
        return 2
    admin_url = os.environ.get("DAMP_BENCH_DATABASE_URL", LOCAL_POSTGRES)
    name, database_url = _database(admin_url)
    broker_dir = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
    broker = PrivateMosquitto(broker_dir, extra_config=BROKER_CONFIG).start()
    results: dict[str, list[RunResult]] = {"broker": [], "database": [], "full": [], "half": []}
    soak_result: dict[str, Any] | None = None
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
        half_rate = _median(results["full"]) / 2
        for i in range(args.runs):
            run = f"h{i}{uuid.uuid4().hex[:4]}"
            _reset(database_url, run, args.sensors, args.provisioned)
            results["half"].append(bench_full_path(broker, database_url, args, run, half_rate))
        if args.soak_s > 0:
            _reset(database_url, "soak", 0, provisioned=False)
            soak_result = soak(broker, database_url, args)
    finally:
        broker.stop()
        _drop(admin_url, name)
    report = _report(results, args, soak_result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    _print_table(report)
    print(f"\nwritten to {RESULTS}")
    lost = [
        r for r in results["full"] + results["half"] if r.extra["stored"] != r.extra["expected"]
    ]
    return 1 if lost else 0


def _report(
    results: dict[str, list[RunResult]],
    args: argparse.Namespace,
    soak_result: dict[str, Any] | None,
) -> dict[str, Any]:
    broker, database, full, half = (results[k] for k in ("broker", "database", "full", "half"))
    slower = min(_median(broker), _median(database))
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_per_run": [r.load_avg_1m for r in full]},
        "settings": dict(vars(args)),
        "broker_alone": {"median_msgs_per_s": _median(broker), "runs": [asdict(r) for r in broker]},
        "database_alone": {
            "median_rows_per_s": _median(database),
            "runs": [asdict(r) for r in database],
        },
        "full_path": {
            "median_readings_per_s": _median(full),
            "median_latency_p50_s": _median(full, "latency_p50_s"),
            "median_latency_p99_s": _median(full, "latency_p99_s"),
            "median_ingest_cpu_us_per_reading": _median(full, "ingest_cpu_us_per_reading"),
            "median_ingest_peak_rss_mib": _median(full, "ingest_peak_rss_mib"),
            "ratio_to_slower_of_broker_and_database": _median(full) / slower,
            "lost": sum(r.extra["expected"] - r.extra["stored"] for r in full),
            "runs": [asdict(r) for r in full],
        },
        "half_rate": {
            "rate_per_s": _median(full) / 2,
            "median_latency_p50_s": _median(half, "latency_p50_s"),
            "median_latency_p99_s": _median(half, "latency_p99_s"),
            "lost": sum(r.extra["expected"] - r.extra["stored"] for r in half),
            "runs": [asdict(r) for r in half],
        },
        "soak": soak_result,
    }


def _print_table(report: dict[str, Any]) -> None:
    full, half, database = report["full_path"], report["half_rate"], report["database_alone"]
    first = full["runs"][0]["extra"] if full["runs"] else {}
    plain_copy = statistics.median(r["extra"]["plain_copy_rows_per_s"] for r in database["runs"])
    loads = ", ".join(f"{x:.1f}" for x in report["machine"]["load_avg_1m_per_run"])
    rows = [
        ("(a) broker alone, msgs/s", f"{report['broker_alone']['median_msgs_per_s']:,.0f}"),
        ("(b) database alone (ingest's SQL), rows/s", f"{database['median_rows_per_s']:,.0f}"),
        ("    plain binary COPY, rows/s", f"{plain_copy:,.0f}"),
        ("(c) full path, readings/s (sustained)", f"{full['median_readings_per_s']:,.0f}"),
        (
            "    ratio (c) / slower of (a), (b)",
            f"{full['ratio_to_slower_of_broker_and_database']:.2f}",
        ),
        (
            "    publish-to-commit p50 / p99, s",
            f"{full['median_latency_p50_s']:.3f} / {full['median_latency_p99_s']:.3f}",
        ),
        (
            f"    at half rate ({half['rate_per_s']:,.0f}/s) p50 / p99, s",
            f"{half['median_latency_p50_s']:.3f} / {half['median_latency_p99_s']:.3f}",
        ),
        ("    ingest CPU per reading, us", f"{full['median_ingest_cpu_us_per_reading']:.1f}"),
        (
            "      MQTT thread / writer + others, us",
            f"{first.get('ingest_mqtt_thread_cpu_us_per_reading', 0):.1f} / "
            f"{first.get('ingest_other_threads_cpu_us_per_reading', 0):.1f}",
        ),
        ("    broker CPU per message, us", f"{first.get('broker_cpu_us_per_msg', 0):.1f}"),
        (
            "    PostgreSQL backend CPU per row, us",
            f"{first.get('postgres_cpu_us_per_row', 0):.1f}",
        ),
        ("    ingest peak memory, MiB", f"{full['median_ingest_peak_rss_mib']:.0f}"),
        ("    lost readings (all runs)", f"{full['lost'] + half['lost']:.0f}"),
        ("load average (1 min) at each run", loads),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"{label:<{width}}  {value:>20}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
