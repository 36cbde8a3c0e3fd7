"""Officers' sessions: an opaque cookie token, stored hashed, with a CSRF token per session.

The cookie is HttpOnly and SameSite=Lax; on top of that every unsafe request made with a
session must echo the session's CSRF token (a form field or the X-CSRF-Token header), the
synchronizer-token pattern of the OWASP CSRF Prevention Cheat Sheet. API keys travel in the
Authorization header, which a browser never adds by itself, so they need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import psycopg

from api.principal import Principal, Role

INSERT_SESSION = """
    INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
    VALUES (%s, %s, %s, now() + %s)
"""
SELECT_SESSION = """
    SELECT u.email, u.role, u.borough_code, s.csrf_token,
           s.last_seen_at < now() - interval '1 minute'
    FROM sessions s JOIN users u USING (user_id)
    WHERE s.token_hash = %s AND s.expires_at > now() AND u.disabled_at IS NULL
"""
# As for API keys (api.auth.TOUCH_KEY): a session's parallel requests never queue on its row.
TOUCH_SESSION = """
    UPDATE sessions SET last_seen_at = now()
    WHERE token_hash = (
        SELECT token_hash FROM sessions
        WHERE token_hash = %s AND last_seen_at < now() - interval '1 minute'
        FOR UPDATE SKIP LOCKED)
"""
DELETE_SESSION = "DELETE FROM sessions WHERE token_hash = %s"
DELETE_EXPIRED = "DELETE FROM sessions WHERE user_id = %s AND expires_at <= now()"


def open_session(conn: psycopg.Connection[Any], *, user_id: int, ttl: timedelta) -> str:
    """Start a session for a user; return the cookie token (stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    conn.execute(DELETE_EXPIRED, (user_id,))
    conn.execute(INSERT_SESSION, (_digest(token), user_id, secrets.token_urlsafe(24), ttl))
    return token


def session_principal(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    """The principal of a live session, or None if the token is unknown or expired."""
    row = conn.execute(SELECT_SESSION, (_digest(token),)).fetchone()
    if row is None:
        return None
    email, role, borough_code, csrf_token, stale = row
    if stale:
        conn.execute(TOUCH_SESSION, (_digest(token),))
    return Principal(
        kind="session",
        subject=email,
        role=Role(role),
        borough_code=borough_code,
        csrf_token=csrf_token,
    )


def close_session(conn: psycopg.Connection[Any], token: str) -> None:
    conn.execute(DELETE_SESSION, (_digest(token),))


def csrf_matches(principal: Principal, presented: str | None) -> bool:
    """Whether an unsafe request carries its session's CSRF token (API keys need none)."""
    if principal.csrf_token is None:
        return True
    return presented is not None and hmac.compare_digest(principal.csrf_token, presented)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
