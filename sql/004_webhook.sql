-- 004: the webhook. Verified events are stored before they are acknowledged and processed
-- afterwards; ids already handled are remembered (at least 7 days) so re-deliveries do nothing.

CREATE TABLE webhook_events (
    id               bigserial PRIMARY KEY,
    source           text NOT NULL CHECK (source IN ('meta', 'twilio')),
    received_at      timestamptz NOT NULL DEFAULT now(),
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    last_error       text
);
CREATE INDEX webhook_events_pending_idx ON webhook_events (next_attempt_at) WHERE status = 'pending';

-- 'st:<message id>:<status>' for status notifications (inbound messages are deduplicated by
-- whatsapp_logs.idempotency_key 'in:<message id>').
CREATE TABLE webhook_seen (
    key      text PRIMARY KEY,
    seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_seen_at_idx ON webhook_seen (seen_at);

-- Inbound messages are audited in whatsapp_logs with status 'received'.
ALTER TABLE whatsapp_logs DROP CONSTRAINT whatsapp_logs_status_check;
ALTER TABLE whatsapp_logs ADD CONSTRAINT whatsapp_logs_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'suppressed',
                      'received'));
