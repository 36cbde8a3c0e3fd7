"""Audit helpers: who looked at what is recorded, and entries read back in order, paged."""

from __future__ import annotations

import pytest
from alert_factories import BOROUGH, Conn, add_home

from alerts.audit import list_audit, record_access, write_audit

pytestmark = pytest.mark.postgres


def test_access_to_a_home_is_recorded_with_who_and_what(db: Conn) -> None:
    """Reading a home's data leaves an 'access' entry naming the reader."""
    uprn = add_home(db)
    record_access(
        db,
        actor="officer@hackney.example",
        borough_code=BOROUGH,
        subject_type="home",
        subject_id=uprn,
        what="readings",
    )
    [entry] = list_audit(db, subject_type="home", subject_id=uprn)
    assert (entry.action, entry.actor, entry.detail) == (
        "access",
        "officer@hackney.example",
        {"what": "readings"},
    )


def test_audit_entries_page_on_from_the_last_id(db: Conn) -> None:
    """`after_id` continues after the previous page, oldest first."""
    ids = [
        write_audit(db, actor="t", action=f"a{i}", subject_type="test", subject_id="x")
        for i in range(5)
    ]
    first = list_audit(db, subject_type="test", limit=2)
    rest = list_audit(db, subject_type="test", after_id=first[-1].audit_id)
    assert [e.audit_id for e in first + rest] == ids
