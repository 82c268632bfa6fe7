#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/canary.h"
#include "monitor/check.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "monitor/report.h"
#include "monitor/schedule.h"
#include "db/lease.h"
#include "tenants/dispatch.h"
#include "tenants/login.h"
#include "db/settings.h"
#include "jobs/drain.h"
#include "jobs/tick.h"
#include "core/util.h"

/* One tick at a time ("wamtik"): a session advisory lock in session mode. */
#define TICK_LOCK_KEY "7797109116105107"
/* In transaction mode the lease row "tick", renewed before each step: longer than any step
 * (a check waits at most MONITOR_CONNECT_TIMEOUT + its queries' timeouts). */
#define TICK_LEASE_SECONDS 600

struct step {
	struct json_object *steps;
	const char *name;
	int64_t t0;
	int failed;
	struct db *db;
	struct lease *lease; /* the tick's lease (transaction mode), else NULL */
	int lost;            /* the lease was lost: the remaining steps are left to another tick */
};

/* Start step name: 0, or -1 when the tick no longer holds its lease (the step is skipped). */
static int step_begin(struct step *s, const char *name)
{
	s->name = name;
	s->t0 = mono_ms();
	if (!s->lease || s->lost)
		return s->lost ? -1 : 0;
	if (lease_renew(s->db, s->lease, TICK_LEASE_SECONDS) == 1)
		return 0;
	s->lost = 1;
	s->failed = 1;
	log_error("tick_lease_lost",
	          "the tick's lease could not be renewed before %s (%s): the"
	          " remaining steps are left to the next tick",
	          name, s->db->err);
	return -1;
}

/* Record the step: what it did (takes o), whether it worked. */
static void step_end(struct step *s, struct json_object *o, int ok, const char *err)
{
	long long ms = (long long)(mono_ms() - s->t0);
	json_object_object_add(o, "step", json_object_new_string(s->name));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "ms", json_object_new_int64(ms));
	if (!ok && err)
		json_object_object_add(o, "error", json_object_new_string(err));
	json_object_array_add(s->steps, o);
	if (!ok) {
		s->failed = 1;
		log_error("tick_step_failed", "%s failed after %lld ms: %s", s->name, ms,
		          err ? err : "?");
	}
}

/* Claim (kind, period) in schedule_runs. 1 claimed, 0 done already, -1 error. */
static int claim_period(struct db *db, const char *kind, const char *period, int late)
{
	const char *p[3] = {kind, period, late ? "t" : "f"};
	PGresult *r = db_query(db,
	                       "INSERT INTO schedule_runs (kind, period, late)"
	                       " VALUES ($1, $2, $3::boolean)"
	                       " ON CONFLICT (kind, period) DO NOTHING RETURNING 1",
	                       3, p);
	if (!r)
		return -1;
	int got = PQntuples(r) == 1;
	PQclear(r);
	return got;
}

/* Copy res's field name into o, when res has it. */
static void copy_field(struct json_object *o, struct json_object *res, const char *name)
{
	struct json_object *v = json_get(res, name);
	if (v)
		json_object_object_add(o, name, json_object_get(v));
}

