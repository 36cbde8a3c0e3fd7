"""The estate `bench_alerts` evaluates: a simulated fleet's winter, stored and scored.

Homes, rooms, sensors and placements come from `dampsim` (its provisioning document); its
readings are written with COPY as ingest stores them (duplicates once), its hourly weather into
`outdoor_conditions`, and each sensor's last report into `sensors` as ingest keeps it. The
scoring job (`models.scoring.score_homes`) then runs once a day over the last `scored_days`
days with the alert rules after each run, as `dampwatch score` does (only less often), so the
estate carries its daily conditions, assessments and open alerts into the timed evaluation.
`densify_assessments` then gives the damp rule as many home-level rows as the job's 15-minute
cadence would. Readings of 0 %RH are left out (see `_store_readings`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from dampsim.dataset import Dataset, iter_datasets
from dampsim.options import SimOptions

from alerts.rules import evaluate_alerts
from models.scoring import score_homes
from store.provision import load_provisioning

Conn = psycopg.Connection[Any]
ONE_DAY = timedelta(days=1)

INSERT_UNPROVISIONED = """
    INSERT INTO sensors (sensor_id, borough_code, first_seen_at, last_seen_at)
    VALUES (%s, NULL, %s, %s) ON CONFLICT (sensor_id) DO NOTHING
"""
# The scoring job writes a home-level assessment every run (every 15 minutes in the Helm
# chart), but the bench scores once a day: fill the gaps before each scored row, back to
# `from`, with copies of it at the job's cadence, so the damp rule reads as many rows as it
# would in service. Idempotent: a gap already filled yields no copy.
DENSIFY_HOME_ASSESSMENTS = """
    WITH home_rows AS (
        SELECT a.*, lag(a.assessed_at) OVER (PARTITION BY a.uprn ORDER BY a.assessed_at)
                    AS previous_at
        FROM risk_assessments a WHERE a.room_id IS NULL
    )
    INSERT INTO risk_assessments (assessed_at, uprn, room_id, window_start, window_end, score,
        band, mould_index, days_to_m1, days_to_m3, cause, explanation, coverage, model_version,
        details)
    SELECT g.at, r.uprn, NULL, r.window_start - (r.assessed_at - g.at),
           r.window_end - (r.assessed_at - g.at), r.score, r.band, r.mould_index, r.days_to_m1,
           r.days_to_m3, r.cause, r.explanation, r.coverage, r.model_version, r.details
    FROM home_rows r
    CROSS JOIN LATERAL generate_series(
        r.assessed_at - %(step)s,
        coalesce(r.previous_at + interval '1 second', %(from)s),
        -%(step)s
    ) AS g(at)
"""
UPDATE_LAST_SEEN = """
    UPDATE sensors SET first_seen_at = coalesce(first_seen_at, %(first)s),
           last_seen_at = %(last)s, last_recorded_at = %(last)s, battery_pct = %(battery)s
    WHERE sensor_id = %(sensor_id)s
