-- 009: how a seller signs in and changes their own number (issue 16). A seller proves who they
-- are with a token the platform mints (checked in C, nothing stored) or with a code sent on
-- WhatsApp, exchanged for a session. Codes and session tokens are stored only as keyed or plain
-- hashes (common/core/secret.h says which and why): this database never holds a usable secret.

-- A number the seller set and has not yet confirmed: alerts keep going to whatsapp_number until
-- the code sent to this one comes back (POST /tenants/me/verify).
ALTER TABLE tenants
    ADD COLUMN pending_whatsapp_number text CHECK (pending_whatsapp_number ~ '^\+[1-9][0-9]{7,14}$');

-- One number, one seller: a WhatsApp login names a tenant by its number. A person running two
-- shops gives each its own number (or the platform signs them in with its tokens).
CREATE UNIQUE INDEX tenants_whatsapp_number_key ON tenants (whatsapp_number);

-- Codes sent on WhatsApp: 'login' to a tenant's verified number, 'verify' to the number it is
-- changing to. code_hash is login_code_hash(): HMAC-SHA256 keyed by TENANT_CODE_SECRET over the
-- purpose, the number and the code. attempts counts every try, right or wrong; a code is spent by
-- its first right try (used_at) and dead after LOGIN_CODE_MAX_ATTEMPTS or at expires_at.
CREATE TABLE tenant_codes (
    id          bigserial PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants (id),
    purpose     text NOT NULL CHECK (purpose IN ('login', 'verify')),
    number      text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{7,14}$'),
    code_hash   text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
-- The live code of a number (login) or of a tenant (verify): the newest one.
CREATE INDEX tenant_codes_number_idx ON tenant_codes (number, purpose, id DESC);
CREATE INDEX tenant_codes_tenant_idx ON tenant_codes (tenant_id, purpose, id DESC);

-- Sessions from a WhatsApp login, by the SHA-256 (hex) of the token the seller holds.
CREATE TABLE tenant_sessions (
    id          bigserial PRIMARY KEY,
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    tenant_id   bigint NOT NULL REFERENCES tenants (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX tenant_sessions_tenant_idx ON tenant_sessions (tenant_id);

-- Every request for a code ('code': a login, or a number change) and every code exchange
-- ('session'), whoever's the number: the rate limits count these, so an unknown number is
-- limited exactly like a seller's and the answers cannot tell them apart. Kept a day (tick).
CREATE TABLE tenant_auth_requests (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('code', 'session')),
    number          text NOT NULL,
    client_address  text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_auth_requests_number_idx ON tenant_auth_requests (number, at) WHERE kind = 'code';
CREATE INDEX tenant_auth_requests_address_idx ON tenant_auth_requests (client_address, at);
CREATE INDEX tenant_auth_requests_at_idx ON tenant_auth_requests (at);
