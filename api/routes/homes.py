"""Homes: the list with latest risk, one home with its rooms, and its risk history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from api import access
from api.deps import DbConn, HomeReader
from api.errors import ERROR_RESPONSES, InvalidRequestError, NotFoundError
from api.pagination import Cursor, Limit, Page
from api.queries import homes as home_queries
from api.queries.homes import HomeDetail, HomeOut, RoomOut
from api.queries.risk import RiskPoint, risk_history

router = APIRouter(prefix="/api/v1/homes", tags=["homes"], responses=ERROR_RESPONSES)

Uprn = Annotated[int, Path(ge=1, le=999_999_999_999, description="The home's UPRN.")]
BAND = "^(green|amber|red|unknown)$"


@router.get("", summary="List homes with their latest risk")
def list_homes(
    db: DbConn,
    principal: HomeReader,
    band: Annotated[str | None, Query(pattern=BAND, description="Only this risk band.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[HomeOut]:
    """Homes in the caller's borough in UPRN order."""
    page = home_queries.list_homes(
        db, borough=principal.scope, band=band, limit=limit, cursor=cursor
    )
    access.list_read(db, principal, what="homes")
    return page


@router.get("/{uprn}", summary="One home, its rooms and their latest risk")
def get_home(uprn: Uprn, db: DbConn, principal: HomeReader) -> HomeDetail:
    """A home of the caller's borough; 404 for any other borough's."""
    home = home_queries.get_home(db, uprn=uprn, borough=principal.scope)
    if home is None:
        raise NotFoundError("no such home")
    access.subject_read(db, principal, "home", uprn, borough_code=home.borough_code, what="home")
    return home


@router.get("/{uprn}/rooms", summary="A home's rooms, their sensors and latest risk")
def list_rooms(uprn: Uprn, db: DbConn, principal: HomeReader) -> list[RoomOut]:
    home = home_queries.get_home(db, uprn=uprn, borough=principal.scope)
    if home is None:
        raise NotFoundError("no such home")
    access.subject_read(db, principal, "home", uprn, borough_code=home.borough_code, what="rooms")
    return home.rooms


@router.get("/{uprn}/risk", summary="A home's or a room's risk over time")
def get_risk_history(
    uprn: Uprn,
    db: DbConn,
    principal: HomeReader,
    room_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="A room; omit for the home.")
    ] = None,
    start: Annotated[AwareDatetime | None, Query(description="Default: 90 days ago.")] = None,
    end: Annotated[AwareDatetime | None, Query(description="Default: now.")] = None,
) -> list[RiskPoint]:
    """Every assessment in the window, oldest first."""
    end_at = end or datetime.now(UTC)
    start_at = start or end_at - timedelta(days=90)
    if start_at >= end_at:
        raise InvalidRequestError("start must be before end")
    borough_code = home_queries.home_borough(db, uprn=uprn, borough=principal.scope)
    if borough_code is None:
        raise NotFoundError("no such home")
    history = risk_history(
        db, uprn=uprn, borough=principal.scope, room_id=room_id, start=start_at, end=end_at
    )
    access.subject_read(db, principal, "home", uprn, borough_code=borough_code, what="risk")
    return history
