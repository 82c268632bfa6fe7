-- 005: the scheduler. One row per scheduled thing done, keyed by its period, so that a
-- check, a report or a prune happens once per period whichever host's tick gets there first.

CREATE TABLE schedule_runs (
    kind        text NOT NULL CHECK (kind IN ('check', 'report_daily', 'report_weekly', 'prune')),
    period      text NOT NULL,
    ran_at      timestamptz NOT NULL DEFAULT now(),
    late        boolean NOT NULL DEFAULT false,
    detail      text,
    PRIMARY KEY (kind, period)
);
