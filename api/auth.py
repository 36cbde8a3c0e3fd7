"""API keys and logins: creating them, and turning what a caller presents into a Principal.

An API key reads `dw_<key id>_<secret>`. Only the key id and SHA-256 of the secret are stored;
the plaintext is shown once, when the key is made. Passwords are hashed with Argon2id at
argon2-cffi's defaults (the RFC 9106 "second recommended" profile). Every function takes a
connection first and leaves the transaction to its caller.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import class_row

from api.principal import Principal, Role, check_role_scope

logger = logging.getLogger(__name__)

KEY_PREFIX = "dw"
MIN_PASSWORD_LENGTH = 10
DEMO_EMAIL = "officer@demo.dampwatch.test"
DEMO_KEY_LABEL = "demo"

_hasher = PasswordHasher()

INSERT_KEY = """
    INSERT INTO api_keys (key_id, secret_hash, borough_code, role, label)
    VALUES (%s, %s, %s, %s, %s)
    RETURNING key_id, borough_code, role, label, created_at, last_used_at, revoked_at
"""
SELECT_KEY = """
    SELECT secret_hash, borough_code, role, last_used_at < now() - interval '1 minute'
    FROM api_keys WHERE key_id = %s AND revoked_at IS NULL
"""
# Concurrent requests of one key must not queue on its row: the first takes the row's lock for
# the rest of its transaction, the others skip the touch (SKIP LOCKED) rather than wait.
TOUCH_KEY = """
    UPDATE api_keys SET last_used_at = now()
    WHERE key_id = (
        SELECT key_id FROM api_keys
        WHERE key_id = %s AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
        FOR UPDATE SKIP LOCKED)
"""
REVOKE_KEY = """
    UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL
    RETURNING key_id
"""
REVOKE_LABELLED_KEYS = """
    UPDATE api_keys SET revoked_at = now()
    WHERE label = %s AND borough_code IS NOT DISTINCT FROM %s AND revoked_at IS NULL
"""
INSERT_USER = """
    INSERT INTO users (email, password_hash, borough_code, role) VALUES (%s, %s, %s, %s)
    RETURNING user_id, email, borough_code, role, created_at, disabled_at
"""
SELECT_USER_FOR_LOGIN = """
    SELECT user_id, email, borough_code, role, created_at, disabled_at, password_hash
    FROM users WHERE email = %s
"""
RESET_DEMO_USER = """
    UPDATE users SET password_hash = %s, borough_code = %s, role = 'officer', disabled_at = NULL
    WHERE email = %s
"""
INSERT_AUDIT = """
    INSERT INTO audit_log (actor, action, borough_code, subject_type, subject_id, detail)
    VALUES (%s, %s, %s, %s, %s, '{}')
"""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    borough_code: str | None
    role: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    email: str
    borough_code: str | None
    role: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    email: str
    password: str
    api_key: str


def create_api_key(
    conn: psycopg.Connection[Any], *, borough_code: str | None, role: str, label: str
) -> tuple[ApiKey, str]:
    """Make a key; return it with its plaintext, which is never stored and cannot be shown again."""
    check_role_scope(role, borough_code)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with conn.cursor(row_factory=class_row(ApiKey)) as cur:
        cur.execute(INSERT_KEY, (key_id, _digest(secret), borough_code, role, label))
        key = cur.fetchone()
    if key is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    conn.execute(INSERT_AUDIT, ("cli", "api_key.create", borough_code, "api_key", key_id))
    logger.info("created %s API key %s for %s", role, key_id, borough_code or "all boroughs")
    return key, f"{KEY_PREFIX}_{key_id}_{secret}"


def revoke_api_key(conn: psycopg.Connection[Any], *, key_id: str) -> bool:
    """Revoke a key at once; False if there was no such live key."""
    revoked = conn.execute(REVOKE_KEY, (key_id,)).fetchone() is not None
    if revoked:
        conn.execute(INSERT_AUDIT, ("cli", "api_key.revoke", None, "api_key", key_id))
    return revoked


def authenticate_api_key(conn: psycopg.Connection[Any], presented: str) -> Principal | None:
    """The principal a presented key stands for, or None if it is malformed, unknown or revoked."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, key_id, secret = parts
    row = conn.execute(SELECT_KEY, (key_id,)).fetchone()
    if row is None:
        return None
    secret_hash, borough_code, role, stale = row
    if not hmac.compare_digest(bytes(secret_hash), _digest(secret)):
        return None
    if stale is None or stale:
        # Written at most once a minute per key: enough to see which keys are in use.
        conn.execute(TOUCH_KEY, (key_id,))
    return Principal(kind="api_key", subject=key_id, role=Role(role), borough_code=borough_code)


def create_user(
    conn: psycopg.Connection[Any],
    *,
    email: str,
    password: str,
    borough_code: str | None,
    role: str,
) -> User:
    """Make a login for the web page; the password is stored as an Argon2id hash."""
    check_role_scope(role, borough_code)
    _check_password(password)
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(INSERT_USER, (_normal_email(email), _hasher.hash(password), borough_code, role))
        user = cur.fetchone()
    if user is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    conn.execute(INSERT_AUDIT, ("cli", "user.create", borough_code, "user", str(user.user_id)))
    logger.info("created %s login %d", role, user.user_id)
    return user


def verify_login(conn: psycopg.Connection[Any], *, email: str, password: str) -> User | None:
    """The user these credentials belong to, or None (unknown, wrong password or disabled)."""
    row = conn.execute(SELECT_USER_FOR_LOGIN, (_normal_email(email),)).fetchone()
    if row is None:
        _verify(_dummy_hash(), password)
        return None
    *fields, password_hash = row
    if not _verify(password_hash, password) or fields[5] is not None:
        return None
    return User(*fields)


def ensure_demo_credentials(conn: psycopg.Connection[Any], *, borough_code: str) -> DemoCredentials:
    """A demo officer login and API key for one borough that work now, however often called.

    The password is reset and the previous demo key revoked on each call, because neither can
    be read back from its hash to be printed again.
    """
    password = secrets.token_urlsafe(9)
    updated = conn.execute(
        RESET_DEMO_USER, (_hasher.hash(password), borough_code, DEMO_EMAIL)
    ).rowcount
    if updated == 0:
        create_user(
            conn, email=DEMO_EMAIL, password=password, borough_code=borough_code, role="officer"
        )
    conn.execute(REVOKE_LABELLED_KEYS, (DEMO_KEY_LABEL, borough_code))
    _, api_key = create_api_key(
        conn, borough_code=borough_code, role=Role.OFFICER, label=DEMO_KEY_LABEL
    )
    return DemoCredentials(email=DEMO_EMAIL, password=password, api_key=api_key)


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when an email is unknown costs as long as a wrong password, so
    response times do not reveal which logins exist."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _normal_email(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class WeakPasswordError(ValueError):
    """A password too short to be stored."""
