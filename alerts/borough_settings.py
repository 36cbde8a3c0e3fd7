"""Per-borough choices about alerts, kept in the database so each council sets its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from alerts.audit import write_audit

SELECT_SETTINGS = """
    SELECT borough_code, auto_open_case_on_red, updated_at, updated_by
    FROM alert_borough_settings WHERE borough_code = %s
"""
UPSERT_SETTINGS = """
    INSERT INTO alert_borough_settings (borough_code, auto_open_case_on_red, updated_by)
    VALUES (%(borough_code)s, %(auto)s, %(by)s)
    ON CONFLICT (borough_code) DO UPDATE SET
        auto_open_case_on_red = EXCLUDED.auto_open_case_on_red,
        updated_at = now(), updated_by = EXCLUDED.updated_by
    RETURNING borough_code, auto_open_case_on_red, updated_at, updated_by
"""


@dataclass(frozen=True, slots=True)
class BoroughAlertSettings:
    borough_code: str
    # Open a case automatically (hazard "significant", aware when the alert turned red) when a
    # damp-and-mould alert turns red. Off by default: a council decides when it becomes aware.
    auto_open_case_on_red: bool = False
    updated_at: datetime | None = None
    updated_by: str | None = None


def get_borough_settings(
    conn: psycopg.Connection[Any], *, borough_code: str
) -> BoroughAlertSettings:
    with conn.cursor(row_factory=class_row(BoroughAlertSettings)) as cur:
        found = cur.execute(SELECT_SETTINGS, (borough_code,)).fetchone()
    return found or BoroughAlertSettings(borough_code=borough_code)


def set_borough_settings(
    conn: psycopg.Connection[Any],
    *,
    borough_code: str,
    auto_open_case_on_red: bool,
    updated_by: str,
) -> BoroughAlertSettings:
    with conn.cursor(row_factory=class_row(BoroughAlertSettings)) as cur:
        saved = cur.execute(
            UPSERT_SETTINGS,
            {"borough_code": borough_code, "auto": auto_open_case_on_red, "by": updated_by},
        ).fetchone()
    if saved is None:  # INSERT ... RETURNING returns its row
        raise psycopg.DataError("settings upsert returned no row")
    write_audit(
        conn,
        actor=updated_by,
        action="settings.changed",
        subject_type="borough",
        subject_id=borough_code,
        borough_code=borough_code,
        detail={"auto_open_case_on_red": auto_open_case_on_red},
    )
    return saved
