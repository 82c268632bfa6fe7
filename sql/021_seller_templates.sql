-- 021: each seller alert type's own WhatsApp template outside the 24-hour window (issue 17;
-- SELLER_TEMPLATES, common/delivery/provider.h provider_template_choice). A seller alert
-- message carrying one event records its type's template (order_placed) and the body
-- parameters built from the event, in order; a message of several events (a group, a digest,
-- a coalesced carrier) has none and goes as the generic template (WHATSAPP_ALERT_TEMPLATE).
ALTER TABLE whatsapp_logs ADD COLUMN template_name text;
ALTER TABLE whatsapp_logs ADD COLUMN template_params text[];
ALTER TABLE whatsapp_logs ADD CONSTRAINT whatsapp_logs_template_check
    CHECK (template_name IS NOT NULL OR template_params IS NULL);
