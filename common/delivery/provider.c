/*
 * provider.c: choosing a provider, and what the real providers share: text
 * clean-up (UTF-8, length caps, template parameters), percent-encoding,
 * recipient checks, error texts without secrets and transport failures.
 * The shared helpers are declared in provider_internal.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/email.h"
#include "core/jsonutil.h"
#include "core/phone.h"
#include "delivery/provider.h"
#include "delivery/provider_internal.h"
#include "core/util.h"

const struct provider *provider_for(const struct config *cfg)
{
	static const struct provider *const all[] = {&provider_meta, &provider_twilio,
	                                             &provider_sandbox};
	if (!cfg || !cfg->provider)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		if (strcmp(cfg->provider, all[i]->name) == 0)
			return all[i];
	/* config_load() rejects any other name; an unknown one must not fall back silently. */
	return NULL;
}

static const char *const channel_names[CHANNEL_COUNT] = {
    [CHANNEL_WHATSAPP] = "whatsapp",
    [CHANNEL_SMS] = "sms",
    [CHANNEL_EMAIL] = "email",
};

const char *channel_name(enum channel c)
{
	return (unsigned)c < CHANNEL_COUNT ? channel_names[c] : "unknown";
}

int channel_parse(const char *s, enum channel *out)
{
	for (int i = 0; s && i < CHANNEL_COUNT; i++)
		if (strcmp(s, channel_names[i]) == 0) {
			*out = (enum channel)i;
			return 0;
		}
	return -1;
}

int channel_address_check(const char *channel, const char *address, const char **why)
{
	enum channel ch = CHANNEL_WHATSAPP;
	if (channel && channel_parse(channel, &ch) < 0) {
		*why = "unknown channel (whatsapp, sms or email)";
		return -1;
	}
	if (ch == CHANNEL_EMAIL)
		return email_address_check(address, why);
	if (ch == CHANNEL_SMS) {
		char num[PHONE_MAX];
		if (!address) {
			*why = "is missing";
			return -1;
		}
		if (phone_normalize(address, num, why) < 0)
			return -1;
	}
	return 0;
}

int provider_sends_on(const struct provider *p, enum channel c)
{
	return p && (unsigned)c < CHANNEL_COUNT && (p->channels & (1u << c)) != 0;
}

const char *send_outcome_name(enum send_outcome o)
{
	switch (o) {
	case SEND_SENT:
		return "sent";
	case SEND_RETRY:
		return "retry";
	case SEND_RETRY_RECIPIENT:
		return "retry_recipient";
	case SEND_AS_TEMPLATE:
		return "as_template";
	case SEND_PERMANENT:
		return "permanent";
	case SEND_STOP_ALL:
		return "stop_all";
	}
	return "unknown";
}

void http_call_release(struct http_call *call)
{
	if (!call)
		return;
	free(call->url);
	free(call->body);
	free(call->content_type);
	free(call->mail_from);
	free(call->mail_rcpt);
	free(call->username);
	free(call->ca_file);
	/* The credentials are secrets: do not leave them in freed memory. */
	char *secrets[] = {call->bearer, call->userpwd, call->password};
	for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
		if (secrets[i])
			explicit_bzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	memset(call, 0, sizeof(*call));
}

/*
 * Decode one UTF-8 sequence at s (n > 0 bytes available). Returns its length
 * and sets *cp, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	} else if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	} else if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Whitespace and control characters, which template parameters may not contain. */
static int param_space(uint32_t c)
{
	return c <= 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0xA0 || c == 0x2028 ||
	       c == 0x2029;
}

#define ELLIPSIS 0x2026 /* one character, one UTF-16 unit */

/*
 * A copy of s that the providers accept (caller frees):
 * - invalid UTF-8 bytes become U+FFFD;
 * - as_param (template parameters): every run of whitespace or control
 *   characters (newline, tab, ...) becomes one space, leading and trailing
 *   ones go, and an empty result becomes "-". WhatsApp refuses parameters
 *   with newlines, tabs, more than 4 consecutive spaces or nothing at all
 *   (Meta 132000-range errors, Twilio 63013);
 * - at most max_units characters, counted as UTF-16 units (what the
 *   providers' limits count: an emoji outside the BMP costs 2); a longer text
 *   keeps what fits of it before "…" and is cut between code points.
 */
char *provider_clean_text(const char *s, size_t max_units, int as_param)
{
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)in);
	if (n > (SIZE_MAX - 16) / 3)
		abort();
	/* Worst case: every byte becomes U+FFFD (3 bytes); + "…" or "-" + NUL. */
	char *out = xmalloc(3 * n + 16);
	size_t len = 0, units = 0;
	size_t cut_len = 0; /* bytes of the text that fits with an ellipsis after it */
	int pending_space = 0, truncated = 0;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_decode(in + i, n - i, &c);
		if (l == 0) {
			c = 0xFFFD;
			l = 1;
		}
		i += l;
		if (as_param && param_space(c)) {
			pending_space = len > 0;
			continue;
		}
		char enc[5];
		size_t el = 0, u = c >= 0x10000 ? 2 : 1;
		if (pending_space) {
			enc[el++] = ' ';
			u++;
		}
		pending_space = 0;
		el += utf8_encode(c, enc + el);
		if (units + u > max_units) {
			truncated = 1;
			break;
		}
		if (units + u <= (max_units ? max_units - 1 : 0))
			cut_len = len + el;
		memcpy(out + len, enc, el);
		len += el;
		units += u;
	}
	if (truncated) {
		len = cut_len;
		if (as_param)
			while (len > 0 && out[len - 1] == ' ')
				len--;
		if (max_units > 0)
			len += utf8_encode(ELLIPSIS, out + len);
	}
	if (as_param && len == 0)
		out[len++] = '-';
	out[len] = '\0';
	return out;
}

/* RFC 3986: everything but the unreserved set as %XX; a space is %20. */
int provider_percent_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf tmp = BUF_INIT(b->max);
	int ret = -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char e[3];
		size_t el = 0;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			e[el++] = (char)*p;
		} else {
			e[el++] = '%';
			e[el++] = hex[*p >> 4];
			e[el++] = hex[*p & 15];
		}
		if (buf_append(&tmp, e, el) < 0)
			goto out;
	}
	/* All or nothing, as buf_append itself. */
	if (buf_append(b, buf_str(&tmp), tmp.len) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&tmp);
	return ret;
}

/* The recipient as "+" and digits; -1 with rs PERMANENT when it is not a phone number. */
int provider_recipient(const char *to, char out[PHONE_MAX], struct send_result *rs)
{
	const char *why = NULL;
	if (phone_normalize(to, out, &why) == 0)
		return 0;
	provider_fail(rs, SEND_PERMANENT, "invalid_recipient", NULL, "recipient %s: %s",
	              to ? to : "(none)", why ? why : "not a phone number");
	return -1;
}

