#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backoff.h"
#include "core/buf.h"
#include "app/form.h"
#include "webhook/inbound.h"
#include "core/log.h"
#include "delivery/outbox.h"
#include "delivery/provider.h"
#include "core/util.h"
#include "webhook/waevent.h"
#include "webhook/webhook.h"

/* The text[] literals of n events' sources and bodies. 0 / -1. */
static int events_arrays(size_t n, const char *const *sources, const char *const *bodies,
                         const size_t *lens, struct buf *src, struct buf *body)
{
	for (size_t i = 0; i < n; i++)
		if (db_array_push(src, sources[i], strlen(sources[i])) < 0 ||
		    db_array_push(body, bodies[i] ? bodies[i] : "", bodies[i] ? lens[i] : 0) < 0)
			return -1;
	return db_array_end(src) < 0 || db_array_end(body) < 0 ? -1 : 0;
}

/* One INSERT of n events, as status ("pending", or "done": processed in this transaction). */
static int insert_events(struct db *db, size_t n, const char *const *sources,
                         const char *const *bodies, const size_t *lens, const char *status)
{
	struct buf src = BUF_INIT(SIZE_MAX / 4), body = BUF_INIT(SIZE_MAX / 4);
	int r = -1;
	if (events_arrays(n, sources, bodies, lens, &src, &body) == 0) {
		const char *p[3] = {buf_str(&src), buf_str(&body), status};
		r = db_exec(
		    db,
		    "INSERT INTO webhook_events (source, body, status, processed_at, attempts)"
		    " SELECT s, b, $3, CASE WHEN $3 = 'done' THEN now() END,"
		    "   CASE WHEN $3 = 'done' THEN 1 ELSE 0 END"
		    " FROM unnest($1::text[], $2::text[]) AS u(s, b)",
		    3, p);
	}
	buf_release(&src);
	buf_release(&body);
	return r;
}

int webhook_store_many(struct db *db, size_t n, const char *const *sources,
                       const char *const *bodies, const size_t *lens)
{
	return insert_events(db, n, sources, bodies, lens, "pending");
}

/* ---- Twilio: a form body as the same batch a Meta body gives ---- */

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/*
 * A free text held to waevent.h's limits for the same field of a Meta body:
 * cut to at most max bytes at a UTF-8 boundary (form_parse() gave valid
 * UTF-8), NULL when absent or empty.
 */
