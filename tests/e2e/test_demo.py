"""`dampwatch demo` as a newcomer runs it: embedded database and broker, banner, working key,
clean stop on Ctrl-C, and a second start that finds the first one's data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from dampwatch.embedded import free_port, start_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BANNER_TIMEOUT_S = 120.0


def _demo_env(data_home: Path) -> dict[str, str]:
    """No DAMP_* settings at all, and a data directory of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
    env["XDG_DATA_HOME"] = str(data_home)
    return env


def _drain(proc: subprocess.Popen[str], lines: list[str]) -> None:
    """Keep reading the demo's output so it never blocks on a full pipe."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)


def _start(env: dict[str, str], port: int) -> tuple[subprocess.Popen[str], str]:
    """Start a small demo; return it and the API key its banner printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dampwatch", "demo", "--homes", "12", "--boroughs", "2",
         "--history-days", "7", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    printed: list[str] = []
    threading.Thread(target=_drain, args=(proc, printed), daemon=True).start()
    deadline = time.monotonic() + BANNER_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        for line in list(printed):
            match = re.fullmatch(r"API key: (\S+)\n", line)
            if match:
                return proc, match.group(1)
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the demo printed no API key:\n" + "".join(printed[-40:]))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def _wait_for_history(data_home: Path) -> None:
    """While the demo runs, wait until its fleet's history reaches the database."""
    socket_dir = data_home / "dampwatch" / "demo-postgres"
    deadline = time.monotonic() + BANNER_TIMEOUT_S
    count = 0
    with psycopg.connect(host=str(socket_dir), dbname="dampwatch", user="postgres") as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM readings").fetchone()
            conn.commit()
            count = int(row[0]) if row else 0
            if count > 1000:
                return
            time.sleep(1)
    pytest.fail(f"the demo's fleet stored {count} readings in {BANNER_TIMEOUT_S:.0f} s")


def _stored_readings(data_home: Path) -> int:
    """Start the stopped demo's database just long enough to count its readings."""
    server = start_postgres(data_home / "dampwatch" / "demo-postgres")
    try:
        with psycopg.connect(make_conninfo(server.url, dbname="dampwatch")) as conn:
            row = conn.execute("SELECT count(*) FROM readings").fetchone()
    finally:
        server.stop()
    assert row is not None
    return int(row[0])


def test_demo_serves_its_key_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    """The printed key reads alerts; Ctrl-C stops every part; a second demo reuses the data."""
    env, port = _demo_env(tmp_path), free_port()
    proc, key = _start(env, port)
    try:
        response = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/alerts",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert "items" in response.json()
        _wait_for_history(tmp_path)
    finally:
        assert _stop(proc) == 0
    first = _stored_readings(tmp_path)

    again, second_key = _start(env, free_port())
    try:
        assert second_key != key
    finally:
        assert _stop(again) == 0
    assert _stored_readings(tmp_path) >= first
