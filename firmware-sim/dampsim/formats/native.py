"""The native JSON payload, Dampwatch's public contract.

Topic `{prefix}dw/v1/readings/{sensor_id}`; one reading
`{"recorded_at": "2026-01-05T07:10:03+00:00", "temperature_c": 18.4, "humidity_pct": 61.5,
"battery_pct": 87}` (battery optional) or a backlog `{"readings": [ ...the same objects... ]}`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dampsim.formats.device import Device, Row


def topic(prefix: str, device: Device) -> str:
    return f"{prefix}dw/v1/readings/{device.sensor_id}"


def carries_time(_device: Device) -> bool:
    return True


def rfc3339(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat()


def _object(row: Row) -> str:
    battery = "" if row.battery_pct is None else f',"battery_pct":{row.battery_pct:g}'
    return (
        f'{{"recorded_at":"{rfc3339(row.recorded_at)}","temperature_c":{row.temperature_c:g},'
        f'"humidity_pct":{row.humidity_pct:g}{battery}}}'
    )


def encode(device: Device, rows: list[Row]) -> bytes:
    if len(rows) == 1:
        return _object(rows[0]).encode()
    return ('{"readings":[' + ",".join(_object(r) for r in rows) + "]}").encode()
