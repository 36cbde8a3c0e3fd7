"""The `dampwatch` command: one entry point that wires the parts together.

Each sub-command reads its own settings from the environment (DAMP_*), once, and passes them
down. Parts are imported inside the commands so that `dampwatch --help` stays fast and one
part's heavy imports (scikit-learn, FastAPI) are paid only by the process that needs them.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import psycopg
import typer
from pydantic import Field

from dampwatch.logs import configure_logging
from store.settings import DatabaseSettings, MissingSettingError, Settings

logger = logging.getLogger("dampwatch")

app = typer.Typer(
    help="Dampwatch: catch damp and mould in social homes before it harms anyone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys for borough systems and scripts.", no_args_is_help=True)
users_app = typer.Typer(help="Officer and analyst logins for the web page.", no_args_is_help=True)
export_app = typer.Typer(help="Bulk exports of one borough's data.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(export_app, name="export")


class LogSettings(Settings):
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: str = Field(
        default="text",
        pattern=r"^(text|json)$",
        description="text, or json for one JSON object per line (log collectors).",
    )


@app.callback()
def main() -> None:
    """Configure logging once for whichever command runs."""
    settings = LogSettings.load()
    configure_logging(settings.log_level, settings.log_format)


def database_url() -> str:
    """DAMP_DATABASE_URL, or a one-line error and exit status 2 when it is not set."""
    try:
        return DatabaseSettings.load().require_database_url()
    except MissingSettingError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


def _require(value: object, variable: str) -> None:
    if value is None:
        typer.echo(f"error: {variable} is not set", err=True)
        raise typer.Exit(2)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for long-running commands to stop cleanly."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


@app.command()
def migrate() -> None:
    """Apply the database migrations not yet applied (safe to run twice, or twice at once)."""
    from store.migrate import migrate as apply_migrations

    url = database_url()
    applied = apply_migrations(url)
    typer.echo(f"applied {len(applied)} migration(s)")


@app.command()
def ingest() -> None:
    """Subscribe to the broker and store every reading (runs until stopped)."""
    from ingest.service import run_ingest
    from ingest.settings import IngestSettings

    settings = IngestSettings.load()
    _require(settings.database_url, "DAMP_DATABASE_URL")
    _require(settings.mqtt_url, "DAMP_MQTT_URL")
    run_ingest(settings, stop=stop_on_signals())


@app.command()
def score(
    every: Annotated[
        float, typer.Option(help="Seconds between runs; 0 runs once and exits.", min=0)
    ] = 0.0,
    borough: Annotated[
        str | None, typer.Option(help="Score only this borough (GSS code), for sharding.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = False,
) -> None:
    """Roll up new readings by hour, score every home's risk, raise and clear alerts, then thin
    risk assessments older than DAMP_ASSESSMENTS_FULL_DAYS."""
    from alerts.rules import evaluate_alerts
    from models.assessments import thin_assessments
    from models.scoring import score_homes
    from store.rollups import refresh_hourly
    from store.settings import ScoringSettings

    url = database_url()
    settings = ScoringSettings.load()
    stop = stop_on_signals()
    while True:
        started = time.monotonic()
        with psycopg.connect(url) as conn:
            now = datetime.now(UTC)
            hours = refresh_hourly(conn, now=now)
            conn.commit()
            summary = score_homes(conn, now=now, borough=borough, progress=progress)
            conn.commit()
            alert_summary = evaluate_alerts(conn, now=now)
            conn.commit()
            # Retention commits batch by batch, after the run's results are safely in.
            conn.autocommit = True
            thinned = thin_assessments(
                conn, now=now, keep_days=settings.assessments_full_days, borough=borough
            )
        logger.info(
            "scored in %.1f s: %d sensor-hours rolled up; %s; alerts: %s; "
            "%d old assessments thinned",
            time.monotonic() - started,
            hours,
            summary,
            alert_summary,
            thinned,
        )
        if every <= 0 or stop.wait(every):
            return


@app.command()
def api() -> None:
    """Serve the REST API and the officers' web page."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    settings = ApiSettings.load()
    _require(settings.database_url, "DAMP_DATABASE_URL")
    if settings.api_workers == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
        return
    # Each worker process builds its own app (and pool) from the same environment; their login
    # forms must agree on the CSRF signing key, so a shared one is required.
    _require(settings.secret_key, "DAMP_SECRET_KEY (needed with DAMP_API_WORKERS > 1)")
    uvicorn.run(
        "api.app:create_app_from_environment",
        factory=True,
        workers=settings.api_workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


@app.command()
def notify() -> None:
    """Deliver queued emails and webhooks from the outbox (runs until stopped)."""
    from alerts.notifier import run_notifier
    from alerts.settings import NotifierSettings

    settings = NotifierSettings.load()
    _require(settings.database_url, "DAMP_DATABASE_URL")
    run_notifier(settings, stop=stop_on_signals())


@app.command()
def provision(
    path: Annotated[Path, typer.Argument(help="Provisioning JSON (homes, rooms, sensors).")],
) -> None:
    """Load homes, rooms, sensors and placements from a provisioning file (idempotent)."""
    from store.provision import load_provisioning

    url = database_url()
    document = json.loads(path.read_text(encoding="utf-8"))
    with psycopg.connect(url) as conn:
        summary = load_provisioning(conn, document, actor=f"cli:{path.name}")
    typer.echo(
        f"{summary.homes} homes, {summary.rooms} rooms, {summary.sensors} sensors; "
        f"{summary.placements_opened} placements opened, {summary.placements_closed} closed"
    )


ROLES = "officer, borough_system, regional_analyst or admin"


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=ROLES)],
    borough: Annotated[
        str | None, typer.Option(help="GSS code; required for officer and borough_system.")
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from api.auth import create_api_key

    url = database_url()
    with psycopg.connect(url) as conn:
        key, plaintext = create_api_key(conn, borough_code=borough, role=role, label=label)
    typer.echo(f"key id: {key.key_id}")
    typer.echo(f"API key: {plaintext}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[str, typer.Option(help=ROLES)],
    borough: Annotated[str | None, typer.Option(help="GSS code; required for officers.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input instead of a prompt.")
    ] = False,
) -> None:
    """Create a login for the officers' web page."""
    from api.auth import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    url = database_url()
    with psycopg.connect(url) as conn:
        user = create_user(conn, email=email, password=password, borough_code=borough, role=role)
    typer.echo(f"created {user.role} {user.email}")


@export_app.command("cases")
def export_cases(
    borough: Annotated[str, typer.Option(help="GSS code of the borough.")],
    output: Annotated[Path | None, typer.Option(help="File to write; default stdout.")] = None,
) -> None:
    """Export a borough's cases in the damp-and-mould data standard's shape (CSV)."""
    from alerts.export import cases_csv

    url = database_url()
    with psycopg.connect(url) as conn:
        text = cases_csv(conn, borough=borough)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("settings")
def list_settings() -> None:
    """Print every DAMP_* setting with its default and meaning, as a Markdown table."""
    from dampwatch.settings_doc import all_settings, markdown_table

    typer.echo(markdown_table(all_settings()))


@app.command()
def demo(
    homes: Annotated[int, typer.Option(help="Simulated homes.", min=1)] = 200,
    boroughs: Annotated[int, typer.Option(help="Boroughs they are spread over.", min=1)] = 20,
    history_days: Annotated[int, typer.Option(help="Days of history sent at start.")] = 21,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 3600.0,
    port: Annotated[int, typer.Option(help="Port of the web page and API.")] = 8000,
    verbose: Annotated[bool, typer.Option(help="Show every part's logs.")] = False,
) -> None:
    """Run everything on this machine: database, broker, simulated fleet, ingest, scoring, API."""
    from dampwatch.demo import DemoOptions, run_demo

    run_demo(
        DemoOptions(
            homes=homes,
            boroughs=boroughs,
            history_days=history_days,
            speed=speed,
            port=port,
            verbose=verbose,
        ),
        stop=stop_on_signals(),
    )


def _register_simulate() -> None:
    """`dampwatch simulate` is the simulated fleet's own command; it imports no service code."""
    from dampsim.cli import simulate

    app.command("simulate", help="Run the simulated sensor fleet (speaks only MQTT).")(simulate)


_register_simulate()
