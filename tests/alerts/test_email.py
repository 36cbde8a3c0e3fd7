"""E-mail to officers through a real SMTP server (aiosmtpd): alerts, digests, a sender crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from alert_factories import BOROUGH, Conn, add_assessment, add_home
from alert_receivers import MailSink, smtp_server

from alerts.cases import open_case
from alerts.notifier import deliver_due, enqueue_deadline_breaches, enqueue_digests
from alerts.rules import evaluate_alerts
from alerts.settings import NotifierSettings
from alerts.subscriptions import add_officer_recipient

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
OFFICER = "officer@hackney.example"


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def sender(fresh_database_url: str) -> Iterator[Conn]:
    with psycopg.connect(fresh_database_url, autocommit=True) as connection:
        yield connection


def _settings(url: str, sink: MailSink, **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,
        "smtp_tls": "none",
        "smtp_from": "Dampwatch <alerts@dampwatch.example>",
        "public_base_url": "https://dampwatch.example",
    }
    values.update(overrides)
    return NotifierSettings(**values)


def test_officer_is_emailed_a_red_alert_but_not_an_amber_one_below_threshold(
    own_db: Conn, sender: Conn, sink: MailSink, fresh_database_url: str
) -> None:
    """An officer with a red threshold gets the red alert, with a link, and no amber one."""
    add_officer_recipient(
        own_db, borough_code=BOROUGH, email=OFFICER, actor="admin", min_severity="red"
    )
    red, amber = add_home(own_db), add_home(own_db)
    add_assessment(own_db, uprn=red, assessed_at=NOW, band="red")
    add_assessment(own_db, uprn=amber, assessed_at=NOW, band="amber")
    evaluate_alerts(own_db, now=NOW)
    own_db.commit()
    assert deliver_due(sender, _settings(fresh_database_url, sink)).delivered == 1
    [message] = sink.arrivals
    assert message["To"] == OFFICER
    assert "Mould growth is likely" in str(message["Subject"])
    body = message.get_payload()
    assert isinstance(body, str)
    assert f"https://dampwatch.example/homes/{red}" in body
    assert message["X-Dampwatch-Idempotency-Key"].startswith("alert.raised:")


def test_without_an_smtp_host_emails_wait_in_the_outbox(
    own_db: Conn, sender: Conn, fresh_database_url: str
) -> None:
    """No SMTP configured: nothing is attempted, nothing is lost."""
    add_officer_recipient(own_db, borough_code=BOROUGH, email=OFFICER, actor="admin")
    uprn = add_home(own_db)
    add_assessment(own_db, uprn=uprn, assessed_at=NOW, band="red")
    evaluate_alerts(own_db, now=NOW)
    own_db.commit()
    settings = NotifierSettings(database_url=fresh_database_url)
    assert deliver_due(sender, settings).attempted == 0
    assert own_db.execute(
        "SELECT status, attempts FROM notification_outbox WHERE channel = 'email'"
    ).fetchone() == ("pending", 0)


def test_daily_digest_is_queued_once_per_officer_per_day_after_the_digest_hour(
    own_db: Conn, sender: Conn, sink: MailSink, fresh_database_url: str
) -> None:
    """Before 07:00 London nothing; after, one digest listing the day's alerts and deadlines."""
    add_officer_recipient(
        own_db, borough_code=BOROUGH, email=OFFICER, actor="admin", delivery="daily_digest"
    )
    uprn = add_home(own_db)
    add_assessment(own_db, uprn=uprn, assessed_at=NOW, band="red")
    evaluate_alerts(own_db, now=NOW)
    open_case(
        own_db,
        uprn=uprn,
        borough_code=BOROUGH,
        hazard="significant",
        aware_at=NOW - timedelta(days=30),
        opened_by=OFFICER,
    )
    assert enqueue_digests(own_db, now=NOW, digest_hour=7) == 0  # 06:00 GMT
    at_eight = NOW + timedelta(hours=2)
    assert enqueue_digests(own_db, now=at_eight, digest_hour=7) == 1
    assert enqueue_digests(own_db, now=at_eight + timedelta(hours=3), digest_hour=7) == 0
    own_db.commit()
    assert deliver_due(sender, _settings(fresh_database_url, sink)).delivered == 1
    [digest] = sink.arrivals
    assert "1 new alerts, 1 deadlines" in str(digest["Subject"])
    body = digest.get_payload()
    assert isinstance(body, str)
    assert "breached" in body


def test_missed_deadline_is_announced_once(db: Conn) -> None:
    """A breached clock queues one case.deadline_breached e-mail, however often it is scanned."""
    add_officer_recipient(db, borough_code=BOROUGH, email=OFFICER, actor="admin")
    uprn = add_home(db)
    open_case(
        db,
        uprn=uprn,
        borough_code=BOROUGH,
        hazard="emergency",
        aware_at=NOW,
        opened_by=OFFICER,
    )
    assert enqueue_deadline_breaches(db, now=NOW + timedelta(hours=23)) == 0
    assert enqueue_deadline_breaches(db, now=NOW + timedelta(hours=25)) == 2
    assert enqueue_deadline_breaches(db, now=NOW + timedelta(hours=26)) == 0


@pytest.mark.slow
def test_email_is_delivered_once_across_a_sender_crash_between_send_and_mark(
    own_db: Conn, sink: MailSink, fresh_database_url: str
) -> None:
    """The SMTP server accepts the message while the notifier is killed; the next notifier
    resends it with the same Message-ID, which the receiving side recognises."""
    add_officer_recipient(own_db, borough_code=BOROUGH, email=OFFICER, actor="admin")
    uprn = add_home(own_db)
    add_assessment(own_db, uprn=uprn, assessed_at=NOW, band="red")
    evaluate_alerts(own_db, now=NOW)
    own_db.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env.update(
        DAMP_DATABASE_URL=fresh_database_url,
        DAMP_SMTP_HOST="127.0.0.1",
        DAMP_SMTP_PORT=str(sink.port),
        DAMP_SMTP_TLS="none",
        DAMP_NOTIFY_LEASE_S="1",
        DAMP_NOTIFY_POLL_INTERVAL_S="0.05",
    )
    code = (
        "import threading\n"
        "from alerts.notifier import run_notifier\n"
        "from alerts.settings import NotifierSettings\n"
        "run_notifier(NotifierSettings.load(), stop=threading.Event())\n"
    )
    first = subprocess.Popen([sys.executable, "-c", code], env=env)
    sink.on_arrival = lambda count: os.kill(first.pid, signal.SIGKILL) if count == 1 else None
    assert first.wait(timeout=30) == -signal.SIGKILL
    assert own_db.execute("SELECT status FROM notification_outbox").fetchone() == ("pending",)
    own_db.commit()

    second = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 30
        while own_db.execute("SELECT status FROM notification_outbox").fetchone() != ("delivered",):
            own_db.commit()
            assert time.monotonic() < deadline, "the second notifier never delivered"
            time.sleep(0.05)
    finally:
        second.terminate()
        second.wait()
    assert len(sink.arrivals) == 2
    assert len(sink.unique) == 1
