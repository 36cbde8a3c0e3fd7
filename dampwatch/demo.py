"""`dampwatch demo`: the whole product on one machine, from nothing but Python.

What runs, and where:
- the database: DAMP_DATABASE_URL, or an embedded PostgreSQL whose data lives in the user's data
  directory, so a second demo finds the first one's readings;
- the broker: DAMP_MQTT_URL, or an embedded MQTT broker inside this process;
- child processes of this one: `dampwatch ingest`, `dampwatch score --every`, `dampwatch api`
  and `dampwatch simulate` (the simulated fleet, which speaks only MQTT).

Ctrl-C stops the children, then the broker, then the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import platformdirs
import psycopg
from dampsim import SimOptions, provisioning_export
from dampsim.estate import iter_homes
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dampwatch.embedded import EmbeddedBroker, free_port, start_postgres
from store.migrate import migrate
from store.provision import load_provisioning
from store.settings import DatabaseSettings, MqttSettings

logger = logging.getLogger(__name__)

DEMO_DATABASE = "dampwatch"
SCORE_EVERY_S = 20.0
STATUS_EVERY_S = 30.0
CHILD_STOP_TIMEOUT_S = 15.0
INGEST_READY_TIMEOUT_S = 60.0
API_READY_TIMEOUT_S = 60.0
INGEST_SUBSCRIBED_LINE = "dampwatch_ingest_subscribed 1.0"
# More homes heading for mould than an estate would have (a few percent), so that every
# borough's officer has something to look at in a 200-home demo.
DEMO_MOULD_FRACTION = 0.12

STATUS_QUERY = """
    SELECT (SELECT count(*) FROM readings),
           (SELECT count(DISTINCT uprn) FROM risk_assessments),
           (SELECT count(*) FROM alerts WHERE status <> 'cleared')
"""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    homes: int = 200
    boroughs: int = 20
    history_days: int = 21
    speed: float = 3600.0
    port: int = 8000
    verbose: bool = False


def demo_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dampwatch")) / "demo-postgres"


@contextlib.contextmanager
def demo_database(settings: DatabaseSettings) -> Iterator[str]:
    """The configured database, or an embedded one kept between demos."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    server = start_postgres(demo_data_dir())
    try:
        with psycopg.connect(server.url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DEMO_DATABASE,)
            ).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
        yield make_conninfo(server.url, dbname=DEMO_DATABASE)
    finally:
        server.stop()


@contextlib.contextmanager
def demo_broker(settings: MqttSettings) -> Iterator[tuple[str, str]]:
    """(url, protocol) of the configured broker, or of an embedded one in this process."""
    if settings.mqtt_url is not None:
        yield settings.mqtt_url.get_secret_value(), settings.mqtt_protocol
        return
    broker = EmbeddedBroker().start()
    try:
        yield broker.url, "3.1.1"
    finally:
        broker.stop()


