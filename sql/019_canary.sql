-- 019: the end-to-end canary (issue 20; common/monitor/canary.h). A canary is a whatsapp_logs
-- row of kind 'canary' (no table of its own: its receipt is the row's delivered_at/read_at,
-- which the webhook already writes). Every tick, every GET /monitoring/health and every scrape
-- read the newest canaries and the newest canary with a receipt: these indexes find them
-- without reading the other messages, and the second one without walking back through canaries
-- that never came back (a provider that has been failing for weeks). The webhook's update of
-- delivered_at/read_at already changes status, an indexed column, so it was never a HOT update:
-- the second index's predicate costs it nothing more than its check.
CREATE INDEX whatsapp_logs_canary_idx ON whatsapp_logs (id) WHERE kind = 'canary';
CREATE INDEX whatsapp_logs_canary_receipt_idx ON whatsapp_logs (id)
    WHERE kind = 'canary' AND (delivered_at IS NOT NULL OR read_at IS NOT NULL);
