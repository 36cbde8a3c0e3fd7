"""A batch of received messages, decoded into the rows the writer stores.

Decoding happens here, once per batch, so that the MQTT thread only appends to a list and the
hot path holds no per-message database work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from ingest.decoders import Limits, PayloadError, TopicRouter

logger = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 2000


class Inbound(NamedTuple):
    """One message as it came off the wire (the topic still carries the prefix)."""

    topic: str
    payload: bytes
    received_at: float  # Unix time, seconds


class Rejected(NamedTuple):
    """A row of rejected_messages."""

    topic: str
    payload: bytes
    decoder: str | None
    reason: str
    detail: str
    received_at: float


# (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct, received_at, format):
# the order of the staging table's columns, so rows go to COPY as they are.
ReadingRow = tuple[str, datetime, float, float, float | None, float, str]
OutdoorRow = tuple[str, datetime, float, float, Rejected]


@dataclass(slots=True)
class PreparedBatch:
    messages: int = 0
    readings: list[ReadingRow] = field(default_factory=list)
    outdoor: list[OutdoorRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    received_by_format: dict[str, int] = field(default_factory=dict)
    oldest_received_at: float | None = None


def prepare_batch(
    messages: list[Inbound], *, prefix: str, router: TopicRouter, limits: Limits
) -> PreparedBatch:
    """Decode every message; each becomes rows, a rejection, or both (a partly bad backlog)."""
    batch = PreparedBatch(messages=len(messages))
    if not messages:
        return batch
    batch.oldest_received_at = messages[0].received_at
    counts = batch.received_by_format
    prefix_len = len(prefix)
    append_reading = batch.readings.append
    for message in messages:
        topic, payload, received_at = message
        # Each message's own receive time: formats without a timestamp (Cayenne LPP) are
        # stamped with it, and a replay from the spool decodes exactly as live.
        now = datetime.fromtimestamp(received_at, UTC)
        decoder: str | None = None
        try:
            if not topic.startswith(prefix):
                raise PayloadError("unknown_topic", f"topic {topic[:200]!r} outside the prefix")
            route, fields = router.route(topic[prefix_len:])
            decoder = route.name
            counts[decoder] = counts.get(decoder, 0) + 1
            decoded = route.decode(fields, payload, now=now, limits=limits)
        except PayloadError as err:
            batch.rejected.append(
                Rejected(
                    topic, payload, decoder, err.reason, err.detail[:MAX_DETAIL_CHARS], received_at
                )
            )
            continue
        except Exception as err:
            # A decoder bug must not stop ingest on one message forever (the broker would
            # redeliver it after every crash): keep the message, say so loudly.
            logger.exception("decoder %s failed on a message on %s", decoder, topic)
            batch.rejected.append(
                Rejected(
                    topic,
                    payload,
                    decoder,
                    "decoder_error",
                    repr(err)[:MAX_DETAIL_CHARS],
                    received_at,
                )
            )
            continue
        for r in decoded.readings:
            append_reading(
                (
                    r.sensor_id,
                    r.recorded_at,
                    r.temperature_c,
                    r.humidity_pct,
                    r.battery_pct,
                    received_at,
                    decoder,
                )
            )
        if decoded.outdoor:
            # Kept with the message, in case the borough turns out to be unknown.
            source = Rejected(topic, payload, decoder, "", "", received_at)
            batch.outdoor.extend(
                (o.borough_code, o.recorded_at, o.temperature_c, o.humidity_pct, source)
                for o in decoded.outdoor
            )
        if decoded.rejections:
            first = decoded.rejections[0]
            detail = "; ".join(err.detail for err in decoded.rejections)
            batch.rejected.append(
                Rejected(
                    topic, payload, decoder, first.reason, detail[:MAX_DETAIL_CHARS], received_at
                )
            )
    return batch
