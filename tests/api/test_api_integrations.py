"""Webhook subscriptions through alerts.subscriptions, and the tenant's written summary.

A subscription URL whose host is inside a network (loopback here) is refused unless
DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS allows it, as tests with local receivers need. The case page
shows the written-summary draft, and an officer's edit saved from it is what the API returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.subscriptions import list_webhook_subscriptions
from api.app import create_app
from api.sessions import open_session
from tests.api.world import BOROUGH_A, World, api_settings, bearer

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def private_client(api_database_url: str, world: World) -> Iterator[TestClient]:
    """An app that accepts webhooks to private and loopback addresses."""
    settings = api_settings(api_database_url, notify_allow_private_webhooks=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("url", "concern"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_webhook_to_an_inside_address_is_refused(
    client: TestClient, world: World, url: str, concern: str
) -> None:
    """By default a URL that resolves inside a network is refused with the reason."""
    response = client.post(
        "/api/v1/webhooks", json={"url": url}, headers=bearer(world.keys["system_a"])
    )
    assert response.status_code == 422
    assert concern in response.json()["error"]["message"]


def test_webhook_to_a_public_address_is_subscribed(
    client: TestClient, world: World, db: Conn
) -> None:
    """A URL on a global address is stored by alerts.subscriptions, with its secret shown once."""
    response = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/dampwatch", "event_types": ["alert.raised"]},
        headers=bearer(world.keys["system_a"]),
    )
    assert response.status_code == 201
    created = response.json()
    assert len(created["secret"]) >= 16
    db.rollback()
    stored = {s.subscription_id: s for s in list_webhook_subscriptions(db, borough_code=BOROUGH_A)}
    assert stored[created["subscription_id"]].url == "https://93.184.215.14/dampwatch"
    assert stored[created["subscription_id"]].event_types == ["alert.raised"]


def test_loopback_webhook_is_accepted_where_the_setting_allows(
    private_client: TestClient, world: World, db: Conn
) -> None:
    """With DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS a local receiver can be subscribed, and stopped."""
    headers = bearer(world.keys["system_a"])
    response = private_client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:8765/hook"}, headers=headers
    )
    assert response.status_code == 201
    subscription_id = response.json()["subscription_id"]
    stopped = private_client.delete(f"/api/v1/webhooks/{subscription_id}", headers=headers)
    assert stopped.status_code == 204
    db.rollback()
    stored = {s.subscription_id: s for s in list_webhook_subscriptions(db, borough_code=BOROUGH_A)}
    assert stored[subscription_id].active is False


@pytest.fixture
def officer_session(api_database_url: str, world: World) -> tuple[dict[str, str], str]:
    """Cookie headers and CSRF token of a fresh session of borough A's officer."""
    with psycopg.connect(api_database_url) as conn:
        user = conn.execute(
            "SELECT user_id FROM users WHERE email = %s", (world.officer_email,)
        ).fetchone()
        assert user is not None
        token = open_session(conn, user_id=user[0], ttl=timedelta(hours=1))
        csrf = conn.execute(
            "SELECT csrf_token FROM sessions ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        assert csrf is not None
        conn.commit()
    return {"Cookie": f"dw_session={token}"}, str(csrf[0])


def test_case_page_shows_the_summary_draft_and_saves_an_edit(
    client: TestClient, world: World, officer_session: tuple[dict[str, str], str]
) -> None:
    """The draft is on the case page; the officer's edit replaces it there and in the API."""
    headers, csrf = officer_session
    case_id = world.a.case_ids[0]
    page = client.get(f"/cases/{case_id}", headers=headers)
    assert page.status_code == 200
    assert 'id="tenant-summary"' in page.text
    assert "Our reference: DW-" in page.text
    edit = f"Dear tenant,\n\nWe inspected your home on case {case_id}. Edited by hand."
    saved = client.post(
        f"/cases/{case_id}/summary",
        data={"text": edit, "csrf_token": csrf},
        headers=headers,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "Edited by hand." in client.get(f"/cases/{case_id}", headers=headers).text
    summary = client.get(
        f"/api/v1/cases/{case_id}/summary", headers=bearer(world.keys["officer_a"])
    ).json()
    assert summary["edited"] is True
    assert summary["text"] == edit