static void step_check(struct db *db, struct config *cfg, time_t now, struct step *st)
{
	if (step_begin(st, "check") < 0)
		return;
	struct json_object *o = json_object_new_object();
	PGresult *r = db_query(db,
	                       "SELECT extract(epoch FROM started_at), id FROM check_runs"
	                       " ORDER BY started_at DESC LIMIT 1",
	                       0, NULL);
	if (!r) {
		step_end(st, o, 0, db->err);
		return;
	}
	double last = PQntuples(r) ? strtod(PQgetvalue(r, 0, 0), NULL) : 0;
	/* The period is "the check after check N": ticks that see the same N do it once. */
	char period[40];
	snprintf(period, sizeof(period), "after:%s", PQntuples(r) ? PQgetvalue(r, 0, 1) : "0");
	PQclear(r);
	if (!schedule_check_due(cfg, now, last)) {
		json_object_object_add(o, "due", json_object_new_boolean(0));
		step_end(st, o, 1, NULL);
		return;
	}
	int c = claim_period(db, "check", period, 0);
	if (c <= 0) {
		json_object_object_add(o, "due", json_object_new_boolean(c == 0 ? 0 : 1));
		step_end(st, o, c == 0, db->err);
		return;
	}
	struct check_opts opts = {.emergency = 0, .trigger = "tick"};
	struct json_object *res = NULL;
	char *err = NULL;
	int ok = check_run(db, cfg, &opts, &res, &err) == 0;
	json_object_object_add(o, "due", json_object_new_boolean(1));
	copy_field(o, res, "check_id");
	copy_field(o, res, "messages_queued");
	if (!ok) { /* not stored: let the next tick try again */
		const char *p[1] = {period};
		db_exec(db, "DELETE FROM schedule_runs WHERE kind = 'check' AND period = $1", 1, p);
	}
	step_end(st, o, ok, err);
	json_object_put(res);
	free(err);
}

static void step_report(struct db *db, struct config *cfg, time_t now, int weekly, struct step *st)
{
	const char *kind = weekly ? "report_weekly" : "report_daily";
	if (step_begin(st, kind) < 0)
		return;
	struct json_object *o = json_object_new_object();
	struct slot s;
	if (weekly)
		schedule_weekly(cfg, now, &s);
	else
		schedule_daily(cfg, now, &s);
	json_object_object_add(o, "period", json_object_new_string(s.key));
	const char *p[2] = {kind, s.key};
	PGresult *r =
	    db_query(db, "SELECT 1 FROM schedule_runs WHERE kind = $1 AND period = $2", 2, p);
	if (!r) {
		step_end(st, o, 0, db->err);
		return;
	}
	int done = PQntuples(r) == 1;
	PQclear(r);
	if (done) {
		json_object_object_add(o, "due", json_object_new_boolean(0));
		step_end(st, o, 1, NULL);
		return;
	}
	int late = now - s.at > SCHEDULE_LATE_SECONDS;
	char *text = report_text(db, cfg, &s, weekly, late);
	if (!text) {
		step_end(st, o, 0, db->err);
		return;
	}
	int queued = -1, claimed = -1;
	if (db_begin(db) == 0) {
		claimed = claim_period(db, kind, s.key, late);
		queued = claimed == 1 ? report_queue(db, cfg, &s, weekly, text) : 0;
		if (claimed < 0 || queued < 0 || db_commit(db) < 0) {
			db_rollback(db);
			queued = -1;
		}
	}
	free(text);
	json_object_object_add(o, "due", json_object_new_boolean(1));
	json_object_object_add(o, "late", json_object_new_boolean(late));
	json_object_object_add(o, "queued", json_object_new_int(queued < 0 ? 0 : queued));
	if (queued >= 0 && claimed == 1)
		log_info("report_queued", "%s report %s queued to %d number(s)%s",
		         weekly ? "weekly" : "daily", s.key, queued, late ? ", late" : "");
	step_end(st, o, queued >= 0, db->err);
}

/* A CTE adding the rows deleted by CTE d (its column source) to counter_offsets under name. */
#define PRUNED_COUNT(name)                                                                         \
	"o AS (INSERT INTO counter_offsets (name, label, value)"                                   \
	" SELECT '" name "', source, count(*) FROM d GROUP BY source"                              \
	" ON CONFLICT (name, label) DO UPDATE"                                                     \
	" SET value = counter_offsets.value + EXCLUDED.value)"

