"""A home's readings by hour (or by several hours, for long charts), as columns per room.

Hours come from the hourly rollup (store.rollups) wherever it is complete, and from `readings`
where it is not: hours after the rollup's horizon (the newest, not yet refreshed), and the
hours a sensor was placed or moved within, so that each reading still counts in the room its
sensor was in when it was taken. Means are sums over counts, so both sources add up to what a
GROUP BY over the readings gives. Hours are the caller's: on the UTC hour in every zone whose
offset is whole hours over the window; in a zone with a half-hour offset the rollup's UTC hours
do not fit, and every hour is read from `readings`.

Each bucket also carries the dew point of its mean air and the coldest surface's estimated
temperature and relative humidity, θsi = θe + f (θi - θe) (BS EN ISO 13788:2012, eq. 9
rearranged), with the bucket's mean outdoor temperature of the home's borough and the home's
temperature factor f.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import orjson
import psycopg
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor
from models.psychro import dew_point_c, relative_humidity_pct, vapour_pressure_pa
from store.arrays import load_number_arrays_as_numpy

FloatArray = npt.NDArray[np.float64]

# The design value of BS EN ISO 13788's temperature factor used where a home has none: 0.75 is
# the minimum f_Rsi that UK guidance (BRE IP 1/06) asks of new thermal bridges.
DEFAULT_TEMPERATURE_FACTOR = 0.75
HOUR_S = 3600
DAY_S = 86400

HOME_FACTS = """
    SELECT borough_code, temperature_factor FROM homes
    WHERE uprn = %s AND (%s::text IS NULL OR borough_code = %s)
"""

# Per placement of the home's sensors: the whole UTC hours it covers, [whole_from, whole_to),
# are read from the rollup before its horizon; its part-hours at either end, and whole hours
# from the horizon on, from readings. The spans are disjoint, so nothing is counted twice.
#
# The rollup's hours come from its days (readings_hourly_days, 24 hours a row): per placement
# one row of the days' start epochs and their hours as (days x 24) arrays, with the span
# [lo_s, hi_s) of hours that belong to it; the hours read from readings come as one row per
# room of one-dimensional arrays (all hours belong). Arrays load straight into numpy
# (store.arrays), where the hours are cut to their spans and added up into each room's buckets:
# a few rows a home, rather than a row per sensor-hour, which is most of the database's time.
# Every aggregate of a group sees the group's rows in the same order, so its arrays line up.
# date_part, not extract: extract returns numeric (PostgreSQL 14+), a conversion per row.
SENSOR_HOURS = """
    WITH horizon AS (
        SELECT CASE WHEN %(use_rollup)s
                    THEN coalesce((SELECT max(complete_before) FROM readings_hourly_state),
                                  '-infinity')
                    ELSE '-infinity'::timestamptz END AS complete_before
    ),
    placed AS (
        SELECT p.room_id, p.sensor_id, p.valid_from,
               coalesce(p.valid_to, 'infinity') AS valid_to,
               CASE WHEN p.valid_from = date_trunc('hour', p.valid_from, 'UTC')
                    THEN p.valid_from
                    ELSE date_trunc('hour', p.valid_from, 'UTC') + interval '1 hour'
               END AS whole_from,
               coalesce(date_trunc('hour', p.valid_to, 'UTC'), 'infinity') AS whole_to
        FROM rooms rm JOIN sensor_placements p ON p.room_id = rm.room_id
        WHERE rm.uprn = %(uprn)s
          AND (%(room_id)s::bigint IS NULL OR rm.room_id = %(room_id)s)
          AND p.valid_from < %(end)s AND (p.valid_to IS NULL OR p.valid_to > %(start)s)
    ),
    rolled AS (
        SELECT pl.room_id, pl.sensor_id,
               greatest(pl.whole_from, %(start)s) AS lo,
               least(pl.whole_to, z.complete_before, %(end)s) AS hi
        FROM placed pl CROSS JOIN horizon z
    ),
    spans AS (
        SELECT pl.room_id, pl.sensor_id,
               greatest(s.lo, %(start)s) AS lo, least(s.hi, %(end)s) AS hi
        FROM placed pl CROSS JOIN horizon z
        CROSS JOIN LATERAL (VALUES
            (pl.valid_from, least(pl.whole_from, pl.valid_to)),
            (greatest(pl.whole_to, pl.whole_from, pl.valid_from), pl.valid_to),
            (greatest(pl.whole_from, z.complete_before), pl.whole_to)
        ) AS s (lo, hi)
    ),
    raw_hours AS (
        SELECT sp.room_id,
               date_part('epoch', date_bin(interval '1 hour', r.recorded_at, %(start)s)) AS at_s,
               count(*)::integer AS n, sum(r.temperature_c::float8) AS temperature_sum_c,
               min(r.temperature_c) AS temperature_min_c,
               sum(r.humidity_pct::float8) AS humidity_sum_pct,
               max(r.humidity_pct) AS humidity_max_pct
        FROM spans sp
        JOIN readings r ON r.sensor_id = sp.sensor_id
                       AND r.recorded_at >= sp.lo AND r.recorded_at < sp.hi
        WHERE sp.lo < sp.hi
        GROUP BY 1, 2
    )
    SELECT ro.room_id, date_part('epoch', ro.lo), date_part('epoch', ro.hi),
           array_agg(date_part('epoch', d.day)), array_agg(d.n),
           array_agg(d.temperature_sum_c), array_agg(d.temperature_min_c),
           array_agg(d.humidity_sum_pct), array_agg(d.humidity_max_pct)
    FROM rolled ro
    JOIN readings_hourly_days d ON d.sensor_id = ro.sensor_id
                               AND d.day >= date_trunc('day', ro.lo, 'UTC') AND d.day < ro.hi
    WHERE ro.lo < ro.hi
    GROUP BY ro.room_id, ro.sensor_id, ro.lo, ro.hi
    UNION ALL
    SELECT room_id, '-infinity'::float8, 'infinity'::float8, array_agg(at_s), array_agg(n),
           array_agg(temperature_sum_c), array_agg(temperature_min_c),
           array_agg(humidity_sum_pct), array_agg(humidity_max_pct)
    FROM raw_hours
    GROUP BY room_id
"""
# date_part, not extract: extract returns numeric (PostgreSQL 14+), which costs a conversion per
# row; date_part('epoch', ...) is double precision, as the numpy side wants.
OUTDOOR = """
    SELECT array_agg(at_s), array_agg(temperature_c)
    FROM (SELECT date_part('epoch', date_bin(%(bucket)s, recorded_at, %(start)s)) AS at_s,
                 avg(temperature_c)::float8 AS temperature_c
          FROM outdoor_conditions
          WHERE borough_code = %(borough_code)s
            AND recorded_at >= %(start)s AND recorded_at < %(end)s
          GROUP BY 1) AS buckets
"""

ROOM_COLUMNS = (
    "temperature_c",
    "humidity_pct",
    "temperature_min_c",
    "humidity_max_pct",
    "dew_point_c",
    "surface_temperature_c",
    "surface_humidity_pct",
)


class HourlyRoom(BaseModel):
    """One room's values, one per entry of `hour_start`; null where it had no readings."""

    room_id: int
    readings: list[int] = Field(description="Readings in each bucket (0: none).")
    temperature_c: list[float | None] = Field(description="Mean air temperature.")
    humidity_pct: list[float | None] = Field(description="Mean relative humidity.")
    temperature_min_c: list[float | None]
    humidity_max_pct: list[float | None]
    dew_point_c: list[float | None] = Field(description="Dew point of the bucket's mean air.")
    surface_temperature_c: list[float | None] = Field(
        description="Estimated coldest-surface temperature θsi; null without outdoor data."
    )
    surface_humidity_pct: list[float | None] = Field(
        description="Relative humidity at the coldest surface (capped at 100)."
    )


class HourlyPage(BaseModel):
    """Columns rather than rows: 90 days of a home fit in a few hundred kilobytes."""

    time_zone: str = Field(examples=["Europe/London"])
    temperature_factor: float = Field(description="f used for the surface estimate.")
    bucket_hours: int = Field(description="Hours per bucket (1 for this endpoint).")
    hour_start: list[datetime] = Field(
        description="Start of each bucket with readings, in the caller's zone, oldest first."
    )
    outdoor_temperature_c: list[float | None] = Field(
        description="The borough's mean outdoor temperature in each bucket, where known."
    )
    rooms: list[HourlyRoom] = Field(description="Rooms with readings in this page.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next span of time; null on the last page."
    )


@dataclass(frozen=True, slots=True)
class RoomSeries:
    room_id: int
    readings: npt.NDArray[np.int64]
    values: dict[str, FloatArray]  # ROOM_COLUMNS, NaN where no readings


@dataclass(frozen=True, slots=True)
class HourlySeries:
    """The buckets of one page, as arrays, for the API (encode_page) and the charts."""

    borough_code: str
    time_zone: ZoneInfo
    temperature_factor: float
    bucket_hours: int
    starts_s: FloatArray  # epoch seconds of each bucket's start
    outdoor_temperature_c: FloatArray
    rooms: list[RoomSeries]
    next_cursor: str | None

    def starts(self) -> list[datetime]:
        return [datetime.fromtimestamp(s, self.time_zone) for s in self.starts_s.tolist()]


class HomeNotFoundError(LookupError):
    """No such home, or not in the caller's borough."""


def hourly_series(
    conn: psycopg.Connection[Any],
    *,
    uprn: int,
    borough: str | None,
    room_id: int | None,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    limit: int,
    cursor: str | None,
    bucket_hours: int = 1,
) -> HourlySeries:
    """Buckets of `bucket_hours` from start (floored to the hour) up to end (ceiled), at most
    `limit` buckets of time per page."""
    facts = conn.execute(HOME_FACTS, (uprn, borough, borough)).fetchone()
    if facts is None:
        raise HomeNotFoundError(uprn)
    borough_code, factor = facts[0], float(facts[1] or DEFAULT_TEMPERATURE_FACTOR)
    bucket = timedelta(hours=bucket_hours)
    first, last = floor_hour(start, zone), ceil_hour(end, zone)
    page_start = first if cursor is None else _cursor_time(cursor, first, last)
    page_end = min(last, page_start + limit * bucket)
    params = {
        "uprn": uprn,
        "room_id": room_id,
        "start": page_start,
        "end": page_end,
        "bucket": bucket,
        "borough_code": borough_code,
        "use_rollup": whole_hour_offsets(zone, page_start, page_end),
    }
    # Binary results: thousands of floats load in half the time they take as text.
    with conn.cursor(binary=True) as cur:
        load_number_arrays_as_numpy(cur)
        blocks = cur.execute(SENSOR_HOURS, params).fetchall()
        outdoor_row = cur.execute(OUTDOOR, params).fetchone()
    groups = _add_up(
        _sensor_hours(blocks), origin_s=page_start.timestamp(), bucket_s=bucket_hours * HOUR_S
    )
    starts_s = np.unique(groups[1])
    outdoor_c = np.full(len(starts_s), np.nan)
    if outdoor_row is not None and outdoor_row[0] is not None and len(starts_s):
        at_s, temperature = outdoor_row
        known = np.isin(at_s, starts_s)
        outdoor_c[np.searchsorted(starts_s, at_s[known])] = temperature[known]
    rooms = [
        _room_series(int(room), groups[:, groups[0] == room], starts_s, outdoor_c, factor)
        for room in np.unique(groups[0])
    ]
    more = page_end < last
    return HourlySeries(
        borough_code=str(borough_code),
        time_zone=zone,
        temperature_factor=factor,
        bucket_hours=bucket_hours,
        starts_s=starts_s,
        outdoor_temperature_c=outdoor_c,
        rooms=rooms,
        next_cursor=encode_cursor([page_end.isoformat()]) if more else None,
    )


