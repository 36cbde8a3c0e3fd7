"""Borough isolation over every route the app serves, enumerated from the app itself.

For each route and each principal of borough A (officer key, borough-system key, officer
session), the route is called with borough B's ids in its path, query and body. The answer must
be exactly what a nonexistent id gets (403 or 404), and must not mention any of B's homes,
addresses, sensors, alerts or cases. The regional analyst is called on every route too and must
never receive an address or a UPRN. A route with no entry in ROUTES fails the test: a new
endpoint cannot ship without saying how it is isolated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.sessions import open_session
from tests.api.world import BOROUGH_B, World, bearer

pytestmark = pytest.mark.postgres

NONEXISTENT: dict[str, Any] = {
    "uprn": 999_999_999_999,
    "alert_id": 2**62,
    "case_id": 2**62,
    "sensor_id": "no-such-sensor",
    "subscription_id": 2**62,
    "gss_code": "E09000999",
    "room_id": 2**62,
}


@dataclass(frozen=True)
class Case:
    """How to call a route: `scoped` routes name one thing by id; the rest list or act."""

    kind: str  # "scoped", "collection", "public", "login"
    body: dict[str, Any] | None = None  # JSON body or, for web forms, form fields
    query: dict[str, str] = field(default_factory=dict)


ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/healthz"): Case("public"),
    ("GET", "/readyz"): Case("public"),
    ("GET", "/metrics"): Case("public"),
    ("GET", "/login"): Case("login"),
    ("POST", "/login"): Case("login"),
    ("POST", "/logout"): Case("login"),
    ("GET", "/api/v1/boroughs"): Case("collection"),
    ("GET", "/api/v1/boroughs/{gss_code}"): Case("scoped"),
    ("GET", "/api/v1/regional/overview"): Case("collection"),
    ("GET", "/api/v1/boroughs/{gss_code}/exports/readings.csv"): Case("scoped"),
    ("GET", "/api/v1/boroughs/{gss_code}/exports/alerts.csv"): Case("scoped"),
    ("GET", "/api/v1/boroughs/{gss_code}/exports/cases.csv"): Case("scoped"),
    ("GET", "/api/v1/homes"): Case("collection"),
    ("GET", "/api/v1/homes/{uprn}"): Case("scoped"),
    ("GET", "/api/v1/homes/{uprn}/rooms"): Case("scoped"),
    ("GET", "/api/v1/homes/{uprn}/risk"): Case("scoped"),
    ("GET", "/api/v1/homes/{uprn}/readings"): Case("scoped"),
    ("GET", "/api/v1/homes/{uprn}/readings/hourly"): Case("scoped"),
    ("GET", "/api/v1/homes/{uprn}/sensors"): Case("scoped"),
    ("GET", "/api/v1/alerts"): Case("collection", query={"uprn": "{uprn}"}),
    ("GET", "/api/v1/alerts/{alert_id}"): Case("scoped"),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): Case("scoped", body={"note": "x"}),
    ("POST", "/api/v1/alerts/{alert_id}/case"): Case("scoped", body={}),
    ("GET", "/api/v1/cases"): Case("collection", query={"uprn": "{uprn}"}),
    ("POST", "/api/v1/cases"): Case("scoped", body={"uprn": "{uprn}"}),
    ("GET", "/api/v1/cases/{case_id}"): Case("scoped"),
    ("GET", "/api/v1/cases/{case_id}/events"): Case("scoped"),
    ("GET", "/api/v1/cases/{case_id}/clocks"): Case("scoped"),
    ("POST", "/api/v1/cases/{case_id}/events"): Case("scoped", body={"kind": "note"}),
    ("PUT", "/api/v1/cases/{case_id}/summary"): Case("scoped", body={"text": "x"}),
    ("GET", "/api/v1/cases/{case_id}/summary"): Case("scoped"),
    ("GET", "/api/v1/sensors"): Case("collection"),
    ("GET", "/api/v1/sensors/unplaced"): Case("collection"),
    ("GET", "/api/v1/sensors/{sensor_id}"): Case("scoped"),
    ("POST", "/api/v1/sensors/{sensor_id}/placement"): Case(
        "scoped", body={"room_id": "{own_room_id}"}
    ),
    ("POST", "/api/v1/sensors/{sensor_id}/removal"): Case("scoped", body={}),
    ("POST", "/api/v1/provisioning"): Case("collection", body={"homes": []}),
    ("GET", "/api/v1/webhooks"): Case("collection"),
    ("POST", "/api/v1/webhooks"): Case(
        "collection", body={"url": "https://x.test/h", "borough_code": BOROUGH_B}
    ),
    ("GET", "/api/v1/webhooks/{subscription_id}"): Case("scoped"),
    ("DELETE", "/api/v1/webhooks/{subscription_id}"): Case("scoped"),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries"): Case("scoped"),
    ("GET", "/"): Case("collection"),
    ("GET", "/homes/{uprn}"): Case("scoped"),
    ("GET", "/alerts/{alert_id}"): Case("scoped"),
    ("POST", "/alerts/{alert_id}/acknowledge"): Case("scoped", body={}),
    ("POST", "/alerts/{alert_id}/case"): Case("scoped", body={"hazard": "significant"}),
    ("GET", "/cases"): Case("collection"),
    ("GET", "/cases/{case_id}"): Case("scoped"),
    ("POST", "/cases/{case_id}/events"): Case("scoped", body={"kind": "note"}),
    ("POST", "/cases/{case_id}/summary"): Case("scoped", body={"text": "x"}),
    ("GET", "/sensors"): Case("collection"),
    ("GET", "/regional"): Case("collection"),
}


@dataclass(frozen=True)
class Caller:
    name: str
    headers: dict[str, str]
    csrf_token: str | None = None


def app_routes(client: TestClient) -> Iterator[tuple[str, str, bool]]:
    """(method, path, in OpenAPI) for every route the app answers."""
    # FastAPI keeps included routers unflattened; iter_route_contexts walks them as OpenAPI does.
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, APIRoute) and context.path and context.methods:
            for method in sorted(context.methods):
                yield method, context.path, route.include_in_schema


def test_every_route_has_an_isolation_case(client: TestClient) -> None:
    """Each route of the app, and each path in its OpenAPI document, has a case in ROUTES."""
    served = {(m, p) for m, p, _ in app_routes(client)}
    missing = sorted(served - ROUTES.keys())
    assert not missing, f"add isolation cases for: {missing}"
    documented = {
        (method.upper(), path)
        for path, item in client.get("/openapi.json").json()["paths"].items()
        for method in item
    }
    assert documented <= served
    assert not sorted(ROUTES.keys() - served), "ROUTES names routes the app no longer has"


@pytest.fixture(scope="module")
def callers(client: TestClient, world: World, api_database_url: str) -> dict[str, Caller]:
    """Borough A's officer and system keys, an officer session, and the regional analyst."""
    with psycopg.connect(api_database_url) as conn:
        user_id = conn.execute(
            "SELECT user_id FROM users WHERE email = %s", (world.officer_email,)
        ).fetchone()
        assert user_id is not None
        token = open_session(conn, user_id=user_id[0], ttl=timedelta(hours=1))
        csrf = conn.execute(
            "SELECT csrf_token FROM sessions ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        assert csrf is not None
    return {
        "officer_key": Caller("officer_key", bearer(world.keys["officer_a"])),
        "system_key": Caller("system_key", bearer(world.keys["system_a"])),
        "officer_session": Caller(
            "officer_session",
            {"Cookie": f"dw_session={token}", "X-CSRF-Token": csrf[0]},
            csrf_token=csrf[0],
        ),
        "analyst_key": Caller("analyst_key", bearer(world.keys["analyst"])),
    }


def b_ids(world: World) -> dict[str, Any]:
    return {
        "uprn": world.b.uprns[0],
        "alert_id": world.b.alert_ids[0],
        "case_id": world.b.case_ids[0],
        "sensor_id": world.b.sensor_ids[0],
        "subscription_id": world.b.subscription_ids[0],
        "gss_code": BOROUGH_B,
        "room_id": world.b.room_ids[0],
        "own_room_id": world.a.room_ids[0],
    }


def call(
    client: TestClient, method: str, path: str, case: Case, ids: dict[str, Any], caller: Caller
) -> Any:
    url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(ids[m[1]]), path)
    query = {k: v.format(**ids) for k, v in case.query.items()}
    is_web = not path.startswith("/api/")
    kwargs: dict[str, Any] = {"headers": caller.headers, "params": query}
    if case.body is not None:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in case.body.items()}
        body = {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in body.items()}
        if is_web:
            kwargs["data"] = {**body, "csrf_token": caller.csrf_token or ""}
        else:
            kwargs["json"] = body
    return client.request(method, url, follow_redirects=False, **kwargs)


