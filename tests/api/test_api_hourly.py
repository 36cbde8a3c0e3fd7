"""The hourly readings endpoint: rollup and raw readings together equal a GROUP BY by hour.

A home of its own: two rooms, one sensor staying in the bedroom, one moved from the bedroom to
the living room at 10:20 (mid-hour), readings every ten minutes over two days up to now. The
rollup is refreshed, more readings arrive after it, and the endpoint's answer is compared with
the hourly means of the readings computed directly, room by room, in the caller's zone.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.queries.hourly import iso_times, whole_hour_offsets
from store.rollups import refresh_hourly
from tests.api.world import BOROUGH_A, World, bearer

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]
STEP = timedelta(minutes=10)

# The same question answered without the rollup: each reading in the room its sensor was in.
DIRECT_HOURS = """
    SELECT p.room_id, date_trunc('hour', r.recorded_at, %(tz)s) AS hour_start,
           avg(r.temperature_c)::float8, avg(r.humidity_pct)::float8,
           min(r.temperature_c)::float8, max(r.humidity_pct)::float8, count(*)
    FROM rooms rm
    JOIN sensor_placements p ON p.room_id = rm.room_id
    JOIN readings r ON r.sensor_id = p.sensor_id AND r.recorded_at >= p.valid_from
                   AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
    WHERE rm.uprn = %(uprn)s AND r.recorded_at >= %(start)s AND r.recorded_at < %(end)s
    GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Home:
    uprn: int
    bedroom_id: int
    living_room_id: int
    start: datetime
    end: datetime


def _insert_readings(conn: Conn, sensor_id: str, start: datetime, end: datetime) -> None:
    rng = random.Random(sensor_id)
    rows = []
    at = start
    while at < end:
        rows.append((sensor_id, at, 15 + rng.random() * 8, 55 + rng.random() * 40))
        at += STEP
    months = sorted({start, end})
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            rows,
        )


@pytest.fixture(scope="module")
def home(api_database_url: str, world: World) -> Home:
    """A home whose second sensor moved rooms mid-hour, read through the rollup and past it."""
    uprn = world.a.uprns[0] + 50
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = (now - timedelta(days=2)).replace(minute=3)
    moved_at = (now - timedelta(days=1)).replace(hour=10, minute=20)
    with psycopg.connect(api_database_url) as conn:
        conn.execute(
            "INSERT INTO homes (uprn, borough_code, address, temperature_factor) "
            "VALUES (%s, %s, 'Hourly House', 0.7)",
            (uprn, BOROUGH_A),
        )
        rooms = [
            int(r[0])
            for r in conn.execute(
                "INSERT INTO rooms (uprn, name, kind) VALUES (%s, 'Bedroom', 'bedroom'), "
                "(%s, 'Living room', 'living_room') RETURNING room_id",
                (uprn, uprn),
            )
        ]
        for sensor_id in (f"h-{uprn}-1", f"h-{uprn}-2"):
            conn.execute(
                "INSERT INTO sensors (sensor_id, borough_code) VALUES (%s, %s)",
                (sensor_id, BOROUGH_A),
            )
        conn.execute(
            """INSERT INTO sensor_placements (sensor_id, room_id, valid_from, valid_to) VALUES
               (%s, %s, %s, NULL), (%s, %s, %s, %s), (%s, %s, %s, NULL)""",
            (
                *(f"h-{uprn}-1", rooms[0], start - timedelta(days=1)),
                *(f"h-{uprn}-2", rooms[0], start - timedelta(days=1), moved_at),
                *(f"h-{uprn}-2", rooms[1], moved_at),
            ),
        )
        # The last readings come after the refresh, inside the newest hour (which the refresh
        # leaves to `readings`): an hour the refresh rolled up would wait for the next one.
        split = max(now - timedelta(minutes=30), now.replace(minute=0))
        for sensor_id in (f"h-{uprn}-1", f"h-{uprn}-2"):
            _insert_readings(conn, sensor_id, start, split)
        conn.commit()
        refresh_hourly(conn, now=datetime.now(UTC))
        conn.commit()
        # Readings after the refresh: the newest hour must come from readings, not the rollup.
        for sensor_id in (f"h-{uprn}-1", f"h-{uprn}-2"):
            _insert_readings(conn, sensor_id, split, now)
        conn.commit()
    return Home(uprn, rooms[0], rooms[1], start, now)


def _direct(conn: Conn, home: Home, zone: ZoneInfo, start: datetime, end: datetime) -> list[Any]:
    return conn.execute(
        DIRECT_HOURS, {"tz": zone.key, "uprn": home.uprn, "start": start, "end": end}
    ).fetchall()


def _served(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The answer's columns back as (room, hour, temperature, humidity, min, max, n) rows."""
    hours = [datetime.fromisoformat(h) for h in body["hour_start"]]
    rows = []
    for room in body["rooms"]:
        for i, at in enumerate(hours):
            if room["readings"][i]:
                rows.append(
                    (
                        room["room_id"],
                        at,
                        room["temperature_c"][i],
                        room["humidity_pct"][i],
                        room["temperature_min_c"][i],
                        room["humidity_max_pct"][i],
                        room["readings"][i],
                    )
                )
    return sorted(rows)


def _assert_same_hours(served: list[tuple[Any, ...]], direct: list[Any]) -> None:
    assert [(r[0], r[1], r[6]) for r in served] == [(d[0], d[1], d[6]) for d in direct]
    for got, want in zip(served, direct, strict=True):
        assert got[2:6] == pytest.approx([round(v, 2) for v in want[2:6]], abs=0.0051)


@pytest.mark.parametrize("zone_name", ["Europe/London", "America/New_York", "Asia/Kolkata"])
def test_hourly_readings_equal_hourly_means_of_the_readings(
    client: TestClient, world: World, db: Conn, home: Home, zone_name: str
) -> None:
    """Rollup, moved-sensor part-hours and unrolled newest hours add up to a plain GROUP BY."""
    zone = ZoneInfo(zone_name)
    start = home.start - timedelta(minutes=20)
    response = client.get(
        f"/api/v1/homes/{home.uprn}/readings/hourly",
        params={"start": start.isoformat(), "end": home.end.isoformat(), "tz": zone_name},
        headers=bearer(world.keys["officer_a"]),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["time_zone"] == zone_name
    assert body["next_cursor"] is None
    served = _served(body)
    direct = _direct(db, home, zone, start - timedelta(hours=1), home.end + timedelta(hours=1))
    _assert_same_hours(served, direct)
    assert {r[0] for r in served} == {home.bedroom_id, home.living_room_id}
    assert len(served) > 48 + 10  # the bedroom for two days, the living room since the move


def test_hourly_pages_together_are_the_whole_window(
    client: TestClient, world: World, home: Home
) -> None:
    """Pages of 7 hours, followed by their cursors, give the hours of one big page."""
    params = {"start": home.start.isoformat(), "end": home.end.isoformat()}
    headers = bearer(world.keys["system_a"])
    url = f"/api/v1/homes/{home.uprn}/readings/hourly"
    whole = _served(client.get(url, params=params, headers=headers).json())
    paged: list[tuple[Any, ...]] = []
    cursor = None
    pages = 0
    while True:
        query = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        body = client.get(url, params=query, headers=headers).json()
        paged += _served(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(paged) == whole
    assert pages >= 48 // 7


def test_hourly_room_filter_gives_one_room(client: TestClient, world: World, home: Home) -> None:
    """`room_id` narrows the answer to that room's columns."""
    response = client.get(
        f"/api/v1/homes/{home.uprn}/readings/hourly",
        params={"room_id": home.living_room_id, "start": home.start.isoformat()},
        headers=bearer(world.keys["officer_a"]),
    )
    assert [r["room_id"] for r in response.json()["rooms"]] == [home.living_room_id]


def test_hourly_answer_is_columns_on_one_axis(client: TestClient, world: World, home: Home) -> None:
    """Every column has one value per hour of the axis, and the axis is in the caller's zone."""
    response = client.get(
        f"/api/v1/homes/{home.uprn}/readings/hourly",
        params={"start": home.start.isoformat(), "tz": "America/New_York"},
        headers=bearer(world.keys["officer_a"]),
    )
    body = response.json()
    hours = body["hour_start"]
    assert len(body["outdoor_temperature_c"]) == len(hours)
    assert all(len(v) == len(hours) for r in body["rooms"] for k, v in r.items() if k != "room_id")
    assert all(h.endswith(("-05:00", "-04:00")) for h in hours)
    assert hours == sorted(hours, key=datetime.fromisoformat)


def test_iso_times_match_python_across_a_clock_change() -> None:
    """The vectorised formatting agrees with datetime.isoformat through both DST changes."""
    zone = ZoneInfo("Europe/London")
    start = datetime(2026, 3, 28, tzinfo=UTC)
    every_hour = [start.timestamp() + h * 3600 for h in range(24 * 220)]
    with_gaps = [e for i, e in enumerate(every_hour) if i % 7 not in (2, 3)]
    for epochs in (every_hour, with_gaps, every_hour):  # the last one from the cache
        formatted = iso_times(np.array(epochs), zone)
        assert formatted == [datetime.fromtimestamp(e, zone).isoformat() for e in epochs]


def test_half_hour_zones_are_not_read_from_utc_hours() -> None:
    """Only zones a whole number of hours from UTC can use the rollup's hours."""
    week = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    assert whole_hour_offsets(ZoneInfo("Europe/London"), *week)
    assert not whole_hour_offsets(ZoneInfo("Asia/Kolkata"), *week)
    # Lord Howe Island is UTC+11 in its summer and moves its clocks back half an hour in April.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    assert whole_hour_offsets(lord_howe, *week)
    assert not whole_hour_offsets(lord_howe, week[0], datetime(2026, 4, 30, tzinfo=UTC))


def test_home_page_charts_ninety_days_in_three_hour_buckets(
    client: TestClient, world: World, home: Home, api_database_url: str
) -> None:
    """The 90-day chart draws buckets of three hours: fewer points, same readings."""
    from api.sessions import open_session

    with psycopg.connect(api_database_url) as conn:
        user = conn.execute(
            "SELECT user_id FROM users WHERE email = %s", (world.officer_email,)
        ).fetchone()
        assert user is not None
        token = open_session(conn, user_id=user[0], ttl=timedelta(hours=1))
        conn.commit()
    cookies = {"Cookie": f"dw_session={token}"}
    week = client.get(f"/homes/{home.uprn}?days=7&room={home.bedroom_id}", headers=cookies)
    quarter = client.get(f"/homes/{home.uprn}?days=90&room={home.bedroom_id}", headers=cookies)
    assert week.status_code == quarter.status_code == 200
    assert "chart-temperature" in quarter.text
    # Two days of readings: ~48 hourly points a series over a week, ~16 over 90 days.
    assert 0 < _plotted_points(quarter.text) < _plotted_points(week.text) / 2


def _plotted_points(page: str) -> int:
    return sum(len(points.split()) for points in re.findall(r'points="([^"]*)"', page))
