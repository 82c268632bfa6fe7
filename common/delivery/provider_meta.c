/*
 * provider_meta.c: the Meta WhatsApp Cloud API (Graph API).
 *
 * build(): POST {META_GRAPH_URL}/{META_PHONE_NUMBER_ID}/messages, bearer
 * META_WHATSAPP_TOKEN, a JSON text or template message.
 * classify(): the outcome comes from the Graph error code ("error.code"),
 * the HTTP status only decides when there is no code
 * (../shared/reference/whatsapp-api.md, A.1 and A.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/phone.h"
#include "delivery/provider.h"
#include "delivery/provider_internal.h"
#include "core/util.h"

#define META_TEXT_MAX 4096  /* text.body, characters */
#define META_PARAM_MAX 1024 /* a template body is at most 1024 characters, parameters included */
#define META_INTERACTIVE_MAX 1024 /* an interactive message's body.text, characters */
#define META_REPLY_ID_MAX 256     /* a reply button's id */
#define META_REPLY_TITLE_MAX 20   /* a reply button's title, characters */
#define META_URL_MAX 4096

/* What a Graph error code means for the message, by code range. */
static const struct code_rule meta_rules[] = {
    /* Throttling and temporary failures: try again later. */
    {130429, 130429, SEND_RETRY}, /* throughput of the number */
    {131000, 131000, SEND_RETRY}, /* unknown error */
    {131016, 131016, SEND_RETRY}, /* service unavailable */
    {1, 2, SEND_RETRY},           /* API unknown / service temporarily down */
    {131057, 131057, SEND_RETRY}, /* number in maintenance */
    {4, 4, SEND_RETRY},           /* app call rate */
    {80007, 80007, SEND_RETRY},   /* WABA call rate */
    /* Graph API call-rate codes not in the reference (user / custom rate limit). */
    {17, 17, SEND_RETRY},
    {613, 613, SEND_RETRY},
    /* Too fast to this one recipient. */
    {131056, 131056, SEND_RETRY_RECIPIENT},
    /* Outside the 24-hour window (470: the On-Premises name of it). */
    {131047, 131047, SEND_AS_TEMPLATE},
    {470, 470, SEND_AS_TEMPLATE},
    /* The account or token: nothing will go out until the operator acts. */
    {0, 0, SEND_STOP_ALL},           /* AuthException */
    {190, 190, SEND_STOP_ALL},       /* access token expired or invalid */
    {368, 368, SEND_STOP_ALL},       /* policy block */
    {131031, 131031, SEND_STOP_ALL}, /* account locked */
    {131042, 131042, SEND_STOP_ALL}, /* payment problem */
    {131048, 131048, SEND_STOP_ALL}, /* spam rate limit: number restricted */
    /*
     * This message can never be sent. Listed so that a 5xx carrying one of
     * them is not retried; any other code with a 4xx is permanent as well.
     */
    {131026, 131026, SEND_PERMANENT}, /* undeliverable */
    {131051, 131051, SEND_PERMANENT}, /* unsupported message type */
    {131049, 131050, SEND_PERMANENT}, /* withheld / user stopped marketing messages */
    {130472, 130472, SEND_PERMANENT}, /* user in an experiment */
    {131030, 131030, SEND_PERMANENT}, /* not in the test number's allowed list */
    {100, 100, SEND_PERMANENT},       /* invalid parameter (or not a WhatsApp number) */
    {131008, 131009, SEND_PERMANENT}, /* missing / invalid parameter */
    {131021, 131021, SEND_PERMANENT}, /* recipient cannot be the sender */
    {3, 3, SEND_PERMANENT},           /* capability missing */
    {10, 10, SEND_PERMANENT},         /* permission missing */
    {33, 33, SEND_PERMANENT},         /* business number deleted */
    {200, 299, SEND_PERMANENT},       /* permissions */
    {132000, 132999, SEND_PERMANENT}, /* template errors (count, unapproved, paused, format) */
};

static int meta_rule(long long code, enum send_outcome *o)
{
	return provider_code_rule(meta_rules, ARRAY_LEN(meta_rules), code, o);
}

static enum send_outcome meta_code_outcome(long long code)
{
	enum send_outcome o;
	return meta_rule(code, &o) == 0 ? o : SEND_PERMANENT;
}

