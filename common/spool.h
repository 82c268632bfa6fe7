/*
 * spool.h: messages that must go out while the state database is down.
 *
 * The spool is one file, SPOOL_DIR/outbox.spool, of JSON lines, appended
 * under an exclusive flock and fsync'd before anything is sent (write-ahead):
 *   {"type":"message", "key", "phone", "content", "priority", "kind",
 *    "alert_ids", "emergency", "not_before", "created_at"}
 *   {"type":"result", "key" or "id" (and "lease": the claim's lease_id),
 *    "outcome", "provider", "message_id", "wa_id", "as_template",
 *    "error_code", "error", "at"}
 * spool_replay() writes it into whatsapp_logs in one transaction (messages
 * by idempotency key, results onto rows still queued or sending and, for a
 * drainer's result, still held by its claim), then
 * empties the file. Replaying twice changes nothing. A message whose send
 * was cut short (no result line) is replayed as queued and sent again:
 * at-least-once.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "provider.h"

struct spool_msg {
	const char *key; /* idempotency key */
	const char *phone, *content, *priority, *kind;
	const long long *alert_ids;
	size_t n_alert_ids;
	int emergency;
	long long not_before; /* epoch seconds; 0: now */
};

/* SPOOL_DIR/outbox.spool. Caller frees. */
char *spool_path(const struct config *cfg);

/*
 * Spool n messages, then send those due now and spool their results.
 * Messages whose key is already spooled are skipped. Returns how many were
 * sent; *spooled says whether the spool could be written (they are sent
 * even when it could not: delivery first, the log says so).
 */
int spool_send(const struct config *cfg, const struct spool_msg *m, size_t n, int *spooled);

/*
 * The result of sending row id under claim lease_id (outbox.c) that could not
 * be stored; the replay writes it only while that claim still holds the row.
 * 0, or -1 (logged).
 */
int spool_result(const struct config *cfg, const char *row_id, const char *lease_id,
                 const char *provider, int as_template, const struct send_result *rs);

/* Is key in the spool (not yet replayed)? */
int spool_has_key(const struct config *cfg, const char *key);

/* Write the spool into the state database and empty it. Lines replayed, or -1 (db->err). */
int spool_replay(struct db *db, const struct config *cfg);

#endif
