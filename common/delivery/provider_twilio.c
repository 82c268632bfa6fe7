/*
 * provider_twilio.c: Twilio Programmable Messaging, for WhatsApp
 * (provider_twilio) and SMS (provider_twilio_sms): the same account, the same
 * Messages API, each channel its own table of error codes.
 *
 * build(): POST {TWILIO_API_URL}/Accounts/{SID}/Messages.json, basic auth
 * SID:AUTH_TOKEN, form-encoded To/From/Body, or ContentSid and
 * ContentVariables for a Content template (no Body then). WhatsApp's
 * addresses are "whatsapp:+<digits>"; an SMS's are plain E.164, From being
 * TWILIO_SMS_FROM or, instead, MessagingServiceSid; its Body is cut to
 * SMS_MAX_SEGMENTS (core/sms.h). On both, StatusCallback is TWILIO_WEBHOOK_URL
 * when it is set (receipts come back only there, or to a URL set in Twilio's
 * console).
 * classify(): by Twilio's error code ("code"), else by HTTP status
 * (../shared/reference/whatsapp-api.md, B.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/phone.h"
#include "core/sms.h"
#include "delivery/provider.h"
#include "delivery/provider_internal.h"
#include "core/util.h"

#define TWILIO_BODY_MAX 1600  /* Body, characters (else 21617 / 21658) */
#define TWILIO_PARAM_MAX 1024 /* a WhatsApp template body is at most 1024 characters (63021) */
#define TWILIO_FORM_MAX (64 * 1024)
#define TWILIO_URL_MAX 4096

static const struct code_rule twilio_rules[] = {
    /* Rate limits: never processed, safe to try again later. */
    {20429, 20429, SEND_RETRY}, /* too many concurrent requests */
    {63017, 63017, SEND_RETRY}, /* account-wide rate */
    {63018, 63018, SEND_RETRY}, /* channel rate / WhatsApp messaging limit */
    /* Outside the 24-hour window: send the Content template. */
    {63016, 63016, SEND_AS_TEMPLATE},
    /*
     * The account: nothing goes out until the operator acts. 20003 is
     * "PERMANENT (config)" in the reference, but it fails every message the
     * same way. 20005, 10001 and 30002 (account not active / suspended) are
     * not in the reference; they are Twilio's documented account codes.
     */
    {20003, 20003, SEND_STOP_ALL},
    {20005, 20005, SEND_STOP_ALL},
    {10001, 10001, SEND_STOP_ALL},
    {30002, 30002, SEND_STOP_ALL},
    /* This message can never be sent (listed so that a 5xx with them is not retried). */
    {21211, 21211, SEND_PERMANENT}, /* invalid To */
    {21614, 21614, SEND_PERMANENT}, /* To is not a mobile number */
    {63003, 63003, SEND_PERMANENT}, /* channel could not find To */
    {63024, 63024, SEND_PERMANENT}, /* invalid recipient */
    {63014, 63014, SEND_PERMANENT}, /* blocked by the user */
    {63032, 63032, SEND_PERMANENT}, /* user in a WhatsApp experiment */
    {63007, 63007, SEND_PERMANENT}, /* no channel for From */
    {63013, 63013, SEND_PERMANENT}, /* channel policy (e.g. template variable format) */
    {63021, 63021, SEND_PERMANENT}, /* invalid content (template too long) */
    {21617, 21617, SEND_PERMANENT}, /* body too long */
    {21658, 21658, SEND_PERMANENT}, /* parameter too long */
};

