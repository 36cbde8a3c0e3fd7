"""The transactional outbox: notifications queued in the transaction of the change they report.

`publish` fans one event out to the borough's webhook subscriptions and, for the event types
officers are e-mailed about, to its officers who want each one as it happens. Each row gets an
idempotency key derived from the event and the recipient, and the key is UNIQUE: publishing the
same event twice (a retried transaction, two evaluators) queues it once.

The envelope every webhook receives (documented in alerts/README.md):

    {"id": "alert.raised:42", "type": "alert.raised", "occurred_at": "...",
     "borough_code": "E09000012", "data": {...}}
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts.severity import SEVERITY_RANK

logger = logging.getLogger(__name__)

# Event types officers are e-mailed about (if the severity reaches their threshold).
EMAIL_EVENT_TYPES = frozenset(
    {"alert.raised", "alert.escalated", "case.opened", "case.deadline_breached"}
)

SELECT_SUBSCRIPTIONS = """
    SELECT subscription_id FROM webhook_subscriptions
    WHERE borough_code = %(borough)s AND active
      AND (cardinality(event_types) = 0 OR %(event_type)s = ANY (event_types))
"""
SELECT_IMMEDIATE_RECIPIENTS = """
    SELECT recipient_id, min_severity FROM officer_recipients
    WHERE borough_code = %(borough)s AND active AND delivery = 'immediate'
"""
INSERT_NOTIFICATION = """
    INSERT INTO notification_outbox (idempotency_key, channel, borough_code, event_type,
                                     recipient_id, subscription_id, payload)
    VALUES (%(key)s, %(channel)s, %(borough)s, %(event_type)s, %(recipient_id)s,
            %(subscription_id)s, %(payload)s)
    ON CONFLICT (idempotency_key) DO NOTHING
"""


def envelope(
    *, event_id: str, event_type: str, occurred_at: datetime, borough_code: str, data: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "occurred_at": occurred_at.isoformat(),
        "borough_code": borough_code,
        "data": data,
    }


def publish(
    conn: psycopg.Connection[Any],
    *,
    event_id: str,
    event_type: str,
    borough_code: str,
    occurred_at: datetime,
    data: dict[str, Any],
    severity: str | None = None,
) -> int:
    """Queue the event for every interested webhook and officer; returns rows queued."""
    payload = envelope(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        borough_code=borough_code,
        data=data,
    )
    params = {"borough": borough_code, "event_type": event_type}
    queued = 0
    for (subscription_id,) in conn.execute(SELECT_SUBSCRIPTIONS, params).fetchall():
        queued += _insert(
            conn,
            key=f"{event_id}/webhook/{subscription_id}",
            channel="webhook",
            payload=payload,
            event_type=event_type,
            borough_code=borough_code,
            subscription_id=subscription_id,
        )
    if event_type in EMAIL_EVENT_TYPES:
        rank = SEVERITY_RANK.get(severity or "red", 2)
        for recipient_id, min_severity in conn.execute(
            SELECT_IMMEDIATE_RECIPIENTS, params
        ).fetchall():
            if rank < SEVERITY_RANK[min_severity]:
                continue
            queued += _insert(
                conn,
                key=f"{event_id}/email/{recipient_id}",
                channel="email",
                payload=payload,
                event_type=event_type,
                borough_code=borough_code,
                recipient_id=recipient_id,
            )
    return queued


def _insert(
    conn: psycopg.Connection[Any],
    *,
    key: str,
    channel: str,
    payload: dict[str, Any],
    event_type: str,
    borough_code: str,
    recipient_id: int | None = None,
    subscription_id: int | None = None,
) -> int:
    cur = conn.execute(
        INSERT_NOTIFICATION,
        {
            "key": key,
            "channel": channel,
            "borough": borough_code,
            "event_type": event_type,
            "recipient_id": recipient_id,
            "subscription_id": subscription_id,
            "payload": Jsonb(payload),
        },
    )
    return cur.rowcount
