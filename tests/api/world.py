"""A small estate in two boroughs, with readings, risk, alerts and callers of every role.

Borough A and borough B each have two homes with rooms, placed sensors, three days of readings,
room and home risk, and alerts. The isolation tests call the API as A's principals and ask for
B's things by id: every such id must be unknown to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from alerts.cases import open_case
from alerts.subscriptions import add_webhook_subscription
from api.auth import create_api_key, create_user
from api.settings import ApiSettings

BOROUGH_A = "E09000009"  # Ealing
BOROUGH_B = "E09000012"  # Hackney
PASSWORD = "correct horse battery"  # noqa: S105 - the test logins' password
READING_STEP = timedelta(minutes=30)
READING_DAYS = 3


@dataclass
class BoroughWorld:
    borough_code: str
    uprns: list[int] = field(default_factory=list)
    room_ids: list[int] = field(default_factory=list)
    sensor_ids: list[str] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    subscription_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    now: datetime
    a: BoroughWorld
    b: BoroughWorld
    keys: dict[str, str]  # role label -> plaintext API key
    officer_email: str
    analyst_email: str
    unplaced_sensor_id: str


def seed_world(
    conn: psycopg.Connection[Any], *, uprn_base: int, now: datetime | None = None
) -> World:
    """Create the estate and its callers as of `now` (default: now); commits."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(uprn_base)
    a = _seed_borough(conn, BOROUGH_A, uprn_base, now, rng)
    b = _seed_borough(conn, BOROUGH_B, uprn_base + 100, now, rng)
    unplaced = f"unplaced-{uprn_base}"
    conn.execute(
        "INSERT INTO sensors (sensor_id, first_seen_at, last_seen_at) VALUES (%s, %s, %s)",
        (unplaced, now - timedelta(hours=2), now),
    )
    keys = {
        "officer_a": create_api_key(conn, borough_code=BOROUGH_A, role="officer", label="t")[1],
        "system_a": create_api_key(conn, borough_code=BOROUGH_A, role="borough_system", label="t")[
            1
        ],
        "officer_b": create_api_key(conn, borough_code=BOROUGH_B, role="officer", label="t")[1],
        "analyst": create_api_key(conn, borough_code=None, role="regional_analyst", label="t")[1],
        "admin": create_api_key(conn, borough_code=None, role="admin", label="t")[1],
    }
    officer_email = f"officer{uprn_base}@ealing.test"
    analyst_email = f"analyst{uprn_base}@region.test"
    create_user(
        conn, email=officer_email, password=PASSWORD, borough_code=BOROUGH_A, role="officer"
    )
    create_user(
        conn, email=analyst_email, password=PASSWORD, borough_code=None, role="regional_analyst"
    )
    conn.commit()
    return World(now, a, b, keys, officer_email, analyst_email, unplaced)