/* SMS: Twilio's codes for the Messages API and for a failed or undelivered status callback. */
static const struct code_rule twilio_sms_rules[] = {
    {20429, 20429, SEND_RETRY}, /* too many concurrent requests */
    {30001, 30001, SEND_RETRY}, /* queue overflow: the account sent too fast */
    {30022, 30022, SEND_RETRY}, /* US A2P 10DLC rate limit exceeded */
    /* The account: nothing goes out until the operator acts (as for WhatsApp). */
    {20003, 20003, SEND_STOP_ALL},
    {20005, 20005, SEND_STOP_ALL},
    {10001, 10001, SEND_STOP_ALL},
    {30002, 30002, SEND_STOP_ALL},
    /* This message can never be sent (listed so that a 5xx with them is not retried). */
    {21211, 21211, SEND_PERMANENT}, /* invalid To */
    {21408, 21408, SEND_PERMANENT}, /* no permission to send to that region */
    {21610, 21610, SEND_PERMANENT}, /* the recipient unsubscribed (STOP) */
    {21612, 21612, SEND_PERMANENT}, /* To cannot be reached from From */
    {21614, 21614, SEND_PERMANENT}, /* To is not a mobile number */
    {21617, 21617, SEND_PERMANENT}, /* body too long */
    {21212, 21212, SEND_PERMANENT}, /* invalid From */
    {21606, 21606, SEND_PERMANENT}, /* From cannot send SMS */
    {21703, 21705, SEND_PERMANENT}, /* Messaging Service without senders, or invalid */
    {30003, 30008, SEND_PERMANENT}, /* unreachable, blocked, unknown, landline, filtered */
};

static int twilio_rule(long long code, enum send_outcome *o)
{
	return provider_code_rule(twilio_rules, ARRAY_LEN(twilio_rules), code, o);
}

static enum send_outcome twilio_code_outcome(long long code)
{
	enum send_outcome o;
	return twilio_rule(code, &o) == 0 ? o : SEND_PERMANENT;
}

static int twilio_sms_rule(long long code, enum send_outcome *o)
{
	return provider_code_rule(twilio_sms_rules, ARRAY_LEN(twilio_sms_rules), code, o);
}

static enum send_outcome twilio_sms_code_outcome(long long code)
{
	enum send_outcome o;
	return twilio_sms_rule(code, &o) == 0 ? o : SEND_PERMANENT;
}

/* name=value&, value percent-encoded; -1 past TWILIO_FORM_MAX. */
static int form_field(struct buf *form, const char *name, const char *prefix, const char *value)
{
	struct buf v = BUF_INIT(TWILIO_FORM_MAX);
	int ret = -1;
	if (buf_puts(&v, prefix) < 0 || buf_puts(&v, value) < 0)
		goto out;
	if ((form->len > 0 && buf_puts(form, "&") < 0) || buf_puts(form, name) < 0 ||
	    buf_puts(form, "=") < 0 || provider_percent_encode(form, buf_str(&v)) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&v);
	return ret;
}

/* {"1":p1,"2":p2,...} as text (caller frees). */
static char *content_variables(const struct send_request *rq)
{
	struct json_object *vars = json_object_new_object();
	char *ret = NULL;
	if (!vars)
		goto oom;
	for (size_t i = 0; i < rq->n_params; i++) {
		char key[24];
		char *text = provider_clean_text(rq->params[i], TWILIO_PARAM_MAX, 1);
		struct json_object *v = json_object_new_string(text);
		free(text);
		snprintf(key, sizeof(key), "%zu", i + 1);
		if (!v || json_object_object_add(vars, key, v) < 0)
			goto oom;
	}
	const char *s = json_object_to_json_string_ext(vars, JSON_C_TO_STRING_PLAIN |
	                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		goto oom;
	ret = xstrdup(s);
	json_object_put(vars);
	return ret;
oom:
	log_error("out_of_memory", "json-c allocation failed");
	abort();
}

/* The account's credentials and number, checked before anything is built. 0 / -1 (rs). */
static int twilio_account(const struct config *cfg, char from[PHONE_MAX], struct send_result *rs)
{
	const char *why = NULL;
	if (!*cfg->twilio_account_sid || !*cfg->twilio_auth_token) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL,
		              "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required");
		return -1;
	}
	if (phone_normalize(cfg->twilio_whatsapp_number, from, &why) < 0) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL, "TWILIO_WHATSAPP_NUMBER: %s",
		              why ? why : "not a phone number");
		return -1;
	}
	return 0;
}

