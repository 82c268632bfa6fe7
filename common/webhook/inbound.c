#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "monitor/command.h"
#include "monitor/lifecycle.h"
#include "webhook/inbound.h"
#include "core/log.h"
#include "monitor/notify.h"
#include "delivery/account.h"
#include "delivery/outbox.h"
#include "delivery/submit.h"
#include "tenants/sellercmd.h"
#include "core/util.h"
#include "db/pgarray.h"

/* Names one pause (its start, to the microsecond) in the announcement's idempotency key. */
#define PAUSE_KEY "to_char(paused_at, 'YYYYMMDD\"T\"HH24MISS.US')"
#define LOCAL_TS(col, tz) "to_char(" col " AT TIME ZONE " tz ", 'YYYY-MM-DD HH24:MI')"

static void add_unique(struct phone_list *to, const struct phone_list *from)
{
	for (int i = 0; i < from->n; i++)
		phone_list_add(to, from->num[i]);
}

/* Everyone the service talks to (announcements). At most PHONE_LIST_MAX. */
static void all_contacts(const struct config *cfg, struct phone_list *out)
{
	out->n = 0;
	add_unique(out, &cfg->critical);
	add_unique(out, &cfg->warning);
	add_unique(out, &cfg->weekend);
	add_unique(out, &cfg->escalation);
}

static int allowed(const struct config *cfg, const char *phone)
{
	return phone_list_has(&cfg->critical, phone) || phone_list_has(&cfg->warning, phone) ||
	       phone_list_has(&cfg->weekend, phone) || phone_list_has(&cfg->escalation, phone);
}

static int queue_text(struct db *db, const char *phone, const char *text, const char *kind,
                      const char *key, const long long *ids, size_t nids, struct webhook_stats *st)
{
	struct outbox_msg m = {
	    .phone = phone,
	    .content = text,
	    .priority = "info",
	    .kind = kind,
	    .key = key,
	    .alert_ids = ids,
	    .n_alert_ids = nids,
	};
	int r = outbox_queue(db, &m);
	if (r == OUTBOX_QUEUED && st)
		st->replies++;
	return r < 0 ? -1 : 0;
}

/* ---- status ---- */

static char *status_text(struct db *db, const struct config *cfg)
{
	struct buf b = BUF_INIT(OUTBOX_MAX_CONTENT - 100);
	const char *tz[1] = {cfg->timezone};
	PGresult *r = db_query(
	    db,
	    "SELECT " LOCAL_TS("started_at",
	                       "$1") ","
	                             " extract(epoch FROM now() - started_at)::bigint, reachable"
	                             " FROM check_runs ORDER BY id DESC LIMIT 1",
	    1, tz);
	if (!r)
		goto fail;
	if (PQntuples(r) == 0) {
		buf_puts(&b, "Status: no check has run yet.\n");
	} else {
		char ago[32];
		notify_format_duration(ago, sizeof(ago), strtoll(PQgetvalue(r, 0, 1), NULL, 10));
		buf_printf(&b, "Status: last check %s %s (%s ago)%s.\n", PQgetvalue(r, 0, 0),
		           cfg->timezone, ago,
		           strcmp(PQgetvalue(r, 0, 2), "t") == 0 ? "" : ", database unreachable");
	}
	PQclear(r);
	r = db_query(db,
	             "SELECT id, severity, rule, target,"
	             " extract(epoch FROM now() - opened_at)::bigint, acknowledged_at IS NOT NULL"
	             " FROM alerts WHERE status = 'open'"
	             " ORDER BY severity = 'critical' DESC, opened_at",
	             0, NULL);
	if (!r)
		goto fail;
	if (PQntuples(r) == 0)
		buf_puts(&b, "No open alerts.\n");
	else
		buf_printf(&b, "Open alerts: %d\n", PQntuples(r));
	int shown = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		char age[32];
		notify_format_duration(age, sizeof(age), strtoll(PQgetvalue(r, i, 4), NULL, 10));
		const char *sev = PQgetvalue(r, i, 1), *target = PQgetvalue(r, i, 3);
		if (buf_printf(&b, "#%s %s %s%s%s, %s%s\n", PQgetvalue(r, i, 0),
		               strcmp(sev, "critical") == 0 ? "CRITICAL" : "WARNING",
		               PQgetvalue(r, i, 2), *target ? " on " : "", target, age,
		               strcmp(PQgetvalue(r, i, 5), "t") == 0 ? ", acked" : "") < 0)
			break;
		shown++;
	}
	if (shown < PQntuples(r))
		buf_printf(&b, "... and %d more\n", PQntuples(r) - shown);
	PQclear(r);
	r = db_query(
	    db,
	    "SELECT paused_until > now(), " LOCAL_TS(
	        "paused_until",
	        "$1") ","
	              " coalesce(paused_by, ''),"
	              " (SELECT count(*) FROM whatsapp_logs WHERE status IN ('queued', 'sending')),"
	              " (SELECT count(*) FROM whatsapp_logs WHERE status = 'suppressed'"
	              "   AND created_at >= coalesce(pause_state.paused_at, now()))"
	              " FROM pause_state WHERE id = 1",
	    1, tz);
	if (!r)
		goto fail;
	if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		buf_printf(&b, "Paused until %s by %s (%s suppressed).\n", PQgetvalue(r, 0, 1),
		           PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 4));
	else
		buf_puts(&b, "Not paused.\n");
	if (PQntuples(r) == 1)
		buf_printf(&b, "Messages pending: %s.", PQgetvalue(r, 0, 3));
	PQclear(r);
	return buf_detach(&b);
