-- What the scoring job carries from run to run, so that each run reads only the readings that
-- arrived since the last one and still gives the result of one run over the whole history.

-- Per room: the hour up to which its readings have been integrated (exclusive, on the hour, UTC),
-- the VTT mould index M at that hour and the time since the current dry period began (the
-- model's decline depends on it), and the last hourly means seen (to measure jumps across runs).
CREATE TABLE room_model_states (
    room_id            bigint PRIMARY KEY REFERENCES rooms (room_id),
    scored_to          timestamptz NOT NULL,
    mould_index        double precision NOT NULL CHECK (mould_index >= 0),
    dry_h              double precision NOT NULL CHECK (dry_h >= 0),
    last_temperature_c double precision,
    last_humidity_pct  double precision,
    model_version      text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Per room per UTC day: sums, counts and extremes of the hourly conditions, so that the features
-- of the last weeks are read from a few rows per room instead of every reading. Sums and counts
-- add up when a day is filled by two runs; extremes take the greater or lesser; `mould_index`
-- is M at the end of the last hour written.
CREATE TABLE room_daily_conditions (
    room_id                   bigint NOT NULL REFERENCES rooms (room_id),
    day                       date NOT NULL,
    hours_observed            integer NOT NULL,
    readings                  integer NOT NULL,
    sum_temperature_c         double precision NOT NULL,
    sum_humidity_pct          double precision NOT NULL,
    sum_vapour_pressure_pa    double precision NOT NULL,
    sum_outdoor_temperature_c double precision NOT NULL,
    sum_outdoor_humidity_pct  double precision NOT NULL,
    sum_moisture_excess_kg_m3 double precision NOT NULL,
    sum_surface_temperature_c double precision NOT NULL,
    sum_surface_humidity_pct  double precision NOT NULL,
    sum_dew_point_margin_c    double precision NOT NULL,
    hours_air_rh70            integer NOT NULL,
    hours_air_rh80            integer NOT NULL,
    hours_air_rh85            integer NOT NULL,
    hours_surface_rh70        integer NOT NULL,
    hours_surface_rh80        integer NOT NULL,
    hours_surface_rh85        integer NOT NULL,
    hours_condensing          integer NOT NULL,
    hours_below_16c           integer NOT NULL,
    hours_below_18c           integer NOT NULL,
    hours_growth              integer NOT NULL,
    sum_growth_rate_per_h     double precision NOT NULL,
    sum_growth_m_max          double precision NOT NULL,
    sum_decline_potential     double precision NOT NULL,
    hours_stuck               integer NOT NULL,
    hours_implausible         integer NOT NULL,
    hours_spike               integer NOT NULL,
    min_dew_point_margin_c    double precision,
    max_temperature_c         double precision,
    min_temperature_c         double precision,
    max_humidity_pct          double precision,
    min_humidity_pct          double precision,
    max_jump_temperature_c    double precision,
    max_jump_humidity_pct     double precision,
    mould_index               double precision,
    PRIMARY KEY (room_id, day)
);

