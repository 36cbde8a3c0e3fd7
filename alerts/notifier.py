"""The notifier: delivers the outbox, sends daily digests, and announces missed deadlines.

`run_notifier` loops until `stop` is set. Each pass claims due notifications (webhooks always,
e-mail when an SMTP host is configured), sends them and records each outcome; once a minute it
also queues a `case.deadline_breached` event for every clock newly breached, and, after the
digest hour (Europe/London), one digest per officer who asked for one. Everything it queues
has an idempotency key, so two notifiers running side by side queue each thing once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts.cases import list_cases
from alerts.clocks import case_clocks
from alerts.delivery import Notification, Outcome, claim_due, record_outcome, release
from alerts.mail import send_emails
from alerts.outbox import envelope, publish
from alerts.settings import NotifierSettings
from alerts.webhooks import send_webhook
from alerts.working_days import LONDON

logger = logging.getLogger(__name__)

SCAN_INTERVAL_S = 60.0

SELECT_DIGEST_RECIPIENTS = """
    SELECT recipient_id, borough_code, min_severity FROM officer_recipients
    WHERE active AND delivery = 'daily_digest'
"""
SELECT_RECENT_ALERTS = """
    SELECT a.alert_id, a.kind, a.severity, a.title, a.uprn, a.sensor_id, a.raised_at,
           h.address, h.postcode
    FROM alerts a LEFT JOIN homes h ON h.uprn = a.uprn
    WHERE a.borough_code = %(borough)s AND a.raised_at > %(since)s AND a.raised_at <= %(now)s
      AND (CASE a.severity WHEN 'red' THEN 2 WHEN 'amber' THEN 1 ELSE 0 END) >= %(rank)s
    ORDER BY a.raised_at
"""
INSERT_DIGEST = """
    INSERT INTO notification_outbox (idempotency_key, channel, borough_code, event_type,
                                     recipient_id, payload)
    VALUES (%(key)s, 'email', %(borough)s, 'digest', %(recipient_id)s, %(payload)s)
    ON CONFLICT (idempotency_key) DO NOTHING
"""
RANKS = {"info": 0, "amber": 1, "red": 2}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.dead


def deliver_due(
    conn: psycopg.Connection[Any], settings: NotifierSettings, *, now: datetime | None = None
) -> DeliveryReport:
    """Send one batch of due notifications; `conn` must be in autocommit mode."""
    now = now or datetime.now(UTC)
    channels = ["webhook", "email"] if settings.smtp_host else ["webhook"]
    claimed = claim_due(
        conn,
        now=now,
        channels=channels,
        lease=timedelta(seconds=settings.notify_lease_s),
        limit=settings.notify_batch_size,
    )
    started = time.monotonic()
    emails = [n for n in claimed if n.channel == "email"]
    outcomes: list[tuple[Notification, Outcome]] = list(
        zip(emails, send_emails(emails, settings), strict=True)
    )
    webhooks = [n for n in claimed if n.channel == "webhook"]
    for i, notification in enumerate(webhooks):
        # Slow receivers must not outlast the lease, or another notifier would take these
        # rows over while they are still being sent: give the rest back instead.
        if time.monotonic() - started > settings.notify_lease_s / 2:
            release(conn, webhooks[i:])
            break
        outcome = send_webhook(
            notification,
            timeout_s=settings.notify_webhook_timeout_s,
            allow_private=settings.notify_allow_private_webhooks,
        )
        outcomes.append((notification, outcome))
    counts = {"delivered": 0, "failed": 0, "dead": 0}
    for notification, outcome in outcomes:
        result = record_outcome(
            conn,
            notification,
            outcome,
            now=datetime.now(UTC),
            max_attempts=settings.notify_max_attempts,
            base_s=settings.notify_retry_base_s,
            max_s=settings.notify_retry_max_s,
        )
        counts[result] += 1
    return DeliveryReport(**counts)


def enqueue_deadline_breaches(conn: psycopg.Connection[Any], *, now: datetime) -> int:
    """Queue one `case.deadline_breached` event per breached clock of every open case."""
    queued = 0
    before: int | None = None
    while True:
        cases = list_cases(conn, borough=None, status="open", before_case_id=before, limit=500)
        if not cases:
            return queued
        for case in cases:
            for clock in case_clocks(case, now):
                if clock.status != "breached":
                    continue
                queued += publish(
                    conn,
                    event_id=f"case.deadline_breached:{case.case_id}:{clock.name}",
                    event_type="case.deadline_breached",
                    borough_code=case.borough_code,
                    occurred_at=clock.due_at,
                    data={
                        "case_id": case.case_id,
                        "reference": case.reference,
                        "uprn": case.uprn,
                        "clock": {
                            "name": clock.name,
                            "label": clock.label,
                            "regulation": clock.regulation,
                            "due_at": clock.due_at.isoformat(),
                            "due_date": clock.due_date.isoformat(),
                        },
                    },
                    severity="red",
                )
        before = cases[-1].case_id


def enqueue_digests(conn: psycopg.Connection[Any], *, now: datetime, digest_hour: int) -> int:
    """After `digest_hour` (London), queue today's digest for each officer who wants one."""
    local = now.astimezone(LONDON)
    if local.hour < digest_hour:
        return 0
    today = local.date()
    queued = 0
    for recipient_id, borough, min_severity in conn.execute(SELECT_DIGEST_RECIPIENTS).fetchall():
        data = _digest_data(conn, borough=borough, rank=RANKS[min_severity], now=now)
        data["date"] = today.isoformat()
        payload = envelope(
            event_id=f"digest:{borough}:{today.isoformat()}",
            event_type="digest",
            occurred_at=now,
            borough_code=borough,
            data=data,
        )
        queued += conn.execute(
            INSERT_DIGEST,
            {
                "key": f"digest/{recipient_id}/{today.isoformat()}",
                "borough": borough,
                "recipient_id": recipient_id,
                "payload": Jsonb(payload),
            },
        ).rowcount
    return queued


