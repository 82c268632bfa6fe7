/*
 * The webhook: the only endpoint open to the internet.
 *   GET  /monitoring/whatsapp/webhook   Meta's verification handshake
 *   POST /monitoring/whatsapp/webhook   Meta events, signed (X-Hub-Signature-256); a signed
 *                                       body over a WA_MAX_* limit (waevent.h) gets 413
 *   POST /monitoring/twilio/webhook     Twilio inbound messages and status callbacks, signed
 *                                       (X-Twilio-Signature); answers <Response></Response>
 * A verified event is stored (and, when it can be, applied in the same transaction), then
 * acknowledged. WEBHOOK_THREADS threads read and verify requests and hand each event to the
 * store threads, which commit the events in flight together and answer them (webhookq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/form.h"
#include "core/log.h"
#include "core/util.h"
#include "webhook/waevent.h"
#include "webhook/webhook.h"
#include "webhook/webhookq.h"
#include "webhook/webhook_sig.h"

#define CHALLENGE_MAX 256

static void handshake(struct app *app, struct http_req *req)
{
	char *mode = NULL, *token = NULL, *challenge = NULL;
	if (http_query_param(req, "hub.mode", &mode) < 0 ||
	    http_query_param(req, "hub.verify_token", &token) < 0 ||
	    http_query_param(req, "hub.challenge", &challenge) < 0)
		goto out;
	int ok = mode && strcmp(mode, "subscribe") == 0 && *app->cfg.webhook_verify_token &&
	         token && secure_str_eq(token, app->cfg.webhook_verify_token) && challenge &&
	         *challenge && strlen(challenge) <= CHALLENGE_MAX;
	for (const char *p = challenge; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (ok) {
		http_send_text(req, 200, "text/plain", challenge, strlen(challenge));
		log_info("webhook_verified", "Meta verification handshake answered");
	} else {
		http_send_error(req, 403, "forbidden", "verification refused");
	}
out:
	free(mode);
	free(token);
	free(challenge);
}

/* An event handed to the store threads, and what answers its request once it is stored. */
struct pending {
	struct http_req *req;
	struct wa_batch b;
	const char *type, *answer; /* the 200 */
};

static void pending_free(void *arg)
{
	struct pending *p = arg;
	wa_batch_release(&p->b);
	free(p);
}

static void stored(void *arg, int rc, const char *err)
{
	struct pending *p = arg;
	if (rc < 0) /* Not stored: a non-2xx makes the provider deliver it again later. */
		http_send_error(p->req, 503, "state_database_unavailable", "%s",
		                err && *err ? err : "not stored");
	else
		http_send_text(p->req, 200, p->type, p->answer, strlen(p->answer));
	app_complete_then(p->req, pending_free, p); /* p freed where it was allocated */
}

/* Hand p (its batch parsed from req's body) to the store threads, which answer req. */
static void store(struct http_req *req, const char *source, struct pending *p)
{
	p->req = req;
	app_defer(req);
	if (webhookq_submit(source, req->body.data, req->body.len, &p->b, stored, p) == 0)
		return; /* req and p now belong to the store thread */
	app_undefer(req);
	http_send_error(req, 503, "state_database_unavailable", "the webhook is stopping");
	pending_free(p);
}

static void meta_event(struct app *app, struct http_req *req)
{
	if (http_read_body(req, WEBHOOK_MAX_BODY) < 0)
		return;
	const char *sig = http_param(req, "HTTP_X_HUB_SIGNATURE_256");
	if (!meta_signature_valid(app->cfg.meta_app_secret, req->body.data ? req->body.data : "",
	                          req->body.len, sig)) {
		log_warnx("webhook_refused", "POST without a valid X-Hub-Signature-256 (%s)",
		          sig ? "wrong" : "missing");
		http_send_error(req, 401, "invalid_signature",
		                "X-Hub-Signature-256 is missing or does not match the body");
		return;
	}
	struct pending *p = xcalloc(1, sizeof(*p));
	char *err = NULL;
	int r = wa_batch_parse(req->body.data ? req->body.data : "", req->body.len, &p->b, &err);
	if (r ==
	    WA_TOO_MANY) { /* signed, and still more than any Meta event holds: refused whole */
		log_warnx("webhook_too_many", "signed body refused: %s",
		          err ? err : "over a limit");
		http_send_error(req, 413, "too_many_items", "%s", err ? err : "over a limit");
	} else if (r < 0) {
		http_send_error(req, 400, "invalid_json", "%s", err ? err : "not a JSON object");
	}
	if (r < 0) {
		free(err);
		free(p);
		return;
	}
	p->type = "application/json";
	p->answer = "{\"received\":true}";
	store(req, "meta", p);
}

static void twilio_event(struct app *app, struct http_req *req)
{
	if (http_read_body(req, WEBHOOK_MAX_BODY) < 0)
		return;
	struct form f = {0};
	char *err = NULL;
	if (form_parse(req->body.data ? req->body.data : "", req->body.len, &f, &err) < 0) {
		http_send_error(req, 400, "invalid_form", "%s", err ? err : "bad form body");
		free(err);
		return;
	}
	/* The URL Twilio signed: the configured public one, with the query string if any. */
	char *url = *app->cfg.twilio_webhook_url && req->query && *req->query
	                ? xasprintf("%s?%s", app->cfg.twilio_webhook_url, req->query)
	                : xstrdup(app->cfg.twilio_webhook_url);
	int ok = *app->cfg.twilio_webhook_url &&
	         twilio_signature_valid(app->cfg.twilio_auth_token, url, &f,
	                                http_param(req, "HTTP_X_TWILIO_SIGNATURE"));
	free(url);
	form_release(&f);
	if (!ok) {
		log_warnx("webhook_refused", "Twilio POST without a valid X-Twilio-Signature");
		http_send_error(req, 401, "invalid_signature",
		                "X-Twilio-Signature is missing or does not match");
		return;
	}
	struct pending *p = xcalloc(1, sizeof(*p));
	if (webhook_parse("twilio", req->body.data ? req->body.data : "", req->body.len, &p->b,
	                  &err) < 0) { /* form_parse read it above: cannot happen */
		http_send_error(req, 400, "invalid_form", "%s", err ? err : "bad form body");
		free(err);
		free(p);
		return;
	}
	p->type = "text/xml";
	p->answer = "<Response></Response>";
	store(req, "twilio", p);
}

static void handle(struct app *app, struct http_req *req)
{
	if (strcmp(req->path, "/monitoring/whatsapp/webhook") == 0) {
		if (http_require_method(req, "GET,POST") < 0)
			return;
		if (strcmp(req->method, "GET") == 0)
			handshake(app, req);
		else
			meta_event(app, req);
	} else if (strcmp(req->path, "/monitoring/twilio/webhook") == 0) {
		if (http_require_method(req, "POST") == 0)
			twilio_event(app, req);
	} else {
		http_send_error(req, 404, "not_found", "no such endpoint");
	}
}

int main(void)
{
	struct app app;
	app_init(&app, "webhook", 0);
	if (webhookq_start(&app) < 0)
		fatal("thread", "could not start the store and processing threads");
	app_serve_threads(&app, handle, (int)app.cfg.webhook_threads);
	webhookq_stop();
	app_release(&app);
	return 0;
}
