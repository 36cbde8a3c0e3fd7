"""Running the fleet against a broker: history first, then live, or backfill, or fixed-rate load.

The simulated clock never runs ahead of the wall clock (ingest rejects readings from the
future). In live mode, with E the end of the history (now, unless `end_at` pins it):

- history covers [E - history_days, E - catch_up) and is published as fast as the broker
  acknowledges, as backlog messages of up to 2,000 readings where the format allows;
- live then starts at E - catch_up and runs at `speed` simulated seconds per real second until
  it meets the wall clock, after which it follows the wall clock (speed 1). catch_up is what
  two minutes of accelerated running covers (at 3600x: 5 days), at least an hour and at most a
  quarter of the history, so a demo shows readings arriving quickly and then a fleet living
  in real time. While accelerated, a device sends what it measured since the previous tick
  in one message where its format allows (as store-and-forward firmware does); in real time
  that is one reading per message.

Backfill publishes [E - history_days, E) and stops. Load publishes the same readings one per
message (as devices do live) at `rate_per_s`, home batch by home batch, so 100,000 homes never
sit in memory at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from dampsim.estate import HomeSpec, iter_homes
from dampsim.fleet import HomeBatch
from dampsim.options import SimOptions
from dampsim.publisher import Publisher
from dampsim.sending import Sender

logger = logging.getLogger(__name__)

DAY_S = 86_400
LIVE_CATCH_UP_REAL_S = 120.0
HISTORY_CHUNK_S = 14 * DAY_S
BATCH_HOMES = 250
LIVE_TICK_S = 0.5
REALTIME_TICK_S = 5.0

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class SimReport:
    """What a run published; every message counted here was acknowledged by the broker."""

    homes: int
    sensors: int
    readings: int
    messages: int
    bytes: int
    duplicates: int
    skipped_untimestamped: int
    outdoor_readings: int
    waiting_offline: int  # measured, but their devices had not reconnected when the run ended
    history_start: datetime
    history_end: datetime
    sim_clock_end: datetime
    elapsed_s: float


def _batches(options: SimOptions, size: int = BATCH_HOMES) -> Iterator[list[HomeSpec]]:
    for start in range(0, options.homes, size):
        yield list(iter_homes(options, start, start + size))


def history_window(options: SimOptions, now_s: float) -> tuple[int, int]:
    """(start, end) of the history in Unix seconds: end is `end_at`, or now."""
    end = int(options.end_at.timestamp()) if options.end_at is not None else int(now_s)
    return end - int(options.history_days * DAY_S), end


def catch_up_s(options: SimOptions) -> int:
    span = int(options.history_days * DAY_S)
    accelerated = min(span / 4, options.speed * LIVE_CATCH_UP_REAL_S)
    return int(min(span, max(min(3600.0, span), accelerated)))


def run_simulation(
    options: SimOptions, *, stop: threading.Event | None = None, progress: Progress | None = None
) -> SimReport:
    """Publish the fleet's readings to the broker as `options.mode` says; see the module doc."""
    stop = stop or threading.Event()
    started = time.monotonic()
    start_s, end_s = history_window(options, time.time())
    with Publisher(
        options.mqtt_url, options.mqtt_protocol, client_id=options.client_id
    ) as publisher:
        sender = Sender(publisher, options.topic_prefix)
        if options.mode == "load":
            clock = _run_load(options, sender, (start_s, end_s), stop, progress)
        elif options.mode == "backfill":
            clock = _run_history(options, sender, (start_s, end_s), end_s, stop, progress)[1]
        else:
            live_from = end_s - catch_up_s(options)
            batches, clock = _run_history(
                options, sender, (start_s, end_s), live_from, stop, progress
            )
            clock = _run_live(options, sender, batches, clock, stop, started)
        publisher.flush()
        stats = sender.stats
        sensors = sender.sensor_count
        waiting = sender.waiting_readings
    report = SimReport(
        homes=options.homes,
        sensors=sensors,
        readings=stats.readings,
        messages=stats.messages,
        bytes=publisher.bytes_published,
        duplicates=stats.duplicates,
        skipped_untimestamped=stats.skipped_untimestamped,
        outdoor_readings=stats.outdoor_readings,
        waiting_offline=waiting,
        history_start=datetime.fromtimestamp(start_s, UTC),
        history_end=datetime.fromtimestamp(end_s, UTC),
        sim_clock_end=datetime.fromtimestamp(clock, UTC),
        elapsed_s=time.monotonic() - started,
    )
    logger.info("simulation done: %s", report)
    return report


