"""Webhooks through the outbox, to a real HTTP receiver: signed, retried, dead-lettered, and
delivered once across a crash of the sender between sending and marking."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from alert_factories import BOROUGH, Conn, add_assessment, add_home
from alert_receivers import WebhookReceiver, webhook_receiver

from alerts.delivery import list_deliveries
from alerts.notifier import deliver_due
from alerts.outbox import publish
from alerts.rules import evaluate_alerts
from alerts.settings import NotifierSettings
from alerts.signing import verify
from alerts.subscriptions import add_webhook_subscription

pytestmark = pytest.mark.postgres

SECRET = "whsec_test_secret_0123456789"  # noqa: S105 - a test secret
NOW = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def sender(fresh_database_url: str) -> Iterator[Conn]:
    """The notifier's own connection (autocommit, as deliver_due requires)."""
    with psycopg.connect(fresh_database_url, autocommit=True) as connection:
        yield connection


def _settings(url: str, **overrides: Any) -> NotifierSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "notify_retry_base_s": 0.01,
        "notify_retry_max_s": 0.05,
        "notify_max_attempts": 8,
        "notify_lease_s": 1.0,
        # The receiver listens on loopback, which a production notifier refuses.
        "notify_allow_private_webhooks": True,
    }
    values.update(overrides)
    return NotifierSettings(**values)


def _raise_alert(db: Conn, receiver: WebhookReceiver) -> int:
    """A subscription and a red alert in one borough, committed; returns the outbox row id."""
    add_webhook_subscription(
        db, borough_code=BOROUGH, url=receiver.url, created_by="admin", secret=SECRET
    )
    uprn = add_home(db)
    add_assessment(db, uprn=uprn, assessed_at=NOW, band="red")
    evaluate_alerts(db, now=NOW)
    db.commit()
    row = db.execute("SELECT notification_id FROM notification_outbox").fetchone()
    assert row is not None
    return int(row[0])


def _until(done: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _deliver_until(
    sender: Conn, db: Conn, notification_id: int, status: str, settings: NotifierSettings
) -> None:
    """Run delivery passes, as the notifier loop does, until the row reaches `status`."""
    deadline = time.monotonic() + 20.0
    while _status(db, notification_id)[0] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"notification never became {status}")
        deliver_due(sender, settings)
        time.sleep(0.01)


def _status(db: Conn, notification_id: int) -> tuple[str, int]:
    row = db.execute(
        "SELECT status, attempts FROM notification_outbox WHERE notification_id = %s",
        (notification_id,),
    ).fetchone()
    db.commit()
    assert row is not None
    return str(row[0]), int(row[1])


