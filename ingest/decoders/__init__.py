"""Payload decoders, one module per format, chosen by topic.

`decode(topic, payload)` is the public face: the topic without DAMP_MQTT_TOPIC_PREFIX, the raw
bytes, and back comes a `Decoded` (readings, or outdoor readings), or a `PayloadError` whose
`reason` is a short code (`malformed`, `schema`, `out_of_range`, `naive_timestamp`,
`future_timestamp`, `too_old`, `unknown_topic`, ...) and whose `detail` says what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.decoders import chirpstack, lpp, native, outdoor, senml, tts
from ingest.decoders.result import (
    DEFAULT_LIMITS,
    Decoded,
    Limits,
    OutdoorReading,
    PayloadError,
    Reading,
)
from ingest.decoders.routing import DecoderFn, Route, TopicRouter

DECODERS: dict[str, DecoderFn] = {
    native.NAME: native.decode,
    senml.NAME: senml.decode,
    lpp.NAME: lpp.decode,
    tts.NAME: tts.decode,
    chirpstack.NAME: chirpstack.decode,
    outdoor.NAME: outdoor.decode,
}


def make_router(patterns: Mapping[str, str]) -> TopicRouter:
    """A router over the given format -> topic pattern map (DAMP_INGEST_TOPICS)."""
    return TopicRouter(patterns, DECODERS)


def _default_router() -> TopicRouter:
    from ingest.settings import DEFAULT_TOPICS

    return make_router({name: DEFAULT_TOPICS[name] for name in DECODERS})


DEFAULT_ROUTER = _default_router()


def decode(
    topic: str,
    payload: bytes,
    *,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
    router: TopicRouter = DEFAULT_ROUTER,
) -> Decoded:
    """Decode one message received on `topic` (prefix removed) at `now` (default: now)."""
    return router.decode(
        topic, payload, now=datetime.now(UTC) if now is None else now, limits=limits
    )


__all__ = [
    "DECODERS",
    "DEFAULT_LIMITS",
    "Decoded",
    "Limits",
    "OutdoorReading",
    "PayloadError",
    "Reading",
    "Route",
    "TopicRouter",
    "decode",
    "make_router",
]
