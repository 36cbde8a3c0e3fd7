"""Awaab's Law clocks against dates computed by hand from England's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from alerts.case_records import Case, CaseEvent
from alerts.clocks import Clock, case_clocks
from alerts.working_days import add_working_days, is_working_day


def _case(hazard: str, aware_at: datetime, *events: tuple[str, datetime, dict[str, Any]]) -> Case:
    return Case(
        case_id=1,
        reference="DW-000001",
        borough_code="E09000012",
        uprn=100,
        alert_id=None,
        source="tenant_report",
        hazard=hazard,
        status="open",
        aware_at=aware_at,
        opened_at=aware_at,
        opened_by="officer@example.org",
        closed_at=None,
        description="",
        summary_text=None,
        updated_at=aware_at,
        events=tuple(
            CaseEvent(
                event_id=i,
                case_id=1,
                kind=kind,
                occurred_at=at,
                recorded_at=at,
                recorded_by="officer@example.org",
                note="",
                detail=detail,
            )
            for i, (kind, at, detail) in enumerate(events, start=1)
        ),
    )


def _by_name(clocks: list[Clock]) -> dict[str, Clock]:
    return {c.name: c for c in clocks}


def _utc(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def test_bank_holidays_and_weekends_are_not_working_days() -> None:
    """Christmas, Boxing Day (observed), Good Friday and a Saturday are all skipped."""
    assert not is_working_day(date(2025, 12, 25))
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day 2026 falls on a Saturday
    assert not is_working_day(date(2026, 4, 3))
    assert not is_working_day(date(2026, 3, 7))
    assert is_working_day(date(2026, 3, 9))


def test_investigation_across_christmas_is_due_on_8_january() -> None:
    """Aware Mon 22 Dec 2025: 23, 24, 29, 30, 31 Dec, 2, 5, 6, 7, 8 Jan are the ten days."""
    clocks = _by_name(case_clocks(_case("significant", _utc(2025, 12, 22)), _utc(2025, 12, 22)))
    investigation = clocks["investigation"]
    assert investigation.due_date == date(2026, 1, 8)
    assert investigation.due_at == datetime(2026, 1, 9, 0, 0, tzinfo=UTC)  # GMT in winter
    assert investigation.status == "on_track"


def test_summary_across_easter_is_due_on_the_thursday_after() -> None:
    """Investigation ends Thu 2 Apr 2026: Good Friday and Easter Monday skipped, due Thu 9."""
    case = _case(
        "significant",
        _utc(2026, 3, 25),
        ("investigation_completed", _utc(2026, 4, 2), {"hazard_found": True}),
    )
    clocks = _by_name(case_clocks(case, _utc(2026, 4, 2, 12)))
    summary = clocks["written_summary"]
    assert summary.due_date == date(2026, 4, 9)
    # British Summer Time: the end of 9 April in London is 23:00 UTC.
    assert summary.due_at == datetime(2026, 4, 9, 23, 0, tzinfo=UTC)
    assert clocks["safety_work"].due_date == date(2026, 4, 13)  # 7, 8, 9, 10, 13 April
    assert clocks["investigation"].status == "met"


def test_a_report_on_saturday_counts_from_monday() -> None:
    """Aware Fri 6 or Sat 7 Mar 2026: either way the tenth working day is Fri 20 Mar."""
    for aware in (_utc(2026, 3, 6), _utc(2026, 3, 7)):
        clocks = _by_name(case_clocks(_case("significant", aware), aware))
        assert clocks["investigation"].due_date == date(2026, 3, 20)
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)


def test_emergency_clock_is_24_calendar_hours_over_a_weekend() -> None:
    """Aware Fri 18:00: the 24 hours end Sat 18:00, weekend or not."""
    aware = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    clocks = _by_name(case_clocks(_case("emergency", aware), aware + timedelta(hours=19)))
    assert clocks["emergency_investigation"].due_at == aware + timedelta(hours=24)
    assert clocks["emergency_make_safe"].status == "due_soon"
    assert "investigation" not in clocks


def test_missed_investigation_shows_as_breached_and_late_completion_as_met_late() -> None:
    """After the tenth working day the clock is breached; completing it later is met late."""
    aware = _utc(2026, 3, 6)
    late = _by_name(case_clocks(_case("significant", aware), _utc(2026, 3, 21)))
    assert late["investigation"].status == "breached"
    done_late = _case(
        "significant", aware, ("investigation_completed", _utc(2026, 3, 23), {"hazard_found": True})
    )
    assert _by_name(case_clocks(done_late, _utc(2026, 3, 24)))["investigation"].status == (
        "met_late"
    )


def test_due_soon_within_two_working_days_of_the_investigation_deadline() -> None:
    """Due Fri 20 Mar: on track on Tue 17, due soon from Wed 18."""
    case = _case("significant", _utc(2026, 3, 6))
    assert _by_name(case_clocks(case, _utc(2026, 3, 17)))["investigation"].status == "on_track"
    assert _by_name(case_clocks(case, _utc(2026, 3, 18)))["investigation"].status == "due_soon"


def test_events_satisfy_summary_safety_and_further_works() -> None:
    """Each event meets its own clock; further works get 5 working days and 12 weeks."""
    concluded = _utc(2026, 1, 7)
    case = _case(
        "significant",
        _utc(2025, 12, 22),
        (
            "investigation_completed",
            concluded,
            {"hazard_found": True, "further_works_required": True},
        ),
        ("summary_sent", _utc(2026, 1, 9), {}),
        ("safety_work_started", _utc(2026, 1, 12), {}),
        ("further_works_scheduled", _utc(2026, 1, 13), {}),
    )
    clocks = _by_name(case_clocks(case, _utc(2026, 2, 1)))
    assert {n: c.status for n, c in clocks.items()} == {
        "investigation": "met",
        "written_summary": "met",
        "safety_work": "met",
        "further_works_steps": "met",
        "further_works_begun": "on_track",
    }
    assert clocks["written_summary"].due_date == date(2026, 1, 12)
    assert clocks["further_works_begun"].due_date == date(2026, 4, 1)  # 7 Jan + 84 days


def test_no_hazard_found_starts_no_safety_work_clock() -> None:
    """An investigation that finds nothing still owes the summary, but no works."""
    case = _case(
        "significant",
        _utc(2026, 3, 6),
        ("investigation_completed", _utc(2026, 3, 10), {"hazard_found": False}),
    )
    assert set(_by_name(case_clocks(case, _utc(2026, 3, 10)))) == {
        "investigation",
        "written_summary",
    }


def test_no_access_pauses_and_access_moves_the_deadline_by_the_days_lost() -> None:
    """Paused Mon 9 to Mon 16 Mar (5 working days lost): due moves from 20 to 27 Mar."""
    case = _case(
        "significant",
        _utc(2026, 3, 6),
        ("no_access", _utc(2026, 3, 9), {}),
    )
    paused = _by_name(case_clocks(case, _utc(2026, 3, 25)))["investigation"]
    assert paused.status == "paused"
    assert paused.reason is not None
    resumed_case = _case(
        "significant",
        _utc(2026, 3, 6),
        ("no_access", _utc(2026, 3, 9), {}),
        ("access_agreed", _utc(2026, 3, 16), {}),
    )
    resumed = _by_name(case_clocks(resumed_case, _utc(2026, 3, 25)))["investigation"]
    assert (resumed.due_date, resumed.status) == (date(2026, 3, 27), "due_soon")


def test_decant_stops_the_emergency_make_safe_clock_but_not_the_investigation() -> None:
    """Moving the household out ends the 24-hour make-safe duty; investigating remains."""
    aware = _utc(2026, 3, 6)
    case = _case("emergency", aware, ("decanted", aware + timedelta(hours=5), {}))
    clocks = _by_name(case_clocks(case, aware + timedelta(hours=30)))
    assert clocks["emergency_make_safe"].status == "stopped"
    assert clocks["emergency_investigation"].status == "breached"


def test_tenant_declining_after_the_deadline_does_not_undo_the_breach() -> None:
    """A clock stopped after its deadline stays breached; one stopped before it is stopped."""
    aware = _utc(2026, 3, 6)
    concluded = _utc(2026, 3, 9)
    early = _case(
        "significant",
        aware,
        ("investigation_completed", concluded, {"hazard_found": True}),
        ("tenant_declined", _utc(2026, 3, 10), {"clocks": ["safety_work"]}),
    )
    late = _case(
        "significant",
        aware,
        ("investigation_completed", concluded, {"hazard_found": True}),
        ("tenant_declined", _utc(2026, 3, 20), {"clocks": ["safety_work"]}),
    )
    assert _by_name(case_clocks(early, _utc(2026, 4, 1)))["safety_work"].status == "stopped"
    assert _by_name(case_clocks(late, _utc(2026, 4, 1)))["safety_work"].status == "breached"


def test_escalation_to_emergency_supersedes_the_ten_day_clock() -> None:
    """A significant hazard found to be an emergency gets 24 hours from the escalation."""
    escalated_at = _utc(2026, 3, 9, 9)
    case = _case("significant", _utc(2026, 3, 6), ("hazard_escalated", escalated_at, {}))
    clocks = _by_name(case_clocks(case, escalated_at + timedelta(hours=1)))
    assert clocks["investigation"].status == "stopped"
    assert clocks["emergency_make_safe"].due_at == escalated_at + timedelta(hours=24)


@pytest.mark.parametrize(
    ("day_zero", "days", "expected"),
    [
        (date(2025, 12, 24), 1, date(2025, 12, 29)),
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        (date(2026, 3, 6), 0, date(2026, 3, 6)),
    ],
)
def test_add_working_days_skips_holiday_runs(day_zero: date, days: int, expected: date) -> None:
    """Christmas Eve to the next working day, across Easter, and across 2026's observed day."""
    assert add_working_days(day_zero, days) == expected
