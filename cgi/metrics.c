/*
 * GET /monitoring/metrics: the samples of the latest check as JSON, or the
 * Prometheus text exposition format with ?format=prometheus.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/util.h"

#define METRICS_MAX_OUTPUT (8 * 1024 * 1024)

static const char *LATEST_SQL =
    "SELECT m.metric, m.target, m.value, m.verdict, m.warning, m.critical, m.detail,"
    " to_char(m.sampled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " extract(epoch FROM m.sampled_at), r.id, r.reachable"
    " FROM metric_samples m"
    " JOIN (SELECT id, reachable FROM check_runs ORDER BY id DESC LIMIT 1) r"
    "   ON m.check_run_id = r.id"
    " ORDER BY m.id";

static struct json_object *num_or_null(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return json_object_new_double(strtod(PQgetvalue(res, row, col), NULL));
}

static void send_json(struct http_req *req, PGresult *res)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *m = json_object_new_object();
		int id = metric_by_name(PQgetvalue(res, i, 0));
		json_object_object_add(m, "metric", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(m, "target", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(m, "value", num_or_null(res, i, 2));
		json_object_object_add(m, "unit",
		                       json_object_new_string(id >= 0 ? metric_defs[id].unit : ""));
		json_object_object_add(m, "verdict", json_object_new_string(PQgetvalue(res, i, 3)));
		json_object_object_add(m, "warning", num_or_null(res, i, 4));
		json_object_object_add(m, "critical", num_or_null(res, i, 5));
		if (!PQgetisnull(res, i, 6))
			json_object_object_add(m, "detail",
			                       json_object_new_string(PQgetvalue(res, i, 6)));
		json_object_object_add(m, "time", json_object_new_string(PQgetvalue(res, i, 7)));
		json_object_array_add(arr, m);
	}
	if (PQntuples(res) > 0) {
		json_object_object_add(
		    o, "check_id", json_object_new_int64(strtoll(PQgetvalue(res, 0, 9), NULL, 10)));
		json_object_object_add(o, "time", json_object_new_string(PQgetvalue(res, 0, 7)));
	} else {
		json_object_object_add(o, "check_id", NULL);
	}
	json_object_object_add(o, "metrics", arr);
	http_send_json(req, 200, o);
	json_object_put(o);
}

/* Label values escape backslash, double quote and newline. */
static void label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '"')
			buf_puts(b, "\\\"");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

static void send_prometheus(struct http_req *req, PGresult *res)
{
	struct buf b = BUF_INIT(METRICS_MAX_OUTPUT);
	int n = PQntuples(res);
	/* Group by metric: HELP/TYPE once per family, samples in check order. */
	for (int m = 0; m < M_COUNT; m++) {
		int header = 0;
		for (int i = 0; i < n; i++) {
			if (strcmp(PQgetvalue(res, i, 0), metric_defs[m].name) != 0 ||
			    PQgetisnull(res, i, 2))
				continue;
			if (!header) {
				buf_printf(&b, "# HELP whatsapp_monitor_%s %s (%s)\n",
				           metric_defs[m].name, metric_defs[m].help,
				           metric_defs[m].unit);
				buf_printf(&b, "# TYPE whatsapp_monitor_%s gauge\n",
				           metric_defs[m].name);
				header = 1;
			}
			buf_printf(&b, "whatsapp_monitor_%s{target=\"", metric_defs[m].name);
			label(&b, PQgetvalue(res, i, 1));
			buf_printf(&b, "\"} %.17g\n", strtod(PQgetvalue(res, i, 2), NULL));
		}
	}
	buf_puts(&b, "# HELP whatsapp_monitor_verdict Verdict of each metric at the latest check: "
	             "0 ok, 1 warning, 2 critical, -1 unavailable, -2 skipped\n"
	             "# TYPE whatsapp_monitor_verdict gauge\n");
	for (int i = 0; i < n; i++) {
		const char *v = PQgetvalue(res, i, 3);
		int code = strcmp(v, "ok") == 0            ? 0
		           : strcmp(v, "warning") == 0     ? 1
		           : strcmp(v, "critical") == 0    ? 2
		           : strcmp(v, "unavailable") == 0 ? -1
		                                           : -2;
		buf_puts(&b, "whatsapp_monitor_verdict{metric=\"");
		label(&b, PQgetvalue(res, i, 0));
		buf_puts(&b, "\",target=\"");
		label(&b, PQgetvalue(res, i, 1));
		buf_printf(&b, "\"} %d\n", code);
	}
	if (n > 0)
		buf_printf(
		    &b,
		    "# HELP whatsapp_monitor_last_check_timestamp_seconds Time of the latest "
		    "check\n# TYPE whatsapp_monitor_last_check_timestamp_seconds gauge\n"
		    "whatsapp_monitor_last_check_timestamp_seconds %.3f\n",
		    strtod(PQgetvalue(res, 0, 8), NULL));
	http_send_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&b), b.len);
	buf_release(&b);
}

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "GET,HEAD") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0)
		return;
	char *format = NULL;
	if (http_query_param(req, "format", &format) < 0)
		return;
	int prom = 0;
	if (format && strcmp(format, "prometheus") == 0) {
		prom = 1;
	} else if (format && strcmp(format, "json") != 0) {
		http_send_field_error(req, 400, "invalid_parameter", "format",
		                      "format must be json or prometheus");
		free(format);
		return;
	}
	free(format);
	PGresult *res = db_query_idem(&app->db, LATEST_SQL, 0, NULL);
	if (!res) {
		http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
		return;
	}
	if (prom)
		send_prometheus(req, res);
	else
		send_json(req, res);
	PQclear(res);
}

int main(void)
{
	return app_main("metrics", 1, handle, NULL);
}
