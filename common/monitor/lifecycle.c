#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "db/pgarray.h"
#include "delivery/submit.h"
#include "monitor/lifecycle.h"

struct open_alert {
	long long id;
	char *rule; /* as the producer names it (without the source's prefix) */
	char *target, *severity;
	long long age_s;
	int seen; /* fired in this round */
};

int alert_lock(struct db *db)
{
	return db_exec(db, "SELECT pg_advisory_xact_lock(" NOTIFY_LOCK_KEY ")", 0, NULL);
}

static int is_check(const char *source)
{
	return strcmp(source, ALERT_SOURCE_CHECK) == 0;
}

/* alerts.rule for a source's rule: the check's as it is, another's prefixed (lifecycle.h). */
static char *stored_rule(const char *source, const char *rule)
{
	return is_check(source) ? xstrdup(rule) : xasprintf("%s:%s", source, rule);
}

static int add_event(struct db *db, long long alert_id, const char *run_id, const char *event,
                     const char *severity, const char *value)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", alert_id);
	const char *p[5] = {id, *run_id ? run_id : NULL, event, severity, value};
	return db_exec(db,
	               "INSERT INTO alert_events (alert_id, check_run_id, event, severity, value)"
	               " VALUES ($1, $2, $3, $4, $5::float8)",
	               5, p);
}

/* A number as a statement parameter: NULL for NAN. */
static const char *num_param(char *buf, size_t len, double v)
{
	if (isnan(v))
		return NULL;
	snprintf(buf, len, "%.17g", v);
	return buf;
}

static struct json_object *jnum(double v)
{
	return isnan(v) || !isfinite(v) ? NULL : json_object_new_double(v);
}

static struct json_object *firing_json(long long id, const struct alert_firing *f,
                                       const char *prev_severity)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "rule", json_object_new_string(f->id.rule));
	json_object_object_add(o, "target", json_object_new_string(f->id.target));
	json_object_object_add(o, "severity", json_object_new_string(f->severity));
	if (prev_severity)
		json_object_object_add(o, "previous_severity",
		                       json_object_new_string(prev_severity));
	json_object_object_add(o, "value", jnum(f->value));
	json_object_object_add(o, "message", json_object_new_string(f->text));
	return o;
}

/* ---- a round ---- */

static int load_open(struct alert_round *r)
{
	const char *p[1] = {r->source};
	PGresult *res;
	if (is_check(r->source)) /* the unprefixed rules (whatsapp_delivery too: never resolved) */
		res = db_query(r->db,
		               "SELECT id, rule, target, severity,"
		               " extract(epoch FROM now() - opened_at)::bigint"
		               " FROM alerts WHERE status = 'open' AND strpos(rule, ':') = 0"
		               " ORDER BY id FOR UPDATE",
		               0, NULL);
	else
		res = db_query(r->db,
		               "SELECT id, substr(rule, length($1) + 2), target, severity,"
		               " extract(epoch FROM now() - opened_at)::bigint"
		               " FROM alerts WHERE status = 'open'"
		               " AND left(rule, length($1) + 1) = $1 || ':' ORDER BY id FOR UPDATE",
		               1, p);
	if (!res)
		return -1;
	r->nopen = (size_t)PQntuples(res);
	r->open = xcalloc(r->nopen + 1, sizeof(*r->open));
	for (size_t i = 0; i < r->nopen; i++) {
		int row = (int)i;
		r->open[i].id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
		r->open[i].rule = xstrdup(PQgetvalue(res, row, 1));
		r->open[i].target = xstrdup(PQgetvalue(res, row, 2));
		r->open[i].severity = xstrdup(PQgetvalue(res, row, 3));
		r->open[i].age_s = strtoll(PQgetvalue(res, row, 4), NULL, 10);
	}
	PQclear(res);
	return 0;
}

int alert_round_begin(struct alert_round *r, struct db *db, const struct config *cfg,
                      const char *source, long long run_id, int emergency, time_t now)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->cfg = cfg;
	r->source = source;
	if (run_id)
		snprintf(r->run_id, sizeof(r->run_id), "%lld", run_id);
	r->emergency = emergency;
	r->now = now;
	r->opened = json_object_new_array();
	r->changed = json_object_new_array();
	r->resolved = json_object_new_array();
	return load_open(r);
}

