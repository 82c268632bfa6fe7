/*
 * The tenant endpoints.
 * The platform's, with Authorization: Bearer $PLATFORM_API_KEY:
 *   POST /tenants                           create or update by external_id (201 new, 200 not)
 *   GET  /tenants?limit=&after=             a page of tenants in id order
 *   GET  /tenants/{external_id}             one tenant (404 unknown)
 *   POST /tenants/{external_id}/suspend     status suspended (idempotent)
 *   POST /tenants/{external_id}/reactivate  status active (idempotent)
 * The seller's, with the platform's JWT or a session token (tenants/auth.h), scoped by it:
 *   GET, PATCH /tenants/me                  the seller's own tenant; a new number is verified
 *   POST /tenants/me/verify                 the code sent to the new number
 *   GET, PATCH /tenants/me/preferences      the seller's alert preferences (tenants/prefs.h)
 *   GET /tenants/me/alerts?limit=&before=   the alerts sent to the seller, their delivery and
 *                                           the 7- and 30-day figures (tenants/alertlist.h)
 * and the WhatsApp login, without a token (tenants/login.h):
 *   POST /tenants/login                     send a code to a seller's number
 *   POST /tenants/session                   number + code -> session token
 *   DELETE /tenants/session                 end the session (its token)
 * The seller's route names are reserved external ids (tenant.c): they never name a tenant.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/util.h"
#include "core/secret.h"
#include "tenants/alertlist.h"
#include "tenants/auth.h"
#include "tenants/login.h"
#include "tenants/prefs.h"
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

static void send_in_use(struct http_req *req)
{
	http_send_field_error(req, 409, LOGIN_E_IN_USE, "whatsapp_number",
	                      "whatsapp_number is already another shop's number");
}

static void handle_upsert(struct app *app, struct http_req *req)
{
	struct json_object *body = NULL;
	struct tenant_input in = {0};
	struct tenant t = {0};
	char *field = NULL, *err = NULL;
	int created = 0, rc;
	if (http_read_json(req, (size_t)app->cfg.max_body_bytes, &body) < 0)
		return;
	if (tenant_parse(body, &in, &field, &err) < 0) {
		http_send_field_error(req, 400, "invalid_field", field, "%s", err);
		goto out;
	}
	rc = tenant_upsert(&app->db, &in, &t, &created);
	if (rc == TENANT_NUMBER_IN_USE) {
		send_in_use(req);
		goto out;
	}
	if (rc < 0) {
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

static void handle_platform(struct app *app, struct http_req *req)
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

/* ------------------------------------------------------------------ the seller's routes */

/* The authenticated seller of a request. */
struct seller {
	struct tenant_identity id;
	struct tenant t;
};

/* 0 and *s (release s->t); or -1 and a 401 (or 503) sent. */
static int authenticate(struct app *app, struct http_req *req, struct seller *s)
{
	const char *code = NULL;
	int rc = tenant_authenticate(&app->db, &app->cfg, http_param(req, "HTTP_AUTHORIZATION"),
	                             (long long)time(NULL), &s->id, &s->t, &code);
	if (rc < 0)
		send_unavailable(req);
	else if (rc > 0)
		http_send_error(req, 401, code, "%s", tenant_auth_message(code));
	return rc == 0 ? 0 : -1;
}

/* The client's address, as nginx saw it (REMOTE_ADDR): what the per-address limits count. */
static const char *client_address(struct http_req *req)
{
	const char *a = http_param(req, "REMOTE_ADDR");
	return a ? a : "";
}

/*
 * A small JSON body of string members: exactly the n names (all required, none other). 0 and
 * out[i] (borrowed from *body: put it after); or -1 with a 400 sent.
 */
static int read_strings(struct app *app, struct http_req *req, const char *const *names, size_t n,
                        const char **out, struct json_object **body)
{
	if (http_read_json(req, (size_t)app->cfg.max_body_bytes, body) < 0)
		return -1;
	json_object_object_foreach(*body, key, val)
	{
		size_t i = 0;
		while (i < n && strcmp(key, names[i]) != 0)
			i++;
		if (i == n) {
			http_send_field_error(req, 400, "invalid_field", key, "%s: unknown member",
			                      key);
			return -1;
		}
		(void)val;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = NULL;
		if (!json_object_object_get_ex(*body, names[i], &v) ||
		    !json_object_is_type(v, json_type_string)) {
			http_send_field_error(req, 400, "invalid_field", names[i],
			                      "%s is required, as a string", names[i]);
			return -1;
		}
		out[i] = json_object_get_string(v);
	}
	return 0;
}

