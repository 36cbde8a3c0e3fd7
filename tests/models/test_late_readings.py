"""Late readings on a real PostgreSQL: folded into scored hours as if they had come in order."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fleet import add_home, add_outdoor, add_readings
from psycopg import sql
from psycopg.conninfo import make_conninfo

from models.assessments import latest_for_rooms
from models.scoring import ScoreSummary, score_homes
from store.migrate import migrate, timescaledb_enabled

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]
FloatArray = np.ndarray[Any, Any]
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
PER_DAY = 144  # ten-minute readings
DAYS = 14
UPRN = 8001


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """A connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection


@pytest.fixture
def timescale() -> Iterator[Conn]:
    """An empty migrated TimescaleDB database, where DAMP_TEST_TIMESCALE_URL names a server."""
    admin_url = os.environ.get("DAMP_TEST_TIMESCALE_URL")
    if not admin_url:
        pytest.skip("TimescaleDB not configured: set DAMP_TEST_TIMESCALE_URL")
    name = f"dampwatch_late_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_conninfo(admin_url, dbname=name)
        migrate(url)
        with psycopg.connect(url) as connection:
            yield connection
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _series(seed: int, damp: bool) -> tuple[FloatArray, FloatArray]:
    """Two weeks of a room: a damp bedroom (growing mould) or a dry living room."""
    n = DAYS * PER_DAY
    hours = np.arange(n) / 6.0
    rng = np.random.default_rng(seed)
    if damp:
        t = 17 + np.sin(2 * np.pi * hours / 24) + 0.1 * rng.standard_normal(n)
        rh = 80 + 6 * np.cos(2 * np.pi * hours / 24) + 0.5 * rng.standard_normal(n)
    else:
        t = 21 + 0.3 * rng.standard_normal(n)
        rh = 45 + 2 * rng.standard_normal(n)
    return t, rh


def _home(conn: Conn) -> dict[str, tuple[FloatArray, FloatArray]]:
    """A two-room home with an outdoor feed; returns each sensor's full two weeks."""
    add_home(
        conn,
        uprn=UPRN,
        archetype="victorian_terrace",
        rooms=[("Bedroom", "bedroom", "late-bed"), ("Living room", "living_room", "late-liv")],
        placed_from=START,
    )
    hours = DAYS * 24
    add_outdoor(
        conn, "E09000012", START, 6 + 3 * np.sin(np.arange(hours) / 4), np.full(hours, 85.0)
    )
    return {"late-bed": _series(1, damp=True), "late-liv": _series(2, damp=False)}


def _deliver(
    conn: Conn,
    series: dict[str, tuple[FloatArray, FloatArray]],
    mask: dict[str, np.ndarray[Any, Any]],
    *,
    received_at: dt.datetime | None = None,
) -> None:
    """Store the readings the mask selects (the others are left out)."""
    for sensor_id, (t, rh) in series.items():
        keep = mask[sensor_id]
        add_readings(
            conn,
            sensor_id,
            START,
            np.where(keep, t, np.nan),
            np.where(keep, rh, np.nan),
            received_at=received_at,
        )


def _clock(conn: Conn) -> dt.datetime:
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    value: dt.datetime = row[0]
    return value


def _day(d: float) -> dt.datetime:
    return START + dt.timedelta(days=d)


def _index_of(d: float) -> int:
    return round(d * PER_DAY)


