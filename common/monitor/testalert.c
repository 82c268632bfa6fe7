#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "delivery/account.h"
#include "delivery/submit.h"
#include "monitor/route.h"
#include "monitor/notify.h"
#include "monitor/testalert.h"

static void iso_utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One message per routed recipient, each keyed by this test's tag and its number. */
static void build_batch(const struct route *r, time_t now, const char *severity,
                        const char *content, const char *tag, struct delivery_batch *b)
{
	for (int i = 0; i < r->to->n; i++) {
		char *key = xasprintf("test:%s:%s", tag, r->to->num[i]);
		struct outbox_msg m = {
		    .phone = r->to->num[i],
		    .content = content,
		    .priority = severity,
		    .kind = "test",
		    .key = key,
		    .not_before = r->not_before == now ? 0 : (long long)r->not_before,
		};
		delivery_batch_add(b, &m);
		free(key);
	}
}

/*
 * The outbox ids of this test's messages, onto msgs in the order they were
 * queued (their ids rise in that order). Read after the commit: when that read
 * fails the messages are queued all the same, and the answer lacks their ids.
 */
static void add_ids(struct db *db, const char *tag, struct json_object *msgs)
{
	PGresult *res =
	    db_query(db,
	             "SELECT id FROM whatsapp_logs WHERE idempotency_key LIKE 'test:' || $1"
	             " || ':%' ORDER BY id",
	             1, (const char *const[]){tag});
	if (!res)
		return;
	for (int i = 0; i < PQntuples(res) && i < (int)json_object_array_length(msgs); i++)
		json_object_object_add(
		    json_object_array_get_idx(msgs, (size_t)i), "id",
		    json_object_new_int64(strtoll(PQgetvalue(res, i, 0), NULL, 10)));
	PQclear(res);
}

/* [{"phone_number"}] per message; a spooled one has "id": null (no outbox row yet). */
static struct json_object *messages_json(const struct delivery_batch *b, int spooled)
{
	struct json_object *msgs = json_object_new_array();
	for (size_t i = 0; i < b->n; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "phone_number",
		                       json_object_new_string(b->v[i].msg.phone));
		if (spooled)
			json_object_object_add(e, "id", NULL);
		json_object_array_add(msgs, e);
	}
	return msgs;
}

static void add_hold(struct json_object *o, const struct route *r, time_t now)
{
	if (r->not_before == now) {
		json_object_object_add(o, "held_until", NULL);
		return;
	}
	char when[32];
	iso_utc(r->not_before, when);
	json_object_object_add(o, "held_until", json_object_new_string(when));
	json_object_object_add(
	    o, "note",
	    json_object_new_string("outside business hours: the warning goes when they start"));
}

int testalert_queue(struct db *db, const struct config *cfg, const char *severity,
                    const char *message, struct json_object **out, char **err)
{
	struct route r;
	time_t now = time(NULL);
	char tag[17];
	*out = NULL;
	if (route_decide(cfg, severity, 0, now, &r) < 0 || random_hex(tag, 8) < 0) {
		*err = xstrdup("cannot route the test alert");
		return -1;
	}
	if (r.to->n == 0) {
		*err = xstrdup("no recipient configured for this severity (CRITICAL_PHONE_n)");
		return -1;
	}
	char *content = xasprintf("TEST %s alert: %s", severity, message);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	build_batch(&r, now, severity, content, tag, &b);
	free(content);
	notify_batch_chain(cfg, &b); /* a critical test takes the chain a real one would */
	struct delivery_result res;
	if (delivery_submit(db, cfg, &b, &res) < 0) {
		*err = xasprintf("state database: %s", db->err);
		delivery_batch_release(&b);
		return -1;
	}
	struct json_object *o = json_object_new_object();
	struct json_object *msgs = messages_json(&b, res.spooled);
	json_object_object_add(o, "spooled", json_object_new_boolean(res.spool_written));
	if (res.spooled) {
		/* The state database is down: spooled, sent anyway, replayed later. */
		json_object_object_add(o, "sent_while_database_down",
		                       json_object_new_int(res.sent_while_down));
		json_object_object_add(o, "state_database", json_object_new_string(db->err));
	} else {
		add_ids(db, tag, msgs);
	}
	json_object_object_add(o, "severity", json_object_new_string(severity));
	json_object_object_add(o, "messages", msgs);
	add_hold(o, &r, now);
	delivery_batch_release(&b);
	*out = o;
	return 0;
}

