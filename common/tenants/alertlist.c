#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenants/alertlist.h"
#include "core/util.h"

int alertlist_parse(const char *limit, const char *before, struct alertlist_query *q,
                    const char **param, const char **why)
{
	long long v;
	q->limit = ALERTLIST_LIMIT_DEFAULT;
	q->before = 0;
	if (limit) {
		if (parse_int(limit, 1, ALERTLIST_LIMIT_MAX, &v, why) < 0) {
			*param = "limit";
			return -1;
		}
		q->limit = (int)v;
	}
	if (before) {
		if (parse_int(before, 1, INT64_MAX, &v, why) < 0) {
			*param = "before";
			return -1;
		}
		q->before = v;
	}
	return 0;
}

double alertlist_rate(long long num, long long den)
{
	if (den <= 0 || num < 0)
		return -1;
	if (num > den)
		num = den;
	return (double)(1000 * num / den) / 1000.0;
}

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The seller's alerts among the messages: $1 the tenant. */
#define SELLER_ROWS                                                                                \
	"m.tenant_id = $1::int8 AND m.direction = 'outbound'"                                      \
	" AND m.kind IN ('seller_alert', 'seller_digest') AND m.status <> 'merged'"

/*
 * The message that carried m's events: m itself, or for a fallback step (jobs/fallback.h) the
 * first message of its chain, at most two steps up (whatsapp, sms, email).
 */
#define CARRIER                                                                                    \
	"(m.id, m.follows_id, (SELECT f.follows_id FROM whatsapp_logs f WHERE f.id = "             \
	"m.follows_id))"

/* clang-format off */
/* $1 tenant, $2 ids below, $3 at most. Columns in the order of list_cols[]. */
static const char list_sql[] =
    "SELECT m.id, m.kind, m.channel,"
    " CASE WHEN m.status IN ('queued', 'sending') AND m.not_before > now() THEN 'held'"
    "   WHEN m.status = 'sending' THEN 'queued' ELSE m.status END,"
    " m.priority,"
    " CASE WHEN m.status IN ('queued', 'sending') AND m.not_before > now()"
    "   THEN " TS("m.not_before") " END,"
    " " TS("m.created_at") ", " TS("m.sent_at") ", " TS("m.delivered_at") ","
    " " TS("m.read_at") ", " TS("m.failed_at") ","
    " CASE WHEN m.status = 'failed' THEN m.last_error_code END,"
    " CASE WHEN m.status = 'failed' THEN m.last_error END,"
    " m.message_content,"
    " (SELECT coalesce(json_agg(DISTINCT e.type ORDER BY e.type), '[]')::text"
    "   FROM events e WHERE e.message_id IN " CARRIER "),"
    " (SELECT coalesce(json_agg(e.event_id ORDER BY e.id), '[]')::text"
    "   FROM events e WHERE e.message_id IN " CARRIER ")"
    " FROM whatsapp_logs m WHERE " SELLER_ROWS " AND m.id < $2::int8"
    " ORDER BY m.id DESC LIMIT $3::int";

/* $1 tenant. One row per window: name, sent, delivered, read, failed, median seconds. */
static const char figures_sql[] =
    "SELECT w.name,"
    " count(m.id) FILTER (WHERE m.status IN ('sent', 'delivered', 'read')),"
    " count(m.id) FILTER (WHERE m.status IN ('delivered', 'read')),"
    " count(m.id) FILTER (WHERE m.status = 'read'),"
    " count(m.id) FILTER (WHERE m.status = 'failed'),"
    " round(percentile_cont(0.5) WITHIN GROUP"
    "   (ORDER BY extract(epoch FROM m.read_at - m.sent_at))"
    "   FILTER (WHERE m.status = 'read' AND m.read_at >= m.sent_at))::int8"
    " FROM (VALUES (1, '7d', interval '7 days'), (2, '30d', interval '30 days'))"
    "   AS w(n, name, span)"
    " LEFT JOIN whatsapp_logs m ON " SELLER_ROWS " AND m.created_at > now() - w.span"
    " GROUP BY w.n, w.name ORDER BY w.n";
