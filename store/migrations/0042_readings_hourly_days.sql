-- The hourly rollup packed by day, for reading: one row per sensor per UTC day, each column an
-- array of the day's 24 hours (index 1 is 00:00-01:00 UTC), kept by store.rollups alongside
-- readings_hourly.
--
-- A home's 90 days are 2,160 rows of readings_hourly per sensor; PostgreSQL spends about a
-- third of a microsecond on each row it returns, which at a few hundred chart requests a second
-- is most of the database's time. The same 90 days are 91 rows here. readings_hourly stays the
-- rollup of record (one row per hour, what a person or a report queries); these rows are
-- rebuilt from it, in the same transaction, for every day a refresh or a rebuild touched.
--
-- An hour without readings has n = 0, sums 0 and NaN extremes and battery (NaN rather than
-- NULL, so that readers load each array in one piece; store.arrays).

CREATE TABLE readings_hourly_days (
    sensor_id         text NOT NULL,
    -- Midnight UTC starting the day.
    day               timestamptz NOT NULL,
    n                 integer[] NOT NULL,
    temperature_sum_c double precision[] NOT NULL,
    temperature_min_c real[] NOT NULL,
    temperature_max_c real[] NOT NULL,
    humidity_sum_pct  double precision[] NOT NULL,
    humidity_min_pct  real[] NOT NULL,
    humidity_max_pct  real[] NOT NULL,
    last_battery_pct  real[] NOT NULL,
    PRIMARY KEY (sensor_id, day),
    CHECK (cardinality(n) = 24 AND cardinality(temperature_sum_c) = 24
           AND cardinality(temperature_min_c) = 24 AND cardinality(temperature_max_c) = 24
           AND cardinality(humidity_sum_pct) = 24 AND cardinality(humidity_min_pct) = 24
           AND cardinality(humidity_max_pct) = 24 AND cardinality(last_battery_pct) = 24)
);

-- Packed from the existing rollup by the next refresh: without a saved state it is a database's
-- first refresh, which recomputes every hour from readings and packs every day. Until then
-- readers take every hour from readings (store.rollups.hourly_complete_before is -infinity).
DELETE FROM readings_hourly_state;
