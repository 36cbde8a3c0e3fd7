"""Cases: open one from an alert or a report, record what happens, read them back.

Every function takes the connection first and leaves the transaction to the caller. Each change
is written to `audit_log` and announced through the outbox in that same transaction. `borough`
arguments scope a call to one borough: a case of another borough is reported as not found, so
an officer cannot learn that it exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alerts.audit import write_audit
from alerts.case_records import CASE_SOURCES, EVENT_KINDS, HAZARDS, Case, CaseEvent
from alerts.clocks import case_clocks
from alerts.outbox import publish

CASE_COLUMNS = """
    case_id, reference, borough_code, uprn, alert_id, source, hazard, status, aware_at,
    opened_at, opened_by, closed_at, description, summary_text, updated_at
"""
EVENT_COLUMNS = """
    event_id, case_id, kind, occurred_at, recorded_at, recorded_by, note, detail
"""
INSERT_CASE = f"""
    INSERT INTO cases (borough_code, uprn, alert_id, source, hazard, aware_at, opened_by,
                       description)
    VALUES (%(borough_code)s, %(uprn)s, %(alert_id)s, %(source)s, %(hazard)s, %(aware_at)s,
            %(opened_by)s, %(description)s)
    ON CONFLICT (alert_id) WHERE alert_id IS NOT NULL DO NOTHING
    RETURNING {CASE_COLUMNS}
"""
SELECT_CASE = f"""
    SELECT {CASE_COLUMNS} FROM cases
    WHERE case_id = %(case_id)s AND (%(borough)s::text IS NULL OR borough_code = %(borough)s)
"""
SELECT_CASE_FOR_UPDATE = SELECT_CASE + " FOR UPDATE"
SELECT_CASES = f"""
    SELECT {CASE_COLUMNS} FROM cases
    WHERE (%(borough)s::text IS NULL OR borough_code = %(borough)s)
      AND (%(status)s::text IS NULL OR status = %(status)s)
      AND (%(uprn)s::bigint IS NULL OR uprn = %(uprn)s)
      AND (%(before)s::bigint IS NULL OR case_id < %(before)s)
    ORDER BY case_id DESC
    LIMIT %(limit)s
"""
SELECT_EVENTS = f"""
    SELECT {EVENT_COLUMNS} FROM case_events
    WHERE case_id = ANY (%(case_ids)s)
    ORDER BY occurred_at, event_id
"""
INSERT_EVENT = f"""
    INSERT INTO case_events (case_id, kind, occurred_at, recorded_by, note, detail)
    VALUES (%(case_id)s, %(kind)s, %(occurred_at)s, %(recorded_by)s, %(note)s, %(detail)s)
    RETURNING {EVENT_COLUMNS}
"""
TOUCH_CASE = "UPDATE cases SET updated_at = now() WHERE case_id = %(case_id)s"
CLOSE_CASE = """
    UPDATE cases SET status = 'closed', closed_at = %(at)s, updated_at = now()
    WHERE case_id = %(case_id)s
"""
SAVE_SUMMARY = """
    UPDATE cases SET summary_text = %(text)s, updated_at = now() WHERE case_id = %(case_id)s
"""
SELECT_HOME = "SELECT borough_code FROM homes WHERE uprn = %s"
SELECT_ALERT = "SELECT uprn, borough_code, kind, severity FROM alerts WHERE alert_id = %s"
SELECT_CASE_FOR_ALERT = "SELECT case_id FROM cases WHERE alert_id = %s"


class CaseError(ValueError):
    """A case request that cannot be honoured as asked."""


class CaseNotFoundError(LookupError):
    """No case with this id in the caller's borough."""


class CaseExistsError(CaseError):
    """The alert already has a case; `case_id` is that case."""

    def __init__(self, case_id: int) -> None:
        super().__init__(f"the alert already has case {case_id}")
        self.case_id = case_id


class CaseClosedError(CaseError):
    """Events cannot be added to a closed case."""


