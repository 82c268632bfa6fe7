/*
 * The business events of the commerce platform (issue 17).
 *   POST /events   one event or {"events": [...]}, signed the Standard Webhooks way with
 *                  EVENTS_SIGNING_SECRET (core/stdwebhook.h: webhook-id, webhook-timestamp,
 *                  webhook-signature; 5 minutes either way)
 * A refused signature is a 401 with the verifier's code; a body of the wrong shape a 400 (413
 * for too many items). Then the delivery goes to the webhook's store threads (webhookq.h),
 * which judge and store the deliveries in flight in one transaction (tenants/eventstore.h)
 * and answer each once it is committed: the same webhook-id again gets the first answer.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/log.h"
#include "core/stdwebhook.h"
#include "core/util.h"
#include "tenants/event.h"
#include "tenants/eventstore.h"
#include "webhook/webhookq.h"

/* Largest body (nginx's client_max_body_size for /events is the same: 1m). */
#define EVENTS_MAX_BODY (1024 * 1024)

/* The decoded EVENTS_SIGNING_SECRET (len 0: not configured); read-only once serving. */
static struct stdwebhook_key key;

/* A delivery handed to the store threads, and the request its answer goes to. */
struct pending {
	struct http_req *req;
	char *webhook_id;
	struct event_body body;
	struct event_delivery d;
};

static void pending_free(void *arg)
{
	struct pending *p = arg;
	event_body_release(&p->body);
	free(p->d.answer);
	free(p->webhook_id);
	free(p);
}

/* The store threads' function (webhookq_store_fn): the deliveries in one transaction (each
 * alone when the group fails: eventstore.h). */
static int store(struct app *app, size_t n, void *const *args)
{
	struct event_delivery **d = xcalloc(n, sizeof(*d));
	for (size_t i = 0; i < n; i++)
		d[i] = &((struct pending *)args[i])->d;
	int rc = event_store_group(&app->db, n, d);
	free(d);
	return rc;
}

/* From a store thread, once the group is committed (rc 0) or not (-1): the answer. */
static void stored(void *arg, int rc, const char *err)
{
	struct pending *p = arg;
	if (rc < 0 || !p->d.answer) {
		if (rc == 0) /* its group was stored without it (eventstore.h event_store_group) */
			log_warnx("events_not_stored", "webhook-id %s not stored (answered 503)",
			          p->webhook_id);
		http_send_error(p->req, 503, "state_database_unavailable", "%s",
		                err && *err ? err : "not stored");
	} else {
		http_send_text(p->req, p->d.status, "application/json", p->d.answer,
		               strlen(p->d.answer));
		if (p->d.replayed)
			log_info("events_replayed", "webhook-id %s answered as the first time (%d)",
			         p->webhook_id, p->d.status);
	}
	app_complete_then(p->req, pending_free, p); /* p freed where it was allocated */
}

/* 0, or -1 and a 401 sent. */
static int verify(struct http_req *req)
{
	const char *code = "not_configured";
	if (key.len > 0 &&
	    stdwebhook_verify(
	        &key, http_param(req, "HTTP_WEBHOOK_ID"), http_param(req, "HTTP_WEBHOOK_TIMESTAMP"),
	        http_param(req, "HTTP_WEBHOOK_SIGNATURE"), req->body.data ? req->body.data : "",
	        req->body.len, (long long)time(NULL), STDWEBHOOK_TOLERANCE, &code) == 0)
		return 0;
	log_warnx("events_refused", "POST /events refused: %s", code);
	http_send_error(req, 401, code, "%s",
	                key.len == 0 ? "EVENTS_SIGNING_SECRET is not configured"
	                             : "the Standard Webhooks signature was refused");
	return -1;
}

static void post_events(struct http_req *req)
{
	if (http_read_body(req, EVENTS_MAX_BODY) < 0 || verify(req) < 0)
		return;
	struct pending *p = xcalloc(1, sizeof(*p));
	char *field = NULL, *err = NULL;
	int rc = event_parse_body(req->body.data ? req->body.data : "", req->body.len, &p->body,
	                          &field, &err);
	if (rc < 0) {
		if (rc == -2)
			http_send_field_error(req, 413, "too_many_items", field, "%s", err);
		else
			http_send_field_error(req, 400, "invalid_body", field, "%s", err);
		free(field);
		free(err);
		pending_free(p);
		return;
	}
	p->req = req;
	p->webhook_id = xstrdup(http_param(req, "HTTP_WEBHOOK_ID"));
	p->d.webhook_id = p->webhook_id;
	p->d.body = &p->body;
	app_defer(req);
	if (webhookq_submit_item(req->body.len, stored, p) == 0)
		return; /* req and p now belong to the store thread */
	app_undefer(req);
	http_send_error(req, 503, "state_database_unavailable", "the program is stopping");
	pending_free(p);
}

static void handle(struct app *app, struct http_req *req)
{
	(void)app;
	if (strcmp(req->path, "/events") != 0)
		http_send_error(req, 404, "not_found", "no such endpoint");
	else if (http_require_method(req, "POST") == 0)
		post_events(req);
}

int main(void)
{
	struct app app;
	app_init(&app, "events", 0);
	const char *why = NULL;
	/* Checked by the configuration already: a set secret decodes. */
	if (*app.cfg.events_signing_secret &&
	    stdwebhook_key_parse(app.cfg.events_signing_secret, &key, &why) < 0)
		fatal("config", "EVENTS_SIGNING_SECRET %s", why);
	if (key.len == 0)
		log_warnx("events_not_configured",
		          "EVENTS_SIGNING_SECRET is empty: POST /events refuses every request");
	if (webhookq_start_store(&app, store) < 0)
		fatal("thread", "could not start the store threads");
	app_serve_threads(&app, handle, (int)app.cfg.webhook_threads);
	webhookq_stop();
	stdwebhook_key_wipe(&key);
	app_release(&app);
	return 0;
}
