#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "form.h"
#include "inbound.h"
#include "log.h"
#include "outbox.h"
#include "provider.h"
#include "util.h"
#include "waevent.h"
#include "webhook.h"

int webhook_store(struct db *db, const char *source, const char *body, size_t len, long long *id)
{
	char *copy = xstrndup(body ? body : "", len);
	const char *p[2] = {source, copy};
	PGresult *r = db_query(db,
	                       "INSERT INTO webhook_events (source, body) VALUES ($1, $2)"
	                       " RETURNING id",
	                       2, p);
	free(copy);
	if (!r)
		return -1;
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* ---- Twilio: a form body as the same batch a Meta body gives ---- */

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* "whatsapp:+15551234567" -> "15551234567" */
static char *twilio_digits(const char *addr)
{
	if (!addr)
		return NULL;
	if (strncmp(addr, "whatsapp:", 9) == 0)
		addr += 9;
	if (*addr == '+')
		addr++;
	for (const char *p = addr; *p; p++)
		if (*p < '0' || *p > '9')
			return NULL;
	return *addr ? xstrdup(addr) : NULL;
}

static int twilio_batch(const char *body, size_t len, struct wa_batch *b, char **err)
{
	struct form f = {0};
	memset(b, 0, sizeof(*b));
	if (form_parse(body, len, &f, err) < 0)
		return -1;
	const char *sid = form_get(&f, "MessageSid");
	const char *status = form_get(&f, "MessageStatus");
	if (!sid || !*sid || strlen(sid) > WA_ID_MAX) {
		b->n_skipped = 1;
	} else if (status) {
		/* A status callback. Twilio's undelivered is a failure too. */
		const char *s = strcmp(status, "undelivered") == 0 ? "failed" : status;
		struct wa_status *st = xcalloc(1, sizeof(*st));
		st->id = xstrdup(sid);
		st->status = xstrdup(s);
		st->timestamp = (long long)time(NULL);
		st->recipient_id = twilio_digits(form_get(&f, "To"));
		const char *code = form_get(&f, "ErrorCode");
		st->error_code = code ? (int)strtol(code, NULL, 10) : 0;
		st->error_details = dup_or_null(form_get(&f, "ErrorMessage"));
		b->statuses = st;
		b->n_statuses = 1;
	} else {
		struct wa_message *m = xcalloc(1, sizeof(*m));
		m->id = xstrdup(sid);
		m->from = twilio_digits(form_get(&f, "From"));
		m->wa_id = dup_or_null(form_get(&f, "WaId"));
		if (!m->wa_id && m->from)
			m->wa_id = xstrdup(m->from);
		m->profile_name = dup_or_null(form_get(&f, "ProfileName"));
		m->timestamp = (long long)time(NULL);
		m->type = xstrdup(form_get(&f, "ButtonPayload") ? "button" : "text");
		m->text = dup_or_null(form_get(&f, "Body"));
		m->button_payload = dup_or_null(form_get(&f, "ButtonPayload"));
		m->context_id = dup_or_null(form_get(&f, "OriginalRepliedMessageSid"));
		b->messages = m;
		b->n_messages = 1;
	}
	form_release(&f);
	return 0;
}

/* ---- statuses ---- */

static int rank(const char *status)
{
	return !strcmp(status, "sent")        ? 1
	       : !strcmp(status, "delivered") ? 2
	       : !strcmp(status, "read")      ? 3
	                                      : 0;
}

static int apply_failed(struct db *db, const struct config *cfg, const char *source,
                        const struct wa_status *s, PGresult *row)
{
	const char *id = PQgetvalue(row, 0, 0), *cur = PQgetvalue(row, 0, 1);
	int as_template = strcmp(PQgetvalue(row, 0, 2), "t") == 0;
	int attempts = (int)strtol(PQgetvalue(row, 0, 3), NULL, 10);
	if (rank(cur) >= 2) /* delivered or read already: a late failure changes nothing */
		return 0;
	enum send_outcome o = strcmp(source, "twilio") == 0
	                          ? provider_twilio_code_outcome(s->error_code)
	                          : provider_meta_code_outcome(s->error_code);
	char code[24], delay[32];
	snprintf(code, sizeof(code), "%d", s->error_code);
	snprintf(delay, sizeof(delay), "%.3f", outbox_backoff(cfg, attempts, random_unit()));
	char *why =
	    xasprintf("%s%s%s", s->error_title ? s->error_title : "failed",
	              s->error_details ? ": " : "", s->error_details ? s->error_details : "");
	const char *p[4] = {id, code, why, delay};
	const char *sql;
	if (o == SEND_AS_TEMPLATE && !as_template) /* outside the window: the same, as a template */
		sql = "UPDATE whatsapp_logs SET status = 'queued', as_template = true,"
		      " next_attempt_at = now(), last_error_code = $2, last_error = $3"
		      " WHERE id = $1::bigint";
	else if (o == SEND_RETRY || o == SEND_RETRY_RECIPIENT)
		sql = "UPDATE whatsapp_logs SET status = 'queued',"
		      " next_attempt_at = now() + make_interval(secs => $4::float8),"
		      " last_error_code = $2, last_error = $3 WHERE id = $1::bigint";
	else
		sql = "UPDATE whatsapp_logs SET status = 'failed', failed_at = now(),"
		      " last_error_code = $2, last_error = $3 WHERE id = $1::bigint";
	int r = db_exec(db, sql, o == SEND_RETRY || o == SEND_RETRY_RECIPIENT ? 4 : 3, p);
	if (r == 0 && o == SEND_STOP_ALL)
		r = outbox_stop_all(db, why);
	log_info("status_failed", "message %s failed at the provider: %s (%s)", id, code,
	         send_outcome_name(o));
	free(why);
	return r;
}

/* 1 applied, 0 duplicate, -2 unknown message id (retried later), -1 error. */
static int apply_status(struct db *db, const struct config *cfg, const char *source,
                        const struct wa_status *s)
{
	if (!rank(s->status) && strcmp(s->status, "failed") != 0)
		return 0; /* queued, accepted, sending...: nothing to record */
	/* Seen already: one round trip, nothing else (Meta re-delivers for days). */
	char *key = xasprintf("st:%s:%s", s->id, s->status);
	const char *pk[1] = {key};
	PGresult *seen = db_query(db,
	                          "INSERT INTO webhook_seen (key) VALUES ($1)"
	                          " ON CONFLICT (key) DO NOTHING RETURNING 1",
	                          1, pk);
	free(key);
	if (!seen)
		return -1;
	int fresh = PQntuples(seen) == 1;
	PQclear(seen);
	if (!fresh)
		return 0;
	const char *pid[1] = {s->id};
	PGresult *row = db_query(db,
	                         "SELECT id, status, as_template, attempts FROM whatsapp_logs"
	                         " WHERE provider_message_id = $1 AND direction = 'outbound'"
	                         " ORDER BY id DESC LIMIT 1 FOR UPDATE",
	                         1, pid);
	if (!row)
		return -1;
	if (PQntuples(row) == 0) { /* the event is retried: its seen key goes with the rollback */
		PQclear(row);
		return -2;
	}
	int r = 0;
	if (fresh && strcmp(s->status, "failed") == 0) {
		r = apply_failed(db, cfg, source, s, row);
	} else if (fresh) {
		char ts[24], rk[4];
		snprintf(ts, sizeof(ts), "%lld",
		         s->timestamp > 0 ? s->timestamp : (long long)time(NULL));
		snprintf(rk, sizeof(rk), "%d", rank(s->status));
		const char *p[3] = {PQgetvalue(row, 0, 0), ts, rk};
		/* Forward only; each timestamp kept whatever order they come in. */
		r = db_exec(db,
		            "UPDATE whatsapp_logs SET"
		            " status = CASE WHEN $3::int > (CASE status WHEN 'sent' THEN 1"
		            "   WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END)"
		            "   AND status IN ('sent', 'delivered', 'read', 'sending', 'failed')"
		            "   THEN (ARRAY['sent', 'delivered', 'read'])[$3::int] ELSE status END,"
		            " failed_at = CASE WHEN status = 'failed' THEN NULL ELSE failed_at END,"
		            " sent_at = coalesce(sent_at, to_timestamp($2::float8)),"
		            " delivered_at = CASE WHEN $3::int = 2"
		            "   THEN coalesce(delivered_at, to_timestamp($2::float8))"
		            "   ELSE delivered_at END,"
		            " read_at = CASE WHEN $3::int = 3"
		            "   THEN coalesce(read_at, to_timestamp($2::float8)) ELSE read_at END"
		            " WHERE id = $1::bigint",
		            3, p);
	}
	PQclear(row);
	return r < 0 ? -1 : fresh;
}

/* ---- one event ---- */

static void record_failure(struct db *db, const char *id, int attempts, const char *why)
{
	db_rollback(db);
	char a[16], delay[24];
	int d = 30;
	for (int i = 1; i < attempts && d < 3600; i++)
		d *= 2;
	snprintf(a, sizeof(a), "%d", WEBHOOK_MAX_ATTEMPTS);
	snprintf(delay, sizeof(delay), "%d", d > 3600 ? 3600 : d);
	const char *p[4] = {id, why, a, delay};
	if (db_exec(db,
	            "UPDATE webhook_events SET attempts = attempts + 1, last_error = $2,"
	            " status = CASE WHEN attempts + 1 >= $3::int THEN 'failed' ELSE 'pending' END,"
	            " next_attempt_at = now() + make_interval(secs => $4::int)"
	            " WHERE id = $1::bigint",
	            4, p) < 0)
		log_warnx("webhook_record", "event %s: failure not recorded: %s", id, db->err);
}

/*
 * Apply one stored event inside the caller's transaction. NULL when done, or
 * why it could not be (caller frees; the transaction must be rolled back).
 */
static char *apply_event(struct db *db, const struct config *cfg, const char *id,
                         const char *source, const char *body, size_t len, struct webhook_stats *st)
{
	struct wa_batch b;
	char *err = NULL, *why = NULL;
	int r = strcmp(source, "twilio") == 0 ? twilio_batch(body, len, &b, &err)
	                                      : wa_batch_parse(body, len, &b, &err);
	st->events++;
	if (r < 0) {
		why = xasprintf("unreadable body: %s", err ? err : "?");
		free(err);
		return why;
	}
	for (size_t i = 0; !why && i < b.n_statuses; i++) {
		int a = apply_status(db, cfg, source, &b.statuses[i]);
		if (a == -2)
			why = xasprintf("status for unknown message %s (not recorded yet?)",
			                b.statuses[i].id);
		else if (a < 0)
			why = xasprintf("status: %s", db->err);
		else
			st->statuses += a;
	}
	for (size_t i = 0; !why && i < b.n_messages; i++)
		if (inbound_message(db, cfg, source, &b.messages[i], st) < 0)
			why = xasprintf("message: %s", db->err);
	if (b.n_errors)
		log_warnx("webhook_errors",
		          "event %s carries %zu account-level error(s), first %d %s", id,
		          b.n_errors, b.first_error_code,
		          b.first_error_title ? b.first_error_title : "");
	wa_batch_release(&b);
	free(err);
	return why;
}

int webhook_process(struct db *db, const struct config *cfg, long long event_id,
                    struct webhook_stats *st)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", event_id);
	if (db_begin(db) < 0)
		return -1;
	const char *p[1] = {id};
	PGresult *ev =
	    db_query(db,
	             "SELECT source, body, attempts FROM webhook_events"
	             " WHERE id = $1::bigint AND status = 'pending' FOR UPDATE SKIP LOCKED",
	             1, p);
	if (!ev) {
		db_rollback(db);
		return -1;
	}
	if (PQntuples(ev) == 0) { /* done already, or another process has it */
		PQclear(ev);
		db_rollback(db);
		return 0;
	}
	int attempts = (int)strtol(PQgetvalue(ev, 0, 2), NULL, 10) + 1;
	char *why = apply_event(db, cfg, id, PQgetvalue(ev, 0, 0), PQgetvalue(ev, 0, 1),
	                        (size_t)PQgetlength(ev, 0, 1), st);
	PQclear(ev);
	if (!why && db_exec(db,
	                    "UPDATE webhook_events SET status = 'done', processed_at = now(),"
	                    " attempts = attempts + 1, last_error = NULL WHERE id = $1::bigint",
	                    1, p) < 0)
		why = xasprintf("%s", db->err);
	if (!why && db_commit(db) < 0)
		why = xasprintf("commit: %s", db->err);
	if (why) {
		st->failed++;
		log_warnx("webhook_failed", "event %s (attempt %d): %s", id, attempts, why);
		record_failure(db, id, attempts, why);
		free(why);
		return -1;
	}
	return 0;
}

int webhook_process_due(struct db *db, const struct config *cfg, int max, struct webhook_stats *st)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", max);
	const char *p[1] = {lim};
	PGresult *r = db_query(db,
	                       "SELECT id FROM webhook_events WHERE status = 'pending'"
	                       " AND next_attempt_at <= now() ORDER BY id LIMIT $1::int",
	                       1, p);
	if (!r)
		return -1;
	int n = PQntuples(r);
	long long *ids = xcalloc((size_t)n + 1, sizeof(long long));
	for (int i = 0; i < n; i++)
		ids[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	PQclear(r);
	for (int i = 0; i < n; i++)
		webhook_process(db, cfg, ids[i], st);
	free(ids);
	return 0;
}
