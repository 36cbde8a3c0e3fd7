"""Saving and loading a dataset as a small committed sample; regenerating `winter50`.

A sample is a directory: `arrays.zip` (numpy arrays, LZMA-compressed, readings delta-coded per
sensor and values scaled to their resolution, so nothing is lost), `meta.json` (window, seed,
options, sensor table, truth tables), `provisioning.json` and `truth.json` (the human-readable
truth, as `--truth-out` writes it). `load_sample` gives back the `Dataset` that was saved.

    python -m dampsim.sample firmware-sim/samples/winter50   # regenerate, deterministically
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from dataclasses import asdict, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dampsim.dataset import Dataset, Outdoor, SensorTable, generate_dataset
from dampsim.firmware import Readings
from dampsim.ground_truth import Truth
from dampsim.options import SimOptions

# One winter, October to March, hourly readings: what the model evaluation needs, and small.
WINTER50 = SimOptions(
    homes=50,
    boroughs=10,
    seed=2025,
    history_days=182,
    end_at=datetime(2026, 4, 1, tzinfo=UTC),
    reading_interval_s=3600.0,
    formats="mixed",
    mould_fraction=0.2,
    fault_fraction=0.05,
)


def _put(archive: zipfile.ZipFile, name: str, array: npt.NDArray[Any]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    archive.writestr(f"{name}.npy", buffer.getvalue())


def _get(archive: zipfile.ZipFile, name: str) -> npt.NDArray[Any]:
    with archive.open(f"{name}.npy") as handle:
        result: npt.NDArray[Any] = np.load(io.BytesIO(handle.read()), allow_pickle=False)
        return result


def save_sample(dataset: Dataset, path: Path, options: SimOptions | None = None) -> None:
    """Write `dataset` under directory `path` (created)."""
    path.mkdir(parents=True, exist_ok=True)
    r = dataset.readings
    order = np.lexsort((r.recorded_at, r.sensor))
    sensor, recorded = r.sensor[order], r.recorded_at[order]
    counts = np.bincount(sensor, minlength=len(dataset.sensors))
    time_steps = np.diff(recorded, prepend=0)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])[counts > 0]
    time_steps[first] = recorded[first]  # absolute at each sensor's first reading
    truth = dataset.truth
    with zipfile.ZipFile(path / "arrays.zip", "w", zipfile.ZIP_LZMA) as archive:
        _put(archive, "counts", counts.astype(np.int32))
        _put(archive, "time_steps", time_steps.astype(np.int64))
        _put(archive, "temperature_dc", np.round(r.temperature_c[order] * 10).astype(np.int16))
        _put(archive, "humidity_hpct", np.round(r.humidity_pct[order] * 2).astype(np.uint8))
        _put(archive, "battery_pct", np.round(r.battery_pct[order]).astype(np.uint8))
        _put(archive, "send_delay_s", (r.sent_at - r.recorded_at)[order].astype(np.int32))
        _put(archive, "duplicates", np.flatnonzero(r.duplicate[order]).astype(np.int32))
        _put(archive, "outdoor_at", dataset.outdoor.at)
        _put(
            archive,
            "outdoor_temperature_cc",
            np.round(dataset.outdoor.temperature_c * 100).astype(np.int16),
        )
        _put(
            archive,
            "outdoor_humidity_dpct",
            np.round(dataset.outdoor.humidity_pct * 10).astype(np.int16),
        )
        _put(archive, "mould_index_milli", np.round(truth.mould_index * 1000).astype(np.uint16))
        _put(archive, "days_at", truth.days_at)
    meta = {
        "start_at": dataset.start_at.isoformat(),
        "end_at": dataset.end_at.isoformat(),
        "seed": dataset.seed,
        "options": _options_json(options) if options else None,
        "sensors": {f.name: getattr(dataset.sensors, f.name).tolist() for f in fields(SensorTable)},
        "outdoor_boroughs": list(dataset.outdoor.borough_codes),
        "truth": {
            name: getattr(truth, name).tolist()
            for name in (
                "room_uprn",
                "room_name",
                "room_kind",
                "first_day_m1",
                "first_day_m3",
                "cause",
                "home_uprn",
                "home_risk_driver",
            )
        },
        "faults": truth.faults,
    }
    _write(path / "meta.json", meta)
    _write(path / "provisioning.json", dataset.provisioning)
    _write(path / "truth.json", truth.to_json())


def _options_json(options: SimOptions) -> dict[str, Any]:
    document = asdict(options)
    document["end_at"] = options.end_at.isoformat() if options.end_at else None
    document["boroughs"] = list(options.borough_codes())
    document["fault_kinds"] = list(options.fault_kinds)
    return document


def _write(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")


def load_sample(path: str | Path) -> Dataset:
    """The `Dataset` saved under `path` by `save_sample`."""
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(path / "arrays.zip") as archive:
        arrays = {
            name.removesuffix(".npy"): _get(archive, name.removesuffix(".npy"))
            for name in archive.namelist()
        }
    counts = arrays["counts"].astype(np.int64)
    sensor = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    steps = arrays["time_steps"]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # Cumulative sum within each sensor's run: subtract the running total at each run start.
    total = np.cumsum(steps)
    offsets = np.repeat(total[starts[counts > 0]] - steps[starts[counts > 0]], counts[counts > 0])
    recorded = total - offsets
    duplicate = np.zeros(sensor.size, dtype=bool)
    duplicate[arrays["duplicates"]] = True
    readings = Readings(
        sensor=sensor,
        recorded_at=recorded,
        temperature_c=np.round(arrays["temperature_dc"].astype(np.float64) / 10, 1),
        humidity_pct=np.round(arrays["humidity_hpct"].astype(np.float64) / 2, 1),
        battery_pct=arrays["battery_pct"].astype(np.float64),
        sent_at=recorded + arrays["send_delay_s"],
        duplicate=duplicate,
    )
    s = meta["sensors"]
    sensors = SensorTable(
        sensor_id=np.array(s["sensor_id"], dtype=str),
        uprn=np.array(s["uprn"], dtype=np.int64),
        borough_code=np.array(s["borough_code"], dtype=str),
        room_name=np.array(s["room_name"], dtype=str),
        room_kind=np.array(s["room_kind"], dtype=str),
        payload_format=np.array(s["payload_format"], dtype=str),
        provisioned=np.array(s["provisioned"], dtype=bool),
    )
    t = meta["truth"]
    truth = Truth(
        days_at=arrays["days_at"],
        room_uprn=np.array(t["room_uprn"], dtype=np.int64),
        room_name=np.array(t["room_name"], dtype=str),
        room_kind=np.array(t["room_kind"], dtype=str),
        mould_index=(arrays["mould_index_milli"].astype(np.float32) / 1000).astype(np.float32),
        first_day_m1=np.array(t["first_day_m1"], dtype=np.int32),
        first_day_m3=np.array(t["first_day_m3"], dtype=np.int32),
        cause=np.array(t["cause"], dtype=str),
        home_uprn=np.array(t["home_uprn"], dtype=np.int64),
        home_risk_driver=np.array(t["home_risk_driver"], dtype=str),
        faults=meta["faults"],
    )
    outdoor = Outdoor(
        borough_codes=tuple(meta["outdoor_boroughs"]),
        at=arrays["outdoor_at"],
        temperature_c=(arrays["outdoor_temperature_cc"] / 100).astype(np.float32),
        humidity_pct=(arrays["outdoor_humidity_dpct"] / 10).astype(np.float32),
    )
    return Dataset(
        start_at=datetime.fromisoformat(meta["start_at"]),
        end_at=datetime.fromisoformat(meta["end_at"]),
        seed=int(meta["seed"]),
        sensors=sensors,
        readings=readings,
        outdoor=outdoor,
        provisioning=json.loads((path / "provisioning.json").read_text(encoding="utf-8")),
        truth=truth,
    )


def regenerate(path: Path, options: SimOptions = WINTER50) -> Dataset:
    dataset = generate_dataset(options)
    save_sample(dataset, path, options)
    return dataset


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "samples/winter50"
    dataset = regenerate(target)
    size = sum(p.stat().st_size for p in target.iterdir())
    print(
        f"{target}: {len(dataset.readings):,} readings, {len(dataset.sensors)} sensors, "
        f"{size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
