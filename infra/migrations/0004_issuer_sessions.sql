-- How a person signed in travels with the sign-in: from the password step (mfa_challenges)
-- to the one-time code (authorization_codes) to the session its exchange opens
-- (auth_sessions, 0003). RFC 8176 method names in amr ('pwd', 'otp'); acr is
-- 'urn:venue:loa:1' (password) or 'urn:venue:loa:2' (password and a second factor).

-- Rows in flight when this runs (codes live 60 s, challenges 5 minutes) are taken as
-- password-only: the defaults are dropped right after, so every new row says it itself.
ALTER TABLE mfa_challenges
    ADD COLUMN amr        text[] NOT NULL DEFAULT '{pwd}' CHECK (cardinality(amr) > 0),
    ADD COLUMN acr        text NOT NULL DEFAULT 'urn:venue:loa:1',
    ADD COLUMN auth_time  timestamptz NOT NULL DEFAULT now();
ALTER TABLE mfa_challenges
    ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN acr DROP DEFAULT,
    ALTER COLUMN auth_time DROP DEFAULT;

-- session_id: the session the code's first exchange opened, so a replay of the code can
-- end it and every token it issued (RFC 6749 §4.1.2).
ALTER TABLE authorization_codes
    ADD COLUMN amr         text[] NOT NULL DEFAULT '{pwd}' CHECK (cardinality(amr) > 0),
    ADD COLUMN acr         text NOT NULL DEFAULT 'urn:venue:loa:1',
    ADD COLUMN auth_time   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN session_id  uuid REFERENCES auth_sessions (id);
ALTER TABLE authorization_codes
    ALTER COLUMN amr DROP DEFAULT,
    ALTER COLUMN acr DROP DEFAULT,
    ALTER COLUMN auth_time DROP DEFAULT;

-- The issuer alone reads and writes them (as it does the rest of both tables).
GRANT SELECT, INSERT, UPDATE ON authorization_codes, mfa_challenges TO app_issuer;