def forbidden_text(world: World) -> list[str]:
    """Strings that give away one of borough B's things."""
    b = world.b
    return (
        [str(u) for u in b.uprns]
        + [f"Test Street, {BOROUGH_B}"]
        + b.sensor_ids
        + [f'"alert_id":{a}' for a in b.alert_ids]
        + [f'"case_id":{c}' for c in b.case_ids]
    )


BOROUGH_CALLERS = ["officer_key", "system_key", "officer_session"]


@pytest.mark.parametrize("caller_name", BOROUGH_CALLERS)
def test_other_boroughs_things_look_like_nothing(
    client: TestClient, world: World, callers: dict[str, Caller], caller_name: str
) -> None:
    """B's ids get the same 403/404 as ids that do not exist, and no answer mentions B."""
    caller = callers[caller_name]
    failures: list[str] = []
    for (method, path), case in sorted(ROUTES.items()):
        if case.kind in ("public", "login"):
            continue
        is_web = not path.startswith("/api/")
        if is_web and caller_name != "officer_session":
            continue  # the web pages take sessions only; keys are redirected to /login
        response = call(client, method, path, case, b_ids(world), caller)
        leaked = [t for t in forbidden_text(world) if t in response.text]
        if leaked:
            failures.append(f"{method} {path}: mentions {leaked}")
        if case.kind == "scoped":
            absent = call(client, method, path, case, {**b_ids(world), **NONEXISTENT}, caller)
            if response.status_code not in (403, 404):
                failures.append(f"{method} {path}: {response.status_code}, not 403/404")
            elif response.status_code != absent.status_code:
                failures.append(
                    f"{method} {path}: {response.status_code} for B, "
                    f"{absent.status_code} for nothing"
                )
    assert not failures, "\n".join(failures)


