/*
 * account.h: who a message is sent as. An account sends on one channel
 * through one provider, with its own credentials and limits, and may belong
 * to a tenant (a seller); what is per sender in the state database (stop-all,
 * the global pace, contacts and their 24-hour windows, recipients' pacing) is
 * keyed by its id (sql/007_channels_accounts.sql).
 *
 * The operator account (ACCOUNT_OPERATOR_ID, tenant-less) is sent with the
 * process configuration: WHATSAPP_PROVIDER and its credentials. A tenant-less
 * email account with provider 'smtp' (sql/012_email.sql seeds one, named
 * 'email') is sent with the process's SMTP_* settings, when SMTP_URL is set; a
 * tenant-less sms account with provider 'twilio' (sql/014_sms.sql seeds one,
 * named 'sms') with the process's Twilio account (TWILIO_ACCOUNT_SID,
 * TWILIO_AUTH_TOKEN) and TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID,
 * when one of those is set.
 * Secrets are never stored in the database; until the seller issues decide
 * where other accounts' come from, only accounts whose provider needs none
 * (sandbox) can send besides those. An account's cfg is borrowed (it must outlive the account); a
 * set owns its array (account_set_release).
 */
#ifndef ACCOUNT_H
#define ACCOUNT_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "delivery/provider.h"

#define ACCOUNT_OPERATOR_ID 1

struct account {
	long long id;
	enum channel channel;
	const struct provider *provider;
	long long tenant_id; /* 0: none */
	/*
	 * The credentials, templates and limits it is sent with (the provider's
	 * build() reads them). The process configuration for the operator.
	 */
	const struct config *cfg;
	/*
	 * Its pace, which the drain keeps: messages per second (all drainers
	 * together), seconds between two messages to one recipient, and the
	 * longest one call may take; its retries' first and longest delay.
	 * WhatsApp accounts: SEND_RATE_PER_SECOND, RECIPIENT_MIN_INTERVAL,
	 * SEND_TIMEOUT_MS, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS; email:
	 * SMTP_RATE_PER_SECOND, 0, SMTP_TIMEOUT_MS, SMTP_RETRY_BASE_SECONDS,
	 * SMTP_RETRY_MAX_SECONDS; SMS: SMS_RATE_PER_SECOND, 0, SEND_TIMEOUT_MS,
	 * SMS_RETRY_BASE_SECONDS, SMS_RETRY_MAX_SECONDS.
	 */
	long long rate_per_second, recipient_min_interval_s, timeout_ms;
	long long retry_base_s, retry_max_s;
};

/* The operator account: id 1, WhatsApp, provider p (provider_for(cfg)), cfg's credentials. */
void account_operator(struct account *a, const struct config *cfg, const struct provider *p);

/*
 * The account whose number received an inbound message or a status: for
 * source "meta" the phone_number_id that received it (may be NULL), for
 * "twilio" the number it was sent to (may be NULL). Today the webhook accepts
 * items for the operator's number only (webhook.c for_us()), so this is the
 * operator account; a seller's own number maps to its account here.
 */
long long account_receiving(const struct config *cfg, const char *source, const char *receiver);

/* The accounts a drain can send with. */
struct account_set {
	struct account *v;
	size_t n;
};

/*
 * Load the accounts this process can send with: the operator account (with
 * p), the tenant-less smtp email accounts when SMTP_URL is set, the
 * tenant-less twilio sms accounts when an SMS sender is set, and every
 * account whose provider needs no credentials (sandbox), sent with cfg's
 * limits. Others are left out (logged at debug): their rows stay queued.
 * 0 / -1 (db->err).
 */
int account_set_load(struct account_set *s, struct db *db, const struct config *cfg,
                     const struct provider *p);
void account_set_release(struct account_set *s);

/*
 * The id of the tenant-less account that sends on channel c with a provider
 * of its own (email: the 'email' account of sql/012_email.sql; sms: the 'sms'
 * account of sql/014_sms.sql), the lowest
 * when there are several, into *id. 1 found, 0 none, -1 error (db->err).
 */
int account_for_channel(struct db *db, enum channel c, long long *id);

/*
 * The account this process sends channel c with, from its configuration alone (no database:
 * the spool's): WhatsApp, the operator account (provider p); email, the tenant-less SMTP
 * account when SMTP_URL is set; SMS, the tenant-less Twilio SMS account when an SMS sender and
 * the Twilio account's keys are set; each with its own pace. Its id is id (0: not known, the
 * state database names it). 1 with *a filled, 0 when this process cannot send on c.
 */
int account_of_process(struct account *a, const struct config *cfg, const struct provider *p,
                       enum channel c, long long id);

/* The account with that id in s, or NULL. */
const struct account *account_set_find(const struct account_set *s, long long id);

/* The ids of s as a bigint[] literal ("{1,4}") for a query parameter. Caller frees. */
char *account_set_ids(const struct account_set *s);

#endif
