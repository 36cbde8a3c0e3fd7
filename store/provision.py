"""Loading a provisioning file: homes, their rooms, the sensors in them and since when.

The file is what an installer's records (or the simulated fleet's export) say about an estate:

    {"homes": [{"uprn": 100023336956, "borough_code": "E09000009", "address": "...",
                "postcode": "...", "archetype": "victorian_terrace", "wall_type": "solid",
                "construction_era": "pre-1919", "floor_level": 0,
                "rooms": [{"name": "Bedroom 1", "kind": "bedroom",
                           "sensors": [{"sensor_id": "a84041000181c0d1",
                                        "payload_format": "chirpstack", "model": "...",
                                        "placed_from": "2026-10-01T09:00:00+00:00"}]}]}],
     "unprovisioned_sensors": ["..."]}

Loading is idempotent: a home, room or sensor already known is updated, and a placement that
already holds is left alone. A sensor that moved to another room has its old placement closed
where the new one starts, so each reading still belongs to the room the sensor was in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

UPSERT_HOME = """
    INSERT INTO homes (uprn, borough_code, address, postcode, archetype, wall_type,
                       construction_era, floor_level, temperature_factor)
    VALUES (%(uprn)s, %(borough_code)s, %(address)s, %(postcode)s, %(archetype)s,
            %(wall_type)s, %(construction_era)s, %(floor_level)s, %(temperature_factor)s)
    ON CONFLICT (uprn) DO UPDATE SET
        borough_code = EXCLUDED.borough_code, address = EXCLUDED.address,
        postcode = EXCLUDED.postcode, archetype = EXCLUDED.archetype,
        wall_type = EXCLUDED.wall_type, construction_era = EXCLUDED.construction_era,
        floor_level = EXCLUDED.floor_level, temperature_factor = EXCLUDED.temperature_factor
"""
UPSERT_ROOM = """
    INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, %s)
    ON CONFLICT (uprn, name) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING room_id
"""
UPSERT_SENSOR = """
    INSERT INTO sensors (sensor_id, borough_code, payload_format, model)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (sensor_id) DO UPDATE SET
        borough_code = EXCLUDED.borough_code,
        payload_format = coalesce(EXCLUDED.payload_format, sensors.payload_format),
        model = coalesce(EXCLUDED.model, sensors.model)
"""
OPEN_PLACEMENT = """
    SELECT placement_id, room_id, valid_from FROM sensor_placements
    WHERE sensor_id = %s AND valid_to IS NULL
    FOR UPDATE
"""
CLOSE_PLACEMENT = "UPDATE sensor_placements SET valid_to = %s WHERE placement_id = %s"
INSERT_PLACEMENT = """
    INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES (%s, %s, %s)
"""
INSERT_AUDIT = """
    INSERT INTO audit_log (actor, action, borough_code, subject_type, subject_id, detail)
    VALUES (%s, 'provision', NULL, 'estate', 'provisioning', %s)
"""


class SensorIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sensor_id: str = Field(min_length=1, max_length=128)
    payload_format: str | None = None
    model: str | None = None
    placed_from: AwareDatetime


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(min_length=1)
    kind: str = Field(pattern=r"^(bedroom|living_room|kitchen|bathroom|other)$")
    sensors: list[SensorIn] = []


class HomeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    uprn: int = Field(ge=1, le=999_999_999_999)
    borough_code: str = Field(pattern=r"^E09[0-9]{6}$")
    address: str | None = None
    postcode: str | None = None
    archetype: str = "unknown"
    wall_type: str | None = None
    construction_era: str | None = None
    floor_level: int | None = None
    temperature_factor: float | None = Field(default=None, gt=0, le=1)
    rooms: list[RoomIn] = []


class ProvisioningFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    homes: list[HomeIn]
    unprovisioned_sensors: list[str] = []


@dataclass(frozen=True, slots=True)
class ProvisionSummary:
    homes: int
    rooms: int
    sensors: int
    placements_opened: int
    placements_closed: int


def load_provisioning(
    conn: psycopg.Connection[Any], document: dict[str, Any], *, actor: str = "provision"
) -> ProvisionSummary:
    """Upsert an estate described by a provisioning document; the caller commits."""
    estate = ProvisioningFile.model_validate(document)
    rooms = sensors = opened = closed = 0
    with conn.cursor() as cur:
        for home in estate.homes:
            cur.execute(UPSERT_HOME, home.model_dump(exclude={"rooms"}))
            for room in home.rooms:
                cur.execute(UPSERT_ROOM, (home.uprn, room.name, room.kind))
                room_id = int(cur.fetchall()[0][0])
                rooms += 1
                for sensor in room.sensors:
                    cur.execute(
                        UPSERT_SENSOR,
                        (sensor.sensor_id, home.borough_code, sensor.payload_format, sensor.model),
                    )
                    sensors += 1
                    o, c = _place(cur, sensor.sensor_id, room_id, sensor.placed_from)
                    opened += o
                    closed += c
        summary = ProvisionSummary(len(estate.homes), rooms, sensors, opened, closed)
        cur.execute(
            INSERT_AUDIT,
            (
                actor,
                Jsonb(
                    {
                        "homes": summary.homes,
                        "rooms": summary.rooms,
                        "sensors": summary.sensors,
                        "placements_opened": opened,
                        "placements_closed": closed,
                    }
                ),
            ),
        )
    logger.info(
        "provisioned %d homes, %d rooms, %d sensors (%d placements opened, %d closed)",
        summary.homes,
        rooms,
        sensors,
        opened,
        closed,
    )
    return summary


def _place(
    cur: psycopg.Cursor[Any], sensor_id: str, room_id: int, placed_from: datetime
) -> tuple[int, int]:
    """Open a placement unless the sensor is already in that room; close a superseded one."""
    cur.execute(OPEN_PLACEMENT, (sensor_id,))
    current = cur.fetchone()
    if current is not None:
        placement_id, current_room, current_from = current
        if current_room == room_id:
            return 0, 0
        if placed_from <= current_from:
            raise ProvisioningError(
                f"sensor {sensor_id} is placed in room {current_room} since {current_from}; "
                f"a move to room {room_id} must start after that, not at {placed_from}"
            )
        cur.execute(CLOSE_PLACEMENT, (placed_from, placement_id))
        cur.execute(INSERT_PLACEMENT, (sensor_id, room_id, placed_from))
        return 1, 1
    cur.execute(INSERT_PLACEMENT, (sensor_id, room_id, placed_from))
    return 1, 0


class ProvisioningError(ValueError):
    """A provisioning document contradicts what the database already holds."""
