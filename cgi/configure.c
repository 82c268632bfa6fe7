/*
 * GET  /monitoring/configure: effective thresholds and settings, secrets redacted.
 * POST /monitoring/configure: change thresholds and runtime settings (see configure.h).
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "monitor/configure.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/util.h"

static void send_config(struct app *app, struct http_req *req, int status)
{
	struct json_object *o = config_to_json(&app->cfg);
	PGresult *res = db_query_idem(&app->db,
	                              "SELECT key, old_value, new_value, changed_by,"
	                              " to_char(changed_at AT TIME ZONE 'UTC',"
	                              " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	                              " FROM settings_history ORDER BY id DESC LIMIT 20",
	                              0, NULL);
	if (res) {
		struct json_object *h = json_object_new_array();
		for (int i = 0; i < PQntuples(res); i++) {
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "key",
			                       json_object_new_string(PQgetvalue(res, i, 0)));
			json_object_object_add(e, "old_value",
			                       PQgetisnull(res, i, 1)
			                           ? NULL
			                           : json_object_new_string(PQgetvalue(res, i, 1)));
			json_object_object_add(e, "new_value",
			                       json_object_new_string(PQgetvalue(res, i, 2)));
			json_object_object_add(e, "changed_by",
			                       json_object_new_string(PQgetvalue(res, i, 3)));
			json_object_object_add(e, "changed_at",
			                       json_object_new_string(PQgetvalue(res, i, 4)));
			json_object_array_add(h, e);
		}
		json_object_object_add(o, "history", h);
		PQclear(res);
	}
	http_send_json(req, status, o);
	json_object_put(o);
}

static void handle_post(struct app *app, struct http_req *req)
{
	struct json_object *body = NULL;
	struct setting_changes changes = {0};
	char *field = NULL, *err = NULL;
	if (http_read_json(req, (size_t)app->cfg.max_body_bytes, &body) < 0)
		return;
	if (configure_parse(&app->cfg, body, &changes, &field, &err) < 0) {
		struct json_object *root = json_object_new_object(), *e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_string("invalid_field"));
		char *msg = *field ? xasprintf("%s: %s", field, err) : xstrdup(err);
		json_object_object_add(e, "message", json_object_new_string(msg));
		json_object_object_add(e, "field", json_object_new_string(field));
		json_object_object_add(root, "error", e);
		http_send_json(req, 400, root);
		json_object_put(root);
		free(msg);
		goto out;
	}
	const char *addr = http_param(req, "REMOTE_ADDR");
	char *who = xasprintf("api-token@%s", addr ? addr : "unknown");
	if (settings_store(&app->db, changes.v, changes.n, who, &err) < 0) {
		http_send_error(req, 503, "state_database_unavailable", "%s", err);
	} else {
		for (size_t i = 0; i < changes.n; i++)
			log_info("setting_changed", "%s = %s by %s", changes.v[i].key,
			         changes.v[i].value, who);
		app_load_settings(app);
		send_config(app, req, 200);
	}
	free(who);
out:
	setting_changes_release(&changes);
	json_object_put(body);
	free(field);
	free(err);
}

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "GET,HEAD,POST") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0)
		return;
	app_load_settings(app);
	if (strcmp(req->method, "POST") == 0)
		handle_post(app, req);
	else
		send_config(app, req, 200);
}

int main(void)
{
	return app_main("configure", 1, handle, NULL);
}
