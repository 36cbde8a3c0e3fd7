-- Hourly rollups of readings: one row per sensor per UTC hour, kept by store.rollups.
--
-- A home's 90 days of readings are ~8,600 rows per sensor; the same 90 days by hour are 2,160,
-- and their means, extremes and counts add up exactly across sensors, rooms and longer buckets
-- (sum / n), so charts and the hourly API read these instead of `readings`.
--
-- On TimescaleDB the native way is a continuous aggregate. It is not used: it exists on one
-- storage path only, and refreshes by its own policy and invalidation rules, so between
-- refreshes the two paths would answer the same question differently. One plain table, filled by
-- the same SQL on both, gives identical answers everywhere (DESIGN.md, "Storage").

CREATE TABLE readings_hourly (
    sensor_id         text NOT NULL,
    -- Start of the hour, on a UTC hour boundary.
    hour              timestamptz NOT NULL,
    n                 integer NOT NULL CHECK (n > 0),
    -- Sums in double precision: `real` values have 24-bit mantissas, so an hour's sum is exact.
    temperature_sum_c double precision NOT NULL,
    temperature_min_c real NOT NULL,
    temperature_max_c real NOT NULL,
    humidity_sum_pct  double precision NOT NULL,
    humidity_min_pct  real NOT NULL,
    humidity_max_pct  real NOT NULL,
    -- Battery of the hour's latest reading that reported one.
    last_battery_pct  real,
    PRIMARY KEY (sensor_id, hour)
);

-- How far store.rollups.refresh_hourly has read (one row, created by the first refresh).
-- `watermark`: readings received after it (less an overlap) are folded in by the next refresh.
-- `complete_before`: hours before it are in readings_hourly; later hours are read from readings.
-- `replays_seen_at`, `replays_recent`: ingest spool replays up to here have been folded in, and
-- those of the last overlap (store.rollups.OVERLAP) by segment id, so each is folded in once.
CREATE TABLE readings_hourly_state (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    watermark       timestamptz NOT NULL,
    complete_before timestamptz NOT NULL,
    replays_seen_at timestamptz NOT NULL,
    replays_recent  text[] NOT NULL DEFAULT '{}',
    refreshed_at    timestamptz NOT NULL
);

-- Each refresh finds what arrived since the last one by receive time. On TimescaleDB a btree
-- index also makes compression keep min/max metadata for the column (timescaledb PR #6705, the
-- `timescaledb.auto_sparse_indexes` setting), so a refresh skips batches received long ago.
CREATE INDEX readings_received_idx ON readings (received_at);
