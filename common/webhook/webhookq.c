#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "webhook/waevent.h"
#include "webhook/webhook.h"
#include "webhook/webhookq.h"

/*
 * Stored settings (configure) matter to processing only for commands and
 * retry delays: reloaded at most this often, not once per batch.
 */
#define SETTINGS_RELOAD_MS 5000

struct item {
	const char *source, *body; /* the webhook's (NULL for webhookq_submit_item) */
	size_t len;
	const struct wa_batch *batch;
	webhookq_done done;
	void *arg;
	struct item *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;   /* store thread: bodies waiting, or stopping */
	pthread_cond_t stored; /* processor: events stored pending, replies queued, or stopping */
	pthread_cond_t room;   /* submitters: events in flight went under the limits */
	struct item *head, **tail;
	size_t inflight, inflight_bytes; /* submitted, not yet done */
	size_t queued;                   /* submitted, not yet taken by a store thread */
	int busy;                        /* store threads storing a batch */
	int running, stopping;
	int stored_pending, drain_pending;
	long long batches, events, deferred, failed; /* logged at stop */
	pthread_t store_tid[WEBHOOKQ_WRITERS], proc_tid;
	int nstore, nproc;
	struct app store[WEBHOOKQ_WRITERS]; /* each thread's copy of the app, with a connection of
	                                       its own */
	struct app proc;
	webhookq_store_fn store_fn; /* another program's store (webhookq_start_store), or NULL */
} q = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .stored = PTHREAD_COND_INITIALIZER,
    .room = PTHREAD_COND_INITIALIZER,
    .tail = &q.head,
};

/* Take the longest run of waiting bodies within WEBHOOKQ_BATCH_BYTES (at least one). Locked. */
static struct item *take_batch(size_t *n)
{
	struct item *first = q.head, *last = first;
	size_t bytes = first->len;
	*n = 1;
	while (last->next && bytes + last->next->len <= WEBHOOKQ_BATCH_BYTES) {
		last = last->next;
		bytes += last->len;
		(*n)++;
	}
	q.head = last->next;
	if (!q.head)
		q.tail = &q.head;
	last->next = NULL;
	q.queued -= *n;
	return first;
}

/*
 * Whether an idle store thread should take the waiting events: when no other
 * is storing, or when WEBHOOKQ_BACKLOG wait (the one storing is slow: a lock wait, or
 * its commit's WAL flush). Otherwise the one storing takes them all when it is
 * done: one transaction at a time while it keeps up gives the largest batches.
 * Locked.
 */
static int work_for_idle(void)
{
	return q.head && (q.busy == 0 || q.queued >= WEBHOOKQ_BACKLOG || q.stopping);
}

/* Load the stored settings (configure) when they are older than SETTINGS_RELOAD_MS. */
static void settings_fresh(struct app *app, int64_t *loaded_ms)
{
	if (!*loaded_ms || mono_ms() - *loaded_ms >= SETTINGS_RELOAD_MS) {
		app_load_settings(app);
		*loaded_ms = mono_ms();
	}
}

/* The webhook's events of batch (n), in one transaction: webhook_store_batch's result. */
static int store_webhook(struct app *me, struct item *batch, size_t n, struct webhook_stats *st)
{
	const char **src = xcalloc(n, sizeof(*src)), **body = xcalloc(n, sizeof(*body));
	const struct wa_batch **parsed = xcalloc(n, sizeof(*parsed));
	size_t *len = xcalloc(n, sizeof(*len)), i = 0;
	for (struct item *it = batch; it; it = it->next, i++) {
		src[i] = it->source;
		body[i] = it->body;
		len[i] = it->len;
		parsed[i] = it->batch;
	}
	int rc = webhook_store_batch(&me->db, &me->cfg, n, src, body, len, parsed, st);
	free(src);
	free(body);
	free(parsed);
	free(len);
	return rc;
}

