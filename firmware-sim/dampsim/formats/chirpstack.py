"""ChirpStack v4 uplink events, on `application/{application_id}/device/{dev_eui}/event/up`.

Shaped as ChirpStack's MQTT integration publishes the JSON `UplinkEvent` (ChirpStack v4
integration.proto): `deduplicationId`, `time`, `deviceInfo` (tenant, application, device
profile, `devEui` in lower-case hex), `devAddr`, `adr`, `dr`, `fCnt`, `fPort`, `confirmed`,
`data` (base64 FRMPayload), `object` (the device profile codec's output), `rxInfo` and
`txInfo`. Devices marked `lpp_encoded` have no codec: their values are only in `data`, as
Cayenne LPP.
"""

from __future__ import annotations

import json
from typing import Any

from dampsim.formats import lpp
from dampsim.formats.device import Device, Row
from dampsim.formats.lorawan import (
    EU868_CHANNELS_HZ,
    FPORT,
    b64,
    dev_eui,
    digest,
    gateway_eui,
    radio,
    rfc3339_nano,
    stable_uuid,
    vendor_bytes,
)


def application_id(device: Device) -> str:
    return stable_uuid("application", device.borough_code)


def topic(prefix: str, device: Device) -> str:
    return f"{prefix}application/{application_id(device)}/device/{dev_eui(device)}/event/up"


def carries_time(_device: Device) -> bool:
    return True


def event(device: Device, row: Row) -> dict[str, Any]:
    r = radio(device, row)
    frm = lpp.lpp_bytes(row, with_time=False) if device.lpp_encoded else vendor_bytes(row)
    result: dict[str, Any] = {
        "deduplicationId": stable_uuid("dedup", device.key, row.counter),
        "time": rfc3339_nano(row.recorded_at),
        "deviceInfo": {
            "tenantId": stable_uuid("tenant", "london-councils"),
            "tenantName": "London councils",
            "applicationId": application_id(device),
            "applicationName": f"Dampwatch {device.borough_code}",
            "deviceProfileId": stable_uuid("profile", device.lpp_encoded),
            "deviceProfileName": "TH sensor (LPP)" if device.lpp_encoded else "TH sensor",
            "deviceName": f"th-{dev_eui(device)[-6:]}",
            "devEui": dev_eui(device),
            "deviceClassEnabled": "CLASS_A",
            "tags": {"borough": device.borough_code},
        },
        "devAddr": digest("addr", device.key, size=4).hex(),
        "adr": True,
        "dr": 12 - int(r["spreading_factor"]),
        "fCnt": row.counter,
        "fPort": FPORT,
        "confirmed": False,
        "data": b64(frm),
    }
    if not device.lpp_encoded:
        result["object"] = {
            "temperature": row.temperature_c,
            "humidity": row.humidity_pct,
            "battery": row.battery_pct,
        }
    result["rxInfo"] = [
        {
            "gatewayId": gateway_eui(device),
            "uplinkId": int(r["timestamp"]) % 65536,
            "rssi": r["rssi"],
            "snr": r["snr"],
            "channel": r["channel"],
            "context": b64(digest("ctx", device.key, row.counter, size=4)),
            "crcStatus": "CRC_OK",
        }
    ]
    result["txInfo"] = {
        "frequency": EU868_CHANNELS_HZ[int(r["channel"])],
        "modulation": {
            "lora": {
                "bandwidth": 125000,
                "spreadingFactor": r["spreading_factor"],
                "codeRate": "CR_4_5",
            }
        },
    }
    return result


def encode(device: Device, rows: list[Row]) -> bytes:
    (row,) = rows
    return json.dumps(event(device, row), separators=(",", ":")).encode()
