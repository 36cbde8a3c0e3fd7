"""Cases and their events as values: what the database holds, and what the clocks read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Hazard = Literal["emergency", "significant"]
CaseSource = Literal["environmental_sensor", "tenant_report", "staff_report", "routine_check"]
CaseStatus = Literal["open", "closed"]
EventKind = Literal[
    "investigation_booked",
    "investigation_completed",
    "summary_sent",
    "safety_work_started",
    "safety_work_completed",
    "further_works_scheduled",
    "further_works_started",
    "further_works_completed",
    "no_access",
    "access_agreed",
    "tenant_declined",
    "decanted",
    "hazard_escalated",
    "note",
    "case_closed",
]
HAZARDS: tuple[str, ...] = ("emergency", "significant")
CASE_SOURCES: tuple[str, ...] = (
    "environmental_sensor",
    "tenant_report",
    "staff_report",
    "routine_check",
)
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """Something that happened on a case, when it happened, and who recorded it.

    `detail` carries what the kind needs, e.g. for `investigation_completed`:
    {"hazard_found": true, "further_works_required": true, "findings": "...",
     "hazards": ["damp and mould"], "safety_work": "...", "further_works": "..."}.
    """

    event_id: int
    case_id: int
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    note: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    """A damp-and-mould hazard the landlord is aware of, from an alert or a report."""

    case_id: int
    reference: str
    borough_code: str
    uprn: int
    alert_id: int | None
    source: str
    hazard: str
    status: str
    aware_at: datetime
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    description: str
    summary_text: str | None
    updated_at: datetime
    events: tuple[CaseEvent, ...] = field(default=())
