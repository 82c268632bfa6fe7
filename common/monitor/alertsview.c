#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/alertsview.h"
#include "core/util.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define WINDOWS                                                                                    \
	"(VALUES ('24h', interval '24 hours'), ('7d', interval '7 days'),"                         \
	" ('30d', interval '30 days')) AS w(name, span)"

/* Rows as objects, typed by column type (int, float, bool; text otherwise). */
static struct json_object *rows_json(PGresult *res)
{
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_object_new_object();
		for (int c = 0; c < PQnfields(res); c++) {
			struct json_object *v = NULL;
			if (!PQgetisnull(res, i, c)) {
				const char *s = PQgetvalue(res, i, c);
				Oid t = PQftype(res, c);
				if (t == 20 || t == 23) /* int8, int4 */
					v = json_object_new_int64(strtoll(s, NULL, 10));
				else if (t == 701) /* float8 */
					v = json_object_new_double(strtod(s, NULL));
				else if (t == 16) /* bool */
					v = json_object_new_boolean(strcmp(s, "t") == 0);
				else
					v = json_object_new_string(s);
			}
			json_object_object_add(o, PQfname(res, c), v);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

/* obj[a][b] as an object, created when missing. */
static struct json_object *child(struct json_object *obj, const char *name)
{
	struct json_object *c;
	if (!json_object_object_get_ex(obj, name, &c)) {
		c = json_object_new_object();
		json_object_object_add(obj, name, c);
	}
	return c;
}

static struct json_object *rate(long long num, long long den)
{
	return den > 0 ? json_object_new_double((double)(1000 * num / den) / 1000.0) : NULL;
}

static int windows(struct db *db, struct json_object *out)
{
	static const char *const names[] = {"24h", "7d", "30d"};
	struct json_object *win = json_object_new_object();
	json_object_object_add(out, "windows", win);
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		struct json_object *w = child(win, names[i]);
		child(w, "alerts");
		child(w, "messages");
	}
	PGresult *res = db_query_idem(
	    db,
	    "SELECT w.name, a.severity, count(*), count(*) FILTER (WHERE a.status = 'open'),"
	    " count(*) FILTER (WHERE a.status = 'resolved'),"
	    " count(*) FILTER (WHERE a.acknowledged_at IS NOT NULL),"
	    " count(*) FILTER (WHERE a.escalation_level > 0)"
	    " FROM " WINDOWS " JOIN alerts a ON a.opened_at > now() - w.span GROUP BY 1, 2",
	    0, NULL);
	if (!res)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *a = child(child(child(win, PQgetvalue(res, i, 0)), "alerts"),
		                              PQgetvalue(res, i, 1));
		static const char *const cols[] = {NULL,       NULL,           "opened",   "open",
		                                   "resolved", "acknowledged", "escalated"};
		for (int c = 2; c < 7; c++)
			json_object_object_add(
			    a, cols[c],
			    json_object_new_int64(strtoll(PQgetvalue(res, i, c), NULL, 10)));
	}
	PQclear(res);
	res = db_query_idem(db,
	                    "SELECT w.name, m.priority, m.status, count(*)"
	                    " FROM " WINDOWS " JOIN whatsapp_logs m"
	                    " ON m.created_at > now() - w.span AND m.direction = 'outbound'"
	                    " GROUP BY 1, 2, 3",
	                    0, NULL);
	if (!res)
		return -1;
	/* Per window: counts by priority and status, and the rates over all priorities. */
	long long tot[3][4] = {{0}}; /* sent+, delivered+, read, failed */
	for (int i = 0; i < PQntuples(res); i++) {
		const char *wn = PQgetvalue(res, i, 0), *st = PQgetvalue(res, i, 2);
		long long n = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		json_object_object_add(
		    child(child(child(win, wn), "messages"), PQgetvalue(res, i, 1)), st,
		    json_object_new_int64(n));
		size_t k = 0;
		while (k < ARRAY_LEN(names) && strcmp(names[k], wn) != 0)
			k++;
		if (k == ARRAY_LEN(names))
			continue;
		int sent = !strcmp(st, "sent") || !strcmp(st, "delivered") || !strcmp(st, "read");
		tot[k][0] += sent ? n : 0;
		tot[k][1] += !strcmp(st, "delivered") || !strcmp(st, "read") ? n : 0;
		tot[k][2] += !strcmp(st, "read") ? n : 0;
		tot[k][3] += !strcmp(st, "failed") ? n : 0;
	}
	PQclear(res);
	for (size_t k = 0; k < ARRAY_LEN(names); k++) {
		struct json_object *w = child(win, names[k]);
		/* delivery: of the messages whose fate is known, the share that was sent. */
		json_object_object_add(w, "delivery_rate", rate(tot[k][0], tot[k][0] + tot[k][3]));
		json_object_object_add(w, "delivered_rate", rate(tot[k][1], tot[k][0]));
		json_object_object_add(w, "read_rate", rate(tot[k][2], tot[k][0]));
	}
	return 0;
}

