"""Sensors: health, one sensor's placements, the unplaced list, placing and provisioning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from api import access
from api.deps import Actor, DbConn, HomeReader, SystemPrincipal
from api.errors import ERROR_RESPONSES, NotFoundError
from api.pagination import Cursor, Limit, Page
from api.queries import placements
from api.queries import sensors as sensor_queries
from api.queries.homes import home_borough
from api.queries.sensors import Health, SensorDetail, SensorOut
from store.provision import ProvisioningFile

router = APIRouter(prefix="/api/v1", tags=["sensors"], responses=ERROR_RESPONSES)

SensorId = Annotated[
    str, Path(min_length=1, max_length=128, description="The id the sensor's firmware sends.")
]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: ERROR_RESPONSES[404] | {"description": "Contradicts the sensor's placements."}
}


class PlacementIn(BaseModel):
    room_id: int = Field(ge=1, le=2**63 - 1)
    valid_from: AwareDatetime | None = Field(
        default=None, description="When it was put there; default now."
    )


class RemovalIn(BaseModel):
    at: AwareDatetime | None = Field(
        default=None, description="When it was taken out; default now."
    )


class ProvisionResult(BaseModel):
    homes: int
    rooms: int
    sensors: int
    placements_opened: int
    placements_closed: int


@router.get("/sensors", summary="List sensors with their health")
def list_sensors(
    db: DbConn,
    principal: HomeReader,
    health: Health | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[SensorOut]:
    """The caller's borough's sensors in id order; filter by health (e.g. `offline`)."""
    return sensor_queries.list_sensors(
        db,
        borough=principal.scope,
        now=datetime.now(UTC),
        health=health,
        limit=limit,
        cursor=cursor,
    )


@router.get("/sensors/unplaced", summary="Sensors waiting to be placed")
def list_unplaced(
    db: DbConn, principal: HomeReader, limit: Limit = 100, cursor: Cursor = None
) -> Page[SensorOut]:
    """Sensors of the borough with no current placement (for admins, also unclaimed ones)."""
    return sensor_queries.list_sensors(
        db,
        borough=principal.scope,
        now=datetime.now(UTC),
        health=Health.UNPLACED,
        limit=limit,
        cursor=cursor,
    )


@router.get("/sensors/{sensor_id}", summary="One sensor and where it has been")
def get_sensor(sensor_id: SensorId, db: DbConn, principal: HomeReader) -> SensorDetail:
    sensor = sensor_queries.get_sensor(
        db, sensor_id=sensor_id, borough=principal.scope, now=datetime.now(UTC)
    )
    if sensor is None:
        raise NotFoundError("no such sensor")
    return sensor


@router.post(
    "/sensors/{sensor_id}/placement", summary="Place a sensor in a room", responses=CONFLICT
)
def place_sensor(
    sensor_id: SensorId, body: PlacementIn, db: DbConn, principal: Actor
) -> SensorDetail:
    """From `valid_from` on, the sensor's readings belong to this room (a move closes the old
    placement there). A sensor no borough has claimed becomes the room's borough's."""
    placements.place_sensor(
        db,
        sensor_id=sensor_id,
        room_id=body.room_id,
        valid_from=body.valid_from or datetime.now(UTC),
        borough=principal.scope,
        actor=principal.actor,
    )
    db.commit()
    return get_sensor(sensor_id, db, principal)


@router.post("/sensors/{sensor_id}/removal", summary="Take a sensor out", responses=CONFLICT)
def remove_sensor(
    sensor_id: SensorId, db: DbConn, principal: Actor, body: RemovalIn | None = None
) -> SensorDetail:
    """End the sensor's current placement; its later readings are kept but belong to no room."""
    placements.remove_sensor(
        db,
        sensor_id=sensor_id,
        at=(body.at if body and body.at else None) or datetime.now(UTC),
        borough=principal.scope,
        actor=principal.actor,
    )
    db.commit()
    return get_sensor(sensor_id, db, principal)


@router.post("/provisioning", summary="Load homes, rooms and sensors", responses=CONFLICT)
def provision(body: ProvisioningFile, db: DbConn, principal: SystemPrincipal) -> ProvisionResult:
    """Upsert an estate (idempotent). Every home must be in the caller's borough."""
    summary = placements.provision_borough(
        db, body.model_dump(), borough=principal.scope, actor=principal.actor
    )
    db.commit()
    return ProvisionResult(
        homes=summary.homes,
        rooms=summary.rooms,
        sensors=summary.sensors,
        placements_opened=summary.placements_opened,
        placements_closed=summary.placements_closed,
    )


@router.get("/homes/{uprn}/sensors", summary="The sensors in a home now", tags=["homes"])
def list_home_sensors(
    uprn: Annotated[int, Path(ge=1, le=999_999_999_999)],
    db: DbConn,
    principal: HomeReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SensorOut]:
    borough_code = home_borough(db, uprn=uprn, borough=principal.scope)
    if borough_code is None:
        raise NotFoundError("no such home")
    sensors = sensor_queries.list_sensors(
        db, borough=principal.scope, now=datetime.now(UTC), uprn=uprn, limit=limit
    ).items
    access.subject_read(db, principal, "home", uprn, borough_code=borough_code, what="sensors")
    return sensors
