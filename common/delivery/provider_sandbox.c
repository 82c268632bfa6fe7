/*
 * provider_sandbox.c: a provider that sends nothing. build() answers at once
 * with SEND_SENT and an id "sandbox-<16 hex>"; the message itself is logged by
 * the caller. For development and tests: no network, no credentials.
 */
#include <stdio.h>
#include <string.h>

#include "delivery/provider.h"
#include "core/util.h"

static int sandbox_build(const struct config *cfg, const struct send_request *rq,
                         struct http_call *call, struct send_result *rs)
{
	char hex[17];
	(void)cfg;
	(void)rq;
	memset(call, 0, sizeof(*call));
	memset(rs, 0, sizeof(*rs));
	if (random_hex(hex, 8) < 0) {
		rs->outcome = SEND_PERMANENT;
		snprintf(rs->error_code, sizeof(rs->error_code), "sandbox");
		snprintf(rs->error, sizeof(rs->error), "no random bytes for a message id");
		return -1;
	}
	rs->outcome = SEND_SENT;
	snprintf(rs->message_id, sizeof(rs->message_id), "sandbox-%s", hex);
	return 1;
}

/* Never called: build() never asks for an HTTP call. Say so if it happens. */
static void sandbox_classify(const struct config *cfg, const struct http_answer *ans,
                             struct send_result *rs)
{
	(void)cfg;
	(void)ans;
	memset(rs, 0, sizeof(*rs));
	rs->outcome = SEND_PERMANENT;
	snprintf(rs->error_code, sizeof(rs->error_code), "sandbox");
	snprintf(rs->error, sizeof(rs->error),
	         "the sandbox provider makes no HTTP calls: nothing to classify");
}

/* No code of its own: whatever a status says is final. */
static enum send_outcome sandbox_code_outcome(long long code)
{
	(void)code;
	return SEND_PERMANENT;
}

/* The sandbox records text: there is no window to respect. */
static int sandbox_has_template(const struct config *cfg)
{
	(void)cfg;
	return 0;
}

const struct provider provider_sandbox = {
    .name = "sandbox",
    .caps = 0, /* no network: the caller logs what it "sent"; no receipts, templates, buttons */
    .channels = (1u << CHANNEL_WHATSAPP) | (1u << CHANNEL_SMS) | (1u << CHANNEL_EMAIL),
    .build = sandbox_build,
    .classify = sandbox_classify,
    .has_template = sandbox_has_template,
    .code_outcome = sandbox_code_outcome,
};
