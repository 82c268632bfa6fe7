/*
 * GET /monitoring/alerts: alert and message statistics (24 h, 7 d, 30 d), open alerts with
 * their escalation state, pause and delivery state, recent messages.
 * ?limit=1..500 (default 20) recent messages; ?since=<RFC 3339> only messages created since.
 */
#include <stdlib.h>
#include <string.h>

#include "monitor/alertsview.h"
#include "app/app.h"
#include "core/util.h"

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "GET,HEAD") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0)
		return;
	long long limit = ALERTSVIEW_LIMIT_DEFAULT, since = 0;
	const char *why;
	char *v = NULL;
	if (http_query_param(req, "limit", &v) < 0)
		return;
	if (v && parse_int(v, 1, ALERTSVIEW_LIMIT_MAX, &limit, &why) < 0) {
		http_send_field_error(req, 400, "invalid_parameter", "limit", "limit %s (1..%d)",
		                      why, ALERTSVIEW_LIMIT_MAX);
		free(v);
		return;
	}
	free(v);
	if (http_query_param(req, "since", &v) < 0)
		return;
	if (v && parse_timestamp(v, &since, &why) < 0) {
		http_send_field_error(req, 400, "invalid_parameter", "since", "since %s", why);
		free(v);
		return;
	}
	free(v);
	struct json_object *o = NULL;
	if (alertsview_build(&app->db, (int)limit, since, &o) < 0) {
		http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
		return;
	}
	http_send_json(req, 200, o);
	json_object_put(o);
}

int main(void)
{
	return app_main("alerts", 1, handle, NULL);
}
