/*
 * provider_smtp.c: email over SMTP (the email channel). build() writes the
 * whole message (core/email.h: our own headers, base64 body) and its
 * envelope for one SMTP transaction on SMTP_URL; sender.c runs it with
 * libcurl, STARTTLS required on smtp:// (never plain text), the server's
 * certificate verified. The Message-ID, made here, is the message id kept
 * on the row.
 *
 * Classification, by the server's last reply code and curl's result:
 *   2xx and the transaction complete      sent
 *   4xx (451 local error, 452, 421, ...)  retry, with the backoff
 *   5xx (550 no such user, 554, ...)      failed for good, the reply as reason
 *   login refused (535)                   the email account stops (STOP_ALL)
 *   no STARTTLS offered, a TLS failure    retry (nothing was sent in clear)
 *   no connection, timeout                retry
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/email.h"
#include "core/util.h"
#include "delivery/provider.h"
#include "delivery/provider_internal.h"

/* The Message-ID of a new message from the address from (its domain names it). */
static int make_message_id(char *out, size_t len, const char *from, long long now)
{
	char hex[17];
	const char *at = strchr(from, '@');
	if (!at || random_hex(hex, 8) < 0)
		return -1;
	int n = snprintf(out, len, "<%lld.%s@%s>", now, hex, at + 1);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int smtp_build(const struct config *cfg, const struct send_request *rq,
                      struct http_call *call, struct send_result *rs)
{
	const char *why = NULL;
	char *from_name = NULL, *from = NULL, *subject = NULL;
	struct buf msg = BUF_INIT(EMAIL_MAX_MESSAGE);
	long long now = (long long)time(NULL);
	int ret = -1;
	memset(call, 0, sizeof(*call));
	if (email_address_check(rq->to, &why) < 0) {
		provider_fail(rs, SEND_PERMANENT, "invalid_recipient", NULL, "recipient %s: %s",
		              rq->to ? rq->to : "(none)", why);
		goto out;
	}
	if (!*cfg->smtp_url || email_mailbox_parse(cfg->smtp_from, &from_name, &from, &why) < 0) {
		provider_fail(rs, SEND_PERMANENT, "smtp_not_configured", NULL,
		              "SMTP_URL and SMTP_FROM must be set to send email");
		goto out;
	}
	if (make_message_id(rs->message_id, sizeof(rs->message_id), from, now) < 0) {
		provider_fail(rs, SEND_RETRY, "message_id", NULL, "no Message-ID could be made");
		goto out;
	}
	subject = email_subject(rq->priority, rq->text);
	struct email_msg m = {
	    .from_name = from_name,
	    .from_addr = from,
	    .to_addr = rq->to,
	    .subject = subject,
	    .body = rq->text,
	    .message_id = rs->message_id,
	    .date = now,
	};
	if (email_format(&msg, &m, &why) < 0) {
		provider_fail(rs, SEND_PERMANENT, "message", NULL,
		              "the email cannot be written: %s", why);
		goto out;
	}
	call->url = xstrdup(cfg->smtp_url);
	call->body = buf_detach(&msg);
	call->mail_from = xasprintf("<%s>", from);
	call->mail_rcpt = xasprintf("<%s>", rq->to);
	if (*cfg->smtp_username) {
		call->username = xstrdup(cfg->smtp_username);
		call->password = xstrdup(cfg->smtp_password);
	}
	call->ca_file = *cfg->smtp_ca_file ? xstrdup(cfg->smtp_ca_file) : NULL;
	call->timeout_ms = (long)cfg->smtp_timeout_ms;
	ret = 0;
out:
	if (ret < 0) {
		rs->message_id[0] = '\0';
		http_call_release(call);
	}
	buf_release(&msg);
	free(subject);
	free(from_name);
	free(from);
	return ret;
}

/*
 * The server's reply with that code, from its reply lines (the last one
 * starting with it: a later QUIT's "221" is not the reason), cleaned; or
 * curl's view when there is none. Caller frees.
 */
static char *reply_text(const struct http_answer *ans)
{
	char code[8];
	snprintf(code, sizeof(code), "%03ld", ans->status);
	const char *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; ans->body && i < ans->len;) {
		const char *line = ans->body + i;
		const char *nl = memchr(line, '\n', ans->len - i);
		size_t n = nl ? (size_t)(nl - line) : ans->len - i;
		if (n >= 3 && memcmp(line, code, 3) == 0) {
			best = line;
			best_len = n;
		}
		i += n + 1;
	}
	if (!best)
		return xasprintf("reply %ld", ans->status);
	char *raw = xstrndup(best, best_len < 300 ? best_len : 300);
	char *clean = provider_clean_text(raw, 200, 1);
	free(raw);
	return clean;
}

