/* POST /monitoring/check: run a monitoring check now. Body (optional):
 * {"mode":"normal"|"emergency"}. */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "monitor/check.h"
#include "core/jsonutil.h"
#include "core/util.h"

/* Parse the optional body. 0 and *emergency, or -1 with the 400 sent. */
static int parse_body(struct http_req *req, int *emergency)
{
	*emergency = 0;
	if (req->body.len == 0)
		return 0;
	struct json_object *body = NULL;
	char *why = NULL;
	if (json_parse_object(req->body.data, req->body.len, &body, &why) < 0) {
		http_send_error(req, 400, "invalid_json", "%s", why);
		free(why);
		return -1;
	}
	int ret = 0;
	json_object_object_foreach(body, key, val)
	{
		if (strcmp(key, "mode") != 0) {
			http_send_error(req, 400, "unknown_field",
			                "unknown field '%s' (allowed: mode)", key);
			ret = -1;
			break;
		}
		if (!json_object_is_type(val, json_type_string)) {
			http_send_error(req, 400, "invalid_field", "mode must be a string, got %s",
			                json_type_label(val));
			ret = -1;
			break;
		}
		const char *m = json_object_get_string(val);
		if (strcmp(m, "emergency") == 0) {
			*emergency = 1;
		} else if (strcmp(m, "normal") != 0) {
			http_send_error(req, 400, "invalid_field",
			                "mode must be \"normal\" or \"emergency\"");
			ret = -1;
			break;
		}
	}
	json_object_put(body);
	return ret;
}

static void handle(struct app *app, struct http_req *req)
{
	int emergency;
	if (http_require_method(req, "POST") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0 ||
	    http_read_body(req, (size_t)app->cfg.max_body_bytes) < 0 ||
	    parse_body(req, &emergency) < 0)
		return;
	app_load_settings(app);
	struct check_opts opts = {.emergency = emergency, .trigger = "api"};
	struct json_object *result = NULL;
	char *err = NULL;
	if (check_run(&app->db, &app->cfg, &opts, &result, &err) == 0) {
		http_send_json(req, 200, result);
		app->drain_after = 1;
	} else {
		struct json_object *root = json_object_new_object(), *e = json_object_new_object();
		json_object_object_add(e, "code",
		                       json_object_new_string("state_database_unavailable"));
		json_object_object_add(e, "message", json_object_new_string(err));
		json_object_object_add(root, "error", e);
		json_object_object_add(root, "result", json_object_get(result));
		http_send_json(req, 503, root);
		json_object_put(root);
	}
	json_object_put(result);
	free(err);
}

int main(void)
{
	return app_main("check", 1, handle, app_drain);
}
