"""The tenant's written summary: drafted from the case, printable, and replaced by the edit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alert_factories import BOROUGH, Conn, add_home

from alerts.cases import open_case, record_event, save_summary
from alerts.tenant_summary import draft_tenant_summary

pytestmark = pytest.mark.postgres

AWARE = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)
CONCLUDED = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)
OFFICER = "officer@hackney.example"


def _investigated_case(db: Conn) -> int:
    uprn = add_home(db)
    case = open_case(
        db, uprn=uprn, borough_code=BOROUGH, hazard="significant", aware_at=AWARE, opened_by=OFFICER
    )
    record_event(
        db,
        case_id=case.case_id,
        kind="investigation_completed",
        occurred_at=CONCLUDED,
        recorded_by=OFFICER,
        detail={
            "hazard_found": True,
            "further_works_required": True,
            "findings": "Mould on the bedroom's outside wall, where the insulation has slipped.",
            "safety_work": "a mould wash and a new extractor fan",
            "further_works": "repairing the wall insulation",
        },
    )
    return case.case_id


def test_draft_states_findings_works_and_their_dates(db: Conn) -> None:
    """The draft names what was found and the dates the clocks give, and when it is due."""
    case_id = _investigated_case(db)
    summary = draft_tenant_summary(db, case_id=case_id, now=CONCLUDED, landlord_name="Hackney")
    assert summary.due_date == date(2026, 4, 9)
    assert "insulation has slipped" in summary.text
    assert "a mould wash and a new extractor fan by Monday 13 April 2026" in summary.text
    # 2 April + 12 weeks (84 days) = 25 June.
    assert "start the work itself by Thursday 25 June 2026" in summary.text
    assert "Test Street" in summary.text
    assert "lifestyle" not in summary.text
    assert summary.html.startswith('<article class="tenant-summary">')
    assert not summary.edited


def test_summary_html_escapes_what_officers_typed(db: Conn) -> None:
    """Text from the case is escaped in the printable page."""
    case_id = _investigated_case(db)
    save_summary(
        db, case_id=case_id, text="Dear resident,\n\n<b>We will fix it.</b>", saved_by=OFFICER
    )
    summary = draft_tenant_summary(db, case_id=case_id, now=CONCLUDED)
    assert summary.edited
    assert summary.text == "Dear resident,\n\n<b>We will fix it.</b>"
    assert "&lt;b&gt;We will fix it.&lt;/b&gt;" in summary.html
    assert "<b>" not in summary.html


def test_draft_before_the_investigation_says_when_it_will_be_done(db: Conn) -> None:
    """Before investigating, the draft gives the investigation's deadline instead of findings."""
    uprn = add_home(db)
    case = open_case(
        db, uprn=uprn, borough_code=BOROUGH, hazard="significant", aware_at=AWARE, opened_by=OFFICER
    )
    summary = draft_tenant_summary(db, case_id=case.case_id, now=AWARE)
    assert "We will complete it by Friday 10 April 2026." in summary.text
    assert summary.due_date is None
