#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "monitor/check.h"
#include "monitor/collect.h"
#include "monitor/delta.h"
#include "core/log.h"
#include "monitor/notify.h"
#include "delivery/submit.h"
#include "monitor/lifecycle.h"
#include "core/util.h"

void check_format_value(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/* ---- previous run: counters and statements, from check_runs.raw ---- */

static void load_previous(struct db *db, struct counters *prev, struct stmt_set *prev_stmts,
                          double *prev_epoch)
{
	memset(prev, 0, sizeof(*prev));
	*prev_epoch = 0;
	PGresult *res = db_query(db,
	                         "SELECT raw::text, extract(epoch FROM started_at) FROM check_runs"
	                         " WHERE reachable AND raw ? 'counters'"
	                         " ORDER BY id DESC LIMIT 1",
	                         0, NULL);
	if (!res || PQntuples(res) == 0) {
		PQclear(res);
		return;
	}
	struct json_object *raw = json_tokener_parse(PQgetvalue(res, 0, 0));
	*prev_epoch = strtod(PQgetvalue(res, 0, 1), NULL);
	PQclear(res);
	struct json_object *k, *v, *st;
	if (raw && json_object_object_get_ex(raw, "counters", &k)) {
#define GETI(field)                                                                                \
	if (json_object_object_get_ex(k, #field, &v))                                              \
		prev->field = json_object_get_int64(v);
		GETI(postmaster_start)
		GETI(xact_commit)
		GETI(xact_rollback)
		GETI(blks_read)
		GETI(blks_hit)
		GETI(deadlocks)
#undef GETI
		if (json_object_object_get_ex(k, "stats_reset", &v))
			snprintf(prev->stats_reset, sizeof(prev->stats_reset), "%s",
			         json_object_get_string(v));
		prev->present = 1;
	}
	if (raw && json_object_object_get_ex(raw, "statements", &st) &&
	    json_object_is_type(st, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(st); i++) {
			struct json_object *row = json_object_array_get_idx(st, i);
			if (!json_object_is_type(row, json_type_array) ||
			    json_object_array_length(row) != 3)
				continue;
			stmt_set_add(
			    prev_stmts, json_object_get_string(json_object_array_get_idx(row, 0)),
			    json_object_get_double(json_object_array_get_idx(row, 1)),
			    json_object_get_double(json_object_array_get_idx(row, 2)), NULL);
		}
		prev_stmts->available = 1;
	}
	json_object_put(raw);
}

static struct json_object *raw_json(const struct collection *c)
{
	struct json_object *raw = json_object_new_object();
	if (c->counters.present) {
		struct json_object *k = json_object_new_object();
		json_object_object_add(k, "postmaster_start",
		                       json_object_new_int64(c->counters.postmaster_start));
		json_object_object_add(k, "stats_reset",
		                       json_object_new_string(c->counters.stats_reset));
		json_object_object_add(k, "xact_commit",
		                       json_object_new_int64(c->counters.xact_commit));
		json_object_object_add(k, "xact_rollback",
		                       json_object_new_int64(c->counters.xact_rollback));
		json_object_object_add(k, "blks_read",
		                       json_object_new_int64(c->counters.blks_read));
		json_object_object_add(k, "blks_hit", json_object_new_int64(c->counters.blks_hit));
		json_object_object_add(k, "deadlocks",
		                       json_object_new_int64(c->counters.deadlocks));
		json_object_object_add(raw, "counters", k);
	}
	if (c->stmts.available) {
		struct json_object *st = json_object_new_array();
		for (size_t i = 0; i < c->stmts.n; i++) {
			struct json_object *row = json_object_new_array();
			json_object_array_add(row, json_object_new_string(c->stmts.v[i].key));
			json_object_array_add(row, json_object_new_double(c->stmts.v[i].calls));
			json_object_array_add(row, json_object_new_double(c->stmts.v[i].total_ms));
			json_object_array_add(st, row);
		}
		json_object_object_add(raw, "statements", st);
	}
	return raw;
}

/* ---- derived metrics ---- */

/*
 * part/whole as a percentage rounded to 2 decimals (when_empty if whole is 0), sampled as m;
 * below min_whole (the setting named) it is recorded but not judged.
 */
static void add_ratio(struct collection *c, enum metric_id m, long long part, long long whole,
                      double when_empty, long long min_whole, const char *setting, const char *det)
{
	double pct = whole > 0 ? 100.0 * (double)part / (double)whole : when_empty;
	pct = round(pct * 100) / 100;
	if (whole < min_whole) {
		char *why = xasprintf("%s; below %s %lld, not judged", det, setting, min_whole);
		samples_skipped(&c->samples, m, "", pct, why);
		free(why);
	} else {
		samples_add(&c->samples, m, "", pct, det);
	}
}

static void derive_deltas(const struct config *cfg, struct collection *c, const struct delta *d)
{
	enum metric_id ms[] = {M_CACHE_HIT_RATIO_PCT, M_ROLLBACK_RATIO_PCT, M_DEADLOCKS};
	if (!c->counters.present) {
		for (size_t i = 0; i < ARRAY_LEN(ms); i++)
			samples_unavailable(&c->samples, ms[i], "",
			                    "pg_stat_database is not readable");
		return;
	}
	if (!d->valid) {
		for (size_t i = 0; i < ARRAY_LEN(ms); i++)
			samples_skipped(&c->samples, ms[i], "", NAN, d->reason);
		return;
	}
	long long blocks = d->blks_hit + d->blks_read, tx = d->commit + d->rollback;
	char det[160];
	snprintf(det, sizeof(det), "%lld hits, %lld reads since the last check", d->blks_hit,
	         d->blks_read);
	add_ratio(c, M_CACHE_HIT_RATIO_PCT, d->blks_hit, blocks, 100.0, cfg->cache_min_blocks,
	          "CACHE_MIN_BLOCKS", det);
	snprintf(det, sizeof(det), "%lld rollbacks of %lld transactions since the last check",
	         d->rollback, tx);
	add_ratio(c, M_ROLLBACK_RATIO_PCT, d->rollback, tx, 0, cfg->rollback_min_transactions,
	          "ROLLBACK_MIN_TRANSACTIONS", det);
	samples_add(&c->samples, M_DEADLOCKS, "", (double)d->deadlocks, "since the last check");
	for (size_t i = 0; i < ARRAY_LEN(ms); i++)
		c->evaluated[ms[i]] = 1;
}

static void derive_restart(struct collection *c, const struct counters *prev)
{
	if (!prev->present) {
		samples_skipped(&c->samples, M_RESTARTED, "", 0, "first check: nothing to compare");
		return;
	}
	int restarted = prev->postmaster_start != c->counters.postmaster_start;
	char det[96];
	snprintf(det, sizeof(det), "up %.0f s", c->uptime_s);
	samples_add(&c->samples, M_RESTARTED, "", restarted, det);
	c->evaluated[M_RESTARTED] = 1;
}

static void derive_statements(const struct config *cfg, struct collection *c,
                              const struct stmt_set *prev, struct json_object *top_out)
{
	if (!c->stmts.available) {
		samples_unavailable(&c->samples, M_SLOWEST_QUERY_MEAN_MS, "", c->stmts.reason);
		return;
	}
	if (!prev->available) {
		samples_skipped(&c->samples, M_SLOWEST_QUERY_MEAN_MS, "", NAN,
		                "first check with pg_stat_statements: no previous figures");
		c->evaluated[M_SLOWEST_QUERY_MEAN_MS] = 1;
		return;
	}
	struct stmt_delta top[5];
	size_t n = stmt_deltas(prev, &c->stmts, (double)cfg->query_min_calls, top, ARRAY_LEN(top));
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(
		    o, "query",
		    json_object_new_string(top[i].stmt->query ? top[i].stmt->query : ""));
		json_object_object_add(o, "calls", json_object_new_double(top[i].calls));
		json_object_object_add(o, "mean_ms",
		                       json_object_new_double(round(top[i].mean_ms * 100) / 100));
		json_object_object_add(o, "total_ms",
		                       json_object_new_double(round(top[i].total_ms * 100) / 100));
		json_object_array_add(top_out, o);
	}
	if (n == 0) {
		char *why =
		    xasprintf("no statement ran QUERY_MIN_CALLS (%lld) times since the last "
		              "check",
		              cfg->query_min_calls);
		samples_add(&c->samples, M_SLOWEST_QUERY_MEAN_MS, "", 0, why);
		free(why);
	} else {
		char *det = xasprintf("%.0f calls: %s", top[0].calls,
		                      top[0].stmt->query ? top[0].stmt->query : "");
		samples_add(&c->samples, M_SLOWEST_QUERY_MEAN_MS, "",
		            round(top[0].mean_ms * 100) / 100, det);
		free(det);
	}
	c->evaluated[M_SLOWEST_QUERY_MEAN_MS] = 1;
}

static void derive_size(struct db *db, const struct config *cfg, struct collection *c)
{
	double size = NAN;
	for (size_t i = 0; i < c->samples.n; i++)
		if (c->samples.v[i].metric == M_DATABASE_SIZE_BYTES && c->samples.v[i].available)
			size = c->samples.v[i].value;
	enum metric_id ms[] = {M_DATABASE_GROWTH_BYTES_PER_DAY, M_DATABASE_SIZE_PCT,
	                       M_DATABASE_DAYS_UNTIL_FULL};
	if (isnan(size)) {
		for (size_t i = 0; i < ARRAY_LEN(ms); i++)
			samples_unavailable(&c->samples, ms[i], "", "database size unavailable");
		return;
	}
	double limit = (double)cfg->database_size_limit_mb * 1024 * 1024;
	if (limit > 0) {
		samples_add(&c->samples, M_DATABASE_SIZE_PCT, "", round(1000 * size / limit) / 10,
		            NULL);
		c->evaluated[M_DATABASE_SIZE_PCT] = 1;
	} else {
		samples_unavailable(&c->samples, M_DATABASE_SIZE_PCT, "",
		                    "DATABASE_SIZE_LIMIT_MB is not set");
	}
	/* Growth: least squares over the last 14 days of stored sizes plus this one. */
	PGresult *res = db_query(db,
	                         "SELECT extract(epoch FROM now() - sampled_at) / 86400.0, value"
	                         " FROM metric_samples WHERE metric = 'database_size_bytes'"
	                         " AND target = '' AND value IS NOT NULL"
	                         " AND sampled_at > now() - interval '14 days'"
	                         " ORDER BY sampled_at DESC LIMIT 2000",
	                         0, NULL);
	size_t n = res ? (size_t)PQntuples(res) : 0;
	double *x = xcalloc(n + 1, sizeof(double)), *y = xcalloc(n + 1, sizeof(double));
	double span = 0;
	for (size_t i = 0; i < n; i++) {
		x[i] = -strtod(PQgetvalue(res, (int)i, 0), NULL);
		y[i] = strtod(PQgetvalue(res, (int)i, 1), NULL);
		if (-x[i] > span)
			span = -x[i];
	}
	PQclear(res);
	x[n] = 0;
	y[n] = size;
	double slope;
	if (span < 1.0 / 24 || linear_slope(x, y, n + 1, &slope) < 0) {
		samples_unavailable(&c->samples, M_DATABASE_GROWTH_BYTES_PER_DAY, "",
		                    "needs size samples spanning at least an hour");
		samples_unavailable(&c->samples, M_DATABASE_DAYS_UNTIL_FULL, "",
		                    "needs size samples spanning at least an hour");
	} else {
		samples_add(&c->samples, M_DATABASE_GROWTH_BYTES_PER_DAY, "", round(slope), NULL);
		c->evaluated[M_DATABASE_GROWTH_BYTES_PER_DAY] = 1;
		if (limit <= 0) {
			samples_unavailable(&c->samples, M_DATABASE_DAYS_UNTIL_FULL, "",
			                    "DATABASE_SIZE_LIMIT_MB is not set");
		} else if (slope <= 0) {
			samples_skipped(&c->samples, M_DATABASE_DAYS_UNTIL_FULL, "", NAN,
			                "not growing");
			c->evaluated[M_DATABASE_DAYS_UNTIL_FULL] = 1;
		} else {
			double days = (limit - size) / slope;
			samples_add(&c->samples, M_DATABASE_DAYS_UNTIL_FULL, "",
			            round((days < 0 ? 0 : days) * 10) / 10, NULL);
			c->evaluated[M_DATABASE_DAYS_UNTIL_FULL] = 1;
		}
	}
	free(x);
	free(y);
}

static void evaluate(const struct config *cfg, struct collection *c)
{
	for (size_t i = 0; i < c->samples.n; i++) {
		struct sample *s = &c->samples.v[i];
		if (!s->available)
			s->verdict = V_UNAVAILABLE;
		else if (s->skipped)
			s->verdict = V_SKIPPED;
		else
			s->verdict = metric_evaluate(&cfg->thresholds, s->metric, s->value);
	}
}

/* ---- JSON helpers ---- */

static struct json_object *jnum(double v)
{
	return isnan(v) || !isfinite(v) ? NULL : json_object_new_double(v);
}

static struct json_object *sample_json(const struct config *cfg, const struct sample *s)
{
	struct json_object *o = json_object_new_object();
	const struct metric_def *d = &metric_defs[s->metric];
	json_object_object_add(o, "metric", json_object_new_string(d->name));
	json_object_object_add(o, "target", json_object_new_string(s->target));
	json_object_object_add(o, "value", s->available ? jnum(s->value) : NULL);
	json_object_object_add(o, "unit", json_object_new_string(d->unit));
	json_object_object_add(o, "verdict", json_object_new_string(verdict_name(s->verdict)));
	struct json_object *th = json_object_new_object();
	json_object_object_add(th, "warning", jnum(cfg->thresholds.warning[s->metric]));
	json_object_object_add(th, "critical", jnum(cfg->thresholds.critical[s->metric]));
	json_object_object_add(th, "direction",
	                       json_object_new_string(d->dir == DIR_HIGHER_IS_WORSE  ? "above"
	                                              : d->dir == DIR_LOWER_IS_WORSE ? "below"
	                                                                             : "none"));
	json_object_object_add(o, "threshold", th);
	if (s->detail)
		json_object_object_add(o, "detail", json_object_new_string(s->detail));
	return o;
}

/* ---- alerts ---- */

/* The line an alert's message gives a finding; *threshold: the one it crossed. */
static char *alert_text(const struct config *cfg, const struct sample *s, double *threshold)
{
	const struct metric_def *d = &metric_defs[s->metric];
	double th = s->verdict == V_CRITICAL ? cfg->thresholds.critical[s->metric]
	                                     : cfg->thresholds.warning[s->metric];
	*threshold = th;
	char v[48], t[48];
	if (strcmp(d->unit, "bool") == 0) /* a state, not a number: say what it means */
		return xasprintf("%s%s%s: %s", d->name, *s->target ? " on " : "", s->target,
		                 s->detail ? s->detail : d->help);
	check_format_value(v, sizeof(v), s->value);
	check_format_value(t, sizeof(t), th);
	return xasprintf("%s%s%s: %s %s (%s %s)%s%s", d->name, *s->target ? " on " : "", s->target,
	                 v, d->unit, d->dir == DIR_LOWER_IS_WORSE ? "below" : "threshold", t,
	                 s->detail ? "; " : "", s->detail ? s->detail : "");
}

static int is_finding(const struct sample *s)
{
	return s->verdict == V_WARNING || s->verdict == V_CRITICAL;
}

/*
 * Was (m, target) judged this time? When part of a metric could not be read
 * (some sequences unreadable, say), a target with no sample of its own may be
 * among the unread: its alert stays open.
 */
static int target_judged(const struct collection *c, int m, const char *target)
{
	int partial = 0;
	for (size_t i = 0; i < c->samples.n; i++) {
		const struct sample *s = &c->samples.v[i];
		if ((int)s->metric != m)
			continue;
		if (s->available && strcmp(s->target, target) == 0)
			return 1;
		if (!s->available)
			partial = 1;
	}
	return !partial;
}

/* alert_judged_fn: an open alert not found again resolves only if this check judged it. */
static int judged(void *arg, const char *rule, const char *target)
{
	const struct collection *c = arg;
	int m = metric_by_name(rule);
	return m >= 0 && c->evaluated[m] && target_judged(c, m, target);
}

/* Tell the lifecycle what fires now and what was judged; it opens, changes, resolves. */
static int decide_alerts(struct alert_round *r, const struct config *cfg,
                         const struct collection *c)
{
	for (size_t i = 0; i < c->samples.n; i++) {
		const struct sample *s = &c->samples.v[i];
		if (!is_finding(s))
			continue;
		double th;
		char *text = alert_text(cfg, s, &th);
		struct alert_firing f = {
		    .id = {ALERT_SOURCE_CHECK, metric_defs[s->metric].name, s->target},
		    .severity = verdict_name(s->verdict),
		    .value = s->value,
		    .threshold = th,
		    .text = text,
		};
		int ret = alert_round_firing(r, &f);
		free(text);
		if (ret < 0)
			return -1;
	}
	return alert_round_settle(r, judged, (void *)c);
}

/* ---- storing a check ---- */

/* The check_runs row (its duration so far, and when it started); its id into run_id. */
static int insert_run(struct db *db, const struct check_opts *opts, const struct collection *c,
                      int64_t started_ms, char run_id[24])
{
	struct json_object *raw = raw_json(c);
	char dur[24];
	snprintf(dur, sizeof(dur), "%lld", (long long)(mono_ms() - started_ms));
	const char *p[6] = {
	    opts->emergency ? "emergency" : "normal",
	    opts->trigger ? opts->trigger : "api",
	    c->reachable ? "t" : "f",
	    c->error,
	    json_object_to_json_string_ext(raw, JSON_C_TO_STRING_PLAIN),
	    dur,
	};
	PGresult *res = db_query(db,
	                         "INSERT INTO check_runs (mode, trigger, reachable, error, raw,"
	                         " duration_ms, finished_at, started_at)"
	                         " VALUES ($1, $2, $3, $4, $5::jsonb, $6::int, now(),"
	                         " now() - make_interval(secs => $6::int / 1000.0))"
	                         " RETURNING id",
	                         6, p);
	json_object_put(raw);
	if (!res)
		return -1;
	snprintf(run_id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* Every sample of the run (the answer's "metrics" array), in one statement. */
static int insert_samples(struct db *db, const char *run_id, struct json_object *samples)
{
	const char *p[2] = {run_id,
	                    json_object_to_json_string_ext(samples, JSON_C_TO_STRING_PLAIN)};
	return db_exec(db,
	               "INSERT INTO metric_samples (check_run_id, metric, target, value, verdict,"
	               " warning, critical, detail)"
	               " SELECT $1::bigint, x.metric, x.target, x.value, x.verdict,"
	               " (x.threshold->>'warning')::float8, (x.threshold->>'critical')::float8,"
	               " x.detail FROM json_to_recordset($2::json) AS x(metric text,"
	               " target text, value float8, verdict text, threshold json, detail text)",
	               2, p);
}

/* The stored check's part of the answer: its id, what changed, what was queued. */
static void answer_stored(struct db *db, struct json_object *out, const char *run_id,
                          struct alert_round *r, const struct notify_stats *nst)
{
	json_object_object_add(out, "check_id", json_object_new_int64(strtoll(run_id, NULL, 10)));
	struct json_object *alerts = json_object_new_object();
	json_object_object_add(alerts, "opened", json_object_get(r->opened));
	json_object_object_add(alerts, "changed", json_object_get(r->changed));
	json_object_object_add(alerts, "resolved", json_object_get(r->resolved));
	PGresult *res = db_query(db, "SELECT count(*) FROM alerts WHERE status = 'open'", 0, NULL);
	if (res) {
		json_object_object_add(
		    alerts, "open",
		    json_object_new_int64(strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
		PQclear(res);
	}
	json_object_object_add(out, "alerts", alerts);
	json_object_object_add(out, "messages_queued", json_object_new_int(nst->queued));
	json_object_object_add(out, "messages_suppressed", json_object_new_int(nst->suppressed));
}

/*
 * One transaction: the run, its samples, the alert decisions and the
 * messages they cause commit together (the lifecycle and the outbox work
 * inside it), under the alert lock so that checks, escalation and
 * acknowledgements take turns.
 */
static int store(struct db *db, const struct config *cfg, const struct check_opts *opts,
                 struct collection *c, int64_t started_ms, struct json_object *samples,
                 struct json_object *out)
{
	struct alert_round r = {0};
	struct notify_stats nst = {0};
	char run_id[24] = "";
	int ret = -1;
	if (db_begin(db) < 0 || alert_lock(db) < 0 ||
	    insert_run(db, opts, c, started_ms, run_id) < 0 ||
	    insert_samples(db, run_id, samples) < 0 ||
	    alert_round_begin(&r, db, cfg, ALERT_SOURCE_CHECK, strtoll(run_id, NULL, 10),
	                      opts->emergency, time(NULL)) < 0 ||
	    decide_alerts(&r, cfg, c) < 0)
		goto out;
	char *title = xasprintf("Monitoring %s", c->database ? c->database : "monitored database");
	char *prefix = xasprintf("check:%s", run_id);
	int q = alert_round_finish(&r, title, prefix, &nst);
	free(title);
	free(prefix);
	if (q < 0 || db_commit(db) < 0)
		goto out;
	answer_stored(db, out, run_id, &r, &nst);
	ret = 0;
out:
	if (ret < 0)
		db_rollback(db);
	alert_round_release(&r);
	return ret;
}

/* ---- the state database is down: send what must go out ---- */

/*
 * Names a set of findings: FNV-1a over "rule|target|severity;" of each, in
 * order. The same findings give the same key, so a check repeated while the
 * state database stays down sends nothing new.
 */
static uint64_t findings_hash(const struct collection *c)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < c->samples.n; i++) {
		const struct sample *s = &c->samples.v[i];
		if (!is_finding(s))
			continue;
		char *id = xasprintf("%s|%s|%s;", metric_defs[s->metric].name, s->target,
		                     verdict_name(s->verdict));
		for (const char *p = id; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		free(id);
	}
	return h;
}

/*
 * Without the state database there is no alert identity: the findings are
 * sent as they are, keyed by which (rule, target, severity) they are
 * (findings_hash). Pause state is unknown too: the message goes (better twice
 * than never). delivery_submit() with no database spools and sends them.
 */
static void send_findings(const struct config *cfg, const struct collection *c, int emergency,
                          struct json_object *out)
{
	struct notices ns = {0};
	time_t now = time(NULL);
	for (size_t i = 0; i < c->samples.n; i++) {
		const struct sample *s = &c->samples.v[i];
		if (!is_finding(s))
			continue;
		double th;
		char *text = alert_text(cfg, s, &th);
		struct notice *n = notices_add(
		    &ns, 0, verdict_name(s->verdict), NOTICE_ALERT,
		    xasprintf("%s %s", s->verdict == V_CRITICAL ? "CRITICAL" : "WARNING", text));
		free(text);
		notify_route(cfg, n, emergency, now);
	}
	if (!ns.n) {
		notices_release(&ns);
		return;
	}
	char *title = xasprintf("Monitoring %s (state database down)",
	                        c->database ? c->database : "monitored database");
	char *prefix = xasprintf("nodb:%016llx", (unsigned long long)findings_hash(c));
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	notify_batch(title, prefix, 0, emergency, &ns, now, &b);
	delivery_submit(NULL, cfg, &b, &r); /* without a database it cannot fail */
	json_object_object_add(out, "spooled", json_object_new_boolean(r.spool_written));
	json_object_object_add(out, "sent_while_database_down",
	                       json_object_new_int(r.sent_while_down));
	delivery_batch_release(&b);
	free(title);
	free(prefix);
	notices_release(&ns);
}

int check_run(struct db *state, const struct config *cfg, const struct check_opts *opts,
              struct json_object **out, char **err)
{
	int64_t t0 = mono_ms();
	struct collection c;
	struct counters prev;
	struct stmt_set prev_stmts = {0};
	double prev_epoch = 0;
	struct json_object *top = json_object_new_array();
	int ret = -1;

	collection_init(&c);
	collect_run(cfg, &c);
	int state_ok = db_ensure(state) == 0;
	if (state_ok)
		load_previous(state, &prev, &prev_stmts, &prev_epoch);
	else
		memset(&prev, 0, sizeof(prev));
	if (c.reachable) {
		struct delta d;
		counters_delta(&prev, &c.counters, &d);
		derive_restart(&c, &prev);
		derive_deltas(cfg, &c, &d);
		derive_statements(cfg, &c, &prev_stmts, top);
		if (state_ok)
			derive_size(state, cfg, &c);
	}
	evaluate(cfg, &c);

	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "mode",
	                       json_object_new_string(opts->emergency ? "emergency" : "normal"));
	json_object_object_add(o, "database",
	                       c.database ? json_object_new_string(c.database) : NULL);
	json_object_object_add(o, "reachable", json_object_new_boolean(c.reachable));
	if (c.error)
		json_object_object_add(o, "error", json_object_new_string(c.error));
	struct json_object *metrics = json_object_new_array();
	int counts[5] = {0};
	for (size_t i = 0; i < c.samples.n; i++) {
		json_object_array_add(metrics, sample_json(cfg, &c.samples.v[i]));
		counts[c.samples.v[i].verdict]++;
	}
	json_object_object_add(o, "metrics", metrics);
	struct json_object *summary = json_object_new_object();
	for (int v = 0; v < 5; v++)
		json_object_object_add(summary, verdict_name((enum verdict)v),
		                       json_object_new_int(counts[v]));
	json_object_object_add(o, "summary", summary);
	json_object_object_add(o, "top_queries", top);
	top = NULL;

	if (!state_ok) {
		*err = xasprintf("state database unavailable: %s", state->err);
		send_findings(cfg, &c, opts->emergency, o);
	} else if (store(state, cfg, opts, &c, t0, metrics, o) < 0) {
		*err = xasprintf("storing the check failed: %s", state->err);
		if (PQstatus(state->conn) != CONNECTION_OK) /* it went down meanwhile */
			send_findings(cfg, &c, opts->emergency, o);
	} else {
		ret = 0;
	}
	json_object_object_add(o, "stored", json_object_new_boolean(ret == 0));
	json_object_object_add(o, "duration_ms", json_object_new_int64(mono_ms() - t0));
	log_info("check_done",
	         "check %s: reachable=%d ok=%d warning=%d critical=%d unavailable=%d "
	         "in %lld ms",
	         ret == 0 ? "stored" : "not stored", c.reachable, counts[V_OK], counts[V_WARNING],
	         counts[V_CRITICAL], counts[V_UNAVAILABLE], (long long)(mono_ms() - t0));
	*out = o;
	json_object_put(top);
	stmt_set_release(&prev_stmts);
	collection_release(&c);
	return ret;
}