/* json-c only fails on out-of-memory; we abort then, as the x-allocators do. */
static struct json_object *checked(struct json_object *o)
{
	if (!o) {
		log_error("out_of_memory", "json-c allocation failed");
		abort();
	}
	return o;
}

static void put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (json_object_object_add(obj, key, checked(val)) < 0) {
		log_error("out_of_memory", "json-c allocation failed");
		abort();
	}
}

static void put_str(struct json_object *obj, const char *key, const char *val)
{
	put(obj, key, json_object_new_string(val));
}

static void push(struct json_object *arr, struct json_object *val)
{
	if (json_object_array_add(arr, checked(val)) < 0) {
		log_error("out_of_memory", "json-c allocation failed");
		abort();
	}
}

/* {"type":"body","parameters":[{"type":"text","text":p1},...]} */
static struct json_object *body_component(const struct send_request *rq)
{
	struct json_object *comp = checked(json_object_new_object());
	struct json_object *params = checked(json_object_new_array());
	put_str(comp, "type", "body");
	for (size_t i = 0; i < rq->n_params; i++) {
		struct json_object *p = checked(json_object_new_object());
		char *text = provider_clean_text(rq->params[i], META_PARAM_MAX, 1);
		put_str(p, "type", "text");
		put_str(p, "text", text);
		free(text);
		push(params, p);
	}
	put(comp, "parameters", params);
	return comp;
}

/* The quick-reply button whose tap comes back with the payload ("ACK:<alert id>"). */
static struct json_object *button_component(const char *payload)
{
	struct json_object *comp = checked(json_object_new_object());
	struct json_object *params = checked(json_object_new_array());
	struct json_object *p = checked(json_object_new_object());
	put_str(comp, "type", "button");
	put_str(comp, "sub_type", "quick_reply");
	put_str(comp, "index", "0");
	put_str(p, "type", "payload");
	put_str(p, "payload", payload);
	push(params, p);
	put(comp, "parameters", params);
	return comp;
}

/*
 * The template message: rq->template_name when set (a seller alert type's own), else
 * WHATSAPP_ALERT_TEMPLATE, in WHATSAPP_TEMPLATE_LANGUAGE, its body parameters in order.
 */
static int meta_template(const struct config *cfg, const struct send_request *rq,
                         struct json_object *msg, struct send_result *rs)
{
	const char *name =
	    rq->template_name && *rq->template_name ? rq->template_name : cfg->alert_template;
	if (!*name) {
		provider_fail(rs, SEND_PERMANENT, "no_template", NULL,
		              "no template configured (WHATSAPP_ALERT_TEMPLATE)");
		return -1;
	}
	if (!cfg->template_language || !*cfg->template_language) {
		provider_fail(rs, SEND_PERMANENT, "no_template", NULL,
		              "no template language configured (WHATSAPP_TEMPLATE_LANGUAGE)");
		return -1;
	}
	if (rq->n_params && !rq->params) {
		provider_fail(rs, SEND_PERMANENT, "bad_request", NULL,
		              "%zu template parameters announced, none given", rq->n_params);
		return -1;
	}
	struct json_object *tmpl = checked(json_object_new_object());
	struct json_object *lang = checked(json_object_new_object());
	put_str(msg, "type", "template");
	put_str(tmpl, "name", name);
	put_str(lang, "code", cfg->template_language);
	put(tmpl, "language", lang);
	/* A template without parameters or button takes no components at all. */
	if (rq->n_params || (rq->button_payload && *rq->button_payload)) {
		struct json_object *comps = checked(json_object_new_array());
		if (rq->n_params)
			push(comps, body_component(rq));
		if (rq->button_payload && *rq->button_payload)
			push(comps, button_component(rq->button_payload));
		put(tmpl, "components", comps);
	}
	put(msg, "template", tmpl);
	return 0;
}

/* Characters (UTF-8 code points) in s. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * The text with one reply button under it: {"type":"interactive","interactive":{"type":
 * "button","body":{"text":...},"action":{"buttons":[{"type":"reply","reply":{"id","title"}}]}}}.
 * 1 built, 0 when it does not fit an interactive message (plain text instead).
 */
