-- 010: a lease row per job that must run once at a time, for when the state database is
-- reached through a transaction-mode pooler (DATABASE_POOLING=transaction), where a session
-- advisory lock would be taken on one server connection and released (or not) on another.
-- A lease is taken with one UPDATE ... WHERE until < now(), renewed and released by its token;
-- a holder that died lets it go when until passes.
CREATE TABLE job_leases (
    name       text PRIMARY KEY,
    holder     text,                        -- who holds it (program, host, pid): for people
    token      text,                        -- the holder's random token; NULL when free
    until      timestamptz NOT NULL DEFAULT '-infinity',
    taken_at   timestamptz
);
INSERT INTO job_leases (name) VALUES ('tick');
