/*
 * GET /monitoring/health: liveness and state-database reachability, and the
 * end-to-end canary's state (monitor/canary.h). No token. A late canary does
 * not change the status or the HTTP code: this answers whether this instance
 * lives, for a load balancer; the canary says whether messages arrive.
 */
#include <time.h>

#include "app/app.h"
#include "monitor/canary.h"

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "GET,HEAD") < 0)
		return;
	struct json_object *o = json_object_new_object();
	PGresult *res = db_query_idem(&app->db,
	                              "SELECT to_char(max(started_at) AT TIME ZONE 'UTC',"
	                              " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM check_runs",
	                              0, NULL);
	int ok = res != NULL;
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "degraded"));
	json_object_object_add(o, "database", json_object_new_string(ok ? "ok" : "unreachable"));
	if (ok && !PQgetisnull(res, 0, 0))
		json_object_object_add(o, "last_check_at",
		                       json_object_new_string(PQgetvalue(res, 0, 0)));
	PQclear(res);
	struct canary_status cs;
	if (ok && canary_status_read(&app->db, &app->cfg, (double)time(NULL), &cs) == 0)
		json_object_object_add(o, "canary", canary_status_json(&cs));
	http_send_json(req, ok ? 200 : 503, o);
	json_object_put(o);
}

int main(void)
{
	return app_main("health", 0, handle, NULL);
}
