#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/backoff.h"
#include "core/log.h"
#include "core/util.h"
#include "db/pgarray.h"
#include "delivery/account.h"
#include "delivery/coalesce.h"
#include "delivery/outbox.h"
#include "delivery/sender.h"
#include "delivery/spool.h"

int outbox_msg_check(const struct outbox_msg *m, const char **why)
{
	return channel_address_check(m->channel, m->phone, why);
}

int outbox_queue(struct db *db, const struct outbox_msg *m)
{
	const char *why;
	if (outbox_msg_check(m, &why) < 0) {
		/* The address is not repeated: it may hold the control characters refused. */
		snprintf(db->err, sizeof(db->err), "message %s refused: its address %s",
		         m->key ? m->key : "(no key)", why);
		db->sqlstate[0] = '\0';
		return -1;
	}
	char *ids = pg_bigint_array(m->alert_ids, m->n_alert_ids);
	char *tparams =
	    m->template_name ? pg_text_array(m->template_params, m->n_template_params) : NULL;
	char run[24], nb[24], acct[24], tenant[24], after[24], follows[24];
	snprintf(run, sizeof(run), "%lld", m->check_run_id);
	snprintf(nb, sizeof(nb), "%lld", m->not_before);
	snprintf(acct, sizeof(acct), "%lld", m->account_id ? m->account_id : ACCOUNT_OPERATOR_ID);
	snprintf(tenant, sizeof(tenant), "%lld", m->tenant_id);
	snprintf(after, sizeof(after), "%lld", m->fallback_after_s);
	snprintf(follows, sizeof(follows), "%lld", m->follows_id);
	const char *p[20] = {m->phone,
	                     m->content,
	                     m->priority,
	                     m->kind,
	                     m->key,
	                     ids,
	                     m->check_run_id ? run : NULL,
	                     m->emergency ? "t" : "f",
	                     m->not_before ? nb : NULL,
	                     m->suppressible ? "t" : "f",
	                     m->channel ? m->channel : channel_name(CHANNEL_WHATSAPP),
	                     acct,
	                     m->tenant_id ? tenant : NULL,
	                     m->fallback_chain,
	                     m->fallback_chain && m->fallback_after_s > 0 ? after : NULL,
	                     m->follows_id ? follows : NULL,
	                     m->reply_id,
	                     m->reply_title,
	                     m->template_name,
	                     tparams};
	/* The receipt's deadline counts from when the message may go (not_before). */
	PGresult *res =
	    db_query(db,
	             "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind,"
	             " idempotency_key, alert_ids, check_run_id, emergency, not_before, status,"
	             " channel, account_id, tenant_id, fallback_chain, fallback_at, follows_id,"
	             " reply_id, reply_title, template_name, template_params)"
	             " VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::bigint, $8::boolean,"
	             " coalesce(to_timestamp($9::float8), now()),"
	             " CASE WHEN $10::boolean AND EXISTS (SELECT 1 FROM pause_state"
	             "   WHERE paused_until > now()) THEN 'suppressed' ELSE 'queued' END,"
	             " $11, $12::bigint, $13::bigint, $14::text[],"
	             " coalesce(to_timestamp($9::float8), now())"
	             "   + make_interval(secs => $15::int), $16::bigint, $17, $18, $19,"
	             " $20::text[])"
	             " ON CONFLICT (idempotency_key) DO NOTHING RETURNING status",
	             20, p);
	free(ids);
	free(tparams);
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
	const struct account *acct; /* who it is sent as (the drain's account set owns it) */
	char *id, *phone, *content, *priority, *alert_id;
	char *lease_id; /* the claim that holds the row: its result is recorded only under it */
	char *reply_id, *reply_title; /* its reply button, or NULL */
	char *template_name;          /* its own template (outbox.h), or NULL */
	char **template_params;
	size_t n_template_params;
	int as_template, in_window, attempts;
	int merged;     /* other rows it carries (coalesce.h) */
	double start_s; /* its paced start, seconds from the claim */
	double slot_at; /* that start, epoch seconds, once sending began: its sent_at */
};

/* The row goes without a template of its own (a carrier of several events). */
static void claimed_drop_template(struct claimed *c)
{
	free(c->template_name);
	for (size_t k = 0; k < c->n_template_params; k++)
		free(c->template_params[k]);
	free(c->template_params);
	c->template_name = NULL;
	c->template_params = NULL;
	c->n_template_params = 0;
}

