-- 006: a claim's lease covers its paced start, and only the claim that holds a row records
-- its result.

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
