"""Number arrays (`integer[]`, `real[]`, `double precision[]`) loaded straight into numpy.

psycopg loads an array as (nested) lists of Python numbers, one object per element, which numpy
then copies again. A query that returns thousands of numbers per row (a home's hours as arrays)
spends more time there than in PostgreSQL. The binary array format is a small header, then per
element its length and its big-endian value (PostgreSQL's `array_send`, src/backend/utils/adt/
arrayfuncs.c), so numpy can read the values in place.

    with conn.cursor(binary=True) as cur:
        load_number_arrays_as_numpy(cur)
        cur.execute("SELECT array_agg(x) FROM t")   # -> numpy.ndarray of float64

Every array comes back as float64 in its own shape (an array of arrays, as `array_agg` of
arrays gives, is two-dimensional); a NULL element is NaN.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

# Array type oid -> the big-endian numpy type of its elements (pg_type.dat).
ELEMENTS = {1007: ">i4", 1021: ">f4", 1022: ">f8"}
# Header: dimensions, has-nulls flag, element type oid; then (size, lower bound) per dimension.
HEADER = struct.Struct(">iiI")
DIMENSION = struct.Struct(">ii")
LENGTH = struct.Struct(">i")
NULL_LENGTH = -1


class NumberArrayLoader(Loader):
    """An integer[], real[] or double precision[] in binary as a float64 numpy array."""

    format = Format.BINARY

    def load(self, data: Buffer) -> npt.NDArray[np.float64]:
        dimensions, has_nulls, _ = HEADER.unpack_from(data)
        if dimensions == 0:
            return np.empty(0)
        shape = tuple(
            DIMENSION.unpack_from(data, HEADER.size + d * DIMENSION.size)[0]
            for d in range(dimensions)
        )
        offset = HEADER.size + dimensions * DIMENSION.size
        element = np.dtype(ELEMENTS[self.oid])
        if not has_nulls:
            # Every element is (length, value) with the same length: one record type.
            records = np.frombuffer(
                data,
                dtype=np.dtype([("length", ">i4"), ("value", element)]),
                count=int(np.prod(shape)),
                offset=offset,
            )
            values: npt.NDArray[np.float64] = records["value"].astype(np.float64)
            return values.reshape(shape)
        flat = np.full(int(np.prod(shape)), np.nan)
        view = memoryview(data)
        for i in range(len(flat)):
            (length,) = LENGTH.unpack_from(view, offset)
            offset += LENGTH.size
            if length != NULL_LENGTH:
                flat[i] = np.frombuffer(view, dtype=element, count=1, offset=offset)[0]
                offset += length
        return flat.reshape(shape)


def load_number_arrays_as_numpy(cursor: psycopg.Cursor[Any]) -> None:
    """Make `cursor` (binary) load every integer[], real[] and float8[] as a numpy array."""
    for oid in ELEMENTS:
        cursor.adapters.register_loader(oid, NumberArrayLoader)
