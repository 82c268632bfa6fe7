#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/backoff.h"
#include "core/buf.h"
#include "core/log.h"
#include "delivery/outbox.h"
#include "delivery/sender.h"
#include "delivery/spool.h"
#include "core/util.h"
#include "db/pgarray.h"

int outbox_queue(struct db *db, const struct outbox_msg *m)
{
	char *ids = pg_bigint_array(m->alert_ids, m->n_alert_ids);
	char run[24];
	snprintf(run, sizeof(run), "%lld", m->check_run_id);
	char nb[24];
	snprintf(nb, sizeof(nb), "%lld", m->not_before);
	const char *p[10] = {m->phone,
	                     m->content,
	                     m->priority,
	                     m->kind,
	                     m->key,
	                     ids,
	                     m->check_run_id ? run : NULL,
	                     m->emergency ? "t" : "f",
	                     m->not_before ? nb : NULL,
	                     m->suppressible ? "t" : "f"};
	PGresult *res =
	    db_query(db,
	             "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind,"
	             " idempotency_key, alert_ids, check_run_id, emergency, not_before, status)"
	             " VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::bigint, $8::boolean,"
	             " coalesce(to_timestamp($9::float8), now()),"
	             " CASE WHEN $10::boolean AND EXISTS (SELECT 1 FROM pause_state"
	             "   WHERE paused_until > now()) THEN 'suppressed' ELSE 'queued' END)"
	             " ON CONFLICT (idempotency_key) DO NOTHING RETURNING status",
	             10, p);
	free(ids);
	if (!res)
		return -1;
	int r = PQntuples(res) != 1                                ? OUTBOX_DUPLICATE
	        : strcmp(PQgetvalue(res, 0, 0), "suppressed") == 0 ? OUTBOX_SUPPRESSED
	                                                           : OUTBOX_QUEUED;
	PQclear(res);
	return r;
}

/*
 * A batch is claimed, sent, then recorded; the slowest answer of a batch
 * delays the next one. Batches of about DRAIN_BATCH_SECONDS of sending at the
 * rate cap keep that tail small against the whole (bounded for memory).
 */
#define DRAIN_BATCH_SECONDS 4
#define DRAIN_BATCH_MIN 16
#define DRAIN_BATCH_MAX 1000

double outbox_backoff(const struct config *cfg, int attempts, double jitter01)
{
	return backoff_delay((double)cfg->retry_base_s, (double)cfg->retry_max_s, attempts, 0.2,
	                     jitter01);
}

struct claimed {
	char *id, *phone, *content, *priority, *alert_id;
	char *lease_id; /* the claim that holds the row: its result is recorded only under it */
	int as_template, in_window, attempts;
};

static void claimed_release(struct claimed *c)
{
	free(c->id);
	free(c->lease_id);
	free(c->phone);
	free(c->content);
	free(c->priority);
	free(c->alert_id);
}

