"""Outdoor weather per borough, published hourly like a weather feed.

Topic `{prefix}dw/v1/outdoor/{borough_code}`, payload the native JSON without battery:
`{"recorded_at": ..., "temperature_c": ..., "humidity_pct": ...}`, or `{"readings": [...]}`
for the history.
"""

from __future__ import annotations

import json

import numpy as np

from dampsim.formats.native import rfc3339
from dampsim.weather import outdoor_conditions

HOUR_S = 3600


def outdoor_topic(prefix: str, borough_code: str) -> str:
    return f"{prefix}dw/v1/outdoor/{borough_code}"


def outdoor_messages(
    seed: int, borough_codes: tuple[str, ...], start_s: int, end_s: int
) -> list[tuple[str, bytes, int]]:
    """(borough, payload, readings) for every whole hour in [start_s, end_s), per borough."""
    hours = np.arange(-(-start_s // HOUR_S) * HOUR_S, end_s, HOUR_S, dtype=np.int64)
    if hours.size == 0:
        return []
    temperature, humidity = outdoor_conditions(seed, borough_codes, hours)
    messages = []
    for b, code in enumerate(borough_codes):
        rows = [
            {
                "recorded_at": rfc3339(int(t)),
                "temperature_c": round(float(temperature[i, b]), 1),
                "humidity_pct": round(float(humidity[i, b]), 1),
            }
            for i, t in enumerate(hours.tolist())
        ]
        document: object = rows[0] if len(rows) == 1 else {"readings": rows}
        messages.append((code, json.dumps(document, separators=(",", ":")).encode(), len(rows)))
    return messages
