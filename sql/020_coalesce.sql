-- 020: coalescing in the drain (issue 17; common/delivery/coalesce.h). When several seller
-- alert messages for one recipient are due at once, the drain sends the first as the carrier
-- of all (its text lists every alert) and closes the others as 'merged', each naming its
-- carrier in merged_into: the audit log says which message carried a merged row. A merged row
-- is part of its carrier's record and goes with it if the carrier is ever deleted.
ALTER TABLE whatsapp_logs ADD COLUMN merged_into bigint REFERENCES whatsapp_logs (id)
    ON DELETE CASCADE;
ALTER TABLE whatsapp_logs ADD CHECK ((status = 'merged') = (merged_into IS NOT NULL));
CREATE INDEX whatsapp_logs_merged_into_idx ON whatsapp_logs (merged_into)
    WHERE merged_into IS NOT NULL;

-- 'merged' joins the statuses, whatever other migrations added to the list before this one.
DO $$
DECLARE
    def text;
BEGIN
    SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
        WHERE conrelid = 'whatsapp_logs'::regclass AND conname = 'whatsapp_logs_status_check';
    IF def IS NOT NULL AND position('''merged''' IN def) = 0 THEN
        EXECUTE 'ALTER TABLE whatsapp_logs DROP CONSTRAINT whatsapp_logs_status_check';
        EXECUTE 'ALTER TABLE whatsapp_logs ADD CONSTRAINT whatsapp_logs_status_check '
            || regexp_replace(def, '\]\)', ', ''merged''::text])');
    END IF;
END
$$;

-- An event records the message that carried it (events.message_id): when the row it pointed
-- at is merged into a carrier, it points at the carrier, in the same transaction. A trigger,
-- so the drain (delivery layer) need not know the events table of the tenants layer.
CREATE FUNCTION whatsapp_logs_merged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET message_id = NEW.merged_into WHERE message_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER whatsapp_logs_merged AFTER UPDATE OF merged_into ON whatsapp_logs
    FOR EACH ROW WHEN (NEW.merged_into IS NOT NULL
                       AND NEW.merged_into IS DISTINCT FROM OLD.merged_into)
    EXECUTE FUNCTION whatsapp_logs_merged();

-- Dispatch takes new events fairly across tenants (common/tenants/dispatch.h): the tenants with
-- new events are found by a skip scan of this index, and each one's oldest read from it.
CREATE INDEX events_new_tenant_idx ON events (tenant_id, id) WHERE outcome IS NULL;

-- "Mute this type" (issue 17): a seller's alert of one type carries a reply button under its
-- text when it goes inside the 24-hour window (common/delivery/provider.h); tapping it mutes
-- that type for a day (common/tenants/sellercmd.h). The button's id and title, or NULL.
ALTER TABLE whatsapp_logs ADD COLUMN reply_id text, ADD COLUMN reply_title text;
