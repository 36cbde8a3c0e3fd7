"""Cursor pagination: an opaque token holding the sort key of the last row a page returned.

Keyset pages stay correct while rows are added (an alert raised between two pages is neither
skipped nor repeated, unlike OFFSET) and cost the same on page 100 as on page 1.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

MAX_PAGE = 500

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(values: Sequence[object]) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, size: int) -> list[str]:
    """The key values in a cursor; InvalidRequestError if it was not made by encode_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidRequestError("the cursor is not one this API returned") from err
    if not isinstance(values, list) or len(values) != size:
        raise InvalidRequestError("the cursor is not one this API returned")
    if not all(isinstance(v, str) for v in values):
        raise InvalidRequestError("the cursor is not one this API returned")
    return values


def paginate(
    rows: list[dict[str, Any]], limit: int, key_columns: Sequence[str], model: type[M]
) -> Page[M]:
    """A page from `limit + 1` fetched rows: the extra row only says that more exist."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor([rows[-1][c] for c in key_columns]) if more and rows else None
    return Page[M](items=[model.model_validate(r) for r in rows], next_cursor=cursor)
