"""Sending one webhook: a signed JSON POST to a checked address, judged by its HTTP status.

Any 2xx is delivered; anything else, a redirect, a timeout or a refused connection is a failed
attempt to retry. Redirects are not followed: a signed body goes only where it was subscribed.
A URL that can never be delivered to (a private address, a bad scheme) is a permanent failure,
dead-lettered at once. The connection goes to the addresses checked by `resolve_destination`,
never to a second DNS answer; TLS still checks the certificate against the URL's host name.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from typing import Any

from alerts.delivery import Notification, Outcome
from alerts.signing import SIGNATURE_HEADER, sign
from alerts.webhook_destination import Destination, RefusedDestinationError, resolve_destination

USER_AGENT = "Dampwatch-Webhooks/1"
# A receiver's answer is judged by its status; the body is read only this far.
MAX_RESPONSE_BYTES = 64 * 1024


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def send_webhook(notification: Notification, *, timeout_s: float, allow_private: bool) -> Outcome:
    """Sign and POST one notification; never raises for a network or receiver failure."""
    started = time.monotonic()
    url, secret = notification.webhook_url, notification.webhook_secret
    if url is None or secret is None:
        return Outcome(
            delivered=False, duration_ms=0, error="subscription has no URL", permanent=True
        )
    try:
        destination = resolve_destination(url, allow_private=allow_private)
    except RefusedDestinationError as err:
        return Outcome(
            delivered=False, duration_ms=_ms(started), error=f"refused: {err}", permanent=True
        )
    except OSError as err:
        return Outcome(delivered=False, duration_ms=_ms(started), error=f"DNS: {err}")
    body = webhook_body(notification.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Dampwatch-Event": notification.event_type,
        "Dampwatch-Delivery": notification.idempotency_key,
        SIGNATURE_HEADER: sign(secret, int(time.time()), body),
    }
    try:
        status = post(destination, body, headers, timeout_s=timeout_s)
    except (OSError, http.client.HTTPException) as err:
        return Outcome(delivered=False, duration_ms=_ms(started), error=str(err) or repr(err))
    if 200 <= status < 300:
        return Outcome(delivered=True, duration_ms=_ms(started), http_status=status)
    return Outcome(
        delivered=False, duration_ms=_ms(started), http_status=status, error=f"HTTP {status}"
    )


def post(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_s: float,
    tls: ssl.SSLContext | None = None,
) -> int:
    """POST `body` to the destination's own addresses and return the HTTP status.

    `tls` defaults to the system's trust store with host name checking.
    """
    connection: http.client.HTTPConnection
    if destination.scheme == "https":
        connection = _PinnedHTTPSConnection(
            destination, timeout_s, tls or ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(destination, timeout_s)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return int(response.status)
    finally:
        connection.close()


def _open_socket(destination: Destination, timeout_s: float) -> socket.socket:
    """Connect to the first of the checked addresses that answers."""
    last: OSError | None = None
    for address in destination.addresses:
        try:
            return socket.create_connection((address, destination.port), timeout=timeout_s)
        except OSError as err:
            last = err
    raise last or OSError(f"{destination.host} has no address")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout_s: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout_s)
        self._destination = destination
        self._timeout_s = timeout_s

    def connect(self) -> None:
        self.sock = _open_socket(self._destination, self._timeout_s)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout_s: float, tls: ssl.SSLContext) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout_s, context=tls)
        self._destination = destination
        self._timeout_s = timeout_s
        self._tls = tls

    def connect(self) -> None:
        sock = _open_socket(self._destination, self._timeout_s)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self._destination.host)
        except BaseException:
            sock.close()
            raise


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
