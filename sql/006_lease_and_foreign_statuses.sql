-- 006: a claim's lease covers its paced start, and only the claim that holds a row records
-- its result; statuses for messages this service did not send are kept as ignored.

-- lease_until: when a row left 'sending' by a drainer may be queued again (the drainer's
-- paced start + the time its requests may take). lease_id: the claim that holds the row; a
-- result is recorded only under the lease_id it was claimed with (a later claim changes it).
ALTER TABLE whatsapp_logs
    ADD COLUMN lease_until  timestamptz,
    ADD COLUMN lease_id     bigint;
CREATE SEQUENCE whatsapp_logs_lease_seq;
-- A row already 'sending' (claimed before this migration) keeps the old lease from claimed_at.
DROP INDEX whatsapp_logs_sending_idx;
CREATE INDEX whatsapp_logs_lease_idx ON whatsapp_logs (lease_until) WHERE status = 'sending';
-- Statuses for message ids no outbound row carries after WEBHOOK_STATUS_GRACE_SECONDS: another
-- system sending from the same WhatsApp Business Account (a seller's cart bot). Kept, counted,
-- never retried, never failed; pruned with the webhook events (WEBHOOK_RETENTION_DAYS).
CREATE TABLE webhook_ignored (
    id                   bigserial PRIMARY KEY,
    event_id             bigint,       -- webhook_events.id; NULL when processed as it came
    source               text NOT NULL CHECK (source IN ('meta', 'twilio')),
    provider_message_id  text NOT NULL,
    status               text NOT NULL,
    recipient_id         text,
    error_code           integer,
    reason               text NOT NULL,
    ignored_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_ignored_at_idx ON webhook_ignored (ignored_at);
