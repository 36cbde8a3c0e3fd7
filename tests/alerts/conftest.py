"""Fixtures for the alert tests: a database whose writes are rolled back, or one of their own.

Most tests only need an empty schema and never commit: they share one database for the
package, and each test's writes are rolled back (`db`). Tests that commit, or whose data another
connection must see (a notifier, a subprocess), get a database of their own (`own_db`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from store.migrate import migrate

# Tables a test on the shared database would leave rows in if it committed.
COMMIT_CANARIES = ("homes", "sensors", "alerts", "cases", "notification_outbox")


@pytest.fixture(scope="package")
def rolled_back_database_url(pg_admin_url: str) -> Iterator[str]:
    """One migrated database for the package's tests that never commit."""
    name = f"dampwatch_alerts_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(pg_admin_url, dbname=name)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def db(rolled_back_database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the package's empty database; the test's writes are rolled back."""
    with psycopg.connect(rolled_back_database_url) as connection:
        yield connection
        connection.rollback()
        for table in COMMIT_CANARIES:
            row = connection.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
            ).fetchone()
            assert row == (False,), f"a test committed into {table}: give it own_db"
        connection.rollback()


@pytest.fixture
def own_db(fresh_database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to an empty migrated database of this test's own, free to commit."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection
