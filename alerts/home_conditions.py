"""Home-level conditions: damp-and-mould risk from the risk model, and a cold home.

Risk assessments are read here with SQL rather than through `models`, because the rules need
the history of each home's bands (when the current run of amber-or-red began), not only the
latest row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from alerts.observation import Observation
from alerts.policy import AlertPolicy

# For every home with a recent home-level (room_id NULL) assessment whose band is known: the
# latest assessment, its state (risk = amber or red, safe = green), and when the current
# unbroken run of that state began. Only homes at risk or with an open alert are returned.
# The scoring job writes a row per home every run (every 15 minutes in service), so nothing
# here reads a home's whole lookback: the latest row is one index probe, and the walk back to
# the last row of the other state runs on the home-level index (migration 0032), band included.
SELECT_DAMP_STATE = """
    WITH latest AS (
        SELECT l.assessment_id, l.assessed_at, l.uprn, h.borough_code,
               CASE WHEN l.band = 'green' THEN 'safe' ELSE 'risk' END AS state
        FROM homes h
        CROSS JOIN LATERAL (
            SELECT ra.assessment_id, ra.assessed_at, ra.uprn, ra.band
            FROM risk_assessments ra
            WHERE ra.uprn = h.uprn AND ra.room_id IS NULL
              AND ra.band IN ('green', 'amber', 'red')
              AND ra.assessed_at <= %(now)s AND ra.assessed_at > %(now)s - %(lookback)s
            ORDER BY ra.assessed_at DESC, ra.assessment_id DESC
            LIMIT 1
        ) l
        WHERE (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
    ),
    wanted AS (
        SELECT l.*,
               (SELECT max(o.assessed_at) FROM risk_assessments o
                 WHERE o.uprn = l.uprn AND o.room_id IS NULL
                   AND o.band IN ('green', 'amber', 'red')
                   AND (o.band = 'green') <> (l.state = 'safe')
                   AND o.assessed_at <= l.assessed_at
                   AND o.assessed_at > %(now)s - %(lookback)s) AS other_at
        FROM latest l
        WHERE l.state = 'risk'
           OR EXISTS (SELECT 1 FROM alerts al
                      WHERE al.kind = 'damp_mould' AND al.uprn = l.uprn
                        AND al.status <> 'cleared')
    )
    SELECT ra.assessment_id, ra.assessed_at, ra.uprn, w.borough_code, ra.window_start,
           ra.window_end, ra.score, ra.band, ra.mould_index, ra.days_to_m1, ra.days_to_m3,
           ra.cause, ra.explanation, ra.coverage, ra.model_version, w.state,
           (ra.details ->> 'worst_room_id')::bigint AS worst_room_id,
           ra.details -> 'rooms' AS rooms,
           (SELECT min(s.assessed_at) FROM risk_assessments s
             WHERE s.uprn = w.uprn AND s.room_id IS NULL
               AND s.band IN ('green', 'amber', 'red')
               AND (s.band = 'green') = (w.state = 'safe')
               AND s.assessed_at > coalesce(w.other_at, %(now)s - %(lookback)s)
               AND s.assessed_at <= %(now)s) AS since
    FROM wanted w
    JOIN risk_assessments ra ON ra.assessment_id = w.assessment_id
"""

ONE_DAY = timedelta(days=1)

DAMP_TITLES = {
    "amber": "Conditions for mould growth are building up",
    "red": "Mould growth is likely: conditions have favoured it for some time",
}


def damp_observations(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AlertPolicy,
    borough: str | None = None,
) -> list[Observation]:
    """One observation per home at risk or with an open damp-and-mould alert."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            SELECT_DAMP_STATE,
            {"now": now, "lookback": policy.assessment_lookback, "borough": borough},
        ).fetchall()
    return [_damp_observation(row) for row in rows]


def _damp_observation(row: dict[str, Any]) -> Observation:
    evidence = {
        "assessment_id": row["assessment_id"],
        "assessed_at": row["assessed_at"].isoformat(),
        "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(),
        "score": row["score"],
        "band": row["band"],
        "mould_index": row["mould_index"],
        "days_to_m1": row["days_to_m1"],
        "days_to_m3": row["days_to_m3"],
        "cause": row["cause"],
        "explanation": row["explanation"],
        "coverage": row["coverage"],
        "model_version": row["model_version"],
        "state_since": row["since"].isoformat(),
        "worst_room_id": row["worst_room_id"],
        "rooms": row["rooms"] or [],
    }
    if row["state"] == "risk":
        return Observation(
            kind="damp_mould",
            borough_code=row["borough_code"],
            uprn=row["uprn"],
            sensor_id=None,
            state="risk",
            since=row["since"],
            severity=row["band"],
            title=DAMP_TITLES[row["band"]],
            explanation=row["explanation"],
            evidence=evidence,
            room_id=row["worst_room_id"],
        )
    return Observation(
        kind="damp_mould",
        borough_code=row["borough_code"],
        uprn=row["uprn"],
        sensor_id=None,
        state="safe",
        since=row["since"],
        severity="info",
        title="Damp and mould risk has returned to low",
        explanation=(
            f"Every home-level risk assessment since {row['since']:%Y-%m-%d %H:%M} UTC has been "
            f"green (latest score {row['score']})."
        ),
        evidence=evidence,
    )


