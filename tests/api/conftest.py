"""The API under test: a database of its own with a seeded world, and clients for every role."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.conninfo import make_conninfo

from api.app import create_app
from tests.api.world import World, api_settings, seed_world


@pytest.fixture(scope="session")
def api_database_url(pg_admin_url: str, template_database: str) -> Iterator[str]:
    """A migrated database for the API tests alone, so aggregates see only their world."""
    name = f"dampwatch_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_database)
            )
        )
    try:
        yield make_conninfo(pg_admin_url, dbname=name)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def world(api_database_url: str) -> World:
    """Two boroughs' homes, readings, risk and alerts, and keys for every role."""
    with psycopg.connect(api_database_url) as conn:
        return seed_world(conn, uprn_base=random.randrange(10**9, 10**11, 1000))


@pytest.fixture(scope="session")
def client(api_database_url: str, world: World) -> Iterator[TestClient]:
    """A client of an app serving the seeded world (no credentials of its own)."""
    with TestClient(create_app(api_settings(api_database_url))) as test_client:
        yield test_client


@pytest.fixture
def db(api_database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the API tests' database."""
    with psycopg.connect(api_database_url) as connection:
        yield connection
