/*
 * The platform's tenant endpoints, with Authorization: Bearer $PLATFORM_API_KEY:
 *   POST /tenants                              create or update by external_id (201 new, 200
 * existing) GET  /tenants?limit=&after=                a page of tenants in id order GET
 * /tenants/{external_id}                one tenant (404 unknown) POST
 * /tenants/{external_id}/suspend        status suspended (idempotent) POST
 * /tenants/{external_id}/reactivate     status active (idempotent) The seller's own routes
 * (/tenants/me, login, session) are the next slice of issue 16; their names are reserved external
 * ids (tenant.c) so they can never name a tenant here.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/util.h"
#include "tenants/tenant.h"

static void send_tenant(struct http_req *req, int status, const struct tenant *t)
{
	struct json_object *o = tenant_to_json(t);
	http_send_json(req, status, o);
	json_object_put(o);
}

static void send_unavailable(struct http_req *req)
{
	http_send_error(req, 503, "state_database_unavailable",
	                "the state database is unavailable");
}

static void handle_upsert(struct app *app, struct http_req *req)
{
	struct json_object *body = NULL;
	struct tenant_input in = {0};
	struct tenant t = {0};
	char *field = NULL, *err = NULL;
	int created = 0;
	if (http_read_body(req, (size_t)app->cfg.max_body_bytes) < 0)
		return;
	if (json_parse_object(req->body.data ? req->body.data : "", req->body.len, &body, &err) <
	    0) {
		http_send_error(req, 400, "invalid_json", "%s", err);
		goto out;
	}
	if (tenant_parse(body, &in, &field, &err) < 0) {
		http_send_field_error(req, 400, "invalid_field", field, "%s", err);
		goto out;
	}
	if (tenant_upsert(&app->db, &in, &t, &created) < 0) {
		send_unavailable(req);
		goto out;
	}
	log_info("tenant_upserted", "tenant %lld (%s) %s", t.id, t.external_id,
	         created ? "created" : "updated");
	send_tenant(req, created ? 201 : 200, &t);
out:
	tenant_release(&t);
	tenant_input_release(&in);
	json_object_put(body);
	free(field);
	free(err);
}

/* A query parameter as an integer in [min, max]; def when absent. 0, or -1 with a 400 sent. */
static int int_param(struct http_req *req, const char *key, long long min, long long max,
                     long long def, long long *out)
{
	char *v = NULL;
	const char *why = NULL;
	*out = def;
	if (http_query_param(req, key, &v) < 0)
		return -1;
	if (v && parse_int(v, min, max, out, &why) < 0) {
		http_send_field_error(req, 400, "invalid_parameter", key, "%s %s", key, why);
		free(v);
		return -1;
	}
	free(v);
	return 0;
}

static void handle_list(struct app *app, struct http_req *req)
{
	long long limit, after, next;
	struct tenant *list = NULL;
	int n = 0;
	if (int_param(req, "limit", 1, TENANT_LIST_MAX, TENANT_LIST_DEFAULT, &limit) < 0 ||
	    int_param(req, "after", 0, INT64_MAX, 0, &after) < 0)
		return;
	if (tenant_list(&app->db, after, (int)limit, &list, &n, &next) < 0) {
		send_unavailable(req);
		return;
	}
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(a, tenant_to_json(&list[i]));
	json_object_object_add(o, "tenants", a);
	json_object_object_add(o, "next_after", next ? json_object_new_int64(next) : NULL);
	http_send_json(req, 200, o);
	json_object_put(o);
	tenant_list_free(list, n);
}

static void answer_load(struct http_req *req, int rc, const struct tenant *t)
{
	if (rc < 0)
		send_unavailable(req);
	else if (rc > 0)
		http_send_error(req, 404, "tenant_not_found", "no such tenant");
	else
		send_tenant(req, 200, t);
}

static void handle_get(struct app *app, struct http_req *req, const char *external_id)
{
	struct tenant t = {0};
	answer_load(req, tenant_load_external(&app->db, external_id, &t), &t);
	tenant_release(&t);
}

static void set_status(struct app *app, struct http_req *req, const char *external_id,
                       const char *status)
{
	struct tenant t = {0};
	int rc = tenant_set_status(&app->db, external_id, status, &t);
	if (rc == 0)
		log_info("tenant_status", "tenant %lld (%s) %s", t.id, t.external_id, t.status);
	answer_load(req, rc, &t);
	tenant_release(&t);
}

static void handle_suspend(struct app *app, struct http_req *req, const char *external_id)
{
	set_status(app, req, external_id, "suspended");
}

static void handle_reactivate(struct app *app, struct http_req *req, const char *external_id)
{
	set_status(app, req, external_id, "active");
}

/* The routes under /tenants/{external_id}: the part after the id, its methods, its handler. */
static const struct {
	const char *suffix;
	const char *methods;
	void (*handler)(struct app *app, struct http_req *req, const char *external_id);
} tenant_routes[] = {
    {"", "GET,HEAD", handle_get},
    {"/suspend", "POST", handle_suspend},
    {"/reactivate", "POST", handle_reactivate},
};

static void route_tenant(struct app *app, struct http_req *req, const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	char *id = xstrndup(rest, idlen), *checked = NULL;
	const char *why;
	const char *suffix = rest + idlen;
	for (size_t i = 0; i < sizeof(tenant_routes) / sizeof(tenant_routes[0]); i++) {
		if (strcmp(suffix, tenant_routes[i].suffix) != 0)
			continue;
		if (http_require_method(req, tenant_routes[i].methods) < 0)
			goto out;
		/* An id that could not have been created names no tenant. */
		if (tenant_check_field(TF_EXTERNAL_ID, id, &checked, &why) < 0)
			http_send_error(req, 404, "tenant_not_found", "no such tenant");
		else
			tenant_routes[i].handler(app, req, checked);
		goto out;
	}
	http_send_error(req, 404, "not_found", "no such endpoint");
out:
	free(checked);
	free(id);
}

static void handle(struct app *app, struct http_req *req)
{
	if (http_require_key(req, app->cfg.platform_api_key, "PLATFORM_API_KEY") < 0)
		return;
	if (strcmp(req->path, "/tenants") == 0) {
		if (http_require_method(req, "GET,HEAD,POST") < 0)
			return;
		if (strcmp(req->method, "POST") == 0)
			handle_upsert(app, req);
		else
			handle_list(app, req);
	} else if (strncmp(req->path, "/tenants/", 9) == 0 && req->path[9]) {
		route_tenant(app, req, req->path + 9);
	} else {
		http_send_error(req, 404, "not_found", "no such endpoint");
	}
}

int main(void)
{
	return app_main("tenants", 0, handle, NULL);
}
