"""Turning a chunk's features, mould index and faults into assessment rows for rooms and homes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.assessments import Assessment
from models.faults import Fault
from models.features import Features
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


def rate_rooms(
    rooms: Sequence[Room],
    *,
    features: Features,
    mould_index: FloatArray,
    faults: Sequence[Fault | None],
    surface_humidity_daily: FloatArray,
    now: dt.datetime,
    window_start: dt.datetime,
    window_end: dt.datetime,
    model_version: str,
    sensitivity: str,
) -> list[Assessment]:
    """One assessment per room of the chunk."""
    days = days_to_index(
        mould_index,
        features.growth_rate_per_day,
        features.growth_m_max,
        features.decline_per_day,
        sensitivity=sensitivity,
    )
    score = scores(mould_index, days[3.0])
    factors = np.array([temperature_factor(r.temperature_factor, r.archetype) for r in rooms])
    with np.errstate(invalid="ignore"):
        drops = cause_drops(
            features.temperature_c,
            features.vapour_pressure_pa,
            features.outdoor_temperature_c,
            outdoor_vapour_pressure(features.outdoor_temperature_c, features.outdoor_humidity_pct),
            factors,
        )
    bands = [band_of(int(s)) for s in score]
    trend_rows = [
        i for i, b in enumerate(bands) if b != "green" and features.coverage[i] >= MIN_COVERAGE
    ]
    trends = np.full(len(rooms), np.nan)
    if trend_rows:
        trends[trend_rows] = humidity_trend_per_week(surface_humidity_daily[trend_rows])

    out: list[Assessment] = []
    for i, room in enumerate(rooms):
        fault = faults[i]
        band = bands[i]
        if fault is not None or features.coverage[i] < MIN_COVERAGE:
            band = "unknown"
        room_drops = {k: float(v[i]) for k, v in drops.items()}
        cause, causes = cause_of(room_drops, band)
        details: dict[str, Any] = {
            "room_name": room.name,
            "room_kind": room.kind,
            "sensor_ids": room.sensor_ids or [],
            "features": features.as_details(i),
            "causes": causes,
            "cause_drops_pct": {k: _opt(v, 1) for k, v in room_drops.items()},
            "trend_surface_humidity_pct_per_week": _opt(trends[i], 2),
            "temperature_factor": round(float(factors[i]), 3),
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
        out.append(
            Assessment(
                assessment_id=None,
                assessed_at=now,
                uprn=room.uprn,
                room_id=room.room_id,
                window_start=window_start,
                window_end=window_end,
                score=int(score[i]),
                band=band,
                mould_index=round(m, 4),
                days_to_m1=_opt(days[1.0][i], 2),
                days_to_m3=_opt(days[3.0][i], 2),
                cause=cause,
                explanation=explain_room(
                    room_name=room.name,
                    band=band,
                    mould_index=m,
                    days_to_m3=float(days[3.0][i]),
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
