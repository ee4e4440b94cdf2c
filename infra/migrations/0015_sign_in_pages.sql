-- The issuer's own sign-in pages (OAuth 2.1 / OpenID Connect): a standard authorization
-- request (GET /oauth/authorize) is kept here while the person signs in on the pages, step
-- by step, until it becomes a one-time code. It replaces mfa_challenges, which carried the
-- JSON sign-in's second step.

CREATE TABLE authorization_requests (
    id              uuid PRIMARY KEY,
    -- The pages' forms carry a CSRF token and the browser a cookie, both bound to this
    -- request; only their SHA-256 is kept.
    csrf_hash       bytea NOT NULL,
    browser_hash    bytea NOT NULL,
    client_id       text NOT NULL REFERENCES oauth_clients (client_id),
    redirect_uri    text NOT NULL,
    code_challenge  text NOT NULL,
    state           text NOT NULL,
    scope           text NOT NULL,
    nonce           text,
    -- password: waiting for the email and password; second_factor: for a TOTP or recovery
    -- code; enrol: for the first code of an authenticator being set up; enrolled: for the
    -- person to have kept their recovery codes; done: a code was issued.
    step            text NOT NULL DEFAULT 'password'
                    CHECK (step IN ('password', 'second_factor', 'enrol', 'enrolled', 'done')),
    user_id         uuid REFERENCES users (id),
    amr             text[],
    acr             text,
    auth_time       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    CHECK ((step = 'password') = (user_id IS NULL))
);

-- The ID token repeats the nonce of the request its code came from (OpenID Connect Core).
ALTER TABLE authorization_codes ADD COLUMN nonce text;

-- A sign-in in flight through the old JSON steps simply starts again on the pages.
DROP TABLE mfa_challenges;

-- Password reset links: single use, expiring, stored as SHA-256. Every request leaves a
-- row, whether or not an account has the address (user_id NULL), so both do the same work
-- and the throttle counts both; the address itself is kept only as its SHA-256.
CREATE TABLE password_resets (
    token_hash       bytea PRIMARY KEY,
    user_id          uuid REFERENCES users (id),
    identifier_hash  bytea NOT NULL,
    source_ip        text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz
);
CREATE INDEX password_resets_identifier ON password_resets (identifier_hash, created_at);
CREATE INDEX password_resets_source_ip ON password_resets (source_ip, created_at);

GRANT SELECT, INSERT, UPDATE ON authorization_requests, password_resets TO app_issuer;
