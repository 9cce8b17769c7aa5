-- The users service's schema: accounts and revoked tokens. Only the users service reads or
-- writes it.

CREATE TABLE users.users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL CHECK (length(username) BETWEEN 3 AND 32),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('CUSTOMER', 'KITCHEN_STAFF')),
    created_at     timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique whatever their case.
CREATE UNIQUE INDEX users_username_lower ON users.users (lower(username));

-- Revocation ids of logged-out tokens, kept until the token would have expired anyway.
CREATE TABLE users.revoked_tokens (
    -- Services poll for revocations after the last seq they saw.
    seq            bigserial UNIQUE,
    revocation_id  text PRIMARY KEY,
    revoked_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
