"""`make evaluate`: the risk model against the simulated fleet's ground truth.

A winter of a simulated estate (default 2,000 homes, fixed seed) is generated in process by
`dampsim`, binned to hourly room means exactly as the scoring job's SQL does, and scored once a
day by the same numpy core the job runs (`models.replay`). Each home's daily band is compared
with the true mould index on its coldest surfaces, which the model never sees:

- recall: homes whose true M reaches 3 that were amber or red on or before that day;
- precision: homes ever amber or red whose true M reaches 3 within the winter;
- lead time: days from the first amber/red to the day the true M reaches 3;
- false alarms: amber/red episodes on homes whose true M stays below 3, per 1,000 homes per
  month;
- faults caught: faulty sensors (stuck, drift, heat or moisture source, moved) whose room was
  flagged with a fault after the fault began, and the mould alerts those rooms raised.

Usage: python -m bench.evaluate [--homes N] [--seed S] [--days D] [--sample DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.hourly import RoomState
from models.rating import Ratings, RoomMeta
from models.replay import FleetGrid, replay_daily
from models.surface import temperature_factor

DAY_S = 86_400
BAND_CODE = {"unknown": 0, "green": 1, "amber": 2, "red": 3}
DEFAULT_END = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
RESULTS = Path(__file__).parent / "results" / "evaluation.json"


@dataclass
class Tally:
    """Counts accumulated over batches of homes."""

    homes: int = 0
    days: int = 0
    positives: int = 0
    detected_early: int = 0
    detected_late: int = 0
    alerted: int = 0
    alerted_positive: int = 0
    alerted_m2: int = 0
    false_alarm_episodes: int = 0
    lead_days: list[float] = field(default_factory=list)
    faults: int = 0
    faults_caught: int = 0
    faults_by_kind: dict[str, list[int]] = field(default_factory=dict)
    faulty_room_mould_alerts: int = 0
    false_fault_rooms: int = 0
    rooms: int = 0
    unprovisioned: int = 0
    faults_without_readings: int = 0


def _hourly_grid(ds: Any) -> tuple[FleetGrid, dict[tuple[int, str], int], list[int]]:
    """The dataset's readings as the job would see them: hourly means per provisioned room."""
    sensors = ds.sensors
    start_hour = int(ds.start_at.timestamp()) // 3600
    hours = (int(ds.end_at.timestamp()) // 3600) - start_hour
    room_of: dict[tuple[int, str], int] = {}
    sensor_room = np.full(len(sensors), -1, dtype=np.int64)
    kinds: list[str] = []
    homes: list[int] = []
    boroughs: list[str] = []
    archetype = {int(h["uprn"]): str(h["archetype"]) for h in ds.provisioning["homes"]}
    for i in range(len(sensors)):
        if not sensors.provisioned[i]:
            continue
        key = (int(sensors.uprn[i]), str(sensors.room_name[i]))
        if key not in room_of:
            room_of[key] = len(kinds)
            kinds.append(str(sensors.room_kind[i]))
            homes.append(key[0])
            boroughs.append(str(sensors.borough_code[i]))
        sensor_room[i] = room_of[key]
    rooms = len(kinds)
    r = ds.readings
    room = sensor_room[r.sensor]
    hour = r.recorded_at // 3600 - start_hour
    keep = (room >= 0) & (hour >= 0) & (hour < hours)
    flat = room[keep] * hours + hour[keep]
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    temperature = r.temperature_c[keep][order]
    humidity = r.humidity_pct[keep][order]
    cells, first = np.unique(flat, return_index=True)
    size = rooms * hours
    count = np.zeros(size, dtype=np.int64)
    count[cells] = np.diff(np.append(first, flat.size))
    t, rh, t_range, rh_range = (np.full(size, np.nan) for _ in range(4))
    t[cells] = np.add.reduceat(temperature, first) / count[cells]
    rh[cells] = np.add.reduceat(humidity, first) / count[cells]
    t_range[cells] = np.maximum.reduceat(temperature, first) - np.minimum.reduceat(
        temperature, first
    )
    rh_range[cells] = np.maximum.reduceat(humidity, first) - np.minimum.reduceat(humidity, first)
    shape = (rooms, hours)
    codes = list(ds.outdoor.borough_codes)
    out_hour = ds.outdoor.at // 3600 - start_hour
    out_t = np.full((len(codes), hours), np.nan)
    out_rh = out_t.copy()
    inside = (out_hour >= 0) & (out_hour < hours)
    out_t[:, out_hour[inside]] = ds.outdoor.temperature_c[inside].T
    out_rh[:, out_hour[inside]] = ds.outdoor.humidity_pct[inside].T
    room_borough = np.array([codes.index(b) for b in boroughs], dtype=np.int64)
    grid = FleetGrid(
        start_hour=start_hour,
        temperature_c=t.reshape(shape),
        humidity_pct=rh.reshape(shape),
        readings=count.reshape(shape),
        temperature_range_c=t_range.reshape(shape),
        humidity_range_pct=rh_range.reshape(shape),
        outdoor_temperature_c=_fill(out_t)[room_borough],
        outdoor_humidity_pct=_fill(out_rh)[room_borough],
        meta=RoomMeta(
            home=np.array(homes, dtype=np.int64),
            kind=tuple(kinds),
            factor=np.array([temperature_factor(None, archetype.get(h)) for h in homes]),
        ),
    )
    return grid, room_of, homes


def _fill(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Carry the last outdoor value over the odd missing hour (the feed is hourly)."""
    out = values.copy()
    for row in out:
        known = np.flatnonzero(np.isfinite(row))
        if known.size:
            row[:] = np.interp(np.arange(row.size), known, row[known])
    return out


def evaluate_dataset(ds: Any, tally: Tally) -> None:
    """Score one dataset day by day and add its comparison with the truth to `tally`."""
    grid, room_of, room_home = _hourly_grid(ds)
    days = grid.days
    rooms = len(room_home)
    bands = np.zeros((rooms, days), dtype=np.int8)
    faulty = np.zeros((rooms, days), dtype=bool)

    def on_day(day: int, ratings: Ratings, state: RoomState) -> None:
        bands[:, day] = [BAND_CODE[b] for b in ratings.band]
        faulty[:, day] = [f is not None for f in ratings.faults]

    replay_daily(grid, on_day=on_day)
    truth = ds.truth
    start_s = int(ds.start_at.timestamp())
    home_ids = np.array(room_home)
    tally.homes += len(truth.home_uprn)
    tally.days = days
    tally.rooms += rooms
    truth_room = np.array(
        [
            room_of.get((int(u), str(n)), -1)
            for u, n in zip(truth.room_uprn, truth.room_name, strict=True)
        ]
    )
    for uprn in truth.home_uprn.tolist():
        mine = np.flatnonzero(home_ids == uprn)
        home_band = bands[mine].max(axis=0) if mine.size else np.zeros(days, dtype=np.int8)
        alert = home_band >= BAND_CODE["amber"]
        rows = np.flatnonzero(truth.room_uprn == uprn)
        m3_days = [int(d) for d in truth.first_day_m3[rows] if d >= 0]
        positive = bool(m3_days)
        if alert.any():
            tally.alerted += 1
            tally.alerted_positive += positive
            tally.alerted_m2 += bool((truth.mould_index[rows] >= 2.0).any())
        if positive:
            tally.positives += 1
            m3_at = int(truth.days_at[min(m3_days)])
            if alert.any():
                first_alert_at = start_s + (int(np.argmax(alert)) + 1) * DAY_S
                lead = (m3_at - first_alert_at) / DAY_S
                if lead >= 0:
                    tally.detected_early += 1
                    tally.lead_days.append(lead)
                else:
                    tally.detected_late += 1
        else:
            rises = np.flatnonzero(alert[1:] & ~alert[:-1]).size + int(alert[0])
            tally.false_alarm_episodes += rises
    faulty_rooms: set[int] = set()
    for f in truth.faults:
        if f["kind"] == "unprovisioned":
            tally.unprovisioned += 1
            continue
        room = room_of.get((int(f["uprn"]), str(f["room"])), -1)
        if room < 0:
            continue
        faulty_rooms.add(room)
        began = (dt.datetime.fromisoformat(f["start_at"]).timestamp() - start_s) / DAY_S
        after = slice(int(np.ceil(began)), days)
        if not (grid.readings[room, after.start * 24 :] > 0).any():
            # A sensor that died before its fault began: the offline alert's business.
            tally.faults_without_readings += 1
            continue
        caught = bool(faulty[room, after].any())
        tally.faults += 1
        tally.faults_caught += caught
        counts = tally.faults_by_kind.setdefault(f["kind"], [0, 0])
        counts[0] += 1
        counts[1] += caught
        home_positive = bool((truth.first_day_m3[truth.room_uprn == f["uprn"]] >= 0).any())
        if not home_positive and (bands[room, after] >= BAND_CODE["amber"]).any():
            tally.faulty_room_mould_alerts += 1
    flagged = np.flatnonzero(faulty.any(axis=1))
    tally.false_fault_rooms += sum(1 for r in flagged.tolist() if r not in faulty_rooms)
    del truth_room


def summarise(tally: Tally) -> dict[str, Any]:
    months = tally.days / 30.44
    lead = np.array(tally.lead_days)
    return {
        "homes": tally.homes,
        "rooms": tally.rooms,
        "days": tally.days,
        "positives": tally.positives,
        "recall": _share(tally.detected_early, tally.positives),
        "recall_any_time": _share(tally.detected_early + tally.detected_late, tally.positives),
        "precision": _share(tally.alerted_positive, tally.alerted),
        "precision_true_m2": _share(tally.alerted_m2, tally.alerted),
        "alerted_homes": tally.alerted,
        "median_lead_days": round(float(np.median(lead)), 1) if lead.size else None,
        "p10_lead_days": round(float(np.percentile(lead, 10)), 1) if lead.size else None,
        "false_alarms_per_1000_homes_month": round(
            tally.false_alarm_episodes / max(tally.homes, 1) * 1000 / max(months, 1e-9), 2
        ),
        "faults": tally.faults,
        "faults_caught": _share(tally.faults_caught, tally.faults),
        "faults_by_kind": {
            k: {"faults": v[0], "caught": v[1]} for k, v in tally.faults_by_kind.items()
        },
        "faulty_room_mould_alerts": tally.faulty_room_mould_alerts,
        "false_fault_rooms": tally.false_fault_rooms,
        "unprovisioned_sensors": tally.unprovisioned,
        "faults_without_readings_after_onset": tally.faults_without_readings,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _datasets(args: argparse.Namespace) -> Iterator[Any]:
    import dampsim

    if args.sample:
        from dampsim.sample import load_sample

        yield load_sample(Path(args.sample))
        return
    options = dampsim.SimOptions(
        homes=args.homes,
        boroughs=20,
        seed=args.seed,
        history_days=float(args.days),
        end_at=DEFAULT_END,
        mould_fraction=args.mould_fraction,
        fault_fraction=args.fault_fraction,
        reading_interval_s=args.interval_s or None,
    )
    yield from dampsim.iter_datasets(options, batch_homes=args.batch)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluate", description=__doc__)
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days", type=int, default=120, help="winter ending 1 March 2027")
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--mould-fraction", type=float, default=0.06)
    parser.add_argument("--fault-fraction", type=float, default=0.05)
    parser.add_argument(
        "--interval-s",
        type=float,
        default=3600.0,
        help="reading interval (hourly keeps 2,000 homes fast); 0: each device's own 5-15 min",
    )
    parser.add_argument("--sample", help="evaluate a committed sample directory instead")
    parser.add_argument("--json", default=str(RESULTS))
    args = parser.parse_args(argv)
    started = time.monotonic()
    tally = Tally()
    for ds in _datasets(args):
        evaluate_dataset(ds, tally)
        print(f"  {tally.homes} homes evaluated ({time.monotonic() - started:.0f} s)", flush=True)
    result = summarise(tally)
    result.update(
        seed=args.seed, sample=args.sample, elapsed_s=round(time.monotonic() - started, 1)
    )
    _print_table(result)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")
    return 0


def _print_table(result: dict[str, Any]) -> None:
    rows = [
        ("homes (rooms)", f"{result['homes']} ({result['rooms']}) over {result['days']} days"),
        ("homes whose true M reaches 3", result["positives"]),
        ("recall (alert on or before M=3)", result["recall"]),
        ("recall (alert at any time)", result["recall_any_time"]),
        ("precision", result["precision"]),
        ("alerted homes whose true M reached 2", result["precision_true_m2"]),
        (
            "median lead time, days (p10)",
            f"{result['median_lead_days']} ({result['p10_lead_days']})",
        ),
        ("false alarms / 1,000 homes / month", result["false_alarms_per_1000_homes_month"]),
        ("sensor faults caught", f"{result['faults_caught']} of {result['faults']}"),
        ("mould alerts from faulty rooms", result["faulty_room_mould_alerts"]),
        ("rooms flagged faulty without a fault", result["false_fault_rooms"]),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for kind, counts in sorted(result["faults_by_kind"].items()):
        print(f"{'  ' + kind:<{width}}  {counts['caught']} of {counts['faults']}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
