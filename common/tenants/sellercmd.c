#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "tenants/prefs.h"
#include "tenants/sellercmd.h"

#define HINT "Send \"help\" for the list."

static const struct {
	const char *word;
	enum seller_cmd_kind kind;
} words[] = {
    {"help", SCMD_HELP},     {"status", SCMD_STATUS}, {"mute", SCMD_MUTE},
    {"unmute", SCMD_UNMUTE}, {"stop", SCMD_STOP},     {"start", SCMD_START},
};

/* The next whitespace-separated word of *p: 1 and (*w, *n), or 0 at the end. */
static int next_word(const char **p, const char **w, size_t *n)
{
	const char *s = *p;
	while (*s && isspace((unsigned char)*s))
		s++;
	*w = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	*n = (size_t)(s - *w);
	*p = s;
	return *n > 0;
}

/* The n bytes at w, lower-cased, into out (size len): 0, or -1 when they do not fit. */
static int lower_word(const char *w, size_t n, char *out, size_t len)
{
	if (n >= len)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)w[i]);
	out[n] = '\0';
	return 0;
}

static int fail(struct seller_command *c, enum seller_cmd_kind kind, const char *msg)
{
	c->kind = kind;
	snprintf(c->error, sizeof(c->error), "%s", msg);
	return -1;
}

/* "30m", "2h", "1d": digits and one unit (m, h, d), 1 minute to SELLER_MUTE_MAX. */
static int parse_mute_duration(const char *w, long long *secs)
{
	size_t n = strlen(w);
	const char *err = NULL;
	if (n < 2 || n > 8 || !strchr("mhd", w[n - 1]))
		return -1;
	for (size_t i = 0; i + 1 < n; i++)
		if (!isdigit((unsigned char)w[i]))
			return -1;
	return parse_duration(w, 60, SELLER_MUTE_MAX, secs, &err);
}

/* The argument of mute / unmute: a type or "all", into c. 0, or -1 with c->error. */
static int parse_target(const char *w, struct seller_command *c)
{
	if (strcmp(w, "all") == 0) {
		c->all = 1;
		return 0;
	}
	c->type = alert_type_find(w);
	if (!c->type) {
		snprintf(c->error, sizeof(c->error),
		         "\"%.40s\" is no alert type. Try \"all\" or a type such as order.placed. "
		         "%s",
		         w, HINT);
		return -1;
	}
	if (c->kind == SCMD_MUTE && pref_locked(c->type)) {
		snprintf(c->error, sizeof(c->error),
		         "%s cannot be muted: security and failed-payment alerts always go.",
		         c->type->name);
		return -1;
	}
	return 0;
}

char *seller_button_command(const char *payload)
{
	size_t n = strlen(SELLER_MUTE_BUTTON);
	if (!payload || strncmp(payload, SELLER_MUTE_BUTTON, n) != 0)
		return NULL;
	const struct alert_type *t = alert_type_find(payload + n);
	return t ? xasprintf("mute %s", t->name) : NULL;
}

int seller_command_parse(const char *text, struct seller_command *c)
{
	const char *p = text ? text : "", *w;
	size_t n;
	char word[64], arg[64];
	memset(c, 0, sizeof(*c));
	if (!next_word(&p, &w, &n) || lower_word(w, n, word, sizeof(word)) < 0)
		return fail(c, SCMD_UNKNOWN, "Unknown command. " HINT);
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(word, words[i].word) == 0)
			c->kind = words[i].kind;
	if (c->kind == SCMD_UNKNOWN)
		return fail(c, SCMD_UNKNOWN, "Unknown command. " HINT);
	int has_arg = next_word(&p, &w, &n);
	if (has_arg && lower_word(w, n, arg, sizeof(arg)) < 0)
		return fail(c, c->kind, "That word is too long. " HINT);
	if (c->kind != SCMD_MUTE && c->kind != SCMD_UNMUTE) {
		if (has_arg) {
			snprintf(c->error, sizeof(c->error), "\"%s\" takes nothing after it. %s",
			         word, HINT);
			return -1;
		}
		return 0;
	}
	if (!has_arg) {
		c->all = c->kind == SCMD_UNMUTE;
		c->bare = c->kind == SCMD_MUTE;
		c->secs = SELLER_MUTE_DEFAULT;
		return 0;
	}
	if (parse_target(arg, c) < 0)
		return -1;
	c->secs = SELLER_MUTE_DEFAULT;
	int has_dur = next_word(&p, &w, &n);
	if (has_dur && c->kind == SCMD_UNMUTE)
		return fail(c, c->kind, "unmute takes a type or \"all\", nothing more. " HINT);
	if (has_dur &&
	    (lower_word(w, n, arg, sizeof(arg)) < 0 || parse_mute_duration(arg, &c->secs) < 0))
		return fail(c, c->kind,
		            "The duration must be like 30m, 2h or 1d (at most 30d): "
		            "mute order.placed 2h");
	if (next_word(&p, &w, &n))
		return fail(c, c->kind, "Too many words: mute <type|all> [30m|2h|1d]. " HINT);
	return 0;
}