static char *text_or_null(const char *s, size_t max)
{
	if (!s || !*s)
		return NULL;
	size_t n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/* A value that must not be cut (an id, a payload): NULL when longer than max. */
static char *whole_or_null(const char *s, size_t max)
{
	return s && strlen(s) <= max ? dup_or_null(s) : NULL;
}

/* ErrorCode as Meta's codes are read: a positive decimal int, else 0 (none). */
static int twilio_error_code(const char *s)
{
	long long c = 0;
	if (!s || parse_int(s, 1, INT_MAX, &c, NULL) < 0)
		return 0;
	return (int)c;
}

/* The digits of "whatsapp:+15551234567" (inside addr), or NULL when it is not such a number. */
static const char *twilio_number(const char *addr)
{
	if (!addr)
		return NULL;
	if (strncmp(addr, "whatsapp:", 9) == 0)
		addr += 9;
	if (*addr == '+')
		addr++;
	return wa_number_valid(addr) ? addr : NULL;
}

static char *twilio_digits(const char *addr)
{
	const char *d = twilio_number(addr);
	return d ? xstrdup(d) : NULL;
}

static int twilio_batch(const char *body, size_t len, struct wa_batch *b, char **err)
{
	struct form f = {0};
	memset(b, 0, sizeof(*b));
	if (form_parse(body, len, &f, err) < 0)
		return -1;
	const char *sid = form_get(&f, "MessageSid");
	const char *status = form_get(&f, "MessageStatus");
	const char *number = form_get(&f, status ? "To" : "From");
	/* An empty MessageStatus is malformed, as an empty Meta status is. */
	if (!sid || !*sid || strlen(sid) > WA_ID_MAX || (status && !*status)) {
		b->n_skipped = 1;
	} else if (number && *number && !twilio_number(number)) {
		b->n_bad_numbers = 1; /* never stored as a phone number */
	} else if (status) {
		/* A status callback. Twilio's undelivered is a failure too. */
		const char *s = strcmp(status, "undelivered") == 0 ? "failed" : status;
		struct wa_status *st = xcalloc(1, sizeof(*st));
		st->id = xstrdup(sid);
		st->status = text_or_null(s, WA_SHORT_MAX);
		st->timestamp = (long long)time(NULL);
		st->recipient_id = twilio_digits(form_get(&f, "To"));
		st->error_code = twilio_error_code(form_get(&f, "ErrorCode"));
		st->error_details = text_or_null(form_get(&f, "ErrorMessage"), WA_TEXT_MAX);
		b->statuses = st;
		b->n_statuses = 1;
	} else {
		struct wa_message *m = xcalloc(1, sizeof(*m));
		m->id = xstrdup(sid);
		m->from = twilio_digits(form_get(&f, "From"));
		m->sms = m->from && strncmp(form_get(&f, "From"), "whatsapp:", 9) != 0;
		m->wa_id = twilio_digits(form_get(&f, "WaId"));
		if (!m->wa_id && m->from)
			m->wa_id = xstrdup(m->from);
		m->profile_name = text_or_null(form_get(&f, "ProfileName"), WA_SHORT_MAX);
		m->timestamp = 0; /* Twilio sends none: the arrival time stands for it */
		m->type = xstrdup(form_get(&f, "ButtonPayload") ? "button" : "text");
		m->text = text_or_null(form_get(&f, "Body"), WA_TEXT_MAX);
		m->button_payload = whole_or_null(form_get(&f, "ButtonPayload"), WA_PAYLOAD_MAX);
		m->context_id = whole_or_null(form_get(&f, "OriginalRepliedMessageSid"), WA_ID_MAX);
		b->messages = m;
		b->n_messages = 1;
	}
	form_release(&f);
	return 0;
}

int webhook_parse(const char *source, const char *body, size_t len, struct wa_batch *b, char **err)
{
	return strcmp(source, "twilio") == 0 ? twilio_batch(body, len, b, err)
	                                     : wa_batch_parse(body, len, b, err);
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
	long long account = strtoll(PQgetvalue(row, 0, 4), NULL, 10);
	/* An SMS is Twilio's too, its codes read from the SMS table (30003 unreachable...). */
	int sms = strcmp(PQgetvalue(row, 0, 5), channel_name(CHANNEL_SMS)) == 0;
	const struct provider *prov = strcmp(source, "twilio") != 0 ? &provider_meta
	                              : sms                         ? &provider_twilio_sms
	                                                            : &provider_twilio;
	enum send_outcome o = prov->code_outcome(s->error_code);
	char code[24], delay[32];
	snprintf(code, sizeof(code), "%d", s->error_code);
	/* An SMS waits its own retries (SMS_RETRY_*), a WhatsApp message WhatsApp's. */
	snprintf(delay, sizeof(delay), "%.3f",
	         sms ? backoff_delay((double)cfg->sms_retry_base_s, (double)cfg->sms_retry_max_s,
	                             attempts, 0.2, random_unit())
	             : outbox_backoff(cfg, attempts, random_unit()));
	char *why =
	    xasprintf("%s%s%s", s->error_title ? s->error_title : "failed",
	              s->error_details ? ": " : "", s->error_details ? s->error_details : "");
	const char *p[4] = {id, code, why, delay};
	const char *sql;
	/* Outside the window: the same, as a template; with no template, failed with the code. */
	if (o == SEND_AS_TEMPLATE && !as_template && prov->has_template(cfg))
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
		r = outbox_stop_all(db, account, why);
	log_info("status_failed", "message %s failed at the provider: %s (%s)", id, code,
	         send_outcome_name(o));
	free(why);
	return r;
}

static int recordable(const char *status)
{
	return rank(status) || strcmp(status, "failed") == 0; /* not queued, accepted, sending... */
}

/* 1 applied, -2 unknown message id (the event is retried later), -1 error. */
static int apply_fresh_status(struct db *db, const struct config *cfg, const char *source,
                              const struct wa_status *s)
{
	const char *pid[1] = {s->id};
	if (strcmp(s->status, "failed") == 0) {
		PGresult *row =
		    db_query(db,
		             "SELECT id, status, as_template, attempts, account_id, channel FROM "
		             "whatsapp_logs"
		             " WHERE provider_message_id = $1 AND direction = 'outbound'"
		             " ORDER BY id DESC LIMIT 1 FOR UPDATE",
		             1, pid);
		if (!row)
			return -1;
		int r = PQntuples(row) == 0 ? -2 : apply_failed(db, cfg, source, s, row);
		PQclear(row);
		return r < 0 ? r : 1;
	}
	char ts[24], rk[4];
	snprintf(ts, sizeof(ts), "%lld", s->timestamp > 0 ? s->timestamp : (long long)time(NULL));
	snprintf(rk, sizeof(rk), "%d", rank(s->status));
	const char *p[3] = {s->id, ts, rk};
	/* Forward only; each timestamp kept whatever order they come in. One round trip. */
	PGresult *r =
	    db_query(db,
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
	             " WHERE id = (SELECT id FROM whatsapp_logs WHERE provider_message_id = $1"
	             "   AND direction = 'outbound' ORDER BY id DESC LIMIT 1)"
	             " RETURNING id",
	             3, p);
	if (!r)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n ? 1 : -2;
}

/* ---- events ---- */

/*
 * Whether an item of source, for Meta's phone_number_id pnid, is ours: with
 * META_PHONE_NUMBER_ID set, a Meta item must name that number (one app may
 * serve several numbers, and their events come to the same URL). Twilio's
 * items have no such id.
 */
static int for_us(const struct config *cfg, const char *source, const char *pnid)
{
	if (strcmp(source, "meta") != 0 || !*cfg->meta_phone_number_id)
		return 1;
	return pnid && strcmp(pnid, cfg->meta_phone_number_id) == 0;
}

/* Count and log what of event id is ignored: items for another number, numbers that are not. */
static void note_ignored(const struct config *cfg, const char *id, const char *source,
                         const struct wa_batch *b, struct webhook_stats *st)
{
	size_t other = 0;
	const char *pnid = NULL;
	for (size_t j = 0; j < b->n_statuses; j++)
		if (!for_us(cfg, source, b->statuses[j].phone_number_id)) {
			other++;
			pnid = b->statuses[j].phone_number_id;
		}
	for (size_t j = 0; j < b->n_messages; j++)
		if (!for_us(cfg, source, b->messages[j].phone_number_id)) {
			other++;
			pnid = b->messages[j].phone_number_id;
		}
	if (other)
		log_warnx("webhook_other_number",
		          "event %s: %zu item(s) for phone_number_id %s, not ours"
		          " (META_PHONE_NUMBER_ID): ignored",
		          id, other, pnid ? pnid : "(none)");
	if (b->n_bad_numbers)
		log_warnx("webhook_bad_number",
		          "event %s: %zu item(s) whose from or recipient is not 1 to %d ASCII"
		          " digits: ignored",
		          id, b->n_bad_numbers, WA_NUMBER_MAX);
	st->ignored += (int)(other + b->n_bad_numbers);
}

/*
 * Record that event id failed processing: pending again after a backoff (30 s
 * doubling, capped 1 h), or failed after WEBHOOK_MAX_ATTEMPTS. retry_in_s >= 0:
 * try again after that long at the latest (when the grace of a status for a
 * message not recorded yet ends).
 */
static void record_failure(struct db *db, const char *id, int attempts, const char *why,
                           double retry_in_s)
{
	db_rollback(db);
	char a[16], delay[24];
	/* No jitter: a failed event is one row, retried by whichever tick comes first. */
	int d = (int)backoff_delay(WEBHOOK_RETRY_BASE_S, WEBHOOK_RETRY_MAX_S, attempts, 0, 0);
	if (retry_in_s >= 0 && retry_in_s < d)
		d = (int)retry_in_s + 1;
	snprintf(a, sizeof(a), "%d", WEBHOOK_MAX_ATTEMPTS);
	snprintf(delay, sizeof(delay), "%d", d);
	const char *p[4] = {id, why, a, delay};
	if (db_exec(db,
	            "UPDATE webhook_events SET attempts = attempts + 1, last_error = $2,"
	            " status = CASE WHEN attempts + 1 >= $3::int THEN 'failed' ELSE 'pending' END,"
	            " next_attempt_at = now() + make_interval(secs => $4::int)"
	            " WHERE id = $1::bigint",
	            4, p) < 0)
		log_warnx("webhook_record", "event %s: failure not recorded: %s", id, db->err);
}

/* The columns process_claimed() reads, in its order: one list for both claiming queries. */
#define CLAIMED_COLUMNS                                                                            \
	"id, source, body, attempts, extract(epoch FROM received_at)::bigint,"                     \
	" extract(epoch FROM now() - received_at)"

struct claimed {
	const char *id, *source; /* in the claiming result; id "(new)" when not stored yet */
	long long arrived;       /* when the webhook received it (Unix seconds) */
	double age_s;            /* seconds since the event was received */
	struct wa_batch b;
};

/*
 * Keep a status for a message id none of our rows carries, past the grace, as
 * ignored: another system sends from the same account. 0 / -1.
 */
static int ignore_status(struct db *db, const struct config *cfg, const struct claimed *ev,
                         const struct wa_status *s)
{
	char code[24];
	snprintf(code, sizeof(code), "%d", s->error_code);
	char *reason = xasprintf("no message of ours carries this id %lld s after it came"
	                         " (WEBHOOK_STATUS_GRACE_SECONDS): another system's message",
	                         (long long)ev->age_s);
	const char *p[7] = {strcmp(ev->id, "(new)") ? ev->id : NULL,
	                    ev->source,
	                    s->id,
	                    s->status,
	                    s->recipient_id,
	                    s->error_code ? code : NULL,
	                    reason};
	int r =
	    db_exec(db,
	            "INSERT INTO webhook_ignored (event_id, source, provider_message_id, status,"
	            " recipient_id, error_code, reason)"
	            " VALUES ($1::bigint, $2, $3, $4, $5, $6::int, $7)",
	            7, p);
	if (r == 0)
		log_info("status_ignored",
		         "status %s for message %s (to %s) ignored: not ours after %lld s",
		         s->status, s->id, s->recipient_id ? s->recipient_id : "?",
		         (long long)cfg->webhook_status_grace_s);
	free(reason);
	return r;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The status's seen key when it was new in this transaction and not taken yet; then taken. */
static int take_fresh(char **fresh, unsigned char *taken, size_t n, const char *key)
{
	char **hit = bsearch(&key, fresh, n, sizeof(*fresh), key_cmp);
	if (!hit || taken[hit - fresh])
		return 0;
	taken[hit - fresh] = 1;
	return 1;
}

/* Events to store as done by the statement that records the seen keys (one round trip less). */
struct store_done {
	size_t n;
	const char *const *sources, *const *bodies;
	const size_t *lens;
};

static void stats_add(struct webhook_stats *to, const struct webhook_stats *from)
{
	to->events += from->events;
	to->failed += from->failed;
	to->statuses += from->statuses;
	to->messages += from->messages;
	to->commands += from->commands;
	to->replies += from->replies;
	to->ignored += from->ignored;
	to->stale += from->stale;
}

/*
 * The seen keys of a batch of events: every recordable status's key ("st:<id>:<status>", in
 * the order the statuses are applied), and which of them were new (fresh, sorted; each taken
 * once as its status is applied).
 */
struct seen {
	char **all;
	size_t n, next;
	char **fresh;
	unsigned char *taken;
	size_t nfresh;
};

static void seen_release(struct seen *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->all[i]);
	free(k->all);
	for (size_t i = 0; i < k->nfresh; i++)
		free(k->fresh[i]);
	free(k->fresh);
	free(k->taken);
}

/* Is s a status of ours that is recorded (and so has a seen key)? */
static int status_counts(const struct config *cfg, const struct claimed *ev,
                         const struct wa_status *s)
{
	return recordable(s->status) && for_us(cfg, ev->source, s->phone_number_id);
}

/* Every recordable status's seen key into k->all, in the order they are applied. */
static void seen_collect(const struct config *cfg, const struct claimed *ev, size_t n,
                         struct seen *k)
{
	size_t cap = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ev[i].b.n_statuses; j++) {
			const struct wa_status *s = &ev[i].b.statuses[j];
			if (!status_counts(cfg, &ev[i], s))
				continue;
			if (k->n == cap) {
				cap = cap ? cap * 2 : 16;
				k->all = xrealloc(k->all, cap * sizeof(*k->all));
			}
			k->all[k->n++] = xasprintf("st:%s:%s", s->id, s->status);
		}
}