fail:
	buf_release(&b);
	return NULL;
}

/* ---- pause ---- */

/* Tell every contact the pause ended: what still fires, what was suppressed. */
static int announce_end(struct db *db, const struct config *cfg, const char *pause_key,
                        const char *how, struct webhook_stats *st)
{
	struct buf b = BUF_INIT(OUTBOX_MAX_CONTENT - 100);
	PGresult *r =
	    db_query(db,
	             "SELECT (SELECT count(*) FROM whatsapp_logs WHERE status ="
	             "   'suppressed' AND created_at >= (SELECT paused_at FROM pause_state"
	             "   WHERE id = 1)),"
	             " (SELECT count(*) FROM alerts WHERE status = 'open'),"
	             " (SELECT count(*) FROM alerts WHERE status = 'open'"
	             "   AND severity = 'critical')",
	             0, NULL);
	if (!r) {
		buf_release(&b);
		return -1;
	}
	buf_printf(&b,
	           "Alerts resumed: the pause %s. Suppressed during the pause: %s message(s).\n",
	           how, PQgetvalue(r, 0, 0));
	long long open = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	if (open == 0)
		buf_puts(&b, "Nothing is firing now.");
	else
		buf_printf(&b, "Still firing: %lld (%s critical). Send \"status\" for the list.",
		           open, PQgetvalue(r, 0, 2));
	PQclear(r);
	struct phone_list to;
	all_contacts(cfg, &to);
	int ret = 0;
	for (int i = 0; i < to.n && ret == 0; i++) {
		char *key = xasprintf("pause-end:%s:%s", pause_key, to.num[i]);
		ret = queue_text(db, to.num[i], buf_str(&b), "pause", key, NULL, 0, st);
		free(key);
	}
	buf_release(&b);
	return ret;
}

int inbound_announce_pause_end(struct db *db, const struct config *cfg)
{
	if (db_begin(db) < 0)
		return -1;
	PGresult *r = db_query(db,
	                       "SELECT " PAUSE_KEY " FROM pause_state"
	                       " WHERE id = 1 AND NOT announced AND paused_until <= now()"
	                       " FOR UPDATE",
	                       0, NULL);
	if (!r) {
		db_rollback(db);
		return -1;
	}
	int n = PQntuples(r);
	int ret = 0;
	if (n == 1) {
		ret = announce_end(db, cfg, PQgetvalue(r, 0, 0), "expired", NULL);
		if (ret == 0)
			ret = db_exec(
			    db,
			    "UPDATE pause_state SET announced = true, ended_at = paused_until"
			    " WHERE id = 1",
			    0, NULL);
	}
	PQclear(r);
	if (ret == 0)
		ret = db_commit(db);
	if (ret < 0) {
		db_rollback(db);
		return -1;
	}
	if (n == 1)
		log_info("pause_ended", "the pause expired; contacts told");
	return n == 1;
}

