#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/log.h"
#include "core/util.h"
#include "delivery/outbox.h"
#include "delivery/provider.h"
#include "delivery/submit.h"
#include "tenants/digest.h"
#include "tenants/dispatch.h"
#include "tenants/prefs.h"
#include "tenants/quiet.h"
#include "tenants/sellercmd.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define DISPATCH_PER_TENANT 200   /* new events of one tenant decided per transaction */
#define DISPATCH_BATCH 1000       /* new events decided per transaction, all tenants */
#define DISPATCH_DIGEST_ROWS 1000 /* held events collected per transaction */

const char *dispatch_priority(enum alert_urgency u)
{
	return u == ALERT_URGENT ? "critical" : u == ALERT_NORMAL ? "warning" : "info";
}

/* The tenant columns both queries select, from column c on. */
struct seller_row {
	const char *status, *number, *zone, *quiet_start, *quiet_end;
};

static void seller_row_read(PGresult *r, int i, int c, struct seller_row *s)
{
	s->status = db_value(r, i, c);
	s->number = db_value(r, i, c + 1);
	s->zone = db_value(r, i, c + 2);
	s->quiet_start = db_value(r, i, c + 3);
	s->quiet_end = db_value(r, i, c + 4);
}

#define SELLER_COLUMNS                                                                             \
	"t.status, CASE WHEN t.whatsapp_verified_at IS NOT NULL THEN t.whatsapp_number END,"       \
	" t.time_zone, to_char(t.quiet_start, 'HH24:MI'), to_char(t.quiet_end, 'HH24:MI')"

/* Whether the seller sent "stop", and whether the event's type (or all) is muted now. */
#define HELD_COLUMNS                                                                               \
	"t.alerts_stopped_at IS NOT NULL, EXISTS (SELECT 1 FROM seller_mutes m"                    \
	" WHERE m.tenant_id = e.tenant_id AND m.type IN (e.type, '*') AND m.until > now())"

/*
 * Why the seller's "stop" or "mute" (tenants/sellercmd.h) holds back an event of type t whose
 * HELD_COLUMNS are at column c of row i, or NULL. Never a locked type.
 */
static const char *seller_held(const struct alert_type *t, PGresult *r, int i, int c)
{
	if (t && pref_locked(t))
		return NULL;
	if (strcmp(PQgetvalue(r, i, c), "t") == 0)
		return "stopped";
	if (strcmp(PQgetvalue(r, i, c + 1), "t") == 0)
		return "muted";
	return NULL;
}

/* Why the seller cannot be sent to, or NULL when it can. */
static const char *seller_refusal(const struct seller_row *s)
{
	if (strcmp(s->status, "active") != 0)
		return "tenant_suspended";
	if (!s->number)
		return "no_verified_number";
	return NULL;
}

/* The WhatsApp text of an event from its stored data (a new string). */
static char *event_text(const struct alert_type *t, const char *data)
{
	struct json_object *o = json_tokener_parse(data);
	char *s = alert_text(t, o);
	json_object_put(o);
	return s;
}

/*
 * The type's own WhatsApp template of an event from its stored data, into *tpl (released by
 * the caller): a message of one event goes with it outside the 24-hour window when
 * SELLER_TEMPLATES is on (delivery/outbox.h).
 */
static void event_template(const struct alert_type *t, const char *data, struct alert_template *tpl)
{
	struct json_object *o = json_tokener_parse(data);
	alert_template_build(t, o, tpl);
	json_object_put(o);
}

