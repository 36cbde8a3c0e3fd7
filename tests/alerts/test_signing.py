"""Webhook signatures: HMAC-SHA256 over "timestamp.body" verifies, and nothing else does."""

from __future__ import annotations

import hashlib
import hmac

from alerts.signing import sign, verify

SECRET = "whsec_test_secret_0123456789"  # noqa: S105 - a test secret
BODY = b'{"id":"alert.raised:1","type":"alert.raised"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """The v1 value is the documented HMAC, so any receiver can recompute it."""
    expected = hmac.new(SECRET.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1767225600, BODY) == f"t=1767225600,v1={expected}"


def test_signature_verifies_and_rejects_tampering_wrong_secret_and_replay() -> None:
    """A fresh signature verifies; a changed body, another secret or an old one do not."""
    header = sign(SECRET, 1767225600, BODY)
    assert verify(SECRET, header, BODY, now=1767225600 + 10)
    assert not verify(SECRET, header, BODY + b" ", now=1767225600 + 10)
    assert not verify("whsec_another_secret_987654", header, BODY, now=1767225600 + 10)
    assert not verify(SECRET, header, BODY, now=1767225600 + 3600)
    assert not verify(SECRET, "v1=deadbeef", BODY, now=1767225600)
