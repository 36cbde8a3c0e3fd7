"""What reading costs and leaves behind: audit entries, exports, a full pool, refused values.

Every read of a home's or a case's data leaves one `access` entry in the audit log; a refused
read leaves none. The cases export is the damp-and-mould data model's CSV. A full connection
pool answers 503 with Retry-After, and a value the database cannot store answers 422.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.audit import list_audit
from alerts.export import COLUMNS
from api.app import create_app, create_app_from_environment
from tests.api.world import BOROUGH_A, World, api_settings, bearer

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]


def _key_actor(key: str) -> str:
    return f"api_key:{key.split('_')[1]}"


def _accesses(db: Conn, subject_type: str, subject_id: object, actor: str) -> list[str]:
    db.rollback()  # a fresh snapshot: see what the app committed
    entries = list_audit(db, subject_type=subject_type, subject_id=str(subject_id), limit=10_000)
    return [e.detail["what"] for e in entries if e.action == "access" and e.actor == actor]


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/api/v1/homes/{uprn}", "home"),
        ("/api/v1/homes/{uprn}/rooms", "rooms"),
        ("/api/v1/homes/{uprn}/risk", "risk"),
        ("/api/v1/homes/{uprn}/readings", "readings"),
        ("/api/v1/homes/{uprn}/readings/hourly", "readings_hourly"),
        ("/api/v1/homes/{uprn}/sensors", "sensors"),
    ],
)
def test_reading_a_home_leaves_one_audit_entry(
    client: TestClient, world: World, db: Conn, path: str, what: str
) -> None:
    """Each answer about a home is recorded once, naming who read what."""
    uprn = world.a.uprns[0]
    key = world.keys["officer_a"]
    before = _accesses(db, "home", uprn, _key_actor(key)).count(what)
    response = client.get(path.format(uprn=uprn), headers=bearer(key))
    assert response.status_code == 200
    assert _accesses(db, "home", uprn, _key_actor(key)).count(what) == before + 1


def test_reading_a_case_leaves_an_audit_entry(client: TestClient, world: World, db: Conn) -> None:
    """A case, its events and its clocks are a home's data too."""
    case_id = world.a.case_ids[0]
    key = world.keys["system_a"]
    for suffix in ("", "/events", "/clocks", "/summary"):
        assert client.get(f"/api/v1/cases/{case_id}{suffix}", headers=bearer(key)).is_success
    seen = _accesses(db, "case", case_id, _key_actor(key))
    assert {"case", "case_events", "case_clocks", "summary"} <= set(seen)


def test_refused_read_leaves_no_audit_entry(client: TestClient, world: World, db: Conn) -> None:
    """Asking for another borough's home is 404 and records no access to it."""
    uprn = world.b.uprns[0]
    key = world.keys["officer_a"]
    assert client.get(f"/api/v1/homes/{uprn}", headers=bearer(key)).status_code == 404
    assert _accesses(db, "home", uprn, _key_actor(key)) == []


def test_cases_export_is_the_data_model_csv(client: TestClient, world: World, db: Conn) -> None:
    """The borough's cases as CSV in the data model's columns, and the export is audited."""
    key = world.keys["officer_a"]
    response = client.get(f"/api/v1/boroughs/{BOROUGH_A}/exports/cases.csv", headers=bearer(key))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0].keys()) == COLUMNS
    assert {int(r["dampwatch_case_id"]) for r in rows} >= set(world.a.case_ids)
    assert {r["dampwatch_borough_code"] for r in rows} == {BOROUGH_A}
    db.rollback()
    exports = list_audit(db, subject_type="borough", subject_id=BOROUGH_A, limit=10_000)
    assert any(e.action == "export.cases" and e.actor == _key_actor(key) for e in exports)


def test_admin_export_of_an_unknown_borough_is_404(client: TestClient, world: World) -> None:
    """An admin may export any borough that exists; one that does not is not found."""
    headers = bearer(world.keys["admin"])
    for name in ("cases.csv", "alerts.csv", "readings.csv"):
        url = f"/api/v1/boroughs/E09000999/exports/{name}"
        assert client.get(url, headers=headers).status_code == 404


@pytest.fixture
def one_connection_app(api_database_url: str) -> Iterator[TestClient]:
    """An app whose pool holds a single connection and waits a tenth of a second for it."""
    settings = api_settings(api_database_url, pool_min_size=1, pool_max_size=1, pool_wait_s=0.1)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_full_pool_answers_503_with_retry_after(
    one_connection_app: TestClient, world: World
) -> None:
    """While every connection is busy a request is told to come back, not given a 500."""
    pool = one_connection_app.app.state.runtime.pool  # type: ignore[attr-defined]
    headers = bearer(world.keys["officer_a"])
    with pool.connection():
        busy = one_connection_app.get("/api/v1/alerts", headers=headers)
    assert busy.status_code == 503
    assert int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["code"] == "unavailable"
    assert one_connection_app.get("/api/v1/alerts", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/cases/{case_id}/events", {"kind": "note", "note": "a\x00b"}),
        ("POST", "/api/v1/cases/{case_id}/events", {"kind": "note", "detail": {"x": "\x00"}}),
        ("PUT", "/api/v1/cases/{case_id}/summary", {"text": "x\x00"}),
        ("POST", "/api/v1/webhooks", {"url": "http://127.0.0.1/", "description": "\x00"}),
    ],
)
def test_nul_characters_are_refused_not_a_server_error(
    client: TestClient, world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL cannot store NUL in text or JSON: the request is invalid (422)."""
    url = path.format(case_id=world.a.case_ids[0])
    response = client.request(method, url, json=body, headers=bearer(world.keys["system_a"]))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_requests_of_one_key_never_queue_on_its_last_used_row(
    client: TestClient, world: World, api_database_url: str
) -> None:
    """While another transaction holds the key's row, a request with the key still answers."""
    key = world.keys["officer_a"]
    key_id = key.split("_")[1]
    with psycopg.connect(api_database_url) as holder:
        holder.execute("UPDATE api_keys SET last_used_at = NULL WHERE key_id = %s", (key_id,))
        holder.commit()
        holder.execute("SELECT 1 FROM api_keys WHERE key_id = %s FOR UPDATE", (key_id,))
        answers: list[int] = []
        worker = threading.Thread(
            target=lambda: answers.append(
                client.get("/api/v1/alerts", headers=bearer(key)).status_code
            )
        )
        worker.start()
        worker.join(timeout=30)
        finished = not worker.is_alive()
        holder.rollback()
        worker.join()
    assert finished, "the request waited for the key's row lock"
    assert answers == [200]


def test_app_factory_for_worker_processes_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, api_database_url: str
) -> None:
    """Each uvicorn worker builds its app from DAMP_* (DAMP_API_WORKERS > 1)."""
    monkeypatch.setenv("DAMP_DATABASE_URL", api_database_url)
    monkeypatch.setenv("DAMP_POOL_WAIT_S", "0.5")
    settings = create_app_from_environment().state.runtime.settings
    assert settings.pool_wait_s == 0.5
    assert settings.require_database_url() == api_database_url
