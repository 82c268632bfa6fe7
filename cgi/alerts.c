/* GET /monitoring/alerts: open alerts, alert statistics and recent messages. */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "util.h"

static struct json_object *rows_json(PGresult *res)
{
	struct json_object *arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_object_new_object();
		for (int c = 0; c < PQnfields(res); c++) {
			struct json_object *v = NULL;
			if (!PQgetisnull(res, i, c)) {
				const char *s = PQgetvalue(res, i, c);
				Oid t = PQftype(res, c);
				if (t == 20 || t == 23) /* int8, int4 */
					v = json_object_new_int64(strtoll(s, NULL, 10));
				else if (t == 701) /* float8 */
					v = json_object_new_double(strtod(s, NULL));
				else if (t == 16) /* bool */
					v = json_object_new_boolean(strcmp(s, "t") == 0);
				else
					v = json_object_new_string(s);
			}
			json_object_object_add(o, PQfname(res, c), v);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const struct {
	const char *name;
	const char *sql;
} sections[] = {
    {"open",
     "SELECT id, rule, target, severity, value, threshold, message, " TS(
         "opened_at") " AS opened_at, " TS("acknowledged_at") " AS acknowledged_at, acknowledged_by"
                                                              " FROM alerts WHERE status = 'open' "
                                                              "ORDER BY severity = 'critical' "
                                                              "DESC, opened_at"},
    {"recently_resolved",
     "SELECT id, rule, target, severity, message, " TS("opened_at") " AS opened_at, " TS(
         "resolved_at") " AS resolved_at FROM alerts WHERE status = 'resolved'"
                        " ORDER BY resolved_at DESC LIMIT 20"},
    {"stats_7d",
     "SELECT severity, count(*)::int8 AS opened, count(*) FILTER (WHERE status = 'resolved')::int8"
     " AS resolved, count(*) FILTER (WHERE acknowledged_at IS NOT NULL)::int8 AS acknowledged"
     " FROM alerts WHERE opened_at > now() - interval '7 days' GROUP BY severity ORDER BY 1"},
    {"messages_by_status_7d",
     "SELECT status, count(*)::int8 AS count FROM whatsapp_logs"
     " WHERE created_at > now() - interval '7 days' GROUP BY status ORDER BY 1"},
    {"recent_messages",
     "SELECT id, phone_number, priority, status, kind, message_content, " TS(
         "created_at") " AS created_at, " TS("sent_at") " AS sent_at, attempts, last_error"
                                                        " FROM whatsapp_logs ORDER BY id DESC "
                                                        "LIMIT 20"},
};

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "GET,HEAD") < 0 ||
	    http_require_bearer(req, app->cfg.api_token) < 0)
		return;
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < ARRAY_LEN(sections); i++) {
		PGresult *res = db_query_idem(&app->db, sections[i].sql, 0, NULL);
		if (!res) {
			json_object_put(o);
			http_send_error(req, 503, "state_database_unavailable", "%s", app->db.err);
			return;
		}
		json_object_object_add(o, sections[i].name, rows_json(res));
		PQclear(res);
	}
	http_send_json(req, 200, o);
	json_object_put(o);
}

int main(void)
{
	return app_main("alerts", 1, handle);
}
