-- 001: the state database of the monitoring service.
-- Applied by `cron migrate` inside one transaction; recorded in schema_migrations.

-- Settings changed through POST /monitoring/configure (thresholds, schedule; never secrets).
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settings_history (
    id          bigserial PRIMARY KEY,
    key         text NOT NULL,
    old_value   text,
    new_value   text NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per check. raw holds the cumulative counters that the next check subtracts.
CREATE TABLE check_runs (
    id            bigserial PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    duration_ms   integer,
    mode          text NOT NULL DEFAULT 'normal' CHECK (mode IN ('normal', 'emergency')),
    trigger       text NOT NULL DEFAULT 'api',
    reachable     boolean NOT NULL,
    error         text,
    counters_valid boolean NOT NULL DEFAULT false,
    reset_reason  text,
    raw           jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX check_runs_started_idx ON check_runs (started_at DESC);

CREATE TABLE metric_samples (
    id            bigserial PRIMARY KEY,
    check_run_id  bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    sampled_at    timestamptz NOT NULL DEFAULT now(),
    metric        text NOT NULL,
    target        text NOT NULL DEFAULT '',
    value         double precision,          -- NULL when unavailable or skipped
    verdict       text NOT NULL CHECK (verdict IN ('ok', 'warning', 'critical', 'unavailable', 'skipped')),
    warning       double precision,
    critical      double precision,
    detail        text
);
CREATE INDEX metric_samples_metric_idx ON metric_samples (metric, target, sampled_at DESC);
CREATE INDEX metric_samples_run_idx ON metric_samples (check_run_id);

-- An alert is (rule, target): at most one open at a time.
CREATE TABLE alerts (
    id              bigserial PRIMARY KEY,
    rule            text NOT NULL,
    target          text NOT NULL DEFAULT '',
    severity        text NOT NULL CHECK (severity IN ('warning', 'critical')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    value           double precision,
    threshold       double precision,
    message         text NOT NULL,
    opened_at       timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    opened_check_id bigint REFERENCES check_runs (id) ON DELETE SET NULL,
    last_check_id   bigint REFERENCES check_runs (id) ON DELETE SET NULL,
    emergency       boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX alerts_open_identity ON alerts (rule, target) WHERE status = 'open';
CREATE INDEX alerts_status_idx ON alerts (status, opened_at DESC);

-- What happened to each alert, in order (opened, escalated, deescalated, resolved, ...).
CREATE TABLE alert_events (
    id            bigserial PRIMARY KEY,
    alert_id      bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    check_run_id  bigint REFERENCES check_runs (id) ON DELETE SET NULL,
    event         text NOT NULL,
    severity      text,
    value         double precision,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, at);

-- The audit log and the outbox: one row per message, queued in the same transaction as the
-- decision that caused it. Status moves queued -> sending -> sent -> delivered -> read, or failed.
CREATE TABLE whatsapp_logs (
    id                  bigserial PRIMARY KEY,
    phone_number        text NOT NULL,
    message_content     text NOT NULL,
    priority            text NOT NULL CHECK (priority IN ('critical', 'warning', 'info')),
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed')),
    sent_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    direction           text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
    kind                text NOT NULL DEFAULT 'alert',
    idempotency_key     text UNIQUE,
    alert_ids           bigint[] NOT NULL DEFAULT '{}',
    check_run_id        bigint REFERENCES check_runs (id) ON DELETE SET NULL,
    emergency           boolean NOT NULL DEFAULT false,
    not_before          timestamptz NOT NULL DEFAULT now(),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    attempts            integer NOT NULL DEFAULT 0,
    provider            text,
    provider_message_id text,
    wa_id               text,
    delivered_at        timestamptz,
    read_at             timestamptz,
    failed_at           timestamptz,
    last_error_code     text,
    last_error          text
);
CREATE INDEX whatsapp_logs_due_idx ON whatsapp_logs (next_attempt_at) WHERE status = 'queued';
CREATE INDEX whatsapp_logs_phone_idx ON whatsapp_logs (phone_number, created_at DESC);
CREATE INDEX whatsapp_logs_provider_id_idx ON whatsapp_logs (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
