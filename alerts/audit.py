"""The landlord's evidence: helpers that append to, and read from, `audit_log`.

The table refuses UPDATE, DELETE and TRUNCATE by trigger (0001_initial.sql), so these are the
only two things one can do with it: add an entry, and read entries back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

INSERT_AUDIT = """
    INSERT INTO audit_log (actor, action, borough_code, subject_type, subject_id, detail)
    VALUES (%(actor)s, %(action)s, %(borough_code)s, %(subject_type)s, %(subject_id)s,
            %(detail)s)
    RETURNING audit_id
"""
SELECT_AUDIT = """
    SELECT audit_id, at, actor, action, borough_code, subject_type, subject_id, detail
    FROM audit_log
    WHERE (%(subject_type)s::text IS NULL OR subject_type = %(subject_type)s)
      AND (%(subject_id)s::text IS NULL OR subject_id = %(subject_id)s)
      AND (%(borough)s::text IS NULL OR borough_code = %(borough)s)
      AND (%(after_id)s::bigint IS NULL OR audit_id > %(after_id)s)
    ORDER BY audit_id
    LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    audit_id: int
    at: datetime
    actor: str
    action: str
    borough_code: str | None
    subject_type: str
    subject_id: str
    detail: dict[str, Any]


def write_audit(
    conn: psycopg.Connection[Any],
    *,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int,
    borough_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry in the caller's transaction; returns its audit_id."""
    row = conn.execute(
        INSERT_AUDIT,
        {
            "actor": actor,
            "action": action,
            "borough_code": borough_code,
            "subject_type": subject_type,
            "subject_id": str(subject_id),
            "detail": Jsonb(detail or {}),
        },
    ).fetchone()
    if row is None:  # INSERT ... RETURNING returns its row unless a trigger skipped it
        raise psycopg.DataError("audit_log insert returned no row")
    return int(row[0])


def list_audit(
    conn: psycopg.Connection[Any],
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    borough: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries in the order they were written; `after_id` pages on from a previous answer."""
    with conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        cur.execute(
            SELECT_AUDIT,
            {
                "subject_type": subject_type,
                "subject_id": None if subject_id is None else str(subject_id),
                "borough": borough,
                "after_id": after_id,
                "limit": limit,
            },
        )
        return cur.fetchall()


def record_access(
    conn: psycopg.Connection[Any],
    *,
    actor: str,
    borough_code: str | None,
    subject_type: str,
    subject_id: str | int,
    what: str,
) -> int:
    """Note that `actor` read a home's (or case's) data: who looked at what, and when."""
    return write_audit(
        conn,
        actor=actor,
        action="access",
        subject_type=subject_type,
        subject_id=subject_id,
        borough_code=borough_code,
        detail={"what": what},
    )