def test_alert_webhook_arrives_signed_with_its_event_and_delivery_id(
    own_db: Conn, sender: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """The receiver gets the documented envelope, and its signature verifies with the secret."""
    notification_id = _raise_alert(own_db, receiver)
    report = deliver_due(sender, _settings(fresh_database_url))
    assert report.delivered == 1
    [arrival] = receiver.arrivals
    assert verify(SECRET, arrival.headers["Dampwatch-Signature"], arrival.body, now=time.time())
    body = json.loads(arrival.body)
    assert (body["type"], body["borough_code"]) == ("alert.raised", BOROUGH)
    assert body["data"]["kind"] == "damp_mould"
    assert arrival.headers["Dampwatch-Event"] == "alert.raised"
    assert arrival.headers["Dampwatch-Delivery"] == f"{body['id']}/webhook/1"
    assert _status(own_db, notification_id) == ("delivered", 1)


def test_receiver_failing_five_times_then_succeeding_gets_the_message_once(
    own_db: Conn, sender: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """Five 500s are retried with backoff; the sixth attempt lands; it is processed once."""
    receiver.fail_first = 5
    notification_id = _raise_alert(own_db, receiver)
    _deliver_until(sender, own_db, notification_id, "delivered", _settings(fresh_database_url))
    assert _status(own_db, notification_id) == ("delivered", 6)
    assert len(receiver.arrivals) == 6
    assert len(receiver.processed) == 1
    outcomes = [
        (d.attempt, d.outcome, d.http_status)
        for d in list_deliveries(own_db, notification_id=notification_id)
    ]
    assert outcomes == [(n, "failed", 500) for n in range(1, 6)] + [(6, "delivered", 200)]
    keys = {a.headers["Dampwatch-Delivery"] for a in receiver.arrivals}
    assert len(keys) == 1


def test_notification_is_dead_lettered_after_the_last_attempt(
    own_db: Conn, sender: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """A receiver that never accepts gets max_attempts tries, then the row is dead."""
    receiver.fail_first = 1000
    notification_id = _raise_alert(own_db, receiver)
    settings = _settings(fresh_database_url, notify_max_attempts=3)
    _deliver_until(sender, own_db, notification_id, "dead", settings)
    assert _status(own_db, notification_id) == ("dead", 3)
    assert [d.outcome for d in list_deliveries(own_db, notification_id=notification_id)] == [
        "failed",
        "failed",
        "dead",
    ]
    deliver_due(sender, settings)
    assert len(receiver.arrivals) == 3


def test_rows_a_slow_pass_cannot_reach_within_its_lease_are_given_back(
    own_db: Conn, sender: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """Past half the lease a pass stops sending; the rest are released, attempts uncounted."""
    receiver.on_arrival = lambda _count: time.sleep(0.6)
    add_webhook_subscription(
        own_db, borough_code=BOROUGH, url=receiver.url, created_by="admin", secret=SECRET
    )
    for n in range(3):
        publish(
            own_db,
            event_id=f"case.opened:{n}",
            event_type="case.opened",
            borough_code=BOROUGH,
            occurred_at=NOW,
            data={"case_id": n},
        )
    own_db.commit()
    report = deliver_due(sender, _settings(fresh_database_url, notify_lease_s=1.0))
    assert report.delivered == 1
    rows = own_db.execute(
        "SELECT status, attempts, locked_until IS NULL FROM notification_outbox "
        "ORDER BY notification_id"
    ).fetchall()
    assert rows == [("delivered", 1, True), ("pending", 0, True), ("pending", 0, True)]


def test_publishing_one_event_twice_queues_it_once(db: Conn, receiver: WebhookReceiver) -> None:
    """The idempotency key makes a repeated publish (a retried transaction) a no-op."""
    add_webhook_subscription(
        db, borough_code=BOROUGH, url=receiver.url, created_by="admin", secret=SECRET
    )
    for _ in range(2):
        publish(
            db,
            event_id="case.opened:999",
            event_type="case.opened",
            borough_code=BOROUGH,
            occurred_at=NOW,
            data={"case_id": 999},
        )
    assert db.execute("SELECT count(*) FROM notification_outbox").fetchone() == (1,)


def _notifier(url: str, env_extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env.update(
        DAMP_DATABASE_URL=url,
        DAMP_NOTIFY_LEASE_S="1",
        DAMP_NOTIFY_POLL_INTERVAL_S="0.05",
        DAMP_NOTIFY_RETRY_BASE_S="0.05",
        DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS="true",
        **env_extra,
    )
    code = (
        "import threading\n"
        "from alerts.notifier import run_notifier\n"
        "from alerts.settings import NotifierSettings\n"
        "run_notifier(NotifierSettings.load(), stop=threading.Event())\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env)


@pytest.mark.slow
def test_webhook_is_processed_once_across_a_sender_crash_between_send_and_mark(
    own_db: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """The first notifier is killed while its request is in flight; a second one resends the
    same delivery id after the lease, and the receiver processes the event exactly once."""
    notification_id = _raise_alert(own_db, receiver)
    first = _notifier(fresh_database_url, {})

    def kill_first_sender(count: int) -> None:
        if count == 1:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()

    receiver.on_arrival = kill_first_sender
    _until(lambda: first.poll() is not None, "the first notifier to die")
    assert first.returncode == -signal.SIGKILL
    assert _status(own_db, notification_id) == ("pending", 1)  # sent, never marked

    second = _notifier(fresh_database_url, {})
    try:
        _until(lambda: _status(own_db, notification_id)[0] == "delivered", "redelivery")
    finally:
        second.terminate()
        second.wait()
    assert len(receiver.arrivals) == 2
    assert len({a.headers["Dampwatch-Delivery"] for a in receiver.arrivals}) == 1
    assert len(receiver.processed) == 1
    assert _status(own_db, notification_id) == ("delivered", 2)