static void claimed_release(struct claimed *c)
{
	free(c->id);
	free(c->lease_id);
	free(c->phone);
	free(c->content);
	free(c->priority);
	free(c->alert_id);
	free(c->reply_id);
	free(c->reply_title);
	claimed_drop_template(c);
}

static void claimed_free(struct claimed *c, int n)
{
	for (int k = 0; k < n; k++)
		claimed_release(&c[k]);
	free(c);
}

/*
 * The accounts of all that sending is not stopped for (delivery_state), into
 * *active (its array borrows all's accounts' fields). 0 / -1.
 */
static int active_accounts(struct db *db, const struct account_set *all, struct account_set *active)
{
	active->v = xcalloc(all->n + 1, sizeof(*active->v));
	active->n = 0;
	PGresult *r = db_query(db, "SELECT account_id FROM delivery_state WHERE stopped", 0, NULL);
	if (!r)
		return -1;
	for (size_t i = 0; i < all->n; i++) {
		int stopped = 0;
		for (int k = 0; k < PQntuples(r); k++)
			stopped |= strtoll(PQgetvalue(r, k, 0), NULL, 10) == all->v[i].id;
		if (!stopped)
			active->v[active->n++] = all->v[i];
	}
	PQclear(r);
	return 0;
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
 * each at most its account's timeout), plus one request's time and 60 s. With a batch
 * no larger than SEND_MAX_IN_FLIGHT and no pace ahead this is the
 * 2 x SEND_TIMEOUT_MS + 60 s of a drainer that died mid-send.
 */
static double lease_seconds(const struct account *a, int n, double first_slot_s)
{
	const struct config *cfg = a->cfg;
	double last_start = first_slot_s + (double)(n - 1) / (double)a->rate_per_second;
	long long rounds = ((long long)n + cfg->send_max_in_flight - 1) / cfg->send_max_in_flight;
	return (last_start > 0 ? last_start : 0) +
	       (double)(rounds + 1) * (double)a->timeout_ms / 1000.0 + 60.0;
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
 * Reserve n of account a's global rate slots (the first may lie in the future:
 * *first_slot_s from now; the account's send_rate row is made on first use)
 * and mark the rows in ids (an array literal) 'sending' under a new lease that
 * lasts past their paced start (lease_seconds); *lease_id names it. Inside the
 * claim's transaction. 0 / -1.
 */
static int hold(struct db *db, const struct account *a, int n, const char *ids,
                double *first_slot_s, char **lease_id)
{
	char cnt[16], rate[24], secs[32], acct[24];
	snprintf(cnt, sizeof(cnt), "%d", n);
	snprintf(rate, sizeof(rate), "%lld", a->rate_per_second);
	snprintf(acct, sizeof(acct), "%lld", a->id);
	const char *pr[3] = {cnt, rate, acct};
	/* The upsert locks the account's row: drainers reserve slots one after another. */
	PGresult *r = db_query(db,
	                       "INSERT INTO send_rate AS s (account_id, next_slot)"
	                       " VALUES ($3::bigint, clock_timestamp()"
	                       "   + make_interval(secs => $1::float8 / $2::float8))"
	                       " ON CONFLICT (account_id) DO UPDATE"
	                       " SET next_slot = greatest(s.next_slot, clock_timestamp())"
	                       "   + make_interval(secs => $1::float8 / $2::float8)"
	                       " RETURNING extract(epoch FROM s.next_slot"
	                       "   - make_interval(secs => $1::float8 / $2::float8)"
	                       "   - clock_timestamp())",
	                       3, pr);
	if (!r)
		return -1;
	*first_slot_s = PQntuples(r) ? strtod(PQgetvalue(r, 0, 0), NULL) : 0;
	PQclear(r);
	snprintf(secs, sizeof(secs), "%.3f", lease_seconds(a, n, *first_slot_s));
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
 * Due rows of the accounts in ids (an array literal), at most lim, locked,
 * fairly: round robin across producers, a producer being an (account, tenant)
 * pair (the operator's own messages are one), each producer's rows critical
 * first, then oldest first. On whatsapp_logs_fair_idx: `parts` finds the
 * producers with queued rows by a skip scan (one index probe each), `ranked`
 * reads at most lim due rows of each and numbers them; the first 2 x lim by
 * rank are then locked in the outer query (window functions and FOR UPDATE
 * cannot share a SELECT), skipping rows another drainer holds and re-checking
 * that each is still queued and due (another drainer may have claimed and
 * retried it since). On 100k queued rows of 101 producers this reads about
 * 11k index entries where ORDER BY priority, id sorted all 100k. Columns: id, account_id,
 * phone_number, message_content, priority, as_template, the 24-hour window (contacts of that
 * account), first alert id, attempts, tenant_id (0: none), kind, channel, reply_id,
 * reply_title, template_name, template_params (as a JSON array).
 */
static PGresult *due_rows(struct db *db, const char *ids, int lim)
{
	char l[16], l2[16];
	snprintf(l, sizeof(l), "%d", lim);
	snprintf(l2, sizeof(l2), "%d", lim * 2); /* spare ranks for the rows others hold */
	const char *p[3] = {l, ids, l2};
	return db_query(
	    db,
	    "WITH RECURSIVE parts AS ("
	    "  (SELECT account_id AS a, coalesce(tenant_id, 0) AS t FROM whatsapp_logs"
	    "   WHERE status = 'queued' AND direction = 'outbound'"
	    "   ORDER BY account_id, coalesce(tenant_id, 0) LIMIT 1)"
	    "  UNION ALL"
	    "  SELECT n.a, n.t FROM parts p CROSS JOIN LATERAL"
	    "   (SELECT account_id AS a, coalesce(tenant_id, 0) AS t FROM whatsapp_logs"
	    "    WHERE status = 'queued' AND direction = 'outbound'"
	    "    AND (account_id, coalesce(tenant_id, 0)) > (p.a, p.t)"
	    "    ORDER BY account_id, coalesce(tenant_id, 0) LIMIT 1) n),"
	    " ranked AS ("
	    "  SELECT x.id, row_number() OVER (PARTITION BY p.a, p.t"
	    "    ORDER BY x.crit DESC, x.id) AS rank"
	    "  FROM parts p CROSS JOIN LATERAL"
	    "   (SELECT id, (priority = 'critical') AS crit FROM whatsapp_logs"
	    "    WHERE status = 'queued' AND direction = 'outbound' AND account_id = p.a"
	    "    AND coalesce(tenant_id, 0) = p.t"
	    "    AND next_attempt_at <= now() AND not_before <= now()"
	    "    ORDER BY (priority = 'critical') DESC, id LIMIT $1::int) x"
	    "  WHERE p.a = ANY($2::bigint[]))"
	    " SELECT w.id, w.account_id, w.phone_number, w.message_content, w.priority,"
	    " w.as_template,"
	    " coalesce((SELECT c.last_inbound_at > now() - interval '24 hours' FROM contacts c"
	    "   WHERE c.account_id = w.account_id AND c.phone_number = w.phone_number), false),"
	    " coalesce(w.alert_ids[1]::text, ''), w.attempts, coalesce(w.tenant_id, 0), w.kind,"
	    " w.channel, w.reply_id, w.reply_title, w.template_name,"
	    " array_to_json(w.template_params)::text"
	    " FROM (SELECT id, rank FROM ranked ORDER BY rank, id LIMIT $3::int) r"
	    " JOIN whatsapp_logs w ON w.id = r.id"
	    " WHERE w.status = 'queued' AND w.next_attempt_at <= now() AND w.not_before <= now()"
	    " ORDER BY r.rank, (w.priority = 'critical') DESC, w.id"
	    " LIMIT $1::int FOR UPDATE OF w SKIP LOCKED",
	    3, p);
}

/*
 * The recipient's pacing slot with account a: taken (1) only if free; the row
 * lock serialises drainers. 0 taken by another message, -1 error.
 */
static int take_slot(struct db *db, const struct account *a, const char *phone)
{
	char gap[24], acct[24];
	snprintf(gap, sizeof(gap), "%lld", a->recipient_min_interval_s);
	snprintf(acct, sizeof(acct), "%lld", a->id);
	const char *ps[3] = {phone, gap, acct};
	PGresult *slot =
	    db_query(db,
	             "INSERT INTO recipient_slots AS r (account_id, phone_number, next_allowed_at)"
	             " VALUES ($3::bigint, $1, now() + make_interval(secs => $2::int))"
	             " ON CONFLICT (account_id, phone_number) DO UPDATE"
	             " SET next_allowed_at = now() + make_interval(secs => $2::int)"
	             " WHERE r.next_allowed_at <= now() RETURNING 1",
	             3, ps);
	if (!slot)
		return -1;
	int got = PQntuples(slot) == 1;
	PQclear(slot);
	return got;
}

/*
 * The row's own template into *c: its name and the parameters of params_json (a JSON array of
 * strings, as due_rows() reads template_params; NULL: none). An element that is not a string
 * reads "" (the provider sends "-").
 */
static void claimed_fill_template(struct claimed *c, const char *name, const char *params_json)
{
	struct json_object *arr = params_json ? json_tokener_parse(params_json) : NULL;
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	c->template_name = xstrdup(name);
	c->template_params = xcalloc(n + 1, sizeof(*c->template_params));
	for (size_t k = 0; k < n; k++) {
		const char *v = json_object_get_string(json_object_array_get_idx(arr, k));
		c->template_params[k] = xstrdup(
		    json_object_is_type(json_object_array_get_idx(arr, k), json_type_string) ? v
		                                                                             : "");
	}
	c->n_template_params = n;
	json_object_put(arr);
}

/* Row i of due_rows() into *c, sent as a. */
static void claimed_fill(struct claimed *c, PGresult *r, int i, const struct account *a)
{
	c->acct = a;
	c->id = xstrdup(PQgetvalue(r, i, 0));
	c->phone = xstrdup(PQgetvalue(r, i, 2));
	c->content = xstrdup(PQgetvalue(r, i, 3));
	c->priority = xstrdup(PQgetvalue(r, i, 4));
	c->as_template = strcmp(PQgetvalue(r, i, 5), "t") == 0;
	c->in_window = strcmp(PQgetvalue(r, i, 6), "t") == 0;
	c->alert_id = xstrdup(PQgetvalue(r, i, 7));
	c->attempts = (int)strtol(PQgetvalue(r, i, 8), NULL, 10) + 1;
	c->reply_id = PQgetisnull(r, i, 12) ? NULL : xstrdup(PQgetvalue(r, i, 12));
	c->reply_title = PQgetisnull(r, i, 13) ? NULL : xstrdup(PQgetvalue(r, i, 13));
	if (!PQgetisnull(r, i, 14))
		claimed_fill_template(c, PQgetvalue(r, i, 14),
		                      PQgetisnull(r, i, 15) ? NULL : PQgetvalue(r, i, 15));
}

/*
 * Merge into the claimed row c (row i of due_rows() r) the rows waiting for the same
 * recipient that may go with it (delivery/coalesce.h). 0 / -1.
 */
static int merge_waiting(struct db *db, const struct account *a, PGresult *r, int i,
                         struct claimed *c)
{
	struct coalesce_row row = {
	    .id = strtoll(c->id, NULL, 10),
	    .tenant_id = strtoll(PQgetvalue(r, i, 9), NULL, 10),
	    .phone = c->phone,
	    .kind = PQgetvalue(r, i, 10),
	    .channel = PQgetvalue(r, i, 11),
	    .as_template = c->as_template,
	    .in_window = c->in_window,
	    .reply_id = c->reply_id,
	    .template_name = c->template_name,
	};
	if (!coalesce_may_carry(a, &row))
		return 0;
	int keep_button = 0;
	int merged = coalesce_merge(db, a, &row, OUTBOX_MAX_CONTENT, &c->content, &c->priority,
	                            &keep_button);
	if (merged < 0)
		return -1;
	if (merged > 0 && !keep_button) {
		free(c->reply_id);
		free(c->reply_title);
		c->reply_id = c->reply_title = NULL;
	}
	if (merged > 0) /* several events now: the generic template (coalesce_merge cleared it) */
		claimed_drop_template(c);
	c->merged = merged;
	return 0;
}

/*
 * Rows of account a one claim takes at most: about DRAIN_BATCH_SECONDS of sending at its own
 * pace (at least DRAIN_BATCH_MIN). A claim is sent as one batch: 320 emails at 5/s would hold
 * it, and the WhatsApp alerts due after it, for a minute.
 */
static int account_batch(const struct account *a)
{
	long long n = a->rate_per_second * DRAIN_BATCH_SECONDS;
	return n < DRAIN_BATCH_MIN   ? DRAIN_BATCH_MIN
	       : n > DRAIN_BATCH_MAX ? DRAIN_BATCH_MAX
	                             : (int)n;
}

/*
 * From the locked due rows r, pick at most max into c (*np of them, also on
 * failure): one per (account, recipient) whose pacing slot is free, at most
 * account_batch() of each account; each carries the rows of its recipient that
 * may go with it (merge_waiting). 0 / -1.
 */
static int pick(struct db *db, const struct account_set *accts, PGresult *r, int max,
                struct claimed *c, int *np)
{
	int n = 0;
	*np = 0;
	for (int i = 0; i < PQntuples(r) && n < max; i++) {
		const struct account *a =
		    account_set_find(accts, strtoll(PQgetvalue(r, i, 1), NULL, 10));
		const char *phone = PQgetvalue(r, i, 2);
		int dup = !a, of_a = 0;
		for (int k = 0; k < n && !dup; k++) {
			of_a += c[k].acct == a;
			dup = c[k].acct == a && strcmp(c[k].phone, phone) == 0;
		}
		if (dup || of_a >= account_batch(a))
			continue;
		int got = take_slot(db, a, phone);
		if (got < 0)
			return -1;
		if (got)
			claimed_fill(&c[n++], r, i, a);
		*np = n;
		if (got && merge_waiting(db, a, r, i, &c[n - 1]) < 0)
			return -1;
	}
	return 0;
}

/*
 * Hold the n picked rows in c, account by account: each account's rows get
 * its rate slots (their start_s, paced at its rate) and a lease. 0 / -1.
 */
static int hold_all(struct db *db, const struct account_set *accts, struct claimed *c, int n)
{
	for (size_t ai = 0; ai < accts->n; ai++) {
		const struct account *a = &accts->v[ai];
		long long *v = xcalloc((size_t)n + 1, sizeof(*v));
		size_t na = 0;
		for (int k = 0; k < n; k++)
			if (c[k].acct == a)
				v[na++] = strtoll(c[k].id, NULL, 10);
		char *ids = pg_bigint_array(v, na);
		double first = 0;
		char *lease = NULL;
		int r = na ? hold(db, a, (int)na, ids, &first, &lease) : 0;
		free(ids);
		free(v);
		if (r < 0)
			return -1;
		for (int k = 0, j = 0; k < n && na; k++)
			if (c[k].acct == a) {
				c[k].lease_id = xstrdup(lease);
				c[k].start_s = first + (double)j++ / (double)a->rate_per_second;
			}
		free(lease);
	}
	return 0;
}

/*
 * Claim up to max due rows of the accounts in accts, fairly (due_rows), one
 * per recipient whose slot is free, and mark them sending (hold_all). Returns
 * the count (rows in *out) or -1.
 */
static int claim(struct db *db, const struct config *cfg, const struct account_set *accts, int max,
                 struct claimed **out)
{
	struct claimed *c = NULL;
	PGresult *r = NULL;
	char *ids = account_set_ids(accts);
	int n = 0;
	*out = NULL;
	if (requeue_expired(db, cfg) < 0 || db_begin(db) < 0)
		goto fail_ids;
	/* More than max: rows of a recipient already picked, or paced, are passed over. */
	r = due_rows(db, ids, max * 4);
	if (!r)
		goto fail;
	c = xcalloc((size_t)PQntuples(r) + 1, sizeof(*c));
	int picked = pick(db, accts, r, max, c, &n);
	PQclear(r);
	if (picked < 0 || hold_all(db, accts, c, n) < 0 || db_commit(db) < 0)
		goto fail;
	free(ids);
	*out = c;
	return n;
fail:
	db_rollback(db);
fail_ids:
	free(ids);
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

/* Accepted by the provider: 'sent', with its message id. 0 / -1. */
static int record_sent(struct db *db, const struct claimed *c, const struct send_result *rs,
                       struct drain_stats *st)
{
	char at[40];
	snprintf(at, sizeof(at), "%.6f", c->slot_at);
	const char *pr[7] = {c->id,
	                     c->lease_id,
	                     c->acct->provider->name,
	                     rs->message_id[0] ? rs->message_id : NULL,
	                     rs->wa_id[0] ? rs->wa_id : NULL,
	                     c->as_template ? "t" : "f",
	                     c->slot_at > 0 ? at : NULL};
	/*
	 * sent_at is the paced start it went at, not when its answer came: answers arrive in any
	 * order (each is recorded as it comes), the slots are the order the drain sent in.
	 */
	int held =
	    record_held(db, c, rs, st,
	                "UPDATE whatsapp_logs SET status = 'sent',"
	                " sent_at = least(coalesce(to_timestamp($7::float8), now()), now()),"
	                " provider = $3, provider_message_id = $4, wa_id = $5,"
	                " as_template = $6::boolean, claimed_at = NULL, lease_until = NULL,"
	                " last_error_code = NULL, last_error = NULL" HELD " RETURNING status",
	                7, pr, NULL, 0);
	if (held > 0)
		st->sent++;
	return held < 0 ? -1 : 0;
}

/* Outside the window: queued again at once, as a template. 0 / -1. */
static int record_as_template(struct db *db, const struct claimed *c, const struct send_result *rs,
                              struct drain_stats *st)
{
	const char *pt[4] = {c->id, c->lease_id, rs->error_code, rs->error};
	int held = record_held(db, c, rs, st,
	                       "UPDATE whatsapp_logs SET status = 'queued', as_template = true,"
	                       " next_attempt_at = now(), claimed_at = NULL,"
	                       " lease_until = NULL, last_error_code = $3,"
	                       " last_error = $4" HELD " RETURNING status",
	                       4, pt, NULL, 0);
	if (held > 0)
		st->as_template++;
	return held < 0 ? -1 : 0;
}

/* This message can never be sent: 'failed' with the provider's code. 0 / -1. */
static int record_failed(struct db *db, const struct claimed *c, const struct send_result *rs,
                         struct drain_stats *st)
{
	const char *pf[4] = {c->id, c->lease_id, rs->error_code, rs->error};
	int held = record_held(db, c, rs, st,
	                       "UPDATE whatsapp_logs SET status = 'failed', failed_at = now(),"
	                       " claimed_at = NULL, lease_until = NULL, last_error_code = $3,"
	                       " last_error = $4" HELD " RETURNING status",
	                       4, pf, NULL, 0);
	if (held > 0) {
		st->failed++;
		log_warnx("send_failed", "message %s to %s failed for good: %s %s", c->id, c->phone,
		          rs->error_code, rs->error);
	}
	return held < 0 ? -1 : 0;
}

/* The provider refuses the account: the row waits, the account stops. 0 / -1. */
static int record_stop(struct db *db, const struct claimed *c, const struct send_result *rs,
                       struct drain_stats *st)
{
	const char *ps[4] = {c->id, c->lease_id, rs->error_code, rs->error};
	char *reason = xasprintf("%s %s", rs->error_code, rs->error);
	st->stopped = 1;
	log_error("sending_stopped",
	          "the provider refuses account %lld (%s): its sending stopped until "
	          "`cron drain --resume`",
	          c->acct->id, reason);
	/* The account is refused whoever holds the row: the stop applies either way. */
	int held = record_held(db, c, rs, st,
	                       "UPDATE whatsapp_logs SET status = 'queued', claimed_at = NULL,"
	                       " lease_until = NULL, attempts = greatest(attempts - 1, 0),"
	                       " last_error_code = $3, last_error = $4" HELD " RETURNING status",
	                       4, ps, NULL, 0);
	int r = held < 0 ? -1 : outbox_stop_all(db, c->acct->id, reason);
	free(reason);
	return r;
}

/*
 * Try again after the backoff (its account's), unless the message is too old
 * to matter; a recipient's pair rate also holds back that recipient's slot.
 * 0 / -1.
 */
static int record_retry(struct db *db, const struct claimed *c, const struct send_result *rs,
                        struct drain_stats *st)
{
	const struct account *a = c->acct;
	const struct config *cfg = a->cfg;
	char delay[32], age[24], status[16];
	snprintf(delay, sizeof(delay), "%.3f",
	         backoff_delay((double)a->retry_base_s, (double)a->retry_max_s, c->attempts, 0.2,
	                       random_unit()));
	snprintf(age, sizeof(age), "%lld", cfg->message_max_age_h);
	const char *pq[6] = {c->id, c->lease_id, delay, rs->error_code, rs->error, age};
	int held = record_held(
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
	if (rs->outcome != SEND_RETRY_RECIPIENT)
		return 0;
	char acct[24];
	snprintf(acct, sizeof(acct), "%lld", c->acct->id);
	const char *pp[3] = {c->phone, delay, acct};
	return db_exec(db,
	               "UPDATE recipient_slots SET next_allowed_at ="
	               " now() + make_interval(secs => $2::float8)"
	               " WHERE account_id = $3::bigint AND phone_number = $1",
	               3, pp);
}

static int record(struct db *db, const struct claimed *c, const struct send_result *rs,
                  struct drain_stats *st)
{
	const struct account *a = c->acct;
	switch (rs->outcome) {
	case SEND_SENT:
		return record_sent(db, c, rs, st);
	case SEND_AS_TEMPLATE:
		if (!c->as_template && provider_template_choice(a->provider, a->cfg,
		                                                c->template_name) != TEMPLATE_NONE)
			return record_as_template(db, c, rs, st);
		/*
		 * A template refused as outside the window, or text refused with no
		 * template to try: failed with the provider's code (131047, 63016).
		 */
		return record_failed(db, c, rs, st);
	case SEND_PERMANENT:
		return record_failed(db, c, rs, st);
	case SEND_STOP_ALL:
		return record_stop(db, c, rs, st);
	case SEND_RETRY:
	case SEND_RETRY_RECIPIENT:
		break;
	}
	return record_retry(db, c, rs, st);
}

/*
 * Seconds until the first due row (of the accounts in ids) whose recipient's
 * slot is taken may go, when that is within RECIPIENT_MIN_INTERVAL (a drain
 * waits that long rather than leave the row to the next cron run); 0 when
 * there is none; -1 error.
 */
static double paced_wait(struct db *db, const struct config *cfg, const char *ids)
{
	char gap[24];
	snprintf(gap, sizeof(gap), "%lld", cfg->recipient_min_interval_s);
	const char *p[2] = {gap, ids};
	PGresult *r =
	    db_query(db,
	             "SELECT extract(epoch FROM min(s.next_allowed_at) - now())"
	             " FROM whatsapp_logs w JOIN recipient_slots s"
	             "   ON s.account_id = w.account_id AND s.phone_number = w.phone_number"
	             " WHERE w.status = 'queued' AND w.direction = 'outbound'"
	             " AND w.account_id = ANY($2::bigint[])"
	             " AND w.next_attempt_at <= now() AND w.not_before <= now()"
	             " AND s.next_allowed_at > now()"
	             " AND s.next_allowed_at <= now() + make_interval(secs => $1::int)",
	             2, p);
	if (!r)
		return -1;
	double wait = PQgetisnull(r, 0, 0) ? 0 : strtod(PQgetvalue(r, 0, 0), NULL) + 0.01;
	PQclear(r);
	return wait > 0 ? wait : 0;
}

/* How many rows the next claim asks for: about DRAIN_BATCH_SECONDS at the rate cap. */
static int batch_size(const struct config *cfg, int max_messages, const struct drain_stats *st)
{
	long long batch = cfg->send_rate_per_second * DRAIN_BATCH_SECONDS;
	int want = batch < DRAIN_BATCH_MIN   ? DRAIN_BATCH_MIN
	           : batch > DRAIN_BATCH_MAX ? DRAIN_BATCH_MAX
	                                     : (int)batch;
	if (max_messages > 0 && max_messages - st->claimed < want)
		want = max_messages - st->claimed;
	return want;
}

/*
 * Nothing could be claimed: wait for due rows held back only by their
 * recipient's pacing, at most one pacing interval in all (*waited); the next
 * cron run takes the rest. 1 waited (claim again), 0 done, -1 error.
 */
static int wait_paced(struct db *db, const struct config *cfg, const struct account_set *active,
                      int flags, double *waited)
{
	if (!(flags & DRAIN_WAIT_PACED))
		return 0;
	char *ids = account_set_ids(active);
	double wait = paced_wait(db, cfg, ids);
	free(ids);
	if (wait < 0)
		return -1;
	if (wait <= 0 || *waited + wait > (double)cfg->recipient_min_interval_s + 1)
		return 0;
	*waited += wait;
	struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
	nanosleep(&ts, NULL);
	return 1;
}

/* What send_and_record's callback needs: the claim, its messages, and how recording goes. */
struct recording {
	struct db *db;
	const struct config *cfg;
	struct claimed *c;
	struct sender_msg *sv;
	struct drain_stats *st;
	int ret; /* -1 once the state database failed: the rest go to the spool */
};

/* Record row i's result as soon as its answer came (the other requests still in flight). */
static void record_one(void *arg, int i)
{
	struct recording *x = arg;
	struct claimed *c = &x->c[i];
	struct sender_msg *m = &x->sv[i];
	c->as_template = m->as_template;
	if (x->ret == 0 && record(x->db, c, &m->rs, x->st) < 0)
		x->ret = -1;
	if (x->ret < 0)
		spool_result(x->cfg, c->id, c->lease_id, c->acct->provider->name, c->as_template,
		             &m->rs);
}

/*
 * Send the n claimed rows, each as its account at its paced start, recording
 * each result as its answer comes, while the others are in flight: a drainer
 * that dies mid-batch has sent unrecorded (to be sent again when its lease
 * runs out) only the requests it had in flight. The sends happened: if the
 * state database fails while recording, the rest of the results go to the
 * spool (replayed into these rows when it is back). 0 / -1.
 */
static int send_and_record(struct db *db, const struct config *cfg, struct claimed *c, int n,
                           struct drain_stats *st)
{
	struct sender_msg *sv = xcalloc((size_t)n, sizeof(*sv));
	for (int i = 0; i < n; i++) {
		sv[i].acct = c[i].acct;
		sv[i].start_s = c[i].start_s;
		sv[i].phone = c[i].phone;
		sv[i].content = c[i].content;
		sv[i].priority = c[i].priority;
		sv[i].alert_id = c[i].alert_id;
		sv[i].as_template = c[i].as_template;
		sv[i].in_window = c[i].in_window;
		sv[i].reply_id = c[i].reply_id;
		sv[i].reply_title = c[i].reply_title;
		sv[i].template_name = c[i].template_name;
		sv[i].template_params = (const char *const *)c[i].template_params;
		sv[i].n_template_params = c[i].n_template_params;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double t0 = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	for (int i = 0; i < n; i++)
		c[i].slot_at = t0 + c[i].start_s;
	struct recording x = {db, cfg, c, sv, st, 0};
	sender_send_each(cfg, sv, n, record_one, &x);
	free(sv);
	return x.ret;
}

/* Claim, send and record until nothing is due, max_messages, or every account stopped. */
static int drain_accounts(struct db *db, const struct config *cfg, const struct account_set *all,
                          int max_messages, int flags, struct drain_stats *st)
{
	double waited = 0;
	for (;;) {
		struct account_set active = {0};
		struct claimed *c = NULL;
		int n = 0, ret = active_accounts(db, all, &active);
		int want = batch_size(cfg, max_messages, st);
		if (ret == 0 && active.n == 0)
			st->stopped = 1;
		if (ret == 0 && active.n > 0 && want > 0) {
			n = claim(db, cfg, &active, want, &c);
			if (n < 0)
				ret = -1;
			else if (n == 0) /* 1: waited for a recipient's slot, claim again */
				ret = wait_paced(db, cfg, &active, flags, &waited);
			else
				st->claimed += n;
			for (int k = 0; k < n; k++)
				st->merged += c[k].merged;
		}
		/* The claimed rows point into active: send before it goes. */
		if (ret == 0 && n > 0)
			ret = send_and_record(db, cfg, c, n, st);
		claimed_free(c, n > 0 ? n : 0);
		account_set_release(&active);
		if (ret < 0)
			return -1;
		if (n <= 0 && ret != 1)
			return 0;
	}
}

int outbox_drain(struct db *db, const struct config *cfg, const struct provider *p,
                 int max_messages, int flags, struct drain_stats *st)
{
	struct account_set all;
	memset(st, 0, sizeof(*st));
	/* What was sent while the state database was down goes into it first. */
	int replayed = spool_replay(db, cfg, &st->quarantined);
	if (replayed < 0)
		return -1;
	st->replayed = replayed;
	if (account_set_load(&all, db, cfg, p) < 0)
		return -1;
	int ret = drain_accounts(db, cfg, &all, max_messages, flags, st);
	account_set_release(&all);
	return ret;
}

/* The open alert of a stopped account: the operator's keeps the target '' it always had. */
static char *stop_target(long long account_id)
{
	return account_id == ACCOUNT_OPERATOR_ID ? xstrdup("")
	                                         : xasprintf("account %lld", account_id);
}

int outbox_stop_all(struct db *db, long long account_id, const char *reason)
{
	char acct[24];
	snprintf(acct, sizeof(acct), "%lld", account_id);
	char *target = stop_target(account_id);
	const char *pd[2] = {reason, acct};
	int r = db_exec(db,
	                "INSERT INTO delivery_state AS d (account_id, stopped, stopped_reason,"
	                " stopped_at) VALUES ($2::bigint, true, $1, now())"
	                " ON CONFLICT (account_id) DO UPDATE SET stopped = true,"
	                " stopped_reason = $1, stopped_at = now()",
	                2, pd);
	/* The operator alert: an open critical alert, visible in alerts and metrics. */
	const char *pa[3] = {reason, target, acct};
	if (r == 0)
		r = db_exec(db,
		            "INSERT INTO alerts (rule, target, severity, message)"
		            " VALUES ('whatsapp_delivery', $2, 'critical',"
		            " coalesce((SELECT CASE channel WHEN 'email' THEN 'Email'"
		            "   WHEN 'sms' THEN 'SMS' END FROM accounts WHERE id = $3::bigint),"
		            "  'WhatsApp') || ' sending stopped: ' || $1)"
		            " ON CONFLICT (rule, target) WHERE status = 'open' DO NOTHING",
		            3, pa);
	free(target);
	return r;
}

int outbox_resume(struct db *db)
{
	if (db_begin(db) < 0)
		return -1;
	if (db_exec(db,
	            "UPDATE delivery_state SET stopped = false, stopped_reason = NULL,"
	            " stopped_at = NULL WHERE stopped",
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