def _outcome(conn: Conn) -> tuple[list[Any], list[Any], dict[int | None, Any]]:
    """Carried state, day rows and latest room assessments, comparable across databases."""
    states = conn.execute(
        "SELECT room_id, scored_to, mould_index, dry_h, last_temperature_c, last_humidity_pct"
        " FROM room_model_states ORDER BY room_id"
    ).fetchall()
    days = conn.execute(
        "SELECT room_id, day, hours_observed, readings, round(sum_humidity_pct::numeric, 6),"
        " round(sum_growth_rate_per_h::numeric, 9), hours_spike, max_jump_humidity_pct,"
        " mould_index, dry_h, last_temperature_c, last_humidity_pct, hour_readings"
        " FROM room_daily_conditions ORDER BY room_id, day"
    ).fetchall()
    rooms = {
        a.room_id: (
            a.score,
            a.band,
            a.cause,
            a.mould_index,
            a.days_to_m1,
            a.days_to_m3,
            a.details["features"],
            a.details["faults"],
        )
        for a in latest_for_rooms(conn, uprn=UPRN)
    }
    return states, days, rooms


def _one_run_over_everything(conn: Conn, now: dt.datetime) -> ScoreSummary:
    conn.execute("TRUNCATE room_model_states, room_daily_conditions, risk_assessments")
    return score_homes(conn, now=now)


