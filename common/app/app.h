/*
 * app.h: the skeleton every FastCGI program shares. app_main() loads and
 * validates the configuration (exits with a message naming the bad
 * variable), starts logging, then runs the FCGX_Accept_r loop: one request at
 * a time, a state-database connection kept across requests and checked
 * before each, any transaction left open rolled back after it. SIGTERM lets
 * the current request finish, then the loop ends.
 */
#ifndef APP_H
#define APP_H

#include "core/config.h"
#include "db/db.h"
#include "app/http.h"

struct app {
	const char *name;
	struct config cfg;  /* effective: base + stored settings (app_load_settings) */
	struct config base; /* as loaded from defaults, env file and environment */
	struct db db;
	int needs_token; /* refuse to start without MONITORING_API_TOKEN */
	int drain_after; /* set by a handler that queued messages: drain once the answer is out */
};

/* Messages one request's drain sends at most; cron drain takes the rest. */
#define APP_DRAIN_MAX 200

typedef void (*app_handler)(struct app *app, struct http_req *req);

/*
 * drain: what a program that queues messages runs once the answer is out
 * (app_drain); NULL for programs that never send, which then do not link
 * libcurl.
 */
int app_main(const char *name, int needs_token, app_handler handler,
             void (*drain)(struct app *app));

/*
 * What app_main does first: load and check the configuration (fatal on
 * error), start logging, put TIMEZONE in TZ (tz_init: before any thread).
 */
void app_init(struct app *app, const char *name, int needs_token);
void app_release(struct app *app);

/*
 * Serve with `threads` threads accepting at once, each with a shallow copy of
 * app (its configuration, read-only: the handler must not change it) and a
 * database handle of its own. No after hook and no drain: a threaded program
 * does its background work in threads of its own. Returns on SIGTERM or
 * SIGINT once the requests in flight are answered.
 */
int app_serve_threads(struct app *app, app_handler handler, int threads);

/*
 * Answering later (app_serve_threads only). A handler that hands its request
 * to another thread calls app_defer(req) first (it reads what is left of the
 * input); the request then outlives the handler, and its thread goes on to
 * accept the next one. Whoever has it
 * answers it (http_send_*), then calls app_complete(req), from any thread:
 * the request is finished (500 when it was not answered) and its answer sent
 * at once; it is logged and freed by the thread that accepted it (before that
 * thread's next request, or when it ends): req is gone. A handler whose
 * hand-over failed takes the request back with app_undefer(req) and answers
 * it itself.
 *
 * app_complete_then: the same, and then(arg) runs in the thread that accepted
 * the request, when it frees it: for freeing what that thread allocated for
 * the request (malloc is cheapest when the thread that allocates frees).
 */
void app_defer(struct http_req *req);
void app_undefer(struct http_req *req);
void app_complete(struct http_req *req);
void app_complete_then(struct http_req *req, void (*then)(void *arg), void *arg);

/* Send what is due (at most APP_DRAIN_MAX), without waiting for paced recipients. */
void app_drain(struct app *app);

/* Reset cfg's runtime settings to base, then apply those stored by configure. 0 / -1 (logged). */
int app_load_settings(struct app *app);

#endif