const char *seller_command_help(void)
{
	return "Commands:\n"
	       "status - today's orders, payments and alerts\n"
	       "mute <type|all> [30m|2h|1d] - mute alerts (default 1d), e.g. mute order.placed 2h\n"
	       "unmute [type|all] - end a mute\n"
	       "stop - no alerts but security ones; start - alerts again\n"
	       "Reply \"mute\" to an alert to mute its type for a day.";
}

int seller_find_by_number(struct db *db, const char *phone, long long *tenant_id)
{
	const char *p[1] = {phone};
	PGresult *r = db_query(db,
	                       "SELECT id FROM tenants WHERE whatsapp_number = $1"
	                       " AND whatsapp_verified_at IS NOT NULL",
	                       1, p);
	if (!r)
		return -1;
	int found = PQntuples(r) == 1;
	if (found)
		*tenant_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return found;
}

/* ---- status ---- */

static char *status_text(struct db *db, const char *tid)
{
	const char *p[1] = {tid};
	PGresult *r = db_query(
	    db,
	    "WITH t AS (SELECT id, time_zone, alerts_stopped_at,"
	    "   (date_trunc('day', now() AT TIME ZONE time_zone) AT TIME ZONE time_zone) AS day"
	    "   FROM tenants WHERE id = $1::bigint)"
	    " SELECT"
	    " (SELECT count(*) FROM events e WHERE e.tenant_id = t.id AND e.type = 'order.placed'"
	    "   AND e.received_at >= t.day),"
	    " (SELECT count(*) FROM events e WHERE e.tenant_id = t.id"
	    "   AND e.type = 'payment.confirmed' AND e.received_at >= t.day),"
	    " (SELECT count(*) FROM whatsapp_logs w WHERE w.tenant_id = t.id"
	    "   AND w.kind IN ('seller_alert', 'seller_digest') AND w.created_at >= t.day"
	    "   AND w.status IN ('sent', 'delivered', 'read')),"
	    " (SELECT count(*) FROM whatsapp_logs w WHERE w.tenant_id = t.id"
	    "   AND w.kind IN ('seller_alert', 'seller_digest') AND w.created_at >= t.day"
	    "   AND w.status = 'read'),"
	    " t.alerts_stopped_at IS NOT NULL,"
	    " (SELECT string_agg(CASE WHEN m.type = '*' THEN 'all' ELSE m.type END || ' until '"
	    "   || to_char(m.until AT TIME ZONE t.time_zone, 'DD Mon HH24:MI'), ', '"
	    "   ORDER BY m.type) FROM seller_mutes m WHERE m.tenant_id = t.id AND m.until > now()),"
	    " t.time_zone"
	    " FROM t",
	    1, p);
	if (!r)
		return NULL;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return xstrdup("No such shop.");
	}
	const char *muted = db_value(r, 0, 5);
	char *s = xasprintf("Today so far (%s): %s order(s), %s payment(s) confirmed, %s alert(s) "
	                    "sent, %s read.%s%s%s",
	                    PQgetvalue(r, 0, 6), PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
	                    PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3),
	                    strcmp(PQgetvalue(r, 0, 4), "t") == 0
	                        ? "\nStopped: only security alerts go. Send \"start\"."
	                        : "",
	                    muted ? "\nMuted: " : "", muted ? muted : "");
	PQclear(r);
	return s;
}

/* ---- mute ---- */

/* Mute type (NULL: all) for secs. 0, or -1. */
static int mute_one(struct db *db, const char *tid, const char *type, long long secs)
{
	char s[24];
	snprintf(s, sizeof(s), "%lld", secs);
	const char *p[3] = {tid, type ? type : "*", s};
	return db_exec(db,
	               "INSERT INTO seller_mutes (tenant_id, type, until)"
	               " VALUES ($1::bigint, $2, now() + make_interval(secs => $3::int))"
	               " ON CONFLICT (tenant_id, type) DO UPDATE SET until = excluded.until,"
	               " created_at = now()",
	               3, p);
}

/* "2h", "1d", "30m" for the answer. */
static void say_duration(long long s, char *out, size_t len)
{
	if (s % 86400 == 0)
		snprintf(out, len, "%lld day%s", s / 86400, s == 86400 ? "" : "s");
	else if (s % 3600 == 0)
		snprintf(out, len, "%lld h", s / 3600);
	else
		snprintf(out, len, "%lld min", s / 60);
}

/*
 * The types of the alerts carried by the tenant's message context_id, not locked, into b
 * (", "-separated). How many, or -1.
 */
static int context_types(struct db *db, const char *tid, const char *context_id, struct buf *b)
{
	const char *p[2] = {context_id, tid};
	PGresult *r = db_query(db,
	                       "SELECT DISTINCT e.type FROM whatsapp_logs w"
	                       " JOIN events e ON e.message_id = w.id"
	                       " WHERE w.provider_message_id = $1 AND w.tenant_id = $2::bigint"
	                       "   AND w.direction = 'outbound' AND e.tenant_id = $2::bigint"
	                       " ORDER BY 1",
	                       2, p);
	if (!r)
		return -1;
	int n = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		const struct alert_type *t = alert_type_find(PQgetvalue(r, i, 0));
		if (!t || pref_locked(t))
			continue;
		buf_printf(b, "%s%s", n ? ", " : "", t->name);
		n++;
	}
	PQclear(r);
	return n;
}

