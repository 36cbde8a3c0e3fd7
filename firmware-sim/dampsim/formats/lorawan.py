"""What LoRaWAN network servers add around a device's bytes: ids, radio metadata, the payload.

Values are derived from the device and its frame counter, so the same uplink always looks the
same. Each borough's devices are heard by the borough's own gateways.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime

from dampsim.formats.device import Device, Row

# EU863-870 uplink channels (LoRaWAN Regional Parameters RP002, section 2.4.2), Hz.
EU868_CHANNELS_HZ = (
    868_100_000,
    868_300_000,
    868_500_000,
    867_100_000,
    867_300_000,
    867_500_000,
    867_700_000,
    867_900_000,
)
FPORT = 2
NAMESPACE = uuid.UUID("0b6c1f4e-6f2a-4a4e-9d0e-7d1c1d2a5a10")  # the simulator's own namespace


def rfc3339_nano(unix_s: float) -> str:
    """Network servers' timestamps: UTC with a 'Z' and fractional seconds."""
    return (
        datetime.fromtimestamp(unix_s, UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def digest(*parts: object, size: int = 8) -> bytes:
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=size).digest()


def dev_eui(device: Device) -> str:
    """The device's EUI-64 in lower-case hex (a ChirpStack sensor id, or TTS's eui-<hex>)."""
    return device.sensor_id.removeprefix("eui-")


def gateway_eui(device: Device) -> str:
    return digest("gateway", device.borough_code, device.key % 3).hex()


def radio(device: Device, row: Row) -> dict[str, float | int]:
    """RSSI, SNR, channel and spreading factor of one uplink (deterministic)."""
    h = digest("radio", device.key, row.counter)
    return {
        "rssi": -60 - h[0] % 60,
        "snr": round(-5.0 + (h[1] % 150) / 10.0, 1),
        "channel": h[2] % len(EU868_CHANNELS_HZ),
        "spreading_factor": 7 + h[3] % 4,
        "timestamp": int.from_bytes(h[4:8], "big"),
    }


def stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def vendor_bytes(row: Row) -> bytes:
    """The sensor's own binary uplink: version, temperature 0.01 C, RH 0.1 %, battery %."""
    battery = 255 if row.battery_pct is None else round(row.battery_pct)
    return (
        bytes((1,))
        + round(row.temperature_c * 100).to_bytes(2, "big", signed=True)
        + round(row.humidity_pct * 10).to_bytes(2, "big")
        + bytes((battery,))
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
