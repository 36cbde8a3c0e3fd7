"""The scoring job: new readings in, one risk assessment per room and per home out.

Incremental: each room carries its mould index, dry-period timer and watermark in
`room_model_states`, and its daily sums in `room_daily_conditions`; a run reads only readings
at or after a room's watermark, so its cost follows the new data, not the history, and scoring
in pieces gives what one run over the whole history gives. Readings that arrive after their
hour was integrated are found by receive time and folded in by rewinding their room to the day
before (`models.late`). Vectorised: rooms are processed in chunks as numpy arrays. Safe to
repeat: a second run at the same `now` finds nothing new and writes no second row. Sharded:
`borough` limits a run to one borough, and runs on different boroughs never touch the same rows
(each takes its borough's advisory lock). Isolated: a chunk whose data the database or the
numbers refuse is rolled back to its savepoint and scored again in halves, down to the home, so
one home's bad data costs only that home its assessment (it is logged, counted, and tried again
next run).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from models.assessments import Assessment, write_assessments
from models.climate import MAX_BRIDGE_H, outdoor_grid
from models.faults import Fault
from models.features import FEATURE_DAYS, TREND_DAYS, Window, daily_means
from models.hourly import HourlyBlock, RoomState, integrate_block
from models.late import find_late_readings, rewind_rooms, save_mark
from models.psychro import FloatArray
from models.rating import RoomMeta, rate, rate_homes, rate_rooms
from models.source import (
    Room,
    carried_state,
    daily_window,
    epoch_hour,
    hour_at,
    hourly_outdoor,
    hourly_readings,
    list_rooms,
    write_days,
    write_faults,
    write_states,
)
from models.surface import SURFACE_DECLINE, SURFACE_SENSITIVITY, temperature_factor

logger = logging.getLogger(__name__)

MODEL_VERSION = "dampwatch-risk/0.1 (VTT 2010 sensitive, ISO 13788)"
# A room seen for the first time is integrated from at most this far back (from midnight UTC);
# readings older than this are neither integrated nor looked for as late.
MAX_HISTORY_DAYS = 120
CHUNK_ROOMS = 2000
# Rooms whose integration starts further back than this (new rooms, rooms rewound for late
# readings, rooms back from an outage) get a block of their own, so the usual rooms' block
# stays as narrow as their new data.
CATCH_UP_H = 48

# Advisory-lock namespace for scoring (an arbitrary constant, shared by every run).
LOCK_NAMESPACE = 0x44570000


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """What one run did."""

    rooms: int
    homes: int
    hours_integrated: int
    assessments_written: int
    amber: int
    red: int
    faults: int
    rooms_rewound: int = 0  # rooms integrated again from before their late readings
    homes_failed: int = 0  # homes left unscored this run because their data was refused

    def __str__(self) -> str:
        return (
            f"{self.homes} homes, {self.rooms} rooms, {self.hours_integrated} room-hours "
            f"({self.rooms_rewound} rooms rewound for late readings), "
            f"{self.assessments_written} assessments ({self.red} red, {self.amber} amber homes, "
            f"{self.faults} sensor faults), {self.homes_failed} homes failed"
        )


# What one home's bad data can raise: values the database refuses (a NULL, a CHECK) and numbers
# that cannot be converted. Anything else (a lost connection, a bug) still stops the run.
REFUSED_DATA = (psycopg.DataError, psycopg.IntegrityError, ValueError, ArithmeticError)


@dataclass(slots=True)
class _Scored:
    """What the chunks of a run have written so far."""

    rooms: list[Assessment]
    homes: list[Assessment]
    hours: int = 0
    rewound: int = 0
    written: int = 0
    homes_failed: int = 0


def _lock(conn: psycopg.Connection[Any], borough: str | None) -> None:
    """One run per borough at a time; a run over all boroughs takes every borough's lock."""
    if borough is None:
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(gss_code))"
            " FROM (SELECT gss_code FROM boroughs ORDER BY gss_code) b",
            (LOCK_NAMESPACE,),
        )
    else:
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, borough))


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("scoring rooms", total=total)
        yield lambda n: bar.advance(task, n)


