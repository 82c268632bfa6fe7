-- 019: the end-to-end canary (issue 20; common/monitor/canary.h). A canary is a whatsapp_logs
-- row of kind 'canary' (no table of its own: its receipt is the row's delivered_at/read_at,
-- which the webhook already writes). Every tick and every GET /monitoring/health reads the
-- newest few canaries: this index finds them without reading the other messages.
CREATE INDEX whatsapp_logs_canary_idx ON whatsapp_logs (id) WHERE kind = 'canary';
