"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.

The header is `Dampwatch-Signature: t=<unix seconds>,v1=<hex digest>`. Signing the timestamp
with the body lets a receiver refuse a replay of an old, validly signed request: check that `t`
is within a few minutes of your clock, then compare digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Dampwatch-Signature"
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh subscription secret (256 bits, URL-safe)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is recent enough."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
