-- 002: delivery. The outbox learns templates, claims and leases; contacts carry the
-- 24-hour window; one row paces all drainers; one row says whether sending is stopped.

ALTER TABLE whatsapp_logs
    ADD COLUMN as_template     boolean NOT NULL DEFAULT false,
    ADD COLUMN claimed_at      timestamptz,
    ADD COLUMN claimed_by      text;

-- Each number's last inbound message (filled by the webhook): inside 24 h we may send text.
CREATE TABLE contacts (
    phone_number     text PRIMARY KEY,
    wa_id            text,
    last_inbound_at  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Per-recipient pacing: the earliest time the next message to a number may go.
CREATE TABLE recipient_slots (
    phone_number     text PRIMARY KEY,
    next_allowed_at  timestamptz NOT NULL
);

-- Global pacing: the next free sending slot, shared by every drainer on every host.
CREATE TABLE send_rate (
    id          integer PRIMARY KEY CHECK (id = 1),
    next_slot   timestamptz NOT NULL
);
INSERT INTO send_rate (id, next_slot) VALUES (1, now());

-- Set when the provider says the account cannot send (expired token, blocked account):
-- nothing is sent until an operator clears it (`cron drain --resume`).
CREATE TABLE delivery_state (
    id              integer PRIMARY KEY CHECK (id = 1),
    stopped         boolean NOT NULL DEFAULT false,
    stopped_reason  text,
    stopped_at      timestamptz
);
INSERT INTO delivery_state (id) VALUES (1);

CREATE INDEX whatsapp_logs_sending_idx ON whatsapp_logs (claimed_at) WHERE status = 'sending';
