#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/log.h"
#include "core/sms.h"
#include "core/util.h"
#include "delivery/account.h"
#include "delivery/outbox.h"
#include "delivery/provider.h"
#include "jobs/fallback.h"
#include "tenants/alerttype.h"

#define FALLBACK_BATCH 200 /* messages taken per transaction */

const char *fallback_reason_name(enum fallback_reason r)
{
	switch (r) {
	case FALLBACK_FAILED:
		return "failed";
	case FALLBACK_STOPPED:
		return "stopped";
	case FALLBACK_LATE:
		return "late";
	case FALLBACK_NONE:
		break;
	}
	return "none";
}

enum fallback_reason fallback_classify(const char *status, int account_stopped, int past_deadline,
                                       int receipts)
{
	if (!status || strcmp(status, "delivered") == 0 || strcmp(status, "read") == 0 ||
	    strcmp(status, "suppressed") == 0)
		return FALLBACK_NONE;
	if (strcmp(status, "failed") == 0)
		return FALLBACK_FAILED;
	int waiting = strcmp(status, "queued") == 0 || strcmp(status, "sending") == 0;
	if (waiting && account_stopped)
		return FALLBACK_STOPPED;
	/* Accepted by a provider that never says "delivered": no receipt is no news. */
	if (strcmp(status, "sent") == 0 && !receipts)
		return FALLBACK_NONE;
	if (past_deadline && (waiting || strcmp(status, "sent") == 0))
		return FALLBACK_LATE;
	return FALLBACK_NONE;
}

/* Whether the provider a message was sent with (whatsapp_logs.provider) sends receipts. */
static int provider_receipts(const char *name)
{
	static const struct provider *const all[] = {&provider_meta, &provider_twilio,
	                                             &provider_smtp, &provider_sandbox};
	if (!name)
		return 1; /* not sent yet: its receipt is what is waited for */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return (all[i]->caps & PROVIDER_RECEIPTS) != 0;
	return 1;
}

/* Whether this process can send on channel c (else its step would wait for ever). */
static int channel_configured(const struct config *cfg, enum channel c)
{
	switch (c) {
	case CHANNEL_SMS:
		return *cfg->twilio_sms_from || *cfg->twilio_messaging_service_sid;
	case CHANNEL_EMAIL:
		return *cfg->smtp_url != '\0';
	case CHANNEL_WHATSAPP:
		break;
	}
	return 1;
}

/* One message taken: the columns of due_sql. */
struct taken {
	const char *id, *status, *channel, *phone, *content, *priority, *kind, *alert_ids;
	const char *tenant, *chain, *provider;
	int late, stopped;
};

static const char due_sql[] =
    "SELECT w.id, w.status, w.channel, w.phone_number, w.message_content, w.priority, w.kind,"
    " w.alert_ids::text, w.tenant_id, array_to_string(w.fallback_chain, ','), w.provider,"
    " coalesce(w.fallback_at <= now(), false), coalesce(d.stopped, false)"
    " FROM whatsapp_logs w LEFT JOIN delivery_state d ON d.account_id = w.account_id"
    " WHERE w.fallback_chain IS NOT NULL AND w.fallback_state IS NULL"
    " AND w.status NOT IN ('delivered', 'read', 'suppressed')"
    " AND (w.status = 'failed' OR w.fallback_at <= now()"
    "   OR (d.stopped AND w.status IN ('queued', 'sending')))"
    " ORDER BY w.id LIMIT $1::int FOR UPDATE OF w SKIP LOCKED";

static void taken_read(PGresult *r, int i, struct taken *t)
{
	t->id = db_value(r, i, 0);
	t->status = db_value(r, i, 1);
	t->channel = db_value(r, i, 2);
	t->phone = db_value(r, i, 3);
	t->content = db_value(r, i, 4);
	t->priority = db_value(r, i, 5);
	t->kind = db_value(r, i, 6);
	t->alert_ids = db_value(r, i, 7);
	t->tenant = db_value(r, i, 8);
	t->chain = db_value(r, i, 9);
	t->provider = db_value(r, i, 10);
	t->late = strcmp(PQgetvalue(r, i, 11), "t") == 0;
	t->stopped = strcmp(PQgetvalue(r, i, 12), "t") == 0;
}