/* clang-format on */

/* The list's columns: name and kind (s string, i integer, j JSON text). */
static const struct {
	const char *name;
	char type;
} list_cols[] = {
    {"message_id", 'i'},   {"kind", 's'},       {"channel", 's'},    {"state", 's'},
    {"priority", 's'},     {"held_until", 's'}, {"created_at", 's'}, {"sent_at", 's'},
    {"delivered_at", 's'}, {"read_at", 's'},    {"failed_at", 's'},  {"error_code", 's'},
    {"reason", 's'},       {"text", 's'},       {"types", 'j'},      {"event_ids", 'j'},
};

static struct json_object *cell(PGresult *r, int i, int c, char type)
{
	if (PQgetisnull(r, i, c))
		return NULL;
	const char *s = PQgetvalue(r, i, c);
	if (type == 'i')
		return json_object_new_int64(strtoll(s, NULL, 10));
	if (type == 'j') {
		struct json_object *o = json_tokener_parse(s);
		return o ? o : json_object_new_array();
	}
	return json_object_new_string(s);
}

static int list(struct db *db, const char *const *p, int limit, struct json_object *out)
{
	PGresult *r = db_query_idem(db, list_sql, 3, p);
	if (!r)
		return -1;
	struct json_object *a = json_object_new_array();
	int n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		for (size_t c = 0; c < ARRAY_LEN(list_cols); c++)
			json_object_object_add(o, list_cols[c].name,
			                       cell(r, i, (int)c, list_cols[c].type));
		json_object_array_add(a, o);
	}
	json_object_object_add(out, "alerts", a);
	/* A full page may have more below it. */
	json_object_object_add(
	    out, "next_before",
	    n == limit && n > 0 ? json_object_new_int64(strtoll(PQgetvalue(r, n - 1, 0), NULL, 10))
	                        : NULL);
	PQclear(r);
	return 0;
}

static struct json_object *rate_json(long long num, long long den)
{
	double v = alertlist_rate(num, den);
	return v < 0 ? NULL : json_object_new_double(v);
}

static int figures(struct db *db, const char *const *p, struct json_object *out)
{
	static const char *const counts[] = {"sent", "delivered", "read", "failed"};
	PGresult *r = db_query_idem(db, figures_sql, 1, p);
	if (!r)
		return -1;
	struct json_object *f = json_object_new_object();
	for (int i = 0; i < PQntuples(r); i++) {
		struct json_object *w = json_object_new_object();
		long long v[ARRAY_LEN(counts)];
		for (size_t c = 0; c < ARRAY_LEN(counts); c++) {
			v[c] = strtoll(PQgetvalue(r, i, (int)c + 1), NULL, 10);
			json_object_object_add(w, counts[c], json_object_new_int64(v[c]));
		}
		json_object_object_add(w, "delivered_rate", rate_json(v[1], v[0]));
		json_object_object_add(w, "read_rate", rate_json(v[2], v[0]));
		json_object_object_add(w, "median_seconds_to_read", cell(r, i, 5, 'i'));
		json_object_object_add(f, PQgetvalue(r, i, 0), w);
	}
	PQclear(r);
	json_object_object_add(out, "figures", f);
	return 0;
}

int alertlist_build(struct db *db, long long tenant_id, const struct alertlist_query *q,
                    struct json_object **out)
{
	char id[24], before[24], lim[16];
	snprintf(id, sizeof(id), "%lld", tenant_id);
	snprintf(before, sizeof(before), "%lld", q->before > 0 ? q->before : (long long)INT64_MAX);
	snprintf(lim, sizeof(lim), "%d", q->limit);
	const char *p[] = {id, before, lim};
	struct json_object *o = json_object_new_object();
	if (list(db, p, q->limit, o) < 0 || figures(db, p, o) < 0) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}
