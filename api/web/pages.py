"""The officers' pages: inbox, home, alert, cases, sensors and the regional overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from alerts import cases as case_store
from alerts.tenant_summary import draft_tenant_summary
from api import access
from api.deps import DbConn, runtime_of
from api.principal import HOME_ROLES, Principal, Role
from api.queries import alerts as alert_queries
from api.queries import boroughs as borough_queries
from api.queries import homes as home_queries
from api.queries import sensors as sensor_queries
from api.queries.cases import case_out
from api.routes.alerts import AlertId
from api.routes.cases import CaseId
from api.routes.homes import Uprn
from api.web.home_charts import home_charts
from api.web.login import WebUser

router = APIRouter(include_in_schema=False)

CAUSE_WORDS = {
    "moisture": "More moisture than the ventilation removes",
    "under_heating": "Rooms kept too cold for the moisture in them",
    "cold_fabric": "Cold walls or windows (building fabric)",
    "mixed": "Several causes together",
    "none": "No cause found",
    "unknown": "Not enough data yet",
}
WINDOWS_DAYS = (7, 30, 90)


def _render(
    request: Request, user: Principal, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    templates = runtime_of(request).templates
    return templates.TemplateResponse(
        request, name, {"user": user, "causes": CAUSE_WORDS, **context}, status_code=status
    )


def not_found_page(request: Request, user: Principal, what: str) -> Response:
    return _render(request, user, "not_found.html", {"what": what}, status=404)


def _officers_only(request: Request, user: Principal) -> Response | None:
    if user.role in HOME_ROLES:
        return None
    return _render(request, user, "analyst_redirect.html", {}, status=403)


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, db: DbConn, user: WebUser) -> Response:
    """Homes and sensors that need someone, most urgent first."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    page = alert_queries.list_alerts(db, borough=user.scope, limit=200)
    access.list_read(db, user, what="web:inbox")
    return _render(request, user, "inbox.html", {"alerts": page.items, "active": "inbox"})


@router.get("/homes/{uprn}", response_class=HTMLResponse)
def home_page(
    request: Request, uprn: Uprn, db: DbConn, user: WebUser, days: int = 30, room: int | None = None
) -> Response:
    """A home: its risk in words, charts of one room, open alerts and cases."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    home = home_queries.get_home(db, uprn=uprn, borough=user.scope)
    if home is None:
        return not_found_page(request, user, "home")
    days = days if days in WINDOWS_DAYS else 30
    rooms = sorted(home.rooms, key=lambda r: -(r.risk.score if r.risk else -1))
    chosen = next((r for r in rooms if r.room_id == room), rooms[0] if rooms else None)
    zone = ZoneInfo(runtime_of(request).settings.default_time_zone)
    now = datetime.now(UTC)
    charts = (
        home_charts(db, home, chosen, start=now - timedelta(days=days), end=now, zone=zone)
        if chosen
        else []
    )
    alerts = alert_queries.list_alerts(db, borough=user.scope, uprn=uprn, limit=50).items
    cases = [case_out(c, now=now) for c in case_store.list_cases(db, borough=user.scope, uprn=uprn)]
    access.subject_read(db, user, "home", uprn, borough_code=home.borough_code, what="web:home")
    return _render(
        request,
        user,
        "home.html",
        {
            "home": home,
            "rooms": rooms,
            "room": chosen,
            "days": days,
            "windows": WINDOWS_DAYS,
            "charts": charts,
            "alerts": alerts,
            "cases": cases,
            "active": "inbox",
        },
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: AlertId, db: DbConn, user: WebUser) -> Response:
    """One alert, why it was raised, and the actions: acknowledge, open a case."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    alert = alert_queries.get_alert(db, alert_id=alert_id, borough=user.scope)
    if alert is None:
        return not_found_page(request, user, "alert")
    existing = db.execute("SELECT case_id FROM cases WHERE alert_id = %s", (alert_id,)).fetchone()
    access.subject_read(
        db, user, "alert", alert_id, borough_code=alert.borough_code, what="web:alert"
    )
    return _render(
        request,
        user,
        "alert.html",
        {"alert": alert, "case_id": existing[0] if existing else None, "active": "inbox"},
    )


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, db: DbConn, user: WebUser, status: str = "open") -> Response:
    """Cases with their most pressing clock, breached first."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    now = datetime.now(UTC)
    wanted = status if status in ("open", "closed") else None
    cases = [
        case_out(c, now=now) for c in case_store.list_cases(db, borough=user.scope, status=wanted)
    ]
    order = {"breached": 0, "due_soon": 1, "paused": 2, "on_track": 3, None: 4}
    cases.sort(key=lambda c: (order.get(c.worst_clock, 4), c.case_id))
    access.list_read(db, user, what="web:cases")
    return _render(
        request, user, "cases.html", {"cases": cases, "status": wanted, "active": "cases"}
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId, db: DbConn, user: WebUser) -> Response:
    """A case: its Awaab's Law clocks, what happened, and a form to record the next event."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    try:
        case = case_store.get_case(db, case_id=case_id, borough=user.scope)
    except case_store.CaseNotFoundError:
        return not_found_page(request, user, "case")
    home = home_queries.get_home(db, uprn=case.uprn, borough=user.scope)
    now = datetime.now(UTC)
    view = case_out(case, now=now, address=home.address if home else None)
    summary = draft_tenant_summary(db, case_id=case_id, now=now, borough=user.scope)
    access.subject_read(db, user, "case", case_id, borough_code=case.borough_code, what="web:case")
    return _render(
        request,
        user,
        "case.html",
        {
            "case": view,
            "home": home,
            "summary": summary,
            "event_kinds": EVENT_CHOICES,
            "notice": request.query_params.get("notice"),
            "active": "cases",
        },
    )


