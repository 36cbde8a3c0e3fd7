"""Every payload format carries the values the sensor measured, as ingest's decoders read them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest
from dampsim import SimOptions, generate_dataset
from dampsim.estate import iter_homes
from dampsim.formats import Device, Row, encoder_for

decoders = pytest.importorskip("ingest.decoders")

END = datetime(2026, 1, 20, tzinfo=UTC)
MIXED = SimOptions(
    homes=60,
    boroughs=10,
    seed=31,
    history_days=0.25,
    end_at=END,
    formats="mixed",
    firmware_quirks=False,
    fault_fraction=0.0,
)


def test_a_mixed_estate_speaks_every_format() -> None:
    """Across ten boroughs every format is in use, and LoRaWAN devices with and without codecs."""
    sensors = [s for h in iter_homes(MIXED) for s in h.sensors]
    formats = Counter(s.payload_format for s in sensors)
    assert set(formats) == {"native", "senml", "tts", "chirpstack", "lpp"}
    assert {(s.payload_format, s.lpp_encoded) for s in sensors} >= {
        ("tts", True),
        ("tts", False),
        ("chirpstack", True),
        ("chirpstack", False),
    }


def test_every_format_decodes_to_the_measured_values() -> None:
    """Each reading, encoded in its device's format, decodes to the native reading's values."""
    dataset = generate_dataset(MIXED)
    homes = {h.uprn: h for h in iter_homes(MIXED)}
    devices = {
        s.sensor_id: Device(s.sensor_id, s.payload_format, s.lpp_encoded, h.borough_code, s.key)
        for h in homes.values()
        for s in h.sensors
    }
    r = dataset.readings
    checked = Counter[str]()
    for i in range(0, len(r), 7):
        device = devices[str(dataset.sensors.sensor_id[r.sensor[i]])]
        row = Row(
            int(r.recorded_at[i]),
            float(r.temperature_c[i]),
            float(r.humidity_pct[i]),
            float(r.battery_pct[i]),
            counter=i,
        )
        encoder = encoder_for(device.payload_format)
        received = datetime.fromtimestamp(row.recorded_at + 2, UTC)
        decoded = decoders.decode(
            encoder.topic("", device), encoder.encode(device, [row]), now=received
        )
        (reading,) = decoded.readings
        expected_at = row.recorded_at if encoder.carries_time(device) else received.timestamp()
        assert reading.sensor_id == device.sensor_id
        assert reading.recorded_at.timestamp() == expected_at
        assert (reading.temperature_c, reading.humidity_pct, reading.battery_pct) == (
            row.temperature_c,
            row.humidity_pct,
            row.battery_pct,
        )
        checked[device.payload_format] += 1
    assert set(checked) == {"native", "senml", "tts", "chirpstack", "lpp"}


def test_a_backlog_decodes_to_every_reading_it_carries() -> None:
    """Native and SenML backlogs of a day's readings decode to those readings, in order."""
    rows = [
        Row(int(END.timestamp()) - 600 * k, 18.0 + k / 10, 40.0 + k / 4, 90.0) for k in range(144)
    ]
    for payload_format, sensor_id in (("native", "dw-0123456789ab"), ("senml", "sn-0123456789ab")):
        device = Device(sensor_id, payload_format, False, "E09000001", 1)
        encoder = encoder_for(payload_format)
        decoded = decoders.decode(encoder.topic("", device), encoder.encode(device, rows), now=END)
        got = sorted(
            (x.recorded_at.timestamp(), x.temperature_c, x.humidity_pct) for x in decoded.readings
        )
        assert got == sorted((r.recorded_at, r.temperature_c, r.humidity_pct) for r in rows)
        assert np.all([x.battery_pct == 90.0 for x in decoded.readings])
