"""Migrations: in order, once, from one process or two at once."""

from __future__ import annotations

import threading

import psycopg
import pytest

from store.migrate import Migration, MigrationError, discover_migrations, migrate

pytestmark = pytest.mark.postgres


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def test_migrations_are_numbered_without_gaps_in_order() -> None:
    """Files are discovered in number order and each number is used once."""
    versions = [m.version for m in discover_migrations()]
    assert versions == sorted(versions)
    assert versions[:2] == [1, 2]


def test_migrate_twice_applies_each_file_once(empty_database_url: str) -> None:
    """The second run finds nothing to do and leaves the schema as it was."""
    first = migrate(empty_database_url)
    assert [m.version for m in first] == [m.version for m in discover_migrations()]
    before = _tables(empty_database_url)
    assert migrate(empty_database_url) == []
    assert _tables(empty_database_url) == before
    assert {"boroughs", "homes", "readings", "rejected_messages", "audit_log"} <= before


def test_two_processes_migrating_at_once_leave_one_schema(empty_database_url: str) -> None:
    """Concurrent runs serialise on the advisory lock: every file applied exactly once."""
    results: list[list[Migration]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_database_url))
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = sorted(m.version for batch in results for m in batch)
    assert applied == [m.version for m in discover_migrations()]
    with psycopg.connect(empty_database_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT version) FROM schema_migrations"
        ).fetchone()
    assert row is not None
    assert row[0] == row[1] == len(discover_migrations())


def test_changed_migration_is_refused(empty_database_url: str) -> None:
    """Editing a file after it was applied is an error, not a silent skip."""
    migrate(empty_database_url)
    tampered = [
        Migration(m.version, m.name, m.sql + "\n-- edited\n") if m.version == 1 else m
        for m in discover_migrations()
    ]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(empty_database_url, tampered)


def test_all_london_boroughs_are_seeded(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The 33 GSS codes E09000001-E09000033, each with a name."""
    rows = conn.execute("SELECT gss_code, name FROM boroughs ORDER BY gss_code").fetchall()
    assert [r[0] for r in rows] == [f"E09{n:06d}" for n in range(1, 34)]
    assert rows[32][1] == "Westminster"