def encode_page(series: HourlySeries) -> bytes:
    """The page as HourlyPage's JSON, encoded from the numpy arrays themselves (orjson writes
    a float64 array without a Python float per element, and NaN as null)."""
    return orjson.dumps(
        {
            "time_zone": series.time_zone.key,
            "temperature_factor": series.temperature_factor,
            "bucket_hours": series.bucket_hours,
            "hour_start": iso_times(series.starts_s, series.time_zone),
            "outdoor_temperature_c": _rounded(series.outdoor_temperature_c),
            "rooms": [
                {
                    "room_id": room.room_id,
                    "readings": room.readings,
                    **{name: _rounded(room.values[name]) for name in ROOM_COLUMNS},
                }
                for room in series.rooms
            ],
            "next_cursor": series.next_cursor,
        },
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def _sensor_hours(blocks: list[tuple[Any, ...]]) -> FloatArray:
    """The sensor-hours of SENSOR_HOURS' rows, as rows room, hour start (epoch seconds), n,
    temperature sum, min, humidity sum, max, one column per sensor-hour with readings."""
    columns = []
    for room_id, lo_s, hi_s, starts_s, *values in blocks:
        if values[0].ndim == 2:  # days x 24 hours of the rollup
            starts_s = (starts_s[:, np.newaxis] + HOUR_S * np.arange(24)).ravel()
            values = [v.ravel() for v in values]
        keep = (values[0] > 0) & (starts_s >= lo_s) & (starts_s < hi_s)
        room = np.full(int(keep.sum()), float(room_id))
        columns.append(np.vstack([room, starts_s[keep], *(v[keep] for v in values)]))
    return np.hstack(columns) if columns else np.empty((7, 0))


def _add_up(hours: FloatArray, *, origin_s: float, bucket_s: int) -> FloatArray:
    """Sensor-hours (from _sensor_hours) added up by room and bucket, in the same rows, one
    column per bucket, sorted by room and start."""
    if not hours.shape[1]:
        return hours
    room, at_s, n, temperature_sum, temperature_min, humidity_sum, humidity_max = hours
    start_s = origin_s + np.floor((at_s - origin_s) / bucket_s) * bucket_s
    order = np.lexsort((start_s, room))
    room, start_s = room[order], start_s[order]
    first = np.flatnonzero(
        np.concatenate(([True], (room[1:] != room[:-1]) | (start_s[1:] != start_s[:-1])))
    )
    return np.vstack(
        (
            room[first],
            start_s[first],
            np.add.reduceat(n[order], first),
            np.add.reduceat(temperature_sum[order], first),
            np.minimum.reduceat(temperature_min[order], first),
            np.add.reduceat(humidity_sum[order], first),
            np.maximum.reduceat(humidity_max[order], first),
        )
    )


def _room_series(
    room_id: int,
    group: FloatArray,
    starts_s: FloatArray,
    outdoor_c: FloatArray,
    factor: float,
) -> RoomSeries:
    """Place a room's buckets (from _add_up) on the page's axis and derive the surface values."""
    at_s, count, temperature_sum, temperature_min, humidity_sum, humidity_max = group[1:]
    temperature, humidity = temperature_sum / count, humidity_sum / count
    slots = np.searchsorted(starts_s, at_s)
    readings = np.zeros(len(starts_s), dtype=np.int64)
    readings[slots] = count.astype(np.int64)
    values = {name: np.full(len(starts_s), np.nan) for name in ROOM_COLUMNS}
    for name, column in (
        ("temperature_c", temperature),
        ("humidity_pct", humidity),
        ("temperature_min_c", temperature_min),
        ("humidity_max_pct", humidity_max),
    ):
        values[name][slots] = column
    indoor_c, humidity_pct = values["temperature_c"], values["humidity_pct"]
    with np.errstate(invalid="ignore"):
        values["dew_point_c"] = dew_point_c(indoor_c, humidity_pct)
        surface_c = outdoor_c + factor * (indoor_c - outdoor_c)
        values["surface_temperature_c"] = surface_c
        values["surface_humidity_pct"] = relative_humidity_pct(
            surface_c, vapour_pressure_pa(indoor_c, humidity_pct)
        )
    return RoomSeries(room_id=room_id, readings=readings, values=values)


def _rounded(values: FloatArray) -> FloatArray:
    return np.round(values, 2)


def floor_hour(at: datetime, zone: ZoneInfo) -> datetime:
    """The start of the caller's hour `at` falls in."""
    return at.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def ceil_hour(at: datetime, zone: ZoneInfo) -> datetime:
    floored = floor_hour(at, zone)
    return floored if floored == at else floored + timedelta(hours=1)


def whole_hour_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether the zone is a whole number of hours from UTC throughout [start, end).

    Offsets change a few times a year and never twice in a day, so a day's first and last
    seconds speak for the whole day.
    """
    first_day = int(start.timestamp()) // DAY_S
    last_day = int(end.timestamp()) // DAY_S
    return all(
        offset % HOUR_S == 0
        for day in range(first_day, last_day + 1)
        for offset in _day_offsets(zone, day)
    )


def iso_times(epochs_s: FloatArray, zone: ZoneInfo) -> list[str]:
    """RFC 3339 times in `zone`. An axis of evenly spaced times (the usual page) is formatted
    once per zone and span and then reused; others are formatted vectorised."""
    seconds = epochs_s.astype(np.int64)
    if len(seconds) > 1:
        steps = np.diff(seconds)
        if (steps == steps[0]).all():
            return list(_even_axis(zone, int(seconds[0]), int(steps[0]), len(seconds)))
    return _format(seconds, zone)


@functools.lru_cache(maxsize=256)
def _even_axis(zone: ZoneInfo, first_s: int, step_s: int, count: int) -> tuple[str, ...]:
    return tuple(_format(first_s + np.arange(count, dtype=np.int64) * step_s, zone))


def _format(seconds: npt.NDArray[np.int64], zone: ZoneInfo) -> list[str]:
    """Offsets are looked up once per day, and per instant only on days they change."""
    if not len(seconds):
        return []
    days, day_of = np.unique(seconds // DAY_S, return_inverse=True)
    offsets = np.empty(len(seconds), dtype=np.int64)
    for index, day in enumerate(days.tolist()):
        first, last = _day_offsets(zone, day)
        members = day_of == index
        if first == last:
            offsets[members] = first
        else:
            offsets[members] = [_offset_s(s, zone) for s in seconds[members].tolist()]
    local = np.datetime_as_string((seconds + offsets).astype("datetime64[s]"), unit="s")
    distinct, offset_of = np.unique(offsets, return_inverse=True)
    suffixes = np.array([_suffix(o) for o in distinct.tolist()])[offset_of]
    result: list[str] = np.char.add(local, suffixes).tolist()
    return result


@functools.lru_cache(maxsize=65_536)
def _day_offsets(zone: ZoneInfo, day: int) -> tuple[int, int]:
    """The zone's UTC offset at the first and the last second of a UTC day (zone rules of a
    past or future day do not change while the process runs)."""
    return _offset_s(day * DAY_S, zone), _offset_s(day * DAY_S + DAY_S - 1, zone)


def _offset_s(second: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(second, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _suffix(offset_s: int) -> str:
    sign = "-" if offset_s < 0 else "+"
    hours, minutes = divmod(abs(offset_s) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _cursor_time(cursor: str, first: datetime, last: datetime) -> datetime:
    text = decode_cursor(cursor, size=1)[0]
    try:
        at = datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidRequestError("the cursor is not one this API returned") from err
    if at.tzinfo is None or not first <= at < last:
        raise InvalidRequestError("the cursor is not one this API returned for this window")
    return at