static int section(struct db *db, struct json_object *out, const char *name, const char *sql,
                   int nparams, const char *const *params)
{
	PGresult *res = db_query_idem(db, sql, nparams, params);
	if (!res)
		return -1;
	json_object_object_add(out, name, rows_json(res));
	PQclear(res);
	return 0;
}

static int single(struct db *db, struct json_object *out, const char *name, const char *sql)
{
	PGresult *res = db_query_idem(db, sql, 0, NULL);
	if (!res)
		return -1;
	struct json_object *rows = rows_json(res);
	PQclear(res);
	struct json_object *first = json_object_array_get_idx(rows, 0);
	json_object_object_add(out, name, first ? json_object_get(first) : NULL);
	json_object_put(rows);
	return 0;
}

/* SQL built with TS() reads best one clause a line, as clang-format would not leave it. */
/* clang-format off */
static const char sql_open[] =
    "SELECT id, rule, target, severity, value, threshold, message,"
    " " TS("opened_at") " AS opened_at,"
    " extract(epoch FROM now() - opened_at)::int8 AS age_seconds,"
    " " TS("acknowledged_at") " AS acknowledged_at, acknowledged_by,"
    " CASE WHEN acknowledged_at IS NOT NULL THEN 'acknowledged'"
    "   WHEN escalation_level > 0 THEN 'escalated'"
    "   WHEN escalate_at IS NOT NULL THEN 'waiting'"
    "   ELSE 'none' END AS escalation,"
    " " TS("escalate_at") " AS escalates_at, " TS("repeat_at") " AS repeats_at, repeats"
    " FROM alerts WHERE status = 'open' ORDER BY severity = 'critical' DESC, opened_at";

static const char sql_resolved[] =
    "SELECT id, rule, target, severity, message, " TS("opened_at") " AS opened_at,"
    " " TS("resolved_at") " AS resolved_at,"
    " extract(epoch FROM resolved_at - opened_at)::int8 AS lasted_seconds"
    " FROM alerts WHERE status = 'resolved' ORDER BY resolved_at DESC LIMIT 20";

static const char sql_pause[] =
    "SELECT coalesce(paused_until > now(), false) AS paused,"
    " " TS("paused_until") " AS until, paused_by AS by,"
    " (SELECT count(*) FROM whatsapp_logs WHERE status = 'suppressed'"
    "   AND created_at >= coalesce(pause_state.paused_at, now())) AS suppressed"
    " FROM pause_state WHERE id = 1";

static const char sql_delivery[] =
    "SELECT stopped, stopped_reason, " TS("stopped_at") " AS stopped_at,"
    " (SELECT count(*) FROM whatsapp_logs WHERE status IN ('queued', 'sending'))"
    "   AS pending"
    " FROM delivery_state WHERE account_id = 1";

static const char sql_webhook[] =
    "SELECT (SELECT count(*) FROM webhook_events WHERE status = 'pending') AS pending,"
    " (SELECT count(*) FROM webhook_ignored"
    "   WHERE ignored_at > now() - interval '24 hours') AS ignored_statuses_24h";

/* $1: at most this many; $2: created at or after (epoch seconds). */
static const char sql_messages[] =
    "SELECT id, phone_number, priority, status, kind, direction, message_content,"
    " " TS("created_at") " AS created_at, " TS("sent_at") " AS sent_at,"
    " " TS("delivered_at") " AS delivered_at, " TS("read_at") " AS read_at,"
    " " TS("not_before") " AS not_before, attempts, as_template,"
    " last_error_code, last_error, alert_ids::text AS alert_ids"
    " FROM whatsapp_logs WHERE created_at >= to_timestamp($2::float8)"
    " ORDER BY id DESC LIMIT $1::int";
/* clang-format on */

/* The answer's parts after "windows", in order: an array of rows, or the one row. */
static const struct {
	const char *name, *sql;
	int one_row;    /* an object (the first row) rather than an array */
	int with_limit; /* takes $1 limit and $2 since */
} parts[] = {
    {"open", sql_open, 0, 0},       {"recently_resolved", sql_resolved, 0, 0},
    {"pause", sql_pause, 1, 0},     {"delivery", sql_delivery, 1, 0},
    {"webhook", sql_webhook, 1, 0}, {"recent_messages", sql_messages, 0, 1},
};

int alertsview_build(struct db *db, int limit, long long since, struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	char lim[16], sin[24];
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(sin, sizeof(sin), "%lld", since);
	const char *p[2] = {lim, sin};
	int ret = windows(db, o);
	for (size_t i = 0; i < ARRAY_LEN(parts) && ret == 0; i++)
		ret = parts[i].one_row
		          ? single(db, o, parts[i].name, parts[i].sql)
		          : section(db, o, parts[i].name, parts[i].sql, parts[i].with_limit ? 2 : 0,
		                    parts[i].with_limit ? p : NULL);
	if (ret < 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}
