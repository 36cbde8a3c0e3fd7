"""Who is told: officers' e-mail addresses and borough systems' webhook subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from alerts.audit import write_audit
from alerts.signing import new_secret

SUBSCRIPTION_COLUMNS = """
    subscription_id, borough_code, url, event_types, description, active, created_at, created_by
"""
INSERT_SUBSCRIPTION = f"""
    INSERT INTO webhook_subscriptions (borough_code, url, secret, event_types, description,
                                       created_by)
    VALUES (%(borough)s, %(url)s, %(secret)s, %(event_types)s, %(description)s, %(by)s)
    RETURNING {SUBSCRIPTION_COLUMNS}
"""
SELECT_SUBSCRIPTIONS = f"""
    SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
    WHERE borough_code = %(borough)s ORDER BY subscription_id
"""
DEACTIVATE_SUBSCRIPTION = """
    UPDATE webhook_subscriptions SET active = false
    WHERE subscription_id = %(id)s AND borough_code = %(borough)s
"""
RECIPIENT_COLUMNS = "recipient_id, borough_code, email, delivery, min_severity, active, created_at"
UPSERT_RECIPIENT = f"""
    INSERT INTO officer_recipients (borough_code, email, delivery, min_severity)
    VALUES (%(borough)s, lower(%(email)s), %(delivery)s, %(min_severity)s)
    ON CONFLICT (borough_code, email) DO UPDATE SET
        delivery = EXCLUDED.delivery, min_severity = EXCLUDED.min_severity, active = true
    RETURNING {RECIPIENT_COLUMNS}
"""
SELECT_RECIPIENTS = f"""
    SELECT {RECIPIENT_COLUMNS} FROM officer_recipients
    WHERE borough_code = %(borough)s ORDER BY recipient_id
"""
DEACTIVATE_RECIPIENT = """
    UPDATE officer_recipients SET active = false
    WHERE recipient_id = %(id)s AND borough_code = %(borough)s
"""


class SubscriptionError(ValueError):
    """A subscription or recipient that cannot be stored as given."""


@dataclass(frozen=True, slots=True)
class WebhookSubscription:
    """A borough system's endpoint; the secret is shown once, when it is created."""

    subscription_id: int
    borough_code: str
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class OfficerRecipient:
    recipient_id: int
    borough_code: str
    email: str
    delivery: str
    min_severity: str
    active: bool
    created_at: datetime


def add_webhook_subscription(
    conn: psycopg.Connection[Any],
    *,
    borough_code: str,
    url: str,
    created_by: str,
    event_types: tuple[str, ...] = (),
    description: str = "",
    secret: str | None = None,
) -> tuple[WebhookSubscription, str]:
    """Subscribe a URL to the borough's events; returns it and the signing secret."""
    if not url.startswith(("https://", "http://")):
        raise SubscriptionError("the URL must be http:// or https://")
    secret = secret or new_secret()
    if len(secret) < 16:
        raise SubscriptionError("a signing secret needs at least 16 characters")
    params = {
        "borough": borough_code,
        "url": url,
        "secret": secret,
        "event_types": list(event_types),
        "description": description,
        "by": created_by,
    }
    with conn.cursor(row_factory=class_row(WebhookSubscription)) as cur:
        subscription = cur.execute(INSERT_SUBSCRIPTION, params).fetchone()
    if subscription is None:  # INSERT ... RETURNING returns its row
        raise psycopg.DataError("subscription insert returned no row")
    write_audit(
        conn,
        actor=created_by,
        action="webhook.subscribed",
        subject_type="webhook_subscription",
        subject_id=subscription.subscription_id,
        borough_code=borough_code,
        detail={"url": url, "event_types": list(event_types)},
    )
    return subscription, secret


def list_webhook_subscriptions(
    conn: psycopg.Connection[Any], *, borough_code: str
) -> list[WebhookSubscription]:
    with conn.cursor(row_factory=class_row(WebhookSubscription)) as cur:
        return cur.execute(SELECT_SUBSCRIPTIONS, {"borough": borough_code}).fetchall()


def deactivate_webhook_subscription(
    conn: psycopg.Connection[Any], *, subscription_id: int, borough_code: str, actor: str
) -> bool:
    """Stop queueing for a subscription (rows already queued are still delivered)."""
    done = conn.execute(
        DEACTIVATE_SUBSCRIPTION, {"id": subscription_id, "borough": borough_code}
    ).rowcount
    if done:
        write_audit(
            conn,
            actor=actor,
            action="webhook.unsubscribed",
            subject_type="webhook_subscription",
            subject_id=subscription_id,
            borough_code=borough_code,
        )
    return bool(done)


def add_officer_recipient(
    conn: psycopg.Connection[Any],
    *,
    borough_code: str,
    email: str,
    actor: str,
    delivery: str = "immediate",
    min_severity: str = "amber",
) -> OfficerRecipient:
    """Add (or update) an officer's address: each alert as it happens, or a daily digest."""
    if delivery not in ("immediate", "daily_digest"):
        raise SubscriptionError("delivery must be 'immediate' or 'daily_digest'")
    if min_severity not in ("info", "amber", "red"):
        raise SubscriptionError("min_severity must be 'info', 'amber' or 'red'")
    params = {
        "borough": borough_code,
        "email": email,
        "delivery": delivery,
        "min_severity": min_severity,
    }
    with conn.cursor(row_factory=class_row(OfficerRecipient)) as cur:
        recipient = cur.execute(UPSERT_RECIPIENT, params).fetchone()
    if recipient is None:  # INSERT ... RETURNING returns its row
        raise psycopg.DataError("recipient upsert returned no row")
    write_audit(
        conn,
        actor=actor,
        action="recipient.saved",
        subject_type="officer_recipient",
        subject_id=recipient.recipient_id,
        borough_code=borough_code,
        detail={"delivery": delivery, "min_severity": min_severity},
    )
    return recipient


def list_officer_recipients(
    conn: psycopg.Connection[Any], *, borough_code: str
) -> list[OfficerRecipient]:
    with conn.cursor(row_factory=class_row(OfficerRecipient)) as cur:
        return cur.execute(SELECT_RECIPIENTS, {"borough": borough_code}).fetchall()


def deactivate_officer_recipient(
    conn: psycopg.Connection[Any], *, recipient_id: int, borough_code: str, actor: str
) -> bool:
    done = conn.execute(
        DEACTIVATE_RECIPIENT, {"id": recipient_id, "borough": borough_code}
    ).rowcount
    if done:
        write_audit(
            conn,
            actor=actor,
            action="recipient.removed",
            subject_type="officer_recipient",
            subject_id=recipient_id,
            borough_code=borough_code,
        )
    return bool(done)
