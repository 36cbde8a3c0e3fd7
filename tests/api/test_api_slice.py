"""The first slice: keys, login, the alert inbox, one home, health and metrics."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.world import PASSWORD, World, bearer

pytestmark = pytest.mark.postgres


def test_alerts_need_credentials(client: TestClient) -> None:
    """Without a key or session the alert list is 401 in the common error shape."""
    response = client.get("/api/v1/alerts")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_officer_sees_own_borough_alerts_most_urgent_first(
    client: TestClient, world: World
) -> None:
    """An officer's key lists only its borough's alerts, red before amber before info."""
    response = client.get("/api/v1/alerts", headers=bearer(world.keys["officer_a"]))
    assert response.status_code == 200
    items = response.json()["items"]
    assert {a["alert_id"] for a in items} == set(world.a.alert_ids)
    assert [a["severity"] for a in items] == ["red", "amber", "info"]


def test_home_shows_rooms_and_latest_risk(client: TestClient, world: World) -> None:
    """A home of the officer's borough comes with its rooms, sensors and latest risk."""
    uprn = world.a.uprns[0]
    body = client.get(f"/api/v1/homes/{uprn}", headers=bearer(world.keys["officer_a"])).json()
    assert body["uprn"] == uprn
    assert body["risk"]["score"] == 80
    assert sorted(r["name"] for r in body["rooms"]) == ["Bedroom 1", "Living room"]
    assert all(len(r["sensor_ids"]) == 1 for r in body["rooms"])


def test_other_boroughs_home_is_not_found(client: TestClient, world: World) -> None:
    """Borough B's home is 404 to borough A's officer, as if it did not exist."""
    response = client.get(
        f"/api/v1/homes/{world.b.uprns[0]}", headers=bearer(world.keys["officer_a"])
    )
    assert response.status_code == 404


def test_health_and_readiness_need_no_credentials(client: TestClient) -> None:
    """/healthz and /readyz answer ok without credentials while the database is up."""
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_metrics_count_requests_by_route_template(client: TestClient, world: World) -> None:
    """/metrics counts requests under the route template, never the UPRN itself."""
    uprn = world.a.uprns[1]
    client.get(f"/api/v1/homes/{uprn}", headers=bearer(world.keys["officer_a"]))
    text = client.get("/metrics").text
    assert re.search(r'dampwatch_http_requests_total\{.*route="/api/v1/homes/\{uprn\}"', text)
    assert str(uprn) not in text


def test_officer_logs_in_and_sees_alert_inbox(client: TestClient, world: World) -> None:
    """Logging in through the form leads to / listing the borough's alerts."""
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token is not None
    response = client.post(
        "/login",
        data={"email": world.officer_email, "password": PASSWORD, "login_token": token[1]},
    )
    assert response.status_code == 200
    assert "Damp and mould risk (red)" in response.text
    assert "1 Test Street, E09000009" in response.text
    assert "E09000012" not in response.text
    client.cookies.clear()
