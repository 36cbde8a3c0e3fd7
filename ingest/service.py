"""`run_ingest`: the ingest process's main loop.

One thread speaks MQTT (the caller's), one writes batches (`BatchWriter`). The MQTT thread
collects messages into batches, hands sealed batches over, and acks the batches the writer
reports done. When the writer is behind, the MQTT thread stops reading from the socket: the
broker's in-flight window (Receive Maximum) then holds further messages back.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from prometheus_client import start_http_server

from ingest.decoders import Limits, make_router
from ingest.pipeline import BatchWriter, Collector, WriterConfig
from ingest.settings import IngestSettings
from ingest.spool import Spool
from ingest.subscriber import Subscriber

logger = logging.getLogger(__name__)

MAX_POLL_S = 0.5
STATUS_EVERY_S = 60.0
WRITER_DRAIN_TIMEOUT_S = 30.0


class IngestError(RuntimeError):
    """The writer failed on something other than an unreachable database."""


def run_ingest(
    settings: IngestSettings, *, stop: threading.Event, ready: threading.Event | None = None
) -> None:
    """Subscribe and store until `stop` is set; then write, ack and disconnect cleanly.

    `ready`, if given, is set once the broker has accepted the subscriptions.
    """
    database_url = settings.require_database_url()
    router = make_router(settings.ingest_topics)
    prefix = settings.mqtt_topic_prefix
    limits = Limits(
        max_future=timedelta(seconds=settings.ingest_max_future_s),
        max_age=timedelta(days=settings.ingest_max_age_days),
    )
    if (
        settings.mqtt_protocol == "5"
        and settings.ingest_receive_maximum < 2 * settings.ingest_batch_size
    ):
        # Messages are acked after COMMIT: with a window smaller than two batches the broker
        # stops sending while a batch commits, and batches close by age instead of size.
        logger.warning(
            "DAMP_INGEST_RECEIVE_MAXIMUM (%d) is below twice DAMP_INGEST_BATCH_SIZE (%d)",
            settings.ingest_receive_maximum,
            settings.ingest_batch_size,
        )
    metrics_server = _serve_metrics(settings)
    spool = Spool(settings.spool_path())
    collector = Collector(settings.ingest_batch_size, settings.ingest_flush_interval_s)
    subscriber = Subscriber(
        settings,
        [prefix + f for f in router.topic_filters],
        collector.add,
        on_subscribed=None if ready is None else ready.set,
    )
    writer = BatchWriter(
        WriterConfig(database_url, prefix, router, limits, settings.ingest_db_retry_s),
        spool,
        on_done=subscriber.wake,
    )
    writer.start()
    logger.info(
        "ingest starting: batches of up to %d messages or %.2f s, spool %s",
        settings.ingest_batch_size,
        settings.ingest_flush_interval_s,
        spool.directory,
    )
    acked = 0
    next_status_at = time.monotonic() + STATUS_EVERY_S
    try:
        while not stop.is_set():
            if writer.failure is not None:
                raise IngestError("the batch writer failed") from writer.failure
            subscriber.ensure_connected()
            collector.seal_if_due()
            _hand_over(collector, writer)
            acked += _ack_done(writer, subscriber)
            subscriber.poll(min(MAX_POLL_S, collector.due_in()), read=not collector.sealed)
            if time.monotonic() >= next_status_at:
                next_status_at = time.monotonic() + STATUS_EVERY_S
                logger.info(
                    "acked %d messages in the last %.0f s; spool: %d batches",
                    acked,
                    STATUS_EVERY_S,
                    spool.batches,
                )
                acked = 0
    finally:
        _shut_down(collector, writer, subscriber)
        spool.close()
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
    logger.info("ingest stopped")


def _hand_over(collector: Collector, writer: BatchWriter) -> None:
    while collector.sealed:
        writer.prepare(collector.sealed[0])
        if not writer.submit(collector.sealed[0]):
            return
        collector.sealed.popleft()


def _ack_done(writer: BatchWriter, subscriber: Subscriber) -> int:
    acked = 0
    while writer.done:
        batch = writer.done.popleft()
        acked += subscriber.ack(batch.tokens, batch.generation)
    return acked


def _shut_down(collector: Collector, writer: BatchWriter, subscriber: Subscriber) -> None:
    """Write what was received, ack it, and leave the broker with the session kept."""
    collector.seal()
    deadline = time.monotonic() + WRITER_DRAIN_TIMEOUT_S
    while collector.sealed and writer.is_alive() and time.monotonic() < deadline:
        _hand_over(collector, writer)
        _ack_done(writer, subscriber)
        subscriber.poll(0.05, read=False)
    if collector.sealed:
        logger.warning(
            "%d received batches not written before stopping: the broker will redeliver them",
            len(collector.sealed),
        )
    writer.close(max(1.0, deadline - time.monotonic()))
    _ack_done(writer, subscriber)
    subscriber.disconnect()


def _serve_metrics(settings: IngestSettings) -> Any:
    if not settings.ingest_metrics_port:
        return None
    try:
        server, _thread = start_http_server(
            settings.ingest_metrics_port, addr=settings.ingest_metrics_host
        )
    except OSError as err:
        logger.error(
            "cannot serve /metrics on %s:%d (%s); ingest continues without it",
            settings.ingest_metrics_host,
            settings.ingest_metrics_port,
            err,
        )
        return None
    logger.info(
        "metrics on http://%s:%d/metrics",
        settings.ingest_metrics_host,
        settings.ingest_metrics_port,
    )
    return server