# Daily mean indoor temperature of each home on each UTC day of the window, from the daily sums
# the scoring job keeps per room (`room_daily_conditions`, migration 0020): the mean of the
# hourly means of all its rooms, and the most hours any of its rooms was heard from that day.
# Each room's few days are read through the table's (room_id, day) key, so the cost follows
# the number of rooms, not the months of history; OFFSET 0 keeps the planner from flattening
# the lateral subquery into a scan of the whole table.
SELECT_DAILY_TEMPERATURE = """
    SELECT r.uprn, h.borough_code, d.day,
           (sum(d.sum_temperature_c) / sum(d.hours_observed))::double precision AS mean_c,
           max(d.hours_observed) AS hours
    FROM homes h
    JOIN rooms r ON r.uprn = h.uprn
    CROSS JOIN LATERAL (
        SELECT d.day, d.sum_temperature_c, d.hours_observed
        FROM room_daily_conditions d
        WHERE d.room_id = r.room_id AND d.day >= %(first_day)s AND d.day <= %(last_day)s
          AND d.hours_observed > 0
        OFFSET 0
    ) d
    WHERE (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
    GROUP BY r.uprn, h.borough_code, d.day
"""

DayClass = Literal["cold", "warm", "between", "sparse"]


def cold_home_observations(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AlertPolicy,
    borough: str | None = None,
) -> list[Observation]:
    """A home is cold after whole days in a row whose mean is below the threshold, warm after
    days in a row at or above the (higher) warm level; a day in between, or with too few hours
    of readings, ends the run.

    Days are UTC days, as the risk model sums them, and only the hours the scoring job has
    integrated count, so the rule runs right after a scoring run (as `dampwatch score` does).
    Today takes part once it has enough hours; until then the run is counted from yesterday.
    """
    today = now.astimezone(UTC).date()
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            SELECT_DAILY_TEMPERATURE,
            {
                "first_day": today - timedelta(days=policy.cold_lookback_days),
                "last_day": today,
                "borough": borough,
            },
        ).fetchall()
    days_by_home: dict[tuple[int, str], dict[date, tuple[float, int]]] = {}
    for row in rows:
        home = days_by_home.setdefault((row["uprn"], row["borough_code"]), {})
        home[row["day"]] = (row["mean_c"], row["hours"])
    observations = []
    for (uprn, borough_code), days in days_by_home.items():
        obs = _cold_observation(uprn, borough_code, days, today=today, policy=policy)
        if obs is not None:
            observations.append(obs)
    return observations


def _day_class(day: tuple[float, int] | None, policy: AlertPolicy) -> DayClass:
    if day is None or day[1] < policy.cold_min_hours_per_day:
        return "sparse"
    if day[0] < policy.cold_day_mean_below_c:
        return "cold"
    if day[0] >= policy.warm_day_mean_at_least_c:
        return "warm"
    return "between"


def _cold_observation(
    uprn: int,
    borough_code: str,
    days: dict[date, tuple[float, int]],
    *,
    today: date,
    policy: AlertPolicy,
) -> Observation | None:
    latest = today if _day_class(days.get(today), policy) != "sparse" else today - ONE_DAY
    window = [latest - n * ONE_DAY for n in range(policy.cold_lookback_days)]
    classes = [_day_class(days.get(day), policy) for day in window]
    first = classes[0]
    if first not in ("cold", "warm"):
        return None
    run = 1
    while run < len(classes) and classes[run] == first:
        run += 1
    run_means = [round(days[window[n]][0], 1) for n in range(run)]
    evidence = {
        "daily_mean_c": {
            day.isoformat(): round(mean, 2) for day, (mean, _) in sorted(days.items())
        },
        "run_days": run,
        "cold_below_c": policy.cold_day_mean_below_c,
        "warm_at_least_c": policy.warm_day_mean_at_least_c,
    }
    # The run began at the start of its first (UTC) day: a run of three whole days has lasted
    # three days once the third is over.
    since = datetime.combine(window[run - 1], time(0), tzinfo=UTC)
    if first == "cold":
        coldest = min(run_means)
        severity = "red" if coldest < policy.cold_day_red_below_c else "amber"
        return Observation(
            kind="cold_home",
            borough_code=borough_code,
            uprn=uprn,
            sensor_id=None,
            state="risk",
            since=since,
            severity=severity,
            title="The home has been cold for several days",
            explanation=(
                f"The home's average indoor temperature has been below "
                f"{policy.cold_day_mean_below_c:g} °C on each of the last {run} days "
                f"(daily averages {', '.join(f'{m:g}' for m in reversed(run_means))} °C). "
                "A cold home is harder to keep free of condensation and is a risk to health; "
                "the household may need help with heating or its cost."
            ),
            evidence=evidence,
        )
    return Observation(
        kind="cold_home",
        borough_code=borough_code,
        uprn=uprn,
        sensor_id=None,
        state="safe",
        since=since,
        severity="info",
        title="The home is warm again",
        explanation=(
            f"The home's average indoor temperature has been at least "
            f"{policy.warm_day_mean_at_least_c:g} °C on each of the last {run} days."
        ),
        evidence=evidence,
    )
