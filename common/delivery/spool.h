/*
 * spool.h: messages that must go out while the state database is down.
 *
 * The spool is one file, SPOOL_DIR/outbox.spool, of JSON lines, appended
 * under an exclusive flock and fsync'd before anything is sent (write-ahead);
 * the file's directory is fsync'd when the file is created:
 *   {"type":"message", "v":2, "key", "channel", "phone" (the address on the
 *    channel), "content", "priority", "kind", "alert_ids", "emergency",
 *    "not_before", "created_at", "account_id", "tenant_id" (0: none),
 *    "fallback_chain" (a text[] literal, absent: no chain), "fallback_after_s",
 *    "follows_id", "follows_key" (a step the spool made: the key of the
 *    message it follows), "reply_id", "reply_title"}
 *   {"type":"result", "key" or "id" (and "lease": the claim's lease_id),
 *    "outcome", "provider", "message_id", "wa_id", "as_template",
 *    "error_code", "error", "at", "fallback" ("failed" or "stopped": the
 *    spool sent its next step)}
 * A message line without "v" is the first format (WhatsApp, the operator
 * account, no tenant, chain or button): it still replays so. A line of a
 * later version than this code knows is quarantined, not guessed at.
 * Every channel is spooled and sent: WhatsApp as the operator account, email
 * through SMTP_URL, SMS through the Twilio account (account.h
 * account_of_process), each paced at its account's rate; a channel this
 * process cannot send on is spooled only (replayed queued, for a drainer
 * that can). The replay writes the channel, account (account_id 0: the
 * channel's tenant-less account, as account_for_channel() finds it), tenant,
 * chain (fallback_at: the deadline counted from not_before, or from when it
 * was spooled), follows_id and reply button, and the result its provider's
 * message id (wamid, Twilio SID, SMTP Message-ID) and status: the fallback
 * step (jobs/fallback.h) then sees the message as it would a queued one.
 * An operator's message (no tenant) sent from the spool that fails for good
 * (or stops its account) takes its next step from the spool at once, as
 * jobs/fallback.c would (the contact's CRITICAL_SMS_n / CRITICAL_EMAIL_n,
 * SMS cut to SMS_MAX_SEGMENTS, key "fallback:<its key>"), up to the chain's
 * end; its result line says so and the replay marks its row fallback_state
 * 'queued' (the fallback step never takes it again) and links the step by
 * follows_key. A seller's next step, and any "not delivered in time", wait
 * for the replay (the addresses and receipts are in the database).
 * A message line whose address its channel refuses (an email address with a
 * CR or LF...), whose text holds a NUL, or whose chain names an unknown
 * channel is not replayed: quarantined.
 * An append that fails (ENOSPC, EIO, a short write, fsync) is taken back
 * (the file cut to where it was) and reported as failed. A torn last line,
 * left by a writer that died mid-append, is cut off before the next append
 * and before a replay, and kept in the quarantine (below).
 *
 * spool_replay() writes it into whatsapp_logs piece by piece (at most
 * SPOOL_PIECE_LINES lines per transaction, read in pieces of bounded size:
 * any size replays in bounded memory; messages by idempotency key, results
 * onto rows still queued or sending and, for a drainer's result, still held
 * by its claim), then empties the file. Replaying twice
 * changes nothing. A message whose send was cut short (no result line) is
 * replayed as queued and sent again: at-least-once. A line that cannot be
 * replayed (not JSON, a field missing, refused by the database) does not stop
 * the others: it is moved to SPOOL_DIR/outbox.spool.quarantine, as it was,
 * counted and logged (a line may be quarantined twice when a replay was cut
 * short by the database and done again). Key lookups (de-duplication) read
 * the spool in pieces too, whatever its size.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "delivery/provider.h"

/* What a spooled message keeps of its outbox message (outbox.h struct outbox_msg). */
struct spool_msg {
	const char *key; /* idempotency key */
	const char *phone, *content, *priority, *kind;
	const long long *alert_ids;
	size_t n_alert_ids;
	int emergency;
	long long not_before; /* epoch seconds; 0: now */
	const char *channel;  /* "whatsapp", "sms", "email"; NULL: whatsapp */
	long long
	    account_id; /* 0: the channel's tenant-less account (the operator's for WhatsApp) */
	long long tenant_id;        /* 0: none */
	const char *fallback_chain; /* text[] literal of the steps after this one; NULL: none */
	long long fallback_after_s; /* 0: no timer */
	long long follows_id;       /* 0: none */
	const char *follows_key;    /* a step the spool made: the key of the message it follows */
	const char *reply_id, *reply_title; /* NULL: no reply button */
};

/* SPOOL_DIR/outbox.spool and SPOOL_DIR/outbox.spool.quarantine. Caller frees. */
char *spool_path(const struct config *cfg);
char *spool_quarantine_path(const struct config *cfg);

/*
 * Spool n messages, then send those due now and spool their results.
 * Messages whose key is already spooled are skipped. Returns how many were
 * sent; *spooled says whether the spool could be written (they are sent
 * even when it could not: delivery first, the log says so; a held message,
 * not_before in the future, that could not be spooled is sent now, since it
 * cannot wait anywhere).
 */
int spool_send(const struct config *cfg, const struct spool_msg *m, size_t n, int *spooled);

/*
 * The result of sending row id under claim lease_id (outbox.c) that could not
 * be stored; the replay writes it only while that claim still holds the row.
 * 0, or -1 (not spooled; logged).
 */
int spool_result(const struct config *cfg, const char *row_id, const char *lease_id,
                 const char *provider, int as_template, const struct send_result *rs);

/* Is key in the spool (not yet replayed)? */
int spool_has_key(const struct config *cfg, const char *key);

/*
 * Write the spool into the state database and empty it. Lines replayed, or
 * -1 (db->err; the spool is kept). *quarantined: lines moved to the
 * quarantine by this replay.
 */
int spool_replay(struct db *db, const struct config *cfg, int *quarantined);

/* Lines in the quarantine file (0 when there is none). */
long long spool_quarantine_count(const struct config *cfg);

#endif