/*
 * Record k's keys in webhook_seen in one statement (with *sd's events stored as done by the
 * same statement; *sd is then NULL), and keep the new ones in k->fresh. NULL, or why not.
 */
static char *seen_record(struct db *db, struct seen *k, const struct store_done **sd)
{
	if (!k->n)
		return NULL;
	struct buf keys = BUF_INIT(SIZE_MAX / 4);
	struct buf src = BUF_INIT(SIZE_MAX / 4), body = BUF_INIT(SIZE_MAX / 4);
	/* In one order for every batch: two batches never wait on each other's keys crosswise. */
	char **sorted = xcalloc(k->n, sizeof(*sorted));
	memcpy(sorted, k->all, k->n * sizeof(*sorted));
	qsort(sorted, k->n, sizeof(*sorted), key_cmp);
	for (size_t i = 0; i < k->n; i++)
		db_array_push(&keys, sorted[i], strlen(sorted[i]));
	free(sorted);
	db_array_end(&keys);
	const char *p[3] = {buf_str(&keys), NULL, NULL};
	PGresult *r = NULL;
	if (!*sd) {
		r = db_query(db,
		             "INSERT INTO webhook_seen (key) SELECT unnest($1::text[])"
		             " ON CONFLICT (key) DO NOTHING RETURNING key",
		             1, p);
	} else if (events_arrays((*sd)->n, (*sd)->sources, (*sd)->bodies, (*sd)->lens, &src,
	                         &body) == 0) {
		p[1] = buf_str(&src);
		p[2] = buf_str(&body);
		r = db_query(db,
		             "WITH stored AS (INSERT INTO webhook_events"
		             "   (source, body, status, processed_at, attempts)"
		             "   SELECT s, b, 'done', now(), 1"
		             "   FROM unnest($2::text[], $3::text[]) AS u(s, b))"
		             " INSERT INTO webhook_seen (key) SELECT unnest($1::text[])"
		             " ON CONFLICT (key) DO NOTHING RETURNING key",
		             3, p);
		*sd = NULL; /* stored */
	}
	buf_release(&src);
	buf_release(&body);
	buf_release(&keys);
	if (!r)
		return xasprintf("seen keys: %s", db->err);
	k->nfresh = (size_t)PQntuples(r);
	k->fresh = xcalloc(k->nfresh + 1, sizeof(*k->fresh));
	k->taken = xcalloc(k->nfresh + 1, 1);
	for (size_t i = 0; i < k->nfresh; i++)
		k->fresh[i] = xstrdup(PQgetvalue(r, (int)i, 0));
	PQclear(r);
	qsort(k->fresh, k->nfresh, sizeof(*k->fresh), key_cmp);
	return NULL;
}