static char *do_pause(struct db *db, const struct config *cfg, const char *phone, long long secs)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", secs);
	const char *p[3] = {s, phone, cfg->timezone};
	PGresult *r = db_query(db,
	                       "UPDATE pause_state SET"
	                       " paused_at = CASE WHEN paused_until > now() THEN paused_at"
	                       "   ELSE now() END,"
	                       " paused_until = now() + make_interval(secs => $1::int),"
	                       " paused_by = $2, announced = false, ended_at = NULL WHERE id = 1"
	                       " RETURNING " LOCAL_TS("paused_until", "$3"),
	                       3, p);
	if (!r)
		return NULL;
	char dur[32];
	notify_format_duration(dur, sizeof(dur), secs);
	char *text = xasprintf("Paused for %s, until %s %s. Alerts are recorded, not sent (an "
	                       "emergency check still goes). Send \"resume\" to end it.",
	                       dur, PQntuples(r) ? PQgetvalue(r, 0, 0) : "?", cfg->timezone);
	PQclear(r);
	log_info("paused", "%s paused alerts for %lld s", phone, secs);
	return text;
}

/* NULL with *handled = 1 when the announcement itself is the reply. */
static char *do_resume(struct db *db, const struct config *cfg, const char *phone,
                       struct webhook_stats *st, int *handled)
{
	PGresult *r = db_query(db,
	                       "UPDATE pause_state SET paused_until = NULL, ended_at = now(),"
	                       " announced = true WHERE id = 1 AND paused_until > now()"
	                       " RETURNING " PAUSE_KEY,
	                       0, NULL);
	if (!r)
		return NULL;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return xstrdup("Alerts are not paused.");
	}
	char *how = xasprintf("was ended by %s", phone);
	int ret = announce_end(db, cfg, PQgetvalue(r, 0, 0), how, st);
	free(how);
	PQclear(r);
	if (ret < 0)
		return NULL;
	log_info("resumed", "%s resumed alerts", phone);
	*handled = 1;
	/* The sender is a contact, so the announcement reached them too. */
	return NULL;
}

/* ---- ack ---- */

/*
 * Acknowledge (lifecycle.h): ids (n > 0) or every open alert phone was told
 * about (n == 0). Replies to the sender; the others who were told hear it.
 */
static char *do_ack(struct db *db, const struct config *cfg, const char *phone, const char *msg_id,
                    const long long *ids, size_t n, struct webhook_stats *st)
{
	char *key_prefix = xasprintf("acked:%s", msg_id), *list = NULL;
	int told = 0;
	int nacked = alert_acknowledge(db, cfg, phone, ids, n, key_prefix, &list, &told);
	free(key_prefix);
	if (nacked < 0)
		return NULL;
	st->replies += told;
	if (nacked == 0)
		return n == 1 ? xasprintf("Alert #%lld is not open, or was already acknowledged.",
		                          ids[0])
		              : xstrdup("Nothing to acknowledge: no open alert you were told about "
		                        "is unacknowledged.");
	char *reply = xasprintf("Acknowledged: %s. Escalation stopped.", list);
	free(list);
	return reply;
}

/* The alerts of the outbound message msg_id (a reply's context), into ids. Count, or -1. */
static int context_alerts(struct db *db, const char *msg_id, long long *ids, int max)
{
	const char *p[1] = {msg_id};
	PGresult *r = db_query(db,
	                       "SELECT unnest(alert_ids) FROM whatsapp_logs"
	                       " WHERE provider_message_id = $1 AND direction = 'outbound'",
	                       1, p);
	if (!r)
		return -1;
	int n = 0;
	for (int i = 0; i < PQntuples(r) && n < max; i++)
		ids[n++] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	PQclear(r);
	return n;
}

/* ---- one inbound message ---- */

/* The reply to a command sent at sent, too old to obey. */
static char *too_old_text(const struct config *cfg, long long sent)
{
	char age[32], max[32];
	notify_format_duration(age, sizeof(age), (long long)time(NULL) - sent);
	notify_format_duration(max, sizeof(max), cfg->command_max_age_s);
	return xasprintf("Not done: this command was sent %s ago, and commands older than %s are "
	                 "not obeyed. Send it again if you still want it.",
	                 age, max);
}

/*
 * Store message m as an inbound row (idempotent by its id), sent at ts (Unix seconds as text;
 * NULL: now). 1 new, 0 stored before (a re-delivery: handled already), -1 (db->err).
 */
