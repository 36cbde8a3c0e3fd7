"""Awaab's Law clocks of a case, computed from its events.

The Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025 (S.I.
2025/1042), made under section 10A of the Landlord and Tenant Act 1985 (inserted by s.42 of the
Social Housing (Regulation) Act 2023) and in force from 27 October 2025, set these periods from
the day the landlord becomes aware of a potential hazard:

- emergency hazard: investigate, and make safe, within 24 hours;
- significant (damp and mould) hazard: investigate within 10 working days (reg. 6); give the
  tenant a written summary within 3 working days of the investigation concluding (reg. 9);
  begin the relevant safety work within 5 working days of it; begin supplementary preventative
  (further) works, or take steps to begin them, within 5 working days, and physically begin
  them within 12 weeks.

Day zero is the day of awareness and day one the next working day (MHCLG, "Awaab's Law:
guidance for social landlords - timeframes for repairs in the social rented sector", October
2025, section 4.1.1 "Standard investigations").

Provenance, checked again in this project's sources (the text on legislation.gov.uk itself was
not reachable from them, so none of this has been read in the made instrument):

- title, S.I. number 2025/1042 and the in-force date: two independent secondary sources (one
  links legislation.gov.uk/uksi/2025/1042/contents/made; a costs tool cites "S.I. 2025/1042"),
  the date in several more (law firms, the Housing Ombudsman's hazards guidance);
- reg. 6 ("standard investigations", 10 working days) and reg. 9 ("written summary", 3 working
  days): one secondary source, a reference list linking
  legislation.gov.uk/uksi/2025/1042/regulation/6/made and .../regulation/9/made;
- the 24-hour emergency duties, the 5-working-day safety work, the 5-working-day steps and the
  12-week start of further works: the periods agree across law firms' summaries of the
  instrument and MHCLG's guidance, but no source found gives their regulation numbers, so the
  clocks below name the duty and cite no number. Add them once read on legislation.gov.uk.

How events act on the clocks (Dampwatch's reading of the regulations and MHCLG's guidance):

- satisfy: `investigation_completed` the investigation clock, `summary_sent` the summary,
  `safety_work_started` the safety-work clock, `safety_work_completed` the emergency make-safe
  clock, `further_works_scheduled` the further-works steps, `further_works_started` both
  further-works clocks;
- start: `investigation_completed` starts the summary clock, the safety-work clock when
  `detail.hazard_found` (default true), and the further-works clocks when
  `detail.further_works_required`; `hazard_escalated` starts the 24-hour clocks and
  supersedes the 10-working-day investigation;
- pause and move: `no_access` pauses every running clock (the landlord's evidence of
  reasonable endeavours, s.10A(5) of the 1985 Act); `access_agreed` resumes them with the
  deadline moved by the working days (or hours) lost;
- stop: `tenant_declined` stops the running clocks (or those named in `detail.clocks`),
  `decanted` stops the make-safe and safety-work clocks (the household is out of the hazard),
  `case_closed` stops whatever still runs; a clock stopped after its deadline stays breached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from alerts.case_records import Case, CaseEvent
from alerts.working_days import (
    add_working_days,
    end_of_day,
    london_date,
    working_days_between,
)

ClockStatus = Literal["on_track", "due_soon", "breached", "met", "met_late", "paused", "stopped"]

REGULATIONS = "Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025"


@dataclass(frozen=True, slots=True)
class ClockRule:
    name: str
    label: str
    regulation: str
    working_days: int | None = None
    hours: int | None = None
    calendar_days: int | None = None
    # How close to the deadline a clock turns "due soon".
    due_soon_working_days: int = 1
    due_soon_hours: int = 6


RULES: dict[str, ClockRule] = {
    rule.name: rule
    for rule in (
        ClockRule(
            "emergency_investigation",
            "Investigate the emergency hazard",
            f"{REGULATIONS}: emergency hazards, investigation within 24 hours",
            hours=24,
        ),
        ClockRule(
            "emergency_make_safe",
            "Make the home safe",
            f"{REGULATIONS}: emergency hazards, relevant safety work within 24 hours",
            hours=24,
        ),
        ClockRule(
            "investigation",
            "Investigate the hazard",
            f"{REGULATIONS}, reg. 6: investigation within 10 working days",
            working_days=10,
            due_soon_working_days=2,
        ),
        ClockRule(
            "written_summary",
            "Send the tenant a written summary",
            f"{REGULATIONS}, reg. 9: written summary within 3 working days of the "
            "investigation concluding",
            working_days=3,
        ),
        ClockRule(
            "safety_work",
            "Begin the relevant safety work",
            f"{REGULATIONS}: relevant safety work begun within 5 working days of the "
            "investigation concluding",
            working_days=5,
        ),
        ClockRule(
            "further_works_steps",
            "Begin further works, or take steps to begin them",
            f"{REGULATIONS}: supplementary preventative work begun, or steps taken to begin "
            "it, within 5 working days of the investigation concluding",
            working_days=5,
        ),
        ClockRule(
            "further_works_begun",
            "Physically begin the further works",
            f"{REGULATIONS}: supplementary preventative work physically begun within 12 weeks",
            calendar_days=7 * 12,
            due_soon_working_days=5,
        ),
    )
}

SATISFIED_BY: dict[str, tuple[str, ...]] = {
    "investigation_completed": ("investigation", "emergency_investigation"),
    "summary_sent": ("written_summary",),
    "safety_work_started": ("safety_work",),
    "safety_work_completed": ("safety_work", "emergency_make_safe"),
    "further_works_scheduled": ("further_works_steps",),
    "further_works_started": ("further_works_steps", "further_works_begun"),
}


@dataclass(frozen=True, slots=True)
class Clock:
    """One legal deadline of a case and where it stands at `now`."""

    name: str
    label: str
    regulation: str
    started_at: datetime
    # The deadline: the end of `due_date` in London for day-counted clocks, the exact instant
    # for the 24-hour ones.
    due_at: datetime
    due_date: date
    status: ClockStatus
    satisfied_at: datetime | None = None
    stopped_at: datetime | None = None
    reason: str | None = None


class _Running:
    """A clock being built while the events are replayed."""

    def __init__(self, rule: ClockRule, started_at: datetime) -> None:
        self.rule = rule
        self.started_at = started_at
        if rule.hours is not None:
            self.due_at = started_at + timedelta(hours=rule.hours)
            self.due_date = london_date(self.due_at)
        else:
            day_zero = london_date(started_at)
            if rule.working_days is not None:
                self.due_date = add_working_days(day_zero, rule.working_days)
            else:
                self.due_date = day_zero + timedelta(days=rule.calendar_days or 0)
            self.due_at = end_of_day(self.due_date)
        self.satisfied_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.paused_at: datetime | None = None
        self.reason: str | None = None

    @property
    def running(self) -> bool:
        return self.satisfied_at is None and self.stopped_at is None and self.paused_at is None

    def resume(self, at: datetime) -> None:
        if self.paused_at is None:
            return
        if self.rule.hours is not None:
            self.due_at += at - self.paused_at
            self.due_date = london_date(self.due_at)
        elif self.rule.working_days is not None:
            lost = working_days_between(london_date(self.paused_at), london_date(at))
            self.due_date = add_working_days(self.due_date, lost)
            self.due_at = end_of_day(self.due_date)
        else:
            self.due_date += london_date(at) - london_date(self.paused_at)
            self.due_at = end_of_day(self.due_date)
        self.paused_at = None
        self.reason = None

    def freeze(self, now: datetime) -> Clock:
        return Clock(
            name=self.rule.name,
            label=self.rule.label,
            regulation=self.rule.regulation,
            started_at=self.started_at,
            due_at=self.due_at,
            due_date=self.due_date,
            status=self._status(now),
            satisfied_at=self.satisfied_at,
            stopped_at=self.stopped_at or self.paused_at,
            reason=self.reason,
        )

    def _status(self, now: datetime) -> ClockStatus:
        if self.satisfied_at is not None:
            return "met" if self.satisfied_at < self.due_at else "met_late"
        ended = self.stopped_at or self.paused_at
        if ended is not None:
            if ended >= self.due_at:
                return "breached"
            return "stopped" if self.stopped_at is not None else "paused"
        if now >= self.due_at:
            return "breached"
        if self.rule.hours is not None:
            soon = now >= self.due_at - timedelta(hours=self.rule.due_soon_hours)
        else:
            left = working_days_between(london_date(now), self.due_date)
            soon = left <= self.rule.due_soon_working_days
        return "due_soon" if soon else "on_track"


def case_clocks(case: Case, now: datetime) -> list[Clock]:
    """Every clock the case's events have started, in the order they started."""
    clocks: dict[str, _Running] = {}

    def start(name: str, at: datetime) -> None:
        if name not in clocks:
            clocks[name] = _Running(RULES[name], at)

    if case.hazard == "emergency":
        start("emergency_investigation", case.aware_at)
        start("emergency_make_safe", case.aware_at)
    else:
        start("investigation", case.aware_at)

    for event in sorted(case.events, key=lambda e: (e.occurred_at, e.event_id)):
        _apply(event, clocks, start, emergency=case.hazard == "emergency")
    return [clock.freeze(now) for clock in clocks.values()]


