"""Line charts as inline SVG, drawn on the server: no JavaScript, nothing to download.

Each chart is an `<svg role="img">` with a title and a text description (latest, lowest and
highest values), a legend that tells series apart by dash pattern as well as colour, and gaps
where readings are missing rather than lines drawn across them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

WIDTH = 760
HEIGHT = 240
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 28
# A hole longer than this between two points is a gap, not a line.
MAX_JOIN = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str
    points: Sequence[tuple[datetime, float | None]]
    dash: str = ""  # SVG stroke-dasharray; "" is solid
    continuous: bool = False  # join points however far apart (a projection, sparse history)


@dataclass(frozen=True, slots=True)
class Threshold:
    label: str
    value: float


@dataclass(frozen=True, slots=True)
class Chart:
    chart_id: str
    title: str
    unit: str
    series: Sequence[Series]
    start: datetime
    end: datetime
    zone: ZoneInfo
    thresholds: Sequence[Threshold] = field(default=())
    y_floor: float | None = None
    y_ceiling: float | None = None


def render(chart: Chart) -> Markup:
    values = [v for s in chart.series for _, v in s.points if v is not None and math.isfinite(v)]
    values += [t.value for t in chart.thresholds]
    if not values:
        return Markup('<p class="empty">No data in this period.</p>')
    low, high = _nice_range(min(values), max(values), chart.y_floor, chart.y_ceiling)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    span_s = max((chart.end - chart.start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return MARGIN_LEFT + plot_w * (at - chart.start).total_seconds() / span_s

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - (value - low) / (high - low))

    parts: list[str] = []
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#d8d8d8"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick:g}</text>"
        )
    for at, label in _time_ticks(chart.start, chart.end, chart.zone):
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>'
        )
    for threshold in chart.thresholds:
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(threshold.value):.1f}" '
            f'y2="{y(threshold.value):.1f}" stroke="#505a5f" stroke-dasharray="2 3"/>'
            f'<text x="{WIDTH - MARGIN_RIGHT - 4}" y="{y(threshold.value) - 4:.1f}" '
            f'text-anchor="end">{escape(threshold.label)}</text>'
        )
    for series in chart.series:
        for run in _runs(series.points, join_all=series.continuous):
            path = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in run)
            dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
            parts.append(
                f'<polyline fill="none" stroke="{series.colour}" stroke-width="2"{dash} '
                f'points="{path}"/>'
            )
    title_id, desc_id = f"{chart.chart_id}-title", f"{chart.chart_id}-desc"
    svg = (
        f'<svg class="chart" id="{chart.chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}">'
        f'<title id="{title_id}">{escape(chart.title)}</title>'
        f'<desc id="{desc_id}">{escape(_describe(chart))}</desc>'
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" stroke="#b1b4b6"/>' + "".join(parts) + "</svg>"
    )
    # Safe: every text that is not ours (names, labels, descriptions) went through escape().
    return Markup(svg + _legend(chart))  # noqa: S704


def _legend(chart: Chart) -> str:
    items = []
    for series in chart.series:
        dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
        items.append(
            f'<li><svg width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" '
            f'y2="5" stroke="{series.colour}" stroke-width="3"{dash}/></svg> '
            f"{escape(series.name)}</li>"
        )
    return f'<ul class="legend">{"".join(items)}</ul>'


def _describe(chart: Chart) -> str:
    sentences = []
    for series in chart.series:
        values = [v for _, v in series.points if v is not None and math.isfinite(v)]
        if values:
            sentences.append(
                f"{series.name}: latest {values[-1]:.1f}{chart.unit}, lowest {min(values):.1f}"
                f"{chart.unit}, highest {max(values):.1f}{chart.unit}."
            )
    return " ".join(sentences) or "No data."


def _runs(
    points: Sequence[tuple[datetime, float | None]], *, join_all: bool = False
) -> list[list[tuple[datetime, float]]]:
    """Split a series where a value is missing or readings stop for longer than MAX_JOIN."""
    runs: list[list[tuple[datetime, float]]] = []
    current: list[tuple[datetime, float]] = []
    for at, value in points:
        if value is None or not math.isfinite(value):
            if current:
                runs.append(current)
            current = []
            continue
        if current and not join_all and at - current[-1][0] > MAX_JOIN:
            runs.append(current)
            current = []
        current.append((at, value))
    if current:
        runs.append(current)
    return runs


def _nice_range(
    low: float, high: float, floor: float | None, ceiling: float | None
) -> tuple[float, float]:
    if floor is not None:
        low = min(low, floor)
    if ceiling is not None:
        high = max(high, ceiling)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    step = _step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def _step(span: float) -> float:
    raw = span / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float) -> list[float]:
    step = _step(high - low)
    count = round((high - low) / step)
    return [round(low + i * step, 6) for i in range(count + 1)]


def _time_ticks(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, str]]:
    """Midnights in the viewer's zone, thinned to at most eight labels."""
    span_days = max((end - start).days, 1)
    every = max(1, math.ceil(span_days / 8))
    local = start.astimezone(zone)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ticks = []
    index = 0
    while day < end:
        if index % every == 0:
            ticks.append((day, day.strftime("%-d %b")))
        index += 1
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    return ticks
