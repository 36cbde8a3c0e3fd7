"""API keys, logins and the demo's credentials."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import (
    WeakPasswordError,
    authenticate_api_key,
    create_api_key,
    create_user,
    ensure_demo_credentials,
    revoke_api_key,
    verify_login,
)
from api.principal import InvalidRoleError, Role
from tests.api.world import BOROUGH_A, PASSWORD, World, bearer

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]


def test_api_key_is_stored_only_as_a_hash(db: Conn) -> None:
    """The plaintext key appears nowhere in the api_keys row."""
    key, plaintext = create_api_key(db, borough_code=BOROUGH_A, role="officer", label="hash")
    row = db.execute("SELECT * FROM api_keys WHERE key_id = %s", (key.key_id,)).fetchone()
    db.commit()
    assert row is not None
    secret = plaintext.split("_", 2)[2]
    assert all(secret not in str(value) for value in row)
    assert secret.encode() not in bytes(row[1])


def test_key_authenticates_as_its_role_and_borough(db: Conn) -> None:
    """A fresh key maps to a principal of its role, scoped to its borough."""
    _, plaintext = create_api_key(db, borough_code=BOROUGH_A, role="borough_system", label="x")
    principal = authenticate_api_key(db, plaintext)
    db.commit()
    assert principal is not None
    assert (principal.role, principal.scope) == (Role.BOROUGH_SYSTEM, BOROUGH_A)


def test_tampered_or_revoked_key_is_refused(db: Conn) -> None:
    """A key with one character changed, or one revoked, authenticates as nobody."""
    key, plaintext = create_api_key(db, borough_code=BOROUGH_A, role="officer", label="x")
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    assert authenticate_api_key(db, tampered) is None
    assert revoke_api_key(db, key_id=key.key_id)
    assert authenticate_api_key(db, plaintext) is None
    db.commit()


@pytest.mark.parametrize(
    ("role", "borough"),
    [("officer", None), ("borough_system", None), ("regional_analyst", BOROUGH_A), ("boss", None)],
)
def test_role_and_borough_must_agree(db: Conn, role: str, borough: str | None) -> None:
    """Officers and systems need a borough; analysts and admins take none; roles are known."""
    with pytest.raises(InvalidRoleError):
        create_api_key(db, borough_code=borough, role=role, label="bad")
    db.rollback()


def test_short_password_is_refused(db: Conn) -> None:
    """A login with a password under ten characters is not created."""
    with pytest.raises(WeakPasswordError):
        create_user(
            db, email="short@x.test", password=PASSWORD[:3], borough_code=None, role="admin"
        )
    db.rollback()


def test_login_checks_password_case_insensitive_email(db: Conn) -> None:
    """The right password logs in whatever the email's case; a wrong one does not."""
    create_user(db, email="Mixed@Case.test", password=PASSWORD, borough_code=None, role="admin")
    assert verify_login(db, email="mixed@case.TEST", password=PASSWORD) is not None
    assert verify_login(db, email="mixed@case.test", password=PASSWORD.upper()) is None
    assert verify_login(db, email="nobody@case.test", password=PASSWORD) is None
    db.commit()


def test_second_demo_still_prints_working_credentials(db: Conn, client: TestClient) -> None:
    """Calling ensure_demo_credentials twice: the second key and password work, the first key
    does not."""
    first = ensure_demo_credentials(db, borough_code=BOROUGH_A)
    db.commit()
    second = ensure_demo_credentials(db, borough_code=BOROUGH_A)
    db.commit()
    assert client.get("/api/v1/alerts", headers=bearer(second.api_key)).status_code == 200
    assert client.get("/api/v1/alerts", headers=bearer(first.api_key)).status_code == 401
    assert verify_login(db, email=second.email, password=second.password) is not None


def test_malformed_authorization_is_401(client: TestClient, world: World) -> None:
    """Keys that are not of the dw_<id>_<secret> shape are refused, not a server error."""
    for key in ("", "dw_", "dw_x", "nope_abc_def", "dw_" + "a" * 600):
        response = client.get("/api/v1/alerts", headers=bearer(key))
        assert response.status_code == 401, key