def _build_block(
    conn: psycopg.Connection[Any], rooms: list[Room], *, since: dt.datetime, end_hour: int
) -> tuple[HourlyBlock | None, FloatArray]:
    """The chunk's new hourly readings on one grid, with outdoor conditions per room."""
    rows = hourly_readings(conn, rooms, since=since, until=hour_at(end_hour))
    last_hour = np.full(len(rooms), np.nan)
    if rows.shape[0] == 0:
        return None, last_hour
    ids = np.array([r.room_id for r in rooms])
    order = np.argsort(ids)
    pos = order[np.searchsorted(ids, rows[:, 0].astype(np.int64), sorter=order)]
    hours = rows[:, 1].astype(np.int64)
    start = int(hours.min())
    width = end_hour - start
    col = hours - start
    grid = np.full((len(rooms), width), np.nan)
    t, rh, t_rng, rh_rng = grid.copy(), grid.copy(), grid.copy(), grid.copy()
    count = np.zeros((len(rooms), width), dtype=np.int64)
    t[pos, col], rh[pos, col], count[pos, col] = rows[:, 2], rows[:, 3], rows[:, 4]
    t_rng[pos, col], rh_rng[pos, col] = rows[:, 5], rows[:, 6]
    np.fmax.at(last_hour, pos, hours.astype(np.float64))

    boroughs = sorted({r.borough_code for r in rooms})
    epoch_hours = np.arange(start - MAX_BRIDGE_H, end_hour + MAX_BRIDGE_H, dtype=np.int64)
    obs_t = np.full((len(boroughs), epoch_hours.size), np.nan)
    obs_rh = obs_t.copy()
    b_index = {b: i for i, b in enumerate(boroughs)}
    for b, h, temp, hum in hourly_outdoor(
        conn, boroughs, since=hour_at(int(epoch_hours[0])), until=hour_at(int(epoch_hours[-1]) + 1)
    ):
        obs_t[b_index[b], h - epoch_hours[0]] = temp
        obs_rh[b_index[b], h - epoch_hours[0]] = hum
    out_t, out_rh, _ = outdoor_grid(epoch_hours, obs_t, obs_rh)
    inner = slice(MAX_BRIDGE_H, MAX_BRIDGE_H + width)
    room_b = np.array([b_index[r.borough_code] for r in rooms])
    block = HourlyBlock(
        start_hour=start,
        temperature_c=t,
        humidity_pct=rh,
        readings=count,
        temperature_range_c=t_rng,
        humidity_range_pct=rh_rng,
        outdoor_temperature_c=out_t[room_b, inner],
        outdoor_humidity_pct=out_rh[room_b, inner],
        temperature_factor=np.array(
            [temperature_factor(r.temperature_factor, r.archetype) for r in rooms]
        ),
    )
    return block, last_hour


def _integrate(
    conn: psycopg.Connection[Any],
    rooms: list[Room],
    *,
    now: dt.datetime,
    since: dt.datetime,
    end_hour: int,
) -> tuple[RoomState, int]:
    """Integrate the rooms' new hours from their carried state; store their state and days."""
    state = carried_state(rooms)
    block, last_hour = _build_block(conn, rooms, since=since, end_hour=end_hour)
    if block is None:
        return state, 0
    result = integrate_block(block, state, sensitivity=SURFACE_SENSITIVITY, decline=SURFACE_DECLINE)
    write_days(conn, [r.room_id for r in rooms], result.daily)
    new = result.state
    states = [
        (
            room.room_id,
            hour_at(int(last_hour[i]) + 1),
            float(new.mould.mould_index[i]),
            float(new.mould.dry_h[i]),
            _finite(new.last_temperature_c[i]),
            _finite(new.last_humidity_pct[i]),
        )
        for i, room in enumerate(rooms)
        if np.isfinite(last_hour[i])
    ]
    write_states(conn, states, model_version=MODEL_VERSION, now=now)
    return new, int(np.count_nonzero(np.isfinite(block.temperature_c)))


