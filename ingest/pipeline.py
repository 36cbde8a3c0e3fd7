"""From received messages to committed (or spooled) batches, and back to acks.

The MQTT thread appends each message to the open batch (`Collector`); a full or old batch is
sealed, decoded (still on the MQTT thread, while the writer waits on the database) and handed to
the `BatchWriter` thread, which writes it in one transaction (or, with the database unreachable,
to the spool) and returns it as done. The MQTT thread then acks the done batch's messages:
nothing is acked before it is committed or fsynced.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ingest import metrics
from ingest.batch import Inbound, PreparedBatch, prepare_batch
from ingest.decoders import Limits, TopicRouter
from ingest.spool import Spool, SpoolCorruptError
from ingest.writer import BatchResult, prepare_connection, write_batch

logger = logging.getLogger(__name__)

LAG_SAMPLES_PER_BATCH = 64
ROLLBACK_RETRIES = 3
RECORD_REPLAY = """
    INSERT INTO ingest_spool_replays (segment_id, messages) VALUES (%s, %s)
    ON CONFLICT (segment_id) DO NOTHING
"""
TRIM_REPLAYS = "DELETE FROM ingest_spool_replays WHERE replayed_at < now() - interval '31 days'"


@dataclass(slots=True)
class Batch:
    generation: int
    messages: list[Inbound] = field(default_factory=list)
    tokens: list[tuple[int, int]] = field(default_factory=list)
    opened_at: float = field(default_factory=time.monotonic)
    prepared: PreparedBatch | None = None
    prepared_at: float = 0.0


class Collector:
    """The open batch, on the MQTT thread; sealed by size, by age, or by a new connection."""

    def __init__(self, batch_size: int, flush_interval_s: float) -> None:
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.current = Batch(generation=0)
        self.sealed: deque[Batch] = deque()

    def add(self, topic: str, payload: bytes, mid: int, qos: int, generation: int) -> None:
        batch = self.current
        if generation != batch.generation:
            self.seal()
            batch = self.current
            batch.generation = generation
        if not batch.messages:
            batch.opened_at = time.monotonic()
        batch.messages.append(Inbound(topic, payload, time.time()))
        if qos:
            batch.tokens.append((mid, qos))
        if len(batch.messages) >= self.batch_size:
            self.seal()

    def seal(self) -> None:
        if self.current.messages:
            self.sealed.append(self.current)
        self.current = Batch(generation=self.current.generation)

    def seal_if_due(self) -> None:
        batch = self.current
        if batch.messages and time.monotonic() - batch.opened_at >= self.flush_interval_s:
            self.seal()

    def due_in(self) -> float:
        """Seconds until the open batch is due (the flush interval when it is empty)."""
        if not self.current.messages:
            return self.flush_interval_s
        return max(0.0, self.current.opened_at + self.flush_interval_s - time.monotonic())


@dataclass(frozen=True, slots=True)
class WriterConfig:
    database_url: str
    prefix: str
    router: TopicRouter
    limits: Limits
    db_retry_s: float


class BatchWriter(threading.Thread):
    """Writes sealed batches, one transaction each, in order; spools them if it must."""

    def __init__(self, config: WriterConfig, spool: Spool, on_done: Callable[[], None]) -> None:
        super().__init__(name="ingest-writer", daemon=True)
        self.config = config
        self.spool = spool
        self.on_done = on_done
        self.inbox: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self.done: deque[Batch] = deque()
        self.failure: BaseException | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._next_connect_at = 0.0
        self._database_up = False
        self._stopping = threading.Event()
        metrics.SPOOL_BATCHES.set(spool.batches)
        metrics.SPOOL_MESSAGES.set(spool.messages)

    def prepare(self, batch: Batch) -> PreparedBatch:
        """Decode `batch` once; called on the MQTT thread, it overlaps the writer's wait."""
        if batch.prepared is None:
            batch.prepared_at = time.monotonic()
            batch.prepared = prepare_batch(
                batch.messages,
                prefix=self.config.prefix,
                router=self.config.router,
                limits=self.config.limits,
            )
        return batch.prepared

    def submit(self, batch: Batch) -> bool:
        try:
            self.inbox.put_nowait(batch)
        except queue.Full:
            return False
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what was submitted, then stop. Batches not written by then stay unacked."""
        deadline = time.monotonic() + timeout_s
        while self.is_alive():
            try:
                self.inbox.put(None, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    break
        self.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        self.join(5.0)
        if self._conn is not None:
            self._conn.close()

    def run(self) -> None:
        try:
            while True:
                try:
                    # With batches waiting in the spool, wake up to retry the database even
                    # when no new message arrives.
                    timeout = self.config.db_retry_s if self.spool.batches else None
                    batch = self.inbox.get(timeout=timeout)
                except queue.Empty:
                    self._retry_replay()
                    continue
                if batch is None:
                    return
                if self._process(batch):
                    self.done.append(batch)
                    self.on_done()
        except BaseException as err:
            logger.exception("the batch writer failed; ingest stops")
            self.failure = err
            self.on_done()

    def _process(self, batch: Batch) -> bool:
        """Commit or spool `batch`; False only when stopping with neither possible."""
        prepared = self.prepare(batch)
        started = batch.prepared_at
        while True:
            result = self._write(prepared)
            if result is not None:
                self._count(prepared, result, started)
                return True
            if self._spool(batch):
                return True
            if self._stopping.wait(self.config.db_retry_s):
                logger.error(
                    "stopping with a batch of %d messages neither committed nor spooled: "
                    "left unacked for the broker to redeliver",
                    len(batch.messages),
                )
                return False

    # -- database --------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any] | None:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        if time.monotonic() < self._next_connect_at:
            return None
        try:
            conn = psycopg.connect(
                self.config.database_url,
                autocommit=True,
                connect_timeout=5,
                application_name="dampwatch-ingest",
                # Notice a silently dead link within seconds, not the kernel's two hours.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
                tcp_user_timeout=10000,
            )
            prepare_connection(conn)
        except psycopg.OperationalError as err:
            self._database_down(err)
            return None
        if not self._database_up:
            logger.info("database connection up")
        self._database_up = True
        metrics.DATABASE_UP.set(1)
        self._conn = conn
        return conn

    def _database_down(self, err: Exception) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._next_connect_at = time.monotonic() + self.config.db_retry_s
        metrics.DATABASE_UP.set(0)
        self._database_up = False
        logger.warning(
            "database unreachable (%s); retrying in %.1f s",
            str(err).strip(),
            self.config.db_retry_s,
        )

    def _write(self, prepared: PreparedBatch) -> BatchResult | None:
        conn = self._connection()
        if conn is None:
            return None
        try:
            if self.spool.batches:
                self._replay(conn)
            for attempt in range(1, ROLLBACK_RETRIES + 1):
                try:
                    with conn.transaction():
                        return write_batch(conn, prepared)
                except psycopg.errors.TransactionRollback as err:
                    # A deadlock or serialization failure with another replica touching the same
                    # sensors: the database is fine, the transaction just has to run again.
                    if attempt == ROLLBACK_RETRIES:
                        raise
                    logger.warning("batch rolled back (%s); retrying", str(err).strip())
        except psycopg.OperationalError as err:
            self._database_down(err)
        return None

    def _retry_replay(self) -> None:
        conn = self._connection()
        if conn is None:
            return
        try:
            self._replay(conn)
        except psycopg.OperationalError as err:
            self._database_down(err)

    def _replay(self, conn: psycopg.Connection[Any]) -> None:
        """Replay every spooled batch in order, each in its own transaction, then trim it."""
        total = self.spool.batches
        logger.info("replaying %d spooled batches (%d messages)", total, self.spool.messages)
        for segment in self.spool.segments():
            try:
                messages = self.spool.read(segment)
            except SpoolCorruptError:
                continue
            started = time.monotonic()
            prepared = prepare_batch(
                messages,
                prefix=self.config.prefix,
                router=self.config.router,
                limits=self.config.limits,
            )
            with conn.transaction():
                first_time = conn.execute(RECORD_REPLAY, (segment.segment_id, len(messages)))
                result = write_batch(conn, prepared) if first_time.rowcount == 1 else None
            if result is not None:
                self._count(prepared, result, started, lag=False)
            metrics.REPLAYED.inc(len(messages))
            self.spool.remove(segment)
            metrics.SPOOL_BATCHES.set(self.spool.batches)
            metrics.SPOOL_MESSAGES.set(self.spool.messages)
        conn.execute(TRIM_REPLAYS)
        logger.info("spool replayed (%d batches) and trimmed", total)

    # -- spool -----------------------------------------------------------------------------

    def _spool(self, batch: Batch) -> bool:
        try:
            self.spool.append(batch.messages)
        except OSError as err:
            metrics.SPOOL_ERRORS.inc()
            logger.error(
                "cannot write to the spool %s (%s): %d messages stay unacked and are retried",
                self.spool.directory,
                err,
                len(batch.messages),
            )
            return False
        metrics.SPOOLED.inc(len(batch.messages))
        metrics.SPOOL_BATCHES.set(self.spool.batches)
        metrics.SPOOL_MESSAGES.set(self.spool.messages)
        if batch.messages:
            metrics.RECEIVE_LAG_SECONDS.observe(time.time() - batch.messages[0].received_at)
        logger.info(
            "spooled %d messages (%d batches waiting)", len(batch.messages), self.spool.batches
        )
        return True

    # -- bookkeeping -----------------------------------------------------------------------

    def _count(
        self, prepared: PreparedBatch, result: BatchResult, started: float, *, lag: bool = True
    ) -> None:
        committed_at = time.time()
        for fmt, count in prepared.received_by_format.items():
            metrics.MESSAGES_RECEIVED.labels(fmt).inc(count)
        unrouted = prepared.messages - sum(prepared.received_by_format.values())
        if unrouted:
            metrics.MESSAGES_RECEIVED.labels("unknown").inc(unrouted)
        metrics.READINGS_STORED.inc(result.stored)
        metrics.READINGS_DUPLICATE.inc(result.duplicates)
        metrics.OUTDOOR_STORED.inc(result.outdoor)
        for rejected in result.rejected:
            metrics.MESSAGES_REJECTED.labels(rejected.decoder or "unknown", rejected.reason).inc()
        metrics.BATCH_SIZE.observe(prepared.messages)
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        if lag and prepared.oldest_received_at is not None:
            metrics.RECEIVE_LAG_SECONDS.observe(committed_at - prepared.oldest_received_at)
            readings = prepared.readings
            step = max(1, len(readings) // LAG_SAMPLES_PER_BATCH)
            for row in readings[::step]:
                metrics.COMMIT_LAG_SECONDS.observe(committed_at - row[1].timestamp())
        if result.rejected:
            logger.info(
                "batch of %d messages: %d readings stored, %d duplicates, %d rejected",
                prepared.messages,
                result.stored,
                result.duplicates,
                len(result.rejected),
            )
        else:
            logger.debug(
                "batch of %d messages: %d stored, %d duplicates",
                prepared.messages,
                result.stored,
                result.duplicates,
            )
