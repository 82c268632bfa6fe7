-- 018: the fallback chain (issue 18). A message that matters carries the channels still to try
-- after it and the time by which its delivered (or read) receipt must have come; the fallback
-- step of the drain (common/delivery/fallback.h) queues the next channel's message, linked to
-- this one by follows_id, when this one failed for good or was not delivered in time.
-- Written for a database that has data: existing rows get no chain (nothing falls back for them).

ALTER TABLE whatsapp_logs
    -- The message this one is the next step of; its own row stays (ON DELETE: the link goes).
    ADD COLUMN follows_id     bigint REFERENCES whatsapp_logs (id) ON DELETE SET NULL,
    -- The channels left to try after this message, in order; NULL: this message has no chain
    -- (nothing falls back from it); '{}': the last step (its failure is still recorded).
    ADD COLUMN fallback_chain text[]
        CHECK (fallback_chain <@ ARRAY['whatsapp', 'sms', 'email']::text[]),
    -- No delivered/read receipt by then: the next step goes. NULL: no timer (email has no
    -- receipt; the step waits for a failure only).
    ADD COLUMN fallback_at    timestamptz,
    -- What the fallback step made of this message: NULL not yet; 'queued' the next step is
    -- queued (the row whose follows_id is this one); 'exhausted' it failed or was not delivered
    -- in time and no channel is left to try (or none has an address).
    ADD COLUMN fallback_state text CHECK (fallback_state IN ('queued', 'exhausted')),
    -- Why the fallback step acted: 'failed' (failed for good), 'stopped' (its account is
    -- stopped), 'late' (no receipt by fallback_at).
    ADD COLUMN fallback_reason text CHECK (fallback_reason IN ('failed', 'stopped', 'late'));

CREATE INDEX whatsapp_logs_follows_idx ON whatsapp_logs (follows_id) WHERE follows_id IS NOT NULL;
-- The fallback step's candidates: a chain, not yet acted on, not delivered. A row leaves the
-- index when it is delivered, read or acted on.
CREATE INDEX whatsapp_logs_fallback_idx ON whatsapp_logs (id)
    WHERE fallback_chain IS NOT NULL AND fallback_state IS NULL
      AND status NOT IN ('delivered', 'read', 'suppressed');

-- A seller's channels per alert type (tenants/prefs.h): in order, whatsapp first, from
-- whatsapp, sms and email; NULL: the type's urgency decides (urgent whatsapp,sms,email; normal
-- whatsapp,email; low whatsapp). Until now only '{whatsapp}' could be stored, the one choice
-- there was: those rows become NULL, the defaults, since nobody chose them.
ALTER TABLE alert_preferences DROP CONSTRAINT alert_preferences_channels_check;
ALTER TABLE alert_preferences ALTER COLUMN channels DROP DEFAULT;
ALTER TABLE alert_preferences ALTER COLUMN channels DROP NOT NULL;
UPDATE alert_preferences SET channels = NULL WHERE channels = '{whatsapp}';
ALTER TABLE alert_preferences ADD CONSTRAINT alert_preferences_channels_check
    CHECK (channels IS NULL OR (channels[1] = 'whatsapp'
        AND cardinality(channels) BETWEEN 1 AND 3
        AND channels <@ ARRAY['whatsapp', 'sms', 'email']::text[]));
