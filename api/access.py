"""Who read what: one audit_log entry for each request that shows a home's or a case's data.

The audit log is the landlord's evidence, of what was seen as much as of what was changed. Each
entry goes in with the request's own transaction, which commits when the route returns and
before the answer is sent (api.deps.DbConn), so nothing is shown that is not recorded. It is one
small insert per request; a list records the borough it was drawn from, not each home in it.
"""

from __future__ import annotations

from typing import Any, Literal

import psycopg

from alerts.audit import record_access
from api.principal import Principal

ALL_BOROUGHS = "*"


def subject_read(
    conn: psycopg.Connection[Any],
    principal: Principal,
    subject_type: Literal["home", "case", "alert"],
    subject_id: int,
    *,
    borough_code: str | None,
    what: str,
) -> None:
    """One home, case or alert shown: `what` names the view (an endpoint or a page)."""
    record_access(
        conn,
        actor=principal.actor,
        borough_code=borough_code,
        subject_type=subject_type,
        subject_id=subject_id,
        what=what,
    )


def list_read(
    conn: psycopg.Connection[Any],
    principal: Principal,
    *,
    what: str,
    borough_code: str | None = None,
) -> None:
    """A list or export of one borough: `borough_code`, else the caller's (for an admin with
    neither, every borough)."""
    borough = borough_code or principal.scope
    record_access(
        conn,
        actor=principal.actor,
        borough_code=borough,
        subject_type="borough",
        subject_id=borough or ALL_BOROUGHS,
        what=what,
    )