def _score_isolated(
    conn: psycopg.Connection[Any],
    rooms: list[Room],
    scored: _Scored,
    *,
    now: dt.datetime,
    end_hour: int,
    since: dt.datetime,
    late_hours: dict[int, int],
) -> None:
    """Score a chunk and write its assessments under a savepoint; if its data is refused, score
    each half of its homes the same way, and give up on a single home."""
    try:
        with conn.transaction():
            room_rows, hours, rewound = _score_chunk(
                conn, rooms, now=now, end_hour=end_hour, since=since, late_hours=late_hours
            )
            home_rows = rate_homes(rooms, room_rows)
            written = write_assessments(conn, [*room_rows, *home_rows])
    except REFUSED_DATA as err:
        homes = sorted({r.uprn for r in rooms})
        if len(homes) == 1:
            logger.error("home %s left unscored: its data was refused: %s", homes[0], err)
            scored.homes_failed += 1
            return
        first = set(homes[: len(homes) // 2])
        for half in (
            [r for r in rooms if r.uprn in first],
            [r for r in rooms if r.uprn not in first],
        ):
            _score_isolated(
                conn, half, scored, now=now, end_hour=end_hour, since=since, late_hours=late_hours
            )
        return
    scored.rooms.extend(room_rows)
    scored.homes.extend(home_rows)
    scored.hours += hours
    scored.rewound += rewound
    scored.written += written


def _score_chunk(
    conn: psycopg.Connection[Any],
    rooms: list[Room],
    *,
    now: dt.datetime,
    end_hour: int,
    since: dt.datetime,
    late_hours: dict[int, int],
) -> tuple[list[Assessment], int, int]:
    """Integrate one chunk's new (and late) hours, store its state and days, rate its rooms."""
    rooms, rewound = rewind_rooms(conn, rooms, late_hours, since=since)
    mould_index = np.zeros(len(rooms))
    hours = 0
    behind = np.array(
        [r.scored_to is None or epoch_hour(r.scored_to) < end_hour - CATCH_UP_H for r in rooms]
    )
    for part in (np.flatnonzero(~behind), np.flatnonzero(behind)):
        if part.size:
            state, part_hours = _integrate(
                conn, [rooms[i] for i in part.tolist()], now=now, since=since, end_hour=end_hour
            )
            mould_index[part] = state.mould.mould_index
            hours += part_hours

    last_day = (end_hour - 1) // 24
    columns = daily_window(
        conn, [r.room_id for r in rooms], first_day=last_day - TREND_DAYS + 1, last_day=last_day
    )
    window = Window(last_day, columns)
    meta = RoomMeta(
        home=np.array([r.uprn for r in rooms], dtype=np.int64),
        kind=tuple(r.kind for r in rooms),
        factor=np.array([temperature_factor(r.temperature_factor, r.archetype) for r in rooms]),
    )
    latched = [_standing_fault(r) for r in rooms]
    ratings = rate(window, mould_index, meta, sensitivity=SURFACE_SENSITIVITY, latched=latched)
    write_faults(
        conn,
        [
            (
                room.room_id,
                None if fault is None else fault.kind,
                None if fault is None else (room.fault_since if fault is old else now),
                None if fault is None else fault.evidence,
                room.sensor_ids or [],
            )
            for room, fault, old in zip(rooms, ratings.faults, latched, strict=True)
            if fault is not old
        ],
    )
    assessments = rate_rooms(
        rooms,
        ratings,
        surface_humidity_daily=daily_means(window, "sum_surface_humidity_pct"),
        now=now,
        window_start=hour_at((last_day - FEATURE_DAYS + 1) * 24),
        window_end=hour_at(end_hour),
        model_version=MODEL_VERSION,
        mould_index=mould_index,
    )
    return assessments, hours, rewound


def _standing_fault(room: Room) -> Fault | None:
    """The room's latched fault, unless its sensors have changed since it was found."""
    if room.fault_kind is None or sorted(room.fault_sensor_ids or []) != sorted(
        room.sensor_ids or []
    ):
        return None
    return Fault(room.fault_kind, dict(room.fault_evidence or {}))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _chunks(rooms: list[Room], size: int) -> Iterator[list[Room]]:
    """Chunks of about `size` rooms that never split a home."""
    chunk: list[Room] = []
    for room in rooms:
        if len(chunk) >= size and chunk[-1].uprn != room.uprn:
            yield chunk
            chunk = []
        chunk.append(room)
    if chunk:
        yield chunk


def score_homes(
    conn: psycopg.Connection[Any],
    *,
    now: dt.datetime,
    borough: str | None = None,
    progress: bool = False,
) -> ScoreSummary:
    """Score every room and home (of one borough, if given) with readings up to `now`.

    Only whole hours before `now` are integrated. The caller owns the transaction: commit
    after this returns for the state, days and assessments to be kept together.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a UTC offset")
    _lock(conn, borough)
    end_hour = epoch_hour(now)
    since = hour_at((end_hour // 24 - MAX_HISTORY_DAYS) * 24)
    window_start = hour_at(end_hour - FEATURE_DAYS * 24)
    late = find_late_readings(conn, borough=borough, since=since, until=hour_at(end_hour))
    rooms = list_rooms(conn, now=now, window_start=window_start, borough=borough)
    scored = _Scored([], [])
    with _progress(progress, len(rooms)) as advance:
        for chunk in _chunks(rooms, CHUNK_ROOMS):
            _score_isolated(
                conn,
                chunk,
                scored,
                now=now,
                end_hour=end_hour,
                since=since,
                late_hours=late.first_hour,
            )
            if advance is not None:
                advance(len(chunk))
    save_mark(conn, late.mark)
    summary = ScoreSummary(
        rooms=len(scored.rooms),
        homes=len(scored.homes),
        hours_integrated=scored.hours,
        assessments_written=scored.written,
        amber=sum(a.band == "amber" for a in scored.homes),
        red=sum(a.band == "red" for a in scored.homes),
        faults=sum(len(a.details.get("faults", [])) for a in scored.rooms),
        rooms_rewound=scored.rewound,
        homes_failed=scored.homes_failed,
    )
    logger.info("scoring run at %s: %s", now.isoformat(), summary)
    return summary
