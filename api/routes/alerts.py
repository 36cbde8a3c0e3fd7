"""Alerts: the inbox of what needs someone, most urgent first, and acknowledging one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from alerts import records as alert_records
from alerts.audit import write_audit
from api import access
from api.deps import Actor, DbConn, HomeReader
from api.errors import ERROR_RESPONSES, ConflictError, NotFoundError
from api.pagination import Cursor, Limit, Page
from api.queries import alerts as alert_queries
from api.queries.alerts import AlertOut, AlertSort, AlertStatusFilter

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=ERROR_RESPONSES)

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The alert's id.")]
KINDS = "^(damp_mould|cold_home|sensor_offline|sensor_fault|battery_low|unplaced_sensor)$"


class Acknowledgement(BaseModel):
    note: str = Field(default="", max_length=2000, description="Why, or what happens next.")


@router.get("", summary="List alerts, most urgent first")
def list_alerts(
    db: DbConn,
    principal: HomeReader,
    status: AlertStatusFilter = AlertStatusFilter.ACTIVE,
    kind: Annotated[str | None, Query(pattern=KINDS)] = None,
    severity: Annotated[str | None, Query(pattern="^(info|amber|red)$")] = None,
    uprn: Annotated[int | None, Query(ge=1, le=999_999_999_999)] = None,
    sort: AlertSort = AlertSort.URGENCY,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AlertOut]:
    """Alerts in the caller's borough. `active` (the default) means open or acknowledged."""
    page = alert_queries.list_alerts(
        db,
        borough=principal.scope,
        status=status,
        kind=kind,
        severity=severity,
        uprn=uprn,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    access.list_read(db, principal, what="alerts")
    return page


@router.get("/{alert_id}", summary="One alert")
def get_alert(alert_id: AlertId, db: DbConn, principal: HomeReader) -> AlertOut:
    """An alert of the caller's borough; 404 for any other borough's."""
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=principal.scope)
    if alert is None:
        raise NotFoundError("no such alert")
    access.subject_read(
        db, principal, "alert", alert_id, borough_code=alert.borough_code, what="alert"
    )
    return alert


@router.post(
    "/{alert_id}/acknowledge",
    summary="Acknowledge an open alert",
    responses={409: ERROR_RESPONSES[404] | {"description": "The alert is not open."}},
)
def acknowledge_alert(
    alert_id: AlertId,
    db: DbConn,
    principal: Actor,
    body: Annotated[Acknowledgement | None, Body()] = None,
) -> AlertOut:
    """Say someone is on it: the alert stays in the inbox, marked acknowledged, and audited."""
    note = body.note if body is not None else ""
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=principal.scope)
    if alert is None:
        raise NotFoundError("no such alert")
    try:
        alert_records.acknowledge_alert(
            db, alert_id=alert_id, actor=principal.actor, now=datetime.now(UTC)
        )
    except alert_records.AlertNotFoundError as err:
        raise ConflictError(f"the alert is {alert.status}, not open") from err
    if note:
        write_audit(
            db,
            actor=principal.actor,
            action="alert.note",
            subject_type="alert",
            subject_id=alert_id,
            borough_code=alert.borough_code,
            detail={"note": note},
        )
    db.commit()
    acknowledged = alert_queries.get_alert(db, alert_id=alert_id, borough=principal.scope)
    if acknowledged is None:
        raise NotFoundError("no such alert")
    return acknowledged
