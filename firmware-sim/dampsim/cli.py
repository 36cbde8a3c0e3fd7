"""`dampwatch simulate`: the simulated fleet's command (registered by `dampwatch.cli`).

`simulate` is a plain typer command function so the service's CLI can mount it without this
package importing anything of the service.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from dampsim.export import provisioning_export
from dampsim.options import FAULT_KINDS, SimOptions

logger = logging.getLogger(__name__)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handle)
        signal.signal(signal.SIGTERM, handle)
    return stop


def _write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def simulate(
    homes: Annotated[int, typer.Option(help="Homes in the estate.", min=0)] = 200,
    boroughs: Annotated[
        int, typer.Option(help="Boroughs (first N of E09000001..33).", min=1, max=33)
    ] = 20,
    seed: Annotated[int, typer.Option(help="Same seed, same fleet and readings.")] = 1,
    history_days: Annotated[float, typer.Option(help="Days of history sent first.", min=0)] = 21.0,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per real second (live).", min=1)
    ] = 3600.0,
    mode: Annotated[str, typer.Option(help="live, backfill or load.")] = "live",
    rate_per_s: Annotated[
        float, typer.Option(help="Readings per second in load mode.", min=0.001)
    ] = 1000.0,
    duration_s: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    formats: Annotated[
        str,
        typer.Option(help="native, mixed (per borough), or one of senml, tts, chirpstack, lpp."),
    ] = "native",
    fault_fraction: Annotated[
        float, typer.Option(help="Share of sensors with a fault.", min=0, max=1)
    ] = 0.05,
    fault_kinds: Annotated[
        str,
        typer.Option(help=f"Comma-separated fault kinds to draw from ({', '.join(FAULT_KINDS)})."),
    ] = ",".join(FAULT_KINDS),
    mould_fraction: Annotated[
        float, typer.Option(help="Share of homes set up to grow mould.", min=0, max=1)
    ] = 0.06,
    firmware_quirks: Annotated[
        bool, typer.Option(help="Battery death, offline spells, clock drift, duplicate sends.")
    ] = True,
    end_at: Annotated[
        str | None, typer.Option(help="End of the history (RFC 3339); default now.")
    ] = None,
    reading_interval_s: Annotated[
        float | None,
        typer.Option(help="Fixed reporting interval; default the firmware's 5-15 min."),
    ] = None,
    topic_prefix: Annotated[
        str, typer.Option(envvar="DAMP_MQTT_TOPIC_PREFIX", help="Prepended to every topic.")
    ] = "",
    mqtt_url: Annotated[
        str, typer.Option(envvar="DAMP_MQTT_URL", help="mqtt://host:port")
    ] = "mqtt://127.0.0.1:1883",
    mqtt_protocol: Annotated[
        str, typer.Option(envvar="DAMP_MQTT_PROTOCOL", help="5 or 3.1.1")
    ] = "5",
    provision_out: Annotated[
        Path | None,
        typer.Option(help="Write the provisioning export (JSON) here before publishing."),
    ] = None,
    truth_out: Annotated[
        Path | None, typer.Option(help="Write the ground truth of the history (JSON) here.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Write the files, publish nothing.")] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Run the simulated sensor fleet: history first, then live at an accelerated clock."""
    from dampsim.dataset import generate_dataset
    from dampsim.publisher import PublishError
    from dampsim.simulation import run_simulation

    pinned = datetime.fromisoformat(end_at) if end_at else datetime.now(UTC).replace(microsecond=0)
    options = SimOptions(
        homes=homes,
        boroughs=boroughs,
        seed=seed,
        history_days=history_days,
        speed=speed,
        mode=mode,  # type: ignore[arg-type]  # validated by SimOptions
        rate_per_s=rate_per_s,
        duration_s=duration_s,
        formats=formats,
        fault_fraction=fault_fraction,
        fault_kinds=tuple(k.strip() for k in fault_kinds.split(",") if k.strip()),
        mould_fraction=mould_fraction,
        firmware_quirks=firmware_quirks,
        topic_prefix=topic_prefix,
        mqtt_url=mqtt_url,
        mqtt_protocol=mqtt_protocol,
        end_at=pinned,
        reading_interval_s=reading_interval_s,
    )
    if provision_out is not None:
        _write_json(provision_out, provisioning_export(options, now_s=pinned.timestamp()))
        typer.echo(f"provisioning export: {provision_out}")
    if truth_out is not None:
        dataset = generate_dataset(replace(options, end_at=pinned))
        _write_json(truth_out, dataset.truth.to_json())
        typer.echo(f"ground truth: {truth_out}")
    if dry_run:
        return
    stop = _stop_on_signals()
    with typer.progressbar(length=max(homes, 1), label="history", hidden=not progress) as bar:
        last = [0]

        def advance(_phase: str, done: int, _total: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        try:
            report = run_simulation(options, stop=stop, progress=advance)
        except PublishError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from err
    typer.echo(
        f"published {report.readings:,} readings in {report.messages:,} messages "
        f"({report.bytes / 1e6:.1f} MB, all acknowledged) from {report.sensors:,} sensors; "
        f"simulated clock reached {report.sim_clock_end.isoformat()}"
    )
