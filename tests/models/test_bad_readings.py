"""Readings at the edges of what ingest accepts: 0 and 100 %RH, -40 and 85 °C, frost.

A failed humidity element reports 0 %RH, which ingest keeps (it is inside the sensors' range).
Scoring must neither crash on it nor average it into the room's conditions, and the fault
rules must still see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from fleet import add_home, add_readings
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from psycopg import sql

from ingest.decoders.result import (
    HUMIDITY_MAX_PCT,
    HUMIDITY_MIN_PCT,
    TEMPERATURE_MAX_C,
    TEMPERATURE_MIN_C,
)
from models.assessments import latest_for_rooms
from models.climate import outdoor_grid
from models.hourly import (
    DAILY_COLUMNS,
    MAX_COLUMNS,
    MIN_COLUMNS,
    SUM_COLUMNS,
    HourlyBlock,
    RoomState,
    integrate_block,
)
from models.mould_index import maximum_index, sensitivity_class
from models.psychro import (
    MIN_HUMIDITY_PCT,
    absolute_humidity_kg_m3,
    dew_point_c,
    relative_humidity_pct,
    vapour_pressure_pa,
)
from models.scoring import score_homes

Conn = psycopg.Connection[Any]
START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
PER_DAY = 144  # a reading every ten minutes


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """A connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection


def _room(days: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A lived-in room: 19-21 °C and about 60 % RH, never twice the same reading."""
    n = days * PER_DAY
    rng = np.random.default_rng(seed)
    hours = np.arange(n) / 6.0
    t = 20 + np.sin(2 * np.pi * hours / 24) + 0.2 * rng.standard_normal(n)
    rh = 60 + 3 * np.cos(2 * np.pi * hours / 24) + 0.5 * rng.standard_normal(n)
    return t, rh


def _daily_rows(conn: Conn, room_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT * FROM room_daily_conditions WHERE room_id = %s ORDER BY day", (room_id,)
        ).fetchall()


@pytest.mark.postgres
def test_hours_of_zero_humidity_are_left_out_of_the_room_s_conditions(fresh: Conn) -> None:
    """A room whose sensor reports 0 %RH for six hours is scored on its other hours: its mean
    humidity and dew-point margin are those of the good hours, and the bad ones are counted."""
    days = 14
    rooms = add_home(fresh, uprn=1, placed_from=START, rooms=[("Bedroom", "bedroom", "s-1")])
    t, rh = _room(days, seed=1)
    good_mean = float(rh.mean())
    rh[3 * PER_DAY : 3 * PER_DAY + 36] = 0.0  # six hours on day 4
    add_readings(fresh, "s-1", START, t, rh)
    score_homes(fresh, now=START + dt.timedelta(days=days))

    rows = _daily_rows(fresh, rooms["Bedroom"])
    assert [r["hours_humidity_invalid"] for r in rows] == [0, 0, 0, 6] + [0] * (days - 4)
    assert all(r["hours_observed"] == 24 for r in rows)
    assert rows[3]["min_humidity_pct"] == 0.0  # the fault rules still see the raw value
    [room] = latest_for_rooms(fresh, uprn=1)
    features = room.details["features"]
    assert features["humidity_pct"] == pytest.approx(good_mean, abs=0.3)
    assert features["dew_point_margin_c"] is not None
    assert room.coverage == pytest.approx(1 - 6 / (24 * days), abs=1e-3)


@pytest.mark.postgres
def test_a_dead_humidity_element_is_a_fault_and_other_homes_are_scored(fresh: Conn) -> None:
    """A sensor stuck at 0 %RH for days makes its room faulty (band unknown), not a crash; the
    next home and the same home's other room are scored as usual."""
    days = 7
    bad = add_home(
        fresh,
        uprn=1,
        placed_from=START,
        rooms=[("Bedroom", "bedroom", "s-dead"), ("Kitchen", "kitchen", "s-ok")],
    )
    add_home(fresh, uprn=2, placed_from=START, rooms=[("Bedroom", "bedroom", "s-other")])
    t, rh = _room(days, seed=2)
    add_readings(fresh, "s-dead", START, t, np.zeros_like(rh))
    add_readings(fresh, "s-ok", START, *_room(days, seed=3))
    add_readings(fresh, "s-other", START, *_room(days, seed=4))
    summary = score_homes(fresh, now=START + dt.timedelta(days=days))

    assert (summary.homes, summary.rooms) == (2, 3)
    by_room = {a.room_id: a for a in latest_for_rooms(fresh, uprn=1)}
    dead, kitchen = by_room[bad["Bedroom"]], by_room[bad["Kitchen"]]
    assert dead.band == "unknown"
    assert [f["kind"] for f in dead.details["faults"]] == ["implausible_values"]
    assert dead.coverage == 0.0
    assert kitchen.band == "green"
    assert kitchen.details["faults"] == []
    [other] = latest_for_rooms(fresh, uprn=2)
    assert other.band == "green"


@pytest.mark.postgres
def test_a_home_whose_rows_are_refused_leaves_the_others_scored(fresh: Conn) -> None:
    """When the database refuses one home's rows, the run still scores the other homes of the
    chunk, and the refused home is scored by the next run once its rows are accepted."""
    days = 3
    bad = {}
    for uprn in (1, 2, 3):
        rooms = add_home(
            fresh, uprn=uprn, placed_from=START, rooms=[("Bedroom", "bedroom", f"s-{uprn}")]
        )
        add_readings(fresh, f"s-{uprn}", START, *_room(days, seed=uprn))
        bad[uprn] = rooms["Bedroom"]
    # A real refusal, as a value the schema rejects would give.
    fresh.execute(
        sql.SQL(
            "ALTER TABLE room_daily_conditions ADD CONSTRAINT refuse_one CHECK (room_id <> {})"
        ).format(bad[2])
    )
    now = START + dt.timedelta(days=days)
    summary = score_homes(fresh, now=now)
    assert (summary.homes, summary.homes_failed) == (2, 1)
    scored = fresh.execute("SELECT DISTINCT uprn FROM risk_assessments ORDER BY uprn").fetchall()
    assert scored == [(1,), (3,)]

    fresh.execute("ALTER TABLE room_daily_conditions DROP CONSTRAINT refuse_one")
    again = score_homes(fresh, now=now)
    # Only the refused home's hours are new to the second run.
    assert (again.homes, again.homes_failed, again.hours_integrated) == (3, 0, days * 24)
    assert [a.uprn for a in latest_for_rooms(fresh, uprn=2)] == [2]


@pytest.mark.postgres
def test_readings_at_the_edges_of_the_sensor_range_are_scored(fresh: Conn) -> None:
    """Saturated air, frost, and the sensors' -40 and 85 °C limits give finite daily rows."""
    days = 3
    rooms = add_home(fresh, uprn=1, placed_from=START, rooms=[("Loft", "other", "s-edge")])
    n = days * PER_DAY
    t = np.resize([-40.0, -5.0, 0.0, 12.0, 85.0, 20.0], n)
    rh = np.resize([100.0, 100.0, 0.5, 99.9, 100.0, 1.0, 50.0], n)
    add_readings(fresh, "s-edge", START, t, rh, interval=dt.timedelta(hours=1) / 6)
    score_homes(fresh, now=START + dt.timedelta(days=days))

    rows = _daily_rows(fresh, rooms["Loft"])
    assert len(rows) == days
    for row in rows:
        assert row["hours_humidity_invalid"] == 0
        for name in SUM_COLUMNS + MIN_COLUMNS + MAX_COLUMNS:
            assert np.isfinite(row[name]), name
    [room] = latest_for_rooms(fresh, uprn=1)
    assert room.band in ("green", "amber", "red", "unknown")


def test_psychrometrics_are_missing_not_infinite_outside_real_air() -> None:
    """0 %RH (and anything outside 0.01 <= RH <= 100) gives NaN, never -inf, for every
    quantity."""
    rh = np.array([0.0, 0.005, -1.0, 100.5, np.nan])
    assert np.isnan(vapour_pressure_pa(20.0, rh)).all()
    assert np.isnan(dew_point_c(20.0, rh)).all()
    assert np.isnan(absolute_humidity_kg_m3(20.0, rh)).all()
    assert np.isnan(relative_humidity_pct(10.0, vapour_pressure_pa(20.0, rh))).all()


# Sensors report temperatures in steps of 0.01 °C or coarser.
TEMPERATURES = st.integers(round(TEMPERATURE_MIN_C * 100), round(TEMPERATURE_MAX_C * 100)).map(
    lambda centi: centi / 100.0
)
HUMIDITIES = st.one_of(
    st.floats(HUMIDITY_MIN_PCT, HUMIDITY_MAX_PCT),
    st.sampled_from([HUMIDITY_MIN_PCT, HUMIDITY_MAX_PCT]),  # the ends, often
)


@given(t=TEMPERATURES, rh=st.floats(MIN_HUMIDITY_PCT, HUMIDITY_MAX_PCT))
def test_psychrometrics_are_finite_over_the_ingest_range(t: float, rh: float) -> None:
    """Every reading ingest accepts with a physical RH gives a finite pressure, dew point, vapour
    content and surface humidity; the dew point never exceeds the air temperature."""
    pressure = vapour_pressure_pa(t, rh)
    dew = dew_point_c(t, rh)
    assert np.isfinite([pressure, dew, absolute_humidity_kg_m3(t, rh)]).all()
    assert dew <= t + 1e-9
    surface = relative_humidity_pct(TEMPERATURE_MIN_C, pressure)
    assert 0.0 < surface <= 100.0


HOURS = 30  # crosses a UTC day


@settings(deadline=None, max_examples=60)
@given(
    t=arrays(np.float64, (2, HOURS), elements=TEMPERATURES),
    rh=arrays(np.float64, (2, HOURS), elements=HUMIDITIES),
    outdoor_t=st.floats(-20.0, 35.0),
    outdoor_rh=HUMIDITIES,
    start_hour=st.integers(0, 23),
    gaps=arrays(np.bool_, (2, HOURS)),
)
def test_any_block_of_valid_readings_gives_finite_daily_sums(
    t: np.ndarray[Any, Any],
    rh: np.ndarray[Any, Any],
    outdoor_t: float,
    outdoor_rh: float,
    start_hour: int,
    gaps: np.ndarray[Any, Any],
) -> None:
    """Whatever hourly means within the ingest ranges (gaps included), every daily sum and
    count the database requires is finite, and the invalid hours are exactly those below the
    sensors' resolution (0 %RH)."""
    t = np.where(gaps, np.nan, t)
    first_hour = 490_000 + start_hour
    # Outdoor conditions reach the core through the climate grid, as in a run.
    out_t, out_rh, _ = outdoor_grid(
        np.arange(first_hour, first_hour + HOURS),
        np.full((1, HOURS), outdoor_t),
        np.full((1, HOURS), outdoor_rh),
    )
    block = HourlyBlock(
        start_hour=first_hour,
        temperature_c=t,
        humidity_pct=rh,
        readings=np.where(gaps, 0, 6),
        temperature_range_c=np.where(gaps, np.nan, 0.5),
        humidity_range_pct=np.where(gaps, np.nan, 1.0),
        outdoor_temperature_c=np.repeat(out_t, 2, axis=0),
        outdoor_humidity_pct=np.repeat(out_rh, 2, axis=0),
        temperature_factor=np.array([0.75, 0.4]),
    )
    result = integrate_block(block, RoomState.empty(2))
    columns, present = result.daily.columns, result.daily.present
    for name in SUM_COLUMNS:
        assert np.isfinite(columns[name][present]).all(), name
    for name in DAILY_COLUMNS:
        assert not np.isinf(columns[name]).any(), name
    heard = ~gaps
    assert columns["hours_observed"].sum() == heard.sum()
    assert columns["hours_humidity_invalid"].sum() == (heard & (rh < MIN_HUMIDITY_PCT)).sum()
    assert np.isfinite(result.state.mould.mould_index).all()
    assert (result.state.mould.mould_index >= 0).all()


@pytest.mark.parametrize("temperature_c", [0.0, 1e-221, 1e-14])
def test_growth_limit_just_above_freezing_at_saturation_is_finite(temperature_c: float) -> None:
    """M_max of a saturated surface at or a hair above 0 °C, where RH_crit is 100, is the top
    of the sensitivity class's range, A + B - C (found by the block test as 0/0)."""
    params = sensitivity_class("sensitive")
    assert maximum_index(temperature_c, 100.0) == pytest.approx(params.a + params.b - params.c)
    assert maximum_index(temperature_c, 90.0) >= 0.0
