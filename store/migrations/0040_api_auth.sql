-- Who may call the API and the web page: API keys for borough systems and scripts, logins for
-- officers and analysts, and the sessions those logins open. Secrets are stored only as hashes:
-- an API key as SHA-256 of its random secret (256 bits of entropy need no slow KDF), a password
-- as Argon2id (RFC 9106), a session as SHA-256 of its cookie token.

CREATE TABLE api_keys (
    key_id       text PRIMARY KEY CHECK (key_id ~ '^[a-z0-9]{8,32}$'),
    secret_hash  bytea NOT NULL,
    borough_code text REFERENCES boroughs (gss_code),
    role         text NOT NULL
                      CHECK (role IN ('officer', 'borough_system', 'regional_analyst', 'admin')),
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    -- Officers and borough systems act for exactly one borough; the others for none.
    CHECK ((role IN ('officer', 'borough_system')) = (borough_code IS NOT NULL))
);
CREATE INDEX api_keys_borough_idx ON api_keys (borough_code);

CREATE TABLE users (
    user_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash text NOT NULL,
    borough_code  text REFERENCES boroughs (gss_code),
    role          text NOT NULL
                       CHECK (role IN ('officer', 'borough_system', 'regional_analyst', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK ((role IN ('officer', 'borough_system')) = (borough_code IS NOT NULL))
);

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (user_id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