static int open_new(struct alert_round *r, const struct alert_firing *f)
{
	int critical = strcmp(f->severity, "critical") == 0;
	/* Escalation counts from now; repeats from when it is first delivered. */
	struct notice *n =
	    notices_add(&r->notices, 0, f->severity, NOTICE_ALERT,
	                xasprintf("%s %s", critical ? "CRITICAL" : "WARNING", f->text));
	notify_route(r->cfg, n, r->emergency, r->now);
	char val[48], ths[48], nb[24], esc[24], rep[24];
	snprintf(nb, sizeof(nb), "%lld", (long long)n->not_before);
	snprintf(esc, sizeof(esc), "%lld", r->cfg->escalation_minutes);
	snprintf(rep, sizeof(rep), "%lld", r->cfg->repeat_minutes);
	char *rule = stored_rule(r->source, f->id.rule);
	const char *p[11] = {rule,
	                     f->id.target,
	                     f->severity,
	                     num_param(val, sizeof(val), f->value),
	                     num_param(ths, sizeof(ths), f->threshold),
	                     f->text,
	                     *r->run_id ? r->run_id : NULL,
	                     r->emergency ? "t" : "f",
	                     esc,
	                     rep,
	                     nb};
	PGresult *res = db_query(r->db,
	                         "INSERT INTO alerts (rule, target, severity, value, threshold,"
	                         " message, opened_check_id, last_check_id, emergency,"
	                         " escalate_at, repeat_at)"
	                         " VALUES ($1, $2, $3, $4::float8, $5::float8, $6, $7::bigint,"
	                         " $7::bigint, $8::boolean,"
	                         " CASE WHEN $3 = 'critical' AND $9::int > 0"
	                         "   THEN now() + make_interval(mins => $9::int) END,"
	                         " CASE WHEN $10::int > 0 THEN to_timestamp($11::float8)"
	                         "   + make_interval(mins => $10::int) END)"
	                         " RETURNING id",
	                         11, p);
	free(rule);
	if (!res)
		return -1;
	long long id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	n->alert_id = id;
	if (add_event(r->db, id, r->run_id, "opened", f->severity, p[3]) < 0)
		return -1;
	json_object_array_add(r->opened, firing_json(id, f, NULL));
	return 0;
}

static int update_open(struct alert_round *r, struct open_alert *oa, const struct alert_firing *f)
{
	char idbuf[24], val[48], ths[48], esc[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", oa->id);
	snprintf(esc, sizeof(esc), "%lld", r->cfg->escalation_minutes);
	const char *p[7] = {idbuf,
	                    f->severity,
	                    num_param(val, sizeof(val), f->value),
	                    num_param(ths, sizeof(ths), f->threshold),
	                    f->text,
	                    *r->run_id ? r->run_id : NULL,
	                    esc};
	/* A rise to critical starts the escalation clock; a fall stops it. */
	if (db_exec(r->db,
	            "UPDATE alerts SET severity = $2, value = $3::float8,"
	            " threshold = $4::float8, message = $5, updated_at = now(),"
	            " last_check_id = $6::bigint,"
	            " escalate_at = CASE WHEN severity = $2 THEN escalate_at"
	            "   WHEN $2 = 'critical' AND $7::int > 0 AND escalation_level = 0"
	            "   THEN now() + make_interval(mins => $7::int) END"
	            " WHERE id = $1::bigint",
	            7, p) < 0)
		return -1;
	if (strcmp(oa->severity, f->severity) == 0)
		return 0;
	int rose = strcmp(f->severity, "critical") == 0;
	if (add_event(r->db, oa->id, r->run_id, rose ? "escalated" : "deescalated", f->severity,
	              p[2]) < 0)
		return -1;
	json_object_array_add(r->changed, firing_json(oa->id, f, oa->severity));
	/* A rise is news; a fall waits for the recovery. */
	if (rose)
		notify_route(r->cfg,
		             notices_add(&r->notices, oa->id, f->severity, NOTICE_ALERT,
		                         xasprintf("CRITICAL (was warning) %s", f->text)),
		             r->emergency, r->now);
	return 0;
}

int alert_round_firing(struct alert_round *r, const struct alert_firing *f)
{
	struct open_alert *oa = NULL;
	for (size_t k = 0; k < r->nopen && !oa; k++)
		if (!r->open[k].seen && strcmp(r->open[k].rule, f->id.rule) == 0 &&
		    strcmp(r->open[k].target, f->id.target) == 0)
			oa = &r->open[k];
	if (!oa)
		return open_new(r, f);
	oa->seen = 1;
	return update_open(r, oa, f);
}

/* Resolve oa; the recovery names it by text, or (NULL) by its rule and target. */
static int resolve(struct alert_round *r, const struct open_alert *oa, const char *text)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", oa->id);
	const char *p[2] = {idbuf, *r->run_id ? r->run_id : NULL};
	if (db_exec(r->db,
	            "UPDATE alerts SET status = 'resolved', resolved_at = now(),"
	            " updated_at = now(), last_check_id = coalesce($2::bigint, last_check_id),"
	            " escalate_at = NULL, repeat_at = NULL WHERE id = $1::bigint",
	            2, p) < 0)
		return -1;
	if (add_event(r->db, oa->id, r->run_id, "resolved", oa->severity, NULL) < 0)
		return -1;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(oa->id));
	json_object_object_add(o, "rule", json_object_new_string(oa->rule));
	json_object_object_add(o, "target", json_object_new_string(oa->target));
	json_object_object_add(o, "severity", json_object_new_string(oa->severity));
	json_object_array_add(r->resolved, o);
	char lasted[32];
	notify_format_duration(lasted, sizeof(lasted), oa->age_s);
	char *line = text ? xasprintf("RESOLVED %s after %s", text, lasted)
	                  : xasprintf("RESOLVED %s%s%s after %s", oa->rule,
	                              *oa->target ? " on " : "", oa->target, lasted);
	struct notice *n = notices_add(&r->notices, oa->id, oa->severity, NOTICE_RECOVERY, line);
	return notify_told(r->db, r->cfg, n, r->now);
}

