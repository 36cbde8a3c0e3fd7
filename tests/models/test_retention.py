"""Retention of risk_assessments: old days thinned, everything the alert rules read kept."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fleet import add_home, add_readings

from alerts.home_conditions import damp_observations
from alerts.policy import DEFAULT_POLICY
from alerts.sensor_conditions import fault_observations
from api.queries.risk import risk_history
from models.assessments import (
    RETENTION_LOCK_NAMESPACE,
    Assessment,
    thin_assessments,
    write_assessments,
)
from models.scoring import score_homes

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]
BOROUGH = "E09000012"
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
DAYS = 20
NOW = START + dt.timedelta(days=DAYS)
STEP = dt.timedelta(minutes=15)
KEEP_DAYS = 3
# The home's story: green, amber from day 5 10:00 to day 9 with three unknown hours on day 7,
# green again, then amber (red from day 15) from day 12 13:15 to now. A fault on the
# bedroom's sensor is listed from day 6 to day 8 15:30.
RISK_FROM = START + dt.timedelta(days=12, hours=13, minutes=15)
FAULT_GONE_AT = START + dt.timedelta(days=8, hours=15, minutes=30)


def _home_band(at: dt.datetime) -> str:
    day = (at - START) / dt.timedelta(days=1)
    if 7.25 <= day < 7.375:
        return "unknown"
    if 5 + 10 / 24 <= day < 9 or at >= RISK_FROM:
        return "red" if day >= 15 else "amber"
    return "green"


def _faults(at: dt.datetime) -> list[dict[str, Any]]:
    if START + dt.timedelta(days=6) <= at < FAULT_GONE_AT:
        return [{"sensor_id": "s-bed", "kind": "stuck", "evidence": {"stuck_hours": 40.0}}]
    return []


def _assessment(
    at: dt.datetime, uprn: int, room_id: int | None, band: str, faults: list[dict[str, Any]]
) -> Assessment:
    return Assessment(
        assessment_id=None,
        assessed_at=at,
        uprn=uprn,
        room_id=room_id,
        window_start=at - dt.timedelta(days=14),
        window_end=at,
        score={"green": 10, "amber": 45, "red": 75, "unknown": 0}[band],
        band=band,
        mould_index=0.5,
        days_to_m1=None,
        days_to_m3=None,
        cause="none",
        explanation="Conditions as measured.",
        coverage=1.0,
        model_version="test",
        details={"faults": faults, "rooms": []},
    )


def _fill(conn: Conn, uprn: int, band_at: Callable[[dt.datetime], str] = _home_band) -> int:
    """A home with two rooms assessed every 15 minutes for DAYS days, as the job writes; returns
    the id of its living room, green throughout."""
    rooms = add_home(
        conn,
        uprn=uprn,
        borough_code=BOROUGH,
        rooms=[
            ("Bedroom", "bedroom", f"s-bed-{uprn}"),
            ("Living room", "living_room", f"s-liv-{uprn}"),
        ],
        placed_from=START,
    )
    rows = []
    at = START
    while at < NOW:
        band, faults = band_at(at), _faults(at)
        rows += [
            _assessment(at, uprn, None, band, faults),
            _assessment(at, uprn, rooms["Bedroom"], band, faults),
            _assessment(at, uprn, rooms["Living room"], "green", []),
        ]
        at += STEP
    write_assessments(conn, rows)
    return rooms["Living room"]


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """An autocommit connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url, autocommit=True) as connection:
        yield connection


Row = tuple[int, int, int | None, dt.datetime, str, str]


def _rows(conn: Conn) -> list[Row]:
    return [
        (r[0], r[1], r[2], r[3], r[4], r[5])
        for r in conn.execute(
            "SELECT assessment_id, uprn, room_id, assessed_at, band, details ->> 'faults'"
            " FROM risk_assessments ORDER BY uprn, room_id NULLS FIRST, assessed_at"
        )
    ]


def _expected(rows: list[Row], cutoff: dt.datetime) -> set[int]:
    """The rule, from the full history: keep what is recent, each subject's last row of a day,
    and the rows at either end of a run of equal band and faults."""
    keep = set()
    for i, (aid, uprn, room, at, band, faults) in enumerate(rows):
        before = rows[i - 1] if i > 0 and rows[i - 1][1:3] == (uprn, room) else None
        after = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][1:3] == (uprn, room) else None
        if (
            at >= cutoff
            or after is None
            or after[3].date() != at.date()
            or before is None
            or before[4:] != (band, faults)
            or after[4:] != (band, faults)
        ):
            keep.add(aid)
    return keep


def _thin_all(conn: Conn, **kwargs: Any) -> int:
    deleted = 0
    while True:
        step = thin_assessments(conn, now=NOW, keep_days=KEEP_DAYS, **kwargs)
        if step == 0:
            return deleted
        deleted += step


def _alert_view(conn: Conn) -> tuple[Any, Any]:
    damp = damp_observations(conn, now=NOW, policy=DEFAULT_POLICY)
    faults = fault_observations(
        conn,
        now=NOW,
        policy=DEFAULT_POLICY,
        open_fault_subjects=[(1, "s-bed", BOROUGH)],
    )
    return damp, faults


