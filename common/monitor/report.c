#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "monitor/collect.h"
#include "monitor/notify.h"
#include "delivery/submit.h"
#include "monitor/report.h"
#include "core/tz.h"
#include "core/util.h"

static void human_bytes(char *out, size_t len, double b)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;
	double v = fabs(b);
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%s%.*f %s", b < 0 ? "-" : "", u ? 1 : 0, v, units[u]);
}

static void local_time(const struct config *cfg, time_t t, char *out, size_t len)
{
	struct tm tm;
	tz_local(cfg->timezone, t, &tm);
	strftime(out, len, "%a %Y-%m-%d %H:%M", &tm);
}

static long long col_ll(PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? 0 : strtoll(PQgetvalue(r, 0, c), NULL, 10);
}

/* What happened in the period, from the state database. */
struct period_counts {
	long long checks, unreachable, crit, warn, resolved, open;
	long long ack_s, resolve_s; /* medians; -1: none in the period */
	long long sent, delivered, read, failed, suppressed;
};

/* The latest stored database figures; NAN when there is none. */
struct db_figures {
	double size, growth, days, slow;
	const char *slow_query;
};

static int load_counts(struct db *db, const struct slot *s, struct period_counts *c)
{
	char from[24], to[24];
	snprintf(from, sizeof(from), "%lld", (long long)s->from);
	snprintf(to, sizeof(to), "%lld", (long long)s->at);
	const char *p[2] = {from, to};
	PGresult *r = db_query(
	    db,
	    "WITH a AS (SELECT * FROM alerts WHERE rule <> 'whatsapp_delivery'),"
	    " w AS (SELECT status FROM whatsapp_logs WHERE direction = 'outbound'"
	    "   AND created_at >= to_timestamp($1::float8) AND created_at < "
	    "to_timestamp($2::float8))"
	    " SELECT"
	    " (SELECT count(*) FROM check_runs WHERE started_at >= to_timestamp($1::float8)"
	    "   AND started_at < to_timestamp($2::float8)),"
	    " (SELECT count(*) FROM check_runs WHERE started_at >= to_timestamp($1::float8)"
	    "   AND started_at < to_timestamp($2::float8) AND NOT reachable),"
	    " (SELECT count(*) FROM a WHERE severity = 'critical'"
	    "   AND opened_at >= to_timestamp($1::float8) AND opened_at < "
	    "to_timestamp($2::float8)),"
	    " (SELECT count(*) FROM a WHERE severity = 'warning'"
	    "   AND opened_at >= to_timestamp($1::float8) AND opened_at < "
	    "to_timestamp($2::float8)),"
	    " (SELECT count(*) FROM a WHERE resolved_at >= to_timestamp($1::float8)"
	    "   AND resolved_at < to_timestamp($2::float8)),"
	    " (SELECT count(*) FROM a WHERE status = 'open'),"
	    " (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY"
	    "   extract(epoch FROM acknowledged_at - opened_at)) FROM a"
	    "   WHERE acknowledged_at >= to_timestamp($1::float8)"
	    "   AND acknowledged_at < to_timestamp($2::float8))::bigint,"
	    " (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY"
	    "   extract(epoch FROM resolved_at - opened_at)) FROM a"
	    "   WHERE resolved_at >= to_timestamp($1::float8)"
	    "   AND resolved_at < to_timestamp($2::float8))::bigint,"
	    " (SELECT count(*) FROM w WHERE status IN ('sent', 'delivered', 'read')),"
	    " (SELECT count(*) FROM w WHERE status IN ('delivered', 'read')),"
	    " (SELECT count(*) FROM w WHERE status = 'read'),"
	    " (SELECT count(*) FROM w WHERE status = 'failed'),"
	    " (SELECT count(*) FROM w WHERE status = 'suppressed')",
	    2, p);
	if (!r)
		return -1;
	*c = (struct period_counts){
	    .checks = col_ll(r, 0),
	    .unreachable = col_ll(r, 1),
	    .crit = col_ll(r, 2),
	    .warn = col_ll(r, 3),
	    .resolved = col_ll(r, 4),
	    .open = col_ll(r, 5),
	    .ack_s = PQgetisnull(r, 0, 6) ? -1 : col_ll(r, 6),
	    .resolve_s = PQgetisnull(r, 0, 7) ? -1 : col_ll(r, 7),
	    .sent = col_ll(r, 8),
	    .delivered = col_ll(r, 9),
	    .read = col_ll(r, 10),
	    .failed = col_ll(r, 11),
	    .suppressed = col_ll(r, 12),
	};
	PQclear(r);
	return 0;
}

/* Checks, alerts, median times and messages: a few lines of figures. */
static void format_counts(struct buf *b, const struct period_counts *c)
{
	buf_printf(b, "Checks: %lld%s\n", c->checks, c->checks ? "" : " (none ran!)");
	if (c->unreachable)
		buf_printf(b, "Database unreachable in %lld check(s)\n", c->unreachable);
	if (c->crit + c->warn + c->resolved + c->open == 0) {
		buf_puts(b, "Alerts: none. A quiet period.\n");
	} else {
		buf_printf(
		    b, "Alerts: %lld critical, %lld warning opened; %lld resolved; %lld open now\n",
		    c->crit, c->warn, c->resolved, c->open);
		char ack[32] = "-", res[32] = "-";
		if (c->ack_s >= 0)
			notify_format_duration(ack, sizeof(ack), c->ack_s);
		if (c->resolve_s >= 0)
			notify_format_duration(res, sizeof(res), c->resolve_s);
		buf_printf(b, "Median time to ack %s, to resolve %s\n", ack, res);
	}
	buf_printf(b, "Messages: %lld sent, %lld delivered, %lld read, %lld failed", c->sent,
	           c->delivered, c->read, c->failed);
	if (c->suppressed)
		buf_printf(b, ", %lld suppressed", c->suppressed);
	buf_puts(b, "\n");
}

