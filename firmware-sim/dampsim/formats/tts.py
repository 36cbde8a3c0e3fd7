"""The Things Stack v3 uplink messages, on `v3/{application_id}@{tenant_id}/devices/{id}/up`.

Shaped as TTS's MQTT server publishes them (TTS docs, "Data Formats", uplink messages):
`end_device_ids`, `correlation_ids`, `received_at` and `uplink_message` with `f_port`,
`f_cnt`, `frm_payload` (base64), `decoded_payload` (the output of the application's payload
formatter), `rx_metadata`, `settings`, `received_at`, `consumed_airtime` and `network_ids`.
Most devices have a formatter, so their values are in `decoded_payload`; devices marked
`lpp_encoded` send Cayenne LPP with no formatter, so only `frm_payload` carries them.
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
    vendor_bytes,
)

TENANT_ID = "london-councils"


def application_id(device: Device) -> str:
    return f"dampwatch-{device.borough_code.lower()}"


def topic(prefix: str, device: Device) -> str:
    return f"{prefix}v3/{application_id(device)}@{TENANT_ID}/devices/{device.sensor_id}/up"


def carries_time(_device: Device) -> bool:
    return True


def uplink(device: Device, row: Row) -> dict[str, Any]:
    eui = dev_eui(device).upper()
    r = radio(device, row)
    # The network server's reception time is the reading's time; the gateway heard it one
    # airtime earlier, the application server forwarded it a little later.
    received = rfc3339_nano(row.recorded_at)
    at_gateway = rfc3339_nano(row.recorded_at - 0.061696)
    frm = lpp.lpp_bytes(row, with_time=False) if device.lpp_encoded else vendor_bytes(row)
    message: dict[str, Any] = {
        "session_key_id": b64(digest("session", device.key, size=16)),
        "f_port": FPORT,
        "f_cnt": row.counter,
        "frm_payload": b64(frm),
    }
    if not device.lpp_encoded:
        message["decoded_payload"] = {
            "temperature": row.temperature_c,
            "humidity": row.humidity_pct,
            "battery": row.battery_pct,
        }
    message |= {
        "rx_metadata": [
            {
                "gateway_ids": {
                    "gateway_id": f"gw-{gateway_eui(device)[:8]}",
                    "eui": gateway_eui(device).upper(),
                },
                "time": at_gateway,
                "timestamp": r["timestamp"],
                "rssi": r["rssi"],
                "channel_rssi": r["rssi"],
                "snr": r["snr"],
                "uplink_token": b64(digest("token", device.key, row.counter, size=24)),
                "channel_index": r["channel"],
                "received_at": received,
            }
        ],
        "settings": {
            "data_rate": {
                "lora": {
                    "bandwidth": 125000,
                    "spreading_factor": r["spreading_factor"],
                    "coding_rate": "4/5",
                }
            },
            "frequency": str(EU868_CHANNELS_HZ[int(r["channel"])]),
            "timestamp": r["timestamp"],
            "time": at_gateway,
        },
        "received_at": received,
        "consumed_airtime": "0.061696s",
        "network_ids": {
            "net_id": "000013",
            "tenant_id": TENANT_ID,
            "cluster_id": "eu1",
            "cluster_address": "eu1.cloud.thethings.industries",
        },
    }
    return {
        "end_device_ids": {
            "device_id": device.sensor_id,
            "application_ids": {"application_id": application_id(device)},
            "dev_eui": eui,
            "join_eui": "70B3D57ED0000000",
            "dev_addr": digest("addr", device.key, size=4).hex().upper(),
        },
        "correlation_ids": [f"as:up:{digest('corr', device.key, row.counter).hex().upper()}"],
        "received_at": rfc3339_nano(row.recorded_at + 0.08),
        "uplink_message": message,
    }


def encode(device: Device, rows: list[Row]) -> bytes:
    (row,) = rows
    return json.dumps(uplink(device, row), separators=(",", ":")).encode()