/*
 * The first message of t's chain (its WhatsApp message): its number, for an operator's
 * contact addresses. Into out (PHONE_MAX + more); 0, or -1 (db->err).
 */
static int root_phone(struct db *db, const struct taken *t, char *out, size_t len)
{
	const char *p[1] = {t->id};
	PGresult *r = db_query(db,
	                       "WITH RECURSIVE up AS (SELECT id, follows_id, phone_number, channel"
	                       "  FROM whatsapp_logs WHERE id = $1::bigint"
	                       " UNION ALL SELECT w.id, w.follows_id, w.phone_number, w.channel"
	                       "  FROM whatsapp_logs w JOIN up ON w.id = up.follows_id)"
	                       " SELECT phone_number FROM up WHERE channel = 'whatsapp'"
	                       " ORDER BY id LIMIT 1",
	                       1, p);
	if (!r)
		return -1;
	snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : t->phone);
	PQclear(r);
	return 0;
}

/*
 * The address of t's recipient on channel c, into out: a seller's (tenants row of t's tenant
 * only) or an operator contact's (the configuration, by the chain's WhatsApp number). 1 found,
 * 0 none, -1 error (db->err).
 */
static int address_for(struct db *db, const struct config *cfg, const struct taken *t,
                       enum channel c, char *out, size_t len)
{
	char wa[EMAIL_ADDRESS_MAX + 1];
	out[0] = '\0';
	if (t->tenant) {
		const char *p[1] = {t->tenant};
		PGresult *r = db_query(db,
		                       "SELECT coalesce(sms_number, whatsapp_number), email"
		                       " FROM tenants WHERE id = $1::bigint",
		                       1, p);
		if (!r)
			return -1;
		const char *v = PQntuples(r) ? db_value(r, 0, c == CHANNEL_EMAIL ? 1 : 0) : NULL;
		if (c == CHANNEL_WHATSAPP)
			v = NULL; /* WhatsApp is the first step, never a next one */
		snprintf(out, len, "%s", v ? v : "");
		PQclear(r);
		return *out != '\0';
	}
	if (root_phone(db, t, wa, sizeof(wa)) < 0)
		return -1;
	if (c == CHANNEL_SMS) {
		char sms[PHONE_MAX];
		if (!config_contact_sms(cfg, wa, sms))
			return 0;
		snprintf(out, len, "%s", sms);
		return 1;
	}
	if (c == CHANNEL_EMAIL) {
		const char *e = config_contact_email(cfg, wa);
		snprintf(out, len, "%s", e ? e : "");
		return e != NULL;
	}
	return 0;
}

/*
 * The seller's events t's chain carries (events.message_id is its first message), each as
 * channel c reads it: SMS texts one a line; one event's email as its subject line and body;
 * several: NULL (the WhatsApp text serves). NULL too for an operator's message. A new string.
 */
