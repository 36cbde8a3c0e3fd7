"""What a rule saw about one subject (a home or a sensor) at evaluation time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

State = Literal["risk", "safe"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One subject's condition for one alert kind, and since when it has held.

    `since` is the start of the current unbroken run of `state`: the rules raise only once a
    risk has lasted the kind's minimum duration, and clear only once safety has. A subject
    whose condition is in between (inside the hysteresis band, or unknown) yields no
    observation, so it neither raises nor clears.
    """

    kind: str
    borough_code: str
    uprn: int | None
    sensor_id: str | None
    state: State
    since: datetime
    severity: str
    title: str
    # For a risk: why, in words an officer can repeat. For safety: the reason for clearing.
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)
    room_id: int | None = None
