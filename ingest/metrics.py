"""Prometheus metrics of the ingest process (`/metrics` on DAMP_INGEST_METRICS_PORT).

Everything here is updated once per batch or per state change, never per reading, except the
rejection counter (rejections are rare and each deserves to be counted by reason).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_RECEIVED = Counter(
    "dampwatch_ingest_messages_received",
    "MQTT messages received, by payload format (unknown: no topic pattern matched).",
    ["format"],
)
READINGS_STORED = Counter(
    "dampwatch_ingest_readings_stored", "Readings committed to the readings table."
)
READINGS_DUPLICATE = Counter(
    "dampwatch_ingest_readings_duplicate",
    "Readings already stored (redelivered or repeated messages), stored once.",
)
OUTDOOR_STORED = Counter(
    "dampwatch_ingest_outdoor_stored", "Outdoor readings written to outdoor_conditions."
)
MESSAGES_REJECTED = Counter(
    "dampwatch_ingest_messages_rejected",
    "Messages (or backlog entries) kept in rejected_messages, by format and reason.",
    ["format", "reason"],
)
BATCH_SIZE = Histogram(
    "dampwatch_ingest_batch_messages",
    "Messages per written batch.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000),
)
BATCH_SECONDS = Histogram(
    "dampwatch_ingest_batch_seconds",
    "Time to decode and commit one batch.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Fine buckets: the benchmark reads publish-to-commit percentiles from this histogram.
_LAG_BUCKETS = tuple(round(0.001 * 1.25**i, 6) for i in range(60))
COMMIT_LAG_SECONDS = Histogram(
    "dampwatch_ingest_commit_lag_seconds",
    "From a reading's recorded_at to the commit that stored it (sampled, up to 64 a batch).",
    buckets=_LAG_BUCKETS,
)
RECEIVE_LAG_SECONDS = Histogram(
    "dampwatch_ingest_receive_to_commit_seconds",
    "From a batch's oldest message arriving to its commit (or spool fsync).",
    buckets=_LAG_BUCKETS,
)
SPOOL_BATCHES = Gauge("dampwatch_ingest_spool_batches", "Batches waiting in the local spool.")
SPOOL_MESSAGES = Gauge("dampwatch_ingest_spool_messages", "Messages waiting in the local spool.")
SPOOLED = Counter(
    "dampwatch_ingest_spooled_messages", "Messages written to the spool (database unreachable)."
)
REPLAYED = Counter("dampwatch_ingest_replayed_messages", "Spooled messages replayed.")
SPOOL_CORRUPT = Counter(
    "dampwatch_ingest_spool_corrupt_files",
    "Spool files that failed their checksum and were set aside (*.corrupt) for an operator.",
)
SPOOL_ERRORS = Counter(
    "dampwatch_ingest_spool_write_errors",
    "Failed spool writes (disk full, ...): the batch stays unacked and is retried.",
)
BROKER_CONNECTED = Gauge("dampwatch_ingest_broker_connected", "1 while connected to the broker.")
SUBSCRIBED = Gauge(
    "dampwatch_ingest_subscribed",
    "1 while the broker has accepted every subscription: from then on nothing published is missed.",
)
DATABASE_UP = Gauge("dampwatch_ingest_database_up", "1 while the database accepts writes.")