static char *do_mute(struct db *db, const char *tid, const struct seller_command *c,
                     const char *context_id)
{
	char dur[32];
	say_duration(c->secs, dur, sizeof(dur));
	if (!c->bare) {
		if (mute_one(db, tid, c->all ? NULL : c->type->name, c->secs) < 0)
			return NULL;
		return c->all ? xasprintf("Muted all alerts for %s (security alerts still go). "
		                          "Send \"unmute\" to end it.",
		                          dur)
		              : xasprintf("Muted %s for %s. Send \"unmute %s\" to end it.",
		                          c->type->name, dur, c->type->name);
	}
	struct buf b = BUF_INIT(1024);
	int n = context_id ? context_types(db, tid, context_id, &b) : 0;
	char *reply = NULL;
	if (n < 0)
		goto out;
	if (n == 0) {
		reply =
		    xstrdup(context_id ? "That message is no alert that can be muted. "
		                         "Send: mute <type|all> [30m|2h|1d]"
		                       : "Mute what? Send: mute <type|all> [30m|2h|1d], e.g. "
		                         "mute order.placed 2h, or reply \"mute\" to an alert.");
		goto out;
	}
	/* Each type, comma-separated in b. */
	char *list = xstrdup(buf_str(&b)), *save = NULL;
	int ok = 0;
	for (char *t = list; t && *t; t = save) {
		save = strstr(t, ", ");
		if (save) {
			*save = '\0';
			save += 2;
		}
		if (mute_one(db, tid, t, c->secs) < 0) {
			ok = -1;
			break;
		}
	}
	free(list);
	if (ok == 0)
		reply = xasprintf("Muted %s for %s. Send \"unmute\" to end it.", buf_str(&b), dur);
out:
	buf_release(&b);
	return reply;
}

static char *do_unmute(struct db *db, const char *tid, const struct seller_command *c)
{
	const char *p[2] = {tid, c->all ? NULL : c->type->name};
	PGresult *r = db_query(db,
	                       "DELETE FROM seller_mutes WHERE tenant_id = $1::bigint"
	                       " AND ($2::text IS NULL OR type = $2) RETURNING until > now()",
	                       2, p);
	if (!r)
		return NULL;
	int active = 0;
	for (int i = 0; i < PQntuples(r); i++)
		active += strcmp(PQgetvalue(r, i, 0), "t") == 0;
	PQclear(r);
	if (c->all)
		return xstrdup(active ? "Unmuted: every alert goes again." : "Nothing was muted.");
	if (!active) {
		/* "unmute order.placed" under "mute all": say so rather than pretend. */
		return xasprintf("%s was not muted on its own.%s", c->type->name,
		                 " If you muted all, send \"unmute all\".");
	}
	return xasprintf("Unmuted %s.", c->type->name);
}

static char *do_stop(struct db *db, const char *tid, int stop)
{
	const char *p[1] = {tid};
	if (db_exec(
	        db,
	        stop ? "UPDATE tenants SET alerts_stopped_at = coalesce(alerts_stopped_at, now())"
	               " WHERE id = $1::bigint"
	             : "UPDATE tenants SET alerts_stopped_at = NULL WHERE id = $1::bigint",
	        1, p) < 0)
		return NULL;
	return xstrdup(stop ? "Stopped: no WhatsApp alerts but security ones (logins, password "
	                      "changes, failed payments). Send \"start\" to get them again."
	                    : "Started: your alerts go again.");
}

int seller_command_answer(struct db *db, long long tenant_id, const char *text,
                          const char *context_id, char **reply)
{
	struct seller_command c;
	char tid[24];
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	*reply = NULL;
	if (seller_command_parse(text, &c) < 0) {
		*reply = xstrdup(c.error);
		return 0;
	}
	switch (c.kind) {
	case SCMD_HELP:
		*reply = xstrdup(seller_command_help());
		break;
	case SCMD_STATUS:
		*reply = status_text(db, tid);
		break;
	case SCMD_MUTE:
		*reply = do_mute(db, tid, &c, context_id);
		break;
	case SCMD_UNMUTE:
		*reply = do_unmute(db, tid, &c);
		break;
	case SCMD_STOP:
	case SCMD_START:
		*reply = do_stop(db, tid, c.kind == SCMD_STOP);
		break;
	case SCMD_UNKNOWN:
		*reply = xstrdup(c.error);
		break;
	}
	for (size_t i = 0; *reply && i < ARRAY_LEN(words); i++)
		if (words[i].kind == c.kind)
			log_info("seller_command", "tenant %lld: %s", tenant_id, words[i].word);
	return *reply ? 0 : -1;
}