def _seed_borough(
    conn: psycopg.Connection[Any], borough: str, uprn_base: int, now: datetime, rng: random.Random
) -> BoroughWorld:
    world = BoroughWorld(borough)
    start = now - timedelta(days=READING_DAYS)
    months = sorted({start.replace(day=1), now.replace(day=1)})
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    for n, severity in enumerate(("red", "amber")):
        uprn = uprn_base + n
        world.uprns.append(uprn)
        conn.execute(
            """INSERT INTO homes (uprn, borough_code, address, postcode, archetype,
                                  temperature_factor)
               VALUES (%s, %s, %s, %s, 'victorian_terrace', 0.6)""",
            (uprn, borough, f"{n + 1} Test Street, {borough}", "W5 1AA"),
        )
        for room_name, kind in (("Bedroom 1", "bedroom"), ("Living room", "living_room")):
            row = conn.execute(
                "INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, %s) RETURNING room_id",
                (uprn, room_name, kind),
            ).fetchone()
            assert row is not None
            room_id = int(row[0])
            world.room_ids.append(room_id)
            sensor_id = f"s-{uprn}-{kind}"
            world.sensor_ids.append(sensor_id)
            conn.execute(
                """INSERT INTO sensors (sensor_id, borough_code, first_seen_at, last_seen_at,
                                        last_recorded_at, battery_pct)
                   VALUES (%s, %s, %s, %s, %s, 80)""",
                (sensor_id, borough, start, now, now),
            )
            conn.execute(
                "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) "
                "VALUES (%s, %s, %s)",
                (sensor_id, room_id, start - timedelta(days=30)),
            )
            _seed_readings(conn, sensor_id, start, now, rng)
            _seed_risk(conn, uprn, room_id, now, severity)
        _seed_risk(conn, uprn, None, now, severity)
        row = conn.execute(
            """INSERT INTO alerts (borough_code, uprn, room_id, kind, severity, title,
                                   explanation, evidence, raised_at)
               VALUES (%s, %s, %s, 'damp_mould', %s, %s, 'Condensation likely on cold walls.',
                       %s, %s)
               RETURNING alert_id""",
            (
                borough,
                uprn,
                world.room_ids[-2],
                severity,
                f"Damp and mould risk ({severity})",
                Jsonb({"score": 80 if severity == "red" else 55}),
                now - timedelta(hours=5 - n),
            ),
        ).fetchone()
        assert row is not None
        world.alert_ids.append(int(row[0]))
    row = conn.execute(
        """INSERT INTO alerts (borough_code, sensor_id, kind, severity, title, explanation)
           VALUES (%s, %s, 'battery_low', 'info', 'Battery low', 'Replace within a month.')
           RETURNING alert_id""",
        (borough, world.sensor_ids[0]),
    ).fetchone()
    assert row is not None
    world.alert_ids.append(int(row[0]))
    case = open_case(
        conn,
        uprn=world.uprns[1],
        borough_code=borough,
        hazard="significant",
        aware_at=now - timedelta(days=2),
        opened_by="test",
        alert_id=world.alert_ids[1],
    )
    world.case_ids.append(case.case_id)
    subscription, _ = add_webhook_subscription(
        conn, borough_code=borough, url="https://hms.example.test/hook", created_by="test"
    )
    world.subscription_ids.append(subscription.subscription_id)
    return world


def _seed_readings(
    conn: psycopg.Connection[Any],
    sensor_id: str,
    start: datetime,
    end: datetime,
    rng: random.Random,
) -> None:
    rows = []
    at = start
    while at <= end:
        rows.append((sensor_id, at, 17 + rng.random() * 3, 65 + rng.random() * 15, 80.0))
        at += READING_STEP
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct,
                                     battery_pct) VALUES (%s, %s, %s, %s, %s)""",
            rows,
        )


def _seed_risk(
    conn: psycopg.Connection[Any], uprn: int, room_id: int | None, now: datetime, band: str
) -> None:
    for days_ago, score in ((2, 50), (1, 60), (0, 80 if band == "red" else 55)):
        at = now - timedelta(days=days_ago)
        conn.execute(
            """INSERT INTO risk_assessments (assessed_at, uprn, room_id, window_start,
                   window_end, score, band, mould_index, days_to_m1, days_to_m3, cause,
                   explanation, coverage, model_version)
               VALUES (%s, %s, %s, %s, %s, %s, %s, 0.5, 4, 20, 'cold_fabric',
                       'The coldest wall stays damp for hours each night.', 0.95, 'test-1')""",
            (at, uprn, room_id, at - timedelta(days=7), at, score, band),
        )


def api_settings(database_url: str, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "database_url": SecretStr(database_url),
        "pool_min_size": 1,
        "pool_max_size": 4,
        "secret_key": SecretStr("test-secret"),
        "rate_limit_per_s": 1000.0,
        "rate_limit_burst": 10_000,
    }
    values.update(overrides)
    return ApiSettings(**values)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
