-- Readings: one row per sensor per instant, so a redelivered message is stored once.
--
-- Where TimescaleDB is installed (and preloaded) `readings` is a hypertable with compression and
-- a columnstore policy; elsewhere it is a plain PostgreSQL table partitioned by month. Both have
-- the same columns and key, so every query gives the same answer on either.
-- dw_ensure_readings_partitions() is called by writers before each batch: it creates the
-- monthly partitions a batch needs on plain PostgreSQL and does nothing on TimescaleDB, which
-- creates its chunks itself.

CREATE FUNCTION dw_timescaledb_available() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
       AND current_setting('shared_preload_libraries') ~ '(^|[ ,])timescaledb([ ,]|$)'
$$;

DO $$
BEGIN
    IF dw_timescaledb_available() THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE readings (
            sensor_id     text NOT NULL,
            recorded_at   timestamptz NOT NULL,
            temperature_c real NOT NULL,
            humidity_pct  real NOT NULL,
            battery_pct   real,
            received_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (sensor_id, recorded_at)
        );
        -- Seven-day chunks: a month of a large estate's readings stays a few chunks wide, and
        -- a chunk's index fits in memory (TimescaleDB docs, "Hypertable chunk intervals").
        -- No default time index: the readings_recorded_idx below serves both paths.
        PERFORM create_hypertable('readings', 'recorded_at',
                                  chunk_time_interval => INTERVAL '7 days',
                                  create_default_indexes => false);
        ALTER TABLE readings SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'sensor_id',
            timescaledb.compress_orderby = 'recorded_at'
        );
        -- Late backlogs rarely reach back past a month; compressed chunks still accept inserts.
        PERFORM add_compression_policy('readings', INTERVAL '30 days');
    ELSE
        CREATE TABLE readings (
            sensor_id     text NOT NULL,
            recorded_at   timestamptz NOT NULL,
            temperature_c real NOT NULL,
            humidity_pct  real NOT NULL,
            battery_pct   real,
            received_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (sensor_id, recorded_at)
        ) PARTITION BY RANGE (recorded_at);
    END IF;
END
$$;

CREATE INDEX readings_recorded_idx ON readings (recorded_at);

CREATE FUNCTION dw_ensure_readings_partitions(months timestamptz[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz;
    part_name   text;
    created     integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'readings'::regclass) THEN
        RETURN 0;
    END IF;
    FOREACH month_start IN ARRAY months LOOP
        month_start := date_trunc('month', month_start, 'UTC');
        part_name := 'readings_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(part_name) IS NULL THEN
            -- Two writers may meet here: the lock makes the second wait and then find the table.
            PERFORM pg_advisory_xact_lock(hashtext('dw_readings_partition'));
            IF to_regclass(part_name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                    part_name, month_start,
                    ((month_start AT TIME ZONE 'UTC') + INTERVAL '1 month') AT TIME ZONE 'UTC');
                created := created + 1;
            END IF;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
