-- 017: what a seller said on WhatsApp about their alerts (issue 17, "Sellers answer on
-- WhatsApp"; common/tenants/sellercmd.h): mutes per type (or all types) until a time, and
-- "stop" (no WhatsApp alerts but the locked, security ones) until "start".

-- One row per tenant and muted type; type '*' is "mute all". A row whose until has passed is
-- no mute (it is replaced by the next mute of that type, or removed by unmute).
CREATE TABLE seller_mutes (
    tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type = '*' OR type ~ '^[a-z_]+\.[a-z_]+$'),
    until       timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, type)
);

-- "stop": when the seller stopped their alerts; NULL when they go (never stopped, or "start").
ALTER TABLE tenants ADD COLUMN alerts_stopped_at timestamptz;

-- Two more outcomes of an event (common/tenants/dispatch.h): 'muted' (its type, or all types,
-- muted when it was decided) and 'stopped' (the seller sent "stop"). Neither is sent later.
ALTER TABLE events DROP CONSTRAINT events_outcome_check;
ALTER TABLE events ADD CONSTRAINT events_outcome_check
    CHECK (outcome IN ('sent', 'digest', 'disabled', 'tenant_suspended', 'no_verified_number',
                       'predates_alerts', 'muted', 'stopped'));
