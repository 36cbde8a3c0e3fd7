"""A home's readings: raw or hourly, any time range (full history), in the caller's time zone.

Each answer is an access to the home's data and is written to the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import access
from api.deps import DbConn, HomeReader, TimeZone
from api.errors import ERROR_RESPONSES, InvalidRequestError, NotFoundError
from api.pagination import Cursor
from api.queries import homes as home_queries
from api.queries import hourly
from api.queries import readings as reading_queries
from api.queries.hourly import HourlyPage
from api.queries.readings import ReadingPage
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
HourLimit = Annotated[
    int,
    Query(ge=1, le=MAX_READINGS_PAGE, description="Hours of time per page (5,000: 7 months)."),
]


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
    borough_code = home_queries.home_borough(db, uprn=uprn, borough=principal.scope)
    if borough_code is None:
        raise NotFoundError("no such home")
    page = reading_queries.raw_readings(
        db,
        uprn=uprn,
        room_id=room_id,
        start=start_at,
        end=end_at,
        zone=zone,
        limit=limit,
        cursor=cursor,
    )
    access.subject_read(db, principal, "home", uprn, borough_code=borough_code, what="readings")
    return page


@router.get(
    "/{uprn}/readings/hourly",
    summary="A home's readings by hour, with derived values",
    response_model=HourlyPage,
)
def get_hourly_readings(
    uprn: Uprn,
    db: DbConn,
    principal: HomeReader,
    zone: TimeZone,
    room_id: RoomFilter = None,
    start: Start = None,
    end: End = None,
    limit: HourLimit = 5000,
    cursor: Cursor = None,
) -> Response:
    """Each room's hourly means, extremes, dew point and coldest-surface estimate, as columns
    on one axis of hours in the caller's zone. The window is widened to whole hours."""
    start_at, end_at = _window(start, end, zone)
    try:
        series = hourly.hourly_series(
            db,
            uprn=uprn,
            borough=principal.scope,
            room_id=room_id,
            start=start_at,
            end=end_at,
            zone=zone,
            limit=limit,
            cursor=cursor,
        )
    except hourly.HomeNotFoundError as err:
        raise NotFoundError("no such home") from err
    access.subject_read(
        db, principal, "home", uprn, borough_code=series.borough_code, what="readings_hourly"
    )
    return Response(hourly.encode_page(series), media_type="application/json")


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