/* Another program's items of batch (n), by its store function: 1 stored, -1 not. */
static int store_items(struct app *me, struct item *batch, size_t n)
{
	void **args = xcalloc(n, sizeof(*args));
	size_t i = 0;
	for (struct item *it = batch; it; it = it->next, i++)
		args[i] = it->arg;
	int rc = q.store_fn(me, n, args);
	free(args);
	return rc < 0 ? -1 : 1;
}

static void *store_run(void *arg)
{
	struct app *me = arg;
	int64_t loaded_ms = 0;
	pthread_mutex_lock(&q.mu);
	for (;;) {
		while (!work_for_idle() && !q.stopping)
			pthread_cond_wait(&q.work, &q.mu);
		if (!q.head)
			break; /* stopping, nothing waiting */
		size_t n;
		struct item *batch = take_batch(&n);
		q.busy++;
		pthread_mutex_unlock(&q.mu);

		settings_fresh(me, &loaded_ms);
		struct webhook_stats st = {0};
		int rc = q.store_fn ? store_items(me, batch, n) : store_webhook(me, batch, n, &st);
		if (rc < 0)
			log_warnx("webhook_store", "%zu event(s) not stored (answered 503): %s", n,
			          me->db.err);
		db_rollback(&me->db);

		/* The answers, outside the lock: each done() writes to its request's connection. */
		size_t bytes = 0;
		for (struct item *it = batch, *next; it; it = next) {
			next = it->next;
			bytes += it->len;
			it->done(it->arg, rc < 0 ? -1 : 0, rc < 0 ? me->db.err : NULL);
			free(it);
		}

		pthread_mutex_lock(&q.mu);
		q.busy--;
		q.batches++;
		q.events += (long long)n;
		q.deferred += rc == 0 ? (long long)n : 0;
		q.failed += rc < 0 ? (long long)n : 0;
		q.inflight -= n;
		q.inflight_bytes -= bytes;
		pthread_cond_broadcast(&q.room);
		if (rc == 0 || st.replies) {
			q.stored_pending |= rc == 0;
			q.drain_pending |= st.replies > 0;
			pthread_cond_signal(&q.stored);
		}
	}
	pthread_mutex_unlock(&q.mu);
	db_release(&me->db);
	return NULL;
}

/* Room for one more event of len bytes (a single one always fits). Locked. */
static int has_room(size_t len)
{
	return q.inflight == 0 || (q.inflight < WEBHOOKQ_MAX_INFLIGHT &&
	                           q.inflight_bytes + len <= WEBHOOKQ_MAX_INFLIGHT_BYTES);
}

int webhookq_submit(const char *source, const char *body, size_t len, const struct wa_batch *batch,
                    webhookq_done done, void *arg)
{
	struct item *it = xcalloc(1, sizeof(*it));
	*it = (struct item){source, body ? body : "", body || !source ? len : 0, batch, done, arg,
	                    NULL};
	pthread_mutex_lock(&q.mu);
	while (q.running && !q.stopping && !has_room(it->len))
		pthread_cond_wait(&q.room, &q.mu);
	if (!q.running || q.stopping) {
		pthread_mutex_unlock(&q.mu);
		free(it);
		return -1;
	}
	q.inflight++;
	q.inflight_bytes += it->len;
	q.queued++;
	*q.tail = it;
	q.tail = &it->next;
	if (work_for_idle()) /* else the store thread busy takes it next */
		pthread_cond_signal(&q.work);
	pthread_mutex_unlock(&q.mu);
	return 0;
}

