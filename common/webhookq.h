/*
 * webhookq.h: the webhook program's background threads: group commit and processing.
 *
 * Group commit: a request thread hands its verified body, parsed, to
 * webhookq_store() and waits. A store thread takes every body waiting (up to
 * WEBHOOKQ_BATCH_BYTES) and, in one transaction, applies them and stores them
 * done (webhook_store_batch), or when that cannot be, stores them pending;
 * then it wakes each request with the result, so a request is answered 200
 * only once its event is durable. WEBHOOKQ_WRITERS store threads, each with a
 * connection of its own, keep that many transactions in flight.
 *
 * The processing thread processes pending events in batches
 * (webhook_process_batch), woken when some were stored and at least every
 * WEBHOOKQ_IDLE_SECONDS (retries), and sends the replies commands queued
 * (app_drain).
 */
#ifndef WEBHOOKQ_H
#define WEBHOOKQ_H

#include <stddef.h>

#include "app.h"

/* Store threads: transactions in flight at once. */
#define WEBHOOKQ_WRITERS 2
/* Bodies stored by one INSERT at most (a single larger body still goes alone). */
#define WEBHOOKQ_BATCH_BYTES (8 * 1024 * 1024)
/* The processor looks for due events (retries) at least this often when idle. */
#define WEBHOOKQ_IDLE_SECONDS 10
/* When another process holds the batch lock, look again after this long. */
#define WEBHOOKQ_BUSY_MS 50

struct wa_batch;

/* Start the threads; each works with a copy of app (a connection of its own). 0 / -1. */
int webhookq_start(const struct app *app);

/*
 * Store one event (body and its parsed batch, still the caller's); returns
 * once it is committed (0) or could not be (-1, the reason in err). Safe from
 * any thread.
 */
int webhookq_store(const char *source, const char *body, size_t len, const struct wa_batch *batch,
                   char *err, size_t errlen);

/* Once no request is in flight: finish what is waiting and being processed, stop the threads. */
void webhookq_stop(void);

#endif