int alert_round_settle(struct alert_round *r, alert_judged_fn judged, void *arg)
{
	for (size_t k = 0; k < r->nopen; k++) {
		const struct open_alert *oa = &r->open[k];
		if (oa->seen || (judged && !judged(arg, oa->rule, oa->target)))
			continue;
		if (resolve(r, oa, NULL) < 0)
			return -1;
	}
	return 0;
}

int alert_round_resolved(struct alert_round *r, const struct alert_ident *id, const char *text)
{
	for (size_t k = 0; k < r->nopen; k++) {
		struct open_alert *oa = &r->open[k];
		if (oa->seen || strcmp(oa->rule, id->rule) != 0 ||
		    strcmp(oa->target, id->target) != 0)
			continue;
		oa->seen = 1; /* settled now: alert_round_settle leaves it */
		return resolve(r, oa, text);
	}
	return 0;
}

int alert_round_finish(struct alert_round *r, const char *title, const char *key_prefix,
                       struct notify_stats *st)
{
	if (!r->notices.n)
		return 0;
	return notify_queue(r->db, r->cfg, title, key_prefix, strtoll(r->run_id, NULL, 10),
	                    r->emergency, &r->notices, r->now, st);
}

void alert_round_release(struct alert_round *r)
{
	for (size_t k = 0; k < r->nopen; k++) {
		free(r->open[k].rule);
		free(r->open[k].target);
		free(r->open[k].severity);
	}
	free(r->open);
	notices_release(&r->notices);
	json_object_put(r->opened);
	json_object_put(r->changed);
	json_object_put(r->resolved);
	memset(r, 0, sizeof(*r));
}

/* ---- escalation and repeats ---- */

int alert_mark_escalated(struct db *db, long long id)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	const char *p[1] = {idbuf};
	if (db_exec(db,
	            "UPDATE alerts SET escalation_level = 1, escalate_at = NULL,"
	            " updated_at = now() WHERE id = $1::bigint",
	            1, p) < 0)
		return -1;
	return add_event(db, id, "", "escalation", "critical", NULL);
}