static int is_stopped(struct db *db, int *stopped)
{
	PGresult *r = db_query(db, "SELECT stopped FROM delivery_state WHERE id = 1", 0, NULL);
	if (!r)
		return -1;
	*stopped = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

static void claimed_free(struct claimed *c, int n)
{
	for (int k = 0; k < n; k++)
		claimed_release(&c[k]);
	free(c);
}

/* Who claims: host and pid, so a stuck 'sending' row names its drainer. */
static const char *drainer_name(void)
{
	static char name[300];
	if (!name[0]) {
		char host[256] = "";
		gethostname(host, sizeof(host) - 1);
		snprintf(name, sizeof(name), "%s:%ld", host, (long)getpid());
	}
	return name;
}

/*
 * How long a batch of n rows whose first paced start is first_slot_s from now
 * may hold them 'sending' (seconds): until the last one's paced start, plus
 * the rounds its requests may wait for a free slot (SEND_MAX_IN_FLIGHT at once,
 * each at most SEND_TIMEOUT_MS), plus one request's time and 60 s. With a batch
 * no larger than SEND_MAX_IN_FLIGHT and no pace ahead this is the
 * 2 x SEND_TIMEOUT_MS + 60 s of a drainer that died mid-send.
 */
static double lease_seconds(const struct config *cfg, int n, double first_slot_s)
{
	double last_start = first_slot_s + (double)(n - 1) / (double)cfg->send_rate_per_second;
	long long rounds = ((long long)n + cfg->send_max_in_flight - 1) / cfg->send_max_in_flight;
	return (last_start > 0 ? last_start : 0) +
	       (double)(rounds + 1) * (double)cfg->send_timeout_ms / 1000.0 + 60.0;
}

/* Rows whose lease ran out (their drainer died or is stuck) go back to the queue. 0 / -1. */
static int requeue_expired(struct db *db, const struct config *cfg)
{
	char lease[24];
	snprintf(lease, sizeof(lease), "%lld", 2 * cfg->send_timeout_ms / 1000 + 60);
	const char *p[1] = {lease};
	/*
	 * lease_id stays: until another claim takes the row, a late result of the
	 * claim that held it is still recorded. A row claimed before migration 006
	 * has no lease_until: the old lease from claimed_at applies.
	 */
	return db_exec(db,
	               "UPDATE whatsapp_logs SET status = 'queued', claimed_at = NULL,"
	               " claimed_by = NULL, lease_until = NULL WHERE status = 'sending'"
	               " AND coalesce(lease_until, claimed_at + make_interval(secs => $1::int))"
	               "   < now()",
	               1, p);
}

/*
 * Reserve n global rate slots (the first may lie in the future: *first_slot_s
 * from now) and mark the rows in ids (an array literal) 'sending' under a new
 * lease that lasts past their paced start (lease_seconds); *lease_id names it.
 * Inside the claim's transaction. 0 / -1.
 */
static int hold(struct db *db, const struct config *cfg, int n, const char *ids,
                double *first_slot_s, char **lease_id)
{
	char cnt[16], rate[24], secs[32];
	snprintf(cnt, sizeof(cnt), "%d", n);
	snprintf(rate, sizeof(rate), "%lld", cfg->send_rate_per_second);
	const char *pr[2] = {cnt, rate};
	PGresult *r = db_query(db,
	                       "WITH old AS (SELECT greatest(next_slot, clock_timestamp()) AS t"
	                       "   FROM send_rate WHERE id = 1 FOR UPDATE)"
	                       " UPDATE send_rate SET next_slot = old.t"
	                       "   + make_interval(secs => $1::float8 / $2::float8)"
	                       " FROM old WHERE id = 1"
	                       " RETURNING extract(epoch FROM old.t - clock_timestamp())",
	                       2, pr);
	if (!r)
		return -1;
	*first_slot_s = PQntuples(r) ? strtod(PQgetvalue(r, 0, 0), NULL) : 0;
	PQclear(r);
	snprintf(secs, sizeof(secs), "%.3f", lease_seconds(cfg, n, *first_slot_s));
	const char *pu[3] = {ids, drainer_name(), secs};
	r = db_query(db,
	             "WITH l AS (SELECT nextval('whatsapp_logs_lease_seq') AS v)"
	             " UPDATE whatsapp_logs SET status = 'sending', claimed_at = now(),"
	             " claimed_by = $2, attempts = attempts + 1, lease_id = l.v,"
	             " lease_until = clock_timestamp() + make_interval(secs => $3::float8)"
	             " FROM l WHERE id = ANY($1::bigint[]) RETURNING l.v",
	             3, pu);
	if (!r)
		return -1;
	*lease_id = PQntuples(r) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
	PQclear(r);
	return *lease_id ? 0 : -1;
}

/*
 * Claim up to max due rows, one per recipient whose slot is free, and mark
 * them sending (hold). Returns the count (rows in *out) or -1.
 */
static int claim(struct db *db, const struct config *cfg, int max, struct claimed **out,
                 double *first_slot_s)
{
	char lim[16], gap[24];
	struct claimed *c = NULL;
	long long *ids = NULL;
	char *idlist = NULL;
	PGresult *r = NULL;
	char *lease_id = NULL;
	int n = 0;
	snprintf(lim, sizeof(lim), "%d", max * 4);
	snprintf(gap, sizeof(gap), "%lld", cfg->recipient_min_interval_s);
	*out = NULL;
	*first_slot_s = 0;
	if (requeue_expired(db, cfg) < 0)
		return -1;
	if (db_begin(db) < 0)
		return -1;
	const char *p1[1] = {lim};
	r = db_query(db,
	             "SELECT w.id, w.phone_number, w.message_content, w.priority, w.as_template,"
	             " coalesce((SELECT c.last_inbound_at > now() - interval '24 hours'"
	             "   FROM contacts c WHERE c.phone_number = w.phone_number), false),"
	             " coalesce(w.alert_ids[1]::text, ''), w.attempts"
	             " FROM whatsapp_logs w"
	             " WHERE w.status = 'queued' AND w.direction = 'outbound'"
	             " AND w.next_attempt_at <= now() AND w.not_before <= now()"
	             " ORDER BY (w.priority = 'critical') DESC, w.id"
	             " LIMIT $1::int FOR UPDATE SKIP LOCKED",
	             1, p1);
	if (!r)
		goto fail;
	c = xcalloc((size_t)PQntuples(r) + 1, sizeof(*c));
	ids = xcalloc((size_t)PQntuples(r) + 1, sizeof(*ids));
	for (int i = 0; i < PQntuples(r) && n < max; i++) {
		const char *phone = PQgetvalue(r, i, 1);
		int dup = 0;
		for (int k = 0; k < n; k++)
			dup |= strcmp(c[k].phone, phone) == 0;
		if (dup)
			continue;
		/* The recipient's slot: taken only if free (row lock serialises drainers). */
		const char *ps[2] = {phone, gap};
		PGresult *slot =
		    db_query(db,
		             "INSERT INTO recipient_slots AS r (phone_number, next_allowed_at)"
		             " VALUES ($1, now() + make_interval(secs => $2::int))"
		             " ON CONFLICT (phone_number) DO UPDATE"
		             " SET next_allowed_at = now() + make_interval(secs => $2::int)"
		             " WHERE r.next_allowed_at <= now() RETURNING 1",
		             2, ps);
		if (!slot)
			goto fail;
		int got = PQntuples(slot) == 1;
		PQclear(slot);
		if (!got)
			continue;
		c[n].id = xstrdup(PQgetvalue(r, i, 0));
		c[n].phone = xstrdup(phone);
		c[n].content = xstrdup(PQgetvalue(r, i, 2));
		c[n].priority = xstrdup(PQgetvalue(r, i, 3));
		c[n].as_template = strcmp(PQgetvalue(r, i, 4), "t") == 0;
		c[n].in_window = strcmp(PQgetvalue(r, i, 5), "t") == 0;
		c[n].alert_id = xstrdup(PQgetvalue(r, i, 6));
		c[n].attempts = (int)strtol(PQgetvalue(r, i, 7), NULL, 10) + 1;
		ids[n] = strtoll(c[n].id, NULL, 10);
		n++;
	}
	PQclear(r);
	r = NULL;
	if (n > 0) {
		idlist = pg_bigint_array(ids, (size_t)n);
		if (hold(db, cfg, n, idlist, first_slot_s, &lease_id) < 0)
			goto fail;
		for (int k = 0; k < n; k++)
			c[k].lease_id = xstrdup(lease_id);
	}
	if (db_commit(db) < 0)
		goto fail;
	free(lease_id);
	free(ids);
	free(idlist);
	*out = c;
	return n;
fail:
	PQclear(r);
	db_rollback(db);
	free(lease_id);
	free(ids);
	free(idlist);
	claimed_free(c, n);
	return -1;
}

/*
 * Run one UPDATE of a claimed row's result. Its $1 is the row id, $2 the
 * claim's lease_id, and its WHERE ends in HELD: only a row this claim still
 * holds changes (another drainer may have taken it back after the lease ran
 * out, and recorded its own result). 1 recorded (*status: the new status when
 * wanted), 0 not ours any more (logged, dropped), -1 error.
 */
#define HELD " WHERE id = $1::bigint AND lease_id = $2::bigint AND status IN ('sending', 'queued')"
static int record_held(struct db *db, const struct claimed *c, const struct send_result *rs,
                       struct drain_stats *st, const char *sql, int n, const char *const *p,
                       char *status, size_t len)
{
	PGresult *r = db_query(db, sql, n, p);
	if (!r)
		return -1;
	int held = PQntuples(r) == 1;
	if (held && status)
		snprintf(status, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!held) {
		st->stale++;
		log_warnx("stale_result",
		          "message %s to %s: result %s %s dropped: the row is no longer held by"
		          " this claim (lease %s ran out and another drainer took it)",
		          c->id, c->phone, send_outcome_name(rs->outcome), rs->error_code,
		          c->lease_id);
	}
	return held;
}

static int record(struct db *db, const struct config *cfg, const struct provider *p,
                  const struct claimed *c, const struct send_result *rs, struct drain_stats *st)
{
	char delay[32];
	int held;
	switch (rs->outcome) {
	case SEND_SENT: {
		const char *pr[6] = {c->id,
		                     c->lease_id,
		                     p->name,
		                     rs->message_id[0] ? rs->message_id : NULL,
		                     rs->wa_id[0] ? rs->wa_id : NULL,
		                     c->as_template ? "t" : "f"};
		held = record_held(
		    db, c, rs, st,
		    "UPDATE whatsapp_logs SET status = 'sent', sent_at = now(),"
		    " provider = $3, provider_message_id = $4, wa_id = $5,"
		    " as_template = $6::boolean, claimed_at = NULL, lease_until = NULL,"
		    " last_error_code = NULL, last_error = NULL" HELD " RETURNING status",
		    6, pr, NULL, 0);
		if (held > 0)
			st->sent++;
		return held < 0 ? -1 : 0;
	}
	case SEND_AS_TEMPLATE:
		if (!c->as_template && p->has_template(cfg)) {
			const char *pt[4] = {c->id, c->lease_id, rs->error_code, rs->error};
			held = record_held(
			    db, c, rs, st,
			    "UPDATE whatsapp_logs SET status = 'queued', as_template = true,"
			    " next_attempt_at = now(), claimed_at = NULL,"
			    " lease_until = NULL, last_error_code = $3,"
			    " last_error = $4" HELD " RETURNING status",
			    4, pt, NULL, 0);
			if (held > 0)
				st->as_template++;
			return held < 0 ? -1 : 0;
		}
		/*
		 * A template refused as outside the window, or text refused with no
		 * template to try: failed with the provider's code (131047, 63016).
		 */
		/* fall through */
	case SEND_PERMANENT: {
		const char *pf[4] = {c->id, c->lease_id, rs->error_code, rs->error};
		held = record_held(db, c, rs, st,
		                   "UPDATE whatsapp_logs SET status = 'failed', failed_at = now(),"
		                   " claimed_at = NULL, lease_until = NULL, last_error_code = $3,"
		                   " last_error = $4" HELD " RETURNING status",
		                   4, pf, NULL, 0);
		if (held > 0) {
			st->failed++;
			log_warnx("send_failed", "message %s to %s failed for good: %s %s", c->id,
			          c->phone, rs->error_code, rs->error);
		}
		return held < 0 ? -1 : 0;
	}
	case SEND_STOP_ALL: {
		const char *ps[4] = {c->id, c->lease_id, rs->error_code, rs->error};
		char *reason = xasprintf("%s %s", rs->error_code, rs->error);
		st->stopped = 1;
		log_error("sending_stopped",
		          "the provider refuses this account (%s): all sending stopped until "
		          "`cron drain --resume`",
		          reason);
		/* The account is refused whoever holds the row: the stop applies either way. */
		held =
		    record_held(db, c, rs, st,
		                "UPDATE whatsapp_logs SET status = 'queued', claimed_at = NULL,"
		                " lease_until = NULL, attempts = greatest(attempts - 1, 0),"
		                " last_error_code = $3, last_error = $4" HELD " RETURNING status",
		                4, ps, NULL, 0);
		int r = held < 0 ? -1 : outbox_stop_all(db, reason);
		free(reason);
		return r;
	}
	case SEND_RETRY:
	case SEND_RETRY_RECIPIENT:
		break;
	}
	/* Retry later, unless the message is too old to matter. */
	snprintf(delay, sizeof(delay), "%.3f", outbox_backoff(cfg, c->attempts, random_unit()));
	char age[24], status[16];
	snprintf(age, sizeof(age), "%lld", cfg->message_max_age_h);
	const char *pq[6] = {c->id, c->lease_id, delay, rs->error_code, rs->error, age};
	held = record_held(
	    db, c, rs, st,
	    "UPDATE whatsapp_logs SET claimed_at = NULL, lease_until = NULL,"
	    " last_error_code = $4, last_error = $5,"
	    " status = CASE WHEN not_before < now() - make_interval(hours => $6::int)"
	    "   THEN 'failed' ELSE 'queued' END,"
	    " failed_at = CASE WHEN not_before < now() - make_interval(hours => $6::int)"
	    "   THEN now() END,"
	    " next_attempt_at = now() + make_interval(secs => $3::float8)" HELD " RETURNING status",
	    6, pq, status, sizeof(status));
	if (held <= 0)
		return held;
	if (strcmp(status, "failed") == 0)
		st->failed++;
	else
		st->retried++;
	if (rs->outcome == SEND_RETRY_RECIPIENT) {
		const char *pp[2] = {c->phone, delay};
		return db_exec(db,
		               "UPDATE recipient_slots SET next_allowed_at ="
		               " now() + make_interval(secs => $2::float8) WHERE phone_number = $1",
		               2, pp);
	}
	return 0;
}

/*
 * Seconds until the first due row whose recipient's slot is taken may go,
 * when that is within RECIPIENT_MIN_INTERVAL (a drain waits that long rather
 * than leave the row to the next cron run); 0 when there is none; -1 error.
 */
static double paced_wait(struct db *db, const struct config *cfg)
{
	char gap[24];
	snprintf(gap, sizeof(gap), "%lld", cfg->recipient_min_interval_s);
	const char *p[1] = {gap};
	PGresult *r = db_query(db,
	                       "SELECT extract(epoch FROM min(s.next_allowed_at) - now())"
	                       " FROM whatsapp_logs w JOIN recipient_slots s USING (phone_number)"
	                       " WHERE w.status = 'queued' AND w.direction = 'outbound'"
	                       " AND w.next_attempt_at <= now() AND w.not_before <= now()"
	                       " AND s.next_allowed_at > now()"
	                       " AND s.next_allowed_at <= now() + make_interval(secs => $1::int)",
	                       1, p);
	if (!r)
		return -1;
	double wait = PQgetisnull(r, 0, 0) ? 0 : strtod(PQgetvalue(r, 0, 0), NULL) + 0.01;
	PQclear(r);
	return wait > 0 ? wait : 0;
}

int outbox_drain(struct db *db, const struct config *cfg, const struct provider *p,
                 int max_messages, int flags, struct drain_stats *st)
{
	memset(st, 0, sizeof(*st));
	double waited = 0;
	/* What was sent while the state database was down goes into it first. */
	int replayed = spool_replay(db, cfg, &st->quarantined);
	if (replayed < 0)
		return -1;
	st->replayed = replayed;
	for (;;) {
		int stopped;
		if (is_stopped(db, &stopped) < 0)
			return -1;
		if (stopped) {
			st->stopped = 1;
			return 0;
		}
		long long batch = cfg->send_rate_per_second * DRAIN_BATCH_SECONDS;
		int want = batch < DRAIN_BATCH_MIN   ? DRAIN_BATCH_MIN
		           : batch > DRAIN_BATCH_MAX ? DRAIN_BATCH_MAX
		                                     : (int)batch;
		if (max_messages > 0 && max_messages - st->claimed < want)
			want = max_messages - st->claimed;
		if (want <= 0)
			return 0;
		struct claimed *c = NULL;
		double first_slot = 0;
		int n = claim(db, cfg, want, &c, &first_slot);
		if (n < 0)
			return -1;
		if (n == 0) {
			free(c);
			/* Due rows held back only by their recipient's pacing: wait for it. */
			double wait = flags & DRAIN_WAIT_PACED ? paced_wait(db, cfg) : 0;
			if (wait < 0)
				return -1;
			/* At most one pacing interval in all: the next cron run takes the rest. */
			if (wait > 0 &&
			    waited + wait <= (double)cfg->recipient_min_interval_s + 1) {
				waited += wait;
				struct timespec ts = {(time_t)wait,
				                      (long)((wait - (double)(time_t)wait) * 1e9)};
				nanosleep(&ts, NULL);
				continue;
			}
			return 0;
		}
		st->claimed += n;
		struct sender_msg *sv = xcalloc((size_t)n, sizeof(*sv));
		struct send_result *rs = xcalloc((size_t)n, sizeof(*rs));
		for (int i = 0; i < n; i++) {
			sv[i].phone = c[i].phone;
			sv[i].content = c[i].content;
			sv[i].priority = c[i].priority;
			sv[i].alert_id = c[i].alert_id;
			sv[i].as_template = c[i].as_template;
			sv[i].in_window = c[i].in_window;
		}
		sender_send_batch(cfg, p, sv, n, first_slot);
		for (int i = 0; i < n; i++) {
			c[i].as_template = sv[i].as_template;
			rs[i] = sv[i].rs;
		}
		free(sv);
		/*
		 * The sends happened: if the state database fails now, their results
		 * go to the spool (replayed into these rows when it is back).
		 */
		int ret = 0;
		for (int i = 0; i < n; i++) {
			if (ret == 0 && record(db, cfg, p, &c[i], &rs[i], st) < 0)
				ret = -1;
			if (ret < 0)
				spool_result(cfg, c[i].id, c[i].lease_id, p->name, c[i].as_template,
				             &rs[i]);
		}
		claimed_free(c, n);
		free(rs);
		if (ret < 0)
			return -1;
		if (st->stopped)
			return 0;
	}
}

int outbox_stop_all(struct db *db, const char *reason)
{
	const char *pd[1] = {reason};
	if (db_exec(db,
	            "UPDATE delivery_state SET stopped = true, stopped_reason = $1,"
	            " stopped_at = now() WHERE id = 1",
	            1, pd) < 0)
		return -1;
	/* The operator alert: an open critical alert, visible in alerts and metrics. */
	return db_exec(db,
	               "INSERT INTO alerts (rule, target, severity, message)"
	               " VALUES ('whatsapp_delivery', '', 'critical',"
	               " 'WhatsApp sending stopped: ' || $1)"
	               " ON CONFLICT (rule, target) WHERE status = 'open' DO NOTHING",
	               1, pd);
}

int outbox_resume(struct db *db)
{
	if (db_begin(db) < 0)
		return -1;
	if (db_exec(db,
	            "UPDATE delivery_state SET stopped = false, stopped_reason = NULL,"
	            " stopped_at = NULL WHERE id = 1",
	            0, NULL) < 0 ||
	    db_exec(db,
	            "UPDATE alerts SET status = 'resolved', resolved_at = now(), updated_at = now()"
	            " WHERE rule = 'whatsapp_delivery' AND status = 'open'",
	            0, NULL) < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db);
}
