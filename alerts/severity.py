"""How serious an alert is, and the order officers' thresholds compare severities in."""

from __future__ import annotations

from typing import Literal

Severity = Literal["info", "amber", "red"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "amber": 1, "red": 2}