def test_regional_analyst_never_receives_an_address_or_uprn(
    client: TestClient, world: World, callers: dict[str, Caller]
) -> None:
    """Every API route, called by the analyst with either borough's ids, names no home."""
    caller = callers["analyst_key"]
    homes = [str(u) for u in world.a.uprns + world.b.uprns] + ["Test Street"]
    failures: list[str] = []
    for (method, path), case in sorted(ROUTES.items()):
        if not path.startswith("/api/") or case.kind == "public":
            continue
        for ids in (b_ids(world), {**b_ids(world), "uprn": world.a.uprns[0]}):
            response = call(client, method, path, case, ids, caller)
            leaked = [t for t in homes if t in response.text]
            if leaked:
                failures.append(f"{method} {path}: {response.status_code} mentions {leaked}")
    assert not failures, "\n".join(failures)


def test_analyst_sees_every_boroughs_figures(
    client: TestClient, world: World, callers: dict[str, Caller]
) -> None:
    """The regional overview gives the analyst both boroughs' counts."""
    response = client.get("/api/v1/regional/overview", headers=callers["analyst_key"].headers)
    figures = {s["gss_code"]: s for s in response.json()}
    assert figures[BOROUGH_B]["homes"] == len(world.b.uprns)
    assert figures[BOROUGH_B]["alerts_red"] >= 1


def test_own_borough_ids_are_found(
    client: TestClient, world: World, callers: dict[str, Caller]
) -> None:
    """The matrix is not vacuous: A's own ids are served (200) on every scoped GET."""
    own = {
        "uprn": world.a.uprns[0],
        "alert_id": world.a.alert_ids[0],
        "case_id": world.a.case_ids[0],
        "sensor_id": world.a.sensor_ids[0],
        "subscription_id": world.a.subscription_ids[0],
        "gss_code": world.a.borough_code,
        "room_id": world.a.room_ids[0],
        "own_room_id": world.a.room_ids[0],
    }
    caller = callers["officer_session"]
    not_served = []
    for (method, path), case in sorted(ROUTES.items()):
        if method != "GET" or case.kind != "scoped" or "webhooks" in path:
            continue
        response = call(client, method, path, case, own, caller)
        if response.status_code != 200:
            not_served.append(f"{path}: {response.status_code}")
    assert not not_served