static void step_prune(struct db *db, struct config *cfg, time_t now, struct step *st)
{
	if (step_begin(st, "prune") < 0)
		return;
	struct json_object *o = json_object_new_object();
	struct slot s;
	schedule_daily(cfg, now, &s);
	int c = claim_period(db, "prune", s.key, 0);
	if (c <= 0) {
		json_object_object_add(o, "due", json_object_new_boolean(0));
		step_end(st, o, c == 0, db->err);
		return;
	}
	char samples[24], hooks[24], events[24];
	snprintf(samples, sizeof(samples), "%lld", cfg->sample_retention_days);
	snprintf(hooks, sizeof(hooks), "%lld", cfg->webhook_retention_days);
	snprintf(events, sizeof(events), "%lld", cfg->events_retention_days);
	const char *ps[1] = {samples}, *ph[1] = {hooks}, *pe[1] = {events};
	/* The newest run stays: the next check's deltas start from it. */
	PGresult *a = db_query(db,
	                       "DELETE FROM check_runs WHERE started_at < now()"
	                       " - make_interval(days => $1::int)"
	                       " AND id <> (SELECT id FROM check_runs ORDER BY started_at DESC"
	                       " LIMIT 1) RETURNING 1",
	                       1, ps);
	PGresult *b = a ? db_query(db,
	                           "DELETE FROM webhook_seen WHERE seen_at < now()"
	                           " - make_interval(days => $1::int) RETURNING 1",
	                           1, ph)
	                : NULL;
	/* What is pruned is added to counter_offsets in the same statement: the Prometheus
	 * counters over these rows (monitor/exposition.c) never go down. */
	PGresult *c2 = b ? db_query(db,
	                            "WITH d AS (DELETE FROM webhook_events WHERE status = 'done'"
	                            " AND received_at < now() - make_interval(days => $1::int)"
	                            " RETURNING source), " PRUNED_COUNT(
	                                "webhook_events_done") " SELECT 1 FROM d",
	                            1, ph)
	                 : NULL;
	int ignored =
	    c2 ? db_exec(db,
	                 "WITH d AS (DELETE FROM webhook_ignored WHERE ignored_at < now()"
	                 " - make_interval(days => $1::int) RETURNING source), " PRUNED_COUNT(
	                     "webhook_ignored") " SELECT 1",
	                 1, ph)
	       : -1;
	/* The answers to the platform's event deliveries: a retry comes within days, not weeks. */
	PGresult *ev = ignored == 0
	                   ? db_query(db,
	                              "DELETE FROM event_deliveries WHERE received_at < now()"
	                              " - make_interval(days => $1::int) RETURNING 1",
	                              1, ph)
	                   : NULL;
	/* Business events once dispatched; one not decided yet, or held for its digest, stays. */
	PGresult *old = ev ? db_query(db,
	                              "DELETE FROM events WHERE received_at < now()"
	                              " - make_interval(days => $1::int) AND outcome IS NOT NULL"
	                              " AND outcome <> 'digest' RETURNING 1",
	                              1, pe)
	                   : NULL;
	if (!ev || !old)
		ignored = -1;
	struct login_pruned lp = {0};
	if (ignored == 0)
		ignored = login_prune(db, &lp);
	json_object_object_add(o, "login_requests", json_object_new_int64(lp.requests));
	json_object_object_add(o, "login_codes", json_object_new_int64(lp.codes));
	json_object_object_add(o, "sessions", json_object_new_int64(lp.sessions));
	json_object_object_add(o, "due", json_object_new_boolean(1));
	json_object_object_add(o, "check_runs", json_object_new_int(a ? PQntuples(a) : 0));
	json_object_object_add(o, "webhook_seen", json_object_new_int(b ? PQntuples(b) : 0));
	json_object_object_add(o, "webhook_events", json_object_new_int(c2 ? PQntuples(c2) : 0));
	json_object_object_add(o, "event_deliveries", json_object_new_int(ev ? PQntuples(ev) : 0));
	json_object_object_add(o, "events", json_object_new_int(old ? PQntuples(old) : 0));
	int ok = a && b && c2 && ignored == 0;
	PQclear(a);
	PQclear(b);
	PQclear(c2);
	PQclear(ev);
	PQclear(old);
	step_end(st, o, ok, db->err);
}