static char *seller_text(struct db *db, const struct taken *t, enum channel c)
{
	if (!t->tenant)
		return NULL;
	const char *p[2] = {t->id, t->tenant};
	PGresult *r = db_query(db,
	                       "WITH RECURSIVE up AS (SELECT id, follows_id FROM whatsapp_logs"
	                       "  WHERE id = $1::bigint UNION ALL SELECT w.id, w.follows_id"
	                       "  FROM whatsapp_logs w JOIN up ON w.id = up.follows_id)"
	                       " SELECT e.type, e.data::text FROM events e"
	                       " WHERE e.message_id IN (SELECT id FROM up)"
	                       " AND e.tenant_id = $2::bigint ORDER BY e.id LIMIT 50",
	                       2, p);
	if (!r)
		return NULL;
	char *out = NULL;
	int n = PQntuples(r);
	if (c == CHANNEL_SMS && n > 0) {
		struct buf b = BUF_INIT(OUTBOX_MAX_CONTENT);
		for (int i = 0; i < n; i++) {
			const struct alert_type *at = alert_type_find(PQgetvalue(r, i, 0));
			struct json_object *data = json_tokener_parse(PQgetvalue(r, i, 1));
			char *line = at && data ? alert_sms(at, data) : NULL;
			if (line)
				buf_printf(&b, "%s%s", i ? "\n" : "", line);
			free(line);
			json_object_put(data);
		}
		out = b.len ? xstrdup(buf_str(&b)) : NULL;
		buf_release(&b);
	} else if (c == CHANNEL_EMAIL && n == 1) {
		const struct alert_type *at = alert_type_find(PQgetvalue(r, 0, 0));
		struct json_object *data = json_tokener_parse(PQgetvalue(r, 0, 1));
		if (at && data) {
			char *subject = NULL, *body = NULL;
			alert_email(at, data, &subject, &body);
			out = xasprintf("%s\n\n%s", subject, body);
			free(subject);
			free(body);
		}
		json_object_put(data);
	}
	PQclear(r);
	return out;
}

/* The text of t's next step on channel c: a new string, within OUTBOX_MAX_CONTENT. */
static char *step_text(struct db *db, const struct config *cfg, const struct taken *t,
                       enum channel c)
{
	char *own = seller_text(db, t, c);
	const char *src = own ? own : t->content;
	char *text;
	if (c == CHANNEL_SMS)
		text = sms_fit(src, (size_t)cfg->sms_max_segments, NULL);
	else
		text = xstrndup(src, strlen(src) < OUTBOX_MAX_CONTENT ? strlen(src)
		                                                      : OUTBOX_MAX_CONTENT - 1);
	free(own);
	return text;
}

/* Queue t's step on channel c to address (the rest of the chain after step k). 0 / -1. */
static int queue_step(struct db *db, const struct config *cfg, const struct taken *t,
                      const struct chain *ch, int k, enum channel c, const char *address)
{
	long long acct = 0;
	int found = account_for_channel(db, c, &acct);
	if (found <= 0) {
		if (found == 0)
			snprintf(db->err, sizeof(db->err), "no %s account", channel_name(c));
		return -1;
	}
	long long *ids = NULL;
	size_t nids = 0;
	/* alert_ids as PostgreSQL wrote it: "{1,2}" */
	for (const char *p = t->alert_ids; p && *p;) {
		while (*p && (*p < '0' || *p > '9'))
			p++;
		if (!*p)
			break;
		ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
		ids[nids++] = strtoll(p, (char **)&p, 10);
	}
	char *text = step_text(db, cfg, t, c);
	char *key = xasprintf("fallback:%s", t->id);
	char *rest = chain_pg_rest(ch, k + 1);
	int critical = strcmp(t->priority, "critical") == 0;
	struct outbox_msg m = {
	    .phone = address,
	    .content = text,
	    .priority = t->priority,
	    .kind = t->kind,
	    .key = key,
	    .alert_ids = ids,
	    .n_alert_ids = nids,
	    .channel = channel_name(c),
	    .account_id = acct,
	    .tenant_id = t->tenant ? strtoll(t->tenant, NULL, 10) : 0,
	    .fallback_chain = rest,
	    /* Email sends no receipt: its step falls back on failure only. */
	    .fallback_after_s = c == CHANNEL_EMAIL ? 0
	                        : critical         ? cfg->fallback_after_s
	                                           : cfg->fallback_normal_after_s,
	    .follows_id = strtoll(t->id, NULL, 10),
	};
	int r = outbox_queue(db, &m);
	free(ids);
	free(text);
	free(key);
	free(rest);
	return r < 0 ? -1 : 0;
}

/* Record what became of t. 0 / -1. */
static int mark(struct db *db, const struct taken *t, const char *state, enum fallback_reason why)
{
	const char *p[3] = {t->id, state, fallback_reason_name(why)};
	return db_exec(db,
	               "UPDATE whatsapp_logs SET fallback_state = $2, fallback_reason = $3"
	               " WHERE id = $1::bigint",
	               3, p);
}