def _digest_data(
    conn: psycopg.Connection[Any], *, borough: str, rank: int, now: datetime
) -> dict[str, Any]:
    alerts = [
        {
            "alert_id": row[0],
            "kind": row[1],
            "severity": row[2],
            "title": row[3],
            "uprn": row[4],
            "sensor_id": row[5],
            "raised_at": row[6].isoformat(),
            "address": row[7],
            "postcode": row[8],
        }
        for row in conn.execute(
            SELECT_RECENT_ALERTS,
            {"borough": borough, "since": now - timedelta(hours=24), "now": now, "rank": rank},
        ).fetchall()
    ]
    deadlines = [
        {
            "case_id": case.case_id,
            "reference": case.reference,
            "uprn": case.uprn,
            "label": clock.label,
            "status": clock.status,
            "due_date": clock.due_date.isoformat(),
        }
        for case in list_cases(conn, borough=borough, status="open", limit=1000)
        for clock in case_clocks(case, now)
        if clock.status in ("due_soon", "breached")
    ]
    return {"alerts": alerts, "deadlines": deadlines}


def run_notifier(settings: NotifierSettings, *, stop: threading.Event) -> None:
    """Deliver notifications until `stop` is set; a lost database is reconnected."""
    url = settings.require_database_url()
    if not settings.smtp_host:
        logger.warning("DAMP_SMTP_HOST is not set: e-mails stay queued, webhooks are sent")
    if settings.notify_allow_private_webhooks:
        logger.warning(
            "DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS is on: webhooks may reach loopback and private "
            "addresses"
        )
    next_scan = 0.0
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                logger.info("notifier connected")
                while not stop.is_set():
                    if time.monotonic() >= next_scan:
                        _scan(conn, settings)
                        next_scan = time.monotonic() + SCAN_INTERVAL_S
                    report = deliver_due(conn, settings)
                    if report.attempted:
                        logger.info(
                            "notifications: %d delivered, %d failed, %d dead",
                            report.delivered,
                            report.failed,
                            report.dead,
                        )
                    if report.attempted < settings.notify_batch_size:
                        stop.wait(settings.notify_poll_interval_s)
        except psycopg.OperationalError as err:
            logger.warning("notifier lost the database (%s); retrying in 5 s", err)
            stop.wait(5.0)


def _scan(conn: psycopg.Connection[Any], settings: NotifierSettings) -> None:
    now = datetime.now(UTC)
    with conn.transaction():
        breaches = enqueue_deadline_breaches(conn, now=now)
        digests = enqueue_digests(conn, now=now, digest_hour=settings.notify_digest_hour)
    if breaches or digests:
        logger.info("queued %d deadline notifications and %d digests", breaches, digests)
