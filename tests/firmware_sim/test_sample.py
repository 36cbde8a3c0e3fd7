"""The committed winter sample loads, is small, and its truth is usable by the evaluation."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from dampsim import SimOptions, generate_dataset
from dampsim.firmware import Readings
from dampsim.sample import WINTER50, load_sample, save_sample

SAMPLE = Path(__file__).resolve().parents[2] / "firmware-sim" / "samples" / "winter50"


def test_a_saved_dataset_loads_back_unchanged(tmp_path: Path) -> None:
    """save_sample then load_sample gives back every reading and the truth, to the last digit."""
    options = SimOptions(
        homes=6,
        boroughs=2,
        seed=3,
        history_days=3,
        end_at=datetime(2026, 2, 1, tzinfo=UTC),
        formats="mixed",
    )
    dataset = generate_dataset(options)
    save_sample(dataset, tmp_path / "s", options)
    loaded = load_sample(tmp_path / "s")
    for f in fields(Readings):
        assert np.array_equal(getattr(loaded.readings, f.name), getattr(dataset.readings, f.name))
    assert np.allclose(loaded.truth.mould_index, dataset.truth.mould_index, atol=5e-4)
    assert loaded.provisioning == dataset.provisioning
    assert np.array_equal(loaded.sensors.sensor_id, dataset.sensors.sensor_id)


def test_the_winter_sample_is_small_and_covers_october_to_march() -> None:
    """winter50: a few MB, 50 homes, hourly readings from 1 October to 31 March."""
    size = sum(p.stat().st_size for p in SAMPLE.iterdir())
    dataset = load_sample(SAMPLE)
    assert size < 5_000_000
    assert len(dataset.provisioning["homes"]) == 50
    assert dataset.start_at == datetime(2025, 10, 1, tzinfo=UTC)
    assert dataset.readings.recorded_at.min() >= dataset.start_at.timestamp()
    assert dataset.readings.recorded_at.max() < dataset.end_at.timestamp()
    assert len(dataset.readings) > 50 * 4 * 170 * 24


def test_the_winter_sample_truth_has_mould_and_clean_homes() -> None:
    """Some homes reach M >= 1 and >= 3 with a cause, most never do; days agree with M."""
    truth = load_sample(SAMPLE).truth
    homes = truth.home_summary()
    mouldy = [h for h in homes if h["day_m1"] is not None]
    assert 3 <= len(mouldy) <= 25
    assert any(h["day_m3"] is not None for h in homes)
    assert all(h["cause"] in ("moisture", "under_heating", "cold_fabric", "mixed") for h in mouldy)
    reached = truth.mould_index.max(axis=1) >= 1.0
    assert np.array_equal(reached, truth.first_day_m1 >= 0)
    assert truth.faults


def test_the_sample_is_what_its_options_generate() -> None:
    """The first homes of the committed sample are regenerated identically from WINTER50."""
    dataset = load_sample(SAMPLE)
    head = generate_dataset(replace(WINTER50, homes=2))
    first = np.isin(dataset.readings.sensor, np.arange(len(head.sensors)))
    assert np.array_equal(dataset.sensors.sensor_id[: len(head.sensors)], head.sensors.sensor_id)
    assert np.array_equal(dataset.readings.temperature_c[first], head.readings.temperature_c)
    assert np.array_equal(dataset.readings.recorded_at[first], head.readings.recorded_at)
