/*
 * fallback.h: the fallback chain, a step of the drain sequence (jobs/drain.h; `cron tick` and
 * `cron drain` run it before escalation and sending).
 *
 * A message that matters is queued with the channels still to try after it
 * (whatsapp_logs.fallback_chain) and the time by which its delivered or read receipt must come
 * (fallback_at): an operator's critical alert FALLBACK_CHAIN_CRITICAL (whatsapp,sms,email) and
 * FALLBACK_AFTER_SECONDS; a seller's urgent alert whatsapp,sms,email and FALLBACK_AFTER_SECONDS,
 * a normal one whatsapp,email and FALLBACK_NORMAL_AFTER_SECONDS, a low one none.
 *
 * fallback_run() takes (FOR UPDATE SKIP LOCKED, so drainers on many hosts act once) the
 * messages of a chain that
 *   - failed for good (status 'failed': a permanent error code, 131047/63016 with no usable
 *     template, a failed receipt, too old to retry: the drain and the webhook decide that),
 *   - wait on an account that is stopped (190, 131031...: delivery_state), or
 *   - had no delivered/read receipt by fallback_at (queued, retried, sent: the same; a
 *     provider that sends no receipts, the sandbox, gets no timer: such a message, sent,
 *     loses its chain when its deadline passes, since nothing can fail it any more),
 * and queues the next channel's message in the same transaction: a new row, follows_id the
 * message it follows, key "fallback:<id>", the same tenant, alerts and priority, its own
 * address (an operator contact's CRITICAL_SMS_n / CRITICAL_EMAIL_n; a seller's sms_number or
 * WhatsApp number, and email, read by the message's tenant only) and its channel's text (an
 * SMS cut to SMS_MAX_SEGMENTS; a seller's alert types' SMS and email texts). A channel with no
 * address, or that this process cannot send on (no SMTP_URL, no SMS sender), is skipped for
 * the next. The message is marked fallback_state 'queued' (or 'exhausted' when nothing is
 * left) with the reason: it is never acted on twice, and a late delivered receipt cancels
 * nothing. A delivered or read message is never acted on. Email has no receipt: an email
 * step falls back on failure only.
 */
#ifndef JOBS_FALLBACK_H
#define JOBS_FALLBACK_H

#include "core/config.h"
#include "db/db.h"

enum fallback_reason {
	FALLBACK_NONE,    /* nothing to do: delivered, read, suppressed, or still in time */
	FALLBACK_FAILED,  /* failed for good */
	FALLBACK_STOPPED, /* waits on a stopped account */
	FALLBACK_LATE,    /* no delivered/read receipt by its deadline */
};

/* "failed", "stopped", "late" (whatsapp_logs.fallback_reason); "none". */
const char *fallback_reason_name(enum fallback_reason r);

/*
 * What to make of a message of a chain, pure: its status, whether its account is stopped,
 * whether its deadline has passed, whether its provider sends receipts (a message not sent
 * yet: 1).
 */
enum fallback_reason fallback_classify(const char *status, int account_stopped, int past_deadline,
                                       int receipts);

struct fallback_stats {
	int examined;             /* messages taken */
	int queued;               /* next steps queued */
	int exhausted;            /* messages with nothing left to try */
	int sms, email, whatsapp; /* next steps by channel */
};

/* Act on every message due. 0, or -1 (db->err; the batch at fault is rolled back). */
int fallback_run(struct db *db, const struct config *cfg, struct fallback_stats *st);

#endif
