"""Awaab's Law cases: open one (from an alert or a report), record what happened, read clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from alerts import cases as case_store
from alerts.case_records import Case, CaseSource, EventKind, Hazard
from alerts.tenant_summary import draft_tenant_summary
from api import access
from api.deps import Actor, DbConn, HomeReader
from api.errors import ERROR_RESPONSES, ConflictError, InvalidRequestError, NotFoundError
from api.pagination import Cursor, Limit, Page, decode_cursor, encode_cursor
from api.principal import Principal
from api.queries import alerts as alert_queries
from api.queries import homes as home_queries
from api.queries.cases import CaseOut, ClockOut, EventOut, case_out, event_out
from api.routes.alerts import AlertId

router = APIRouter(prefix="/api/v1", tags=["cases"], responses=ERROR_RESPONSES)

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The case's id.")]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: ERROR_RESPONSES[404] | {"description": "The case is closed, or the alert has a case."}
}
SELECT_CASE_BOROUGH = "SELECT borough_code FROM cases WHERE case_id = %s"
# The API speaks the case vocabulary of alerts.case_records, so the two never drift apart.
Source = CaseSource


class CaseIn(BaseModel):
    uprn: int = Field(ge=1, le=999_999_999_999)
    hazard: Hazard = "significant"
    aware_at: AwareDatetime | None = Field(
        default=None, description="When the landlord became aware; default now."
    )
    alert_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    source: Source | None = Field(
        default=None, description="Default: environmental_sensor with an alert, else tenant_report."
    )
    description: str = Field(default="", max_length=4000)


class CaseFromAlertIn(BaseModel):
    hazard: Hazard = "significant"
    aware_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    description: str = Field(default="", max_length=4000)


class EventIn(BaseModel):
    kind: EventKind
    occurred_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    note: str = Field(default="", max_length=4000)
    detail: dict[str, Any] = Field(
        default_factory=dict,
        description="For investigation_completed: hazard_found, further_works_required "
        "(booleans); for tenant_declined: clocks (names).",
    )


class SummaryIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class EventRecorded(BaseModel):
    event: EventOut
    case: CaseOut


class TenantSummaryOut(BaseModel):
    """The written summary Awaab's Law requires within 3 working days of the investigation."""

    case_id: int
    reference: str = Field(examples=["DW-000042"])
    text: str = Field(description="Plain text: the saved edit if any, else a fresh draft.")
    html: str = Field(description="The same as a printable HTML fragment.")
    due_date: date | None = Field(
        description="Last day to send it; null until the investigation is completed."
    )
    edited: bool = Field(description="True when `text` is an officer's saved edit.")


@router.get("/cases", summary="List cases, newest first")
def list_cases(
    db: DbConn,
    principal: HomeReader,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    uprn: Annotated[int | None, Query(ge=1, le=999_999_999_999)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseOut]:
    """The caller's borough's cases with their clocks as of now."""
    before = None
    if cursor is not None:
        value = decode_cursor(cursor, size=1)[0]
        if not value.isdigit() or len(value) > 18:
            raise InvalidRequestError("the cursor is not one this API returned")
        before = int(value)
    found = case_store.list_cases(
        db,
        borough=principal.scope,
        status=status,
        uprn=uprn,
        before_case_id=before,
        limit=limit + 1,
    )
    now = datetime.now(UTC)
    items = [case_out(c, now=now) for c in found[:limit]]
    next_cursor = encode_cursor([items[-1].case_id]) if len(found) > limit else None
    access.list_read(db, principal, what="cases")
    return Page[CaseOut](items=items, next_cursor=next_cursor)


@router.post("/cases", summary="Open a case", status_code=201, responses=CONFLICT)
def open_case(body: CaseIn, db: DbConn, principal: Actor) -> CaseOut:
    """Open a case about a home of the caller's borough; its clocks run from `aware_at`."""
    home = home_queries.get_home(db, uprn=body.uprn, borough=principal.scope)
    if home is None:
        raise NotFoundError("no such home")
    if body.alert_id is not None:
        alert = alert_queries.get_alert(db, alert_id=body.alert_id, borough=principal.scope)
        if alert is None:
            raise NotFoundError("no such alert")
    case = _open(
        db,
        principal.actor,
        home.uprn,
        home.borough_code,
        body.hazard,
        body.aware_at,
        body.alert_id,
        body.source,
        body.description,
    )
    return case_out(case, now=datetime.now(UTC), address=home.address)


@router.post(
    "/alerts/{alert_id}/case",
    summary="Open a case from an alert",
    status_code=201,
    responses=CONFLICT,
    tags=["alerts"],
)
def open_case_from_alert(
    alert_id: AlertId, db: DbConn, principal: Actor, body: CaseFromAlertIn | None = None
) -> CaseOut:
    """The alert's home gets a case whose clocks run from now (or `aware_at`)."""
    request = body or CaseFromAlertIn()
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=principal.scope)
    if alert is None:
        raise NotFoundError("no such alert")
    if alert.uprn is None:
        raise InvalidRequestError("a case is about a home; this alert is about a sensor")
    case = _open(
        db,
        principal.actor,
        alert.uprn,
        alert.borough_code,
        request.hazard,
        request.aware_at,
        alert_id,
        None,
        request.description or alert.title,
    )
    return case_out(case, now=datetime.now(UTC), address=alert.address)


