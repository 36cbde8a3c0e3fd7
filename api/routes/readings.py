"""A home's readings: raw or hourly, any time range (full history), in the caller's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DbConn, HomeReader, TimeZone
from api.errors import ERROR_RESPONSES, InvalidRequestError, NotFoundError
from api.pagination import Cursor
from api.queries import homes as home_queries
from api.queries import readings as reading_queries
from api.queries.readings import HourlyPage, ReadingPage
from api.routes.homes import Uprn

router = APIRouter(prefix="/api/v1/homes", tags=["readings"], responses=ERROR_RESPONSES)

MAX_READINGS_PAGE = 10_000
DEFAULT_WINDOW = timedelta(days=7)

RoomFilter = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="Only this room; omit for all rooms.")
]
Start = Annotated[
    datetime | None,
    Query(description="Inclusive; RFC 3339. Default: `end` minus 7 days. Any age is allowed."),
]
End = Annotated[datetime | None, Query(description="Exclusive; RFC 3339. Default: now.")]
ReadingLimit = Annotated[int, Query(ge=1, le=MAX_READINGS_PAGE, description="Items per page.")]


class Resolution(StrEnum):
    RAW = "raw"
    HOURLY = "hourly"


@router.get("/{uprn}/readings", summary="A home's readings, raw")
def get_readings(
    uprn: Uprn,
    db: DbConn,
    principal: HomeReader,
    zone: TimeZone,
    room_id: RoomFilter = None,
    start: Start = None,
    end: End = None,
    limit: ReadingLimit = 1000,
    cursor: Cursor = None,
) -> ReadingPage:
    """Every reading in [start, end), oldest first, each under the room its sensor was in."""
    start_at, end_at = _window(start, end, zone)
    _check_home(db, uprn, principal.scope)
    return reading_queries.raw_readings(
        db,
        uprn=uprn,
        room_id=room_id,
        start=start_at,
        end=end_at,
        zone=zone,
        limit=limit,
        cursor=cursor,
    )


@router.get("/{uprn}/readings/hourly", summary="A home's readings by hour, with derived values")
def get_hourly_readings(
    uprn: Uprn,
    db: DbConn,
    principal: HomeReader,
    zone: TimeZone,
    room_id: RoomFilter = None,
    start: Start = None,
    end: End = None,
    limit: ReadingLimit = 5000,
    cursor: Cursor = None,
) -> HourlyPage:
    """Hourly means per room in the caller's zone, with dew point and surface RH."""
    start_at, end_at = _window(start, end, zone)
    _check_home(db, uprn, principal.scope)
    return reading_queries.hourly_readings(
        db,
        uprn=uprn,
        room_id=room_id,
        start=start_at,
        end=end_at,
        zone=zone,
        limit=limit,
        cursor=cursor,
    )


def _window(
    start: datetime | None, end: datetime | None, zone: TimeZone
) -> tuple[datetime, datetime]:
    """Resolve defaults; a time without an offset is read in the caller's zone."""
    end_at = _aware(end, zone) if end is not None else datetime.now(UTC)
    start_at = _aware(start, zone) if start is not None else end_at - DEFAULT_WINDOW
    if start_at >= end_at:
        raise InvalidRequestError("start must be before end")
    return start_at, end_at


def _aware(value: datetime, zone: TimeZone) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if not (datetime(1970, 1, 1, tzinfo=UTC) <= aware <= datetime(9000, 1, 1, tzinfo=UTC)):
        raise InvalidRequestError("times must be between 1970 and 9000")
    return aware


def _check_home(db: DbConn, uprn: int, borough: str | None) -> None:
    if not home_queries.home_exists(db, uprn=uprn, borough=borough):
        raise NotFoundError("no such home")
