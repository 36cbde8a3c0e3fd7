"""The model against the committed winter sample's ground truth (firmware-sim/samples/winter50)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.evaluate import Tally, evaluate_dataset, summarise

SAMPLE = Path(__file__).resolve().parents[2] / "firmware-sim" / "samples" / "winter50"

pytestmark = pytest.mark.slow


def test_winter_sample_is_caught_early_without_faulty_alerts() -> None:
    """Every home that reaches visible mould is flagged weeks ahead; faulty sensors raise none."""
    from dampsim.sample import load_sample

    tally = Tally()
    evaluate_dataset(load_sample(SAMPLE), tally)
    result = summarise(tally)
    assert result["positives"] >= 5
    assert result["recall"] >= 0.8
    assert result["precision"] >= 0.7
    assert result["median_lead_days"] >= 21
    assert result["faults_caught"] >= 0.75
    assert result["faulty_room_mould_alerts"] == 0