/* The business events stored since the last tick, and the digests due (tenants/dispatch.h). */
static void step_events(struct db *db, struct config *cfg, time_t now, struct step *st)
{
	if (step_begin(st, "events") < 0)
		return;
	struct json_object *o = json_object_new_object();
	struct dispatch_stats ds;
	int ok = dispatch_run(db, cfg, now, DISPATCH_SEND, &ds) == 0;
	json_object_object_add(o, "sent", json_object_new_int(ds.sent));
	json_object_object_add(o, "messages", json_object_new_int(ds.messages));
	json_object_object_add(o, "held", json_object_new_int(ds.held));
	json_object_object_add(o, "not_sent", json_object_new_int(ds.not_sent));
	json_object_object_add(o, "digests", json_object_new_int(ds.digests));
	json_object_object_add(o, "digest_events", json_object_new_int(ds.digest_events));
	json_object_object_add(o, "drained", json_object_new_int(ds.drained));
	json_object_object_add(o, "merged", json_object_new_int(ds.merged));
	step_end(st, o, ok, db->err);
}

/* The end-to-end canary (monitor/canary.h): one when due, and its alert opened or resolved. */
static void step_canary(struct db *db, struct config *cfg, time_t now, struct step *st)
{
	if (step_begin(st, "canary") < 0)
		return;
	struct json_object *o = json_object_new_object();
	int ok = canary_tick(db, cfg, now, o) == 0;
	step_end(st, o, ok, db->err);
}

/* One step of the drain sequence (jobs/drain.h), timed and reported as the others. */
static void step_drain(struct db *db, struct config *cfg, enum drain_step s, struct drain_run *run,
                       struct step *st)
{
	if (step_begin(st, drain_step_name(s)) < 0)
		return;
	int ok = drain_step(db, cfg, s, run) == 0;
	step_end(st, drain_step_json(s, run), ok, db->err);
}

/*
 * The state database cannot be reached: nothing can be claimed, recorded or
 * reported, but the check still runs, through its no-database path (its
 * findings spooled, sent, replayed into whatsapp_logs when the database is
 * back; the spool keeps a finding from going out again), every tick while it
 * lasts: when both are one database its being down is the finding.
 */
static void tick_without_database(struct db *db, struct config *cfg, struct step *st,
                                  struct json_object *top)
{
	json_object_object_add(top, "state_database", json_object_new_string("unavailable"));
	json_object_object_add(top, "error", json_object_new_string(db->err));
	log_error("tick_no_database",
	          "state database unavailable: %s; running the check without it (findings"
	          " spooled and sent, replayed when it is back)",
	          db->err);
	(void)step_begin(st, "check"); /* no lease without the database */
	struct check_opts opts = {.emergency = 0, .trigger = "tick"};
	struct json_object *res = NULL, *o = json_object_new_object();
	char *err = NULL;
	int ok = check_run(db, cfg, &opts, &res, &err) == 0;
	json_object_object_add(o, "due", json_object_new_boolean(1));
	copy_field(o, res, "reachable");
	copy_field(o, res, "summary");
	copy_field(o, res, "spooled");
	copy_field(o, res, "sent_while_database_down");
	copy_field(o, res, "check_id");
	int spooled = json_present(res, "spooled");
	int sent = spooled ? json_object_get_int(json_get(res, "sent_while_database_down")) : 0;
	if (ok)
		log_info("tick_check_stored", "the state database answered the check: stored");
	else if (spooled)
		log_warnx("tick_check_spooled",
		          "check without the state database: findings %s, %d message(s) sent now"
		          " (none for findings spooled already)",
		          json_get_bool(res, "spooled", 0)
		              ? "spooled"
		              : "NOT spooled (the spool cannot be written)",
		          sent);
	else
		log_warnx("tick_check_spooled",
		          "check without the state database: nothing to send");
	step_end(st, o, ok, err);
	json_object_put(res);
	free(err);
}