/* "Orders: 120 vs 100 the day before (+20.0%)", or why they are unavailable. */
static void format_orders(struct buf *b, int weekly, double now_orders, double prev_orders,
                          const char *err)
{
	if (err) {
		buf_printf(b, "Orders: unavailable (%.80s)\n", err);
		return;
	}
	buf_printf(b, "Orders: %.0f vs %.0f the %s before", now_orders, prev_orders,
	           weekly ? "week" : "day");
	if (prev_orders > 0)
		buf_printf(b, " (%+.1f%%)", 100.0 * (now_orders - prev_orders) / prev_orders);
	buf_puts(b, "\n");
}

static void orders_line(struct buf *b, const struct config *cfg, const struct slot *s, int weekly)
{
	double now_orders = 0, prev_orders = 0;
	char *err = NULL;
	if (collect_orders_between(cfg, (long long)s->from, (long long)s->at,
	                           (long long)(s->from - (s->at - s->from)), &now_orders,
	                           &prev_orders, &err) == 0)
		format_orders(b, weekly, now_orders, prev_orders, NULL);
	else
		format_orders(b, weekly, 0, 0, err ? err : "");
	free(err);
}

/* The latest database figures into f (slow_query points into the result: PQclear after). */
static PGresult *load_figures(struct db *db, struct db_figures *f)
{
	PGresult *r = db_query(db,
	                       "SELECT DISTINCT ON (metric) metric, value, coalesce(detail, '')"
	                       " FROM metric_samples WHERE target = '' AND metric IN"
	                       " ('database_size_bytes', 'database_growth_bytes_per_day',"
	                       "  'database_days_until_full', 'slowest_query_mean_ms')"
	                       " ORDER BY metric, sampled_at DESC",
	                       0, NULL);
	*f = (struct db_figures){NAN, NAN, NAN, NAN, ""};
	for (int i = 0; r && i < PQntuples(r); i++) {
		const char *m = PQgetvalue(r, i, 0);
		double v = PQgetisnull(r, i, 1) ? NAN : strtod(PQgetvalue(r, i, 1), NULL);
		if (!strcmp(m, "database_size_bytes"))
			f->size = v;
		else if (!strcmp(m, "database_growth_bytes_per_day"))
			f->growth = v;
		else if (!strcmp(m, "database_days_until_full"))
			f->days = v;
		else {
			f->slow = v;
			f->slow_query = PQgetvalue(r, i, 2);
		}
	}
	return r;
}

/* "Database: 1.2 GB, +3.4 MB/day, full in 80 days" and the slowest query, when known. */
static void format_figures(struct buf *b, const struct db_figures *f)
{
	if (!isnan(f->size)) {
		char sz[32], gr[32];
		human_bytes(sz, sizeof(sz), f->size);
		buf_printf(b, "Database: %s", sz);
		if (!isnan(f->growth)) {
			human_bytes(gr, sizeof(gr), f->growth);
			buf_printf(b, ", %s%s/day", f->growth >= 0 ? "+" : "", gr);
		}
		if (!isnan(f->days))
			buf_printf(b, ", full in %.0f days", f->days);
		buf_puts(b, "\n");
	}
	if (!isnan(f->slow) && f->slow > 0)
		buf_printf(b, "Slowest query: %.0f ms mean (%.120s)\n", f->slow, f->slow_query);
}

char *report_text(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                  int late)
{
	struct period_counts c;
	if (load_counts(db, s, &c) < 0)
		return NULL;
	struct buf b = BUF_INIT(OUTBOX_MAX_CONTENT - 100);
	char f[40], t[40];
	local_time(cfg, s->from, f, sizeof(f));
	local_time(cfg, s->at, t, sizeof(t));
	buf_printf(&b, "%s report%s\n%s to %s (%s)\n", weekly ? "Weekly" : "Daily",
	           late ? " (LATE)" : "", f, t, cfg->timezone);
	format_counts(&b, &c);
	orders_line(&b, cfg, s, weekly);
	struct db_figures fig;
	PGresult *r = load_figures(db, &fig);
	if (!r) {
		buf_release(&b);
		return NULL;
	}
	format_figures(&b, &fig);
	PQclear(r);
	return buf_detach(&b);
}

int report_queue(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                 const char *text)
{
	const struct phone_list *to = cfg->report.n ? &cfg->report : &cfg->critical;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	for (int i = 0; i < to->n; i++) {
		char *key =
		    xasprintf("report:%s:%s:%s", weekly ? "weekly" : "daily", s->key, to->num[i]);
		struct outbox_msg m = {
		    .phone = to->num[i],
		    .content = text,
		    .priority = "info",
		    .kind = "report",
		    .key = key,
		};
		delivery_batch_add(&b, &m);
		free(key);
	}
	struct delivery_result r;
	int ret = delivery_submit(db, cfg, &b, &r);
	delivery_batch_release(&b);
	return ret < 0 ? -1 : r.queued;
}
