"""The ground truth handed to the model evaluation: per room M each midnight, when M first
reached 1 and 3, the cause; per home the same summarised; and every faulty sensor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from dampsim.archetypes import ROOM_SLOTS
from dampsim.fleet import HomeBatch

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]


def _iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat()


@dataclass(frozen=True)
class Truth:
    """Arrays per room (rows) and per midnight UTC (columns of `mould_index`)."""

    days_at: IntArray  # Unix seconds of each midnight M was sampled at
    room_uprn: IntArray
    room_name: StrArray
    room_kind: StrArray
    mould_index: npt.NDArray[np.float32]  # (rooms, days)
    first_day_m1: npt.NDArray[np.int32]  # index into days_at, -1 if never
    first_day_m3: npt.NDArray[np.int32]
    cause: StrArray  # "" where M never reached 1
    home_uprn: IntArray
    home_risk_driver: StrArray  # what the home was set up with ("" for none): design intent
    faults: list[dict[str, Any]] = field(default_factory=list)

    def home_summary(self) -> list[dict[str, Any]]:
        """Per home: worst room's M, first days M reached 1 and 3, and its cause."""
        summaries = []
        for uprn, driver in zip(
            self.home_uprn.tolist(), self.home_risk_driver.tolist(), strict=True
        ):
            rows = np.flatnonzero(self.room_uprn == uprn)
            worst = (
                rows[np.argmax(self.mould_index[rows].max(axis=1))]
                if (self.mould_index.shape[1])
                else rows[0]
            )
            m1 = [int(d) for d in self.first_day_m1[rows] if d >= 0]
            m3 = [int(d) for d in self.first_day_m3[rows] if d >= 0]
            summaries.append(
                {
                    "uprn": int(uprn),
                    "max_mould_index": round(float(self.mould_index[rows].max(initial=0.0)), 3),
                    "day_m1": _iso(self.days_at[min(m1)]) if m1 else None,
                    "day_m3": _iso(self.days_at[min(m3)]) if m3 else None,
                    "cause": str(self.cause[worst]) or None,
                    "risk_driver": driver or None,
                    "rooms": [
                        {
                            "name": str(self.room_name[r]),
                            "kind": str(self.room_kind[r]),
                            "day_m1": _iso(self.days_at[self.first_day_m1[r]])
                            if self.first_day_m1[r] >= 0
                            else None,
                            "day_m3": _iso(self.days_at[self.first_day_m3[r]])
                            if self.first_day_m3[r] >= 0
                            else None,
                            "cause": str(self.cause[r]) or None,
                            "mould_index_daily": [round(float(m), 3) for m in self.mould_index[r]],
                        }
                        for r in rows
                    ],
                }
            )
        return summaries

    def to_json(self) -> dict[str, Any]:
        return {
            "days": [_iso(d) for d in self.days_at.tolist()],
            "homes": self.home_summary(),
            "faults": self.faults,
        }

    @staticmethod
    def concat(parts: list[Truth]) -> Truth:
        if not parts:
            e = np.zeros(0, dtype=np.int64)
            s = np.zeros(0, dtype=str)
            return Truth(
                e,
                e,
                s,
                s,
                np.zeros((0, 0), dtype=np.float32),
                np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=np.int32),
                s,
                e,
                s,
                [],
            )
        return Truth(
            days_at=parts[0].days_at,
            room_uprn=np.concatenate([p.room_uprn for p in parts]),
            room_name=np.concatenate([p.room_name for p in parts]),
            room_kind=np.concatenate([p.room_kind for p in parts]),
            mould_index=np.concatenate([p.mould_index for p in parts]),
            first_day_m1=np.concatenate([p.first_day_m1 for p in parts]),
            first_day_m3=np.concatenate([p.first_day_m3 for p in parts]),
            cause=np.concatenate([p.cause for p in parts]),
            home_uprn=np.concatenate([p.home_uprn for p in parts]),
            home_risk_driver=np.concatenate([p.home_risk_driver for p in parts]),
            faults=[f for p in parts for f in p.faults],
        )


def _first_at_or_above(m: npt.NDArray[np.float32], level: float) -> npt.NDArray[np.int32]:
    above = m >= level
    if above.shape[1] == 0:
        return np.full(above.shape[0], -1, dtype=np.int32)
    first = np.argmax(above, axis=1).astype(np.int32)
    result: npt.NDArray[np.int32] = np.where(above.any(axis=1), first, -1).astype(np.int32)
    return result


def truth_of_batch(batch: HomeBatch, fault_period: tuple[int, int]) -> Truth:
    """The truth a batch has accumulated so far (its `advance` calls drive the integration)."""
    accumulator = batch.truth
    if accumulator is None:
        raise ValueError("the batch was built without truth")
    present = batch.physics.present
    homes, slots = np.nonzero(present)
    n_days = len(accumulator.daily_m)
    if n_days:
        m = np.stack(accumulator.daily_m)[:, homes, slots].T.astype(np.float32)
    else:
        m = np.zeros((homes.size, 0), dtype=np.float32)
    causes = accumulator.causes()[homes, slots]
    start, end = fault_period
    faults = [
        {
            "sensor_id": s.sensor_id,
            "uprn": h.uprn,
            "room": ROOM_SLOTS[s.slot][0],
            "kind": s.fault.kind,
            "start_at": _iso(start + s.fault.start_fraction * (end - start)),
            "moved_to": ROOM_SLOTS[s.fault.target_slot][0] if s.fault.kind == "moved" else None,
        }
        for h in batch.homes
        for s in h.sensors
        if s.fault is not None
    ]
    return Truth(
        days_at=np.asarray(accumulator.day_starts_s, dtype=np.int64),
        room_uprn=np.array([batch.homes[h].uprn for h in homes], dtype=np.int64),
        room_name=np.array([ROOM_SLOTS[s][0] for s in slots], dtype=str),
        room_kind=np.array([ROOM_SLOTS[s][1] for s in slots], dtype=str),
        mould_index=m,
        first_day_m1=_first_at_or_above(m, 1.0),
        first_day_m3=_first_at_or_above(m, 3.0),
        cause=causes.astype(str),
        home_uprn=np.array([h.uprn for h in batch.homes], dtype=np.int64),
        home_risk_driver=np.array([h.risk_driver or "" for h in batch.homes], dtype=str),
        faults=faults,
    )
