-- Cases: a damp-and-mould hazard the landlord knows of, from a sensor alert or a report, and
-- what was done about it when. Awaab's Law clocks are computed from `aware_at` and the events,
-- never stored, so a correction to an event cannot leave a stale deadline behind.

CREATE TABLE cases (
    case_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference    text GENERATED ALWAYS AS ('DW-' || lpad(case_id::text, 6, '0')) STORED,
    borough_code text NOT NULL REFERENCES boroughs (gss_code),
    uprn         bigint NOT NULL REFERENCES homes (uprn),
    alert_id     bigint REFERENCES alerts (alert_id),
    source       text NOT NULL CHECK (
        source IN ('environmental_sensor', 'tenant_report', 'staff_report', 'routine_check')),
    hazard       text NOT NULL CHECK (hazard IN ('emergency', 'significant')),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    -- When the landlord became aware: day zero of every clock.
    aware_at     timestamptz NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    opened_by    text NOT NULL,
    closed_at    timestamptz,
    description  text NOT NULL DEFAULT '',
    -- The officer's edited written summary for the tenant (NULL: none saved yet).
    summary_text text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
-- One case per alert: an alert raised once must not become two cases.
CREATE UNIQUE INDEX cases_one_per_alert ON cases (alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX cases_borough_idx ON cases (borough_code, status, case_id DESC);
CREATE INDEX cases_home_idx ON cases (uprn, status);

-- What happened on a case, when it happened (occurred_at, which drives the clocks) and when and
-- by whom it was recorded. Evidence: append-only, like the audit log.
CREATE TABLE case_events (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (case_id),
    kind        text NOT NULL CHECK (kind IN (
        'investigation_booked', 'investigation_completed', 'summary_sent',
        'safety_work_started', 'safety_work_completed', 'further_works_scheduled',
        'further_works_started', 'further_works_completed', 'no_access', 'access_agreed',
        'tenant_declined', 'decanted', 'hazard_escalated', 'note', 'case_closed')),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL,
    note        text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case_idx ON case_events (case_id, occurred_at);

CREATE FUNCTION dw_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER case_events_no_update_delete
    BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION dw_is_append_only();
CREATE TRIGGER case_events_no_truncate
    BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION dw_is_append_only();

-- Per-borough choices about alerts. A borough without a row gets the defaults.
CREATE TABLE alert_borough_settings (
    borough_code          text PRIMARY KEY REFERENCES boroughs (gss_code),
    -- Open a case automatically when a damp-and-mould alert turns red.
    auto_open_case_on_red boolean NOT NULL DEFAULT false,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    updated_by            text NOT NULL
);
