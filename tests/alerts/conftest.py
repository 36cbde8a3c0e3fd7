"""Fixtures for the alert tests: a fresh database of each test's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


@pytest.fixture
def db(fresh_database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection
