"""Homes with their latest risk, rooms and the sensors placed in them now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError
from api.pagination import Page, decode_cursor, paginate
from api.queries.risk import LATEST_HOME_RISK, LATEST_ROOM_RISK, RiskOut

HOME_ROWS = sql.SQL(
    """
    SELECT h.uprn, h.borough_code, h.address, h.postcode, h.archetype, h.wall_type,
           h.construction_era, h.floor_level, h.temperature_factor,
           {latest_risk} AS risk,
           (SELECT count(*) FROM alerts a
             WHERE a.uprn = h.uprn AND a.status <> 'cleared') AS active_alerts
    FROM homes h
    WHERE (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
      AND (%(uprn)s::bigint IS NULL OR h.uprn = %(uprn)s)
      AND h.uprn > %(after)s
      AND (%(band)s::text IS NULL OR {latest_risk} ->> 'band' = %(band)s)
    ORDER BY h.uprn
    LIMIT %(limit)s
    """
).format(latest_risk=sql.SQL(LATEST_HOME_RISK))

ROOM_ROWS = sql.SQL(
    """
    SELECT rm.room_id, rm.name, rm.kind,
           {latest_risk} AS risk,
           coalesce((SELECT array_agg(p.sensor_id ORDER BY p.sensor_id)
                       FROM sensor_placements p
                      WHERE p.room_id = rm.room_id AND p.valid_to IS NULL), '{{}}') AS sensor_ids
    FROM rooms rm
    WHERE rm.uprn = %(uprn)s
    ORDER BY rm.name
    """
).format(latest_risk=sql.SQL(LATEST_ROOM_RISK))


class HomeOut(BaseModel):
    """A home, keyed by its UPRN, with its latest risk."""

    uprn: int = Field(examples=[100021234567])
    borough_code: str = Field(examples=["E09000009"])
    address: str | None = Field(examples=["Flat 3, 12 Example Road"])
    postcode: str | None = Field(examples=["W5 1AA"])
    archetype: str = Field(examples=["1960s_tower_block"])
    wall_type: str | None
    construction_era: str | None
    floor_level: int | None
    temperature_factor: float | None = Field(
        description="Temperature factor f of the coldest surface (BS EN ISO 13788); null: "
        "the model's default."
    )
    risk: RiskOut | None = Field(description="Latest home-level risk; null if never scored.")
    active_alerts: int = Field(description="Alerts open or acknowledged.")


class RoomOut(BaseModel):
    room_id: int
    name: str = Field(examples=["Bedroom 1"])
    kind: str = Field(examples=["bedroom"])
    risk: RiskOut | None
    sensor_ids: list[str] = Field(description="Sensors placed in this room now.")


class HomeDetail(HomeOut):
    rooms: list[RoomOut]


def list_homes(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    band: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[HomeOut]:
    """A page of homes in UPRN order, optionally only those of one risk band."""
    after = 0
    if cursor is not None:
        value = decode_cursor(cursor, size=1)[0]
        if not value.isdigit():
            raise InvalidRequestError("the cursor is not one this API returned")
        after = int(value)
    params = {"borough": borough, "uprn": None, "after": after, "limit": limit + 1, "band": band}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(HOME_ROWS, params)
        rows = cur.fetchall()
    return paginate(rows, limit, ["uprn"], HomeOut)


def get_home(conn: psycopg.Connection[Any], *, uprn: int, borough: str | None) -> HomeDetail | None:
    """A home with its rooms, or None if it does not exist or is in another borough."""
    params = {"borough": borough, "uprn": uprn, "after": 0, "limit": 1, "band": None}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(HOME_ROWS, params)
        home = cur.fetchone()
        if home is None:
            return None
        cur.execute(ROOM_ROWS, {"uprn": uprn})
        rooms = cur.fetchall()
    return HomeDetail.model_validate({**home, "rooms": rooms})


def home_exists(conn: psycopg.Connection[Any], *, uprn: int, borough: str | None) -> bool:
    row = conn.execute(
        "SELECT 1 FROM homes WHERE uprn = %s AND (%s::text IS NULL OR borough_code = %s)",
        (uprn, borough, borough),
    ).fetchone()
    return row is not None


def home_borough(conn: psycopg.Connection[Any], *, uprn: int, borough: str | None) -> str | None:
    """The home's borough, or None if there is no such home in `borough` (None: any)."""
    row = conn.execute(
        "SELECT borough_code FROM homes "
        "WHERE uprn = %s AND (%s::text IS NULL OR borough_code = %s)",
        (uprn, borough, borough),
    ).fetchone()
    return None if row is None else str(row[0])


def home_last_reading_at(conn: psycopg.Connection[Any], *, uprn: int) -> datetime | None:
    row = conn.execute(
        """
        SELECT max(s.last_recorded_at) FROM sensor_placements p
        JOIN rooms rm USING (room_id) JOIN sensors s USING (sensor_id)
        WHERE rm.uprn = %s
        """,
        (uprn,),
    ).fetchone()
    return None if row is None else row[0]