def _apply(
    event: CaseEvent,
    clocks: dict[str, _Running],
    start: Callable[[str, datetime], None],
    *,
    emergency: bool,
) -> None:
    at = event.occurred_at
    for name in SATISFIED_BY.get(event.kind, ()):
        clock = clocks.get(name)
        if clock is not None and clock.satisfied_at is None and clock.stopped_at is None:
            clock.resume(at)
            clock.satisfied_at = at
    if event.kind == "investigation_completed":
        if not emergency and "emergency_investigation" not in clocks:
            start("written_summary", at)
        if event.detail.get("hazard_found", True):
            if "emergency_make_safe" not in clocks:
                start("safety_work", at)
        else:
            _stop(clocks, ("emergency_make_safe",), at, "the investigation found no hazard")
        if event.detail.get("further_works_required", False):
            start("further_works_steps", at)
            start("further_works_begun", at)
    elif event.kind == "hazard_escalated":
        _stop(clocks, ("investigation",), at, "superseded by the emergency timeframes")
        start("emergency_investigation", at)
        start("emergency_make_safe", at)
    elif event.kind == "no_access":
        for clock in clocks.values():
            if clock.running:
                clock.paused_at = at
                clock.reason = f"no access to the home since {at:%Y-%m-%d %H:%M} UTC"
    elif event.kind == "access_agreed":
        for clock in clocks.values():
            clock.resume(at)
    elif event.kind == "tenant_declined":
        named = event.detail.get("clocks")
        _stop(clocks, tuple(named) if named else tuple(clocks), at, "the tenant declined")
    elif event.kind == "decanted":
        reason = "the household moved to alternative accommodation"
        _stop(clocks, ("emergency_make_safe", "safety_work"), at, reason)
    elif event.kind == "case_closed":
        _stop(clocks, tuple(clocks), at, "the case was closed")


def _stop(clocks: dict[str, _Running], names: tuple[str, ...], at: datetime, why: str) -> None:
    for name in names:
        clock = clocks.get(name)
        if clock is None or clock.satisfied_at is not None or clock.stopped_at is not None:
            continue
        # A clock paused by no access and then stopped keeps the pause as its end.
        clock.stopped_at = clock.paused_at or at
        clock.paused_at = None
        clock.reason = why
