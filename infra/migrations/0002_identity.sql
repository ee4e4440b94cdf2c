-- The platform's own OAuth2 issuer (DESIGN §5): credentials, MFA, clients, codes, refresh
-- tokens and the brute-force counters. Secrets are stored hashed (or sealed, for TOTP).

ALTER TABLE users
    ADD COLUMN password_hash        text,
    ADD COLUMN password_changed_at  timestamptz;

-- The SPA (public, PKCE) and till devices (confidential, client credentials).
CREATE TABLE oauth_clients (
    client_id      text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9-]{2,63}$'),
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('spa', 'till')),
    redirect_uris  text[] NOT NULL DEFAULT '{}',
    secret_hash    text,
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'till') = (secret_hash IS NOT NULL))
);

-- The venues a till device may serve (usually one). The till session binds the one served.
CREATE TABLE till_device_venues (
    client_id  text NOT NULL REFERENCES oauth_clients (client_id),
    venue_id   uuid NOT NULL REFERENCES venues (id),
    PRIMARY KEY (client_id, venue_id)
);
ALTER TABLE till_device_venues ENABLE ROW LEVEL SECURITY;
ALTER TABLE till_device_venues FORCE ROW LEVEL SECURITY;
CREATE POLICY till_device_venues_venue ON till_device_venues
    USING (venue_id = app.current_venue_id());

CREATE TABLE authorization_codes (
    code_hash       bytea PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    user_id         uuid NOT NULL REFERENCES users (id),
    redirect_uri    text NOT NULL,
    code_challenge  text NOT NULL,
    scope           text NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

-- A sign-in waiting for its second factor.
CREATE TABLE mfa_challenges (
    token_hash      bytea PRIMARY KEY,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    user_id         uuid NOT NULL REFERENCES users (id),
    redirect_uri    text NOT NULL,
    code_challenge  text NOT NULL,
    scope           text NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

-- Rotating refresh tokens; presenting a used one revokes its whole family.
CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id),
    client_id   text NOT NULL REFERENCES oauth_clients (client_id),
    scope       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE user_totp (
    user_id         uuid PRIMARY KEY REFERENCES users (id),
    secret_sealed   text NOT NULL,
    confirmed_at    timestamptz,
    last_used_step  bigint
);

CREATE TABLE mfa_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Failed sign-ins per identifier and per source IP: a sliding window is a count of rows.
CREATE TABLE sign_in_failures (
    scope      text NOT NULL CHECK (scope IN ('identifier', 'ip')),
    key        text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_window ON sign_in_failures (scope, key, failed_at);

GRANT UPDATE (password_hash, password_changed_at) ON users TO app_runtime;
GRANT SELECT ON oauth_clients TO app_runtime;
GRANT SELECT ON till_device_venues TO app_runtime;
GRANT SELECT, INSERT, UPDATE ON authorization_codes, mfa_challenges, refresh_tokens TO app_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp, mfa_recovery_codes TO app_runtime;
GRANT SELECT, INSERT, DELETE ON sign_in_failures TO app_runtime;