static int meta_interactive(const struct send_request *rq, struct json_object *msg)
{
	if (!rq->reply_id || !*rq->reply_id || !rq->reply_title || !*rq->reply_title ||
	    strlen(rq->reply_id) > META_REPLY_ID_MAX ||
	    utf8_chars(rq->reply_title) > META_REPLY_TITLE_MAX)
		return 0;
	char *body = provider_clean_text(rq->text, META_TEXT_MAX, 0);
	if (utf8_chars(body) > META_INTERACTIVE_MAX) {
		free(body);
		return 0;
	}
	struct json_object *inter = checked(json_object_new_object());
	struct json_object *b = checked(json_object_new_object());
	struct json_object *action = checked(json_object_new_object());
	struct json_object *buttons = checked(json_object_new_array());
	struct json_object *button = checked(json_object_new_object());
	struct json_object *reply = checked(json_object_new_object());
	put_str(msg, "type", "interactive");
	put_str(inter, "type", "button");
	put_str(b, "text", body);
	put(inter, "body", b);
	put_str(button, "type", "reply");
	put_str(reply, "id", rq->reply_id);
	put_str(reply, "title", rq->reply_title);
	put(button, "reply", reply);
	push(buttons, button);
	put(action, "buttons", buttons);
	put(inter, "action", action);
	put(msg, "interactive", inter);
	free(body);
	return 1;
}

static int meta_text(const struct send_request *rq, struct json_object *msg, struct send_result *rs)
{
	if (!rq->text || !*rq->text) {
		provider_fail(rs, SEND_PERMANENT, "bad_request", NULL, "empty message text");
		return -1;
	}
	if (meta_interactive(rq, msg))
		return 0;
	struct json_object *text = checked(json_object_new_object());
	char *body = provider_clean_text(rq->text, META_TEXT_MAX, 0);
	put_str(msg, "type", "text");
	put(text, "preview_url", json_object_new_boolean(0));
	put_str(text, "body", body);
	put(msg, "text", text);
	free(body);
	return 0;
}

static int meta_build(const struct config *cfg, const struct send_request *rq,
                      struct http_call *call, struct send_result *rs)
{
	int ret = -1;
	struct json_object *msg = NULL;
	struct buf url = BUF_INIT(META_URL_MAX);
	char to[PHONE_MAX];

	memset(call, 0, sizeof(*call));
	memset(rs, 0, sizeof(*rs));
	rs->outcome = SEND_PERMANENT;
	if (!*cfg->meta_token || !*cfg->meta_phone_number_id) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL,
		              "META_WHATSAPP_TOKEN and META_PHONE_NUMBER_ID are required");
		goto out;
	}
	if (provider_recipient(rq->to, to, rs) < 0)
		goto out;

	/* The base URL without trailing slashes, then the number id as one path segment. */
	size_t base = strlen(cfg->meta_graph_url);
	while (base > 0 && cfg->meta_graph_url[base - 1] == '/')
		base--;
	if (buf_append(&url, cfg->meta_graph_url, base) < 0 || buf_puts(&url, "/") < 0 ||
	    provider_percent_encode(&url, cfg->meta_phone_number_id) < 0 ||
	    buf_puts(&url, "/messages") < 0) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL, "META_GRAPH_URL is too long");
		goto out;
	}

	msg = checked(json_object_new_object());
	put_str(msg, "messaging_product", "whatsapp");
	put_str(msg, "recipient_type", "individual");
	put_str(msg, "to", to);
	if ((rq->as_template ? meta_template(cfg, rq, msg, rs) : meta_text(rq, msg, rs)) < 0)
		goto out;

	const char *json = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!json) {
		log_error("out_of_memory", "json-c could not write the message");
		abort();
	}
	call->url = buf_detach(&url);
	call->body = xstrdup(json);
	call->content_type = xstrdup("application/json");
	call->bearer = xstrdup(cfg->meta_token);
	ret = 0;
out:
	json_object_put(msg);
	buf_release(&url);
	if (ret < 0)
		http_call_release(call);
	return ret;
}

