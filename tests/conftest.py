"""Real services for the tests, never mocks.

PostgreSQL: `DAMP_TEST_DATABASE_URL` when set, else the local server on 127.0.0.1:5432 when it
answers, else an embedded one from the pgserver wheel. MQTT likewise: `DAMP_TEST_MQTT_URL`, then
Mosquitto on 127.0.0.1:1883, then an embedded amqtt broker. `DAMP_TEST_EMBEDDED=1` skips the
local servers, to prove the fallback on a machine that has them.

Every run makes its own database (dropped at the end) and every test its own topic prefix, so
runs on one machine never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from dampwatch.embedded import EmbeddedBroker, start_postgres, tcp_reachable
from store.migrate import migrate

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_MQTT_URL = "mqtt://127.0.0.1:1883"


def _embedded_only() -> bool:
    return os.environ.get("DAMP_TEST_EMBEDDED", "") not in ("", "0")


@dataclass(frozen=True, slots=True)
class Broker:
    url: str
    protocol: str  # "5" or "3.1.1"

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL with the right to create databases."""
    configured = os.environ.get("DAMP_TEST_DATABASE_URL")
    if configured:
        yield configured
    elif not _embedded_only() and tcp_reachable("127.0.0.1", 5432):
        yield LOCAL_POSTGRES_URL
    else:
        server = start_postgres(tmp_path_factory.mktemp("pgdata"))
        try:
            yield server.url
        finally:
            server.stop()


def _with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


def _preloads_timescaledb(admin_url: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SHOW shared_preload_libraries").fetchone()
    return row is not None and "timescaledb" in str(row[0])


def _create_database(admin_url: str, name: str, template: str | None = None) -> None:
    """Create `name`, as a copy of `template` where that is safe.

    TimescaleDB restarts its background scheduler in a template database while it is being
    copied, and the scheduler's connection then makes the copy fail at random ("source
    database is being accessed by other users"). There, each database is migrated instead.
    """
    if template is not None and _preloads_timescaledb(admin_url):
        _create_database(admin_url, name)
        migrate(_with_dbname(admin_url, name))
        return
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def template_database(pg_admin_url: str) -> Iterator[str]:
    """A migrated database nobody connects to, copied for tests that need an empty one."""
    name = f"dampwatch_tmpl_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name)
    migrate(_with_dbname(pg_admin_url, name))
    try:
        yield name
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str, template_database: str) -> Iterator[str]:
    """A migrated database shared by this run's tests: use ids of your own."""
    name = f"dampwatch_test_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name, template=template_database)
    try:
        yield _with_dbname(pg_admin_url, name)
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture
def fresh_database_url(pg_admin_url: str, template_database: str) -> Iterator[str]:
    """A migrated, empty database for this test alone."""
    name = f"dampwatch_fresh_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name, template=template_database)
    try:
        yield _with_dbname(pg_admin_url, name)
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture
def empty_database_url(pg_admin_url: str) -> Iterator[str]:
    """A database with no schema at all, for migration tests."""
    name = f"dampwatch_empty_{uuid.uuid4().hex[:10]}"
    _create_database(pg_admin_url, name)
    try:
        yield _with_dbname(pg_admin_url, name)
    finally:
        _drop_database(pg_admin_url, name)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to the run's shared database; the test owns its transactions."""
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """An MQTT broker: configured, local Mosquitto, or embedded amqtt (MQTT 3.1.1 only)."""
    configured = os.environ.get("DAMP_TEST_MQTT_URL")
    if configured:
        yield Broker(configured, os.environ.get("DAMP_TEST_MQTT_PROTOCOL", "5"))
    elif not _embedded_only() and tcp_reachable("127.0.0.1", 1883):
        yield Broker(LOCAL_MQTT_URL, "5")
    else:
        embedded = EmbeddedBroker().start()
        try:
            yield Broker(embedded.url, "3.1.1")
        finally:
            embedded.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic root of this test's own, so concurrent runs never hear each other."""
    return f"test/{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def service_env(database_url: str, broker: Broker, topic_prefix: str) -> dict[str, str]:
    """Environment for a Dampwatch subprocess pointed at this test's services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env.update(
        DAMP_DATABASE_URL=database_url,
        DAMP_MQTT_URL=broker.url,
        DAMP_MQTT_PROTOCOL=broker.protocol,
        DAMP_MQTT_TOPIC_PREFIX=topic_prefix,
    )
    return env


def dbname_of(url: str) -> str:
    return str(conninfo_to_dict(url)["dbname"])


REPO_ROOT = Path(__file__).resolve().parent.parent
