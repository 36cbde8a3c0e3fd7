"""Alert evaluation on 2,000 homes with a winter of readings: the whole run, and rule by rule.

The estate (bench/alerts_world.py) is a `dampsim` fleet of `--homes` homes (default 2,000 over
20 boroughs, about 4.7 sensors a home) with `--days` 150 days of readings to `--end`
(1 March 2026) at one reading per `--interval-min` 60 minutes per sensor, scored once a day
over the last `--scored-days` 7 days with the alert rules after each run; its home-level
assessments are then filled in to `--assessments-per-day` 96 a day (the Helm chart scores every
15 minutes) over the damp rule's 30-day lookback. It is built once into its own database and
reused (`--rebuild` starts again).

Timed, each as the median of `--runs` 3 runs at `now` = the end of the history (a step that
takes over 30 s is run once):

- `evaluate_alerts`, in a transaction rolled back after each run, so every run does the same
  work; the estate was last evaluated at the same instant, so like most runs in service (one
  every 15 minutes) it finds little to change, and `rows` counts what it changed;
- each rule's reading of the database alone: damp-and-mould state, cold home, sensor state,
  faults, unassigned sensors; and beside three of them, as peers, the queries they replaced:
  cold home from raw readings, and damp state and faults from the whole 30-day lookback.

Usage: python -m bench.bench_alerts [--homes N] [--days D] [--interval-min M] [--runs R]
The database comes from DAMP_BENCH_DATABASE_URL (a URL allowed to create databases), else the
local PostgreSQL on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from alerts.home_conditions import cold_home_observations, damp_observations
from alerts.policy import DEFAULT_POLICY
from alerts.records import open_alerts
from alerts.rules import evaluate_alerts
from alerts.sensor_conditions import fault_observations, sensor_observations, unassigned_sensors
from bench import alerts_world
from dampwatch.embedded import tcp_reachable
from store.migrate import MigrationError, migrate

# A step slower than this is run once, not `runs` times.
SLOW_STEP_MS = 30_000.0
RESULTS = Path(__file__).resolve().parent / "results" / "alerts.json"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# The cold-home rule's earlier query: daily means straight from the readings of the last
# `days` days, joined to the placements each reading fell in. Kept as the peer of the daily
# table the rule now reads.
COLD_FROM_READINGS = """
    SELECT ro.uprn, h.borough_code,
           floor(extract(epoch FROM (%(now)s - rd.recorded_at)) / 86400)::int AS days_ago,
           avg(rd.temperature_c)::double precision AS mean_c,
           count(DISTINCT date_trunc('hour', rd.recorded_at)) AS hours
    FROM readings rd
    JOIN sensor_placements p ON p.sensor_id = rd.sensor_id
     AND rd.recorded_at >= p.valid_from AND (p.valid_to IS NULL OR rd.recorded_at < p.valid_to)
    JOIN rooms ro ON ro.room_id = p.room_id
    JOIN homes h ON h.uprn = ro.uprn
    WHERE rd.recorded_at > %(now)s - make_interval(days => %(days)s)
      AND rd.recorded_at <= %(now)s
    GROUP BY ro.uprn, h.borough_code, days_ago
