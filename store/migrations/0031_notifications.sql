-- Notifications through a transactional outbox: a row is written in the same transaction as the
-- alert or case change it reports, so a crash can neither lose one nor announce a change that
-- was rolled back. The notifier delivers rows at least once; `idempotency_key` goes out with
-- every attempt (webhook header, e-mail Message-ID) so the receiving side can drop repeats.

-- Officers' e-mail addresses, per borough: each alert as it happens or one daily digest.
CREATE TABLE officer_recipients (
    recipient_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    borough_code text NOT NULL REFERENCES boroughs (gss_code),
    email        text NOT NULL CHECK (email LIKE '%_@_%'),
    delivery     text NOT NULL DEFAULT 'immediate' CHECK (delivery IN ('immediate', 'daily_digest')),
    min_severity text NOT NULL DEFAULT 'amber' CHECK (min_severity IN ('info', 'amber', 'red')),
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (borough_code, email)
);

-- Borough systems that want signed webhooks. The secret signs bodies (HMAC-SHA256), so it is
-- kept as given: it is a shared secret, not a password.
CREATE TABLE webhook_subscriptions (
    subscription_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    borough_code    text NOT NULL REFERENCES boroughs (gss_code),
    url             text NOT NULL CHECK (url ~ '^https?://'),
    secret          text NOT NULL CHECK (length(secret) >= 16),
    -- Event types wanted, e.g. {alert.raised, case.opened}; empty means all.
    event_types     text[] NOT NULL DEFAULT '{}',
    description     text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL
);
CREATE INDEX webhook_subscriptions_borough_idx ON webhook_subscriptions (borough_code, active);

CREATE TABLE notification_outbox (
    notification_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    borough_code    text NOT NULL REFERENCES boroughs (gss_code),
    event_type      text NOT NULL,
    recipient_id    bigint REFERENCES officer_recipients (recipient_id),
    subscription_id bigint REFERENCES webhook_subscriptions (subscription_id),
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A sender holds a row until this instant; after it another sender may take it over.
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text,
    CHECK ((channel = 'email') = (recipient_id IS NOT NULL)),
    CHECK ((channel = 'webhook') = (subscription_id IS NOT NULL))
);
CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notification_outbox_borough_idx ON notification_outbox (borough_code, created_at);

-- Every delivery attempt and its outcome: the delivery log.
CREATE TABLE notification_deliveries (
    delivery_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES notification_outbox (notification_id),
    attempt         integer NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead')),
    http_status     integer,
    error           text,
    duration_ms     integer NOT NULL
);
CREATE INDEX notification_deliveries_notification_idx
    ON notification_deliveries (notification_id, attempt);
