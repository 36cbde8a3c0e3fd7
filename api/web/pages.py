"""The officers' pages: inbox, home, case, sensors and the regional overview."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import DbConn, runtime_of
from api.principal import HOME_ROLES
from api.queries import alerts as alert_queries
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


@router.get("/", response_class=HTMLResponse)
def inbox(request: Request, db: DbConn, user: WebUser) -> Response:
    """Homes and sensors that need someone, most urgent first."""
    templates = runtime_of(request).templates
    if user.role not in HOME_ROLES:
        return templates.TemplateResponse(
            request, "analyst_redirect.html", {"user": user}, status_code=200
        )
    page = alert_queries.list_alerts(db, borough=user.scope, limit=200)
    return templates.TemplateResponse(
        request, "inbox.html", {"user": user, "alerts": page.items, "causes": CAUSE_WORDS}
    )
