"""What officers do from the pages: acknowledge an alert, open a case, record an event, save
the tenant's written summary.

Each action is an HTML form POSTed with the session's CSRF token, then a redirect (303) to the
page that shows the result, so a browser refresh never repeats an action.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from alerts import cases as case_store
from alerts import records as alert_records
from api.deps import DbConn, runtime_of
from api.principal import ACTING_ROLES
from api.queries import alerts as alert_queries
from api.routes.alerts import AlertId
from api.routes.cases import CaseId
from api.web.login import FormUser
from api.web.pages import not_found_page

router = APIRouter(include_in_schema=False)

SELECT_CASE_FOR_ALERT = "SELECT case_id FROM cases WHERE alert_id = %s"


def _back(path: str, notice: str | None = None) -> Response:
    suffix = f"?notice={quote(notice)}" if notice else ""
    return RedirectResponse(f"{path}{suffix}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: AlertId, db: DbConn, user: FormUser) -> Response:
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=user.scope)
    if alert is None or user.role not in ACTING_ROLES:
        return not_found_page(request, user, "alert")
    try:
        alert_records.acknowledge_alert(
            db, alert_id=alert_id, actor=user.actor, now=datetime.now(UTC)
        )
    except alert_records.AlertNotFoundError:
        return _back(f"/alerts/{alert_id}", "The alert was no longer open.")
    db.commit()
    return _back(f"/alerts/{alert_id}", "Acknowledged.")


@router.post("/alerts/{alert_id}/case")
def open_case(
    request: Request,
    alert_id: AlertId,
    db: DbConn,
    user: FormUser,
    hazard: Annotated[str, Form(pattern="^(emergency|significant)$")] = "significant",
) -> Response:
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=user.scope)
    if alert is None or alert.uprn is None or user.role not in ACTING_ROLES:
        return not_found_page(request, user, "alert")
    try:
        case = case_store.open_case(
            db,
            uprn=alert.uprn,
            borough_code=alert.borough_code,
            hazard=hazard,
            aware_at=datetime.now(UTC),
            opened_by=user.actor,
            alert_id=alert_id,
            description=alert.title,
        )
    except case_store.CaseExistsError as err:
        return _back(f"/cases/{err.case_id}")
    db.commit()
    return _back(f"/cases/{case.case_id}", "Case opened: the clocks are running.")


@router.post("/cases/{case_id}/events")
def record_event(
    request: Request,
    case_id: CaseId,
    db: DbConn,
    user: FormUser,
    kind: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=4000)] = "",
    occurred_at: Annotated[str, Form(max_length=32)] = "",
    hazard_found: Annotated[bool, Form()] = False,
    further_works_required: Annotated[bool, Form()] = False,
) -> Response:
    if user.role not in ACTING_ROLES:
        return not_found_page(request, user, "case")
    zone = ZoneInfo(runtime_of(request).settings.default_time_zone)
    try:
        # <input type="datetime-local"> sends local wall-clock time without an offset.
        at = datetime.fromisoformat(occurred_at).replace(tzinfo=zone) if occurred_at else None
    except ValueError:
        return _back(f"/cases/{case_id}", "That date and time could not be read.")
    detail: dict[str, bool] = {}
    if kind == "investigation_completed":
        detail = {"hazard_found": hazard_found, "further_works_required": further_works_required}
    try:
        case_store.record_event(
            db,
            case_id=case_id,
            kind=kind,
            occurred_at=at or datetime.now(UTC),
            recorded_by=user.actor,
            note=note,
            detail=detail,
            borough=user.scope,
        )
    except case_store.CaseNotFoundError:
        return not_found_page(request, user, "case")
    except case_store.CaseError as err:
        return _back(f"/cases/{case_id}", str(err))
    db.commit()
    return _back(f"/cases/{case_id}", "Recorded.")


@router.post("/cases/{case_id}/summary")
def save_summary(
    request: Request,
    case_id: CaseId,
    db: DbConn,
    user: FormUser,
    text: Annotated[str, Form(min_length=1, max_length=20_000)],
) -> Response:
    """Keep the officer's edit of the written summary; sending it is a `summary_sent` event."""
    if user.role not in ACTING_ROLES:
        return not_found_page(request, user, "case")
    try:
        case_store.save_summary(
            db, case_id=case_id, text=text, saved_by=user.actor, borough=user.scope
        )
    except case_store.CaseNotFoundError:
        return not_found_page(request, user, "case")
    db.commit()
    return _back(f"/cases/{case_id}", "Summary saved. Record when it is sent.")
