"""`double precision[]` results loaded straight into numpy arrays.

psycopg loads a float8[] as a list of Python floats, one object per element, which numpy then
copies again. A query that returns thousands of numbers per row (a home's hours as arrays) spends
more time there than in PostgreSQL. The binary array format is a small header and then, per
element, its length and its 8-byte big-endian value (PostgreSQL's `array_send`, src/backend/
utils/adt/arrayfuncs.c), so numpy can read the values in place.

    with conn.cursor(binary=True) as cur:
        load_float8_arrays_as_numpy(cur)
        cur.execute("SELECT array_agg(x) FROM t")   # -> numpy.ndarray of float64
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

FLOAT8_ARRAY_OID = 1022
# Header: dimensions, has-nulls flag, element type oid; then (size, lower bound) per dimension.
HEADER = struct.Struct(">iiI")
DIMENSION = struct.Struct(">ii")
ELEMENT = np.dtype([("length", ">i4"), ("value", ">f8")])
NULL_LENGTH = -1


class Float8ArrayNumpyLoader(Loader):
    """A one-dimensional float8[] in binary as a float64 numpy array; NULL elements are NaN."""

    format = Format.BINARY

    def load(self, data: Buffer) -> npt.NDArray[np.float64]:
        dimensions, has_nulls, _ = HEADER.unpack_from(data)
        if dimensions == 0:
            return np.empty(0)
        if dimensions != 1:
            raise psycopg.DataError(f"expected a one-dimensional float8[], got {dimensions}")
        size, _ = DIMENSION.unpack_from(data, HEADER.size)
        offset = HEADER.size + DIMENSION.size
        if not has_nulls:
            elements = np.frombuffer(data, dtype=ELEMENT, count=size, offset=offset)
            values: npt.NDArray[np.float64] = elements["value"].astype(np.float64)
            return values
        values = np.full(size, np.nan)
        view = memoryview(data)
        for i in range(size):
            (length,) = struct.unpack_from(">i", view, offset)
            offset += 4
            if length != NULL_LENGTH:
                (values[i],) = struct.unpack_from(">d", view, offset)
                offset += length
        return values


def load_float8_arrays_as_numpy(cursor: psycopg.Cursor[Any]) -> None:
    """Make `cursor` (binary) load every float8[] column as a numpy array."""
    cursor.adapters.register_loader(FLOAT8_ARRAY_OID, Float8ArrayNumpyLoader)