/*
 * Apply ev's statuses whose seen key is fresh. One for a message id no row of ours carries
 * fails the event within the grace (*retry_in_s, when not NULL: how long until it ends) and
 * is kept as ignored after it. NULL, or why not.
 */
static char *apply_statuses(struct db *db, const struct config *cfg, const struct claimed *ev,
                            struct seen *k, struct webhook_stats *st, double *retry_in_s)
{
	const struct wa_batch *b = &ev->b;
	char *why = NULL;
	for (size_t j = 0; !why && k->nfresh && j < b->n_statuses; j++) {
		const struct wa_status *s = &b->statuses[j];
		if (!status_counts(cfg, ev, s))
			continue;
		int a = take_fresh(k->fresh, k->taken, k->nfresh, k->all[k->next++])
		            ? apply_fresh_status(db, cfg, ev->source, s)
		            : 0;
		double left = (double)cfg->webhook_status_grace_s - ev->age_s;
		if (a == -2 && left <= 0) {
			if (ignore_status(db, cfg, ev, s) < 0)
				why = xasprintf("event %s: ignored status: %s", ev->id, db->err);
			else
				st->ignored++;
		} else if (a == -2) {
			why = xasprintf("event %s: status for unknown message %s"
			                " (not recorded yet? ignored in %.0f s)",
			                ev->id, s->id, left);
			if (retry_in_s)
				*retry_in_s = left;
		} else if (a < 0)
			why = xasprintf("event %s: status: %s", ev->id, db->err);
		else
			st->statuses += a;
	}
	return why;
}

