"""The provisioning export: what an installer's records say about the simulated estate.

It lists homes, rooms, sensors and since when each sensor is placed, in the shape
`dampwatch provision` loads. It says nothing of the hidden physics (temperature factor, air
changes, heating, moisture): the service has to infer those. It also keeps the installers'
blind spots: a sensor later moved to another room is still listed where it was installed, and
sensors nobody provisioned are listed apart, under "unprovisioned_sensors".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dampsim.archetypes import ROOM_SLOTS
from dampsim.estate import HomeSpec, iter_homes
from dampsim.options import SimOptions

DAY_S = 86_400


def placed_from_s(options: SimOptions, now_s: float | None = None) -> int:
    """When the sensors were installed: midnight UTC before the history starts.

    Rounding to the day keeps the export identical between two processes started moments
    apart (the demo exports, then starts the simulator).
    """
    end = options.end_at.timestamp() if options.end_at is not None else (now_s or time.time())
    start = end - options.history_days * DAY_S
    return int(start // DAY_S) * DAY_S


def home_document(home: HomeSpec, placed_from: str) -> dict[str, Any]:
    rooms = []
    for slot in home.slots:
        name, kind = ROOM_SLOTS[slot]
        sensors = [
            {
                "sensor_id": s.sensor_id,
                "payload_format": s.payload_format,
                "model": s.model,
                "placed_from": placed_from,
            }
            for s in home.sensors
            if s.slot == slot and s.provisioned
        ]
        rooms.append({"name": name, "kind": kind, "sensors": sensors})
    return {
        "uprn": home.uprn,
        "borough_code": home.borough_code,
        "address": home.address,
        "postcode": home.postcode,
        "archetype": home.archetype,
        "wall_type": home.wall_type,
        "construction_era": home.construction_era,
        "floor_level": home.floor_level,
        "rooms": rooms,
    }


def provisioning_export(
    options: SimOptions, *, now_s: float | None = None, homes: Iterator[HomeSpec] | None = None
) -> dict[str, Any]:
    """The provisioning document for the estate `options` describes."""
    placed_from = datetime.fromtimestamp(placed_from_s(options, now_s), UTC).isoformat()
    documents = []
    unprovisioned: list[str] = []
    for home in homes if homes is not None else iter_homes(options):
        documents.append(home_document(home, placed_from))
        unprovisioned.extend(s.sensor_id for s in home.sensors if not s.provisioned)
    return {"homes": documents, "unprovisioned_sensors": unprovisioned}