static int record_inbound(struct db *db, const char *source, const struct wa_message *m,
                          const char *phone, const char *ts)
{
	char *key = xasprintf("in:%s", m->id);
	const char *content = m->text && *m->text ? m->text : m->type ? m->type : "(empty)";
	char *shown = m->text && *m->text ? NULL : xasprintf("[%s]", content);
	const char *p[8] = {phone,    shown ? shown : content,
	                    key,      m->id,
	                    m->wa_id, source,
	                    ts,       channel_name(m->sms ? CHANNEL_SMS : CHANNEL_WHATSAPP)};
	PGresult *r = db_query(db,
	                       "INSERT INTO whatsapp_logs (phone_number, message_content, priority,"
	                       " status, direction, kind, idempotency_key, provider_message_id,"
	                       " wa_id, provider, sent_at, channel)"
	                       " VALUES ($1, $2, 'info', 'received', 'inbound', 'inbound', $3, $4,"
	                       " $5, $6, coalesce(to_timestamp($7::float8), now()), $8)"
	                       " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
	                       8, p);
	free(key);
	free(shown);
	if (!r)
		return -1;
	int fresh = PQntuples(r) == 1;
	PQclear(r);
	return fresh;
}

/*
 * The command m carries into *c: its button's payload, else its text. A reply to an alert
 * message acknowledges that message's alerts (ids[0..*nids), at most max) unless it is
 * another command. command_parse()'s result (0, or -1 with c->kind and c->error saying
 * why), or -2 when the database failed.
 */
static int parse_message_command(struct db *db, const struct config *cfg,
                                 const struct wa_message *m, struct command *c, long long *ids,
                                 int max, int *nids)
{
	*nids = 0;
	if (m->button_payload)
		return command_parse_payload(m->button_payload, c);
	int cr = command_parse(m->text, cfg->pause_max_minutes * 60, c);
	if (m->context_id &&
	    (c->kind == CMD_UNKNOWN || (c->kind == CMD_ACK && cr == 0 && c->alert_id == 0))) {
		*nids = context_alerts(db, m->context_id, ids, max);
		if (*nids < 0)
			return -2;
		if (*nids > 0) {
			c->kind = CMD_ACK;
			cr = 0;
		}
	}
	return cr;
}

/*
 * Carry out command c (parsed well) that phone sent in message m: *reply the answer (caller
 * frees; NULL: none). ids[0..nids) the alerts a reply to an alert message acknowledges.
 * 0, or -1 (db->err).
 */
static int obey(struct db *db, const struct config *cfg, const char *phone,
                const struct wa_message *m, const struct command *c, long long *ids, int nids,
                struct webhook_stats *st, char **reply)
{
	int handled = 0;
	st->commands++;
	switch (c->kind) {
	case CMD_STATUS:
		*reply = status_text(db, cfg);
		return *reply ? 0 : -1;
	case CMD_PAUSE:
		*reply = do_pause(db, cfg, phone, c->pause_s);
		return *reply ? 0 : -1;
	case CMD_RESUME:
		*reply = do_resume(db, cfg, phone, st, &handled);
		return *reply || handled ? 0 : -1;
	case CMD_HELP:
		*reply = xstrdup(command_help_text());
		return 0;
	case CMD_ACK:
		if (!nids && c->alert_id)
			ids[nids++] = c->alert_id;
		*reply = do_ack(db, cfg, phone, m->id, ids, (size_t)nids, st);
		return *reply ? 0 : -1;
	case CMD_UNKNOWN:
		break;
	}
	return 0;
}

/*
 * What to answer message m from phone, sent at sent (Unix seconds; 0 unknown): a command too
 * old to obey is audited, one not understood gets help, the others are obeyed. *reply the
 * answer (caller frees; NULL: none). 0, or -1 (db->err).
 */
static int answer_message(struct db *db, const struct config *cfg, const char *phone,
                          const struct wa_message *m, long long sent, struct webhook_stats *st,
                          char **reply)
{
	struct command c;
	long long ids[64];
	int nids;
	*reply = NULL;
	int cr = parse_message_command(db, cfg, m, &c, ids, (int)ARRAY_LEN(ids), &nids);
	if (cr == -2)
		return -1;
	if ((cr == 0 || c.kind != CMD_UNKNOWN) && sent > 0 &&
	    command_too_old(sent, (long long)time(NULL), cfg->command_max_age_s)) {
		/* A re-delivery days later, a backlog: what it asked for may no longer be meant. */
		st->stale++;
		log_warnx("command_too_old",
		          "message %s from %s: a command sent %lld s ago, over"
		          " COMMAND_MAX_AGE_SECONDS (%lld): audited, not obeyed",
		          m->id, phone, (long long)time(NULL) - sent, cfg->command_max_age_s);
		*reply = too_old_text(cfg, sent);
		return 0;
	}
	if (cr < 0) {
		*reply = c.kind == CMD_UNKNOWN
		             ? xstrdup("Unknown command. Send \"help\" for the list.")
		             : xasprintf("%s. Send \"help\" for the list.", c.error);
		return 0;
	}
	return obey(db, cfg, phone, m, &c, ids, nids, st, reply);
}

