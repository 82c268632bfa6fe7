-- 013: a seller's alert preferences (issue 17), and what became of each stored event.

-- One row per tenant and alert type the seller changed; a type without a row has its defaults
-- (common/tenants/prefs.h: on; the cart operations in the hourly digest, the rest immediate).
-- security.* and payment.failed are on whatever a row says (the program refuses to store off).
CREATE TABLE alert_preferences (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    enabled     boolean NOT NULL,
    delivery    text NOT NULL CHECK (delivery IN ('immediate', 'hourly', 'daily')),
    -- In order; WhatsApp only until the channel issue lands.
    channels    text[] NOT NULL DEFAULT '{whatsapp}' CHECK (channels = '{whatsapp}'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, type)
);

-- What the dispatch (common/tenants/dispatch.h, a step of cron tick) made of an event: NULL not
-- looked at yet; 'sent' a message carries it (message_id); 'digest' held for the digest due at
-- digest_at; or why it is not sent: 'disabled' (the seller switched the type off),
-- 'tenant_suspended', 'no_verified_number'; 'predates_alerts' for the events stored before this
-- migration, under the promise that nothing is sent for them (they may be days old: a first
-- tick must not send them all as news).
ALTER TABLE events
    ADD COLUMN outcome       text CHECK (outcome IN ('sent', 'digest', 'disabled',
                                                     'tenant_suspended', 'no_verified_number',
                                                     'predates_alerts')),
    ADD COLUMN digest_at     timestamptz,
    ADD COLUMN dispatched_at timestamptz,
    ADD CHECK (outcome IS DISTINCT FROM 'digest' OR digest_at IS NOT NULL),
    ADD CHECK (outcome IS DISTINCT FROM 'sent' OR message_id IS NOT NULL);
UPDATE events SET outcome = 'predates_alerts';
CREATE INDEX events_undispatched_idx ON events (id) WHERE outcome IS NULL;
CREATE INDEX events_digest_due_idx ON events (digest_at) WHERE outcome = 'digest';