/* {TWILIO_API_URL}/Accounts/{SID}/Messages.json into url. 0 / -1 (rs). */
static int twilio_url(const struct config *cfg, struct buf *url, struct send_result *rs)
{
	size_t base = strlen(cfg->twilio_api_url);
	while (base > 0 && cfg->twilio_api_url[base - 1] == '/')
		base--;
	if (buf_append(url, cfg->twilio_api_url, base) < 0 || buf_puts(url, "/Accounts/") < 0 ||
	    provider_percent_encode(url, cfg->twilio_account_sid) < 0 ||
	    buf_puts(url, "/Messages.json") < 0) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL, "TWILIO_API_URL is too long");
		return -1;
	}
	return 0;
}

/*
 * The message's own fields of the form: ContentSid and ContentVariables for
 * a template, else Body. 0, -1 (rs says why), or -2 when the form is too big.
 */
static int twilio_content(const struct config *cfg, const struct send_request *rq, struct buf *form,
                          struct send_result *rs)
{
	int ret = -2;
	char *text = NULL, *vars = NULL;
	if (rq->as_template) {
		if (!*cfg->twilio_content_sid) {
			provider_fail(rs, SEND_PERMANENT, "no_template", NULL,
			              "no template configured (TWILIO_CONTENT_SID)");
			return -1;
		}
		if (rq->n_params && !rq->params) {
			provider_fail(rs, SEND_PERMANENT, "bad_request", NULL,
			              "%zu template parameters announced, none given",
			              rq->n_params);
			return -1;
		}
		/*
		 * No Body with a ContentSid (63016 otherwise). The quick-reply
		 * payload is part of the Content template itself; a template that
		 * wants the alert id takes it as one of the variables.
		 */
		if (form_field(form, "ContentSid", "", cfg->twilio_content_sid) < 0)
			goto out;
		if (rq->n_params) {
			vars = content_variables(rq);
			if (form_field(form, "ContentVariables", "", vars) < 0)
				goto out;
		}
	} else {
		if (!rq->text || !*rq->text) {
			provider_fail(rs, SEND_PERMANENT, "bad_request", NULL,
			              "empty message text");
			return -1;
		}
		text = provider_clean_text(rq->text, TWILIO_BODY_MAX, 0);
		if (form_field(form, "Body", "", text) < 0)
			goto out;
	}
	ret = 0;
out:
	free(text);
	free(vars);
	return ret;
}

/* The Messages API call: url and form taken over, Basic auth with the account's SID and token. */
static void twilio_call(const struct config *cfg, struct buf *url, struct buf *form,
                        struct http_call *call)
{
	call->url = buf_detach(url);
	call->body = buf_detach(form);
	call->content_type = xstrdup("application/x-www-form-urlencoded");
	call->userpwd = xasprintf("%s:%s", cfg->twilio_account_sid, cfg->twilio_auth_token);
}

/* A form past TWILIO_FORM_MAX: refused for good (the same text would be too big again). */
static void twilio_too_big(struct send_result *rs)
{
	provider_fail(rs, SEND_PERMANENT, "bad_request", NULL, "request body larger than %d bytes",
	              TWILIO_FORM_MAX);
}

static int twilio_build(const struct config *cfg, const struct send_request *rq,
                        struct http_call *call, struct send_result *rs)
{
	int ret = -1, r;
	struct buf url = BUF_INIT(TWILIO_URL_MAX);
	struct buf form = BUF_INIT(TWILIO_FORM_MAX);
	char to[PHONE_MAX], from[PHONE_MAX];

