/*
 * provider.h: the providers (WhatsApp, SMS, email) behind one table of functions.
 *
 * A provider does not do I/O. build() turns a message into a call (an HTTP
 * POST: URL, headers, body, basic-auth; or one SMTP transaction: server URL,
 * envelope, the whole message) and classify() turns the answer (or the
 * transport failure) into a send_result; sender.c runs the calls, many in
 * flight at once (curl multi). The sandbox provider answers in build()
 * itself and never touches the network.
 *
 * Outcomes are decided by the provider's own error code, not by the HTTP
 * status alone (../shared/reference/whatsapp-api.md). Each provider carries
 * its code table (code_outcome) and what it can do (caps, channels): callers
 * ask the provider, never test its name.
 */
#ifndef PROVIDER_H
#define PROVIDER_H

#include <stddef.h>

#include "core/config.h"

enum send_outcome {
	SEND_SENT,            /* accepted: message_id (and wa_id for Meta) set */
	SEND_RETRY,           /* try again later (rate limits, 5xx, timeouts, ...) */
	SEND_RETRY_RECIPIENT, /* try again later, this recipient only (131056 pair rate) */
	SEND_AS_TEMPLATE, /* outside the 24-hour window: re-send as a template (131047, 63016) */
	SEND_PERMANENT,   /* this message can never be sent (bad number, template error) */
	SEND_STOP_ALL,    /* stop all sending, alert the operator (190, 368, 131031, 131048) */
};

const char *send_outcome_name(enum send_outcome o);

/* How a message reaches a person; an account sends on one. */
enum channel { CHANNEL_WHATSAPP, CHANNEL_SMS, CHANNEL_EMAIL };
#define CHANNEL_COUNT 3

/* "whatsapp", "sms", "email" (the whatsapp_logs.channel and accounts.channel values). */
const char *channel_name(enum channel c);
/* The channel named s. 0, or -1 when s names none. */
int channel_parse(const char *s, enum channel *out);

/*
 * 0 when address may be stored and sent to on the channel named channel (NULL: whatsapp): the
 * channel is known and, on email, the address is one email_address_check() accepts (no CR, LF
 * or other control character, no space, local@domain: an address that could smuggle a header
 * is refused); on sms, a phone number phone_normalize() accepts. -1 with *why (static text,
 * which never repeats the address). The outbox (outbox_msg_check) and the spool check with it.
 */
int channel_address_check(const char *channel, const char *address, const char **why);

/* What a provider can do (struct provider's caps). */
enum provider_cap {
	PROVIDER_NETWORK = 1 << 0, /* build() makes HTTP calls; without it build() answers itself */
	PROVIDER_RECEIPTS = 1 << 1,  /* delivered/read/failed statuses come back by webhook */
	PROVIDER_TEMPLATES = 1 << 2, /* approved templates outside the 24-hour window */
	PROVIDER_BUTTONS = 1 << 3,   /* a quick-reply button per message ("ACK:<alert id>") */
	/* a template chosen by name per message (send_request template_name): Meta only; Twilio's
	 * Content SIDs are not names, its messages keep TWILIO_CONTENT_SID */
	PROVIDER_TEMPLATE_NAMES = 1 << 4,
};

/*
 * What to send. Text or template; the template is the configured one unless template_name
 * names another (a seller alert type's own, PROVIDER_TEMPLATE_NAMES providers only).
 */
struct send_request {
	const char *to;            /* E.164, "+" and digits; an email address for email */
	const char *priority;      /* "critical", "warning", "info" (an email's subject tag) */
	const char *text;          /* the message as text (also the fallback summary) */
	int as_template;           /* send WHATSAPP_ALERT_TEMPLATE / TWILIO_CONTENT_SID */
	const char *template_name; /* with as_template: this template instead (in the configured
	                              WHATSAPP_TEMPLATE_LANGUAGE); NULL: the configured one */
	const char *const *params; /* template body parameters, in order */
	size_t n_params;
	const char *button_payload; /* quick-reply payload ("ACK:<alert id>"); NULL: none */
	/*
	 * Text only (inside the 24-hour window): an interactive reply button under the text,
	 * its id coming back when tapped ("MUTE:order.placed") and its title ("Mute this type",
	 * at most 20 characters). Meta only, and only for a text within an interactive body's
	 * 1024 characters; otherwise plain text. NULL: none.
	 */
	const char *reply_id, *reply_title;
};

