"""Cases as the API shows them: alerts.cases' values with their clocks, as pydantic models."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from alerts.case_records import Case, CaseEvent
from alerts.clocks import case_clocks


class ClockOut(BaseModel):
    """One Awaab's Law deadline of a case and where it stands now."""

    name: str = Field(examples=["investigation"])
    label: str = Field(examples=["Investigate the hazard"])
    regulation: str
    started_at: datetime
    due_at: datetime = Field(description="The deadline (end of the due day in London).")
    due_date: date
    status: str = Field(
        examples=["on_track"],
        description="on_track, due_soon, breached, met, met_late, paused or stopped.",
    )
    satisfied_at: datetime | None
    stopped_at: datetime | None
    reason: str | None


class EventOut(BaseModel):
    event_id: int
    case_id: int
    kind: str = Field(examples=["investigation_completed"])
    occurred_at: datetime = Field(description="When it happened; this drives the clocks.")
    recorded_at: datetime
    recorded_by: str
    note: str
    detail: dict[str, Any]


class CaseOut(BaseModel):
    case_id: int
    reference: str = Field(examples=["DW-000042"])
    borough_code: str
    uprn: int
    address: str | None = None
    alert_id: int | None
    source: str = Field(examples=["environmental_sensor"])
    hazard: str = Field(examples=["significant"], description="emergency or significant.")
    status: str = Field(examples=["open"])
    aware_at: datetime = Field(description="When the landlord became aware: day zero.")
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None
    description: str
    summary_text: str | None
    updated_at: datetime
    clocks: list[ClockOut]
    events: list[EventOut]
    worst_clock: str | None = Field(
        description="The most pressing clock status: breached, due_soon, on_track, or null."
    )


URGENCY = ("breached", "due_soon", "paused", "on_track")


def case_out(case: Case, *, now: datetime, address: str | None = None) -> CaseOut:
    clocks = [ClockOut.model_validate(asdict(c)) for c in case_clocks(case, now)]
    live = {c.status for c in clocks}
    worst = next((s for s in URGENCY if s in live), None)
    return CaseOut.model_validate(
        asdict(case) | {"address": address, "clocks": clocks, "worst_clock": worst}
    )


def event_out(event: CaseEvent) -> EventOut:
    return EventOut.model_validate(asdict(event))