/* The outbox id of the message queued under key into *o's "id" (null when it cannot be read). */
static void add_id_of(struct db *db, const char *key, struct json_object *o)
{
	PGresult *res = db_query(db, "SELECT id FROM whatsapp_logs WHERE idempotency_key = $1", 1,
	                         (const char *const[]){key});
	struct json_object *id = NULL;
	if (res && PQntuples(res) == 1)
		id = json_object_new_int64(strtoll(PQgetvalue(res, 0, 0), NULL, 10));
	PQclear(res);
	json_object_object_add(o, "id", id);
}

/*
 * Queue one test message on channel c to address, as the channel's account;
 * note (may be NULL) added to *out when the channel is not configured.
 */
static int testalert_channel(struct db *db, const struct config *cfg, enum channel c,
                             const char *address, const char *message, const char *note,
                             struct json_object **out, char **err)
{
	long long acct = 0;
	char tag[17];
	*out = NULL;
	int found = account_for_channel(db, c, &acct);
	/* The state database is down: the spool sends it and its replay names the account. */
	int down = found < 0 && (!db->conn || PQstatus(db->conn) != CONNECTION_OK);
	if (down) {
		found = 1;
		acct = 0;
	}
	if (found <= 0 || random_hex(tag, 8) < 0) {
		*err = found < 0 ? xasprintf("state database: %s", db->err)
		                 : xasprintf("no %s account (migration %s)", channel_name(c),
		                             c == CHANNEL_SMS ? "014_sms" : "012_email");
		return -1;
	}
	char *key = xasprintf("test-%s:%s", channel_name(c), tag);
	char *content = xasprintf("TEST %s from the monitoring service: %s",
	                          c == CHANNEL_SMS ? "SMS" : "email", message);
	struct outbox_msg m = {
	    .phone = address,
	    .content = content,
	    .priority = "info",
	    .kind = "test",
	    .key = key,
	    .channel = channel_name(c),
	    .account_id = acct,
	};
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	delivery_batch_add(&b, &m);
	free(content);
	struct delivery_result res;
	int ret = -1;
	if (delivery_submit(db, cfg, &b, &res) < 0) {
		*err = xstrdup(db->err);
		goto out;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "channel", json_object_new_string(m.channel));
	json_object_object_add(o, "address", json_object_new_string(address));
	if (res.spooled) {
		/* Spooled, sent through the spool, replayed later: no outbox row yet. */
		json_object_object_add(o, "id", NULL);
		json_object_object_add(o, "key", json_object_new_string(key));
		json_object_object_add(o, "spooled", json_object_new_boolean(res.spool_written));
		json_object_object_add(o, "sent_while_database_down",
		                       json_object_new_int(res.sent_while_down));
		json_object_object_add(o, "state_database", json_object_new_string(db->err));
	} else {
		add_id_of(db, key, o);
	}
	if (note)
		json_object_object_add(o, "note", json_object_new_string(note));
	*out = o;
	ret = 0;
out:
	delivery_batch_release(&b);
	free(key);
	return ret;
}

int testalert_email(struct db *db, const struct config *cfg, const char *address,
                    const char *message, struct json_object **out, char **err)
{
	return testalert_channel(
	    db, cfg, CHANNEL_EMAIL, address, message,
	    *cfg->smtp_url ? NULL : "SMTP_URL is not set: the email stays queued", out, err);
}

int testalert_sms(struct db *db, const struct config *cfg, const char *number, const char *message,
                  struct json_object **out, char **err)
{
	int configured = *cfg->twilio_sms_from || *cfg->twilio_messaging_service_sid;
	return testalert_channel(db, cfg, CHANNEL_SMS, number, message,
	                         configured ? NULL
	                                    : "neither TWILIO_SMS_FROM nor "
	                                      "TWILIO_MESSAGING_SERVICE_SID is set: the SMS "
	                                      "stays queued",
	                         out, err);
}
