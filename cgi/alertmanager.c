/*
 * POST /monitoring/alertmanager: Alertmanager's webhook (payload version 4), with
 * Authorization: Bearer $ALERTMANAGER_TOKEN, into the alert lifecycle
 * (monitor/alertmanager.h).
 *
 *   200  applied and committed: {"alerts":{"opened","changed","resolved"},"messages_queued",...}
 *   400  not a version 4 payload (invalid_json, invalid_payload: the message names the field)
 *   401  no token configured, or a missing or wrong one (unauthorized)
 *   411/413  no Content-Length / body over AM_MAX_BODY
 *   503  the state database cannot take it (state_database_unavailable): Alertmanager
 *        retries a 5xx, never a 4xx, so a storage problem is never a 4xx
 */
#include <stdlib.h>
#include <time.h>

#include "app/app.h"
#include "core/jsonutil.h"
#include "monitor/alertmanager.h"
#include "tenants/amroute.h"

static void handle(struct app *app, struct http_req *req)
{
	struct json_object *body = NULL, *out = NULL;
	struct am_notice n = {0};
	char *err = NULL;
	if (http_require_method(req, "POST") < 0 ||
	    http_require_key(req, app->cfg.alertmanager_token, "ALERTMANAGER_TOKEN") < 0 ||
	    http_read_body(req, AM_MAX_BODY) < 0)
		return;
	if (json_parse_object_max(req->body.data ? req->body.data : "", req->body.len, 0,
	                          AM_MAX_VALUES, &body, &err) < 0) {
		http_send_error(req, 400, "invalid_json", "%s", err);
		goto out;
	}
	if (am_parse(body, &n, &err) < 0) {
		http_send_error(req, 400, "invalid_payload", "%s", err);
		goto out;
	}
	app_load_settings(app);
	if (am_route_apply(&app->db, &app->cfg, &n, time(NULL), &out) < 0) {
		http_send_error(req, 503, "state_database_unavailable",
		                "the alerts could not be stored; Alertmanager will retry");
		goto out;
	}
	http_send_json(req, 200, out);
	app->drain_after = 1;
out:
	am_notice_release(&n);
	json_object_put(body);
	json_object_put(out);
	free(err);
}

int main(void)
{
	return app_main("alertmanager", 0, handle, app_drain);
}
