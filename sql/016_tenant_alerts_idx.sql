-- 016: a seller's alerts (GET /tenants/me/alerts, common/tenants/alertlist.h) are the messages
-- with its tenant_id, newest (highest id) first, a page at a time, and its figures those of the
-- last 30 days: this index finds one tenant's rows without reading everyone's. The operator's
-- rows (tenant_id NULL) are left out of it.
CREATE INDEX whatsapp_logs_tenant_idx ON whatsapp_logs (tenant_id, id) WHERE tenant_id IS NOT NULL;
