"""Which decoder a topic goes to: patterns such as `dw/v1/readings/{sensor_id}`.

A pattern is compiled twice: into the MQTT filter to subscribe to (`dw/v1/readings/+`) and into
a regular expression that picks out the named parts of a received topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ingest.decoders.result import Decoded, Limits, PayloadError

DecoderFn = Callable[..., Decoded]
"""`fn(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits)`."""

_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    pattern: str
    topic_filter: str
    regex: re.Pattern[str]
    decode: DecoderFn


def compile_route(name: str, pattern: str, decode: DecoderFn) -> Route:
    """A route for one format; ValueError if the pattern cannot be one."""
    if not pattern or pattern.startswith("/") or any(c in pattern for c in "+#"):
        raise ValueError(f"topic pattern for {name!r} must be a plain topic with {{fields}}")
    filter_levels: list[str] = []
    regex_levels: list[str] = []
    for level in pattern.split("/"):
        names = _PLACEHOLDER_RE.findall(level)
        if not names:
            filter_levels.append(level)
            regex_levels.append(re.escape(level))
            continue
        filter_levels.append("+")
        parts: list[str] = []
        last = 0
        for match in _PLACEHOLDER_RE.finditer(level):
            parts.append(re.escape(level[last : match.start()]))
            parts.append(f"(?P<{match.group(1)}>[^/]+?)")
            last = match.end()
        parts.append(re.escape(level[last:]))
        regex_levels.append("".join(parts))
    return Route(
        name=name,
        pattern=pattern,
        topic_filter="/".join(filter_levels),
        regex=re.compile("/".join(regex_levels) + r"\Z"),
        decode=decode,
    )


class TopicRouter:
    """Decoders by topic pattern, tried in the order given (put the busiest first)."""

    def __init__(self, patterns: Mapping[str, str], decoders: Mapping[str, DecoderFn]) -> None:
        unknown = sorted(set(patterns) - set(decoders))
        if unknown:
            raise ValueError(f"no decoder for format(s) {unknown}; known: {sorted(decoders)}")
        self.routes = tuple(
            compile_route(name, pattern, decoders[name]) for name, pattern in patterns.items()
        )

    @property
    def topic_filters(self) -> list[str]:
        return [route.topic_filter for route in self.routes]

    def route(self, topic: str) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            match = route.regex.match(topic)
            if match is not None:
                return route, match.groupdict()
        raise PayloadError("unknown_topic", f"no decoder for topic {topic[:200]!r}")

    def decode(self, topic: str, payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
        route, fields = self.route(topic)
        return route.decode(fields, payload, now=now, limits=limits)
