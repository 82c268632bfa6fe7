/*
 * webhook.h: what WhatsApp tells us. Persist, then acknowledge, then process.
 *
 * webhook_store() writes a verified event (the raw body) into
 * webhook_events; the program answers 200 once it is committed, and
 * processes it after the answer is out (FCGX_Finish_r). Events that fail
 * processing stay pending with a backoff; cron (drain, tick) retries them,
 * up to WEBHOOK_MAX_ATTEMPTS, then marks them failed.
 *
 * Processing one event is one transaction:
 *   statuses   move the matching whatsapp_logs row forward only (sent ->
 *              delivered -> read, each timestamp kept), once per (message id,
 *              status); failed is classified like a send error (131047: re-
 *              queued as a template; retry classes re-queued; others failed).
 *   messages   once per message id: audited in whatsapp_logs (inbound,
 *              'received'), contacts updated (the 24-hour window, wa_id), and
 *              when the sender is a configured contact, the command run and
 *              its reply queued (commands.h).
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>

#include "config.h"
#include "db.h"

/* Largest body accepted (nginx's client_max_body_size for the webhook is the same: 4m). */
#define WEBHOOK_MAX_BODY (4 * 1024 * 1024)
/* Processing attempts before an event is marked failed (backoff 30 s doubling, capped 1 h). */
#define WEBHOOK_MAX_ATTEMPTS 10

/* 0 with *id, or -1 (db->err). source: "meta" or "twilio". */
int webhook_store(struct db *db, const char *source, const char *body, size_t len, long long *id);

struct webhook_stats {
	int events, failed;     /* events processed, events whose processing failed */
	int statuses, messages; /* new (not duplicate) items applied */
	int commands, replies;  /* commands obeyed, messages queued */
};

/* Process event id if still pending. 0 (done, or nothing to do), -1 failed (recorded). */
int webhook_process(struct db *db, const struct config *cfg, long long id,
                    struct webhook_stats *st);

/* Process up to max pending events that are due. 0, or -1 when the database failed. */
int webhook_process_due(struct db *db, const struct config *cfg, int max, struct webhook_stats *st);

#endif
