/*
 * webhook.h: what WhatsApp tells us. Persist, then acknowledge, then process.
 *
 * webhook_store_many() writes verified events (the raw bodies) into
 * webhook_events; the program answers 200 once they are committed
 * (webhookq.h: the events of requests in flight share one commit), and
 * processes them afterwards, in batches. Events that fail processing stay
 * pending with a backoff; cron (drain, tick) retries them, up to
 * WEBHOOK_MAX_ATTEMPTS, then marks them failed.
 *
 * A status for a message id no outbound row carries is another system's
 * (sending from the same WhatsApp Business Account) or our own send whose id
 * is not recorded yet: it is retried for WEBHOOK_STATUS_GRACE_SECONDS after
 * the event came (the last retry at the end of the grace), then kept in
 * webhook_ignored, counted (webhook_stats.ignored), and never retried or
 * failed.
 *
 * Processing is one transaction per batch of events:
 *   statuses   move the matching whatsapp_logs row forward only (sent ->
 *              delivered -> read, each timestamp kept), once per (message id,
 *              status); failed is classified like a send error (131047: re-
 *              queued as a template, or failed with the code when the provider
 *              has none configured; retry classes re-queued; others failed).
 *   messages   once per message id: audited in whatsapp_logs (inbound,
 *              'received'), contacts updated (the 24-hour window, wa_id), and
 *              when the sender is a configured contact, the command run and
 *              its reply queued (commands.h); a command older than
 *              COMMAND_MAX_AGE_SECONDS is answered, not obeyed (inbound.h).
 * Ignored (logged, counted in webhook_stats.ignored; the event itself is
 * stored and marked done like any other, and nothing of the item is
 * written anywhere else): Meta items for another metadata.phone_number_id
 * than META_PHONE_NUMBER_ID (when it is set; a Meta item without one is
 * ignored then too), and items whose phone number is not 1 to 15 ASCII
 * digits (waevent.h: dropped by the parser, so never a poison event).
 * A body over one of waevent.h's WA_MAX_* limits is refused with 413 before
 * anything is stored.
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "webhook/webhook_stats.h"

/* Largest body accepted (nginx's client_max_body_size for the webhook is the same: 4m). */
#define WEBHOOK_MAX_BODY (4 * 1024 * 1024)
/* Processing attempts before an event is marked failed (backoff 30 s doubling, capped 1 h). */
#define WEBHOOK_MAX_ATTEMPTS 10
#define WEBHOOK_RETRY_BASE_S 30
#define WEBHOOK_RETRY_MAX_S 3600

/* Events processed in one transaction at most. */
#define WEBHOOK_BATCH 256
/* pg_try_advisory_xact_lock key: one batch processor at a time, all processes together. */
#define WEBHOOK_LOCK_KEY "7797108111110991043"

/* Longest wait for a lock (ms, the store connection's lock_timeout) before events are stored
 * unprocessed. */
#define WEBHOOK_LOCK_WAIT "200"

struct wa_batch;

/*
 * Parse a stored or received body of source ("meta": JSON, "twilio": a form). 0 / -1 (*err).
 * A Twilio form gives at most one event, its fields held to waevent.h's limits as a Meta
 * body's are (texts cut at a UTF-8 boundary, ids and payloads dropped when too long, an
 * ErrorCode that is not a positive int read as none, an empty MessageStatus skipped).
 */
int webhook_parse(const char *source, const char *body, size_t len, struct wa_batch *b, char **err);

/*
 * Store n verified events (bodies with their parsed batches[i]) and, when it
 * can, process them in the same transaction (db should wait for locks at most
 * WEBHOOK_LOCK_WAIT ms: db->lock_timeout): 1 stored and processed (st counts it); 0
 * stored pending, for webhook_process_batch (the lock busy, an event that
 * cannot be applied yet); -1 not stored (db->err).
 */
int webhook_store_batch(struct db *db, const struct config *cfg, size_t n,
                        const char *const *sources, const char *const *bodies, const size_t *lens,
                        const struct wa_batch *const *batches, struct webhook_stats *st);

/*
 * Store n verified events with one statement (one commit when no transaction
 * is open). sources[i]: "meta" or "twilio". 0, or -1 (db->err): none stored.
 */
int webhook_store_many(struct db *db, size_t n, const char *const *sources,
                       const char *const *bodies, const size_t *lens);

/* Process event id if still pending. 0 (done, or nothing to do), -1 failed (recorded). */
int webhook_process(struct db *db, const struct config *cfg, long long id,
                    struct webhook_stats *st);

/*
 * Claim up to max pending events that are due and process them in one
 * transaction (statuses deduplicated with one statement for all); when one
 * of them fails, the batch is rolled back and each event processed alone, so
 * only the failing one is recorded as failed. The events claimed (0: none
 * due), -2 when another process holds the batch lock, -1 database error.
 */
int webhook_process_batch(struct db *db, const struct config *cfg, int max,
                          struct webhook_stats *st);

/*
 * Process up to max pending events that are due, in batches. 0 (also when
 * another process is processing them), or -1 when the database failed.
 */
int webhook_process_due(struct db *db, const struct config *cfg, int max, struct webhook_stats *st);

#endif
