"""Turning a chunk's features, mould index and faults into assessment rows for rooms and homes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.assessments import Assessment
from models.faults import Fault, detect_faults
from models.features import FEATURE_DAYS, Features, Window, compute_features
from models.projection import days_to_index, humidity_trend_per_week
from models.psychro import FloatArray
from models.risk import (
    MIN_COVERAGE,
    band_of,
    cause_drops,
    cause_of,
    explain_room,
    outdoor_vapour_pressure,
    scores,
)
from models.source import Room
from models.surface import temperature_factor

BAND_ORDER = {"unknown": 0, "green": 1, "amber": 2, "red": 3}


def _opt(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class RoomMeta:
    """What the rating needs to know of each room besides its data (one entry per room)."""

    home: npt.NDArray[np.int64]  # rooms of one home share a value (the UPRN)
    kind: tuple[str, ...]
    factor: FloatArray  # f_Rsi of the coldest surface


@dataclass(frozen=True, slots=True)
class Ratings:
    """Per-room results of one run, as arrays (the evaluation reads these directly)."""

    features: Features
    days_to_m1: FloatArray
    days_to_m3: FloatArray
    score: npt.NDArray[np.int64]
    band: tuple[str, ...]
    faults: tuple[Fault | None, ...]
    drops: dict[str, FloatArray]


def rate(
    window: Window,
    mould_index: FloatArray,
    meta: RoomMeta,
    *,
    sensitivity: str,
    latched: Sequence[Fault | None] | None = None,
) -> Ratings:
    """Score, band, projection, cause drops and faults of every room of a window.

    `latched` are faults found by earlier runs and still standing: a room keeps its fault
    when this run's window no longer shows it.
    """
    recent = window.tail(FEATURE_DAYS)
    features = compute_features(recent)
    days = days_to_index(
        mould_index,
        features.growth_rate_per_day,
        features.growth_m_max,
        features.decline_per_day,
        sensitivity=sensitivity,
    )
    score = scores(mould_index, days[3.0])
    with np.errstate(invalid="ignore"):
        drops = cause_drops(
            features.temperature_c,
            features.vapour_pressure_pa,
            features.outdoor_temperature_c,
            outdoor_vapour_pressure(features.outdoor_temperature_c, features.outdoor_humidity_pct),
            meta.factor,
        )
    found = detect_faults(window, meta.home, meta.kind)
    kept = latched if latched is not None else [None] * len(found)
    faults = tuple(f if f is not None else k for f, k in zip(found, kept, strict=True))
    bands = tuple(
        "unknown"
        if faults[i] is not None or features.coverage[i] < MIN_COVERAGE
        else band_of(int(s))
        for i, s in enumerate(score)
    )
    return Ratings(features, days[1.0], days[3.0], score, bands, faults, drops)


def rate_rooms(
    rooms: Sequence[Room],
    ratings: Ratings,
    *,
    surface_humidity_daily: FloatArray,
    now: dt.datetime,
    window_start: dt.datetime,
    window_end: dt.datetime,
    model_version: str,
    mould_index: FloatArray,
) -> list[Assessment]:
    """One assessment per room, with the numbers behind it and its explanation."""
    features = ratings.features
    trend_rows = [i for i, b in enumerate(ratings.band) if b in ("amber", "red")]
    trends = np.full(len(rooms), np.nan)
    if trend_rows:
        trends[trend_rows] = humidity_trend_per_week(surface_humidity_daily[trend_rows])

    out: list[Assessment] = []
    for i, room in enumerate(rooms):
        fault = ratings.faults[i]
        band = ratings.band[i]
        room_drops = {k: float(v[i]) for k, v in ratings.drops.items()}
        cause, causes = cause_of(room_drops, band)
        details: dict[str, Any] = {
            "room_name": room.name,
            "room_kind": room.kind,
            "sensor_ids": room.sensor_ids or [],
            "features": features.as_details(i),
            "causes": causes,
            "cause_drops_pct": {k: _opt(v, 1) for k, v in room_drops.items()},
            "trend_surface_humidity_pct_per_week": _opt(trends[i], 2),
            "temperature_factor": round(
                float(temperature_factor(room.temperature_factor, room.archetype)), 3
            ),
            "projection": {
                "growth_rate_per_day": _opt(features.growth_rate_per_day[i], 5),
                "growth_m_max": _opt(features.growth_m_max[i], 2),
                "decline_per_day": _opt(features.decline_per_day[i], 4),
            },
            "faults": []
            if fault is None
            else [
                {"sensor_id": sid, "kind": fault.kind, "evidence": fault.evidence}
                for sid in (room.sensor_ids or [""])
            ],
        }
        m = float(mould_index[i])
        days_m3 = float(ratings.days_to_m3[i])
        out.append(
            Assessment(
                assessment_id=None,
                assessed_at=now,
                uprn=room.uprn,
                room_id=room.room_id,
                window_start=window_start,
                window_end=window_end,
                score=int(ratings.score[i]),
                band=band,
                mould_index=round(m, 4),
                days_to_m1=_opt(ratings.days_to_m1[i], 2),
                days_to_m3=_opt(days_m3, 2),
                cause=cause,
                explanation=explain_room(
                    room_name=room.name,
                    band=band,
                    mould_index=m,
                    days_to_m3=days_m3,
                    surface_humidity_pct=float(features.surface_humidity_pct[i]),
                    hours_surface_rh80=float(
                        np.nan_to_num(features.hours_per_day["surface_rh80"][i])
                    ),
                    causes=causes,
                    fault=None if fault is None else fault.kind,
                ),
                coverage=round(float(features.coverage[i]), 4),
                model_version=model_version,
                details=details,
            )
        )
    return out


def rate_homes(rooms: Sequence[Room], room_assessments: Sequence[Assessment]) -> list[Assessment]:
    """One assessment per home: its worst trusted room, with every room's band listed."""
    by_home: dict[int, list[Assessment]] = defaultdict(list)
    for a in room_assessments:
        by_home[a.uprn].append(a)
    out: list[Assessment] = []
    for uprn, members in by_home.items():
        trusted = [a for a in members if a.band != "unknown"]
        worst = max(
            trusted or members,
            key=lambda a: (BAND_ORDER[a.band], a.score, a.mould_index or 0.0),
        )
        at_risk = [a for a in trusted if a.band in ("amber", "red")]
        causes = {a.cause for a in at_risk}
        cause = worst.cause if len(causes) <= 1 else "mixed"
        if not trusted:
            cause = "unknown"
        faults = [f for a in members for f in a.details.get("faults", [])]
        band = worst.band if trusted else "unknown"
        day_values = [a.days_to_m3 for a in trusted if a.days_to_m3 is not None]
        m1_values = [a.days_to_m1 for a in trusted if a.days_to_m1 is not None]
        name = str(worst.details.get("room_name", "room"))
        if band in ("amber", "red"):
            lead = f"{len(at_risk)} of {len(members)} rooms are at risk of damp and mould; "
            lead += f"the worst is the {name}."
        elif band == "green":
            lead = f"None of the {len(members)} rooms with sensors is at risk of mould now."
        else:
            lead = "The home's sensors give too little reliable data to assess its risk."
        explanation = lead + " " + worst.explanation.split(". ", 1)[-1]
        out.append(
            Assessment(
                assessment_id=None,
                assessed_at=worst.assessed_at,
                uprn=uprn,
                room_id=None,
                window_start=worst.window_start,
                window_end=worst.window_end,
                score=worst.score if trusted else 0,
                band=band,
                mould_index=max((a.mould_index or 0.0) for a in trusted) if trusted else None,
                days_to_m1=min(m1_values) if m1_values else None,
                days_to_m3=min(day_values) if day_values else None,
                cause=cause,
                explanation=explanation,
                coverage=round(float(np.mean([a.coverage for a in members])), 4),
                model_version=worst.model_version,
                details={
                    "rooms": [
                        {
                            "room_id": a.room_id,
                            "room_name": a.details.get("room_name"),
                            "score": a.score,
                            "band": a.band,
                            "cause": a.cause,
                        }
                        for a in members
                    ],
                    "worst_room_id": worst.room_id,
                    "rooms_at_risk": len(at_risk),
                    "faults": faults,
                },
            )
        )
    return out