/* ---- a seller ---- */

/*
 * Answer message m from tenant_id's verified number phone, sent at sent (0 unknown): a command
 * too old is not obeyed; the answer goes to that number, with the tenant's id. 0, or -1.
 */
static int answer_seller(struct db *db, const struct config *cfg, const char *phone,
                         long long tenant_id, const struct wa_message *m, long long sent,
                         struct webhook_stats *st)
{
	char *reply = NULL;
	if (sent > 0 && command_too_old(sent, (long long)time(NULL), cfg->command_max_age_s)) {
		st->stale++;
		log_warnx("command_too_old",
		          "message %s from tenant %lld: sent %lld s ago: audited, not obeyed",
		          m->id, tenant_id, (long long)time(NULL) - sent);
		reply = too_old_text(cfg, sent);
	} else {
		st->commands++;
		/* A tapped "Mute this type" is that command (sellercmd.h). */
		char *tapped = seller_button_command(m->button_payload);
		int rc = seller_command_answer(db, tenant_id, tapped ? tapped : m->text,
		                               m->context_id, &reply);
		free(tapped);
		if (rc < 0)
			return -1;
	}
	char *key = xasprintf("reply:%s", m->id);
	struct outbox_msg om = {
	    .phone = phone,
	    .content = reply,
	    .priority = "info",
	    .kind = "seller_reply",
	    .key = key,
	    .tenant_id = tenant_id,
	};
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result res;
	delivery_batch_add(&b, &om);
	int ret = delivery_submit(db, cfg, &b, &res);
	if (ret == 0 && res.queued)
		st->replies++;
	delivery_batch_release(&b);
	free(key);
	free(reply);
	return ret;
}

int inbound_message(struct db *db, const struct config *cfg, const char *source,
                    const struct wa_message *m, long long arrived, struct webhook_stats *st)
{
	if (!m->from || !*m->from)
		return 0;
	char phone[PHONE_MAX + 8];
	snprintf(phone, sizeof(phone), "%s%s", m->from[0] == '+' ? "" : "+", m->from);
	long long sent = m->timestamp > 0 ? m->timestamp : arrived;
	char ts[24];
	snprintf(ts, sizeof(ts), "%lld", sent);
	int fresh = record_inbound(db, source, m, phone, sent > 0 ? ts : NULL);
	if (fresh <= 0) /* -1 failed; 0 a re-delivery, already handled */
		return fresh;
	st->messages++;
	if (m->sms) {
		/* An SMS opens no WhatsApp window and carries no command: audited, not obeyed. */
		log_info("inbound_sms",
		         "SMS from %s recorded, not obeyed (commands come on WhatsApp)", phone);
		return 0;
	}
	/* The window opens with the account whose number received the message. */
	char acct[24];
	snprintf(acct, sizeof(acct), "%lld", account_receiving(cfg, source, m->phone_number_id));
	const char *pc[4] = {phone, m->wa_id, sent > 0 ? ts : NULL, acct};
	if (db_exec(db,
	            "INSERT INTO contacts AS c (phone_number, wa_id, last_inbound_at, account_id)"
	            " VALUES ($1, $2, least(coalesce(to_timestamp($3::float8), now()), now()),"
	            " $4::bigint) ON CONFLICT (account_id, phone_number) DO UPDATE"
	            " SET wa_id = coalesce(excluded.wa_id, c.wa_id),"
	            " last_inbound_at = greatest(c.last_inbound_at, excluded.last_inbound_at),"
	            " updated_at = now()",
	            4, pc) < 0)
		return -1;
	if (!allowed(cfg, phone)) {
		/* Not an operator contact (they win): a seller's verified number, or nobody's. */
		long long tenant_id = 0;
		int found = seller_find_by_number(db, phone, &tenant_id);
		if (found < 0)
			return -1;
		if (found)
			return answer_seller(db, cfg, phone, tenant_id, m, sent, st);
		log_info("inbound_ignored",
		         "message from %s, not a configured contact nor a seller's verified number:"
		         " ignored",
		         phone);
		return 0;
	}
	char *reply = NULL;
	if (answer_message(db, cfg, phone, m, sent, st, &reply) < 0)
		return -1;
	int ret = 0;
	if (reply) {
		char *rkey = xasprintf("reply:%s", m->id);
		ret = queue_text(db, phone, reply, "reply", rkey, NULL, 0, st);
		free(rkey);
		free(reply);
	}
	return ret;
}
