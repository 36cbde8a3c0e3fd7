"""Each fault appears when asked for, and not otherwise; firmware quirks likewise."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from dampsim import FAULT_KINDS, SimOptions, generate_dataset

END = datetime(2026, 1, 20, tzinfo=UTC)
BASE = SimOptions(
    homes=30, boroughs=3, seed=21, history_days=4, end_at=END, reading_interval_s=900.0
)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_kind_appears_alone_when_asked_for(kind: str) -> None:
    """Asking for one fault kind gives faulty sensors of that kind and no other."""
    truth = generate_dataset(replace(BASE, fault_kinds=(kind,), fault_fraction=0.4)).truth
    assert truth.faults
    assert {f["kind"] for f in truth.faults} == {kind}


def test_no_faults_when_none_are_asked_for() -> None:
    """A zero fault fraction, or an empty list of kinds, leaves every sensor healthy."""
    assert generate_dataset(replace(BASE, fault_fraction=0.0)).truth.faults == []
    assert generate_dataset(replace(BASE, fault_kinds=())).truth.faults == []


def test_a_stuck_sensor_repeats_one_value() -> None:
    """After it sticks, a sensor reports one humidity; before, its readings varied."""
    dataset = generate_dataset(
        replace(BASE, fault_kinds=("stuck",), fault_fraction=0.4, firmware_quirks=False)
    )
    ids = dataset.sensors.sensor_id[dataset.readings.sensor]
    checked = 0
    for fault in dataset.truth.faults:
        start = datetime.fromisoformat(str(fault["start_at"])).timestamp()
        mine = ids == fault["sensor_id"]
        before = dataset.readings.humidity_pct[mine & (dataset.readings.recorded_at < start)]
        after = dataset.readings.humidity_pct[mine & (dataset.readings.recorded_at > start + 60)]
        if after.size < 2:
            continue  # the fault begins after the generated window
        assert np.unique(after).size == 1
        assert np.unique(before).size > 1
        checked += 1
    assert checked > 0


def test_unprovisioned_sensors_publish_but_are_not_in_the_export() -> None:
    """Unprovisioned devices take readings but are listed apart from the homes."""
    dataset = generate_dataset(replace(BASE, fault_kinds=("unprovisioned",), fault_fraction=0.6))
    listed = {
        s["sensor_id"]
        for h in dataset.provisioning["homes"]
        for r in h["rooms"]
        for s in r["sensors"]
    }
    apart = set(dataset.provisioning["unprovisioned_sensors"])
    measuring = set(dataset.sensors.sensor_id[np.unique(dataset.readings.sensor)].tolist())
    assert apart
    assert apart <= measuring
    assert not apart & listed


def test_firmware_quirks_off_means_no_duplicates_backlogs_or_deaths() -> None:
    """Without quirks every reading leaves when taken, once, and batteries never die."""
    quiet = generate_dataset(replace(BASE, firmware_quirks=False)).readings
    noisy = generate_dataset(BASE).readings
    assert not quiet.duplicate.any()
    assert np.array_equal(quiet.sent_at, quiet.recorded_at)
    assert noisy.duplicate.any()
    assert (noisy.sent_at > noisy.recorded_at + 3600).any()