/*
 * Apply parsed events inside the caller's transaction: one statement records
 * every status's seen key (new ones come back), then each new status is
 * applied, then each message; sd, when set, is stored as done by the same
 * statement. A status for a message id no row of ours carries fails the
 * events while the event is younger than WEBHOOK_STATUS_GRACE_SECONDS (our
 * own send's id may not be recorded yet; *retry_in_s, when not NULL, says how
 * long until that grace ends), and is kept as ignored after it. NULL, or why
 * not (the caller rolls back).
 */
static char *apply_events(struct db *db, const struct config *cfg, struct claimed *ev, size_t n,
                          const struct store_done *sd, struct webhook_stats *st, double *retry_in_s)
{
	struct seen k = {0};
	seen_collect(cfg, ev, n, &k);
	char *why = seen_record(db, &k, &sd);
	for (size_t i = 0; !why && i < n; i++) {
		const struct wa_batch *b = &ev[i].b;
		note_ignored(cfg, ev[i].id, ev[i].source, b, st);
		why = apply_statuses(db, cfg, &ev[i], &k, st, retry_in_s);
		for (size_t j = 0; !why && j < b->n_messages; j++)
			if (for_us(cfg, ev[i].source, b->messages[j].phone_number_id) &&
			    inbound_message(db, cfg, ev[i].source, &b->messages[j], ev[i].arrived,
			                    st) < 0)
				why = xasprintf("event %s: message: %s", ev[i].id, db->err);
	}
	if (!why && sd && insert_events(db, sd->n, sd->sources, sd->bodies, sd->lens, "done") < 0)
		why = xasprintf("store: %s", db->err);
	seen_release(&k);
	return why;
}

