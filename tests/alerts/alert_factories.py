"""Homes, sensors and risk assessments for the alert tests, written as the other parts do."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]

BOROUGH = "E09000012"  # Hackney
OTHER_BOROUGH = "E09000022"  # Lambeth

_uprns = itertools.count(random.randrange(10**9, 10**11, 10**6))


def add_home(conn: Conn, *, borough_code: str = BOROUGH, rooms: int = 1) -> int:
    """A home with `rooms` rooms; returns its UPRN."""
    uprn = next(_uprns)
    conn.execute(
        "INSERT INTO homes (uprn, borough_code, address, postcode) VALUES (%s, %s, %s, %s)",
        (uprn, borough_code, f"{uprn % 1000} Test Street", "E8 1AA"),
    )
    for i in range(rooms):
        conn.execute(
            "INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, 'bedroom')",
            (uprn, f"Bedroom {i + 1}"),
        )
    return uprn


def add_assessment(
    conn: Conn,
    *,
    uprn: int,
    assessed_at: datetime,
    band: str,
    score: int | None = None,
    details: dict[str, Any] | None = None,
    explanation: str = "Humid air meets a cold wall in the bedroom.",
) -> int:
    """A home-level (room_id NULL) risk assessment row, as the scoring job writes it."""
    default_scores = {"green": 10, "amber": 55, "red": 85, "unknown": 0}
    row = conn.execute(
        """
        INSERT INTO risk_assessments (assessed_at, uprn, room_id, window_start, window_end,
            score, band, mould_index, days_to_m1, days_to_m3, cause, explanation, coverage,
            model_version, details)
        VALUES (%s, %s, NULL, %s, %s, %s, %s, 1.2, 10, 40, 'moisture', %s, 0.95, 'test-1', %s)
        RETURNING assessment_id
        """,
        (
            assessed_at,
            uprn,
            assessed_at - timedelta(days=21),
            assessed_at,
            default_scores[band] if score is None else score,
            band,
            explanation,
            Jsonb(details or {}),
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])
