"""Sending one webhook: a signed JSON POST, judged by its HTTP status.

Any 2xx is delivered; anything else, a redirect, a timeout or a refused connection is a failed
attempt to retry. Redirects are not followed: a signed body goes only where it was subscribed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from alerts.delivery import Notification, Outcome
from alerts.signing import SIGNATURE_HEADER, sign

USER_AGENT = "Dampwatch-Webhooks/1"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def send_webhook(notification: Notification, *, timeout_s: float) -> Outcome:
    url, secret = notification.webhook_url, notification.webhook_secret
    if url is None or secret is None or not url.startswith(("http://", "https://")):
        return Outcome(delivered=False, duration_ms=0, error="subscription has no usable URL")
    body = webhook_body(notification.payload)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Dampwatch-Event": notification.event_type,
            "Dampwatch-Delivery": notification.idempotency_key,
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as err:
        return Outcome(
            delivered=False,
            duration_ms=_ms(started),
            http_status=err.code,
            error=f"HTTP {err.code}",
        )
    except (urllib.error.URLError, OSError) as err:
        return Outcome(delivered=False, duration_ms=_ms(started), error=str(err))
    if 200 <= status < 300:
        return Outcome(delivered=True, duration_ms=_ms(started), http_status=status)
    return Outcome(
        delivered=False, duration_ms=_ms(started), http_status=status, error=f"HTTP {status}"
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