def test_old_days_keep_their_last_row_and_every_change(fresh: Conn) -> None:
    """Older than the days kept in full, a subject keeps its last row of each day and the
    ends of each run of equal band and faults; the recent days keep every row."""
    living = _fill(fresh, 1)
    before = _rows(fresh)
    cutoff = dt.datetime.combine(NOW.date() - dt.timedelta(days=KEEP_DAYS), dt.time(0), dt.UTC)
    deleted = _thin_all(fresh, batch_homes=1, max_days=2)
    after = _rows(fresh)

    assert {r[0] for r in after} == _expected(before, cutoff)
    assert deleted == len(before) - len(after)
    recent = [r for r in before if r[3] >= cutoff]
    assert [r for r in after if r[3] >= cutoff] == recent
    # The living room never changed: its first row, then the last of each day.
    assert [r[3] for r in after if r[2] == living and r[3] < cutoff] == [START] + [
        START + dt.timedelta(days=d + 1) - STEP for d in range(DAYS - KEEP_DAYS)
    ]
    assert len(after) < 0.25 * len(before)
    assert thin_assessments(fresh, now=NOW, keep_days=KEEP_DAYS) == 0


def test_alert_rules_read_the_same_after_thinning(fresh: Conn) -> None:
    """The damp rule's latest row and episode start (day 12 13:15) and the fault rule's end of
    a listed fault (day 8 15:30) are the same after retention, though both are older than the
    days kept in full."""
    _fill(fresh, 1)
    damp, faults = _alert_view(fresh)
    _thin_all(fresh)
    assert _alert_view(fresh) == (damp, faults)
    [obs] = damp
    assert obs.since == RISK_FROM
    [gone] = faults
    assert gone.since == FAULT_GONE_AT


def test_risk_history_shows_a_point_a_day_for_thinned_days(fresh: Conn) -> None:
    """The API's history of a steady room: every run in the recent days, one point a day
    before them (each the day's last) after the first ever."""
    living = _fill(fresh, 1, band_at=lambda _at: "green")
    _thin_all(fresh)
    points = risk_history(fresh, uprn=1, borough=BOROUGH, room_id=living, start=START, end=NOW)
    old = [p for p in points if p.assessed_at < NOW - dt.timedelta(days=KEEP_DAYS)]
    assert [p.assessed_at for p in old] == [START] + [
        START + dt.timedelta(days=d + 1) - STEP for d in range(DAYS - KEEP_DAYS)
    ]
    assert len(points) - len(old) == KEEP_DAYS * 96


def test_a_borough_being_thinned_elsewhere_is_skipped(fresh: Conn, fresh_database_url: str) -> None:
    """While another process holds the borough's retention lock, a second pass deletes
    nothing and returns at once; once it is free, the pass thins."""
    _fill(fresh, 1)
    with psycopg.connect(fresh_database_url, autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, hashtext(%s))", (RETENTION_LOCK_NAMESPACE, BOROUGH)
        )
        assert thin_assessments(fresh, now=NOW, keep_days=KEEP_DAYS) == 0
    assert thin_assessments(fresh, now=NOW, keep_days=KEEP_DAYS) > 0


def test_passes_at_once_delete_what_one_pass_deletes(fresh: Conn, fresh_database_url: str) -> None:
    """Two passes started together on separate connections leave the rows one pass leaves."""
    for uprn in (1, 2, 3):
        _fill(fresh, uprn)
    before = _rows(fresh)
    cutoff = dt.datetime.combine(NOW.date() - dt.timedelta(days=KEEP_DAYS), dt.time(0), dt.UTC)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            with psycopg.connect(fresh_database_url, autocommit=True) as conn:
                barrier.wait()
                _thin_all(conn, batch_homes=1, max_days=1)
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _thin_all(fresh)  # whatever a skipped pass left
    assert {r[0] for r in _rows(fresh)} == _expected(before, cutoff)


def test_thinning_does_not_wait_for_a_scoring_run(fresh: Conn, fresh_database_url: str) -> None:
    """A scoring run still in its transaction (its lock held, its rows uncommitted) neither
    blocks retention nor loses its rows to it."""
    _fill(fresh, 1)
    add_readings(fresh, "s-bed-1", NOW - dt.timedelta(days=2), [20.0] * 288, [60.0] * 288)
    with psycopg.connect(fresh_database_url) as scoring:
        summary = score_homes(scoring, now=NOW + dt.timedelta(hours=1))
        fresh.execute("SET statement_timeout = '10s'")
        assert thin_assessments(fresh, now=NOW, keep_days=KEEP_DAYS) > 0
        scoring.commit()
    written = fresh.execute(
        "SELECT count(*) FROM risk_assessments WHERE assessed_at = %s",
        (NOW + dt.timedelta(hours=1),),
    ).fetchone()
    assert written == (summary.assessments_written,)
    assert summary.assessments_written == 3


def test_a_connection_in_a_transaction_is_refused(fresh_database_url: str) -> None:
    """Retention commits as it goes, so it will not run inside the caller's transaction."""
    with (
        psycopg.connect(fresh_database_url) as conn,
        pytest.raises(ValueError, match="autocommit"),
    ):
        thin_assessments(conn, now=NOW, keep_days=KEEP_DAYS)
