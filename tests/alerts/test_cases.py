"""Cases in the database: opening, events, scoping, append-only evidence, auto-open on red."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from alert_factories import BOROUGH, OTHER_BOROUGH, Conn, add_assessment, add_home

from alerts.audit import list_audit
from alerts.borough_settings import set_borough_settings
from alerts.cases import (
    CaseClosedError,
    CaseError,
    CaseExistsError,
    CaseNotFoundError,
    get_case,
    list_cases,
    open_case,
    record_event,
)
from alerts.clocks import case_clocks
from alerts.records import list_alerts
from alerts.rules import evaluate_alerts

pytestmark = pytest.mark.postgres

AWARE = datetime(2025, 12, 22, 9, 30, tzinfo=UTC)
OFFICER = "officer@hackney.example"


def _red_alert(db: Conn, uprn: int, at: datetime = AWARE) -> int:
    add_assessment(db, uprn=uprn, assessed_at=at, band="red")
    evaluate_alerts(db, now=at)
    [alert] = list_alerts(db, borough=None, uprn=uprn)
    return alert.alert_id


def test_case_opened_from_an_alert_has_a_reference_clocks_and_an_audit_entry(db: Conn) -> None:
    """A case from a red alert is sourced to the sensor, audited, and its clock runs."""
    uprn = add_home(db)
    alert_id = _red_alert(db, uprn)
    case = open_case(
        db,
        uprn=uprn,
        borough_code=BOROUGH,
        hazard="significant",
        aware_at=AWARE,
        opened_by=OFFICER,
        alert_id=alert_id,
    )
    assert case.reference == f"DW-{case.case_id:06d}"
    assert case.source == "environmental_sensor"
    [clock] = case_clocks(case, AWARE)
    assert clock.due_date == date(2026, 1, 8)
    [entry] = list_audit(db, subject_type="case", subject_id=case.case_id)
    assert (entry.action, entry.actor) == ("case.opened", OFFICER)


def test_an_alert_becomes_at_most_one_case(db: Conn) -> None:
    """Opening a second case for the same alert names the first instead."""
    uprn = add_home(db)
    alert_id = _red_alert(db, uprn)
    kwargs = {"uprn": uprn, "borough_code": BOROUGH, "aware_at": AWARE, "opened_by": OFFICER}
    first = open_case(db, hazard="significant", alert_id=alert_id, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(CaseExistsError) as raised:
        open_case(db, hazard="significant", alert_id=alert_id, **kwargs)  # type: ignore[arg-type]
    assert raised.value.case_id == first.case_id


def test_a_case_is_invisible_from_another_borough(db: Conn) -> None:
    """Scoped to another borough, a case is not found, for reading or for events."""
    uprn = add_home(db)
    case = open_case(
        db, uprn=uprn, borough_code=BOROUGH, hazard="significant", aware_at=AWARE, opened_by=OFFICER
    )
    with pytest.raises(CaseNotFoundError):
        get_case(db, case_id=case.case_id, borough=OTHER_BOROUGH)
    with pytest.raises(CaseNotFoundError):
        record_event(
            db,
            case_id=case.case_id,
            kind="note",
            occurred_at=AWARE,
            recorded_by=OFFICER,
            borough=OTHER_BOROUGH,
        )
    assert list_cases(db, borough=OTHER_BOROUGH) == []
    assert get_case(db, case_id=case.case_id, borough=BOROUGH).case_id == case.case_id


def test_a_home_in_another_borough_cannot_get_a_case_here(db: Conn) -> None:
    """The home must belong to the borough the case is opened in."""
    uprn = add_home(db, borough_code=OTHER_BOROUGH)
    with pytest.raises(CaseError):
        open_case(
            db,
            uprn=uprn,
            borough_code=BOROUGH,
            hazard="significant",
            aware_at=AWARE,
            opened_by=OFFICER,
        )


def test_events_drive_the_clocks_and_closing_stops_further_events(db: Conn) -> None:
    """Recorded events satisfy clocks; once closed, a case takes no more events."""
    uprn = add_home(db)
    case = open_case(
        db, uprn=uprn, borough_code=BOROUGH, hazard="significant", aware_at=AWARE, opened_by=OFFICER
    )
    concluded = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
    record_event(
        db,
        case_id=case.case_id,
        kind="investigation_completed",
        occurred_at=concluded,
        recorded_by=OFFICER,
        detail={"hazard_found": True, "findings": "Mould behind the bedroom wardrobe."},
    )
    record_event(
        db,
        case_id=case.case_id,
        kind="summary_sent",
        occurred_at=concluded + timedelta(days=1),
        recorded_by=OFFICER,
    )
    clocks = {c.name: c.status for c in case_clocks(get_case(db, case_id=case.case_id), concluded)}
    assert clocks == {"investigation": "met", "written_summary": "met", "safety_work": "on_track"}
    record_event(
        db,
        case_id=case.case_id,
        kind="case_closed",
        occurred_at=concluded + timedelta(days=2),
        recorded_by=OFFICER,
    )
    closed = get_case(db, case_id=case.case_id)
    assert (closed.status, closed.closed_at) == ("closed", concluded + timedelta(days=2))
    with pytest.raises(CaseClosedError):
        record_event(
            db, case_id=case.case_id, kind="note", occurred_at=concluded, recorded_by=OFFICER
        )
    actions = [e.action for e in list_audit(db, subject_type="case", subject_id=case.case_id)]
    assert actions == ["case.opened", "case.event", "case.event", "case.event"]


def test_event_before_awareness_and_malformed_detail_are_refused(db: Conn) -> None:
    """An event cannot precede day zero, and hazard_found must be a boolean."""
    uprn = add_home(db)
    case = open_case(
        db, uprn=uprn, borough_code=BOROUGH, hazard="significant", aware_at=AWARE, opened_by=OFFICER
    )
    with pytest.raises(CaseError):
        record_event(
            db,
            case_id=case.case_id,
            kind="note",
            occurred_at=AWARE - timedelta(days=1),
            recorded_by=OFFICER,
        )
    with pytest.raises(CaseError):
        record_event(
            db,
            case_id=case.case_id,
            kind="investigation_completed",
            occurred_at=AWARE,
            recorded_by=OFFICER,
            detail={"hazard_found": "yes"},
        )


def test_case_events_cannot_be_changed_or_deleted(own_db: Conn) -> None:
    """The database refuses UPDATE and DELETE on case events: they are evidence."""
    uprn = add_home(own_db)
    case = open_case(
        own_db,
        uprn=uprn,
        borough_code=BOROUGH,
        hazard="emergency",
        aware_at=AWARE,
        opened_by=OFFICER,
    )
    event = record_event(
        own_db, case_id=case.case_id, kind="note", occurred_at=AWARE, recorded_by=OFFICER
    )
    own_db.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        own_db.execute("UPDATE case_events SET note = 'x' WHERE event_id = %s", (event.event_id,))
    own_db.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        own_db.execute("DELETE FROM case_events WHERE event_id = %s", (event.event_id,))
    own_db.rollback()


def test_red_alert_opens_a_case_only_where_the_borough_asked_for_it(db: Conn) -> None:
    """With auto-open on, a red damp alert opens one case; with it off, none."""
    set_borough_settings(db, borough_code=BOROUGH, auto_open_case_on_red=True, updated_by="admin")
    auto, manual = add_home(db), add_home(db, borough_code=OTHER_BOROUGH)
    for uprn in (auto, manual):
        add_assessment(db, uprn=uprn, assessed_at=AWARE, band="red")
    summary = evaluate_alerts(db, now=AWARE)
    assert summary.cases_opened == 1
    [case] = list_cases(db, borough=BOROUGH, uprn=auto)
    assert (case.source, case.hazard, case.aware_at) == (
        "environmental_sensor",
        "significant",
        AWARE,
    )
    assert list_cases(db, borough=OTHER_BOROUGH, uprn=manual) == []
    add_assessment(db, uprn=auto, assessed_at=AWARE + timedelta(hours=1), band="red")
    assert evaluate_alerts(db, now=AWARE + timedelta(hours=1)).cases_opened == 0


def test_list_cases_pages_newest_first(db: Conn) -> None:
    """`before_case_id` continues where the last page ended, without repeats."""
    uprn = add_home(db)
    ids = [
        open_case(
            db,
            uprn=uprn,
            borough_code=BOROUGH,
            hazard="significant",
            aware_at=AWARE,
            opened_by=OFFICER,
        ).case_id
        for _ in range(5)
    ]
    first = list_cases(db, borough=BOROUGH, limit=3)
    rest = list_cases(db, borough=BOROUGH, limit=3, before_case_id=first[-1].case_id)
    assert [c.case_id for c in first + rest] == sorted(ids, reverse=True)