int webhookq_submit_item(size_t len, webhookq_done done, void *arg)
{
	return webhookq_submit(NULL, NULL, len, NULL, done, arg);
}

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *proc_run(void *arg)
{
	(void)arg;
	int64_t loaded_ms = 0;
	for (int stop = 0; !stop;) {
		int timed_out = 0;
		pthread_mutex_lock(&q.mu);
		if (!q.stored_pending && !q.drain_pending && !q.stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += WEBHOOKQ_IDLE_SECONDS;
			timed_out = pthread_cond_timedwait(&q.stored, &q.mu, &until) == ETIMEDOUT;
		}
		stop = q.stopping;
		int process = q.stored_pending || timed_out || stop;
		int drain = q.drain_pending;
		q.stored_pending = q.drain_pending = 0;
		pthread_mutex_unlock(&q.mu);

		settings_fresh(&q.proc, &loaded_ms);
		struct webhook_stats st = {0};
		int n = 0;
		while (process) {
			n = webhook_process_batch(&q.proc.db, &q.proc.cfg, WEBHOOK_BATCH, &st);
			if (n == -2 &&
			    !stop) /* another process's batch: ours may be in it, or next */
				pause_ms(WEBHOOKQ_BUSY_MS);
			process = !stop && (n == WEBHOOK_BATCH || n == -2);
		}
		if (n == -1) {
			log_warnx("webhook_process", "events not processed now (cron retries): %s",
			          q.proc.db.err);
			if (!stop)
				pause_ms(1000);
		}
		if (st.events)
			log_debug("webhook_processed",
			          "%d event(s): %d status(es), %d message(s), %d failed, %d item(s)"
			          " ignored, %d stale command(s)",
			          st.events, st.statuses, st.messages, st.failed, st.ignored,
			          st.stale);
		if (st.replies || drain)
			app_drain(&q.proc);
		db_rollback(&q.proc.db);
	}
	db_release(&q.proc.db);
	return NULL;
}

/* The store threads, and the processing thread when processing is set. 0 / -1. */
static int start(const struct app *app, int processing)
{
	q.running = 1;
	for (int i = 0; i < WEBHOOKQ_WRITERS; i++) {
		struct app *st = &q.store[i];
		*st = *app;
		db_init(&st->db, app->cfg.database_url, app->cfg.database_pooling);
		/* A request waits at most this long on a lock; then its event is stored for later
		 * (the webhook) or answered 503 (webhookq_start_store). */
		st->db.lock_timeout = WEBHOOK_LOCK_WAIT "ms";
		if (pthread_create(&q.store_tid[i], NULL, store_run, st) != 0) {
			db_release(&st->db);
			break;
		}
		q.nstore++;
	}
	if (!q.nstore) {
		webhookq_stop();
		return -1;
	}
	if (!processing)
		return 0;
	q.proc = *app;
	db_init(&q.proc.db, app->cfg.database_url, app->cfg.database_pooling);
	if (pthread_create(&q.proc_tid, NULL, proc_run, NULL) != 0) {
		db_release(&q.proc.db);
		webhookq_stop();
		return -1;
	}
	q.nproc = 1;
	return 0;
}

int webhookq_start(const struct app *app)
{
	return start(app, 1);
}

int webhookq_start_store(const struct app *app, webhookq_store_fn store)
{
	q.store_fn = store;
	return start(app, 0);
}

void webhookq_stop(void)
{
	pthread_mutex_lock(&q.mu);
	int running = q.running;
	q.stopping = 1;
	pthread_cond_broadcast(&q.work);
	pthread_cond_broadcast(&q.stored);
	pthread_cond_broadcast(&q.room);
	pthread_mutex_unlock(&q.mu);
	if (!running)
		return;
	for (int i = 0; i < q.nstore; i++)
		pthread_join(q.store_tid[i], NULL);
	if (q.nproc)
		pthread_join(q.proc_tid, NULL);
	q.running = 0;
	if (q.store_fn)
		log_info("group_commit", "%lld request(s) in %lld commit(s), %lld refused (503)",
		         q.events, q.batches, q.failed);
	else
		log_info("webhook_stored",
		         "%lld event(s) in %lld commit(s): %lld processed at once, %lld"
		         " stored for later, %lld refused (503)",
		         q.events, q.batches, q.events - q.deferred - q.failed, q.deferred,
		         q.failed);
}