/* The next step of t, or 'exhausted'. 0 / -1. */
static int act(struct db *db, const struct config *cfg, const struct taken *t,
               enum fallback_reason why, struct fallback_stats *st)
{
	const char *names[CHAIN_MAX];
	char copy[64];
	size_t n = 0;
	snprintf(copy, sizeof(copy), "%s", t->chain ? t->chain : "");
	for (char *s = copy, *e; *s && n < CHAIN_MAX; s = e ? e + 1 : s + strlen(s)) {
		e = strchr(s, ',');
		if (e)
			*e = '\0';
		names[n++] = s;
		if (!e)
			break;
	}
	/* The chain left: no first-step rule here (it starts after WhatsApp). */
	struct chain ch = {0};
	for (size_t i = 0; i < n; i++)
		snprintf(ch.step[ch.n++], CHAIN_NAME_MAX, "%s", names[i]);
	for (int k = 0; k < ch.n; k++) {
		enum channel c;
		char address[EMAIL_ADDRESS_MAX + 1];
		const char *refused;
		if (channel_parse(ch.step[k], &c) < 0 || !channel_configured(cfg, c))
			continue;
		int a = address_for(db, cfg, t, c, address, sizeof(address));
		if (a < 0)
			return -1;
		struct outbox_msg probe = {.phone = address, .channel = channel_name(c)};
		if (a == 0 || outbox_msg_check(&probe, &refused) < 0) {
			if (a)
				log_warnx(
				    "fallback_address_refused",
				    "message %s: the %s address of its recipient is refused (%s):"
				    " skipped",
				    t->id, channel_name(c), refused);
			continue;
		}
		if (queue_step(db, cfg, t, &ch, k, c, address) < 0 ||
		    mark(db, t, "queued", why) < 0)
			return -1;
		st->queued++;
		st->sms += c == CHANNEL_SMS;
		st->email += c == CHANNEL_EMAIL;
		st->whatsapp += c == CHANNEL_WHATSAPP;
		log_info("fallback_queued", "message %s (%s, %s): next step on %s", t->id,
		         t->channel, fallback_reason_name(why), channel_name(c));
		return 0;
	}
	st->exhausted++;
	log_warnx("fallback_exhausted",
	          "message %s (%s, %s): no channel left to try; it did not reach its recipient",
	          t->id, t->channel, fallback_reason_name(why));
	return mark(db, t, "exhausted", why);
}

/* One transaction: how many messages were taken, or -1. */
static int fallback_batch(struct db *db, const struct config *cfg, struct fallback_stats *st)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", FALLBACK_BATCH);
	const char *p[1] = {lim};
	if (db_begin(db) < 0)
		return -1;
	PGresult *r = db_query(db, due_sql, 1, p);
	int n = r ? PQntuples(r) : -1;
	for (int i = 0; i < n; i++) {
		struct taken t;
		taken_read(r, i, &t);
		st->examined++;
		enum fallback_reason why =
		    fallback_classify(t.status, t.stopped, t.late, provider_receipts(t.provider));
		int rc;
		if (why == FALLBACK_NONE) {
			/*
			 * Sent where no receipt comes (the sandbox): neither the timer nor
			 * a failure can come any more; it leaves the candidates for good.
			 */
			const char *pi[1] = {t.id};
			rc = db_exec(
			    db,
			    "UPDATE whatsapp_logs SET fallback_at = NULL, fallback_chain = NULL"
			    " WHERE id = $1::bigint",
			    1, pi);
		} else {
			rc = act(db, cfg, &t, why, st);
		}
		if (rc < 0) {
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

int fallback_run(struct db *db, const struct config *cfg, struct fallback_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (;;) {
		int n = fallback_batch(db, cfg, st);
		if (n < 0)
			return -1;
		if (n < FALLBACK_BATCH)
			return 0;
	}
}
