/*
 * outbox.h: queueing messages into whatsapp_logs, the audit log and outbox.
 * A message is queued inside the caller's transaction (the one that made the
 * decision), with an idempotency key so the same decision never queues twice.
 * Sending the queued rows is the drainer's job.
 *
 * A message has a channel, an address, an account (whose credentials and
 * limits it is sent with: account.h) and optionally a tenant; producers that
 * set none of them queue WhatsApp messages of the operator account, as before.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "delivery/provider.h"

struct outbox_msg {
	/*
	 * The recipient's address on the channel (whatsapp_logs.phone_number):
	 * E.164 for whatsapp and sms, an email address for email.
	 */
	const char *phone;
	const char *content;  /* UTF-8, at most OUTBOX_MAX_CONTENT bytes */
	const char *priority; /* "critical", "warning", "info" */
	const char *kind;     /* "alert", "recovery", ... */
	const char *key;      /* idempotency key */
	const long long *alert_ids;
	size_t n_alert_ids;
	long long check_run_id; /* 0: none */
	int emergency;
	long long not_before; /* epoch seconds; 0: now */
	int suppressible;     /* a pause records it as 'suppressed' instead of queueing it */
	const char *channel;  /* "whatsapp", "sms", "email"; NULL: "whatsapp" */
	long long account_id; /* 0: the operator account (ACCOUNT_OPERATOR_ID) */
	long long tenant_id;  /* 0: none (the operator's own message) */
	/*
	 * The fallback chain (delivery/fallback.h): the channels to try after this message, a
	 * text[] literal ("{sms,email}"; "{}": the last step, its failure still recorded); NULL:
	 * no chain. fallback_after_s: seconds from not_before (now when 0) by which a delivered
	 * or read receipt must come, else the next step goes; 0: no timer (failures only).
	 */
	const char *fallback_chain;
	long long fallback_after_s;
	long long follows_id; /* the message this one is the next step of; 0: none */
	/*
	 * A reply button under the text when it goes as text inside the 24-hour window
	 * (provider.h send_request reply_id, reply_title): the seller's "Mute this type". NULL:
	 * none.
	 */
	const char *reply_id, *reply_title;
	/*
	 * Its own WhatsApp template (a seller alert of one event, tenants/alerttype.h): the name
	 * and body parameters in order (whatsapp_logs.template_name, template_params, migration
	 * 021), sent when it goes as a template and SELLER_TEMPLATES is on (provider.h
	 * provider_template_choice). NULL, 0: none (the generic template). Not kept by the spool:
	 * a message spooled while the state database is down goes as the generic one.
	 */
	const char *template_name;
	const char *const *template_params;
	size_t n_template_params;
};

#define OUTBOX_MAX_CONTENT 4096

enum { OUTBOX_DUPLICATE = 0, OUTBOX_QUEUED = 1, OUTBOX_SUPPRESSED = 2 };

/*
 * 0 when m may be queued: its channel is known and, on email, its address is
 * one email_address_check() accepts (no CR, LF or other control character, no
 * space, local@domain): an address that could smuggle a header is refused
 * before it is stored; on sms, a phone number phone_normalize() accepts.
 * -1 with *why (static text).
 */
int outbox_msg_check(const struct outbox_msg *m, const char **why);

/*
 * Queue one message: OUTBOX_QUEUED, OUTBOX_SUPPRESSED (recorded, not to be
 * sent: a pause is in force), OUTBOX_DUPLICATE (already queued under that
 * key), or -1 (db->err; also when outbox_msg_check() refuses m: nothing is
 * stored, db->sqlstate is empty).
 */
int outbox_queue(struct db *db, const struct outbox_msg *m);

struct drain_stats {
	int claimed, sent, retried, as_template, failed;
	int stopped;     /* 1 when an account's sending is (or got) stopped (delivery_state) */
	int replayed;    /* spool lines written into the state database first */
	int quarantined; /* spool lines that could not be, moved to the quarantine */
	int stale;       /* results dropped: the row's lease ran out and another claim took it */
	int merged;      /* rows closed as merged into a claimed one (delivery/coalesce.h) */
};

/*
 * Send what is due: replay the spool (spool.h), claim rows (FOR UPDATE SKIP LOCKED, one per
 * (account, recipient) whose pacing slot is free, about 4 s of each account's own pace at most),
 * reserve each account's global rate slots, send
 * them with several requests in flight, each as its account, record each result as its answer
 * comes (the others still in flight: a drainer that dies has sent unrecorded only those).
 * A claimed seller alert carries the other alerts waiting for its recipient
 * (delivery/coalesce.h); a carrier that merged others loses its own template (several events).
 * Repeats until nothing is due, max_messages were claimed (0: no limit) or every account is
 * stopped. 0, or -1 when the state database failed (db->err).
 * Fair: each claim takes due rows round robin across (account, tenant) (the operator's own
 * messages are one such producer), critical first and oldest first within each, so a producer
 * with many rows queued delays another's message by at most one claim. p is the operator
 * account's provider (provider_for(cfg)); the other accounts it can send with are loaded from
 * the accounts table (account_set_load); rows of accounts it cannot send with stay queued.
 * A claim holds its rows 'sending' under a lease (lease_id) that lasts until the last row's
 * paced start, plus the rounds of SEND_MAX_IN_FLIGHT requests it may wait for, plus one
 * SEND_TIMEOUT_MS and 60 s; after that any drainer queues them again. A result is recorded
 * only while the claim still holds its row: one that comes after another claim took the row is
 * logged ("stale_result"), counted (st->stale) and dropped.
 * flags: DRAIN_WAIT_PACED waits (at most one RECIPIENT_MIN_INTERVAL in all)
 * for due rows held back only by their recipient's pacing, instead of
 * leaving them to the next run (cron does; a FastCGI program after its
 * answer does not: its worker would be busy meanwhile).
 */
enum { DRAIN_WAIT_PACED = 1 };
int outbox_drain(struct db *db, const struct config *cfg, const struct provider *p,
                 int max_messages, int flags, struct drain_stats *st);

/*
 * Stop all sending of an account (its provider refuses it) and open the
 * critical 'whatsapp_delivery' alert (target '' for the operator account,
 * "account <id>" for another; its text names the account's channel: "Email
 * sending stopped: ..."). Inside the caller's transaction. 0 / -1.
 */
int outbox_stop_all(struct db *db, long long account_id, const char *reason);

/* Clear every account's stop (after the operator fixed the token or account). 0 / -1. */
int outbox_resume(struct db *db);

/* Delay before attempt n+1 (n >= 1): base * 2^(n-1), capped, with +-20% jitter. Seconds. */
double outbox_backoff(const struct config *cfg, int attempts, double jitter01);

#endif