/* A number of a login request, normalised (caller frees); NULL and a 400 sent. */
static char *read_number(struct http_req *req, const char *s)
{
	char *number = NULL;
	const char *why;
	if (tenant_check_field(TF_WHATSAPP_NUMBER, s, &number, &why) < 0)
		http_send_field_error(req, 400, "invalid_field", "whatsapp_number",
		                      "whatsapp_number %s", why);
	return number;
}

static int code_format(struct http_req *req, const char *code)
{
	if (login_code_format_ok(code))
		return 0;
	http_send_field_error(req, 400, "invalid_field", "code",
	                      "code must be the %d digits sent to you on WhatsApp",
	                      LOGIN_CODE_DIGITS);
	return -1;
}

/* Codes need TENANT_CODE_SECRET. 0, or -1 and a 503 sent. */
static int codes_configured(struct app *app, struct http_req *req, const char *what)
{
	if (*app->cfg.tenant_code_secret)
		return 0;
	http_send_error(req, 503, what, "codes cannot be sent: TENANT_CODE_SECRET is not set");
	return -1;
}

static void send_limited(struct http_req *req, long long retry_after)
{
	http_send_retry(req, retry_after, "rate_limited",
	                "too many code requests: try again in %lld seconds", retry_after);
}

static void handle_login(struct app *app, struct http_req *req)
{
	static const char *const names[] = {"whatsapp_number"};
	const char *v[1];
	struct json_object *body = NULL;
	char *number = NULL;
	long long wait = 0;
	if (codes_configured(app, req, "login_unavailable") < 0 ||
	    read_strings(app, req, names, 1, v, &body) < 0 || !(number = read_number(req, v[0])))
		goto out;
	int rc = login_request(&app->db, &app->cfg, number, client_address(req), &wait);
	if (rc < 0) {
		send_unavailable(req);
	} else if (rc == LOGIN_LIMITED) {
		send_limited(req, wait);
	} else {
		/* The same answer whether or not the number is a seller's. */
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "status",
		                       json_object_new_string("code_sent_if_registered"));
		json_object_object_add(o, "expires_in_seconds",
		                       json_object_new_int64(app->cfg.login_code_ttl_s));
		http_send_json(req, 202, o);
		json_object_put(o);
		app->drain_after = 1;
	}
out:
	free(number);
	json_object_put(body);
}

static void answer_session(struct http_req *req, struct login_session *s)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(s->token));
	json_object_object_add(o, "expires_at", json_object_new_string(s->expires_at));
	json_object_object_add(o, "tenant", tenant_to_json(&s->tenant));
	http_send_json(req, 201, o);
	json_object_put(o);
}

static void session_create(struct app *app, struct http_req *req)
{
	static const char *const names[] = {"whatsapp_number", "code"};
	const char *v[2];
	struct json_object *body = NULL;
	struct login_session s = {0};
	char *number = NULL;
	long long wait = 0;
	if (codes_configured(app, req, "login_unavailable") < 0 ||
	    read_strings(app, req, names, 2, v, &body) < 0 || !(number = read_number(req, v[0])) ||
	    code_format(req, v[1]) < 0)
		goto out;
	int rc = login_exchange(&app->db, &app->cfg, number, v[1], client_address(req), &wait, &s);
	if (rc < 0)
		send_unavailable(req);
	else if (rc == LOGIN_LIMITED)
		send_limited(req, wait);
	else if (rc == LOGIN_REFUSED)
		http_send_error(req, 401, LOGIN_E_INVALID_CODE,
		                "the code is wrong, expired or used up: ask for a new one");
	else
		answer_session(req, &s);
	if (rc == 0)
		log_info("session_opened", "tenant %lld", s.tenant.id);
out:
	tenant_release(&s.tenant);
	free(number);
	json_object_put(body);
}

static void session_end(struct app *app, struct http_req *req)
{
	struct seller s;
	if (authenticate(app, req, &s) < 0)
		return;
	if (!s.id.session)
		http_send_error(req, 400, "not_a_session",
		                "a platform token is not a session: it ends when it expires");
	else if (login_revoke(&app->db, s.id.session_hash) < 0)
		send_unavailable(req);
	else
		http_send_text(req, 204, "application/json", "", 0);
	tenant_release(&s.t);
}

static void handle_session(struct app *app, struct http_req *req)
{
	if (http_require_method(req, "POST,DELETE") < 0)
		return;
	if (strcmp(req->method, "POST") == 0)
		session_create(app, req);
	else
		session_end(app, req);
}

