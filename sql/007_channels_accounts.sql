-- 007: channels and accounts. A message has a channel, an address, an account (whose
-- credentials and limits it is sent with) and optionally a tenant; what is per sender (stop-all,
-- the global pace, contacts and their 24-hour windows, recipients' pacing) is keyed by account.
-- Written for a database that has data: existing rows become the operator account's.

-- An account sends on one channel through one provider. Secrets are not stored here: the
-- operator account's come from the env file (WHATSAPP_PROVIDER and its credentials; its
-- provider is NULL here for that reason); where sellers' come from is issue 16/18's decision.
CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    channel     text NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email')),
    provider    text CHECK (provider IN ('meta', 'twilio', 'sandbox', 'smtp')),
    -- The seller owning the account; NULL for the operator's and the platform's own accounts.
    -- No foreign key yet: the tenants table comes with issue 16.
    tenant_id   bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The operator account: id 1, tenant-less, sending with the env file's provider.
INSERT INTO accounts (id, name, channel, provider, tenant_id)
    VALUES (1, 'operator', 'whatsapp', NULL, NULL);
SELECT setval('accounts_id_seq', 1);

-- The outbox row. phone_number stays the address column (tests, reports, the webhook and the
-- user's own queries use it): it holds the recipient's address on the row's channel, E.164
-- for whatsapp and sms, an email address for email; the channel says which kind it is.
-- Adding columns with constant defaults does not rewrite the table.
ALTER TABLE whatsapp_logs
    ADD COLUMN channel     text NOT NULL DEFAULT 'whatsapp'
                           CHECK (channel IN ('whatsapp', 'sms', 'email')),
    ADD COLUMN account_id  bigint NOT NULL DEFAULT 1 REFERENCES accounts (id),
    -- The seller the message is for or about; NULL: the operator's. No foreign key yet: the
    -- tenants table comes with issue 16.
    ADD COLUMN tenant_id   bigint;
-- The fair drain ranks due rows per (account, tenant), critical first, oldest first: this
-- index finds each producer with queued rows (a skip scan over its first two columns) and
-- gives each producer's rows in that order, so a claim reads a few rows per producer instead
-- of sorting the whole queue. coalesce: the operator's own rows (no tenant) are producer 0.
CREATE INDEX whatsapp_logs_fair_idx
    ON whatsapp_logs (account_id, coalesce(tenant_id, 0), (priority = 'critical') DESC, id)
    WHERE status = 'queued' AND direction = 'outbound';

-- A 24-hour window belongs to a sender and a recipient: contacts by (account, number).
ALTER TABLE contacts ADD COLUMN account_id bigint NOT NULL DEFAULT 1 REFERENCES accounts (id);
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey;
ALTER TABLE contacts ADD PRIMARY KEY (account_id, phone_number);

-- WhatsApp's pair rate is per sender and recipient too.
ALTER TABLE recipient_slots
    ADD COLUMN account_id bigint NOT NULL DEFAULT 1 REFERENCES accounts (id);
ALTER TABLE recipient_slots DROP CONSTRAINT recipient_slots_pkey;
ALTER TABLE recipient_slots ADD PRIMARY KEY (account_id, phone_number);

-- The global pace and the stop of all sending are each account's: the singleton row (id 1)
-- becomes the operator account's. Rows for other accounts are created when first needed.
ALTER TABLE send_rate DROP CONSTRAINT send_rate_id_check;
ALTER TABLE send_rate RENAME COLUMN id TO account_id;
ALTER TABLE send_rate ALTER COLUMN account_id TYPE bigint;
ALTER TABLE send_rate ADD FOREIGN KEY (account_id) REFERENCES accounts (id);

ALTER TABLE delivery_state DROP CONSTRAINT delivery_state_id_check;
ALTER TABLE delivery_state RENAME COLUMN id TO account_id;
ALTER TABLE delivery_state ALTER COLUMN account_id TYPE bigint;
ALTER TABLE delivery_state ADD FOREIGN KEY (account_id) REFERENCES accounts (id);

-- pause_state stays one row: a pause is the operator's command about the operator's alerts.
