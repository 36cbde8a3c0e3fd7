"""Projection, score, band, cause and the words used to explain them."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from models.mould_index import maximum_index, mould_index, weeks_to_m1
from models.projection import days_to_index, humidity_trend_per_week
from models.psychro import vapour_pressure_pa
from models.risk import band_of, cause_drops, cause_of, explain_room, scores


def _constant(
    temperature_c: float, humidity_pct: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Growth rate per day and M_max of constant conditions (all hours growing)."""
    rate = 24.0 / (7.0 * 24.0 * float(weeks_to_m1(temperature_c, humidity_pct)))
    return np.array([rate]), np.array([float(maximum_index(temperature_c, humidity_pct))])


def test_projection_matches_hourly_integration_at_constant_conditions() -> None:
    """Days to M=1 and M=3 agree with the hourly model run forward to within a day."""
    rate, m_max = _constant(18.0, 95.0)
    days = days_to_index(np.array([0.0]), rate, m_max, np.array([0.0]))
    m = mould_index(np.full(24 * 200, 18.0), np.full(24 * 200, 95.0))
    assert days[1.0][0] == pytest.approx((np.argmax(m >= 1.0) + 1) / 24, abs=1.0)
    assert days[3.0][0] == pytest.approx((np.argmax(m >= 3.0) + 1) / 24, abs=1.0)


def test_projection_never_reaches_a_target_when_decline_wins() -> None:
    """Growth outweighed by the dry hours' decline projects no mould (NaN), even from M=0.5."""
    rate, m_max = _constant(18.0, 95.0)
    days = days_to_index(np.array([0.5]), rate, m_max, rate * 2.0)
    assert np.isnan(days[1.0][0])
    assert np.isnan(days[3.0][0])


def test_projection_is_zero_for_a_level_already_reached() -> None:
    """A room at M=3.2 is at M>=1 and M>=3 today."""
    days = days_to_index(np.array([3.2]), np.array([0.0]), np.array([0.0]), np.array([0.0]))
    assert days[1.0][0] == 0.0
    assert days[3.0][0] == 0.0


def test_robust_trend_ignores_outliers() -> None:
    """Three wet days among 21 leave a slope of 0.5 points a day at 3.5 a week."""
    days = np.arange(21, dtype=np.float64)
    series = 70.0 + 0.5 * days
    series[[4, 9, 15]] += 25.0
    assert humidity_trend_per_week(series[np.newaxis])[0] == pytest.approx(3.5, abs=0.3)


def test_trend_needs_a_week_of_data() -> None:
    """Six days are too few for a trend."""
    assert np.isnan(humidity_trend_per_week(np.array([[70.0, 71.0, 72.0, 73.0, 74.0, 75.0]]))[0])


@pytest.mark.parametrize(
    ("m", "days_to_m3", "band"),
    [
        (0.0, np.nan, "green"),
        (2.4, np.nan, "green"),
        (2.5, np.nan, "amber"),
        (3.0, np.nan, "red"),
        (0.3, 40.0, "green"),
        (0.3, 35.0, "amber"),
        (0.3, 14.0, "red"),
    ],
)
def test_bands_follow_index_and_projection(m: float, days_to_m3: float, band: str) -> None:
    """Amber from M=2.5 or visible mould within five weeks; red from M=3 or within two."""
    score = int(scores(np.array([m]), np.array([days_to_m3]))[0])
    assert 0 <= score <= 100
    assert band_of(score) == band


def _drops(temperature_c: float, humidity_pct: float, factor: float) -> dict[str, float]:
    out = cause_drops(
        np.array([temperature_c]),
        vapour_pressure_pa(np.array([temperature_c]), np.array([humidity_pct])),
        np.array([5.0]),
        vapour_pressure_pa(np.array([5.0]), np.array([85.0])),
        np.array([factor]),
    )
    return {k: float(v[0]) for k, v in out.items()}


def test_cold_room_is_under_heating() -> None:
    """A 14 °C room with ordinary moisture and fabric is under-heated."""
    cause, causes = cause_of(_drops(14.0, 65.0, 0.75), "amber")
    assert cause == "under_heating"
    assert causes == ["under_heating"]


def test_humid_warm_room_is_moisture() -> None:
    """A 21 °C room at 70 % RH with sound fabric has a moisture/ventilation cause."""
    cause, _ = cause_of(_drops(21.0, 70.0, 0.8), "red")
    assert cause == "moisture"


def test_cold_junction_is_cold_fabric() -> None:
    """A warm, ordinary room whose coldest surface has f 0.45 is cold fabric."""
    cause, _ = cause_of(_drops(20.0, 50.0, 0.45), "amber")
    assert cause == "cold_fabric"


def test_green_room_has_no_cause() -> None:
    """Nothing is blamed for a room that is not at risk."""
    assert cause_of(_drops(20.0, 50.0, 0.45), "green")[0] == "none"
    assert cause_of(_drops(20.0, 50.0, 0.45), "unknown")[0] == "unknown"


@pytest.mark.parametrize("band", ["green", "amber", "red", "unknown"])
@pytest.mark.parametrize("causes", [["moisture"], ["under_heating", "cold_fabric"], []])
def test_explanation_is_two_blameless_sentences(band: str, causes: list[str]) -> None:
    """Two sentences, and none of the words that put the blame on the household."""
    text = explain_room(
        room_name="Bedroom 1",
        band=band,
        mould_index=1.4,
        days_to_m3=30.0,
        surface_humidity_pct=84.0,
        hours_surface_rh80=11.0,
        causes=causes,
        fault=None,
    )
    assert len(re.findall(r"[.!?](?:\s|$)", text)) == 2
    assert not re.search(r"lifestyle|behaviour|tenant|occupant|drying clothes|you ", text, re.I)