@router.get("/sensors", response_class=HTMLResponse)
def sensors_page(
    request: Request, db: DbConn, user: WebUser, health: str | None = None
) -> Response:
    """Sensor health: the unplaced, silent, faulty and flat ones first."""
    if (refused := _officers_only(request, user)) is not None:
        return refused
    wanted = sensor_queries.Health(health) if health in set(sensor_queries.Health) else None
    sensors = sensor_queries.list_sensors(
        db, borough=user.scope, now=datetime.now(UTC), health=wanted, limit=500
    ).items
    order = {"unplaced": 0, "offline": 1, "fault": 2, "battery_low": 3, "ok": 4}
    sensors.sort(key=lambda s: (order[s.health.value], s.sensor_id))
    counts: dict[str, int] = {}
    for sensor in sensors:
        counts[sensor.health.value] = counts.get(sensor.health.value, 0) + 1
    return _render(
        request,
        user,
        "sensors.html",
        {"sensors": sensors, "counts": counts, "health": wanted, "active": "sensors"},
    )


@router.get("/regional", response_class=HTMLResponse)
def regional_page(request: Request, db: DbConn, user: WebUser) -> Response:
    """Every borough's figures, for regional analysts and admins: no addresses, no UPRNs."""
    if user.role not in (Role.REGIONAL_ANALYST, Role.ADMIN):
        return not_found_page(request, user, "page")
    summaries = borough_queries.borough_summaries(db, borough=None, now=datetime.now(UTC))
    active = [s for s in summaries if s.homes > 0]
    totals = {
        key: sum(getattr(s, key) for s in active)
        for key in ("homes", "homes_red", "homes_amber", "alerts_active", "sensors_offline")
    }
    return _render(
        request,
        user,
        "regional.html",
        {"summaries": active, "totals": totals, "active": "regional"},
    )


EVENT_CHOICES = [
    ("investigation_booked", "Investigation booked"),
    ("investigation_completed", "Investigation completed"),
    ("summary_sent", "Written summary sent to the tenant"),
    ("safety_work_started", "Safety work started"),
    ("safety_work_completed", "Safety work completed"),
    ("further_works_scheduled", "Further works scheduled"),
    ("further_works_started", "Further works started"),
    ("further_works_completed", "Further works completed"),
    ("no_access", "No access to the home"),
    ("access_agreed", "Access agreed"),
    ("tenant_declined", "Tenant declined"),
    ("decanted", "Household moved out (decanted)"),
    ("hazard_escalated", "Hazard escalated to emergency"),
    ("note", "Note"),
    ("case_closed", "Close the case"),
]
