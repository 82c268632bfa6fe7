/*
 * webhookq.h: the webhook program's background threads: group commit and processing.
 *
 * Group commit: a request thread hands its verified body, parsed, to
 * webhookq_submit() and goes on to its next request. A store thread takes
 * every body waiting (up to WEBHOOKQ_BATCH_BYTES) and, in one transaction,
 * applies them and stores them done (webhook_store_batch), or when that cannot
 * be, stores them pending; then it calls each one's done() with the result,
 * which answers the request: a request is answered 200 only once its event is
 * durable. One transaction is in flight while it keeps up, since larger
 * batches cost the database less per event; WEBHOOKQ_WRITERS store threads,
 * each with a connection of its own, allow more when events pile up behind a
 * slow one (WEBHOOKQ_BACKLOG): with durable commits a group is judged and
 * inserted while the one before waits for its WAL flush (README,
 * Performance). No thread waits on a commit but the
 * store thread making it: a request costs its thread no sleep and wake-up of
 * its own, which on a small machine is most of what a request costs.
 *
 * The processing thread processes pending events in batches
 * (webhook_process_batch), woken when some were stored and at least every
 * WEBHOOKQ_IDLE_SECONDS (retries), and sends the replies commands queued
 * (app_drain).
 *
 * Another program can share the group commit (POST /events does): it starts
 * the store threads alone with webhookq_start_store(), giving the function that
 * stores a group of its items in one transaction, and hands each request over
 * with webhookq_submit_item(). There is no processing thread then, and the
 * items are the program's own: the queue only groups them, calls the store
 * function and then each one's done().
 */
#ifndef WEBHOOKQ_H
#define WEBHOOKQ_H

#include <stddef.h>

#include "app/app.h"

/* Store threads: transactions in flight at once, at most. */
#define WEBHOOKQ_WRITERS 2
/* A second transaction starts only when this many events wait for the one in flight (32
 * connections never made the 64 it was: the store thread waited out every WAL flush alone). */
#define WEBHOOKQ_BACKLOG 8
/* Bodies stored by one INSERT at most (a single larger body still goes alone). */
#define WEBHOOKQ_BATCH_BYTES (8 * 1024 * 1024)
/* Events submitted and not yet done, at most: past either limit, webhookq_submit() waits (the
 * request threads stop accepting, and the web server's connections queue). */
#define WEBHOOKQ_MAX_INFLIGHT 512
#define WEBHOOKQ_MAX_INFLIGHT_BYTES (32 * 1024 * 1024)
/* The processor looks for due events (retries) at least this often when idle. */
#define WEBHOOKQ_IDLE_SECONDS 10
/* When another process holds the batch lock, look again after this long. */
#define WEBHOOKQ_BUSY_MS 50

struct wa_batch;

/* Start the threads; each works with a copy of app (a connection of its own). 0 / -1. */
int webhookq_start(const struct app *app);

/*
 * A program's store (webhookq_start_store): the n args of the items taken, in
 * the order submitted; stores them in one transaction it begins and commits,
 * leaving in each arg what its done() needs. 0, or -1 when nothing was stored
 * (rolled back, db->err says why): every done() then gets -1.
 */
typedef int (*webhookq_store_fn)(struct app *app, size_t n, void *const *args);

/* Start only the store threads, storing with store. 0 / -1. */
int webhookq_start_store(const struct app *app, webhookq_store_fn store);

/* Called from a store thread once an event is committed (rc 0) or cannot be (-1, err). */
typedef void (*webhookq_done)(void *arg, int rc, const char *err);

/*
 * Hand one event over to be stored: body and its parsed batch stay the
 * caller's, untouched, until done(arg, ...) is called (from a store thread).
 * Waits while WEBHOOKQ_MAX_INFLIGHT events or WEBHOOKQ_MAX_INFLIGHT_BYTES are
 * in flight. 0, or -1 when stopping (done is not called). Safe from any thread.
 */
int webhookq_submit(const char *source, const char *body, size_t len, const struct wa_batch *batch,
                    webhookq_done done, void *arg);

/*
 * The same for a program started with webhookq_start_store(): arg is its item
 * (the store function's and done()'s), len its size for the in-flight limits.
 */
int webhookq_submit_item(size_t len, webhookq_done done, void *arg);

/* Once no request is in flight: finish what is waiting and being processed, stop the threads. */
void webhookq_stop(void);

#endif
