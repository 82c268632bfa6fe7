/*
 * provider_internal.h: what provider.c shares with the real providers
 * (provider_meta.c, provider_twilio.c, provider_smtp.c). Not for callers: they use provider.h.
 */
#ifndef PROVIDER_INTERNAL_H
#define PROVIDER_INTERNAL_H

#include "core/buf.h"
#include "core/phone.h"
#include "delivery/provider.h"

/* UTF-8 clean-up and truncation to max_units (UTF-16 units); as_param: template rules. */
char *provider_clean_text(const char *s, size_t max_units, int as_param);
/* Append s percent-encoded (RFC 3986 unreserved set kept). 0 / -1 over the buffer's cap. */
int provider_percent_encode(struct buf *b, const char *s);
/* Normalise the recipient; -1 with rs a permanent "invalid_recipient" failure. */
int provider_recipient(const char *to, char out[PHONE_MAX], struct send_result *rs);
/* Fill rs with outcome o, code and a message from which secret is removed. */
void provider_fail(struct send_result *rs, enum send_outcome o, const char *code,
                   const char *secret, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 1 and rs filled (retry "timeout" / "connect") when the call got no HTTP answer. */
int provider_transport_failed(const struct http_answer *ans, struct send_result *rs);

struct json_object;
/* A string member of o, or NULL. */
const char *provider_json_string(struct json_object *o, const char *key);
/* An integer member, also when sent as a string of digits. 0, or -1 when absent. */
int provider_json_int(struct json_object *o, const char *key, long long *out);
/* The start of an answer's body, cleaned for an error text. Caller frees. */
char *provider_body_excerpt(const struct http_answer *ans);

/* A provider's error codes lo..hi and what they mean for the message. */
struct code_rule {
	long long lo, hi;
	enum send_outcome outcome;
};

/* The outcome of code in a provider's table. 0, or -1 when no rule covers it. */
int provider_code_rule(const struct code_rule *rules, size_t n, long long code,
                       enum send_outcome *o);

/* The outcome when the answer carries no error code we know: the HTTP status decides. */
enum send_outcome provider_outcome_by_status(long status);
/* The provider's code as text, or "http_<status>" when there is none. */
void provider_code_text(char *out, size_t len, int has_code, long long code, long status);

#endif