def _run_history(
    options: SimOptions,
    sender: Sender,
    window: tuple[int, int],
    until_s: int,
    stop: threading.Event,
    progress: Progress | None,
) -> tuple[list[HomeBatch], int]:
    """Publish [start, until_s) batch by batch; keep the batches (for live) unless backfill."""
    start_s, end_s = window
    fault_period = (start_s, max(end_s, start_s + 7 * DAY_S))
    sender.send_outdoor(options.seed, options.borough_codes(), start_s, until_s)
    kept: list[HomeBatch] = []
    done = 0
    for homes in _batches(options):
        batch = HomeBatch(homes, options, fault_period)
        sender.add_batch(batch)
        cursor = start_s
        while cursor < until_s and not stop.is_set():
            chunk_end = min(cursor + HISTORY_CHUNK_S, until_s)
            readings = batch.advance(chunk_end)
            sender.send_history(batch, readings, now_s=until_s, wall_s=time.time())
            cursor = chunk_end
        if options.mode == "live":
            kept.append(batch)
        else:
            sender.retire(batch)
        done += len(homes)
        if progress is not None:
            progress("history", done, options.homes)
        if stop.is_set():
            break
    return kept, until_s


def _run_live(
    options: SimOptions,
    sender: Sender,
    batches: list[HomeBatch],
    clock_s: int,
    stop: threading.Event,
    started: float,
) -> int:
    """Accelerated until the simulated clock meets the wall clock, then in step with it."""
    live_start_mono, live_start_sim = time.monotonic(), clock_s
    while not stop.is_set():
        elapsed = time.monotonic() - live_start_mono
        wall = time.time()
        target = int(min(live_start_sim + options.speed * elapsed, wall))
        if target > clock_s:
            sender.send_outdoor(options.seed, options.borough_codes(), clock_s, target)
            for batch in batches:
                sender.send_live(batch, batch.advance(target), now_s=target, wall_s=wall)
            sender.send_due(target, wall)
            clock_s = target
        if options.duration_s is not None and time.monotonic() - started >= options.duration_s:
            break
        stop.wait(REALTIME_TICK_S if target >= wall - 1 else LIVE_TICK_S)
    return clock_s


def _run_load(
    options: SimOptions,
    sender: Sender,
    window: tuple[int, int],
    stop: threading.Event,
    progress: Progress | None,
) -> int:
    """One reading per message at `rate_per_s`, home batch by home batch, day by day."""
    start_s, end_s = window
    began = time.monotonic()
    sent = 0
    done = 0
    for homes in _batches(options):
        batch = HomeBatch(homes, options, (start_s, max(end_s, start_s + 7 * DAY_S)))
        sender.add_batch(batch)
        cursor = start_s
        while cursor < end_s:
            readings = batch.advance(min(cursor + DAY_S, end_s))
            cursor = min(cursor + DAY_S, end_s)
            order = np.argsort(readings.recorded_at, kind="stable")
            for lo in range(0, len(order), 1000):
                piece = readings.select(order[lo : lo + 1000])
                sent += sender.send_each(batch, piece, wall_s=time.time())
                ahead = sent / options.rate_per_s - (time.monotonic() - began)
                if ahead > 0:
                    stop.wait(ahead)
                if stop.is_set() or _over(options, began):
                    return cursor
        sender.retire(batch)
        done += len(homes)
        if progress is not None:
            progress("load", done, options.homes)
    return end_s


def _over(options: SimOptions, began: float) -> bool:
    return options.duration_s is not None and time.monotonic() - began >= options.duration_s
