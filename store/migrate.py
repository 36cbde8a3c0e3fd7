"""Forward-only schema migrations: numbered SQL files applied in order, once.

`store/migrations/NNNN_name.sql` files are applied in number order, each in its own transaction,
and recorded in `schema_migrations` with a checksum. The whole run holds a session advisory lock,
so two processes migrating at once apply each file exactly once: the second waits, then finds
nothing left to do. A file that changed after it was applied is refused: migrations are history.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

logger = logging.getLogger(__name__)

# Any fixed 64-bit number works; this one is "dampwatch" hashed, so it is unlikely to meet
# another application's advisory lock in a shared database.
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"dampwatch").digest()[:8], "big", signed=True)

MIGRATION_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

CREATE_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"


class MigrationError(RuntimeError):
    """The database's migration history does not match the files shipped with this version."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations() -> list[Migration]:
    """The migrations shipped in `store/migrations`, in order."""
    found: list[Migration] = []
    for entry in resources.files("store").joinpath("migrations").iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match is None:
            continue
        found.append(
            Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8"))
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a number: {versions}")
    return found


def migrate(database_url: str, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply the migrations not yet applied; return those this call applied."""
    wanted = discover_migrations() if migrations is None else migrations
    applied_now: list[Migration] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(CREATE_MIGRATIONS_TABLE)
            done = {row[0]: (row[1], row[2]) for row in conn.execute(SELECT_APPLIED)}
            _check_history(wanted, done)
            for migration in wanted:
                if migration.version in done:
                    continue
                logger.info("applying migration %04d_%s", migration.version, migration.name)
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        INSERT_APPLIED, (migration.version, migration.name, migration.checksum)
                    )
                applied_now.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    if not applied_now:
        logger.info("schema is up to date")
    return applied_now


def _check_history(wanted: list[Migration], done: dict[int, tuple[str, str]]) -> None:
    known = {m.version: m for m in wanted}
    for version, (name, checksum) in sorted(done.items()):
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {version:04d}_{name}, which this version of "
                "Dampwatch does not know: it is older than the schema"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{name} changed after it was applied; "
                "write a new migration instead"
            )


def timescaledb_enabled(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    """Whether `readings` is a TimescaleDB hypertable in this database."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"
    ).fetchone()
    return bool(row and row[0])
