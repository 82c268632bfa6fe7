-- 003: escalation, repeats, pause, and suppressed messages.

-- When an open alert next escalates (critical, unacknowledged) or is repeated.
ALTER TABLE alerts
    ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
    ADD COLUMN escalate_at      timestamptz,
    ADD COLUMN repeat_at        timestamptz,
    ADD COLUMN repeats          integer NOT NULL DEFAULT 0;
CREATE INDEX alerts_escalate_idx ON alerts (escalate_at) WHERE status = 'open';
CREATE INDEX alerts_repeat_idx ON alerts (repeat_at) WHERE status = 'open';

-- A message decided during a pause is recorded as 'suppressed' (never sent, never lost).
ALTER TABLE whatsapp_logs DROP CONSTRAINT whatsapp_logs_status_check;
ALTER TABLE whatsapp_logs ADD CONSTRAINT whatsapp_logs_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'suppressed'));
-- Who was told about an alert: recoveries, repeats and reminders go to them.
CREATE INDEX whatsapp_logs_alert_ids_idx ON whatsapp_logs USING gin (alert_ids);

-- The pause (set by the `pause` command): notifications are suppressed until paused_until.
CREATE TABLE pause_state (
    id            integer PRIMARY KEY CHECK (id = 1),
    paused_until  timestamptz,
    paused_by     text,
    paused_at     timestamptz,
    ended_at      timestamptz,
    announced     boolean NOT NULL DEFAULT true
);
INSERT INTO pause_state (id) VALUES (1);