/* The first element of an array member, when it is an object. */
static struct json_object *first_of(struct json_object *o, const char *key)
{
	struct json_object *arr, *el;
	if (!o || !json_object_object_get_ex(o, key, &arr) ||
	    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
		return NULL;
	el = json_object_array_get_idx(arr, 0);
	return json_object_is_type(el, json_type_object) ? el : NULL;
}

/* A short, printable piece of a body that is not a Graph error, for the operator. */

/*
 * HTTP 2xx. messages[0].id is the proof of acceptance. A 2xx we cannot read
 * is retried: the message may have gone out, so the retry can deliver it
 * twice. Delivery is at-least-once; recording it as sent without an id would
 * lose every status webhook and, if it was not sent, the alert itself.
 */
static void meta_success(const struct config *cfg, const struct http_answer *ans,
                         struct json_object *root, const char *parse_err, struct send_result *rs)
{
	const char *id = provider_json_string(first_of(root, "messages"), "id");
	const char *wa_id = provider_json_string(first_of(root, "contacts"), "wa_id");
	char code[32];
	snprintf(code, sizeof(code), "http_%ld", ans->status);
	if (!id || !*id) {
		char *excerpt = provider_body_excerpt(ans);
		provider_fail(rs, SEND_RETRY, code, cfg->meta_token,
		              "HTTP %ld without a message id (%s: %s); the message may have been "
		              "sent, a retry can deliver it twice",
		              ans->status, root ? "no messages[0].id" : parse_err, excerpt);
		free(excerpt);
		return;
	}
	rs->outcome = SEND_SENT;
	if (strlen(id) < sizeof(rs->message_id))
		memcpy(rs->message_id, id, strlen(id) + 1);
	else
		provider_fail(rs, SEND_SENT, code, NULL,
		              "message id of %zu bytes is too long to keep", strlen(id));
	if (wa_id && strlen(wa_id) < sizeof(rs->wa_id))
		memcpy(rs->wa_id, wa_id, strlen(wa_id) + 1);
}

static void meta_failure(const struct config *cfg, const struct http_answer *ans,
                         struct json_object *err, struct send_result *rs)
{
	long long code = 0, sub = 0;
	int has_code = provider_json_int(err, "code", &code) == 0;
	enum send_outcome o;
	char code_text[32];
	struct json_object *data = NULL;

	if (!has_code || meta_rule(code, &o) < 0)
		o = provider_outcome_by_status(ans->status);
	provider_code_text(code_text, sizeof(code_text), has_code, code, ans->status);

	if (!err) {
		char *excerpt = provider_body_excerpt(ans);
		provider_fail(rs, o, code_text, cfg->meta_token,
		              "HTTP %ld without a Graph error (%s)", ans->status, excerpt);
		free(excerpt);
		return;
	}
	const char *message = provider_json_string(err, "message");
	const char *trace = provider_json_string(err, "fbtrace_id");
	const char *details = NULL;
	if (json_object_object_get_ex(err, "error_data", &data))
		details = provider_json_string(data, "details");
	int has_sub = provider_json_int(err, "error_subcode", &sub) == 0;
	char *subtext = has_sub ? xasprintf(", subcode %lld", sub) : xstrdup("");
	provider_fail(rs, o, code_text, cfg->meta_token, "%s%s%s (HTTP %ld%s%s%s)",
	              message ? message : "Graph error without a message", details ? ": " : "",
	              details ? details : "", ans->status, subtext, trace ? ", fbtrace_id " : "",
	              trace ? trace : "");
	free(subtext);
}

static void meta_classify(const struct config *cfg, const struct http_answer *ans,
                          struct send_result *rs)
{
	struct json_object *root = NULL, *err = NULL;
	char *parse_err = NULL;

	memset(rs, 0, sizeof(*rs));
	if (provider_transport_failed(ans, rs))
		return;
	if (ans->body && ans->len > 0 &&
	    json_parse_object_flags(ans->body, ans->len, JSON_NUL_IN_VALUES, &root, &parse_err) < 0)
		root = NULL;
	if (root && (!json_object_object_get_ex(root, "error", &err) ||
	             !json_object_is_type(err, json_type_object)))
		err = NULL;
	if (ans->status >= 200 && ans->status < 300 && !err)
		meta_success(cfg, ans, root, parse_err ? parse_err : "empty body", rs);
	else
		meta_failure(cfg, ans, err, rs);
	json_object_put(root);
	free(parse_err);
}

static int meta_has_template(const struct config *cfg)
{
	return cfg->alert_template && *cfg->alert_template && cfg->template_language &&
	       *cfg->template_language;
}

const struct provider provider_meta = {
    .name = "meta",
    .caps = PROVIDER_NETWORK | PROVIDER_RECEIPTS | PROVIDER_TEMPLATES | PROVIDER_BUTTONS |
            PROVIDER_TEMPLATE_NAMES,
    .channels = 1u << CHANNEL_WHATSAPP,
    .build = meta_build,
    .classify = meta_classify,
    .has_template = meta_has_template,
    .code_outcome = meta_code_outcome,
};