/*
 * Process the events claimed in ev (rows of id, source, body, attempts,
 * received_at in Unix seconds, age in seconds) and commit. NULL, or why not
 * (the transaction is still open, to be rolled back; *retry_in_s as
 * apply_events()); st counts only what was committed.
 */
static char *process_claimed(struct db *db, const struct config *cfg, PGresult *ev,
                             struct webhook_stats *st, double *retry_in_s)
{
	size_t n = (size_t)PQntuples(ev);
	struct claimed *c = xcalloc(n + 1, sizeof(*c));
	struct webhook_stats ls = {0};
	struct buf ids = BUF_INIT(SIZE_MAX / 4);
	char *why = NULL;
	size_t parsed = 0;
	for (; !why && parsed < n; parsed++) {
		int row = (int)parsed;
		char *err = NULL;
		c[parsed].id = PQgetvalue(ev, row, 0);
		c[parsed].source = PQgetvalue(ev, row, 1);
		c[parsed].arrived = strtoll(PQgetvalue(ev, row, 4), NULL, 10);
		c[parsed].age_s = strtod(PQgetvalue(ev, row, 5), NULL);
		const char *body = PQgetvalue(ev, row, 2);
		size_t len = (size_t)PQgetlength(ev, row, 2);
		if (webhook_parse(c[parsed].source, body, len, &c[parsed].b, &err) < 0) {
			why = xasprintf("event %s: unreadable body: %s", c[parsed].id,
			                err ? err : "?");
			memset(&c[parsed].b, 0, sizeof(c[parsed].b));
		}
		free(err);
		db_array_push(&ids, c[parsed].id, strlen(c[parsed].id));
		ls.events++;
	}
	if (!why)
		why = apply_events(db, cfg, c, n, NULL, &ls, retry_in_s);
	if (!why) {
		db_array_end(&ids);
		const char *p[1] = {buf_str(&ids)};
		if (db_exec(
		        db,
		        "UPDATE webhook_events SET status = 'done', processed_at = now(),"
		        " attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])",
		        1, p) < 0)
			why = xasprintf("%s", db->err);
	}
	if (!why && db_commit(db) < 0)
		why = xasprintf("commit: %s", db->err);
	for (size_t i = 0; i < n; i++) {
		if (!why && c[i].b.n_errors)
			log_warnx("webhook_errors",
			          "event %s carries %zu account-level error(s), first %d %s",
			          c[i].id, c[i].b.n_errors, c[i].b.first_error_code,
			          c[i].b.first_error_title ? c[i].b.first_error_title : "");
		wa_batch_release(&c[i].b);
	}
	free(c);
	buf_release(&ids);
	if (!why)
		stats_add(st, &ls);
	return why;
}