class Children:
    """The demo's child processes: started together, stopped together."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        command = [sys.executable, "-m", "dampwatch", *args]
        self.procs[name] = subprocess.Popen(command, env=self.env)  # noqa: S603
        logger.info("started %s (pid %d)", name, self.procs[name].pid)

    def exited(self) -> list[tuple[str, int]]:
        return [(n, p.returncode) for n, p in self.procs.items() if p.poll() is not None]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=CHILD_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()


def run_demo(options: DemoOptions, *, stop: threading.Event) -> None:
    from api.auth import ensure_demo_credentials

    database_settings = DatabaseSettings.load()
    mqtt_settings = MqttSettings.load()
    with (
        demo_database(database_settings) as database_url,
        demo_broker(mqtt_settings) as (
            mqtt_url,
            protocol,
        ),
    ):
        migrate(database_url)
        sim_options = SimOptions(
            homes=options.homes,
            boroughs=options.boroughs,
            history_days=options.history_days,
            speed=options.speed,
            mould_fraction=DEMO_MOULD_FRACTION,
            mqtt_url=mqtt_url,
            mqtt_protocol=protocol,
            topic_prefix=mqtt_settings.mqtt_topic_prefix,
        )
        estate = provisioning_export(sim_options)
        with psycopg.connect(database_url) as conn:
            load_provisioning(conn, estate, actor="demo")
            history_days = _history_to_send(conn, options.history_days)
            credentials = ensure_demo_credentials(conn, borough_code=_borough_to_show(sim_options))

        ingest_metrics_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAMP_")}
        env.update(
            DAMP_DATABASE_URL=database_url,
            DAMP_MQTT_URL=mqtt_url,
            DAMP_MQTT_PROTOCOL=protocol,
            DAMP_MQTT_TOPIC_PREFIX=mqtt_settings.mqtt_topic_prefix,
            DAMP_API_PORT=str(options.port),
            DAMP_INGEST_CLIENT_ID="dampwatch-demo-ingest",
            DAMP_INGEST_METRICS_PORT=str(ingest_metrics_port),
            DAMP_LOG_LEVEL="INFO" if options.verbose else "WARNING",
        )
        children = Children(env)
        try:
            children.start("ingest", "ingest")
            # A broker keeps nothing for a subscriber it has not met yet: the fleet starts only
            # once ingest has subscribed, or the first weeks of history would go nowhere.
            _wait_until_subscribed(ingest_metrics_port, children, stop)
            children.start("api", "api")
            _wait_for_api(options.port, children, stop)
            children.start("score", "score", "--every", str(SCORE_EVERY_S))
            children.start(
                "simulate",
                "simulate",
                "--homes",
                str(options.homes),
                "--boroughs",
                str(options.boroughs),
                "--history-days",
                f"{history_days:.4f}",
                "--mould-fraction",
                str(DEMO_MOULD_FRACTION),
                "--no-progress",
                "--speed",
                str(options.speed),
            )
            _print_banner(
                options.port, credentials.email, credentials.password, credentials.api_key
            )
            _watch(children, database_url, stop)
        finally:
            children.stop()


def _history_to_send(conn: psycopg.Connection[tuple[object, ...]], wanted_days: float) -> float:
    """Days of history the fleet should send: all of it the first time, the gap since after.

    A second demo continues from the latest stored reading instead of sending the same weeks
    again at slightly different instants, which would double the density of the history.
    """
    row = conn.execute(
        "SELECT extract(epoch FROM now() - max(recorded_at)) / 86400 FROM readings"
    ).fetchone()
    if row is None or row[0] is None:
        return wanted_days
    return max(0.0, min(wanted_days, float(str(row[0]))))


def _borough_to_show(sim_options: SimOptions) -> str:
    """The borough whose officer the demo logs in as: the one with most homes heading for mould.

    The demo knows the simulated estate's hidden truth (the service never does); it uses it
    only to choose which borough's inbox to show first.
    """
    prone = Counter(home.borough_code for home in iter_homes(sim_options) if home.risk_driver)
    if not prone:
        return next(iter_homes(sim_options)).borough_code
    return prone.most_common(1)[0][0]


def _print_banner(port: int, email: str, password: str, api_key: str) -> None:
    print(
        "\n"
        "Dampwatch demo is running.\n"
        f"  Web page:      http://127.0.0.1:{port}/\n"
        f"  Officer login: {email} / {password}\n"
        f"  API:           curl -H 'Authorization: Bearer <key>' "
        f"http://127.0.0.1:{port}/api/v1/alerts\n"
        f"API key: {api_key}\n"
        "Readings arrive first as a few weeks of history, then live; the first alerts appear\n"
        "within a few minutes. Press Ctrl-C to stop.\n",
        flush=True,
    )


def _wait_until_subscribed(metrics_port: int, children: Children, stop: threading.Event) -> None:
    """Poll ingest's /metrics until it reports its subscriptions accepted."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    deadline = time.monotonic() + INGEST_READY_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        if children.exited():
            raise SystemExit("ingest exited before it subscribed; see its log above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if INGEST_SUBSCRIBED_LINE in response.read().decode():
                    return
        except OSError:
            pass  # not listening yet
        stop.wait(0.2)
    raise SystemExit(f"ingest did not subscribe within {INGEST_READY_TIMEOUT_S:.0f} s")


def _wait_for_api(port: int, children: Children, stop: threading.Event) -> None:
    """Wait until the web page answers, so the address in the banner works when printed."""
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        if children.exited():
            raise SystemExit("a part of the demo exited while starting; see its log above")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == HTTPStatus.OK:
                    return
        except OSError:
            pass  # not listening yet
        stop.wait(0.2)
    raise SystemExit(f"the API did not answer on port {port} within {API_READY_TIMEOUT_S:.0f} s")


def _watch(children: Children, database_url: str, stop: threading.Event) -> None:
    """Print progress until stopped; stop early if a part of the product dies."""
    while not stop.wait(STATUS_EVERY_S):
        dead = [(n, rc) for n, rc in children.exited() if not (n == "simulate" and rc == 0)]
        if dead:
            for name, code in dead:
                logger.error("%s exited with code %d; stopping the demo", name, code)
            raise SystemExit(1)
        try:
            with psycopg.connect(database_url) as conn:
                row = conn.execute(STATUS_QUERY).fetchone()
        except psycopg.Error as err:
            logger.warning("could not read the demo's progress: %s", err)
            continue
        if row is not None:
            print(
                f"readings stored: {row[0]:,}   homes scored: {row[1]}   open alerts: {row[2]}",
                flush=True,
            )
