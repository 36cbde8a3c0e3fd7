"""Scoring throughput: room-days per second for a first run and an incremental run.

Two paths are measured, each as the median of several runs:

- core: the numpy scoring core alone (hourly binning of 10-minute readings, surface
  conditions, VTT integration, daily sums, features, projection, faults, ratings and the
  assessment rows), on 100,000 rooms x 30 days by default, in chunks as the job runs them.
  The target is under 60 s for the first run. Generating the synthetic readings is not timed.
- database: `models.scoring.score_homes` end to end on a real PostgreSQL (COPY of readings
  not timed), at a smaller scale (default 300 rooms x 30 days) because loading 432 million
  readings is an ingest benchmark, not a scoring one; also an incremental run in which one
  room in a hundred receives a late six-hour backlog from three days before (those rooms are
  rewound and integrated again from the day before it, `models.late`).

Peak memory is tracemalloc's peak of Python and numpy allocations during one extra, untimed
call (tracing slows allocation, so it is never on while timing).
Usage: python -m bench.bench_scoring [--rooms N] [--days D] [--db-rooms N] [--runs R] [--no-db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.features import TREND_DAYS, Window
from models.hourly import DAILY_COLUMNS, HourlyBlock, RoomState, integrate_block
from models.rating import RoomMeta, rate, rate_rooms
from models.source import Room
from models.surface import DEFAULT_TEMPERATURE_FACTOR

READINGS_PER_HOUR = 6
CHUNK_ROOMS = 2000
RESULTS = Path(__file__).parent / "results" / "scoring.json"
TARGET_S = 60.0


def synthetic_readings(rooms: int, hours: int, seed: int) -> tuple[np.ndarray[Any, Any], ...]:
    """10-minute temperature and humidity for `rooms` rooms: most dry, a tenth damp."""
    rng = np.random.default_rng(seed)
    steps = hours * READINGS_PER_HOUR
    t_of_day = np.arange(steps) / READINGS_PER_HOUR % 24
    base_t = rng.uniform(15.0, 22.0, (rooms, 1))
    base_rh = np.where(
        rng.random((rooms, 1)) < 0.1,
        rng.uniform(72, 85, (rooms, 1)),
        rng.uniform(40, 65, (rooms, 1)),
    )
    cycle = np.sin(2 * np.pi * (t_of_day - 9) / 24)
    temperature = (base_t + 1.5 * cycle + 0.1 * rng.standard_normal((rooms, steps))).astype(
        np.float32
    )
    humidity = (base_rh - 4 * cycle + 0.5 * rng.standard_normal((rooms, steps))).astype(np.float32)
    return temperature, humidity


def score_core(
    temperature: np.ndarray[Any, Any],
    humidity: np.ndarray[Any, Any],
    *,
    start_hour: int,
    state: RoomState,
    window: dict[str, np.ndarray[Any, Any]] | None,
) -> tuple[RoomState, dict[str, np.ndarray[Any, Any]], int]:
    """One scoring run over a chunk: returns the new state, the daily window, rows written."""
    rooms, steps = temperature.shape
    hours = steps // READINGS_PER_HOUR
    t = temperature.reshape(rooms, hours, READINGS_PER_HOUR)
    rh = humidity.reshape(rooms, hours, READINGS_PER_HOUR)
    hour_of_day = (start_hour + np.arange(hours)) % 24
    outdoor_t = np.broadcast_to(
        6.0 + 3.0 * np.sin(2 * np.pi * (hour_of_day - 9) / 24), (rooms, hours)
    )
    block = HourlyBlock(
        start_hour=start_hour,
        temperature_c=t.mean(axis=2, dtype=np.float64),
        humidity_pct=rh.mean(axis=2, dtype=np.float64),
        readings=np.full((rooms, hours), READINGS_PER_HOUR, dtype=np.int64),
        temperature_range_c=_hourly_range(t),
        humidity_range_pct=_hourly_range(rh),
        outdoor_temperature_c=outdoor_t,
        outdoor_humidity_pct=np.full((rooms, hours), 85.0),
        temperature_factor=np.full(rooms, DEFAULT_TEMPERATURE_FACTOR),
    )
    result = integrate_block(block, state)
    merged = {
        c: result.daily.columns[c]
        if window is None
        else np.concatenate([window[c], result.daily.columns[c]], axis=1)[:, -TREND_DAYS:]
        for c in DAILY_COLUMNS
    }
    homes = np.arange(rooms, dtype=np.int64) // 4
    meta = RoomMeta(home=homes, kind=("bedroom",) * rooms, factor=block.temperature_factor)
    last_day = (start_hour + hours - 1) // 24
    ratings = rate(
        Window(last_day, {c: v[:, -TREND_DAYS:] for c, v in merged.items()}),
        result.state.mould.mould_index,
        meta,
        sensitivity="sensitive",
    )
    room_rows = [
        Room(
            i,
            int(homes[i]) + 1,
            "Bedroom",
            "bedroom",
            "E09000001",
            "unknown",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            [f"s{i}"],
        )
        for i in range(rooms)
    ]
    now = dt.datetime.fromtimestamp((start_hour + hours) * 3600, dt.UTC)
    assessments = rate_rooms(
        room_rows,
        ratings,
        surface_humidity_daily=np.full((rooms, 1), np.nan),
        now=now,
        window_start=now - dt.timedelta(days=14),
        window_end=now,
        model_version="bench",
        mould_index=result.state.mould.mould_index,
    )
    return result.state, merged, len(assessments)


def _hourly_range(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """max - min of each hour's readings (six slices: faster than a reduce over 6 items)."""
    high = values[..., 0].copy()
    low = values[..., 0].copy()
    for k in range(1, values.shape[2]):
        np.maximum(high, values[..., k], out=high)
        np.minimum(low, values[..., k], out=low)
    result: np.ndarray[Any, Any] = (high - low).astype(np.float64)
    return result


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median seconds over `runs` untraced calls, then one traced call's peak (MB).

    tracemalloc slows allocation-heavy code several-fold, so it never runs while timing.
    """
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    fn()
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return statistics.median(times), peak_mb


def bench_core(rooms: int, days: int, runs: int) -> dict[str, Any]:
    start_hour = 490_000 * 24  # a midnight in 2025
    chunks = [min(CHUNK_ROOMS, rooms - i) for i in range(0, rooms, CHUNK_ROOMS)]
    # Inputs are generated once, outside the timed calls (2 chunks reused in turn for size).
    inputs = [synthetic_readings(n, days * 24, seed=i) for i, n in enumerate(chunks[:2])]
    extra = [synthetic_readings(n, 24, seed=100 + i) for i, n in enumerate(chunks[:2])]
    states: list[tuple[RoomState, dict[str, Any]]] = []

    def first_run() -> None:
        states.clear()
        for i, n in enumerate(chunks):
            t, rh = inputs[i % 2]
            state, window, _ = score_core(
                t[:n], rh[:n], start_hour=start_hour, state=RoomState.empty(n), window=None
            )
            states.append((state, window))

    def incremental_run() -> None:
        for i, n in enumerate(chunks):
            t, rh = extra[i % 2]
            state, window = states[i]
            score_core(t[:n], rh[:n], start_hour=start_hour + days * 24, state=state, window=window)

    first_s, first_mb = measure(first_run, runs)
    incremental_s, incremental_mb = measure(incremental_run, runs)
    return {
        "rooms": rooms,
        "days": days,
        "readings": rooms * days * 24 * READINGS_PER_HOUR,
        "first_run_s": round(first_s, 2),
        "first_run_room_days_per_s": round(rooms * days / first_s),
        "first_run_peak_mb": round(first_mb),
        "incremental_run_s": round(incremental_s, 2),
        "incremental_room_days_per_s": round(rooms / incremental_s),
        "incremental_peak_mb": round(incremental_mb),
        "target_s": TARGET_S,
    }


def bench_database(url: str, rooms: int, days: int, runs: int) -> dict[str, Any]:
    """First run, incremental run, and an incremental run that folds in a late backlog.

    The history is stamped as received a minute after it was recorded, ending two days before
    the real clock, so the scoring job's receive-time mark sees it as old; the new day (and the
    backlog) is stored after the first run, as ingest would.
    """
    import psycopg
    from psycopg import sql

    from models.scoring import score_homes
    from store.migrate import migrate

    name = f"dampwatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db_url = psycopg.conninfo.make_conninfo(url, dbname=name)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=days + 2)
    end = start + dt.timedelta(days=days)
    fleet = _BenchFleet(rooms, days, start)
    times: dict[str, list[float]] = {"first": [], "incremental": [], "late": []}
    rewound = 0
    try:
        migrate(db_url)
        with psycopg.connect(db_url) as conn:
            fleet.load(conn)
            conn.commit()
            for _ in range(runs):
                for kind in ("incremental", "late"):
                    fleet.reset(conn)
                    conn.commit()
                    started = time.perf_counter()
                    score_homes(conn, now=end)
                    conn.commit()
                    times["first"].append(time.perf_counter() - started)
                    fleet.deliver_next_day(conn, with_backlog=kind == "late")
                    conn.commit()
                    started = time.perf_counter()
                    summary = score_homes(conn, now=end + dt.timedelta(days=1))
                    conn.commit()
                    times[kind].append(time.perf_counter() - started)
                    if kind == "late":
                        rewound = summary.rooms_rewound
            fleet.reset(conn)
            conn.commit()
            tracemalloc.start()
            score_homes(conn, now=end)
            first_mb = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            conn.rollback()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    first_s = statistics.median(times["first"])
    incremental_s = statistics.median(times["incremental"])
    late_s = statistics.median(times["late"])
    return {
        "rooms": rooms,
        "days": days,
        "first_run_s": round(first_s, 2),
        "first_run_room_days_per_s": round(rooms * days / first_s),
        "first_run_peak_mb": round(first_mb),
        "incremental_run_s": round(incremental_s, 2),
        "incremental_room_days_per_s": round(rooms / incremental_s),
        "late_backlog_rooms": rewound,
        "late_backlog_run_s": round(late_s, 2),
    }


class _BenchFleet:
    """Homes of four rooms, one sensor each, with 10-minute readings (COPY, not timed).

    One room in a hundred misses six hours of the third-last day; they arrive with the new
    day in the late-backlog runs.
    """

    def __init__(self, rooms: int, days: int, start: dt.datetime) -> None:
        self.rooms = rooms
        self.days = days
        self.start = start
        self.temperature, self.humidity = synthetic_readings(rooms, (days + 1) * 24, seed=7)
        steps = self.temperature.shape[1]
        self.stamps = [start + k * dt.timedelta(minutes=10) for k in range(steps)]
        self.history = np.zeros((rooms, steps), dtype=bool)
        self.history[:, : days * 24 * READINGS_PER_HOUR] = True
        self.backlog = np.zeros((rooms, steps), dtype=bool)
        gap_from = (days - 3) * 24 * READINGS_PER_HOUR + 9 * READINGS_PER_HOUR
        self.backlog[::100, gap_from : gap_from + 6 * READINGS_PER_HOUR] = True
        self.history &= ~self.backlog
        self.sensors: list[str] = []

    def load(self, conn: Any) -> None:
        homes = -(-self.rooms // 4)
        conn.execute(
            "INSERT INTO homes (uprn, borough_code)"
            " SELECT g, 'E09000001' FROM generate_series(1, %s) g",
            (homes,),
        )
        conn.execute(
            "INSERT INTO rooms (uprn, name, kind) SELECT 1 + (g - 1) / 4, 'Room ' || g, 'bedroom'"
            " FROM generate_series(1, %s) g",
            (self.rooms,),
        )
        conn.execute("INSERT INTO sensors (sensor_id) SELECT 'b-' || room_id FROM rooms")
        conn.execute(
            "INSERT INTO sensor_placements (sensor_id, room_id, valid_from)"
            " SELECT 'b-' || room_id, room_id, %s FROM rooms",
            (self.start,),
        )
        months = sorted({s.replace(day=1, hour=0, minute=0) for s in self.stamps})
        conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
        ids = [int(r[0]) for r in conn.execute("SELECT room_id FROM rooms ORDER BY room_id")]
        self.sensors = [f"b-{room_id}" for room_id in ids]
        self._copy(conn, self.history, received_after=dt.timedelta(minutes=1))

    def reset(self, conn: Any) -> None:
        """Back to the history alone, with nothing scored."""
        conn.execute("TRUNCATE room_model_states, room_daily_conditions, risk_assessments")
        end = self.start + dt.timedelta(days=self.days)
        conn.execute("DELETE FROM readings WHERE recorded_at >= %s", (end,))
        rows, cols = np.nonzero(self.backlog)
        if rows.size:
            conn.execute(
                "DELETE FROM readings r USING unnest(%s::text[], %s::timestamptz[]) AS b(s, t)"
                " WHERE r.sensor_id = b.s AND r.recorded_at = b.t",
                (
                    [self.sensors[i] for i in rows.tolist()],
                    [self.stamps[j] for j in cols.tolist()],
                ),
            )

    def deliver_next_day(self, conn: Any, *, with_backlog: bool) -> None:
        """The day after the history, received now (and the backlog with it, if asked)."""
        new = ~self.history & ~self.backlog
        self._copy(conn, new | self.backlog if with_backlog else new, received_after=None)

    def _copy(self, conn: Any, mask: np.ndarray[Any, Any], *, received_after: Any) -> None:
        columns = "sensor_id, recorded_at, temperature_c, humidity_pct"
        if received_after is not None:
            columns += ", received_at"
        with conn.cursor() as cur, cur.copy(f"COPY readings ({columns}) FROM STDIN") as copy:
            for i, sensor in enumerate(self.sensors):
                t, rh = self.temperature[i].tolist(), self.humidity[i].tolist()
                for k in np.flatnonzero(mask[i]).tolist():
                    row: tuple[Any, ...] = (sensor, self.stamps[k], t[k], rh[k])
                    if received_after is not None:
                        row += (self.stamps[k] + received_after,)
                    copy.write_row(row)


def _database_url() -> str | None:
    from dampwatch.embedded import tcp_reachable

    configured = os.environ.get("DAMP_BENCH_DATABASE_URL") or os.environ.get(
        "DAMP_TEST_DATABASE_URL"
    )
    if configured:
        return configured
    if tcp_reachable("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scoring", description=__doc__)
    parser.add_argument("--rooms", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--db-rooms", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--json", default=str(RESULTS))
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "core": bench_core(args.rooms, args.days, args.runs),
        "runs": args.runs,
    }
    url = None if args.no_db else _database_url()
    if url is not None:
        result["database"] = bench_database(url, args.db_rooms, args.days, args.runs)
    _print_table(result)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")
    return 0 if result["core"]["first_run_s"] <= TARGET_S else 1


def _print_table(result: dict[str, Any]) -> None:
    header = ("path", "rooms x days", "first run s", "room-days/s", "incr. s", "room-days/s", "MB")
    widths = (9, 13, 12, 12, 9, 12, 6)
    print(" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for path in ("core", "database"):
        r = result.get(path)
        if r is None:
            continue
        row = (
            path,
            f"{r['rooms']} x {r['days']}",
            r["first_run_s"],
            r["first_run_room_days_per_s"],
            r["incremental_run_s"],
            r["incremental_room_days_per_s"],
            r["first_run_peak_mb"],
        )
        print(" ".join(f"{v!s:>{w}}" for v, w in zip(row, widths, strict=True)))
    database = result.get("database")
    if database is not None:
        print(
            f"database: an incremental run that also folds in a late backlog of"
            f" {database['late_backlog_rooms']} rooms took {database['late_backlog_run_s']} s"
        )
    print(
        f"target: core first run of 100,000 rooms x 30 days under {TARGET_S:.0f} s"
        f" (median of {result['runs']} runs); the database path is at a smaller scale"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
