"""The scoring job on a real PostgreSQL: rows written, repeatable, incremental, by placement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fleet import add_home, add_outdoor, add_readings

from models.assessments import latest_for_homes, latest_for_rooms
from models.scoring import MODEL_VERSION, score_homes

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
TEN_MIN_PER_DAY = 144


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """A connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection


def _damp(days: int, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A cool, humid bedroom: 16-18 °C and 75-85 % RH with a daily cycle."""
    n = days * TEN_MIN_PER_DAY
    hours = np.arange(n) / 6.0
    rng = np.random.default_rng(seed)
    t = 17 + np.sin(2 * np.pi * hours / 24) + 0.1 * rng.standard_normal(n)
    rh = 80 + 5 * np.cos(2 * np.pi * hours / 24) + 0.5 * rng.standard_normal(n)
    return t, rh


def _dry(days: int, seed: int = 1) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    n = days * TEN_MIN_PER_DAY
    rng = np.random.default_rng(seed)
    return 21 + 0.3 * rng.standard_normal(n), 45 + 2 * rng.standard_normal(n)


def _two_room_home(conn: Conn, days: int = 28) -> dict[str, int]:
    rooms = add_home(
        conn,
        uprn=1001,
        archetype="victorian_terrace",
        rooms=[("Bedroom", "bedroom", "s-bed"), ("Living room", "living_room", "s-liv")],
        placed_from=START,
    )
    add_readings(conn, "s-bed", START, *_damp(days))
    add_readings(conn, "s-liv", START, *_dry(days))
    return rooms


def test_run_writes_one_row_per_room_and_one_per_home(fresh: Conn) -> None:
    """Two rooms give two room rows and one home row, the damp bedroom worse than the dry room."""
    rooms = _two_room_home(fresh)
    now = START + dt.timedelta(days=28)
    summary = score_homes(fresh, now=now)
    assert (summary.rooms, summary.homes, summary.assessments_written) == (2, 1, 3)
    by_room = {a.room_id: a for a in latest_for_rooms(fresh, uprn=1001)}
    bed, living = by_room[rooms["Bedroom"]], by_room[rooms["Living room"]]
    assert bed.mould_index is not None
    assert bed.mould_index > 0.5
    assert living.mould_index == 0.0
    assert bed.score > living.score
    assert bed.model_version == MODEL_VERSION
    assert bed.coverage == pytest.approx(1.0, abs=0.01)
    [home] = latest_for_homes(fresh)
    assert home.room_id is None
    assert home.score == bed.score
    assert home.band == bed.band
    assert home.details["worst_room_id"] == rooms["Bedroom"]
    assert home.explanation.count(".") >= 2


def test_second_run_at_the_same_instant_writes_nothing(fresh: Conn) -> None:
    """Running twice with the same `now` integrates no hour twice and adds no row."""
    _two_room_home(fresh, days=7)
    now = START + dt.timedelta(days=7)
    first = score_homes(fresh, now=now)
    second = score_homes(fresh, now=now)
    assert first.hours_integrated == 2 * 7 * 24
    assert (second.hours_integrated, second.assessments_written) == (0, 0)
    count = fresh.execute("SELECT count(*) FROM risk_assessments").fetchone()
    assert count == (3,)


def test_scoring_in_pieces_equals_one_run(fresh_database_url: str, fresh: Conn) -> None:
    """Daily runs over four weeks end with the same M, timer and scores as one run at the end."""
    days = 28
    _two_room_home(fresh, days=days)
    add_outdoor(
        fresh,
        "E09000012",
        START,
        6 + 3 * np.sin(np.arange(days * 24) / 4),
        np.full(days * 24, 85.0),
    )
    fresh.commit()
    end = START + dt.timedelta(days=days)
    # Pieces of uneven length, some cutting through a day, on this database...
    for hours in (5, 30, 24 * 3 + 7, 24 * 10, 24 * 6 + 1):
        score_homes(fresh, now=START + dt.timedelta(hours=hours))
    score_homes(fresh, now=end)
    # ...and one run over the same readings on a copy made before any scoring.
    pieces = fresh.execute(
        "SELECT room_id, mould_index, dry_h, scored_to FROM room_model_states ORDER BY room_id"
    ).fetchall()
    pieces_rows = {a.room_id: a for a in latest_for_rooms(fresh, uprn=1001)}
    fresh.execute("TRUNCATE room_model_states, room_daily_conditions, risk_assessments")
    score_homes(fresh, now=end)
    whole = fresh.execute(
        "SELECT room_id, mould_index, dry_h, scored_to FROM room_model_states ORDER BY room_id"
    ).fetchall()
    whole_rows = {a.room_id: a for a in latest_for_rooms(fresh, uprn=1001)}
    assert pieces == whole
    for room_id, a in whole_rows.items():
        b = pieces_rows[room_id]
        assert (a.score, a.band, a.cause, a.days_to_m3) == (b.score, b.band, b.cause, b.days_to_m3)
        assert a.details["features"] == b.details["features"]


def test_reading_counts_for_the_room_the_sensor_was_in(fresh: Conn) -> None:
    """A sensor moved from the bedroom to the hall: its later damp readings score the hall."""
    rooms = add_home(
        fresh,
        uprn=1002,
        rooms=[("Bedroom", "bedroom", "s-move"), ("Hall", "other", "s-hall")],
        placed_from=START,
    )
    moved_at = START + dt.timedelta(days=7)
    fresh.execute(
        "UPDATE sensor_placements SET valid_to = %s WHERE sensor_id = 's-move'", (moved_at,)
    )
    fresh.execute(
        "UPDATE sensor_placements SET valid_to = %s WHERE sensor_id = 's-hall'",
        (START + dt.timedelta(hours=1),),
    )
    fresh.execute(
        "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES ('s-move', %s, %s)",
        (rooms["Hall"], moved_at),
    )
    dry_t, dry_rh = _dry(7)
    damp_t, damp_rh = _damp(14)
    add_readings(
        fresh, "s-move", START, np.concatenate([dry_t, damp_t]), np.concatenate([dry_rh, damp_rh])
    )
    score_homes(fresh, now=START + dt.timedelta(days=21))
    by_room = {a.room_id: a for a in latest_for_rooms(fresh, uprn=1002)}
    assert by_room[rooms["Bedroom"]].mould_index == 0.0
    hall = by_room[rooms["Hall"]]
    assert hall.mould_index is not None
    assert hall.mould_index > 0.3
    assert hall.details["features"]["hours_observed"] == 14 * 24


def test_latest_for_homes_keeps_to_the_borough(fresh: Conn) -> None:
    """Only the asked borough's homes come back, one newest row each."""
    add_home(
        fresh,
        uprn=2001,
        borough_code="E09000012",
        rooms=[("Bed", "bedroom", "a1")],
        placed_from=START,
    )
    add_home(
        fresh,
        uprn=2002,
        borough_code="E09000030",
        rooms=[("Bed", "bedroom", "a2")],
        placed_from=START,
    )
    add_readings(fresh, "a1", START, *_dry(3))
    add_readings(fresh, "a2", START, *_dry(3))
    score_homes(fresh, now=START + dt.timedelta(days=2))
    score_homes(fresh, now=START + dt.timedelta(days=3))
    hackney = latest_for_homes(fresh, borough="E09000012")
    assert [a.uprn for a in hackney] == [2001]
    assert hackney[0].assessed_at == START + dt.timedelta(days=3)
    assert {a.uprn for a in latest_for_homes(fresh)} == {2001, 2002}


def test_borough_run_scores_only_that_borough(fresh: Conn) -> None:
    """A sharded run leaves the other borough's rooms unscored."""
    add_home(
        fresh,
        uprn=3001,
        borough_code="E09000012",
        rooms=[("Bed", "bedroom", "b1")],
        placed_from=START,
    )
    add_home(
        fresh,
        uprn=3002,
        borough_code="E09000030",
        rooms=[("Bed", "bedroom", "b2")],
        placed_from=START,
    )
    add_readings(fresh, "b1", START, *_dry(2))
    add_readings(fresh, "b2", START, *_dry(2))
    summary = score_homes(fresh, now=START + dt.timedelta(days=2), borough="E09000030")
    assert summary.homes == 1
    assert [a.uprn for a in latest_for_homes(fresh)] == [3002]


def test_stuck_sensor_raises_a_fault_not_a_mould_risk(fresh: Conn) -> None:
    """A sensor repeating 95 % RH for days is reported as stuck, and its room band is unknown."""
    add_home(fresh, uprn=4001, rooms=[("Bedroom", "bedroom", "stuck-1")], placed_from=START)
    n = 10 * TEN_MIN_PER_DAY
    add_readings(fresh, "stuck-1", START, np.full(n, 18.0), np.full(n, 95.0))
    score_homes(fresh, now=START + dt.timedelta(days=10))
    [room] = latest_for_rooms(fresh, uprn=4001)
    assert room.band == "unknown"
    assert room.details["faults"][0]["kind"] == "stuck"
    assert room.details["faults"][0]["sensor_id"] == "stuck-1"
    [home] = latest_for_homes(fresh)
    assert home.band == "unknown"
    assert home.details["faults"][0]["kind"] == "stuck"


def test_fault_stays_until_the_sensor_is_replaced(fresh: Conn) -> None:
    """A stuck spell keeps its room `unknown` after the readings recover, until a new sensor."""
    rooms = add_home(fresh, uprn=5001, rooms=[("Bedroom", "bedroom", "old-1")], placed_from=START)
    stuck_n = 5 * TEN_MIN_PER_DAY
    t, rh = _dry(10)
    t[:stuck_n], rh[:stuck_n] = 18.0, 60.0
    add_readings(fresh, "old-1", START, t, rh)
    score_homes(fresh, now=START + dt.timedelta(days=5))
    score_homes(fresh, now=START + dt.timedelta(days=10))
    [room] = latest_for_rooms(fresh, uprn=5001)
    assert room.band == "unknown"
    assert room.details["faults"][0]["kind"] == "stuck"
    state = fresh.execute(
        "SELECT fault_kind, fault_sensor_ids FROM room_model_states WHERE room_id = %s",
        (rooms["Bedroom"],),
    ).fetchone()
    assert state == ("stuck", ["old-1"])

    swapped_at = START + dt.timedelta(days=10)
    fresh.execute(
        "UPDATE sensor_placements SET valid_to = %s WHERE sensor_id = 'old-1'", (swapped_at,)
    )
    fresh.execute("INSERT INTO sensors (sensor_id) VALUES ('new-1')")
    fresh.execute(
        "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES ('new-1', %s, %s)",
        (rooms["Bedroom"], swapped_at),
    )
    add_readings(fresh, "new-1", swapped_at, *_dry(5, seed=3))
    score_homes(fresh, now=START + dt.timedelta(days=15))
    [room] = latest_for_rooms(fresh, uprn=5001)
    assert room.band == "green"
    assert room.details["faults"] == []


def test_outdoor_observations_replace_the_normals(fresh: Conn) -> None:
    """With a borough feed at 2 °C the features show it; without, the November normal."""
    add_home(
        fresh,
        uprn=6001,
        borough_code="E09000012",
        rooms=[("Bed", "bedroom", "o1")],
        placed_from=START,
    )
    add_home(
        fresh,
        uprn=6002,
        borough_code="E09000030",
        rooms=[("Bed", "bedroom", "o2")],
        placed_from=START,
    )
    add_readings(fresh, "o1", START, *_dry(3))
    add_readings(fresh, "o2", START, *_dry(3))
    add_outdoor(fresh, "E09000012", START, np.full(72, 2.0), np.full(72, 90.0))
    score_homes(fresh, now=START + dt.timedelta(days=3))
    [fed] = latest_for_rooms(fresh, uprn=6001)
    [normal] = latest_for_rooms(fresh, uprn=6002)
    assert fed.details["features"]["outdoor_temperature_c"] == pytest.approx(2.0)
    # Met Office 1991-2020 Heathrow November: (11.4 + 4.9) / 2 = 8.15 °C over whole days.
    assert normal.details["features"]["outdoor_temperature_c"] == pytest.approx(8.15, abs=0.1)
    assert (
        fed.details["features"]["surface_temperature_c"]
        < normal.details["features"]["surface_temperature_c"]
    )


def test_unplaced_readings_are_not_scored(fresh: Conn) -> None:
    """Readings from a sensor with no placement count for no room."""
    add_home(fresh, uprn=7001, rooms=[("Bed", "bedroom", "p1")], placed_from=START)
    fresh.execute("INSERT INTO sensors (sensor_id) VALUES ('loose-1')")
    add_readings(fresh, "loose-1", START, *_damp(3))
    add_readings(fresh, "p1", START, *_dry(3))
    summary = score_homes(fresh, now=START + dt.timedelta(days=3))
    assert summary.rooms == 1
    assert summary.hours_integrated == 3 * 24