def test_late_backlog_gives_what_one_run_over_all_readings_gives(fresh: Conn) -> None:
    """An outage backlog and shuffled stragglers, scored across runs, end as one run would."""
    series = _home(fresh)
    n = DAYS * PER_DAY
    rng = np.random.default_rng(7)
    late = {sensor_id: np.zeros(n, dtype=bool) for sensor_id in series}
    # The bedroom sensor was cut off for two and a half days; its backlog arrives at the end...
    late["late-bed"][_index_of(8.0) : _index_of(10.5)] = True
    # ...with a tenth of both sensors' readings of the last eight days, in no order.
    for mask in late.values():
        stragglers = _index_of(6.0) + rng.permutation(n - _index_of(6.0))[: n // 10]
        mask[stragglers] = True
    on_time = {sensor_id: ~mask for sensor_id, mask in late.items()}
    for first, last in ((0.0, 7.0), (7.0, 11.0), (11.0, 14.0)):
        window = np.zeros(n, dtype=bool)
        window[_index_of(first) : _index_of(last)] = True
        _deliver(fresh, series, {s: m & window for s, m in on_time.items()})
        score_homes(fresh, now=_day(last))
    _deliver(fresh, series, late, received_at=_clock(fresh))
    folded = score_homes(fresh, now=_day(DAYS))
    again = score_homes(fresh, now=_day(DAYS) + dt.timedelta(minutes=30))
    pieces = _outcome(fresh)

    one = _one_run_over_everything(fresh, _day(DAYS) + dt.timedelta(minutes=30))
    whole = _outcome(fresh)
    # Both rooms went back to the end of day 5 (their first straggler is on day 6), not to
    # the beginning; the run after found nothing left to fold in.
    assert folded.rooms_rewound == 2
    assert folded.hours_integrated == 2 * (DAYS - 6) * 24
    assert (again.rooms_rewound, again.hours_integrated) == (0, 0)
    assert one.hours_integrated == 2 * DAYS * 24
    assert pieces[0] == whole[0]
    assert pieces[1] == whole[1]
    assert pieces[2] == whole[2]
    bedroom = whole[0][0]
    assert bedroom[2] > 0.3  # the damp bedroom's mould index grew: a real comparison


def test_room_without_late_readings_integrates_only_its_new_hours(fresh: Conn) -> None:
    """One room's late backlog rewinds that room alone; the other adds just its new day."""
    series = _home(fresh)
    n = DAYS * PER_DAY
    gap = np.zeros(n, dtype=bool)
    gap[_index_of(3.25) : _index_of(3.5)] = True
    first = np.zeros(n, dtype=bool)
    first[: _index_of(5.0)] = True
    _deliver(
        fresh,
        series,
        {"late-bed": first & ~gap, "late-liv": first},
    )
    score_homes(fresh, now=_day(5.0))
    next_day = np.zeros(n, dtype=bool)
    next_day[_index_of(5.0) : _index_of(6.0)] = True
    _deliver(
        fresh,
        series,
        {"late-bed": next_day | gap, "late-liv": next_day},
        received_at=_clock(fresh),
    )
    summary = score_homes(fresh, now=_day(6.0))
    assert summary.rooms_rewound == 1
    # The living room: its one new day; the bedroom: again from the start of day 3.
    assert summary.hours_integrated == 24 + 3 * 24


def test_spool_replay_widens_the_search_to_old_receive_times(fresh: Conn) -> None:
    """A backlog spooled by ingest keeps its old receive time; the replay record finds it."""
    series = _home(fresh)
    n = DAYS * PER_DAY
    spooled = np.zeros(n, dtype=bool)
    spooled[_index_of(9.0) : _index_of(10.0)] = True
    _deliver(fresh, series, dict.fromkeys(series, ~spooled))
    score_homes(fresh, now=_day(DAYS))
    received = _clock(fresh) - dt.timedelta(hours=2)
    _deliver(fresh, series, dict.fromkeys(series, spooled), received_at=received)
    fresh.execute(
        "INSERT INTO ingest_spool_replays (segment_id, messages, replayed_at)"
        " VALUES ('late-test-segment', %s, clock_timestamp())",
        (2 * PER_DAY,),
    )
    later = _day(DAYS) + dt.timedelta(minutes=10)
    folded = score_homes(fresh, now=later)
    pieces = _outcome(fresh)
    _one_run_over_everything(fresh, later)
    assert folded.rooms_rewound == 2
    assert pieces == _outcome(fresh)


def test_room_without_day_snapshots_is_integrated_again_from_the_start(fresh: Conn) -> None:
    """Day rows from before the snapshots existed: a late reading re-integrates the whole room."""
    series = _home(fresh)
    n = DAYS * PER_DAY
    late = np.zeros(n, dtype=bool)
    late[_index_of(10.0) : _index_of(10.1)] = True
    _deliver(fresh, series, {"late-bed": ~late, "late-liv": np.ones(n, dtype=bool)})
    score_homes(fresh, now=_day(DAYS))
    fresh.execute(
        "UPDATE room_daily_conditions SET dry_h = NULL, last_temperature_c = NULL,"
        " last_humidity_pct = NULL, hour_readings = NULL"
        " WHERE room_id = (SELECT room_id FROM rooms WHERE uprn = %s AND kind = 'bedroom')",
        (UPRN,),
    )
    _deliver(
        fresh,
        series,
        {"late-bed": late, "late-liv": np.zeros(n, dtype=bool)},
        received_at=_clock(fresh),
    )
    later = _day(DAYS) + dt.timedelta(minutes=10)
    folded = score_homes(fresh, now=later)
    pieces = _outcome(fresh)
    _one_run_over_everything(fresh, later)
    assert folded.rooms_rewound == 1
    assert folded.hours_integrated == DAYS * 24
    assert pieces == _outcome(fresh)


@pytest.mark.timescale
def test_late_backlog_into_a_compressed_chunk_is_folded_in(timescale: Conn) -> None:
    """On a hypertable, a backlog landing in a compressed chunk still ends as one run would."""
    assert timescaledb_enabled(timescale)
    series = _home(timescale)
    n = DAYS * PER_DAY
    late = np.zeros(n, dtype=bool)
    late[_index_of(4.0) : _index_of(5.5)] = True
    _deliver(timescale, series, dict.fromkeys(series, ~late))
    score_homes(timescale, now=_day(DAYS))
    compressed = timescale.execute(
        "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('readings') c"
    ).fetchall()
    assert compressed
    _deliver(timescale, series, dict.fromkeys(series, late), received_at=_clock(timescale))
    later = _day(DAYS) + dt.timedelta(minutes=10)
    folded = score_homes(timescale, now=later)
    pieces = _outcome(timescale)
    _one_run_over_everything(timescale, later)
    assert folded.rooms_rewound == 2
    assert folded.hours_integrated == 2 * (DAYS - 4) * 24
    assert pieces == _outcome(timescale)