/*
 * A call built by a provider: an HTTP POST, or, when mail_rcpt is set, one SMTP
 * transaction (url smtp:// with STARTTLS required, or smtps://; body the whole
 * message). Every field owned by the call (http_call_release).
 */
struct http_call {
	char *url;
	char *body;
	char *content_type; /* "application/json", "application/x-www-form-urlencoded" */
	char *bearer;       /* Authorization: Bearer ..., or NULL */
	char *userpwd;      /* basic auth "user:password", or NULL */
	char *mail_from;    /* SMTP: the envelope sender "<addr>" */
	char *mail_rcpt;    /* SMTP: the one envelope recipient "<addr>"; NULL: an HTTP call */
	char *username, *password; /* SMTP AUTH, or NULL */
	char *ca_file;             /* PEM of the CA(s) to verify the server with; NULL: system's */
	long timeout_ms;           /* 0: the sender's (SEND_TIMEOUT_MS) */
};

void http_call_release(struct http_call *call);

/* The answer to a call, as sender.c saw it. */
struct http_answer {
	long status;         /* the HTTP status, or the SMTP server's last reply code; 0: none */
	int transport_error; /* 0, or a CURLcode (an SMTP reply that is not 2xx is one too) */
	int timed_out;
	const char *body; /* may be NULL; for SMTP the server's reply lines */
	size_t len;
	const char *curl_error; /* curl's own text of a transport error; may be NULL */
};

struct send_result {
	enum send_outcome outcome;
	char message_id[256]; /* wamid.*, Twilio SM..., or an email's Message-ID "<...@...>" */
	char wa_id[64];
	char error_code[32]; /* the provider's code ("131047", "63016"), or "http_503", "timeout" */
	char error[512];     /* human text, no secrets */
};

struct provider {
	const char *name;  /* "meta", "twilio", "smtp", "sandbox": for logs and the audit log */
	unsigned caps;     /* enum provider_cap bits */
	unsigned channels; /* 1 << enum channel for each channel it sends on */
	/*
	 * 0: call built, run it and classify the answer. 1: done without a call
	 * (sandbox), rs is final. -1: cannot be built (rs says why, outcome
	 * SEND_PERMANENT).
	 */
	int (*build)(const struct config *cfg, const struct send_request *rq,
	             struct http_call *call, struct send_result *rs);
	void (*classify)(const struct config *cfg, const struct http_answer *ans,
	                 struct send_result *rs);
	/*
	 * 1 when the configuration names this provider's template for messages
	 * outside the 24-hour window (Meta: WHATSAPP_ALERT_TEMPLATE and its
	 * language; Twilio: TWILIO_CONTENT_SID), else 0. Without one a message
	 * goes as text, whatever our view of the window, and only the provider's
	 * refusal (131047, 63016) fails it.
	 */
	int (*has_template)(const struct config *cfg);
	/*
	 * The outcome a provider error code stands for (a failed status
	 * notification carries one): the same table as classify(); an unknown
	 * code is permanent.
	 */
	enum send_outcome (*code_outcome)(long long code);
};

extern const struct provider provider_meta, provider_twilio, provider_smtp, provider_sandbox;
/* SMS through the Twilio account (named "twilio" like its WhatsApp twin: the same account). */
extern const struct provider provider_twilio_sms;

/*
 * Which template a message outside the 24-hour window goes as, with provider p and cfg, when
 * it has a template of its own named own (a seller alert of one event; NULL: none):
 * TEMPLATE_OWN when SELLER_TEMPLATES is on, p takes templates by name and a template language
 * is set; else TEMPLATE_GENERIC when p->has_template(cfg); else TEMPLATE_NONE (text is tried,
 * and the provider's refusal fails it).
 */
enum template_choice { TEMPLATE_NONE, TEMPLATE_GENERIC, TEMPLATE_OWN };
enum template_choice provider_template_choice(const struct provider *p, const struct config *cfg,
                                              const char *own);

/* 1 when p can send on channel c. */
int provider_sends_on(const struct provider *p, enum channel c);

/* The provider WHATSAPP_PROVIDER names (validated at config load); never smtp. */
const struct provider *provider_for(const struct config *cfg);

#endif
