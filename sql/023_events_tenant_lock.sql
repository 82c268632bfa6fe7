-- 023: storing POST /events without a foreign-key check per event (issue 17; README,
-- Performance).
--
-- events.tenant_id REFERENCES tenants (id) made PostgreSQL run, after every event inserted, a
-- query that finds and locks (FOR KEY SHARE) its tenant's row: about a third of the database's
-- CPU for an event (25 us of 72, measured on the development machine). The one program that
-- stores events (tenants/eventstore.c) already reads the tenants of a group of deliveries in one
-- query to judge them; that query now takes the same lock, once per tenant and group rather than
-- once per event. The other half of the rule, that a tenant with events cannot be deleted, is
-- the trigger below (the foreign key's error, 23503).
ALTER TABLE events DROP CONSTRAINT events_tenant_id_fkey;

CREATE FUNCTION tenants_keep_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM events WHERE tenant_id = OLD.id) THEN
        RAISE EXCEPTION 'tenant % still has events', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'delete the tenant''s events first';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER tenants_keep_events BEFORE DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_keep_events();

-- The daily prune alone reads event_deliveries by received_at (a range: older than the
-- retention). Rows come in received_at order, so a BRIN index finds that range as well as the
-- b-tree did, and costs a delivery stored next to nothing where the b-tree cost an entry.
DROP INDEX event_deliveries_received_idx;
CREATE INDEX event_deliveries_received_brin ON event_deliveries USING brin (received_at);
