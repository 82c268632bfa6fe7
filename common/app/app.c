#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/app.h"
#include "fastcgi.h"
#include "fcgiapp.h"
#include "core/log.h"
#include "db/settings.h"
#include "core/tz.h"
#include "core/util.h"

static volatile sig_atomic_t stopping;

struct worker;
/* The request threads' records: a store thread may complete a call after the threads end
 * (app_serve_threads returned), so they go only with app_release. */
static struct worker *workers;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int app_load_settings(struct app *app)
{
	char *err = NULL;
	config_copy_runtime(&app->cfg, &app->base);
	if (settings_apply(&app->db, &app->cfg, &err) < 0) {
		log_warnx("settings_unavailable", "stored settings not applied: %s",
		          err ? err : "unknown");
		free(err);
		return -1;
	}
	return 0;
}

void app_init(struct app *app, const char *name, int needs_token)
{
	char *err = NULL;
	memset(app, 0, sizeof(*app));
	app->name = name;
	app->needs_token = needs_token;
	log_init(name, LOG_INFO);
	config_init(&app->cfg);
	config_init(&app->base);
	if (config_load(&app->cfg, &err) < 0 || config_load(&app->base, &err) < 0)
		fatal("config_invalid", "configuration error: %s", err);
	log_set_level(app->cfg.log_level);
	config_warn_env_file(&app->cfg);
	if (needs_token && !*app->cfg.api_token)
		fatal("config_invalid", "configuration error: MONITORING_API_TOKEN must be set");
	tz_init(app->cfg.timezone); /* before any thread: tz.h */
	db_init(&app->db, app->cfg.database_url, app->cfg.database_pooling);
}

void app_release(struct app *app)
{
	free(workers); /* app_serve_threads' */
	workers = NULL;
	db_release(&app->db);
	config_release(&app->cfg);
	config_release(&app->base);
}

static void fcgi_init(void)
{
	if (FCGX_Init() != 0)
		fatal("fcgi_init", "FCGX_Init failed");
}

/* A request its handler is done with: answered (500 when it was not), logged, released. */
static void request_done(struct http_req *req, int64_t t0)
{
	if (!req->status_sent)
		http_send_error(req, 500, "internal", "no answer was produced");
	log_debug("request", "%s %s -> %d in %lld ms", req->method, req->path, req->status,
	          (long long)(mono_ms() - t0));
	http_req_end(req);
}

/* One request: answer it, log it, roll back what it left open. */
static void serve(struct app *app, app_handler handler, FCGX_Request *fr)
{
	struct http_req req;
	int64_t t0 = mono_ms();
	http_req_begin(&req, fr);
	handler(app, &req);
	db_rollback(&app->db);
	request_done(&req, t0);
	FCGX_Finish_r(fr);
}

int app_main(const char *name, int needs_token, app_handler handler, void (*drain)(struct app *app))
{
	struct app app;
	app_init(&app, name, needs_token);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() returns and the loop ends */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fcgi_init();
	FCGX_Request fr;
	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		fatal("fcgi_init", "FCGX_InitRequest failed");
	log_info("start", "%s ready", name);

	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		serve(&app, handler, &fr);
		/* The caller has its answer; now do the rest, and send what was queued. */
		if (app.drain_after) {
			app.drain_after = 0;
			if (drain)
				drain(&app);
			db_rollback(&app.db);
		}
	}
	log_info("stop", "%s stopping", name);
	FCGX_Free(&fr, 1);
	app_release(&app);
	return 0;
}

/* ---- several requests at once ---- */

/*
 * One request of app_serve_threads, with its own FastCGI request object so that
 * a handler can keep it (app_defer) while its thread accepts the next one.
 */
struct call {
	FCGX_Request fr;
	struct http_req req;
	int64_t t0, t_done;
	int deferred;
	int refs;             /* the serving thread, and the completer once deferred (atomic) */
	struct worker *owner; /* the thread that accepted it */
	void (*then)(void *); /* app_complete_then's */
	void *then_arg;
	struct call *next; /* in its owner's list of calls handed back */
};

/*
 * A request thread. Its calls completed by another thread come back to it (done) to be freed:
 * what a thread allocates is best freed by that thread. glibc's malloc keeps a cache per
 * thread, and blocks freed by another thread fill that thread's cache while the allocating
 * one's empties; every request then paid for its blocks twice over the arenas' locks (perf: a
 * third of the events program's CPU was in malloc and free).
 */
struct worker {
	pthread_t tid;
	struct app app; /* the shared configuration (read-only), a database handle of its own */
	app_handler handler;
	pthread_mutex_t mu;
	struct call *done; /* handed back, to be freed by this thread */
	int gone;          /* the thread has ended: a call completes where it is */
};

/* The request thread this is, in a request thread of app_serve_threads (else NULL). */
static __thread struct worker *this_worker;

static struct call *call_of(struct http_req *req)
{
	return (struct call *)(void *)((char *)req - offsetof(struct call, req));
}

/* The answer sent (500 when there was none). */
static void call_answered(struct call *c)
{
	if (!c->req.status_sent)
		http_send_error(&c->req, 500, "internal", "no answer was produced");
}

/*
 * The end of a deferred request, in the thread that accepted it (or once that thread has
 * ended): logged, its then() run, closed and freed. Its input was read to the end (app_defer):
 * closing then sends no reset (TCP), so the lingering close libfcgi would do (shut down, then
 * wait for the server to close first) is skipped, and so is a keep-alive connection's reuse
 * (the object goes: nothing would read the connection's next request).
 */
