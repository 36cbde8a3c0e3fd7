"""The `dampwatch` command as an operator runs it: real processes, real database."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dampwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_two_migrate_processes_at_once_leave_one_schema(
    empty_database_url: str, service_env: dict[str, str]
) -> None:
    """Two `dampwatch migrate` processes started together apply each migration exactly once."""
    env = service_env | {"DAMP_DATABASE_URL": empty_database_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dampwatch", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    applied = sorted(int(out.split()[1]) for out in outputs)
    with psycopg.connect(empty_database_url) as conn:
        row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert row is not None
    assert applied == [0, row[0]]
    again = _run("migrate", env=env)
    assert again.stdout.strip() == "applied 0 migration(s)"


def test_command_without_database_url_says_what_is_missing(service_env: dict[str, str]) -> None:
    """A command that needs the database fails with the setting's name, not a traceback."""
    env = {k: v for k, v in service_env.items() if k != "DAMP_DATABASE_URL"}
    done = _run("migrate", env=env)
    assert done.returncode != 0
    assert "DAMP_DATABASE_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_settings_command_lists_every_variable(service_env: dict[str, str]) -> None:
    """`dampwatch settings` prints the database URL setting among the others."""
    done = _run("settings", env=service_env)
    assert done.returncode == 0
    assert "`DAMP_DATABASE_URL`" in done.stdout
    assert "`DAMP_MQTT_TOPIC_PREFIX`" in done.stdout
