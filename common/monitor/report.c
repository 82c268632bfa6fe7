#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "monitor/collect.h"
#include "monitor/notify.h"
#include "delivery/outbox.h"
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

char *report_text(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                  int late)
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
		return NULL;
	struct buf b = BUF_INIT(OUTBOX_MAX_CONTENT - 100);
	char f[40], t[40];
	local_time(cfg, s->from, f, sizeof(f));
	local_time(cfg, s->at, t, sizeof(t));
	buf_printf(&b, "%s report%s\n%s to %s (%s)\n", weekly ? "Weekly" : "Daily",
	           late ? " (LATE)" : "", f, t, cfg->timezone);
	long long checks = col_ll(r, 0), unreachable = col_ll(r, 1), crit = col_ll(r, 2),
	          warn = col_ll(r, 3), resolved = col_ll(r, 4), open = col_ll(r, 5);
	buf_printf(&b, "Checks: %lld%s\n", checks, checks ? "" : " (none ran!)");
	if (unreachable)
		buf_printf(&b, "Database unreachable in %lld check(s)\n", unreachable);
	if (crit + warn + resolved + open == 0) {
		buf_puts(&b, "Alerts: none. A quiet period.\n");
	} else {
		buf_printf(
		    &b,
		    "Alerts: %lld critical, %lld warning opened; %lld resolved; %lld open now\n",
		    crit, warn, resolved, open);
		char ack[32] = "-", res[32] = "-";
		if (!PQgetisnull(r, 0, 6))
			notify_format_duration(ack, sizeof(ack), col_ll(r, 6));
		if (!PQgetisnull(r, 0, 7))
			notify_format_duration(res, sizeof(res), col_ll(r, 7));
		buf_printf(&b, "Median time to ack %s, to resolve %s\n", ack, res);
	}
	buf_printf(&b, "Messages: %lld sent, %lld delivered, %lld read, %lld failed", col_ll(r, 8),
	           col_ll(r, 9), col_ll(r, 10), col_ll(r, 11));
	if (col_ll(r, 12))
		buf_printf(&b, ", %lld suppressed", col_ll(r, 12));
	buf_puts(&b, "\n");
	PQclear(r);

	double now_orders = 0, prev_orders = 0;
	char *err = NULL;
	if (collect_orders_between(cfg, (long long)s->from, (long long)s->at,
	                           (long long)(s->from - (s->at - s->from)), &now_orders,
	                           &prev_orders, &err) == 0) {
		buf_printf(&b, "Orders: %.0f vs %.0f the %s before", now_orders, prev_orders,
		           weekly ? "week" : "day");
		if (prev_orders > 0)
			buf_printf(&b, " (%+.1f%%)",
			           100.0 * (now_orders - prev_orders) / prev_orders);
		buf_puts(&b, "\n");
	} else {
		buf_printf(&b, "Orders: unavailable (%.80s)\n", err);
		free(err);
	}

	r = db_query(db,
	             "SELECT DISTINCT ON (metric) metric, value, coalesce(detail, '')"
	             " FROM metric_samples WHERE target = '' AND metric IN"
	             " ('database_size_bytes', 'database_growth_bytes_per_day',"
	             "  'database_days_until_full', 'slowest_query_mean_ms')"
	             " ORDER BY metric, sampled_at DESC",
	             0, NULL);
	if (!r) {
		buf_release(&b);
		return NULL;
	}
	double size = NAN, growth = NAN, days = NAN, slow = NAN;
	const char *slow_q = "";
	for (int i = 0; i < PQntuples(r); i++) {
		const char *m = PQgetvalue(r, i, 0);
		double v = PQgetisnull(r, i, 1) ? NAN : strtod(PQgetvalue(r, i, 1), NULL);
		if (!strcmp(m, "database_size_bytes"))
			size = v;
		else if (!strcmp(m, "database_growth_bytes_per_day"))
			growth = v;
		else if (!strcmp(m, "database_days_until_full"))
			days = v;
		else {
			slow = v;
			slow_q = PQgetvalue(r, i, 2);
		}
	}
	if (!isnan(size)) {
		char sz[32], gr[32];
		human_bytes(sz, sizeof(sz), size);
		buf_printf(&b, "Database: %s", sz);
		if (!isnan(growth)) {
			human_bytes(gr, sizeof(gr), growth);
			buf_printf(&b, ", %s%s/day", growth >= 0 ? "+" : "", gr);
		}
		if (!isnan(days))
			buf_printf(&b, ", full in %.0f days", days);
		buf_puts(&b, "\n");
	}
	if (!isnan(slow) && slow > 0)
		buf_printf(&b, "Slowest query: %.0f ms mean (%.120s)\n", slow, slow_q);
	PQclear(r);
	return buf_detach(&b);
}

int report_queue(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                 const char *text)
{
	const struct phone_list *to = cfg->report.n ? &cfg->report : &cfg->critical;
	int queued = 0;
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
		int r = outbox_queue(db, &m);
		free(key);
		if (r < 0)
			return -1;
		queued += r == OUTBOX_QUEUED;
	}
	return queued;
}