def open_case(
    conn: psycopg.Connection[Any],
    *,
    uprn: int,
    borough_code: str,
    hazard: str,
    aware_at: datetime,
    opened_by: str,
    alert_id: int | None = None,
    source: str | None = None,
    description: str = "",
) -> Case:
    """Open a case; the Awaab's Law clocks run from `aware_at`."""
    if hazard not in HAZARDS:
        raise CaseError(f"hazard must be one of {HAZARDS}, not {hazard!r}")
    if aware_at.tzinfo is None:
        raise CaseError("aware_at must carry a time zone")
    source = source or ("environmental_sensor" if alert_id is not None else "tenant_report")
    if source not in CASE_SOURCES:
        raise CaseError(f"source must be one of {CASE_SOURCES}, not {source!r}")
    home = conn.execute(SELECT_HOME, (uprn,)).fetchone()
    if home is None or home[0] != borough_code:
        raise CaseError(f"no home {uprn} in borough {borough_code}")
    if alert_id is not None:
        alert = conn.execute(SELECT_ALERT, (alert_id,)).fetchone()
        if alert is None or alert[0] != uprn or alert[1] != borough_code:
            raise CaseError(f"alert {alert_id} is not about home {uprn} in {borough_code}")
    params = {
        "borough_code": borough_code,
        "uprn": uprn,
        "alert_id": alert_id,
        "source": source,
        "hazard": hazard,
        "aware_at": aware_at,
        "opened_by": opened_by,
        "description": description,
    }
    with conn.cursor(row_factory=class_row(Case)) as cur:
        case = cur.execute(INSERT_CASE, params).fetchone()
    if case is None:
        existing = conn.execute(SELECT_CASE_FOR_ALERT, (alert_id,)).fetchone()
        raise CaseExistsError(int(existing[0]) if existing else -1)
    write_audit(
        conn,
        actor=opened_by,
        action="case.opened",
        subject_type="case",
        subject_id=case.case_id,
        borough_code=borough_code,
        detail={
            "reference": case.reference,
            "uprn": uprn,
            "alert_id": alert_id,
            "hazard": hazard,
            "source": source,
            "aware_at": aware_at.isoformat(),
        },
    )
    publish(
        conn,
        event_id=f"case.opened:{case.case_id}",
        event_type="case.opened",
        borough_code=borough_code,
        occurred_at=case.opened_at,
        data=case_payload(case, now=case.opened_at),
        severity="red" if hazard == "emergency" else "amber",
    )
    return case


def record_event(
    conn: psycopg.Connection[Any],
    *,
    case_id: int,
    kind: str,
    occurred_at: datetime,
    recorded_by: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
    borough: str | None = None,
) -> CaseEvent:
    """Add an event to an open case (append-only); `case_closed` closes it."""
    if kind not in EVENT_KINDS:
        raise CaseError(f"kind must be one of {EVENT_KINDS}, not {kind!r}")
    detail = detail or {}
    for flag in ("hazard_found", "further_works_required"):
        if flag in detail and not isinstance(detail[flag], bool):
            raise CaseError(f"detail.{flag} must be true or false")
    with conn.cursor(row_factory=class_row(Case)) as cur:
        case = cur.execute(
            SELECT_CASE_FOR_UPDATE, {"case_id": case_id, "borough": borough}
        ).fetchone()
    if case is None:
        raise CaseNotFoundError(f"no case {case_id}")
    if case.status == "closed":
        raise CaseClosedError(f"case {case.reference} is closed")
    if occurred_at < case.aware_at:
        raise CaseError("an event cannot precede the moment the landlord became aware")
    params = {
        "case_id": case_id,
        "kind": kind,
        "occurred_at": occurred_at,
        "recorded_by": recorded_by,
        "note": note,
        "detail": Jsonb(detail),
    }
    with conn.cursor(row_factory=class_row(CaseEvent)) as cur:
        event = cur.execute(INSERT_EVENT, params).fetchone()
    if event is None:  # INSERT ... RETURNING returns its row
        raise psycopg.DataError("case event insert returned no row")
    if kind == "case_closed":
        conn.execute(CLOSE_CASE, {"case_id": case_id, "at": occurred_at})
    else:
        conn.execute(TOUCH_CASE, {"case_id": case_id})
    write_audit(
        conn,
        actor=recorded_by,
        action="case.event",
        subject_type="case",
        subject_id=case_id,
        borough_code=case.borough_code,
        detail={
            "event_id": event.event_id,
            "kind": kind,
            "occurred_at": occurred_at.isoformat(),
            "note": note,
            "detail": detail,
        },
    )
    updated = get_case(conn, case_id=case_id)
    publish(
        conn,
        event_id=f"case.updated:{case_id}:{event.event_id}",
        event_type="case.updated",
        borough_code=case.borough_code,
        occurred_at=event.recorded_at,
        data={**case_payload(updated, now=event.recorded_at), "event": event_payload(event)},
    )
    return event