static void send_me(struct app *app, struct http_req *req, long long id)
{
	struct tenant t = {0};
	answer_load(req, tenant_load_id(&app->db, id, &t), &t);
	tenant_release(&t);
}

/* The number part of a change, in the open transaction. 0, or -1 with the answer sent. */
static int change_number(struct app *app, struct http_req *req, const struct seller *s,
                         const char *number)
{
	const char *code = NULL;
	long long wait = 0;
	char id[24];
	snprintf(id, sizeof(id), "%lld", s->t.id);
	const char *p[] = {id};
	int rc;
	if (s->t.whatsapp_number && strcmp(number, s->t.whatsapp_number) == 0)
		/* Back to the number it has: nothing to verify any more. */
		rc = db_exec(&app->db,
		             "UPDATE tenants SET pending_whatsapp_number = NULL WHERE id = $1", 1,
		             p);
	else
		rc = verify_start(&app->db, &app->cfg, s->t.id, number, client_address(req), &wait,
		                  &code);
	if (rc < 0)
		send_unavailable(req);
	else if (rc == LOGIN_LIMITED)
		send_limited(req, wait);
	else if (rc == LOGIN_REFUSED)
		send_in_use(req);
	return rc == 0 ? 0 : -1;
}

/* Apply in to the seller's tenant in one transaction. 0, or -1 with the answer sent. */
static int apply_change(struct app *app, struct http_req *req, const struct seller *s,
                        const struct tenant_input *in)
{
	struct tenant t = {0};
	const char *number = in->value[TF_WHATSAPP_NUMBER];
	if (db_begin(&app->db) < 0) {
		send_unavailable(req);
		return -1;
	}
	int rc = tenant_update(&app->db, s->t.id, in, &t);
	tenant_release(&t);
	if (rc != 0)
		send_unavailable(req);
	else if (number && change_number(app, req, s, number) < 0)
		rc = -1;
	if (rc == 0 && db_commit(&app->db) < 0) {
		send_unavailable(req);
		rc = -1;
	}
	if (rc != 0)
		db_rollback(&app->db);
	return rc == 0 ? 0 : -1;
}

static void patch_me(struct app *app, struct http_req *req, const struct seller *s)
{
	struct json_object *body = NULL;
	struct tenant_input in = {0};
	char *field = NULL, *err = NULL;
	const char *number;
	if (http_read_json(req, (size_t)app->cfg.max_body_bytes, &body) < 0)
		return;
	if (tenant_parse_change(body, &in, &field, &err) < 0) {
		http_send_field_error(req, 400, "invalid_field", field, "%s", err);
		goto out;
	}
	number = in.value[TF_WHATSAPP_NUMBER];
	int verify = number && (!s->t.whatsapp_number || strcmp(number, s->t.whatsapp_number) != 0);
	if (verify && codes_configured(app, req, "verification_unavailable") < 0)
		goto out;
	if (apply_change(app, req, s, &in) < 0)
		goto out;
	log_info("tenant_changed", "tenant %lld by the seller%s", s->t.id,
	         verify ? ", a new number to verify" : "");
	app->drain_after = verify;
	send_me(app, req, s->t.id);
out:
	tenant_input_release(&in);
	json_object_put(body);
	free(field);
	free(err);
}

static void handle_me(struct app *app, struct http_req *req, const struct seller *s)
{
	if (http_require_method(req, "GET,HEAD,PATCH") < 0)
		return;
	if (strcmp(req->method, "PATCH") == 0)
		patch_me(app, req, s);
	else
		send_tenant(req, 200, &s->t);
}

/* The answer to a refused verification, by its code. */
static void send_verify_refusal(struct http_req *req, const char *code)
{
	if (strcmp(code, LOGIN_E_NOTHING) == 0)
		http_send_error(req, 409, code, "there is no new number to verify");
	else if (strcmp(code, LOGIN_E_IN_USE) == 0)
		send_in_use(req);
	else if (strcmp(code, LOGIN_E_ATTEMPTS) == 0)
		http_send_error(req, 429, code,
		                "too many wrong codes: save the number again for a new code");
	else if (strcmp(code, LOGIN_E_EXPIRED) == 0)
		http_send_error(req, 400, code,
		                "the code has expired: save the number again for a new code");
	else
		http_send_field_error(req, 400, code, "code", "the code is wrong");
}

