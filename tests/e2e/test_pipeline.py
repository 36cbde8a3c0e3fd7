"""The whole product, process by process: simulator -> broker -> ingest -> database -> score
-> alert -> API. Each part runs as its `dampwatch` command would in production, so this is
also a contract test of the MQTT payloads and the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dampwatch.embedded import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]

FLEET = [
    "--homes", "24", "--boroughs", "2", "--seed", "7", "--history-days", "35",
    "--mould-fraction", "0.5", "--no-progress",
]  # fmt: skip
SETTLE_TIMEOUT_S = 120.0


def dampwatch(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run one `dampwatch` command to completion and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "dampwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"dampwatch {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def env(service_env: dict[str, str], fresh_database_url: str) -> dict[str, str]:
    """The test's own database, broker topics, ingest client id and metrics port."""
    return service_env | {
        "DAMP_DATABASE_URL": fresh_database_url,
        "DAMP_INGEST_CLIENT_ID": f"e2e-{time.monotonic_ns()}",
        "DAMP_INGEST_METRICS_PORT": "0",
    }


@pytest.fixture
def ingest_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "dampwatch", "ingest"], env=env)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def api_url(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dampwatch", "api"], env=env | {"DAMP_API_PORT": str(port)}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the API did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_for_readings(database_url: str, expected: int) -> int:
    """Poll until `expected` readings are stored or the count stops growing."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    count = -1
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM readings").fetchone()
            assert row is not None
            count = int(row[0])
            if count >= expected:
                return count
            time.sleep(0.5)
    return count


def test_simulated_fleet_becomes_alerts_served_by_the_api(
    tmp_path: Path,
    fresh_database_url: str,
    env: dict[str, str],
    ingest_process: subprocess.Popen[bytes],
    api_url: str,
) -> None:
    """Homes the simulator sets up to grow mould reach the API as damp alerts, via every part."""
    provisioning = tmp_path / "estate.json"
    dampwatch("simulate", *FLEET, "--dry-run", "--provision-out", str(provisioning), env=env)
    dampwatch("provision", str(provisioning), env=env)

    out = dampwatch(
        "simulate", *FLEET, "--mode", "backfill", "--no-firmware-quirks", env=env, timeout=600
    )
    match = re.search(r"published ([\d,]+) readings", out)
    assert match, out
    published = int(match.group(1).replace(",", ""))
    assert published > 10_000
    assert _wait_for_readings(fresh_database_url, published) == published

    dampwatch("score", env=env)
    key_out = dampwatch("keys", "create", "--role", "admin", "--label", "e2e", env=env)
    key = key_out.split("API key: ", 1)[1].split()[0]

    alerts = httpx.get(
        f"{api_url}/api/v1/alerts",
        params={"kind": "damp_mould"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert alerts.status_code == 200, alerts.text
    items: list[dict[str, Any]] = alerts.json()["items"]
    assert items, "no damp alert was raised from the simulated fleet"
    uprns = {int(h["uprn"]) for h in json.loads(provisioning.read_text())["homes"]}
    assert {int(a["uprn"]) for a in items} <= uprns

    home = httpx.get(
        f"{api_url}/api/v1/homes/{items[0]['uprn']}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert home.status_code == 200, home.text
