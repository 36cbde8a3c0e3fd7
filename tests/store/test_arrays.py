"""Number arrays from PostgreSQL load into numpy with the values psycopg's own loaders give."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest

from store.arrays import load_number_arrays_as_numpy

pytestmark = pytest.mark.postgres

CASES = [
    "SELECT ARRAY[1.5, -2.25, 1e300, 'NaN', '-Infinity']::float8[]",
    "SELECT ARRAY[0.1, 21.7, -40]::real[]",
    "SELECT ARRAY[0, 7, -2147483648, 2147483647]::integer[]",
    "SELECT ARRAY[[1, 2, 3], [4, 5, 6]]::integer[]",
    "SELECT ARRAY[[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]]::real[]",
    "SELECT '{}'::float8[]",
    "SELECT ARRAY[1.0, NULL, 3.0]::float8[]",
    "SELECT ARRAY[[NULL, 2], [3, NULL]]::integer[]",
    "SELECT array_agg(x::float8 / 7) FROM generate_series(1, 5000) x",
]


@pytest.mark.parametrize("query", CASES)
def test_numpy_arrays_equal_what_psycopg_loads(conn: psycopg.Connection[Any], query: str) -> None:
    """Shape, values (float32 exactly as stored), NULL as NaN, empty arrays, 2-D arrays."""
    with conn.cursor(binary=True) as cur:
        row = cur.execute(query).fetchone()
        assert row is not None
        expected = np.array(row[0], dtype=np.float64)  # NULL -> None -> nan
    with conn.cursor(binary=True) as cur:
        load_number_arrays_as_numpy(cur)
        row = cur.execute(query).fetchone()
        assert row is not None
        got = row[0]
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_other_cursors_keep_lists(conn: psycopg.Connection[Any]) -> None:
    """The loaders are the cursor's own: the connection's other cursors still get lists."""
    with conn.cursor(binary=True) as cur:
        load_number_arrays_as_numpy(cur)
    row = conn.execute("SELECT ARRAY[1, 2]::integer[]").fetchone()
    assert row is not None
    assert row[0] == [1, 2]
