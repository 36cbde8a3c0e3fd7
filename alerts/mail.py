"""E-mail to officers: plain-text messages from outbox payloads, sent over SMTP.

Each message carries a Message-ID derived from the notification's idempotency key, so a
message sent again after a crash (see alerts.delivery) has the same Message-ID and the mail
system or the reader's client can recognise it as the same message.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
from email.message import EmailMessage
from typing import Any

from alerts.delivery import Notification, Outcome
from alerts.settings import NotifierSettings

IDEMPOTENCY_HEADER = "X-Dampwatch-Idempotency-Key"


def message_id(idempotency_key: str) -> str:
    """A stable RFC 5322 Message-ID for a notification."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@dampwatch>"


def render(notification: Notification, *, base_url: str) -> tuple[str, str]:
    """(subject, body) of the e-mail for an outbox payload."""
    payload = notification.payload
    data: dict[str, Any] = payload.get("data", {})
    event_type = notification.event_type
    if event_type == "digest":
        return _digest(data, base_url)
    if event_type.startswith("alert."):
        return _alert(event_type, data, base_url)
    if event_type == "case.deadline_breached":
        clock = data.get("clock", {})
        return (
            f"[Dampwatch] Deadline missed on case {data.get('reference')}",
            f"Case {data.get('reference')} (UPRN {data.get('uprn')}): "
            f'"{clock.get("label")}" was due by {clock.get("due_at")}.\n\n'
            f"{clock.get('regulation', '')}\n\n"
            f"Record what has been done, or why it could not be, on the case:\n"
            f"{base_url}/cases/{data.get('case_id')}\n",
        )
    if event_type == "case.opened":
        clocks = "".join(f"  - {c['label']}: by {c['due_date']}\n" for c in data.get("clocks", []))
        return (
            f"[Dampwatch] Case {data.get('reference')} opened ({data.get('hazard')} hazard)",
            f"A case was opened for UPRN {data.get('uprn')} by {data.get('opened_by')}.\n"
            f"The landlord is treated as aware from {data.get('aware_at')}.\n\n"
            f"Deadlines:\n{clocks}\n{base_url}/cases/{data.get('case_id')}\n",
        )
    return (f"[Dampwatch] {event_type}", f"{payload}\n")


def _place(data: dict[str, Any]) -> str:
    parts = [p for p in (data.get("address"), data.get("postcode")) if p]
    if parts:
        return ", ".join(parts)
    if data.get("uprn"):
        return f"UPRN {data['uprn']}"
    return f"sensor {data.get('sensor_id')}"


def _alert(event_type: str, data: dict[str, Any], base_url: str) -> tuple[str, str]:
    verb = {"alert.raised": "New", "alert.escalated": "Worse", "alert.cleared": "Cleared"}
    severity = str(data.get("severity", "")).capitalize()
    subject = f"[Dampwatch] {verb.get(event_type, 'Alert')} ({severity}): {data.get('title')}"
    lines = [
        f"{data.get('title')} — {_place(data)}",
        "",
        str(data.get("explanation", "")),
        "",
        f"Raised: {data.get('raised_at')}",
    ]
    if data.get("uprn"):
        lines.append(f"UPRN: {data['uprn']}")
        lines.append(f"{base_url}/homes/{data['uprn']}")
    if data.get("clear_reason"):
        lines.append(f"Cleared: {data['clear_reason']}")
    return (f"{subject} — {_place(data)}", "\n".join(lines) + "\n")


def _digest(data: dict[str, Any], base_url: str) -> tuple[str, str]:
    alerts: list[dict[str, Any]] = data.get("alerts", [])
    deadlines: list[dict[str, Any]] = data.get("deadlines", [])
    lines = [f"Dampwatch daily digest for {data.get('date')}", ""]
    lines.append(f"New alerts in the last 24 hours: {len(alerts)}")
    for alert in alerts:
        lines.append(f"  - [{alert['severity']}] {alert['title']} — {_place(alert)}")
    lines.append("")
    lines.append(f"Case deadlines due soon or missed: {len(deadlines)}")
    for item in deadlines:
        lines.append(
            f"  - {item['reference']}: {item['label']} — {item['status']}, due {item['due_date']}"
        )
    lines.append("")
    lines.append(base_url + "/")
    return (
        f"[Dampwatch] Daily digest {data.get('date')}: {len(alerts)} new alerts, "
        f"{len(deadlines)} deadlines",
        "\n".join(lines) + "\n",
    )


def build_message(notification: Notification, *, sender: str, base_url: str) -> EmailMessage:
    subject, body = render(notification, base_url=base_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.recipient_email or ""
    message["Subject"] = subject
    message["Message-ID"] = message_id(notification.idempotency_key)
    message[IDEMPOTENCY_HEADER] = notification.idempotency_key
    message.set_content(body)
    return message


def send_emails(notifications: list[Notification], settings: NotifierSettings) -> list[Outcome]:
    """Send each message over one SMTP session; one outcome per notification, in order."""
    if not notifications:
        return []
    started = time.monotonic()
    try:
        smtp = _connect(settings)
    except (smtplib.SMTPException, OSError) as err:
        failed = Outcome(delivered=False, duration_ms=_ms(started), error=f"SMTP connect: {err}")
        return [failed for _ in notifications]
    outcomes: list[Outcome] = []
    with smtp:
        for notification in notifications:
            one = time.monotonic()
            if not notification.recipient_email:
                outcomes.append(Outcome(delivered=False, duration_ms=0, error="no recipient"))
                continue
            message = build_message(
                notification, sender=settings.smtp_from, base_url=settings.public_base_url
            )
            try:
                smtp.send_message(message)
            except (smtplib.SMTPException, OSError) as err:
                outcomes.append(Outcome(delivered=False, duration_ms=_ms(one), error=str(err)))
            else:
                outcomes.append(Outcome(delivered=True, duration_ms=_ms(one)))
    return outcomes


def _connect(settings: NotifierSettings) -> smtplib.SMTP:
    host = settings.smtp_host or "localhost"
    if settings.smtp_tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host,
            settings.smtp_port,
            timeout=settings.smtp_timeout_s,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(host, settings.smtp_port, timeout=settings.smtp_timeout_s)
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user and settings.smtp_password is not None:
        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    return smtp


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
