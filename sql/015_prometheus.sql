-- 015: what the Prometheus exposition needs beyond the rows it counts: the last successful
-- tick, and the counts of rows the tick prunes, so that counters over them never go down.

-- One row per heartbeat ('tick': the end of a tick whose steps all succeeded).
CREATE TABLE heartbeats (
    name  text PRIMARY KEY,
    at    timestamptz NOT NULL
);

-- name: what was counted ('webhook_events_done', 'webhook_ignored'); label: the source.
-- value: rows pruned so far; a counter is the rows still there plus this.
CREATE TABLE counter_offsets (
    name   text NOT NULL,
    label  text NOT NULL,
    value  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name, label)
);
