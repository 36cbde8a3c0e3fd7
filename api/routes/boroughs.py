"""Boroughs: the list, one borough's figures, the regional overview, and CSV exports.

Exports are a borough's full history by default; each is written to the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from alerts.export import cases_csv
from api import access
from api.deps import CurrentPrincipal, DbConn, HomeReader, runtime_of
from api.errors import ERROR_RESPONSES, ForbiddenError, InvalidRequestError, NotFoundError
from api.principal import Principal, Role
from api.queries import boroughs as borough_queries
from api.queries import exports
from api.queries.boroughs import BoroughOut, BoroughSummary

router = APIRouter(prefix="/api/v1", tags=["boroughs"], responses=ERROR_RESPONSES)

GssCode = Annotated[str, Path(pattern=r"^E09[0-9]{6}$", description="ONS GSS code.")]
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row."}
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ExportStart = Annotated[
    datetime | None, Query(description="Inclusive, RFC 3339 with offset; default: all history.")
]
ExportEnd = Annotated[datetime | None, Query(description="Exclusive; default: now.")]


@router.get("/boroughs", summary="The boroughs Dampwatch knows")
def list_boroughs(db: DbConn, principal: CurrentPrincipal) -> list[BoroughOut]:
    """All 33 London boroughs by name with their ONS GSS codes."""
    return borough_queries.list_boroughs(db)


@router.get("/boroughs/{gss_code}", summary="One borough's figures")
def get_borough(gss_code: GssCode, db: DbConn, principal: CurrentPrincipal) -> BoroughSummary:
    """Counts of homes by risk band, alerts and sensors; 404 for another borough's."""
    _check_borough(principal, gss_code)
    summaries = borough_queries.borough_summaries(db, borough=gss_code, now=datetime.now(UTC))
    if not summaries:
        raise NotFoundError("no such borough")
    return summaries[0]


@router.get("/regional/overview", summary="Figures for every borough", tags=["regional"])
def regional_overview(db: DbConn, principal: CurrentPrincipal) -> list[BoroughSummary]:
    """For regional analysts and admins: each borough's counts, never an address or UPRN."""
    if principal.role not in (Role.REGIONAL_ANALYST, Role.ADMIN):
        raise ForbiddenError("the regional overview is for regional analysts and admins")
    return borough_queries.borough_summaries(db, borough=None, now=datetime.now(UTC))


@router.get(
    "/boroughs/{gss_code}/exports/readings.csv",
    summary="Export a borough's readings",
    response_class=StreamingResponse,
    responses=CSV,
    tags=["exports"],
)
def export_readings(
    gss_code: GssCode,
    request: Request,
    db: DbConn,
    principal: HomeReader,
    start: ExportStart = None,
    end: ExportEnd = None,
) -> StreamingResponse:
    """Every reading of the borough's homes in [start, end), by home, room and time (UTC)."""
    _check_export(db, principal, gss_code)
    start_at, end_at = _window(start, end)
    pool = runtime_of(request).pool
    if pool is None:
        raise RuntimeError("the pool opens in the app's lifespan")
    access.list_read(db, principal, what="export:readings", borough_code=gss_code)
    # The stream reads on a connection of its own, after this request's has gone back.
    return StreamingResponse(
        exports.stream_readings_csv(pool, borough=gss_code, start=start_at, end=end_at),
        media_type="text/csv",
        headers=_attachment(f"readings-{gss_code}.csv"),
    )


@router.get(
    "/boroughs/{gss_code}/exports/alerts.csv",
    summary="Export a borough's alerts",
    response_class=Response,
    responses=CSV,
    tags=["exports"],
)
def export_alerts(
    gss_code: GssCode,
    db: DbConn,
    principal: HomeReader,
    start: ExportStart = None,
    end: ExportEnd = None,
) -> Response:
    """Every alert raised in [start, end), cleared ones included."""
    _check_export(db, principal, gss_code)
    start_at, end_at = _window(start, end)
    text = exports.alerts_csv(db, borough=gss_code, start=start_at, end=end_at)
    access.list_read(db, principal, what="export:alerts", borough_code=gss_code)
    return Response(text, media_type="text/csv", headers=_attachment(f"alerts-{gss_code}.csv"))


@router.get(
    "/boroughs/{gss_code}/exports/cases.csv",
    summary="Export a borough's cases in the damp-and-mould data model",
    response_class=Response,
    responses=CSV,
    tags=["exports"],
)
def export_cases(gss_code: GssCode, db: DbConn, principal: HomeReader) -> Response:
    """Every case of the borough, oldest first, one row each, in the columns and code lists of
    the MHCLG/HACT damp-and-mould data model, with the clocks as of now."""
    _check_export(db, principal, gss_code)
    text = cases_csv(db, borough=gss_code, now=datetime.now(UTC), actor=principal.actor)
    return Response(text, media_type="text/csv", headers=_attachment(f"cases-{gss_code}.csv"))


def _check_export(db: DbConn, principal: Principal, gss_code: str) -> None:
    """The caller's own borough (any, for an admin), and one that exists."""
    _check_borough(principal, gss_code)
    if db.execute("SELECT 1 FROM boroughs WHERE gss_code = %s", (gss_code,)).fetchone() is None:
        raise NotFoundError("no such borough")


def _check_borough(principal: Principal, gss_code: str) -> None:
    """Another borough's figures or exports are as absent as its homes."""
    if principal.scope is not None and principal.scope != gss_code:
        raise NotFoundError("no such borough")


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    start_at = start or EPOCH
    end_at = end or datetime.now(UTC)
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise InvalidRequestError("times need a UTC offset")
    if start_at >= end_at:
        raise InvalidRequestError("start must be before end")
    return start_at, end_at


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
