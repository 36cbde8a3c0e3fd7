"""Reading webhook subscriptions (of one borough, or all for an admin) and their deliveries.

The alerts package stores and stops subscriptions (alerts.subscriptions) and delivers the
outbox; the API reads them here. A subscription is deactivated, never deleted: the outbox's
rows keep pointing at it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

SUBSCRIPTION_COLUMNS = """
    subscription_id, borough_code, url, event_types, description, active, created_at, created_by
"""
SELECT_SUBSCRIPTIONS = f"""
    SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
    WHERE (%(borough)s::text IS NULL OR borough_code = %(borough)s)
      AND (%(subscription_id)s::bigint IS NULL OR subscription_id = %(subscription_id)s)
    ORDER BY subscription_id
"""
SELECT_DELIVERIES = """
    SELECT o.notification_id, o.event_type, o.status, o.attempts, o.created_at,
           o.delivered_at, o.last_error,
           (SELECT d.http_status FROM notification_deliveries d
             WHERE d.notification_id = o.notification_id
             ORDER BY d.attempt DESC LIMIT 1) AS last_http_status
    FROM notification_outbox o
    WHERE o.subscription_id = %s
    ORDER BY o.notification_id DESC
    LIMIT %s
"""


class SubscriptionOut(BaseModel):
    subscription_id: int
    borough_code: str
    url: str = Field(examples=["https://hms.example.gov.uk/dampwatch"])
    event_types: list[str] = Field(description="Event types sent; empty means all.")
    description: str
    active: bool
    created_at: datetime
    created_by: str


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(
        description="Signs every delivery (Dampwatch-Signature: t=..,v1=HMAC-SHA256 of "
        "'<t>.<body>'). Shown only now."
    )


class DeliveryOut(BaseModel):
    notification_id: int
    event_type: str
    status: str = Field(description="pending, delivered or dead.")
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    last_http_status: int | None


def list_subscriptions(
    conn: psycopg.Connection[Any], *, borough: str | None, subscription_id: int | None = None
) -> list[SubscriptionOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            SELECT_SUBSCRIPTIONS, {"borough": borough, "subscription_id": subscription_id}
        ).fetchall()
    return [SubscriptionOut.model_validate(r) for r in rows]


def list_deliveries(
    conn: psycopg.Connection[Any], *, subscription_id: int, limit: int
) -> list[DeliveryOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(SELECT_DELIVERIES, (subscription_id, limit)).fetchall()
    return [DeliveryOut.model_validate(r) for r in rows]
