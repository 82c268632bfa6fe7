-- 008: tenants, the sellers of the commerce platform (issue 16). The platform creates and
-- updates them by its own id (external_id) with PLATFORM_API_KEY; the seller's own routes
-- (/tenants/me) come later and read the same row. Formats are checked here as a last line of
-- defence: the C validation (common/tenants/tenant.c) checks them first, and more strictly
-- (the time zone against the tz database, which SQL cannot see), with an error naming the field.
CREATE TABLE tenants (
    id                    bigserial PRIMARY KEY,
    -- The platform's id for its seller: what every platform request names the tenant by.
    external_id           text NOT NULL UNIQUE
                          CHECK (external_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
    display_name          text NOT NULL
                          CHECK (length(display_name) BETWEEN 1 AND 200),
    -- E.164. NULL until the platform or the seller sets one; verified_at is when the number was
    -- set by the platform (which vouches for its seller) or confirmed by a code sent to it.
    whatsapp_number       text CHECK (whatsapp_number ~ '^\+[1-9][0-9]{7,14}$'),
    whatsapp_verified_at  timestamptz,
    -- NULL: the WhatsApp number. Used by the SMS channel (issue 18).
    sms_number            text CHECK (sms_number ~ '^\+[1-9][0-9]{7,14}$'),
    email                 text CHECK (length(email) <= 254 AND email LIKE '%_@_%'),
    -- IANA name; checked against the tz database in C.
    time_zone             text NOT NULL DEFAULT 'UTC'
                          CHECK (time_zone ~ '^[A-Za-z0-9/_+-]{1,64}$'),
    -- Local times in time_zone between which only critical alerts are sent; both or neither.
    -- quiet_start > quiet_end spans midnight (22:00 to 07:00).
    quiet_start           time(0),
    quiet_end             time(0),
    -- A BCP 47 language tag ("en", "pt-BR").
    language              text NOT NULL DEFAULT 'en'
                          CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' AND length(language) <= 35),
    status                text NOT NULL DEFAULT 'active'
                          CHECK (status IN ('active', 'suspended')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL)),
    CHECK (quiet_start IS NULL OR quiet_start <> quiet_end),
    CHECK (whatsapp_verified_at IS NULL OR whatsapp_number IS NOT NULL)
);

-- updated_at moves only when something else in the row changed: an upsert that repeats what is
-- stored (the platform re-sending the same tenant) leaves it as it was, whichever statement
-- wrote the row.
CREATE FUNCTION tenants_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := OLD.updated_at;
    NEW.created_at := OLD.created_at;
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_touch();

-- The foreign keys 007 left for this migration. Tenants are suspended, never deleted, so the
-- default (refuse the delete) is right. Every existing tenant_id is NULL, so the check of the
-- existing rows finds nothing to refuse.
ALTER TABLE whatsapp_logs
    ADD CONSTRAINT whatsapp_logs_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id);
ALTER TABLE accounts
    ADD CONSTRAINT accounts_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id);