/* Put the steps, ok and the duration into top (takes st->steps); the duration in ms. */
static long long tick_finish(struct json_object *top, struct step *st, int64_t t0, int ok)
{
	long long ms = (long long)(mono_ms() - t0);
	json_object_object_add(top, "steps", st->steps);
	json_object_object_add(top, "ok", json_object_new_boolean(ok));
	json_object_object_add(top, "duration_ms", json_object_new_int64(ms));
	return ms;
}

/*
 * One tick at a time: in session mode a session advisory lock (freed when the
 * connection ends, even if the tick dies); in transaction mode, where a session
 * lock would stay on one of the pooler's server connections, the lease row
 * "tick". 1 taken, 0 another tick holds it, -1 the database (db->err).
 */
static int tick_lock(struct db *db, struct lease *lease)
{
	if (db->pooling == POOLING_TRANSACTION)
		return lease_take(db, lease, "tick", TICK_LEASE_SECONDS);
	PGresult *r = db_query(db, "SELECT pg_try_advisory_lock(" TICK_LOCK_KEY ")", 0, NULL);
	if (!r)
		return -1;
	int locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return locked;
}

static void tick_unlock(struct db *db, struct lease *lease)
{
	if (db->pooling == POOLING_TRANSACTION)
		lease_release(db, lease);
	else
		db_exec(db, "SELECT pg_advisory_unlock(" TICK_LOCK_KEY ")", 0, NULL);
}

int tick_run(struct db *db, struct config *cfg, time_t now, struct json_object **out)
{
	struct json_object *top = json_object_new_object();
	struct step st = {.steps = json_object_new_array()};
	int64_t t0 = mono_ms();
	*out = top;
	struct lease lease;
	int locked = tick_lock(db, &lease);
	if (locked < 0) {
		tick_without_database(db, cfg, &st, top);
		tick_finish(top, &st, t0, 0);
		return -1;
	}
	if (!locked) {
		json_object_object_add(top, "skipped",
		                       json_object_new_string("another tick is running"));
		json_object_put(st.steps);
		log_info("tick_skipped", "another tick is running");
		return 0;
	}
	st.db = db;
	st.lease = db->pooling == POOLING_TRANSACTION ? &lease : NULL;
	char *err = NULL;
	if (settings_apply(db, cfg, &err) < 0) {
		log_warnx("settings_unavailable", "stored settings not applied: %s", err);
		free(err);
	}

	struct drain_run run = DRAIN_RUN_INIT;
	for (int i = 0; i < DRAIN_STEP_SEND; i++)
		step_drain(db, cfg, (enum drain_step)i, &run, &st);

	step_check(db, cfg, now, &st);
	step_report(db, cfg, now, 0, &st);
	step_report(db, cfg, now, 1, &st);
	step_prune(db, cfg, now, &st);
	step_events(db, cfg, now, &st);
	step_canary(db, cfg, now, &st);

	step_drain(db, cfg, DRAIN_STEP_SEND, &run, &st);

	/* The heartbeat that whatsapp_monitor_last_successful_tick_timestamp_seconds shows. */
	if (!st.failed && db_exec(db,
	                          "INSERT INTO heartbeats (name, at) VALUES ('tick', now())"
	                          " ON CONFLICT (name) DO UPDATE SET at = EXCLUDED.at",
	                          0, NULL) < 0)
		log_warnx("heartbeat_failed", "the tick's heartbeat was not stored: %s", db->err);
	tick_unlock(db, &lease);
	long long ms = tick_finish(top, &st, t0, !st.failed);
	log_info("tick_done", "tick %s in %lld ms", st.failed ? "had failures" : "done", ms);
	return st.failed ? -1 : 0;
}