"""

# The damp rule's and the fault rule's earlier queries, which read every home-level
# assessment of the lookback (30 days of rows at the scoring cadence) to find each home's
# latest; kept as the peers of the index probes the rules now make.
DAMP_FROM_WHOLE_LOOKBACK = """
    WITH assessed AS (
        SELECT ra.*, h.borough_code,
               CASE WHEN ra.band = 'green' THEN 'safe' ELSE 'risk' END AS state
        FROM risk_assessments ra
        JOIN homes h ON h.uprn = ra.uprn
        WHERE ra.room_id IS NULL
          AND ra.band IN ('green', 'amber', 'red')
          AND ra.assessed_at <= %(now)s
          AND ra.assessed_at > %(now)s - %(lookback)s
          AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
    ),
    latest AS (
        SELECT DISTINCT ON (uprn) * FROM assessed
        ORDER BY uprn, assessed_at DESC, assessment_id DESC
    ),
    last_other AS (
        SELECT l.uprn, max(a.assessed_at) AS other_at
        FROM latest l JOIN assessed a ON a.uprn = l.uprn AND a.state <> l.state
        GROUP BY l.uprn
    )
    SELECT l.assessment_id, l.assessed_at, l.uprn, l.borough_code, l.window_start,
           l.window_end, l.score, l.band, l.mould_index, l.days_to_m1, l.days_to_m3, l.cause,
           l.explanation, l.coverage, l.model_version, l.state,
           (l.details ->> 'worst_room_id')::bigint AS worst_room_id,
           l.details -> 'rooms' AS rooms,
           (SELECT min(a.assessed_at) FROM assessed a
             WHERE a.uprn = l.uprn AND a.state = l.state
               AND a.assessed_at > coalesce(o.other_at, '-infinity')) AS since
    FROM latest l
    LEFT JOIN last_other o ON o.uprn = l.uprn
    WHERE l.state = 'risk'
       OR EXISTS (SELECT 1 FROM alerts al
                  WHERE al.kind = 'damp_mould' AND al.uprn = l.uprn AND al.status <> 'cleared')
"""
FAULTS_FROM_WHOLE_LOOKBACK = """
    WITH latest AS (
        SELECT DISTINCT ON (ra.uprn) ra.uprn, ra.assessment_id, ra.assessed_at, ra.details,
               h.borough_code
        FROM risk_assessments ra JOIN homes h ON h.uprn = ra.uprn
        WHERE ra.room_id IS NULL AND ra.assessed_at <= %(now)s
          AND ra.assessed_at > %(now)s - %(lookback)s
          AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
        ORDER BY ra.uprn, ra.assessed_at DESC, ra.assessment_id DESC
    )
    SELECT l.uprn, l.borough_code, l.assessment_id, l.assessed_at, f.fault
    FROM latest l
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(l.details -> 'faults') = 'array' THEN l.details -> 'faults'
             ELSE '[]'::jsonb END) AS f(fault)
    WHERE f.fault ->> 'sensor_id' IS NOT NULL
"""

Conn = psycopg.Connection[Any]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_alerts", description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument(
        "--end", type=datetime.fromisoformat, default=datetime(2026, 3, 1, tzinfo=UTC)
    )
    parser.add_argument("--interval-min", type=int, default=60)
    parser.add_argument("--scored-days", type=int, default=7)
    parser.add_argument("--assessments-per-day", type=int, default=96)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    end_at = args.end.replace(tzinfo=UTC) if args.end.tzinfo is None else args.end

    admin_url = os.environ.get("DAMP_BENCH_DATABASE_URL", "")
    if not admin_url:
        if not tcp_reachable("127.0.0.1", 5432):
            print("no PostgreSQL: set DAMP_BENCH_DATABASE_URL")
            return 1
        admin_url = LOCAL_URL
    name = f"dampwatch_bench_alerts_{args.homes}_{args.days}_{args.interval_min}"
    url = make_conninfo(admin_url, dbname=name)
    started = time.monotonic()
    _ensure_world(admin_url, url, name, args, end_at)
    if args.assessments_per_day > 0:
        with psycopg.connect(url) as conn:
            added = alerts_world.densify_assessments(
                conn,
                end_at=end_at,
                per_day=args.assessments_per_day,
                days=DEFAULT_POLICY.assessment_lookback.days + 1,
            )
        if added:
            print(f"{added:,} home-level assessments added at {args.assessments_per_day} a day")
    print(f"estate ready ({time.monotonic() - started:.0f} s)")

    with psycopg.connect(url) as conn:
        world = alerts_world.describe(conn, end_at)
        conn.rollback()
        timings = _measure(conn, end_at, args.runs)

    print(
        f"\n{world.homes:,} homes, {world.rooms:,} rooms, {world.sensors:,} sensors, "
        f"{world.readings:,} readings, {world.daily_rows:,} room-days, "
        f"{world.assessments:,} assessments, {world.open_alerts:,} open alerts"
    )
    print(f"\n{'step':44} {'median ms':>10} {'runs ms':>26} {'rows':>8}")
    for step, t in timings.items():
        runs = ", ".join(f"{ms:.0f}" for ms in t["runs_ms"])
        print(f"{step:44} {t['median_ms']:10.1f} {runs:>26} {t['rows']:8,}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "alerts",
                "measured_at": datetime.now(UTC).isoformat(),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "parameters": {
                    "homes": args.homes,
                    "days": args.days,
                    "end_at": end_at.isoformat(),
                    "interval_min": args.interval_min,
                    "scored_days": args.scored_days,
                    "runs": args.runs,
                },
                "estate": {k: v for k, v in vars_of(world).items() if k != "end_at"},
                "results": timings,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {RESULTS}")
    return 0


def vars_of(world: alerts_world.World) -> dict[str, Any]:
    return {field: getattr(world, field) for field in world.__slots__}


def _ensure_world(
    admin_url: str, url: str, name: str, args: argparse.Namespace, end_at: datetime
) -> None:
    """Create and fill the estate's database once; later runs reuse it."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if args.rebuild:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        migrate(url)
    except MigrationError as err:
        # A reused estate outlives edits to migrations still in review: measure it as it is.
        print(f"warning: {err}; the estate keeps the schema it has")
    with psycopg.connect(url) as conn:
        if _count(conn, "SELECT count(*) FROM homes") == 0:
            print(f"storing the estate in {name} (once)", flush=True)
            sim = alerts_world.options(args.homes, args.days, end_at, args.interval_min)
            alerts_world.store_fleet(conn, sim)
        if _count(conn, "SELECT count(*) FROM room_model_states") == 0:
            print("scoring the estate (once)", flush=True)
            alerts_world.score_days(conn, end_at=end_at, days=args.scored_days)