/* An array literal "{1,2}" of ids, for $n::bigint[]. */
static void ids_literal(struct buf *b, const long long *ids, size_t n)
{
	buf_puts(b, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%lld", i ? "," : "", ids[i]);
	buf_puts(b, "}");
}

/* Record the message under key as the one that carried events ids. */
static int mark_sent(struct db *db, const long long *ids, size_t n, const char *key)
{
	struct buf b = BUF_INIT(32 * n + 16);
	ids_literal(&b, ids, n);
	const char *p[2] = {buf_str(&b), key};
	int rc = db_exec(db,
	                 "UPDATE events SET outcome = 'sent', dispatched_at = now(), message_id ="
	                 " (SELECT id FROM whatsapp_logs WHERE idempotency_key = $2)"
	                 " WHERE id = ANY($1::bigint[])",
	                 2, p);
	buf_release(&b);
	return rc;
}

/* Record an outcome other than sent (digest_at: 0 unless held for a digest). */
static int mark(struct db *db, long long id, const char *outcome, time_t digest_at)
{
	char sid[24], at[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(at, sizeof(at), "%lld", (long long)digest_at);
	const char *p[3] = {sid, outcome, digest_at ? at : NULL};
	return db_exec(db,
	               "UPDATE events SET outcome = $2, dispatched_at = now(),"
	               " digest_at = to_timestamp($3::bigint) WHERE id = $1",
	               3, p);
}

/*
 * The fallback chain (jobs/fallback.h) of a seller's message whose most urgent alert is of
 * urgency u and has channels c (the seller's preference, else the urgency's default: urgent
 * whatsapp,sms,email, normal whatsapp,email, low whatsapp): the steps after WhatsApp into *rest
 * (the caller frees; NULL: WhatsApp only, no chain), within FALLBACK_AFTER_SECONDS (urgent) or
 * FALLBACK_NORMAL_AFTER_SECONDS.
 */
static void seller_chain(const struct config *cfg, enum alert_urgency u, const struct chain *c,
                         struct outbox_msg *m, char **rest)
{
	*rest = NULL;
	if (c->n < 2)
		return;
	*rest = chain_pg_rest(c, 1);
	m->fallback_chain = *rest;
	m->fallback_after_s =
	    u == ALERT_URGENT ? cfg->fallback_after_s : cfg->fallback_normal_after_s;
}

/* Queue one message (in the open transaction): 0, or -1. */
static int queue(struct db *db, const struct config *cfg, struct outbox_msg *m)
{
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result res;
	delivery_batch_add(&b, m);
	int rc = delivery_submit(db, cfg, &b, &res);
	delivery_batch_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ new events */

/*
 * Fair across tenants: `tenants` finds each tenant with new events by a skip scan of
 * events_new_tenant_idx (migration 020), `ranked` takes the oldest DISPATCH_PER_TENANT of each
 * and numbers them, and the transaction decides the first DISPATCH_BATCH by that number: a
 * seller's flood of events waits behind its own, never in front of another seller's first.
 * Locked in the outer query (window functions and FOR UPDATE cannot share a SELECT).
 */
static const char new_sql[] =
    "WITH RECURSIVE tenants_new AS ("
    "  (SELECT tenant_id AS t FROM events WHERE outcome IS NULL ORDER BY tenant_id LIMIT 1)"
    "  UNION ALL"
    "  SELECT n.t FROM tenants_new w CROSS JOIN LATERAL"
    "   (SELECT tenant_id AS t FROM events WHERE outcome IS NULL AND tenant_id > w.t"
    "    ORDER BY tenant_id LIMIT 1) n),"
    " ranked AS ("
    "  SELECT x.id, row_number() OVER (PARTITION BY w.t ORDER BY x.id) AS rank"
    "  FROM tenants_new w CROSS JOIN LATERAL"
    "   (SELECT id FROM events WHERE outcome IS NULL AND tenant_id = w.t ORDER BY id"
    "    LIMIT " STR(
        DISPATCH_PER_TENANT) ") x)"
                             " SELECT e.id, e.type, e.data::text, e.tenant_id, p.enabled, "
                             "p.delivery, " SELLER_COLUMNS ", " HELD_COLUMNS
                             ", p.channels::text FROM events e JOIN tenants t ON t.id = e.tenant_id"
                             " LEFT JOIN alert_preferences p ON p.tenant_id = e.tenant_id AND "
                             "p.type = e.type"
                             " WHERE e.id IN (SELECT id FROM ranked ORDER BY rank, id LIMIT " STR(
                                 DISPATCH_BATCH) ")"
                                                 " AND e.outcome IS NULL ORDER BY e.id FOR UPDATE "
                                                 "OF e SKIP LOCKED";

/* An immediate alert decided, to be queued with the others of its seller (send_group). */
struct pending {
	long long id, tenant_id, not_before;
	const struct alert_type *t;
	struct chain channels; /* the seller's channels for its type (prefs.h) */
	int row;               /* its row of the query: the data and the seller's number */
	int done;              /* queued */
};

/*
 * Decide event i of r: hold it or say why not (0), or, to be sent now, 1 and *p (queued
 * by send_group with the others of its seller). -1 on failure.
 */
static int decide(struct db *db, time_t now, PGresult *r, int i, struct dispatch_stats *st,
                  struct pending *p)
{
	long long id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	const struct alert_type *t = alert_type_find(PQgetvalue(r, i, 1));
	struct seller_row s;
	struct alert_pref pref;
	seller_row_read(r, i, 6, &s);
	if (!t) { /* the ingest checks the type: a type since removed from the table */
		log_warnx("event_type_unknown", "event %lld: type %s is no alert type: not sent",
		          id, PQgetvalue(r, i, 1));
		st->not_sent++;
		return mark(db, id, "disabled", 0);
	}
	pref_effective(t, db_value(r, i, 4), db_value(r, i, 5), &pref);
	pref_set_channels(&pref, db_value(r, i, 13));
	const char *why = seller_refusal(&s);
	if (!why && !pref.enabled)
		why = "disabled";
	if (!why)
		why = seller_held(t, r, i, 11);
	if (why) {
		st->not_sent++;
		return mark(db, id, why, 0);
	}
	if (pref.delivery != PREF_IMMEDIATE) {
		st->held++;
		return mark(
		    db, id, "digest",
		    digest_slot_end(
		        s.zone, pref.delivery == PREF_DAILY ? DIGEST_DAILY : DIGEST_HOURLY, now));
	}
	p->id = id;
	p->tenant_id = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	p->t = t;
	p->channels = pref.channels;
	p->row = i;
	p->not_before = t->urgency == ALERT_URGENT
	                    ? 0
	                    : (long long)quiet_until(s.zone, s.quiet_start, s.quiet_end, now);
	return 1;
}

/*
 * Queue v[first] and every pending alert after it for the same seller and the same time
 * (not_before) as one message: one alert its own text and its type's template (key
 * "event:<id>"), several a list as a digest reads (key "events:<first id>"; the generic
 * template), the priority of the most urgent. 0, or -1.
 */
static int send_group(struct db *db, const struct config *cfg, PGresult *r, struct pending *v,
                      size_t n, size_t first, struct dispatch_stats *st)
{
	size_t k = 0, shown = 0;
	long long *ids = xcalloc(n, sizeof(*ids));
	char **lines = xcalloc(n, sizeof(*lines));
	enum alert_urgency most = ALERT_LOW;
	const struct chain *chain = &v[first].channels;
	const struct alert_type *one = v[first].t; /* the group's one type, or NULL */
	for (size_t j = first; j < n; j++) {
		if (v[j].done || v[j].tenant_id != v[first].tenant_id ||
		    v[j].not_before != v[first].not_before)
			continue;
		v[j].done = 1;
		ids[k] = v[j].id;
		lines[k++] = event_text(v[j].t, PQgetvalue(r, v[j].row, 2));
		if (v[j].t->urgency < most || j == first) {
			most = v[j].t->urgency;
			chain = &v[j].channels;
		}
		if (v[j].t != one)
			one = NULL;
	}
	/* "Mute this type" under an alert of one type the seller may mute (sellercmd.h). */
	char *button =
	    one && !pref_locked(one) ? xasprintf("%s%s", SELLER_MUTE_BUTTON, one->name) : NULL;
	char key[40];
	snprintf(key, sizeof(key), k == 1 ? "event:%lld" : "events:%lld", ids[0]);
	char *text = k == 1
	                 ? xstrdup(lines[0])
	                 : digest_text((const char *const *)lines, k, OUTBOX_MAX_CONTENT, &shown);
	struct alert_template tpl = {0};
	if (k == 1)
		event_template(v[first].t, PQgetvalue(r, v[first].row, 2), &tpl);
	struct outbox_msg m = {
	    .phone = db_value(r, v[first].row, 7),
	    .content = text,
	    .priority = dispatch_priority(most),
	    .kind = "seller_alert",
	    .key = key,
	    .tenant_id = v[first].tenant_id,
	    .not_before = v[first].not_before,
	    .reply_id = button,
	    .reply_title = button ? SELLER_MUTE_BUTTON_TITLE : NULL,
	    .template_name = tpl.name,
	    .template_params = (const char *const *)tpl.params,
	    .n_template_params = tpl.n,
	};
	char *rest;
	seller_chain(cfg, most, chain, &m, &rest);
	int rc = queue(db, cfg, &m);
	free(rest);
	if (rc == 0)
		rc = mark_sent(db, ids, k, key);
	if (rc == 0) {
		st->sent += (int)k;
		st->messages++;
	}
	for (size_t j = 0; j < k; j++)
		free(lines[j]);
	free(lines);
	free(ids);
	free(text);
	free(button);
	alert_template_release(&tpl);
	return rc;
}

/* One transaction of new events: how many were decided, or -1. */
static int dispatch_new(struct db *db, const struct config *cfg, time_t now,
                        struct dispatch_stats *st)
{
	if (db_begin(db) < 0)
		return -1;
	PGresult *r = db_query(db, new_sql, 0, NULL);
	int n = r ? PQntuples(r) : -1;
	struct pending *v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	size_t np = 0;
	for (int i = 0; i < n; i++) {
		int rc = decide(db, now, r, i, st, &v[np]);
		if (rc < 0) {
			n = -1;
			break;
		}
		np += rc == 1;
	}
	for (size_t i = 0; n >= 0 && i < np; i++)
		if (!v[i].done && send_group(db, cfg, r, v, np, i, st) < 0)
			n = -1;
	free(v);
	PQclear(r);
	if (n < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return n;
}

/* ------------------------------------------------------------------ digests */

static const char digest_sql[] =
    "SELECT e.id, e.type, e.data::text, e.tenant_id, " SELLER_COLUMNS ", " HELD_COLUMNS
    ", p.enabled, p.delivery FROM events e JOIN tenants t ON t.id = e.tenant_id"
    " LEFT JOIN alert_preferences p ON p.tenant_id = e.tenant_id AND p.type = e.type"
    " WHERE e.outcome = 'digest' AND e.digest_at <= to_timestamp($1::bigint)"
    " ORDER BY e.tenant_id, e.id LIMIT " STR(DISPATCH_DIGEST_ROWS) " FOR UPDATE OF e SKIP LOCKED";

/* The digest of rows from..to-1 of r (one tenant's). 0, or -1. */
static int digest_one(struct db *db, const struct config *cfg, time_t now, PGresult *r, int from,
                      int to, struct dispatch_stats *st)
{
	size_t n = (size_t)(to - from), shown = 0;
	long long *ids = xcalloc(n, sizeof(*ids));
	char **lines = xcalloc(n, sizeof(*lines));
	int urgent = 0, rc = -1;
	char *text = NULL;
	struct seller_row s;
	seller_row_read(r, from, 4, &s);
	size_t kept = 0;
	for (int i = from; i < to; i++) {
		const struct alert_type *t = alert_type_find(PQgetvalue(r, i, 1));
		long long id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		const char *held = seller_held(t, r, i, 9);
		struct alert_pref pref;
		if (t && !held) { /* switched off since it was held: not sent either */
			pref_effective(t, db_value(r, i, 11), db_value(r, i, 12), &pref);
			if (!pref.enabled)
				held = "disabled";
		}
		if (held) { /* muted, stopped or switched off since held: not in the digest */
			if (mark(db, id, held, 0) < 0)
				goto out;
			st->not_sent++;
			continue;
		}
		ids[kept] = id;
		lines[kept++] =
		    t ? event_text(t, PQgetvalue(r, i, 2)) : xstrdup(PQgetvalue(r, i, 1));
		urgent |= t && t->urgency == ALERT_URGENT;
	}
	n = kept;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	const char *why = seller_refusal(&s);
	if (why) {
		rc = 0;
		for (size_t k = 0; k < n && rc == 0; k++)
			rc = mark(db, ids[k], why, 0);
		st->not_sent += (int)n;
		goto out;
	}
	char key[40];
	snprintf(key, sizeof(key), "digest:%lld", ids[0]);
	text = digest_text((const char *const *)lines, n, OUTBOX_MAX_CONTENT, &shown);
	struct outbox_msg m = {
	    .phone = s.number,
	    .content = text,
	    .priority = urgent ? "critical" : "info",
	    .kind = "seller_digest",
	    .key = key,
	    .tenant_id = strtoll(PQgetvalue(r, from, 3), NULL, 10),
	    .not_before =
	        urgent ? 0 : (long long)quiet_until(s.zone, s.quiet_start, s.quiet_end, now),
	};
	/* A digest is news, not an emergency: only its urgent events' chain applies. */
	char *rest;
	struct chain dc;
	if (urgent)
		chain_urgent(&dc);
	else
		chain_whatsapp_only(&dc);
	seller_chain(cfg, urgent ? ALERT_URGENT : ALERT_LOW, &dc, &m, &rest);
	rc = queue(db, cfg, &m);
	free(rest);
	if (rc == 0)
		rc = mark_sent(db, ids, n, key);
	if (rc == 0) {
		st->digests++;
		st->digest_events += (int)n;
	}
out:
	for (size_t k = 0; k < n; k++)
		free(lines[k]);
	free(lines);
	free(ids);
	free(text);
	return rc;
}

/* One transaction of due digests: how many held events it took, or -1. */
static int dispatch_digests(struct db *db, const struct config *cfg, time_t now,
                            struct dispatch_stats *st)
{
	char at[24];
	snprintf(at, sizeof(at), "%lld", (long long)now);
	const char *p[1] = {at};
	if (db_begin(db) < 0)
		return -1;
	PGresult *r = db_query(db, digest_sql, 1, p);
	int n = r ? PQntuples(r) : -1;
	for (int from = 0, to; from < n; from = to) {
		for (to = from + 1; to < n; to++)
			if (strcmp(PQgetvalue(r, to, 3), PQgetvalue(r, from, 3)) != 0)
				break;
		if (digest_one(db, cfg, now, r, from, to, st) < 0) {
			n = -1;
			break;
		}
	}
	PQclear(r);
	if (n < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return n;
}

/*
 * Send what the last transaction queued, without waiting for a recipient's pacing slot (the
 * tick's drain step waits after dispatch is done). 0 / -1.
 */
static int send_now(struct db *db, const struct config *cfg, struct dispatch_stats *st)
{
	struct drain_stats ds;
	if (outbox_drain(db, cfg, provider_for(cfg), 0, 0, &ds) < 0)
		return -1;
	st->drained += ds.sent;
	st->merged += ds.merged;
	return 0;
}

int dispatch_run(struct db *db, const struct config *cfg, time_t now, int flags,
                 struct dispatch_stats *st)
{
	int n;
	memset(st, 0, sizeof(*st));
	do {
		int before = st->messages;
		n = dispatch_new(db, cfg, now, st);
		if (n > 0 && (flags & DISPATCH_SEND) && st->messages > before &&
		    send_now(db, cfg, st) < 0)
			n = -1;
	} while (n > 0);
	if (n < 0)
		return -1;
	do
		n = dispatch_digests(db, cfg, now, st);
	while (n == DISPATCH_DIGEST_ROWS);
	if (n < 0)
		return -1;
	if (st->sent || st->held || st->not_sent || st->digests)
		log_info("events_dispatched",
		         "%d alert(s) queued in %d message(s), %d held for a digest, %d not sent,"
		         " %d digest(s) of %d event(s)",
		         st->sent, st->messages, st->held, st->not_sent, st->digests,
		         st->digest_events);
	return 0;
}
