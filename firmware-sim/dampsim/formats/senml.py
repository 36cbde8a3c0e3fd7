"""SenML JSON packs (RFC 8428) on `dw/v1/senml/{sensor_id}`.

A pack opens with the base name (the device URN, RFC 8428 section 4.5.1) and base time; every
reading then contributes three records at the same relative time `t`: temperature in `Cel`,
relative humidity in `%RH` and battery level in `%EL` (units from the SenML units registry,
RFC 8428 section 12.1). A backlog is one pack with all its readings.
"""

from __future__ import annotations

import json

from dampsim.formats.device import Device, Row


def topic(prefix: str, device: Device) -> str:
    return f"{prefix}dw/v1/senml/{device.sensor_id}"


def carries_time(_device: Device) -> bool:
    return True


def encode(device: Device, rows: list[Row]) -> bytes:
    base_time = rows[0].recorded_at
    records: list[dict[str, object]] = []
    for row in rows:
        offset = row.recorded_at - base_time
        temperature: dict[str, object] = {"n": "temperature", "u": "Cel", "v": row.temperature_c}
        if not records:
            temperature = {"bn": f"urn:dev:id:{device.sensor_id}:", "bt": base_time, **temperature}
        if offset:
            temperature["t"] = offset
        humidity: dict[str, object] = {"n": "humidity", "u": "%RH", "v": row.humidity_pct}
        if offset:
            humidity["t"] = offset
        records += [temperature, humidity]
        if row.battery_pct is not None:
            battery: dict[str, object] = {"n": "battery", "u": "%EL", "v": row.battery_pct}
            if offset:
                battery["t"] = offset
            records.append(battery)
    return json.dumps(records, separators=(",", ":")).encode()