def _count(conn: Conn, query: str) -> int:
    row = conn.execute(query).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def _measure(conn: Conn, now: datetime, runs: int) -> dict[str, dict[str, Any]]:
    policy = DEFAULT_POLICY
    open_faults = [
        (a.uprn, a.sensor_id, a.borough_code)
        for a in open_alerts(conn)
        if a.kind == "sensor_fault" and a.uprn is not None and a.sensor_id is not None
    ]
    lookback = {"now": now, "lookback": policy.assessment_lookback, "borough": None}
    steps: dict[str, Callable[[], int]] = {
        "evaluate_alerts (whole run)": lambda: _changes(evaluate_alerts(conn, now=now)),
        "open alerts": lambda: len(open_alerts(conn)),
        "damp and mould state": lambda: len(damp_observations(conn, now=now, policy=policy)),
        "damp and mould state, whole lookback (peer)": lambda: len(
            conn.execute(DAMP_FROM_WHOLE_LOOKBACK, lookback).fetchall()
        ),
        "cold home, daily table (the rule)": lambda: len(
            cold_home_observations(conn, now=now, policy=policy)
        ),
        "cold home, raw readings (peer)": lambda: len(
            conn.execute(
                COLD_FROM_READINGS, {"now": now, "days": policy.cold_lookback_days}
            ).fetchall()
        ),
        "sensor state": lambda: len(sensor_observations(conn, now=now, policy=policy)),
        "sensor faults": lambda: len(
            fault_observations(conn, now=now, policy=policy, open_fault_subjects=open_faults)
        ),
        "sensor faults, whole lookback (peer)": lambda: len(
            conn.execute(FAULTS_FROM_WHOLE_LOOKBACK, lookback).fetchall()
        ),
        "unassigned sensors": lambda: len(unassigned_sensors(conn, now=now)),
    }
    results: dict[str, dict[str, Any]] = {}
    for step, run in steps.items():
        times_ms: list[float] = []
        rows = 0
        for _ in range(runs):
            started = time.perf_counter()
            rows = run()
            times_ms.append((time.perf_counter() - started) * 1000)
            conn.rollback()
            if times_ms[-1] > SLOW_STEP_MS:
                break  # a peer this slow makes its point once; the machine is shared
        results[step] = {
            "median_ms": statistics.median(times_ms),
            "runs_ms": times_ms,
            "rows": rows,
        }
    return results


def _changes(summary: Any) -> int:
    return int(
        sum(summary.raised.values())
        + sum(summary.escalated.values())
        + sum(summary.cleared.values())
    )


if __name__ == "__main__":
    raise SystemExit(main())
