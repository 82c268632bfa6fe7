/*
 * GET /monitoring/metrics: the samples of the latest check and the canary's
 * status (monitor/canary.h) as JSON, or, with ?format=prometheus, the
 * service's numbers in Prometheus' text exposition format
 * (monitor/exposition.h, then the canary's families).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/buf.h"
#include "core/util.h"
#include "monitor/canary.h"
#include "monitor/exposition.h"

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

/* The JSON answer: the latest check's samples, and the canary (canary.h; its status or null). */
static void send_json(struct http_req *req, PGresult *res, struct json_object *canary)
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
	json_object_object_add(o, "canary", canary);
	http_send_json(req, 200, o);
	json_object_put(o);
}

static void send_prometheus(struct app *app, struct http_req *req)
{
	struct buf b = BUF_INIT(METRICS_MAX_OUTPUT);
	struct canary_status cs;
	int r = exposition_write(&app->db, &b);
	if (r == 0)
		r = canary_status_read(&app->db, &app->cfg, (double)time(NULL), &cs) < 0 ? -1
		    : canary_prom_write(&b, &cs) < 0                                     ? -2
		                                                                         : 0;
	if (r == -1)
		http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
	else if (r < 0)
		http_send_error(req, 500, "internal_error", "the exposition passed %d bytes",
		                METRICS_MAX_OUTPUT);
	else
		http_send_text(req, 200, EXPOSITION_CONTENT_TYPE, buf_str(&b), b.len);
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
	if (prom) {
		send_prometheus(app, req);
		return;
	}
	PGresult *res = db_query_idem(&app->db, LATEST_SQL, 0, NULL);
	if (!res) {
		http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
		return;
	}
	struct canary_status cs;
	if (canary_status_read(&app->db, &app->cfg, (double)time(NULL), &cs) < 0) {
		PQclear(res);
		http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
		return;
	}
	send_json(req, res, canary_status_json(&cs));
	PQclear(res);
}

int main(void)
{
	return app_main("metrics", 1, handle, NULL);
}