def get_case(conn: psycopg.Connection[Any], *, case_id: int, borough: str | None = None) -> Case:
    """One case with its events; `borough` scopes the lookup."""
    with conn.cursor(row_factory=class_row(Case)) as cur:
        case = cur.execute(SELECT_CASE, {"case_id": case_id, "borough": borough}).fetchone()
    if case is None:
        raise CaseNotFoundError(f"no case {case_id}")
    return _with_events(conn, [case])[0]


def list_cases(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    status: str | None = None,
    uprn: int | None = None,
    before_case_id: int | None = None,
    limit: int = 100,
) -> list[Case]:
    """Cases newest first, with their events; page on with `before_case_id` (the last id)."""
    params = {
        "borough": borough,
        "status": status,
        "uprn": uprn,
        "before": before_case_id,
        "limit": limit,
    }
    with conn.cursor(row_factory=class_row(Case)) as cur:
        cases = cur.execute(SELECT_CASES, params).fetchall()
    return _with_events(conn, cases)


def save_summary(
    conn: psycopg.Connection[Any],
    *,
    case_id: int,
    text: str,
    saved_by: str,
    borough: str | None = None,
) -> Case:
    """Keep the officer's edited written summary (sending it is a `summary_sent` event)."""
    case = get_case(conn, case_id=case_id, borough=borough)
    conn.execute(SAVE_SUMMARY, {"case_id": case_id, "text": text})
    write_audit(
        conn,
        actor=saved_by,
        action="case.summary_saved",
        subject_type="case",
        subject_id=case_id,
        borough_code=case.borough_code,
        detail={"characters": len(text)},
    )
    return get_case(conn, case_id=case_id)


def _with_events(conn: psycopg.Connection[Any], cases: list[Case]) -> list[Case]:
    if not cases:
        return []
    with conn.cursor(row_factory=class_row(CaseEvent)) as cur:
        events = cur.execute(SELECT_EVENTS, {"case_ids": [c.case_id for c in cases]}).fetchall()
    by_case: dict[int, list[CaseEvent]] = {}
    for event in events:
        by_case.setdefault(event.case_id, []).append(event)
    return [_replace_events(c, tuple(by_case.get(c.case_id, ()))) for c in cases]


def _replace_events(case: Case, events: tuple[CaseEvent, ...]) -> Case:
    fields = {name: getattr(case, name) for name in Case.__dataclass_fields__}
    fields["events"] = events
    return Case(**fields)


def event_payload(event: CaseEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "recorded_by": event.recorded_by,
        "note": event.note,
        "detail": event.detail,
    }


def case_payload(case: Case, *, now: datetime) -> dict[str, Any]:
    """A case as webhooks and exports describe it, with its clocks at `now`."""
    return {
        "case_id": case.case_id,
        "reference": case.reference,
        "uprn": case.uprn,
        "alert_id": case.alert_id,
        "source": case.source,
        "hazard": case.hazard,
        "status": case.status,
        "aware_at": case.aware_at.isoformat(),
        "opened_at": case.opened_at.isoformat(),
        "opened_by": case.opened_by,
        "closed_at": None if case.closed_at is None else case.closed_at.isoformat(),
        "clocks": [
            {
                "name": clock.name,
                "label": clock.label,
                "due_at": clock.due_at.isoformat(),
                "due_date": clock.due_date.isoformat(),
                "status": clock.status,
                "satisfied_at": None
                if clock.satisfied_at is None
                else clock.satisfied_at.isoformat(),
            }
            for clock in case_clocks(case, now)
        ],
    }