	memset(call, 0, sizeof(*call));
	memset(rs, 0, sizeof(*rs));
	rs->outcome = SEND_PERMANENT;
	if (twilio_account(cfg, from, rs) < 0 || provider_recipient(rq->to, to, rs) < 0 ||
	    twilio_url(cfg, &url, rs) < 0)
		goto out;
	if (form_field(&form, "To", "whatsapp:", to) < 0 ||
	    form_field(&form, "From", "whatsapp:", from) < 0)
		goto too_big;
	r = twilio_content(cfg, rq, &form, rs);
	if (r == -1)
		goto out;
	if (r == -2)
		goto too_big;
	/* Receipts (delivered, read) come back only to a message's StatusCallback, or to a URL
	 * set on the sender in Twilio's console: ours, when we know it. */
	if (cfg->twilio_webhook_url && *cfg->twilio_webhook_url &&
	    form_field(&form, "StatusCallback", "", cfg->twilio_webhook_url) < 0)
		goto too_big;
	twilio_call(cfg, &url, &form, call);
	ret = 0;
	goto out;
too_big:
	twilio_too_big(rs);
out:
	buf_release(&url);
	buf_release(&form);
	if (ret < 0)
		http_call_release(call);
	return ret;
}

/* The answer to a Messages API call, its error codes read with rule (a channel's table). */
static void classify_with(int (*rule)(long long, enum send_outcome *), const struct config *cfg,
                          const struct http_answer *ans, struct send_result *rs)
{
	struct json_object *root = NULL;
	char *parse_err = NULL;
	long long code = 0;
	enum send_outcome o;
	char code_text[32];

	memset(rs, 0, sizeof(*rs));
	if (provider_transport_failed(ans, rs))
		return;
	if (ans->body && ans->len > 0 &&
	    json_parse_object_flags(ans->body, ans->len, JSON_NUL_IN_VALUES, &root, &parse_err) < 0)
		root = NULL;
	int has_code = provider_json_int(root, "code", &code) == 0;
	int ok = ans->status >= 200 && ans->status < 300;
	const char *sid = provider_json_string(root, "sid");

	if (ok && sid && *sid && strlen(sid) < sizeof(rs->message_id)) {
		rs->outcome = SEND_SENT;
		memcpy(rs->message_id, sid, strlen(sid) + 1);
		goto out;
	}
	if (ok && !has_code) {
		/*
		 * Accepted, but we cannot read the Message SID. The message may
		 * have gone out: retrying can deliver it twice (at-least-once), which
		 * beats losing an alert or keeping a "sent" without a SID.
		 */
		char *excerpt = provider_body_excerpt(ans);
		snprintf(code_text, sizeof(code_text), "http_%ld", ans->status);
		provider_fail(
		    rs, SEND_RETRY, code_text, cfg->twilio_auth_token,
		    "HTTP %ld without a usable message sid (%s: %s); the message may have "
		    "been sent, a retry can deliver it twice",
		    ans->status,
		    root        ? "no sid"
		    : parse_err ? parse_err
		                : "empty body",
		    excerpt);
		free(excerpt);
		goto out;
	}

	if (!has_code || rule(code, &o) < 0)
		o = provider_outcome_by_status(ans->status);
	provider_code_text(code_text, sizeof(code_text), has_code, code, ans->status);
	const char *message = provider_json_string(root, "message");
	if (message) {
		const char *more = provider_json_string(root, "more_info");
		provider_fail(rs, o, code_text, cfg->twilio_auth_token, "%s (HTTP %ld%s%s)",
		              message, ans->status, more ? ", " : "", more ? more : "");
	} else {
		char *excerpt = provider_body_excerpt(ans);
		provider_fail(rs, o, code_text, cfg->twilio_auth_token,
		              "HTTP %ld without a Twilio error (%s)", ans->status, excerpt);
		free(excerpt);
	}
out:
	json_object_put(root);
	free(parse_err);
}

static void twilio_classify(const struct config *cfg, const struct http_answer *ans,
                            struct send_result *rs)
{
	classify_with(twilio_rule, cfg, ans, rs);
}

static void twilio_sms_classify(const struct config *cfg, const struct http_answer *ans,
                                struct send_result *rs)
{
	classify_with(twilio_sms_rule, cfg, ans, rs);
}

