-- The first schema: boroughs, homes and their rooms, sensors and where they were placed, what was
-- rejected, outdoor conditions, risk, alerts and the audit log. `readings` comes in 0002 because
-- its storage depends on whether TimescaleDB is present.

CREATE TABLE boroughs (
    gss_code text PRIMARY KEY CHECK (gss_code ~ '^E09[0-9]{6}$'),
    name     text NOT NULL UNIQUE
);

-- ONS GSS codes of the 33 London local authorities (ONS Register of Geographic Codes, E09).
INSERT INTO boroughs (gss_code, name) VALUES
    ('E09000001', 'City of London'),
    ('E09000002', 'Barking and Dagenham'),
    ('E09000003', 'Barnet'),
    ('E09000004', 'Bexley'),
    ('E09000005', 'Brent'),
    ('E09000006', 'Bromley'),
    ('E09000007', 'Camden'),
    ('E09000008', 'Croydon'),
    ('E09000009', 'Ealing'),
    ('E09000010', 'Enfield'),
    ('E09000011', 'Greenwich'),
    ('E09000012', 'Hackney'),
    ('E09000013', 'Hammersmith and Fulham'),
    ('E09000014', 'Haringey'),
    ('E09000015', 'Harrow'),
    ('E09000016', 'Havering'),
    ('E09000017', 'Hillingdon'),
    ('E09000018', 'Hounslow'),
    ('E09000019', 'Islington'),
    ('E09000020', 'Kensington and Chelsea'),
    ('E09000021', 'Kingston upon Thames'),
    ('E09000022', 'Lambeth'),
    ('E09000023', 'Lewisham'),
    ('E09000024', 'Merton'),
    ('E09000025', 'Newham'),
    ('E09000026', 'Redbridge'),
    ('E09000027', 'Richmond upon Thames'),
    ('E09000028', 'Southwark'),
    ('E09000029', 'Sutton'),
    ('E09000030', 'Tower Hamlets'),
    ('E09000031', 'Waltham Forest'),
    ('E09000032', 'Wandsworth'),
    ('E09000033', 'Westminster');

-- A home is keyed by its Unique Property Reference Number (at most 12 digits, OS AddressBase).
-- Only what the risk model needs: no names, no occupancy.
CREATE TABLE homes (
    uprn               bigint PRIMARY KEY CHECK (uprn BETWEEN 1 AND 999999999999),
    borough_code       text NOT NULL REFERENCES boroughs (gss_code),
    address            text,
    postcode           text,
    archetype          text NOT NULL DEFAULT 'unknown',
    wall_type          text,
    construction_era   text,
    floor_level        smallint,
    -- Temperature factor of the coldest surface (BS EN ISO 13788); NULL means the model's default.
    temperature_factor real CHECK (temperature_factor > 0 AND temperature_factor <= 1),
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX homes_borough_idx ON homes (borough_code);

CREATE TABLE rooms (
    room_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uprn    bigint NOT NULL REFERENCES homes (uprn),
    name    text NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('bedroom', 'living_room', 'kitchen', 'bathroom', 'other')),
    UNIQUE (uprn, name)
);

