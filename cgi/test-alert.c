/*
 * POST /monitoring/test-alert: {"severity":"critical"|"warning","message":"..."} through the
 * real routing and the outbox; answers with the queued messages and, for a warning outside
 * business hours, when it will go.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/jsonutil.h"
#include "monitor/testalert.h"
#include "core/util.h"

static void handle(struct app *app, struct http_req *req)
{
	struct json_object *body = NULL, *out = NULL;
	const char *severity = NULL, *message = "test alert from the monitoring service";
	char *err = NULL;
	if (http_require_method(req, "POST") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0 ||
	    http_read_body(req, (size_t)app->cfg.max_body_bytes) < 0)
		return;
	if (json_parse_object(req->body.data ? req->body.data : "", req->body.len, &body, &err) <
	    0) {
		http_send_error(req, 400, "invalid_json", "%s", err);
		goto out;
	}
	json_object_object_foreach(body, key, val)
	{
		if (strcmp(key, "severity") == 0 && json_object_is_type(val, json_type_string) &&
		    (strcmp(json_object_get_string(val), "critical") == 0 ||
		     strcmp(json_object_get_string(val), "warning") == 0)) {
			severity = json_object_get_string(val);
		} else if (strcmp(key, "message") == 0 &&
		           json_object_is_type(val, json_type_string) &&
		           json_object_get_string_len(val) > 0 &&
		           json_object_get_string_len(val) <= TESTALERT_MAX_MESSAGE) {
			message = json_object_get_string(val);
		} else if (strcmp(key, "severity") == 0 || strcmp(key, "message") == 0) {
			http_send_error(
			    req, 400, "invalid_field",
			    strcmp(key, "severity") == 0
			        ? "severity must be \"critical\" or \"warning\""
			        : "message must be a non-empty string of at most 1000 bytes");
			goto out;
		} else {
			http_send_error(req, 400, "unknown_field",
			                "unknown field '%s' (allowed: severity, message)", key);
			goto out;
		}
	}
	if (!severity) {
		http_send_error(req, 400, "invalid_field", "severity is required");
		goto out;
	}
	app_load_settings(app);
	if (testalert_queue(&app->db, &app->cfg, severity, message, &out, &err) < 0) {
		http_send_error(req, 503, "state_database_unavailable", "%s", err);
		goto out;
	}
	http_send_json(req, 200, out);
	app->drain_after = 1;
out:
	json_object_put(body);
	json_object_put(out);
	free(err);
}

int main(void)
{
	return app_main("test-alert", 1, handle, app_drain);
}
