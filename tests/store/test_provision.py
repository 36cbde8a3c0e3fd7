"""Loading a provisioning document: idempotent, and a moved sensor keeps its history."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from store.provision import ProvisioningError, load_provisioning

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]


def _doc(uprn: int, sensor: str, room: str, placed_from: str) -> dict[str, Any]:
    """One home with a bedroom and a kitchen, and `sensor` placed in `room`."""
    rooms: list[dict[str, Any]] = [
        {"name": name, "kind": kind, "sensors": []}
        for name, kind in (("Bedroom", "bedroom"), ("Kitchen", "kitchen"))
    ]
    for r in rooms:
        if r["name"] == room:
            r["sensors"] = [
                {"sensor_id": sensor, "payload_format": "native", "placed_from": placed_from}
            ]
    home = {
        "uprn": uprn,
        "borough_code": "E09000012",
        "address": "Flat 1, 2 Example Street",
        "postcode": "E8 1AA",
        "archetype": "tower_block_flat",
        "rooms": rooms,
    }
    return {"homes": [home]}


def _placements(conn: Conn, sensor: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT r.name, p.valid_from IS NOT NULL, p.valid_to IS NULL FROM sensor_placements p "
        "JOIN rooms r USING (room_id) WHERE sensor_id = %s ORDER BY valid_from",
        (sensor,),
    ).fetchall()


def test_loading_twice_changes_nothing(conn: Conn) -> None:
    """A second load of the same document opens no new placement."""
    uprn, sensor = 920_000_000_000 + uuid.uuid4().int % 99_999_999, f"p-{uuid.uuid4().hex[:8]}"
    doc = _doc(uprn, sensor, "Bedroom", "2026-10-01T00:00:00+00:00")
    first = load_provisioning(conn, doc)
    second = load_provisioning(conn, doc)
    assert (first.homes, first.rooms, first.placements_opened) == (1, 2, 1)
    assert second.placements_opened == 0
    assert _placements(conn, sensor) == [("Bedroom", True, True)]
    borough = conn.execute("SELECT borough_code FROM sensors WHERE sensor_id = %s", (sensor,))
    assert borough.fetchone() == ("E09000012",)
    conn.rollback()


def test_moved_sensor_closes_old_placement_where_new_one_starts(conn: Conn) -> None:
    """Readings before the move stay with the old room."""
    uprn, sensor = 930_000_000_000 + uuid.uuid4().int % 99_999_999, f"p-{uuid.uuid4().hex[:8]}"
    load_provisioning(conn, _doc(uprn, sensor, "Bedroom", "2026-10-01T00:00:00+00:00"))
    moved = load_provisioning(conn, _doc(uprn, sensor, "Kitchen", "2026-11-01T00:00:00+00:00"))
    assert (moved.placements_opened, moved.placements_closed) == (1, 1)
    assert _placements(conn, sensor) == [("Bedroom", True, False), ("Kitchen", True, True)]
    conn.rollback()


def test_move_back_in_time_is_refused(conn: Conn) -> None:
    """A move that starts before the current placement would rewrite history: an error."""
    uprn, sensor = 940_000_000_000 + uuid.uuid4().int % 99_999_999, f"p-{uuid.uuid4().hex[:8]}"
    load_provisioning(conn, _doc(uprn, sensor, "Bedroom", "2026-10-01T00:00:00+00:00"))
    with pytest.raises(ProvisioningError, match="must start after"):
        load_provisioning(conn, _doc(uprn, sensor, "Kitchen", "2026-09-01T00:00:00+00:00"))
    conn.rollback()


def test_document_with_bad_borough_is_rejected_with_reason(conn: Conn) -> None:
    """A malformed document fails validation before anything is written."""
    doc = {"homes": [{"uprn": 1, "borough_code": "W06000015", "rooms": []}]}
    with pytest.raises(ValueError, match="borough_code"):
        load_provisioning(conn, doc)
    conn.rollback()