@router.get("/cases/{case_id}", summary="One case with its events and clocks")
def get_case(case_id: CaseId, db: DbConn, principal: HomeReader) -> CaseOut:
    return _read_case(db, case_id, principal, "case")


@router.get("/cases/{case_id}/events", summary="A case's events in the order they happened")
def list_events(case_id: CaseId, db: DbConn, principal: HomeReader) -> list[EventOut]:
    return _read_case(db, case_id, principal, "case_events").events


@router.get("/cases/{case_id}/clocks", summary="A case's Awaab's Law clocks now")
def list_clocks(case_id: CaseId, db: DbConn, principal: HomeReader) -> list[ClockOut]:
    return _read_case(db, case_id, principal, "case_clocks").clocks


@router.post(
    "/cases/{case_id}/events",
    summary="Record what happened",
    status_code=201,
    responses=CONFLICT,
)
def record_event(case_id: CaseId, body: EventIn, db: DbConn, principal: Actor) -> EventRecorded:
    """Append an event (the record is append-only); the clocks move accordingly."""
    try:
        event = case_store.record_event(
            db,
            case_id=case_id,
            kind=body.kind,
            occurred_at=body.occurred_at or datetime.now(UTC),
            recorded_by=principal.actor,
            note=body.note,
            detail=body.detail,
            borough=principal.scope,
        )
    except case_store.CaseNotFoundError as err:
        raise NotFoundError("no such case") from err
    except case_store.CaseClosedError as err:
        raise ConflictError(str(err)) from err
    except case_store.CaseError as err:
        raise InvalidRequestError(str(err)) from err
    db.commit()
    return EventRecorded(event=event_out(event), case=_case(db, case_id, principal.scope))


@router.get("/cases/{case_id}/summary", summary="The tenant's written summary, or a draft")
def get_summary(case_id: CaseId, db: DbConn, principal: HomeReader) -> TenantSummaryOut:
    """The saved summary, else a draft from the case's events and clocks, never blaming the
    household; edit it with PUT, and record sending it as a `summary_sent` event."""
    try:
        summary = draft_tenant_summary(
            db, case_id=case_id, now=datetime.now(UTC), borough=principal.scope
        )
    except case_store.CaseNotFoundError as err:
        raise NotFoundError("no such case") from err
    row = db.execute(SELECT_CASE_BOROUGH, (case_id,)).fetchone()
    access.subject_read(
        db, principal, "case", case_id, borough_code=row[0] if row else None, what="summary"
    )
    return TenantSummaryOut(
        case_id=summary.case_id,
        reference=summary.reference,
        text=summary.text,
        html=summary.html,
        due_date=summary.due_date,
        edited=summary.edited,
    )


@router.put("/cases/{case_id}/summary", summary="Save the tenant's written summary")
def save_summary(case_id: CaseId, body: SummaryIn, db: DbConn, principal: Actor) -> CaseOut:
    """Keep the edited summary text; sending it is a `summary_sent` event."""
    try:
        case_store.save_summary(
            db,
            case_id=case_id,
            text=body.text,
            saved_by=principal.actor,
            borough=principal.scope,
        )
    except case_store.CaseNotFoundError as err:
        raise NotFoundError("no such case") from err
    db.commit()
    return _case(db, case_id, principal.scope)


def _read_case(db: DbConn, case_id: int, principal: Principal, what: str) -> CaseOut:
    case = _case(db, case_id, principal.scope)
    access.subject_read(db, principal, "case", case_id, borough_code=case.borough_code, what=what)
    return case


def _case(db: DbConn, case_id: int, borough: str | None) -> CaseOut:
    try:
        case = case_store.get_case(db, case_id=case_id, borough=borough)
    except case_store.CaseNotFoundError as err:
        raise NotFoundError("no such case") from err
    home = home_queries.get_home(db, uprn=case.uprn, borough=borough)
    return case_out(case, now=datetime.now(UTC), address=home.address if home else None)


def _open(
    db: DbConn,
    actor: str,
    uprn: int,
    borough_code: str,
    hazard: str,
    aware_at: datetime | None,
    alert_id: int | None,
    source: str | None,
    description: str,
) -> Case:
    try:
        case = case_store.open_case(
            db,
            uprn=uprn,
            borough_code=borough_code,
            hazard=hazard,
            aware_at=aware_at or datetime.now(UTC),
            opened_by=actor,
            alert_id=alert_id,
            source=source,
            description=description,
        )
    except case_store.CaseExistsError as err:
        raise ConflictError(f"the alert already has case {err.case_id}") from err
    except case_store.CaseError as err:
        raise InvalidRequestError(str(err)) from err
    db.commit()
    return case_store.get_case(db, case_id=case.case_id)
