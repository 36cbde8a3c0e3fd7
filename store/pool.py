"""The connection pool every long-running process shares."""

from __future__ import annotations

import logging

from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


def open_pool(
    database_url: str, *, min_size: int = 1, max_size: int = 8, name: str = "dampwatch"
) -> ConnectionPool:
    """Open a pool and wait until its first connection works, so a bad URL fails at start."""
    pool = ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        # A connection that died while idle (database restart) is replaced, not handed out.
        check=ConnectionPool.check_connection,
    )
    pool.open(wait=True, timeout=30.0)
    logger.info("connection pool %s open (%d..%d)", name, min_size, max_size)
    return pool
