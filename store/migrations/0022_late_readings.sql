-- Late readings: what the scoring job needs to fold a reading into hours it has already
-- integrated (a sensor's backlog after an outage, a spool replay, a history sent at once).

-- Each day row also keeps the room's state at the end of that day (the end of its last observed
-- hour: a gap holds the state), so a run can restart a room from the day before its earliest
-- late reading instead of from the beginning, and how many readings each UTC hour of the day
-- had when it was integrated, so a reading is known to be new when its hour now holds more.
-- NULL in rows written before this migration: such a room is re-integrated from the start once.
ALTER TABLE room_daily_conditions
    ADD COLUMN dry_h              double precision,
    ADD COLUMN last_temperature_c double precision,
    ADD COLUMN last_humidity_pct  double precision,
    ADD COLUMN hour_readings      integer[];

-- How far, by receive time, the scoring runs of a scope (a borough's GSS code, or '*' for runs
-- over every borough) have looked for late readings. As in readings_hourly_state: readings
-- received after `received_to` less an overlap are looked at by the next run, and ingest spool
-- replays up to `replays_seen_at` (plus those listed in `replays_recent`) have been looked at.
CREATE TABLE scoring_marks (
    scope           text PRIMARY KEY,
    received_to     timestamptz NOT NULL,
    replays_seen_at timestamptz NOT NULL,
    replays_recent  text[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL
);