int webhook_store_batch(struct db *db, const struct config *cfg, size_t n,
                        const char *const *sources, const char *const *bodies, const size_t *lens,
                        const struct wa_batch *const *batches, struct webhook_stats *st)
{
	struct claimed *c = xcalloc(n + 1, sizeof(*c));
	struct webhook_stats ls = {0};
	char *why = NULL;
	long long now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		c[i].id = "(new)";
		c[i].source = sources[i];
		c[i].arrived = now;   /* received just now: these are the requests in flight */
		c[i].b = *batches[i]; /* a shallow copy: the caller releases it */
		ls.events++;
	}
	struct store_done sd = {n, sources, bodies, lens};
	if (db_begin(db) < 0)
		why = xasprintf("%s", db->err);
	if (!why)
		why = apply_events(db, cfg, c, n, &sd, &ls, NULL);
	if (!why && db_commit(db) < 0)
		why = xasprintf("commit: %s", db->err);
	free(c);
	if (!why) {
		stats_add(st, &ls);
		return 1;
	}
	/*
	 * Not processed now (the lock busy, an event that cannot be applied yet, the
	 * database): stored as they came, for the processor. A commit whose answer
	 * was lost may have gone through: the events are then stored twice, and the
	 * second copy changes nothing (seen keys, inbound ids).
	 */
	db_rollback(db);
	log_info("webhook_deferred", "%zu event(s) stored for later processing: %s", n, why);
	free(why);
	return webhook_store_many(db, n, sources, bodies, lens) < 0 ? -1 : 0;
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
	             "SELECT " CLAIMED_COLUMNS " FROM webhook_events"
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
	int attempts = (int)strtol(PQgetvalue(ev, 0, 3), NULL, 10) + 1;
	double retry_in = -1;
	char *why = process_claimed(db, cfg, ev, st, &retry_in);
	PQclear(ev);
	if (why) {
		st->events++;
		st->failed++;
		log_warnx("webhook_failed", "event %s (attempt %d): %s", id, attempts, why);
		record_failure(db, id, attempts, why, retry_in);
		free(why);
		return -1;
	}
	return 0;
}

int webhook_process_batch(struct db *db, const struct config *cfg, int max,
                          struct webhook_stats *st)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", max);
	if (db_begin(db) < 0)
		return -1;
	PGresult *r =
	    db_query(db, "SELECT pg_try_advisory_xact_lock(" WEBHOOK_LOCK_KEY ")", 0, NULL);
	if (!r) {
		db_rollback(db);
		return -1;
	}
	int locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!locked) {
		db_rollback(db);
		return -2;
	}
	const char *p[1] = {lim};
	PGresult *ev = db_query(db,
	                        "SELECT " CLAIMED_COLUMNS " FROM webhook_events"
	                        " WHERE status = 'pending' AND next_attempt_at <= now()"
	                        " ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
	                        1, p);
	if (!ev) {
		db_rollback(db);
		return -1;
	}
	int n = PQntuples(ev);
	char *why = n ? process_claimed(db, cfg, ev, st, NULL) : NULL;
	if (!n)
		db_rollback(db);
	if (why) {
		/* One event spoils the batch: take them one at a time, each failure recorded. */
		db_rollback(db);
		log_info("webhook_batch_split", "a batch of %d events failed (%s): one by one", n,
		         why);
		free(why);
		long long *ids = xcalloc((size_t)n, sizeof(*ids));
		for (int i = 0; i < n; i++)
			ids[i] = strtoll(PQgetvalue(ev, i, 0), NULL, 10);
		PQclear(ev);
		ev = NULL;
		for (int i = 0; i < n; i++)
			webhook_process(db, cfg, ids[i], st);
		free(ids);
	}
	PQclear(ev);
	return n;
}

int webhook_process_due(struct db *db, const struct config *cfg, int max, struct webhook_stats *st)
{
	int done = 0;
	while (done < max) {
		int want = max - done < WEBHOOK_BATCH ? max - done : WEBHOOK_BATCH;
		int n = webhook_process_batch(db, cfg, want, st);
		if (n == -2) /* a webhook program is processing them now */
			return 0;
		if (n < 0)
			return -1;
		done += n;
		if (n < want)
			break;
	}
	return 0;
}
