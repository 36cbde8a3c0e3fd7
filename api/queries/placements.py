"""Placing a sensor in a room, taking it out, and loading a borough's provisioning file.

A borough may place its own sensors and sensors nobody has claimed yet (heard on the broker,
no borough): placing one claims it for the borough of the room. Everything else of another
borough is, as everywhere, not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from alerts.audit import write_audit
from api.errors import ConflictError, InvalidRequestError, NotFoundError
from store.provision import ProvisioningError, ProvisionSummary, load_provisioning

LOCK_SENSOR = "SELECT borough_code FROM sensors WHERE sensor_id = %s FOR UPDATE"
ROOM_BOROUGH = """
    SELECT h.borough_code FROM rooms rm JOIN homes h USING (uprn)
    WHERE rm.room_id = %s AND (%s::text IS NULL OR h.borough_code = %s)
"""
OPEN_PLACEMENT = """
    SELECT placement_id, room_id, valid_from FROM sensor_placements
    WHERE sensor_id = %s AND valid_to IS NULL
"""
CLOSE_PLACEMENT = "UPDATE sensor_placements SET valid_to = %s WHERE placement_id = %s"
INSERT_PLACEMENT = """
    INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES (%s, %s, %s)
"""
CLAIM_SENSOR = "UPDATE sensors SET borough_code = %s WHERE sensor_id = %s"
FOREIGN_HOMES = """
    SELECT count(*) FROM homes WHERE uprn = ANY(%s) AND borough_code <> %s
"""
FOREIGN_SENSORS = """
    SELECT count(*) FROM sensors
    WHERE sensor_id = ANY(%s) AND borough_code IS NOT NULL AND borough_code <> %s
"""


def place_sensor(
    conn: psycopg.Connection[Any],
    *,
    sensor_id: str,
    room_id: int,
    valid_from: datetime,
    borough: str | None,
    actor: str,
) -> bool:
    """Put a sensor in a room from `valid_from`; False if it was already there. Caller commits."""
    row = conn.execute(LOCK_SENSOR, (sensor_id,)).fetchone()
    if row is None or (borough is not None and row[0] not in (None, borough)):
        raise NotFoundError("no such sensor")
    room = conn.execute(ROOM_BOROUGH, (room_id, borough, borough)).fetchone()
    if room is None:
        raise NotFoundError("no such room")
    room_borough = room[0]
    current = conn.execute(OPEN_PLACEMENT, (sensor_id,)).fetchone()
    if current is not None:
        placement_id, current_room, current_from = current
        if current_room == room_id:
            return False
        if valid_from <= current_from:
            raise ConflictError(
                f"the sensor is placed since {current_from.isoformat()}; "
                "a move must start after that"
            )
        conn.execute(CLOSE_PLACEMENT, (valid_from, placement_id))
    if row[0] != room_borough:
        conn.execute(CLAIM_SENSOR, (room_borough, sensor_id))
    conn.execute(INSERT_PLACEMENT, (sensor_id, room_id, valid_from))
    write_audit(
        conn,
        actor=actor,
        action="sensor.placed",
        subject_type="sensor",
        subject_id=sensor_id,
        borough_code=room_borough,
        detail={"room_id": room_id, "valid_from": valid_from.isoformat()},
    )
    return True


def remove_sensor(
    conn: psycopg.Connection[Any],
    *,
    sensor_id: str,
    at: datetime,
    borough: str | None,
    actor: str,
) -> None:
    """End a sensor's current placement at `at`; it is unplaced from then. Caller commits."""
    row = conn.execute(LOCK_SENSOR, (sensor_id,)).fetchone()
    if row is None or (borough is not None and row[0] != borough):
        raise NotFoundError("no such sensor")
    current = conn.execute(OPEN_PLACEMENT, (sensor_id,)).fetchone()
    if current is None:
        raise ConflictError("the sensor is not placed")
    placement_id, _, current_from = current
    if at <= current_from:
        raise ConflictError(f"the sensor is placed since {current_from.isoformat()}")
    conn.execute(CLOSE_PLACEMENT, (at, placement_id))
    write_audit(
        conn,
        actor=actor,
        action="sensor.removed",
        subject_type="sensor",
        subject_id=sensor_id,
        borough_code=row[0],
        detail={"at": at.isoformat()},
    )


def provision_borough(
    conn: psycopg.Connection[Any],
    document: dict[str, Any],
    *,
    borough: str | None,
    actor: str,
) -> ProvisionSummary:
    """Load a provisioning document whose homes are all in the caller's borough."""
    homes = document.get("homes", [])
    if borough is not None:
        if any(h.get("borough_code") != borough for h in homes):
            raise InvalidRequestError(f"every home must be in borough {borough}")
        uprns = [h.get("uprn") for h in homes if isinstance(h.get("uprn"), int)]
        sensor_ids = [
            s.get("sensor_id")
            for h in homes
            for r in h.get("rooms", [])
            for s in r.get("sensors", [])
        ]
        foreign = conn.execute(FOREIGN_HOMES, (uprns, borough)).fetchone()
        foreign_sensors = conn.execute(FOREIGN_SENSORS, (sensor_ids, borough)).fetchone()
        # One message for both, and no ids: which UPRNs exist elsewhere is not this caller's.
        if (foreign and foreign[0]) or (foreign_sensors and foreign_sensors[0]):
            raise InvalidRequestError("some homes or sensors cannot be provisioned by this borough")
    try:
        return load_provisioning(conn, document, actor=actor)
    except ProvisioningError as err:
        raise ConflictError(str(err)) from err
