"""Thresholds and minimum durations of the alert rules: hysteresis lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """How long a condition must last before an alert is raised or cleared, and the levels.

    Raising and clearing use different levels (battery, cold home) or different durations
    (damp and mould), so a subject hovering near one threshold neither flaps nor repeats.
    """

    # The VTT mould index behind the band integrates weeks of surface conditions, so one amber
    # or red home-level assessment is already a sustained condition; clearing waits for two
    # days of green assessments in a row.
    damp_raise_after: timedelta = timedelta(0)
    damp_clear_after: timedelta = timedelta(hours=48)
    # Only assessments this recent take part; older runs are history.
    assessment_lookback: timedelta = timedelta(days=30)

    # UKHSA (formerly PHE), "Minimum home temperature thresholds for health in winter" (2014):
    # below 18 °C health risks begin, below 16 °C respiratory effects, below 12 °C
    # cardiovascular strain. A day's mean below 16 °C is a cold day (amber), below 12 °C red;
    # a day is warm again at 18 °C or more.
    cold_day_mean_below_c: float = 16.0
    cold_day_red_below_c: float = 12.0
    warm_day_mean_at_least_c: float = 18.0
    cold_raise_after: timedelta = timedelta(days=3)
    cold_clear_after: timedelta = timedelta(days=2)
    # UTC days looked at, back from the latest (today once it has enough hours, else
    # yesterday): enough for the runs that raise (3 days) and clear (2 days).
    cold_lookback_days: int = 4
    # A day counts only with this share of its hours heard from (a sensor reporting at least
    # once an hour).
    cold_min_hours_per_day: int = 12

    offline_after: timedelta = timedelta(hours=6)
    online_within: timedelta = timedelta(hours=1)

    battery_low_pct: float = 15.0
    battery_red_pct: float = 5.0
    battery_ok_pct: float = 30.0

    # The model's fault detector already waits for a fault to persist before listing it, so a
    # listed fault is raised at once; it clears after a day of assessments without it.
    fault_clear_after: timedelta = timedelta(hours=24)

    # A newly heard sensor gets a day to be placed before anyone is told.
    unplaced_after: timedelta = timedelta(hours=24)

    def raise_after(self, kind: str) -> timedelta:
        return {
            "damp_mould": self.damp_raise_after,
            "cold_home": self.cold_raise_after,
            "unplaced_sensor": self.unplaced_after,
        }.get(kind, timedelta(0))

    def clear_after(self, kind: str) -> timedelta:
        return {
            "damp_mould": self.damp_clear_after,
            "cold_home": self.cold_clear_after,
            "sensor_fault": self.fault_clear_after,
        }.get(kind, timedelta(0))


DEFAULT_POLICY = AlertPolicy()