/* The SMS sender: From (TWILIO_SMS_FROM) or MessagingServiceSid, checked. 0 / -1 (rs). */
static int sms_sender(const struct config *cfg, struct buf *form, struct send_result *rs)
{
	if (!*cfg->twilio_account_sid || !*cfg->twilio_auth_token) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL,
		              "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required");
		return -1;
	}
	if (*cfg->twilio_messaging_service_sid)
		return form_field(form, "MessagingServiceSid", "",
		                  cfg->twilio_messaging_service_sid);
	char from[PHONE_MAX];
	const char *why = NULL;
	if (phone_normalize(cfg->twilio_sms_from, from, &why) < 0) {
		provider_fail(rs, SEND_PERMANENT, "config", NULL,
		              "TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID: %s",
		              why ? why : "not set");
		return -1;
	}
	return form_field(form, "From", "", from);
}

/*
 * An SMS: To and From (or MessagingServiceSid) without "whatsapp:", the Body
 * cleaned and cut to SMS_MAX_SEGMENTS, StatusCallback TWILIO_WEBHOOK_URL when
 * set. Never a template: SMS has none.
 */
static int twilio_sms_build(const struct config *cfg, const struct send_request *rq,
                            struct http_call *call, struct send_result *rs)
{
	int ret = -1;
	struct buf url = BUF_INIT(TWILIO_URL_MAX);
	struct buf form = BUF_INIT(TWILIO_FORM_MAX);
	char to[PHONE_MAX];
	char *text = NULL;

	memset(call, 0, sizeof(*call));
	memset(rs, 0, sizeof(*rs));
	rs->outcome = SEND_PERMANENT;
	if (provider_recipient(rq->to, to, rs) < 0 || twilio_url(cfg, &url, rs) < 0)
		goto out;
	if (form_field(&form, "To", "", to) < 0)
		goto too_big;
	if (sms_sender(cfg, &form, rs) < 0) {
		if (!rs->error_code[0])
			goto too_big;
		goto out;
	}
	struct sms_fit fit;
	text = sms_fit(rq->text, (size_t)cfg->sms_max_segments, &fit);
	if (!*text) {
		provider_fail(rs, SEND_PERMANENT, "bad_request", NULL, "empty message text");
		goto out;
	}
	if (form_field(&form, "Body", "", text) < 0)
		goto too_big;
	if (cfg->twilio_webhook_url && *cfg->twilio_webhook_url &&
	    form_field(&form, "StatusCallback", "", cfg->twilio_webhook_url) < 0)
		goto too_big;
	twilio_call(cfg, &url, &form, call);
	ret = 0;
	goto out;
too_big:
	twilio_too_big(rs);
out:
	free(text);
	buf_release(&url);
	buf_release(&form);
	if (ret < 0)
		http_call_release(call);
	return ret;
}

static int twilio_sms_has_template(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

static int twilio_has_template(const struct config *cfg)
{
	return cfg->twilio_content_sid && *cfg->twilio_content_sid;
}

const struct provider provider_twilio = {
    .name = "twilio",
    /* The quick-reply payload belongs to the Content template, not to each message. */
    .caps = PROVIDER_NETWORK | PROVIDER_RECEIPTS | PROVIDER_TEMPLATES,
    .channels = 1u << CHANNEL_WHATSAPP,
    .build = twilio_build,
    .classify = twilio_classify,
    .has_template = twilio_has_template,
    .code_outcome = twilio_code_outcome,
};

const struct provider provider_twilio_sms = {
    .name = "twilio",
    .caps = PROVIDER_NETWORK | PROVIDER_RECEIPTS,
    .channels = 1u << CHANNEL_SMS,
    .build = twilio_sms_build,
    .classify = twilio_sms_classify,
    .has_template = twilio_sms_has_template,
    .code_outcome = twilio_sms_code_outcome,
};
