"""Webhooks go only to internet addresses, checked after DNS and pinned for the connection;
a refused destination is logged and dead-lettered, never retried."""

from __future__ import annotations

import ipaddress
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alert_factories import BOROUGH, Conn
from alert_receivers import WebhookReceiver, webhook_receiver

from alerts.delivery import Notification, list_deliveries
from alerts.notifier import deliver_due
from alerts.outbox import publish
from alerts.settings import NotifierSettings
from alerts.subscriptions import add_webhook_subscription
from alerts.webhook_destination import (
    Destination,
    RefusedDestinationError,
    address_concern,
    resolve_destination,
)
from alerts.webhooks import post, send_webhook

SECRET = "whsec_test_secret_0123456789"  # noqa: S105 - a test secret
HEADERS = {"Content-Type": "application/json", "Dampwatch-Delivery": "test/1"}


@pytest.mark.parametrize(
    ("address", "concern"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("100.64.0.1", "not globally routable"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_inside_addresses_are_named_and_internet_addresses_pass(
    address: str, concern: str | None
) -> None:
    """Loopback, private, link-local, multicast and IPv4-in-IPv6 forms of them are caught."""
    assert address_concern(ipaddress.ip_address(address)) == concern


def test_host_name_is_judged_by_the_addresses_it_resolves_to() -> None:
    """`localhost` is no IP literal, but it resolves to loopback, so it is refused."""
    with pytest.raises(RefusedDestinationError, match="a loopback address"):
        resolve_destination("http://localhost:8080/hooks", allow_private=False)


def test_allowing_private_webhooks_resolves_a_loopback_destination() -> None:
    """With the setting on, a loopback URL resolves to its address, port and target."""
    destination = resolve_destination("http://127.0.0.1:9/hooks?v=1", allow_private=True)
    assert destination == Destination("http", "127.0.0.1", 9, "/hooks?v=1", ("127.0.0.1",))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/hooks",
        "http://user:pw@93.184.215.14/hooks",
        "http:///hooks",
        "http://[::1/hooks",
        "http://hooks..example/hooks",
        "http://93.184.215.14:99999/hooks",
    ],
)
def test_urls_that_can_never_be_sent_to_are_refused(url: str) -> None:
    """Another scheme, credentials, no host, a malformed host or port: refused, whatever the
    setting, so the notifier dead-letters them instead of failing its pass."""
    with pytest.raises(RefusedDestinationError):
        resolve_destination(url, allow_private=True)


def test_name_that_does_not_resolve_is_a_failure_to_retry() -> None:
    """A DNS failure may pass, so it is retried like a timeout, not dead-lettered."""
    notification = Notification(
        notification_id=1,
        idempotency_key="test/1",
        channel="webhook",
        borough_code=BOROUGH,
        event_type="case.opened",
        payload={},
        attempts=1,
        recipient_email=None,
        webhook_url="https://hooks.invalid/dampwatch",
        webhook_secret=SECRET,
    )
    outcome = send_webhook(notification, timeout_s=2.0, allow_private=False)
    assert (outcome.delivered, outcome.permanent) == (False, False)
    assert outcome.error is not None
    assert outcome.error.startswith("DNS")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running


@pytest.mark.postgres
def test_webhook_to_a_loopback_receiver_is_refused_logged_and_dead_lettered(
    own_db: Conn, receiver: WebhookReceiver, fresh_database_url: str
) -> None:
    """Without the setting, the loopback receiver gets nothing; one attempt, logged, dead."""
    add_webhook_subscription(
        own_db, borough_code=BOROUGH, url=receiver.url, created_by="admin", secret=SECRET
    )
    publish(
        own_db,
        event_id="case.opened:1",
        event_type="case.opened",
        borough_code=BOROUGH,
        occurred_at=datetime(2026, 1, 5, tzinfo=UTC),
        data={"case_id": 1},
    )
    own_db.commit()
    settings = NotifierSettings(database_url=fresh_database_url, notify_retry_base_s=0.01)
    assert settings.notify_allow_private_webhooks is False
    with psycopg.connect(fresh_database_url, autocommit=True) as sender:
        report = deliver_due(sender, settings)
        time.sleep(0.05)
        again = deliver_due(sender, settings)
    assert (report.dead, again.attempted) == (1, 0)
    assert receiver.arrivals == []
    row = own_db.execute(
        "SELECT notification_id, status, attempts FROM notification_outbox"
    ).fetchone()
    assert row is not None
    assert row[1:] == ("dead", 1)
    [delivery] = list_deliveries(own_db, notification_id=row[0])
    assert (delivery.outcome, delivery.http_status) == ("dead", None)
    assert delivery.error is not None
    assert delivery.error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback")


def test_request_goes_to_the_checked_address_without_a_second_lookup(
    receiver: WebhookReceiver,
) -> None:
    """The host name is only the Host header: `.invalid` never resolves, yet the POST lands."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    destination = Destination("http", "hooks.invalid", port, "/hooks/dampwatch", ("127.0.0.1",))
    assert post(destination, b"{}", HEADERS, timeout_s=5.0) == 200
    [arrival] = receiver.arrivals
    assert arrival.headers["Host"] == f"hooks.invalid:{port}"
    assert arrival.body == b"{}"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for hooks.test (and its key), made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test"]
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-nodes", "-days", "1", *subject]
    curve = ["-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(
        [*command, *curve, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_checks_the_certificate_against_the_host_name_not_the_address(
    certificate: tuple[Path, Path],
) -> None:
    """TLS to the pinned address still verifies hooks.test's certificate; another name fails."""
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    with webhook_receiver(tls=server_tls) as tls_receiver:
        port = int(tls_receiver.url.split(":")[2].split("/")[0])
        good = Destination("https", "hooks.test", port, "/hooks", ("127.0.0.1",))
        assert post(good, b"{}", HEADERS, timeout_s=5.0, tls=client_tls) == 200
        wrong = Destination("https", "other.test", port, "/hooks", ("127.0.0.1",))
        with pytest.raises(ssl.SSLCertVerificationError):
            post(wrong, b"{}", HEADERS, timeout_s=5.0, tls=client_tls)
    assert len(tls_receiver.arrivals) == 1
