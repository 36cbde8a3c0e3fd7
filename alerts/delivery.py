"""Taking notifications from the outbox and recording how each delivery attempt went.

A sender claims due rows with `FOR UPDATE SKIP LOCKED` (so several notifiers share the work
without sending one row twice at the same moment), stamps a lease and counts the attempt, and
commits before sending anything. If it crashes after sending but before recording the outcome,
the lease runs out and the row is sent again with the same idempotency key: delivery is at
least once, and the key lets the receiver make it exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

logger = logging.getLogger(__name__)

CLAIM_DUE = """
    WITH due AS (
        SELECT notification_id FROM notification_outbox
        WHERE status = 'pending' AND next_attempt_at <= %(now)s
          AND (locked_until IS NULL OR locked_until <= %(now)s)
          AND channel = ANY (%(channels)s)
        ORDER BY next_attempt_at, notification_id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE notification_outbox o
    SET locked_until = %(now)s + %(lease)s, attempts = o.attempts + 1
    FROM due WHERE o.notification_id = due.notification_id
    RETURNING o.notification_id
"""
SELECT_CLAIMED = """
    SELECT o.notification_id, o.idempotency_key, o.channel, o.borough_code, o.event_type,
           o.payload, o.attempts, r.email AS recipient_email, s.url AS webhook_url,
           s.secret AS webhook_secret
    FROM notification_outbox o
    LEFT JOIN officer_recipients r ON r.recipient_id = o.recipient_id
    LEFT JOIN webhook_subscriptions s ON s.subscription_id = o.subscription_id
    WHERE o.notification_id = ANY (%(ids)s)
    ORDER BY o.notification_id
"""
MARK_DELIVERED = """
    UPDATE notification_outbox
    SET status = 'delivered', delivered_at = %(now)s, locked_until = NULL, last_error = NULL
    WHERE notification_id = %(id)s AND status = 'pending'
"""
MARK_FAILED = """
    UPDATE notification_outbox
    SET status = CASE WHEN attempts >= %(max_attempts)s OR %(permanent)s THEN 'dead'
                      ELSE 'pending' END,
        next_attempt_at = %(next_attempt_at)s, locked_until = NULL, last_error = %(error)s
    WHERE notification_id = %(id)s AND status = 'pending'
    RETURNING status
"""
INSERT_DELIVERY = """
    INSERT INTO notification_deliveries (notification_id, attempt, attempted_at, outcome,
                                         http_status, error, duration_ms)
    VALUES (%(id)s, %(attempt)s, %(at)s, %(outcome)s, %(http_status)s, %(error)s,
            %(duration_ms)s)
"""
RELEASE = """
    UPDATE notification_outbox SET locked_until = NULL, attempts = attempts - 1
    WHERE notification_id = ANY (%(ids)s) AND status = 'pending'
"""
SELECT_DELIVERIES = """
    SELECT delivery_id, notification_id, attempt, attempted_at, outcome, http_status, error,
           duration_ms
    FROM notification_deliveries
    WHERE notification_id = %(id)s
    ORDER BY attempt, delivery_id
"""


@dataclass(frozen=True, slots=True)
class Notification:
    """A claimed outbox row with where it goes."""

    notification_id: int
    idempotency_key: str
    channel: str
    borough_code: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    recipient_email: str | None
    webhook_url: str | None
    webhook_secret: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt went."""

    delivered: bool
    duration_ms: int
    http_status: int | None = None
    error: str | None = None
    # A failure no retry can mend (a refused destination): the row is dead-lettered at once.
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: int
    notification_id: int
    attempt: int
    attempted_at: datetime
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: int


def claim_due(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    channels: list[str],
    lease: timedelta,
    limit: int,
) -> list[Notification]:
    """Take up to `limit` due notifications for this sender and commit the claim."""
    with conn.transaction():
        ids = [
            row[0]
            for row in conn.execute(
                CLAIM_DUE,
                {"now": now, "channels": channels, "lease": lease, "limit": limit},
            ).fetchall()
        ]
        if not ids:
            return []
        with conn.cursor(row_factory=class_row(Notification)) as cur:
            return cur.execute(SELECT_CLAIMED, {"ids": ids}).fetchall()


def retry_delay(attempts: int, *, base_s: float, max_s: float) -> timedelta:
    """Exponential backoff: base, 2 base, 4 base, ... capped at max_s."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


def record_outcome(
    conn: psycopg.Connection[Any],
    notification: Notification,
    outcome: Outcome,
    *,
    now: datetime,
    max_attempts: int,
    base_s: float,
    max_s: float,
) -> str:
    """Mark the row delivered, due again later, or dead (after the last attempt, or at once for
    a permanent failure); log the attempt. Returns the outcome."""
    with conn.transaction():
        if outcome.delivered:
            conn.execute(MARK_DELIVERED, {"id": notification.notification_id, "now": now})
            result = "delivered"
        else:
            delay = retry_delay(notification.attempts, base_s=base_s, max_s=max_s)
            row = conn.execute(
                MARK_FAILED,
                {
                    "id": notification.notification_id,
                    "max_attempts": max_attempts,
                    "permanent": outcome.permanent,
                    "next_attempt_at": now + delay,
                    "error": outcome.error,
                },
            ).fetchone()
            result = "dead" if row is not None and row[0] == "dead" else "failed"
        conn.execute(
            INSERT_DELIVERY,
            {
                "id": notification.notification_id,
                "attempt": notification.attempts,
                "at": now,
                "outcome": result,
                "http_status": outcome.http_status,
                "error": outcome.error,
                "duration_ms": outcome.duration_ms,
            },
        )
    if result == "dead" and outcome.permanent:
        logger.warning(
            "notification %s (%s) dead-lettered without retry: %s",
            notification.notification_id,
            notification.idempotency_key,
            outcome.error,
        )
    elif result == "dead":
        logger.warning(
            "notification %s (%s) dead after %d attempts: %s",
            notification.notification_id,
            notification.idempotency_key,
            notification.attempts,
            outcome.error,
        )
    elif result == "failed":
        logger.info(
            "notification %s attempt %d failed, will retry: %s",
            notification.notification_id,
            notification.attempts,
            outcome.error,
        )
    return result


def release(conn: psycopg.Connection[Any], notifications: list[Notification]) -> None:
    """Give back claimed rows that were not attempted, uncounted, for the next pass."""
    if notifications:
        with conn.transaction():
            conn.execute(RELEASE, {"ids": [n.notification_id for n in notifications]})


def list_deliveries(conn: psycopg.Connection[Any], *, notification_id: int) -> list[Delivery]:
    """The delivery log of one notification, attempt by attempt."""
    with conn.cursor(row_factory=class_row(Delivery)) as cur:
        return cur.execute(SELECT_DELIVERIES, {"id": notification_id}).fetchall()
