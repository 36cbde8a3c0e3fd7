"""A TimescaleDB server for the tests that prove the hypertable path of the schema.

`DAMP_TEST_TIMESCALE_URL` names a server (and a user allowed to create databases) where the
timescaledb extension is installed and preloaded. Unset, every test here is skipped with that
reason: nothing is probed. Each run makes its own migrated database there, dropped at the end,
and `fresh_timescale_database_url` gives one test an empty migrated database of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from store.migrate import migrate

TIMESCALE_URL_VARIABLE = "DAMP_TEST_TIMESCALE_URL"

# The same two conditions migration 0002 checks (dw_timescaledb_available) before it makes
# `readings` a hypertable: the extension is installed, and its library is preloaded.
SELECT_TIMESCALEDB_STATE = """
    SELECT
        (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'),
        current_setting('shared_preload_libraries') ~ '(^|[ ,])timescaledb([ ,]|$)'
"""


@pytest.fixture(scope="session")
def timescale_admin_url() -> str:
    """A URL to a TimescaleDB server with the right to create databases."""
    url = os.environ.get(TIMESCALE_URL_VARIABLE)
    if not url:
        pytest.skip(
            f"TimescaleDB not configured: set {TIMESCALE_URL_VARIABLE} to a server with the "
            "timescaledb extension preloaded (e.g. postgresql://postgres@127.0.0.1:5433/postgres)"
        )
    # A configured server that does not answer is an error, not a reason to skip.
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(SELECT_TIMESCALEDB_STATE).fetchone()
    version, preloaded = row if row is not None else (None, False)
    if version is None:
        pytest.skip(f"the server at {TIMESCALE_URL_VARIABLE} has no timescaledb extension")
    if not preloaded:
        pytest.skip(
            f"the server at {TIMESCALE_URL_VARIABLE} has timescaledb {version} installed "
            "but not in shared_preload_libraries"
        )
    return url


def _create_migrated_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(admin_url, dbname=name)
    try:
        migrate(url)
    except BaseException:
        _drop_database(admin_url, name)
        raise
    return name


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def timescale_database_url(timescale_admin_url: str) -> Iterator[str]:
    """A migrated TimescaleDB database shared by this run's tests: use ids of your own."""
    name = _create_migrated_database(timescale_admin_url, "dampwatch_ts_test")
    try:
        yield make_conninfo(timescale_admin_url, dbname=name)
    finally:
        _drop_database(timescale_admin_url, name)


@pytest.fixture
def fresh_timescale_database_url(timescale_admin_url: str) -> Iterator[str]:
    """A migrated, empty TimescaleDB database for this test alone."""
    name = _create_migrated_database(timescale_admin_url, "dampwatch_ts_fresh")
    try:
        yield make_conninfo(timescale_admin_url, dbname=name)
    finally:
        _drop_database(timescale_admin_url, name)


@pytest.fixture
def ts_conn(timescale_database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the run's shared TimescaleDB database; the test owns its transactions."""
    with psycopg.connect(timescale_database_url) as connection:
        yield connection
