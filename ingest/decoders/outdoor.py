"""Outdoor weather per borough on `dw/v1/outdoor/{borough_code}` (a GSS code).

The native JSON without battery: `{"recorded_at": "...", "temperature_c": 6.1,
"humidity_pct": 88}` or `{"readings": [...]}`. Rows go to outdoor_conditions with source 'mqtt',
the latest message for a borough and instant winning.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ingest.decoders.native import parse_message
from ingest.decoders.result import (
    Decoded,
    Limits,
    OutdoorReading,
    PayloadError,
    check_borough_code,
    collect,
    make_outdoor,
)

NAME = "outdoor"


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    borough_code = check_borough_code(fields["borough_code"])
    outdoor: list[OutdoorReading] = []
    rejections: list[PayloadError] = []
    entries = parse_message(payload)
    for i, e in enumerate(entries):
        where = f"readings[{i}]: " if len(entries) > 1 else ""
        try:
            outdoor.append(
                make_outdoor(
                    borough_code,
                    e.recorded_at,
                    e.temperature_c,
                    e.humidity_pct,
                    now=now,
                    limits=limits,
                    where=where,
                )
            )
        except PayloadError as err:
            rejections.append(err)
    return collect(NAME, [], outdoor, rejections)