/* The first place needle (nlen > 0 bytes) occurs in hay (hlen bytes), or NULL. */
static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	for (size_t i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/* Replace every occurrence of needle (nlen bytes) in *s by "[redacted]". */
static void replace_all(char **s, const char *needle, size_t nlen)
{
	static const char mark[] = "[redacted]";
	const char *hit;
	size_t from = 0;
	while (nlen > 0 && (hit = find(*s + from, strlen(*s + from), needle, nlen))) {
		size_t at = (size_t)(hit - *s);
		char *next = xasprintf("%.*s%s%s", (int)at, *s, mark, hit + nlen);
		free(*s);
		*s = next;
		from = at + sizeof(mark) - 1;
	}
}

static int token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Remove a secret from a provider's text: the whole secret, and any run of
 * 12 or more token characters that is a piece of it (Graph API errors such
 * as "Malformed access token EAAG..." echo the token, sometimes cut short).
 */
static void redact(char **s, const char *secret)
{
	size_t slen = secret ? strlen(secret) : 0;
	if (slen == 0)
		return;
	replace_all(s, secret, slen);
	for (size_t i = 0; (*s)[i];) {
		if (!token_char((*s)[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (token_char((*s)[j]))
			j++;
		if (j - i >= 12 && find(secret, slen, *s + i, j - i)) {
			char *piece = xstrndup(*s + i, j - i);
			replace_all(s, piece, j - i);
			free(piece);
			continue; /* rescan from i: the mark is not a token */
		}
		i = j;
	}
}

/* Copy s into dst (size bytes), cut on a UTF-8 boundary, control characters as spaces. */
static void copy_text(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? ' ' : s[i];
	dst[n] = '\0';
}

/*
 * Set the outcome, the error code and the human text of rs. secret (may be
 * NULL) is removed from the text before it is cut to size.
 */
void provider_fail(struct send_result *rs, enum send_outcome o, const char *code,
                   const char *secret, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = xvasprintf(fmt, ap);
	va_end(ap);
	redact(&text, secret);
	/* Valid UTF-8 (the database refuses anything else), "…" when cut. */
	char *clean = provider_clean_text(text, sizeof(rs->error) - 1, 0);
	rs->outcome = o;
	copy_text(rs->error_code, sizeof(rs->error_code), code);
	copy_text(rs->error, sizeof(rs->error), clean);
	free(clean);
	free(text);
}

/*
 * No HTTP answer: RETRY, "timeout" or "connect". A failure after the request
 * went out (connection reset while reading the answer) may hide a message
 * that was sent: retrying it is at-least-once delivery, by design.
 */
int provider_transport_failed(const struct http_answer *ans, struct send_result *rs)
{
	if (ans->transport_error == 0 && ans->status != 0)
		return 0;
	const char *what = ans->transport_error ? curl_easy_strerror((CURLcode)ans->transport_error)
	                                        : "no HTTP answer";
	if (ans->timed_out)
		provider_fail(rs, SEND_RETRY, "timeout", NULL, "no answer in time (%s)", what);
	else
		provider_fail(rs, SEND_RETRY, "connect", NULL, "transport failure (%s)", what);
	return 1;
}

const char *provider_json_string(struct json_object *o, const char *key)
{
	return json_get_string(o, key);
}

/* An integer member, also when sent as a string of digits. 0, or -1 when absent. */
int provider_json_int(struct json_object *o, const char *key, long long *out)
{
	const char *err, *s = json_get_string(o, key);
	if (json_get_int64(o, key, out) == 0)
		return 0;
	return s ? parse_int(s, 0, 999999999, out, &err) : -1;
}

char *provider_body_excerpt(const struct http_answer *ans)
{
	if (!ans->body || ans->len == 0)
		return xstrdup("empty body");
	char *raw = xstrndup(ans->body, ans->len < 200 ? ans->len : 200);
	char *clean = provider_clean_text(raw, 120, 1);
	free(raw);
	return clean;
}

int provider_code_rule(const struct code_rule *rules, size_t n, long long code,
                       enum send_outcome *o)
{
	for (size_t i = 0; i < n; i++)
		if (code >= rules[i].lo && code <= rules[i].hi) {
			*o = rules[i].outcome;
			return 0;
		}
	return -1;
}

enum send_outcome provider_outcome_by_status(long status)
{
	if (status == 401)
		return SEND_STOP_ALL;
	if (status == 429 || status >= 500)
		return SEND_RETRY;
	if (status >= 400)
		return SEND_PERMANENT;
	return SEND_RETRY; /* a redirect or other oddity says nothing about the message */
}

void provider_code_text(char *out, size_t len, int has_code, long long code, long status)
{
	if (has_code)
		snprintf(out, len, "%lld", code);
	else
		snprintf(out, len, "http_%ld", status);
}

enum template_choice provider_template_choice(const struct provider *p, const struct config *cfg,
                                              const char *own)
{
	if (own && *own && cfg->seller_templates_on && (p->caps & PROVIDER_TEMPLATE_NAMES) &&
	    cfg->template_language && *cfg->template_language)
		return TEMPLATE_OWN;
	return p->has_template(cfg) ? TEMPLATE_GENERIC : TEMPLATE_NONE;
}