int alert_defer_repeat(struct db *db, long long id, time_t from, long long minutes)
{
	char idbuf[24], start[24], rep[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	snprintf(start, sizeof(start), "%lld", (long long)from);
	snprintf(rep, sizeof(rep), "%lld", minutes);
	const char *p[3] = {idbuf, start, rep};
	return db_exec(db,
	               "UPDATE alerts SET repeat_at = to_timestamp($2::float8)"
	               " + make_interval(mins => $3::int) WHERE id = $1::bigint",
	               3, p);
}

int alert_count_repeat(struct db *db, long long id, long long minutes)
{
	char idbuf[24], rep[24];
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	snprintf(rep, sizeof(rep), "%lld", minutes);
	const char *p[2] = {idbuf, rep};
	return db_exec(db,
	               "UPDATE alerts SET repeats = repeats + 1,"
	               " repeat_at = now() + make_interval(mins => $2::int)"
	               " WHERE id = $1::bigint",
	               2, p);
}

int alert_record(struct db *db, long long id, const char *event, const char *severity)
{
	return add_event(db, id, "", event, severity, NULL);
}

/* ---- acknowledgement ---- */

/* Mark acknowledged: ids (n > 0) or every open alert by was told about. The result, or NULL. */
static PGresult *mark_acknowledged(struct db *db, const char *by, const long long *ids, size_t n)
{
	char *arr = pg_bigint_array(ids, n);
	const char *p[2] = {by, arr};
	PGresult *r = db_query(
	    db,
	    "UPDATE alerts SET acknowledged_at = now(), acknowledged_by = $1,"
	    " escalate_at = NULL, repeat_at = NULL, updated_at = now()"
	    " WHERE status = 'open' AND acknowledged_at IS NULL AND CASE"
	    "   WHEN cardinality($2::bigint[]) > 0 THEN id = ANY($2::bigint[])"
	    "   ELSE id IN (SELECT unnest(alert_ids) FROM whatsapp_logs WHERE phone_number = $1"
	    "     AND direction = 'outbound' AND status <> 'suppressed') END"
	    " RETURNING id, rule, target",
	    2, p);
	free(arr);
	return r;
}

/* "Acknowledged by ...", one message to each of the others told, in the caller's transaction. */
static int tell_others(struct db *db, const struct config *cfg, const char *by,
                       const struct phone_list *others, const char *list, const long long *acked,
                       size_t nacked, const char *key_prefix, int *told)
{
	char *text = xasprintf("Acknowledged by %s: %s", by, list);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	for (int k = 0; k < others->n; k++) {
		char *key = xasprintf("%s:%s", key_prefix, others->num[k]);
		struct outbox_msg m = {
		    .phone = others->num[k],
		    .content = text,
		    .priority = "info",
		    .kind = "ack",
		    .key = key,
		    .alert_ids = acked,
		    .n_alert_ids = nacked,
		};
		delivery_batch_add(&b, &m);
		free(key);
	}
	struct delivery_result res;
	int ret = delivery_submit(db, cfg, &b, &res);
	*told = res.queued;
	delivery_batch_release(&b);
	free(text);
	return ret;
}

int alert_acknowledge(struct db *db, const struct config *cfg, const char *by, const long long *ids,
                      size_t n, const char *key_prefix, char **list, int *told)
{
	*list = NULL;
	*told = 0;
	PGresult *r = mark_acknowledged(db, by, ids, n);
	if (!r)
		return -1;
	int nacked = PQntuples(r);
	struct buf lb = BUF_INIT(2000);
	long long *acked = xcalloc((size_t)nacked + 1, sizeof(long long));
	struct phone_list others = {0};
	int ret = 0;
	for (int i = 0; i < nacked && ret == 0; i++) {
		const char *id = PQgetvalue(r, i, 0), *target = PQgetvalue(r, i, 2);
		acked[i] = strtoll(id, NULL, 10);
		buf_printf(&lb, "%s#%s %s%s%s", i ? ", " : "", id, PQgetvalue(r, i, 1),
		           *target ? " on " : "", target);
		ret = add_event(db, acked[i], "", "acknowledged", NULL, NULL);
		/* Who else was told: they hear who acknowledged. */
		struct notice who = {.alert_id = acked[i], .severity = "critical"};
		if (ret == 0)
			ret = notify_told(db, cfg, &who, 0);
		for (int k = 0; k < who.to.n; k++)
			if (strcmp(who.to.num[k], by) != 0)
				phone_list_add(&others, who.to.num[k]);
	}
	PQclear(r);
	if (ret == 0 && others.n > 0)
		ret = tell_others(db, cfg, by, &others, buf_str(&lb), acked, (size_t)nacked,
		                  key_prefix, told);
	if (ret == 0 && nacked > 0) {
		log_info("acknowledged", "%s acknowledged %d alert(s): %s", by, nacked,
		         buf_str(&lb));
		*list = xstrdup(buf_str(&lb));
	}
	free(acked);
	buf_release(&lb);
	return ret < 0 ? -1 : nacked;
}
