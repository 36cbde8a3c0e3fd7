"""What retention saves on a simulated winter of 15-minute scoring runs.

Homes are scored once by the real job (so every row carries the job's real `details`), then
each row is repeated at the job's cadence over a winter (1 Nov - 1 Mar, 120 days), a third of
the homes going amber for a month, red for its second half. Retention then runs as the job
runs it at the end of the winter. Run with `-s` to see the table; rows and bytes are linear in
the number of homes, so the figures scale to a fleet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fleet import add_home, add_readings

from models.assessments import thin_assessments
from models.scoring import score_homes

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

Conn = psycopg.Connection[Any]
HOMES = 6
WINTER_START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
WINTER_DAYS = 120
WINTER_END = WINTER_START + dt.timedelta(days=WINTER_DAYS)
CADENCE = dt.timedelta(minutes=15)
FULL_DAYS = 31  # the default of DAMP_ASSESSMENTS_FULL_DAYS
ROOMS = (
    ("Bedroom 1", "bedroom"),
    ("Bedroom 2", "bedroom"),
    ("Living room", "living_room"),
    ("Kitchen", "kitchen"),
    ("Bathroom", "bathroom"),
)

# Every row the real run wrote, repeated every CADENCE across the winter. Homes with uprn % 3 = 0
# (and their first bedroom) are amber on days 40-69 of the winter, red from day 55.
DENSIFY = """
    INSERT INTO risk_assessments (assessed_at, uprn, room_id, window_start, window_end, score,
        band, mould_index, days_to_m1, days_to_m3, cause, explanation, coverage, model_version,
        details)
    SELECT g.at, r.uprn, r.room_id, g.at - interval '14 days', g.at, r.score,
           CASE WHEN r.uprn %% 3 = 0 AND (r.room_id IS NULL OR r.room_id = first_room.id)
                     AND g.at >= %(start)s + interval '40 days 10 hours 15 minutes'
                     AND g.at < %(start)s + interval '70 days'
                THEN CASE WHEN g.at >= %(start)s + interval '55 days' THEN 'red' ELSE 'amber' END
                ELSE r.band END,
           r.mould_index, r.days_to_m1, r.days_to_m3, r.cause, r.explanation, r.coverage,
           r.model_version, r.details
    FROM risk_assessments r
    CROSS JOIN LATERAL (SELECT min(room_id) AS id FROM rooms WHERE uprn = r.uprn) first_room
    CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz - %(cadence)s,
                               %(cadence)s) AS g(at)
    WHERE r.assessed_at = %(scored_at)s
"""
SIZE = """
    SELECT count(*), pg_total_relation_size('risk_assessments'),
           pg_relation_size('risk_assessments'), pg_indexes_size('risk_assessments')
    FROM risk_assessments
"""


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """An autocommit connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url, autocommit=True) as connection:
        yield connection


def _size(conn: Conn) -> tuple[int, int, int, int]:
    conn.execute("VACUUM FULL ANALYZE risk_assessments")
    row = conn.execute(SIZE).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def test_a_winter_of_assessments_shrinks_to_a_month_and_a_row_a_day(fresh: Conn) -> None:
    """After a winter, retention with 31 days in full removes about seven rows in ten, and
    the subjects' newest rows and each old day's last row are still there."""
    scored_at = WINTER_START - dt.timedelta(hours=1)
    rng = np.random.default_rng(2026)
    for uprn in range(1, HOMES + 1):
        add_home(
            fresh,
            uprn=uprn,
            archetype="victorian_terrace",
            rooms=[(name, kind, f"s-{uprn}-{i}") for i, (name, kind) in enumerate(ROOMS)],
            placed_from=scored_at - dt.timedelta(days=14),
        )
        for i in range(len(ROOMS)):
            n = 14 * 144
            add_readings(
                fresh,
                f"s-{uprn}-{i}",
                scored_at - dt.timedelta(days=14),
                19 + 2 * rng.standard_normal(n).cumsum() / np.sqrt(n),
                np.clip(60 + 10 * rng.standard_normal(n).cumsum() / np.sqrt(n), 20, 99),
            )
    with psycopg.connect(fresh.info.dsn) as scoring:
        score_homes(scoring, now=scored_at)
        scoring.commit()
    fresh.execute(
        DENSIFY,
        {"start": WINTER_START, "end": WINTER_END, "cadence": CADENCE, "scored_at": scored_at},
    )
    fresh.execute("DELETE FROM risk_assessments WHERE assessed_at = %s", (scored_at,))
    before = _size(fresh)

    deleted = 0
    while step := thin_assessments(fresh, now=WINTER_END, keep_days=FULL_DAYS):
        deleted += step
    after = _size(fresh)

    subjects = HOMES * (len(ROOMS) + 1)
    runs = WINTER_DAYS * 24 * 4
    assert before[0] == subjects * runs
    assert after[0] == before[0] - deleted
    # Full days, plus one a day and the first row before them, plus the episodes' ends.
    thinned_days = WINTER_DAYS - FULL_DAYS
    assert after[0] >= subjects * (FULL_DAYS * 96 + thinned_days)
    assert after[0] <= subjects * (FULL_DAYS * 96 + thinned_days + 1) + 6 * HOMES
    assert after[1] < 0.35 * before[1]
    print(
        f"\nrisk_assessments, {HOMES} homes x {len(ROOMS) + 1} subjects, {WINTER_DAYS} days "
        f"every {CADENCE.seconds // 60} min, {FULL_DAYS} days kept in full\n"
        "| | rows | total bytes | heap | indexes | bytes/row |\n"
        "| --- | --- | --- | --- | --- | --- |"
    )
    for label, (rows, total, heap, indexes) in (("before", before), ("after", after)):
        print(f"| {label} | {rows:,} | {total:,} | {heap:,} | {indexes:,} | {total / rows:.0f} |")
    print(
        f"saved {1 - after[0] / before[0]:.1%} of rows, {1 - after[1] / before[1]:.1%} of bytes; "
        f"per home per winter {before[1] / HOMES / 2**20:.1f} MiB -> {after[1] / HOMES / 2**20:.1f}"
        f" MiB; for 2,000 homes {before[1] / HOMES * 2000 / 2**30:.1f} GiB -> "
        f"{after[1] / HOMES * 2000 / 2**30:.1f} GiB"
    )