static void handle_verify(struct app *app, struct http_req *req, const struct seller *s)
{
	static const char *const names[] = {"code"};
	const char *v[1], *code = NULL;
	struct json_object *body = NULL;
	struct tenant t = {0};
	if (http_require_method(req, "POST") < 0 ||
	    codes_configured(app, req, "verification_unavailable") < 0 ||
	    read_strings(app, req, names, 1, v, &body) < 0 || code_format(req, v[0]) < 0)
		goto out;
	int rc = verify_confirm(&app->db, &app->cfg, s->t.id, v[0], &t, &code);
	if (rc < 0)
		send_unavailable(req);
	else if (rc == LOGIN_REFUSED)
		send_verify_refusal(req, code);
	else
		send_tenant(req, 200, &t);
	if (rc == 0)
		log_info("tenant_number_verified", "tenant %lld", t.id);
out:
	tenant_release(&t);
	json_object_put(body);
}

static void send_prefs(struct app *app, struct http_req *req, long long id)
{
	size_t n = alert_type_count();
	struct alert_pref *p = xcalloc(n, sizeof(*p));
	if (pref_load(&app->db, id, p) < 0) {
		send_unavailable(req);
	} else {
		struct json_object *o = pref_to_json(p, n);
		http_send_json(req, 200, o);
		json_object_put(o);
	}
	free(p);
}

/* PATCH: checked whole first (a 400 changes nothing), then stored in one transaction. */
static void patch_prefs(struct app *app, struct http_req *req, const struct seller *s)
{
	struct json_object *body = NULL;
	struct pref_change *c = NULL;
	size_t n = 0;
	const char *code = NULL;
	char *field = NULL, *err = NULL;
	if (http_read_json(req, (size_t)app->cfg.max_body_bytes, &body) < 0)
		return;
	if (pref_parse_change(body, &c, &n, &code, &field, &err) < 0) {
		http_send_field_error(req, 400, code, field, "%s", err);
		goto out;
	}
	if (pref_apply(&app->db, s->t.id, c, n) < 0) {
		send_unavailable(req);
		goto out;
	}
	log_info("tenant_preferences_changed", "tenant %lld: %zu type(s)", s->t.id, n);
	send_prefs(app, req, s->t.id);
out:
	free(c);
	json_object_put(body);
	free(field);
	free(err);
}

static void handle_prefs(struct app *app, struct http_req *req, const struct seller *s)
{
	if (http_require_method(req, "GET,HEAD,PATCH") < 0)
		return;
	if (strcmp(req->method, "PATCH") == 0)
		patch_prefs(app, req, s);
	else
		send_prefs(app, req, s->t.id);
}

static void handle_alerts(struct app *app, struct http_req *req, const struct seller *s)
{
	char *limit = NULL, *before = NULL;
	const char *param = NULL, *why = NULL;
	struct alertlist_query q;
	struct json_object *o = NULL;
	if (http_require_method(req, "GET,HEAD") < 0 ||
	    http_query_param(req, "limit", &limit) < 0 ||
	    http_query_param(req, "before", &before) < 0)
		goto out;
	if (alertlist_parse(limit, before, &q, &param, &why) < 0) {
		http_send_field_error(req, 400, "invalid_parameter", param, "%s %s", param, why);
		goto out;
	}
	if (alertlist_build(&app->db, s->t.id, &q, &o) < 0) {
		send_unavailable(req);
		goto out;
	}
	http_send_json(req, 200, o);
out:
	json_object_put(o);
	free(limit);
	free(before);
}

/* The seller's routes (authenticated first), by exact path. */
static const struct {
	const char *path;
	void (*handler)(struct app *app, struct http_req *req, const struct seller *s);
} seller_routes[] = {
    {"/tenants/me", handle_me},
    {"/tenants/me/verify", handle_verify},
    {"/tenants/me/preferences", handle_prefs},
    {"/tenants/me/alerts", handle_alerts},
};

static void handle(struct app *app, struct http_req *req)
{
	if (strcmp(req->path, "/tenants/login") == 0) {
		if (http_require_method(req, "POST") == 0)
			handle_login(app, req);
		return;
	}
	if (strcmp(req->path, "/tenants/session") == 0) {
		handle_session(app, req);
		return;
	}
	for (size_t i = 0; i < sizeof(seller_routes) / sizeof(seller_routes[0]); i++) {
		if (strcmp(req->path, seller_routes[i].path) != 0)
			continue;
		struct seller s;
		if (authenticate(app, req, &s) == 0)
			seller_routes[i].handler(app, req, &s);
		tenant_release(&s.t);
		return;
	}
	handle_platform(app, req);
}

int main(void)
{
	return app_main("tenants", 0, handle, app_drain);
}