"""


@dataclass(frozen=True, slots=True)
class World:
    """What the estate holds, counted after it is built."""

    homes: int
    rooms: int
    sensors: int
    readings: int
    daily_rows: int
    assessments: int
    open_alerts: int
    end_at: datetime


def options(homes: int, days: int, end_at: datetime, interval_min: int) -> SimOptions:
    return SimOptions(
        homes=homes,
        boroughs=20,
        seed=11,
        history_days=days,
        end_at=end_at,
        reading_interval_s=interval_min * 60,
    )


def store_fleet(conn: Conn, sim: SimOptions) -> None:
    """Provision the fleet and store its readings, weather and sensor state, batch by batch."""
    started = time.monotonic()
    stored = 0
    dataset = None
    for dataset in iter_datasets(sim):
        load_provisioning(conn, dataset.provisioning, actor="bench:alerts")
        stored += _store_readings(conn, dataset)
        _store_last_seen(conn, dataset)
        conn.commit()
        print(f"  {stored:,} readings stored ({time.monotonic() - started:.0f} s)", flush=True)
    if dataset is not None:
        _store_outdoor(conn, dataset)
    conn.commit()
    _analyze(conn)


def score_days(conn: Conn, *, end_at: datetime, days: int) -> None:
    """Score, then evaluate the alert rules, once a day over the last `days` days."""
    started = time.monotonic()
    for day in range(days - 1, -1, -1):
        now = end_at - timedelta(days=day)
        summary = score_homes(conn, now=now)
        conn.commit()
        evaluate_alerts(conn, now=now)
        conn.commit()
        print(f"  scored {now:%Y-%m-%d}: {summary} ({time.monotonic() - started:.0f} s)")
    _analyze(conn)


def _analyze(conn: Conn) -> None:
    conn.autocommit = True
    try:
        conn.execute("VACUUM ANALYZE")
    finally:
        conn.autocommit = False


def densify_assessments(conn: Conn, *, end_at: datetime, per_day: int, days: int) -> int:
    """Home-level assessments at `per_day` a day over the `days` before `end_at`."""
    step = timedelta(days=1) / per_day
    cur = conn.execute(DENSIFY_HOME_ASSESSMENTS, {"step": step, "from": end_at - days * ONE_DAY})
    conn.commit()
    if cur.rowcount:
        _analyze(conn)
    return cur.rowcount


def _store_readings(conn: Conn, dataset: Dataset) -> int:
    readings = dataset.readings
    # Readings of 0 %RH (a faulty sensor's) are left out: the scoring job cannot yet sum an
    # hour whose dew point is minus infinity, and the estate must score.
    keep = ~readings.duplicate & np.isfinite(readings.temperature_c) & (readings.humidity_pct > 0)
    sensor = readings.sensor[keep]
    at_s = readings.recorded_at[keep]
    # A device may stamp two readings with one second (a firmware quirk): the key keeps one.
    first = np.ones(sensor.size, dtype=bool)
    first[1:] = (sensor[1:] != sensor[:-1]) | (at_s[1:] != at_s[:-1])
    sensor_ids = dataset.sensors.sensor_id[sensor[first]]
    at_s = at_s[first]
    temperature = readings.temperature_c[keep][first]
    humidity = readings.humidity_pct[keep][first]
    battery = readings.battery_pct[keep][first]
    months = sorted(
        {datetime(y, m, 1, tzinfo=UTC) for y, m in _months(int(at_s.min()), int(at_s.max()))}
    )
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    stamps = [datetime.fromtimestamp(int(s), UTC) for s in at_s]
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "timestamptz", "float4", "float4", "float4"])
        for row in zip(
            sensor_ids.tolist(),
            stamps,
            temperature.tolist(),
            humidity.tolist(),
            [None if np.isnan(b) else b for b in battery.tolist()],
            strict=True,
        ):
            copy.write_row(row)
    return int(at_s.size)


def _months(first_s: int, last_s: int) -> list[tuple[int, int]]:
    first = datetime.fromtimestamp(first_s, UTC)
    last = datetime.fromtimestamp(last_s, UTC)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _store_last_seen(conn: Conn, dataset: Dataset) -> None:
    """Each sensor's first and last report and battery, as ingest keeps them in `sensors`."""
    readings = dataset.readings
    if len(readings) == 0:
        return
    sensor = readings.sensor
    last = np.flatnonzero(np.r_[sensor[1:] != sensor[:-1], True])
    first = np.r_[0, last[:-1] + 1]
    with conn.cursor() as cur:
        for f, i in zip(first.tolist(), last.tolist(), strict=True):
            sensor_id = str(dataset.sensors.sensor_id[sensor[i]])
            first_at = datetime.fromtimestamp(int(readings.recorded_at[f]), UTC)
            last_at = datetime.fromtimestamp(int(readings.recorded_at[i]), UTC)
            battery = float(readings.battery_pct[i])
            if not dataset.sensors.provisioned[sensor[i]]:
                cur.execute(INSERT_UNPROVISIONED, (sensor_id, first_at, last_at))
            cur.execute(
                UPDATE_LAST_SEEN,
                {
                    "sensor_id": sensor_id,
                    "first": first_at,
                    "last": last_at,
                    "battery": None if np.isnan(battery) else battery,
                },
            )


def _store_outdoor(conn: Conn, dataset: Dataset) -> None:
    outdoor = dataset.outdoor
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY outdoor_conditions (borough_code, recorded_at, temperature_c, humidity_pct, "
            "source) FROM STDIN"
        ) as copy,
    ):
        for h, at in enumerate(outdoor.at.tolist()):
            stamp = datetime.fromtimestamp(at, UTC)
            for b, code in enumerate(outdoor.borough_codes):
                copy.write_row(
                    (
                        code,
                        stamp,
                        float(outdoor.temperature_c[h, b]),
                        float(outdoor.humidity_pct[h, b]),
                        "dampsim",
                    )
                )


def describe(conn: Conn, end_at: datetime) -> World:
    def count(query: str) -> int:
        row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0

    return World(
        homes=count("SELECT count(*) FROM homes"),
        rooms=count("SELECT count(*) FROM rooms"),
        sensors=count("SELECT count(*) FROM sensors"),
        readings=count("SELECT count(*) FROM readings"),
        daily_rows=count("SELECT count(*) FROM room_daily_conditions"),
        assessments=count("SELECT count(*) FROM risk_assessments"),
        open_alerts=count("SELECT count(*) FROM alerts WHERE status <> 'cleared'"),
        end_at=end_at,
    )