-- Sensors are known by the id their firmware sends. A sensor first heard on the broker is added
-- here by ingest with no borough and no placement: it is "unplaced" until provisioned.
CREATE TABLE sensors (
    sensor_id        text PRIMARY KEY CHECK (length(sensor_id) BETWEEN 1 AND 128),
    borough_code     text REFERENCES boroughs (gss_code),
    payload_format   text,
    model            text,
    first_seen_at    timestamptz,
    last_seen_at     timestamptz,
    last_recorded_at timestamptz,
    battery_pct      real,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sensors_borough_idx ON sensors (borough_code);

-- A reading belongs to the room its sensor was in when the reading was taken.
CREATE TABLE sensor_placements (
    placement_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sensor_id    text NOT NULL REFERENCES sensors (sensor_id),
    room_id      bigint NOT NULL REFERENCES rooms (room_id),
    valid_from   timestamptz NOT NULL,
    valid_to     timestamptz,
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX sensor_placements_sensor_idx ON sensor_placements (sensor_id, valid_from);
CREATE INDEX sensor_placements_room_idx ON sensor_placements (room_id);

-- No two placements of one sensor may overlap. An exclusion constraint would need btree_gist,
-- which the embedded PostgreSQL does not ship, so a trigger checks it under a row lock.
CREATE FUNCTION dw_check_placement_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sensors WHERE sensor_id = NEW.sensor_id FOR UPDATE;
    IF EXISTS (
        SELECT 1 FROM sensor_placements p
        WHERE p.sensor_id = NEW.sensor_id
          AND p.placement_id <> NEW.placement_id
          AND tstzrange(p.valid_from, p.valid_to) && tstzrange(NEW.valid_from, NEW.valid_to)
    ) THEN
        RAISE EXCEPTION 'sensor % already has a placement overlapping [%, %)',
            NEW.sensor_id, NEW.valid_from, NEW.valid_to
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER sensor_placements_no_overlap
    BEFORE INSERT OR UPDATE ON sensor_placements
    FOR EACH ROW EXECUTE FUNCTION dw_check_placement_overlap();

-- Nothing that arrives is dropped silently: a message that can never become a reading is kept
-- here with its raw bytes and the reason.
CREATE TABLE rejected_messages (
    rejected_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    decoder     text,
    reason      text NOT NULL,
    detail      text
);
CREATE INDEX rejected_messages_received_idx ON rejected_messages (received_at);

CREATE TABLE outdoor_conditions (
    borough_code  text NOT NULL REFERENCES boroughs (gss_code),
    recorded_at   timestamptz NOT NULL,
    temperature_c double precision NOT NULL,
    humidity_pct  double precision NOT NULL,
    source        text NOT NULL,
    PRIMARY KEY (borough_code, recorded_at)
);

-- One row per scoring run per room (room_id set) and per home (room_id NULL).
CREATE TABLE risk_assessments (
    assessment_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assessed_at   timestamptz NOT NULL DEFAULT now(),
    uprn          bigint NOT NULL REFERENCES homes (uprn),
    room_id       bigint REFERENCES rooms (room_id),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    score         smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    band          text NOT NULL CHECK (band IN ('green', 'amber', 'red', 'unknown')),
    mould_index   double precision,
    days_to_m1    double precision,
    days_to_m3    double precision,
    cause         text NOT NULL CHECK (
        cause IN ('moisture', 'under_heating', 'cold_fabric', 'mixed', 'none', 'unknown')),
    explanation   text NOT NULL,
    coverage      double precision NOT NULL CHECK (coverage BETWEEN 0 AND 1),
    model_version text NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX risk_assessments_home_idx ON risk_assessments (uprn, assessed_at DESC);
CREATE INDEX risk_assessments_room_idx ON risk_assessments (room_id, assessed_at DESC);

-- An alert is about a home (uprn) or a sensor (sensor_id). At most one alert of a kind is open
-- for one subject at a time: a damp alert per home, an offline alert per sensor.
CREATE TABLE alerts (
    alert_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    borough_code    text NOT NULL REFERENCES boroughs (gss_code),
    uprn            bigint REFERENCES homes (uprn),
    room_id         bigint REFERENCES rooms (room_id),
    sensor_id       text REFERENCES sensors (sensor_id),
    kind            text NOT NULL CHECK (kind IN ('damp_mould', 'cold_home', 'sensor_offline',
                                                  'sensor_fault', 'battery_low', 'unplaced_sensor')),
    severity        text NOT NULL CHECK (severity IN ('info', 'amber', 'red')),
    status          text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'acknowledged', 'cleared')),
    title           text NOT NULL,
    explanation     text NOT NULL,
    evidence        jsonb NOT NULL DEFAULT '{}',
    raised_at       timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    cleared_at      timestamptz,
    clear_reason    text,
    CHECK (uprn IS NOT NULL OR sensor_id IS NOT NULL)
);
CREATE UNIQUE INDEX alerts_one_open_per_subject
    ON alerts (kind, coalesce(uprn, 0), coalesce(sensor_id, ''))
    WHERE status <> 'cleared';
CREATE INDEX alerts_borough_idx ON alerts (borough_code, status, raised_at DESC);

-- The landlord's evidence: append-only, enforced here rather than trusted to the application.
CREATE TABLE audit_log (
    audit_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    borough_code text REFERENCES boroughs (gss_code),
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_type, subject_id, at);

CREATE FUNCTION dw_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION dw_audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION dw_audit_log_is_append_only();
