"""Cases in the shape of the damp-and-mould data model (MHCLG Local Digital with HACT).

The model (github.com/data-futurists/damp-and-mould-standards-concept, "Awaab's Law data
model", proof of concept, June 2025) keys investigations on the property's UPRN and codes what
triggered them in its `trigger_source` list, one of whose values is "Environmental Sensor".
One row here is one Dampwatch case flattened from the model's `investigation`,
`hazard_report` and `investigation_hazard` tables, with the model's column names and code-list
values. What Dampwatch does not hold (tenancy ids, investigator names, photos) is left empty;
columns of its own are prefixed `dampwatch_`. Booleans follow the model's JSON schema (true or
false); dates are ISO 8601 calendar dates in England's time.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import psycopg

from alerts.audit import write_audit
from alerts.case_records import Case, CaseEvent
from alerts.cases import list_cases
from alerts.clocks import case_clocks
from alerts.working_days import london_date

# The model's trigger_source code list.
TRIGGER_SOURCES = {
    "environmental_sensor": "Environmental Sensor",
    "tenant_report": "Tenant Report",
    "staff_report": "Staff Report",
    "routine_check": "Routine Check",
}
# The model's severity code list (High, Medium, Low), from the alert's band.
SEVERITIES = {"red": "High", "amber": "Medium", "info": "Low"}

COLUMNS = (
    "investigation_reference",
    "hazard_report_reference",
    "uprn",
    "tenancy_id",
    "trigger_source",
    "investigation_type",
    "hazard_type",
    "severity",
    "date_reported",
    "investigation_scheduled_date",
    "investigation_completed_date",
    "hazard_confirmed",
    "repair_required",
    "emergency_action_taken",
    "made_safe_date",
    "further_work_required",
    "further_work_due_date",
    "sla_breach_flag",
    "notification_sent_to_tenant",
    "report_status",
    "investigation_notes",
    "dampwatch_case_id",
    "dampwatch_borough_code",
    "dampwatch_alert_id",
    "dampwatch_next_deadline",
)

SELECT_ALERT_SEVERITIES = "SELECT alert_id, severity FROM alerts WHERE alert_id = ANY (%s)"


def cases_export(
    conn: psycopg.Connection[Any],
    *,
    borough: str,
    now: datetime | None = None,
    actor: str = "dampwatch:export",
) -> list[dict[str, Any]]:
    """Every case of one borough, oldest first, one dict per case with COLUMNS as keys."""
    now = now or datetime.now(UTC)
    cases: list[Case] = []
    before: int | None = None
    while page := list_cases(conn, borough=borough, before_case_id=before, limit=1000):
        cases.extend(page)
        before = page[-1].case_id
    cases.reverse()
    alert_ids = [c.alert_id for c in cases if c.alert_id is not None]
    severities = dict(conn.execute(SELECT_ALERT_SEVERITIES, (alert_ids,)).fetchall())
    rows = [_row(case, severities.get(case.alert_id), now) for case in cases]
    write_audit(
        conn,
        actor=actor,
        action="export.cases",
        subject_type="borough",
        subject_id=borough,
        borough_code=borough,
        detail={"cases": len(rows)},
    )
    return rows


def cases_csv(
    conn: psycopg.Connection[Any],
    *,
    borough: str,
    now: datetime | None = None,
    actor: str = "dampwatch:export",
) -> str:
    """The same export as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in cases_export(conn, borough=borough, now=now, actor=actor):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _first(case: Case, kind: str) -> CaseEvent | None:
    return next((e for e in case.events if e.kind == kind), None)


def _date(event: CaseEvent | None) -> str | None:
    return None if event is None else london_date(event.occurred_at).isoformat()


def _row(case: Case, alert_severity: str | None, now: datetime) -> dict[str, Any]:
    clocks = case_clocks(case, now)
    investigated = _first(case, "investigation_completed")
    booked = [e for e in case.events if e.kind == "investigation_booked"]
    made_safe = _first(case, "safety_work_completed")
    emergency = case.hazard == "emergency" or _first(case, "hazard_escalated") is not None
    detail = {} if investigated is None else investigated.detail
    hazard_found = None if investigated is None else bool(detail.get("hazard_found", True))
    further = bool(detail.get("further_works_required", False))
    further_clock = next((c for c in clocks if c.name == "further_works_begun"), None)
    running = sorted(
        (c for c in clocks if c.status in ("on_track", "due_soon", "breached")),
        key=lambda c: c.due_at,
    )
    if case.status == "closed":
        status = "Closed"
    elif made_safe is not None or _first(case, "safety_work_started") is not None:
        status = "Made Safe"
    elif investigated is not None:
        status = "Under Review"
    else:
        status = "Open"
    scheduled = booked[-1] if booked else None
    scheduled_for = None if scheduled is None else scheduled.detail.get("scheduled_for")
    return {
        "investigation_reference": case.reference,
        "hazard_report_reference": case.reference,
        "uprn": str(case.uprn),
        "tenancy_id": None,
        "trigger_source": TRIGGER_SOURCES[case.source],
        "investigation_type": "Emergency" if emergency else "Standard",
        "hazard_type": "Damp and mould",
        "severity": "High" if emergency else SEVERITIES.get(alert_severity or ""),
        "date_reported": london_date(case.aware_at).isoformat(),
        "investigation_scheduled_date": scheduled_for or _date(scheduled),
        "investigation_completed_date": _date(investigated),
        "hazard_confirmed": hazard_found,
        "repair_required": None if hazard_found is None else (hazard_found or further),
        "emergency_action_taken": emergency and made_safe is not None,
        "made_safe_date": _date(made_safe),
        "further_work_required": further,
        "further_work_due_date": None
        if further_clock is None
        else further_clock.due_date.isoformat(),
        "sla_breach_flag": any(c.status in ("breached", "met_late") for c in clocks),
        "notification_sent_to_tenant": _first(case, "summary_sent") is not None,
        "report_status": status,
        "investigation_notes": detail.get("findings") or case.description or None,
        "dampwatch_case_id": case.case_id,
        "dampwatch_borough_code": case.borough_code,
        "dampwatch_alert_id": case.alert_id,
        "dampwatch_next_deadline": running[0].due_at.isoformat() if running else None,
    }