static void call_finish(struct call *c)
{
	call_answered(c);
	log_debug("request", "%s %s -> %d in %lld ms", c->req.method, c->req.path, c->req.status,
	          (long long)((c->t_done ? c->t_done : mono_ms()) - c->t0));
	http_req_end(&c->req);
	if (c->then)
		c->then(c->then_arg);
	FCGX_Detach(&c->fr);
	FCGX_Finish_r(&c->fr);
	if (c->fr.ipcFd >= 0) /* a kept connection (fastcgi_keep_conn): closed all the same */
		FCGX_Free(&c->fr, 1);
	free(c);
}

/*
 * A call completed by another thread than its owner: its answer and the end of the request
 * go to the web server now, its connection is closed; the rest (freeing) goes back to the
 * owner, which finishes it before its next accept (worker_reclaim).
 */
static void call_hand_back(struct call *c)
{
	call_answered(c);
	c->t_done = mono_ms();
	FCGX_FClose(c->fr.err);
	FCGX_FClose(c->fr.out); /* the last writer: with it, FCGI_END_REQUEST */
	close(c->fr.ipcFd);
	c->fr.ipcFd = -1;
	struct worker *w = c->owner;
	pthread_mutex_lock(&w->mu);
	int gone = w->gone;
	if (!gone) {
		c->next = w->done;
		w->done = c;
	}
	pthread_mutex_unlock(&w->mu);
	if (gone)
		call_finish(c);
}

/* The calls handed back to w, finished (freed) by its own thread; with last, none come after. */
static void worker_reclaim(struct worker *w, int last)
{
	pthread_mutex_lock(&w->mu);
	struct call *c = w->done;
	w->done = NULL;
	w->gone |= last;
	pthread_mutex_unlock(&w->mu);
	for (struct call *next; c; c = next) {
		next = c->next;
		call_finish(c);
	}
}

static void call_release(struct call *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (c->owner && c->owner != this_worker)
		call_hand_back(c);
	else
		call_finish(c);
}

void app_defer(struct http_req *req)
{
	struct call *c = call_of(req);
	char rest[512]; /* what is left of the input (the end-of-body record): read here */
	while (FCGX_GetStr(rest, (int)sizeof(rest), c->fr.in) > 0)
		;
	c->deferred = 1;
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
}

void app_undefer(struct http_req *req)
{
	struct call *c = call_of(req);
	c->deferred = 0;
	__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
}

void app_complete_then(struct http_req *req, void (*then)(void *arg), void *arg)
{
	struct call *c = call_of(req);
	c->then = then;
	c->then_arg = arg;
	call_release(c);
}

void app_complete(struct http_req *req)
{
	app_complete_then(req, NULL, NULL);
}

static struct call *call_new(void)
{
	struct call *c = xcalloc(1, sizeof(*c));
	if (FCGX_InitRequest(&c->fr, 0, 0) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	this_worker = w;
	struct call *c = call_new();
	if (!c) {
		log_error("fcgi_init", "FCGX_InitRequest failed: this thread serves nothing");
		return NULL;
	}
	/* Concurrent accept() on one socket is safe on Linux; shutdown() of it ends the wait. */
	while (c && FCGX_Accept_r(&c->fr) >= 0) {
		c->t0 = mono_ms();
		c->t_done = 0;
		c->refs = 1;
		c->deferred = 0;
		c->owner = w;
		c->then = NULL;
		http_req_begin(&c->req, &c->fr);
		w->handler(&w->app, &c->req);
		db_rollback(&w->app.db);
		if (c->deferred) {
			/* Someone else answers it; this thread takes a new object for the next. */
			call_release(c);
			worker_reclaim(w, 0);
			if (!(c = call_new()))
				log_error("fcgi_init",
				          "FCGX_InitRequest failed: this thread stops");
			continue;
		}
		request_done(&c->req, c->t0);
		FCGX_Finish_r(&c->fr);
		worker_reclaim(w, 0);
	}
	if (c) {
		FCGX_Free(&c->fr, 0);
		free(c);
	}
	worker_reclaim(w, 1);
	db_release(&w->app.db);
	return NULL;
}

int app_serve_threads(struct app *app, app_handler handler, int threads)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	/* Only this thread takes the stop signals (sigwait below); the workers inherit the mask. */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	fcgi_init();

	struct worker *w = workers = xcalloc((size_t)threads, sizeof(*w));
	int started = 0;
	for (int i = 0; i < threads; i++) {
		w[i].app = *app;
		db_init(&w[i].app.db, app->cfg.database_url, app->cfg.database_pooling);
		w[i].handler = handler;
		pthread_mutex_init(&w[i].mu, NULL);
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
			log_error("thread", "could not start request thread %d of %d", i + 1,
			          threads);
			db_release(&w[i].app.db);
			break;
		}
		started++;
	}
	if (!started)
		fatal("thread", "no request thread started");
	log_info("start", "%s ready (%d request threads)", app->name, started);

	int sig = 0;
	sigwait(&stop, &sig);
	log_info("stop", "%s stopping (signal %d): requests in flight finish", app->name, sig);
	/* Wake every accept() with an error; a request being served is answered first. */
	shutdown(FCGI_LISTENSOCK_FILENO, SHUT_RDWR);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	return 0;
}