/* curl's own text of the failure, else its code's. */
static const char *curl_text(const struct http_answer *ans)
{
	if (ans->curl_error && *ans->curl_error)
		return ans->curl_error;
	return ans->transport_error ? curl_easy_strerror((CURLcode)ans->transport_error)
	                            : "no reply";
}

static int tls_failure(int e)
{
	return e == CURLE_SSL_CONNECT_ERROR || e == CURLE_PEER_FAILED_VERIFICATION ||
	       e == CURLE_SSL_CACERT_BADFILE || e == CURLE_SSL_CERTPROBLEM ||
	       e == CURLE_SSL_CIPHER || e == CURLE_SSL_ISSUER_ERROR;
}

static void smtp_classify(const struct config *cfg, const struct http_answer *ans,
                          struct send_result *rs)
{
	(void)cfg;
	char id[sizeof(rs->message_id)];
	snprintf(id, sizeof(id), "%s", rs->message_id);
	memset(rs, 0, sizeof(*rs));
	if (ans->transport_error == 0 && ans->status >= 200 && ans->status < 300) {
		rs->outcome = SEND_SENT;
		snprintf(rs->message_id, sizeof(rs->message_id), "%s", id);
		return;
	}
	int e = ans->transport_error;
	char ecode[32];
	snprintf(ecode, sizeof(ecode), "smtp_%03ld", ans->status);
	if (e == CURLE_USE_SSL_FAILED) {
		provider_fail(rs, SEND_RETRY, "smtp_starttls", NULL,
		              "the mail server does not offer STARTTLS: nothing was sent");
	} else if (tls_failure(e)) {
		provider_fail(rs, SEND_RETRY, "smtp_tls", NULL,
		              "TLS with the mail server failed (%s)", curl_text(ans));
	} else if (e == CURLE_LOGIN_DENIED) {
		char *why = reply_text(ans);
		provider_fail(rs, SEND_STOP_ALL, "smtp_auth", NULL,
		              "the mail server refused the login: %s", why);
		free(why);
	} else if (ans->status >= 400 && ans->status < 600) {
		char *why = reply_text(ans);
		provider_fail(rs, ans->status >= 500 ? SEND_PERMANENT : SEND_RETRY, ecode, NULL,
		              "the mail server answered %s", why);
		free(why);
	} else if (ans->timed_out) {
		provider_fail(rs, SEND_RETRY, "timeout", NULL, "no answer in time (%s)",
		              curl_text(ans));
	} else {
		provider_fail(rs, SEND_RETRY, "connect", NULL, "transport failure (%s)",
		              curl_text(ans));
	}
}

/* Statuses never come back by webhook for email: a code has no table. */
static enum send_outcome smtp_code_outcome(long long code)
{
	return code >= 400 && code < 500 ? SEND_RETRY : SEND_PERMANENT;
}

/* Email has no 24-hour window. */
static int smtp_has_template(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

const struct provider provider_smtp = {
    .name = "smtp",
    .caps = PROVIDER_NETWORK, /* no receipts, templates or buttons */
    .channels = 1u << CHANNEL_EMAIL,
    .build = smtp_build,
    .classify = smtp_classify,
    .has_template = smtp_has_template,
    .code_outcome = smtp_code_outcome,
};
