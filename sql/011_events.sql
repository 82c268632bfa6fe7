-- 011: the platform's business events (issue 17), as POST /events receives them, and the
-- deliveries (Standard Webhooks messages) they came in, each with the answer it got, so that a
-- repeated delivery is answered as the first one was and changes nothing. Turning events into
-- alerts comes later: message_id stays NULL until then.

-- One row per event the platform sent, by its own id: a second delivery of the same event (in
-- another message, or twice in one batch) stores nothing.
CREATE TABLE events (
    id           bigserial PRIMARY KEY,
    -- The platform's id of the event, unique among its events (common/tenants/event.h).
    event_id     text NOT NULL UNIQUE CHECK (event_id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
    tenant_id    bigint NOT NULL REFERENCES tenants (id),
    type         text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    occurred_at  timestamptz NOT NULL,
    data         jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- The webhook-id of the delivery that brought it first (event_deliveries).
    webhook_id   text NOT NULL,
    -- The message that carried it to the seller (one message may carry several events, when
    -- alerts waiting for one recipient are coalesced); NULL until then, and again once the
    -- daily prune has removed that message (the event outlives its audit row).
    message_id   bigint REFERENCES whatsapp_logs (id) ON DELETE SET NULL
);
CREATE INDEX events_tenant_idx ON events (tenant_id, occurred_at);
-- The prune's deletes of whatsapp_logs look up the events each message carried.
CREATE INDEX events_message_idx ON events (message_id) WHERE message_id IS NOT NULL;

-- One row per Standard Webhooks message (webhook-id) that passed the signature and was judged:
-- the HTTP status and the JSON body it was answered with.
CREATE TABLE event_deliveries (
    webhook_id   text PRIMARY KEY CHECK (length(webhook_id) BETWEEN 1 AND 255),
    status       smallint NOT NULL CHECK (status BETWEEN 200 AND 499),
    answer       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_deliveries_received_idx ON event_deliveries (received_at);
