#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "settings.h"
#include "util.h"

static volatile sig_atomic_t stopping;

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

int app_main(const char *name, int needs_token, app_handler handler, void (*drain)(struct app *app))
{
	struct app app;
	char *err = NULL;
	memset(&app, 0, sizeof(app));
	app.name = name;
	app.needs_token = needs_token;
	log_init(name, LOG_INFO);
	config_init(&app.cfg);
	config_init(&app.base);
	if (config_load(&app.cfg, &err) < 0 || config_load(&app.base, &err) < 0)
		fatal("config_invalid", "configuration error: %s", err);
	log_set_level(app.cfg.log_level);
	if (needs_token && !*app.cfg.api_token)
		fatal("config_invalid", "configuration error: MONITORING_API_TOKEN must be set");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked accept() returns and the loop ends */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (FCGX_Init() != 0)
		fatal("fcgi_init", "FCGX_Init failed");
	FCGX_Request fr;
	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		fatal("fcgi_init", "FCGX_InitRequest failed");
	db_init(&app.db, app.cfg.database_url);
	log_info("start", "%s ready", name);

	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		struct http_req req;
		int64_t t0 = mono_ms();
		http_req_begin(&req, &fr);
		handler(&app, &req);
		if (!req.status_sent)
			http_send_error(&req, 500, "internal", "no answer was produced");
		db_rollback(&app.db);
		log_debug("request", "%s %s -> %d in %lld ms", req.method, req.path, req.status,
		          (long long)(mono_ms() - t0));
		http_req_end(&req);
		FCGX_Finish_r(&fr);
		/* The caller has its answer; now do the rest, and send what was queued. */
		if (app.after) {
			void (*after)(struct app *) = app.after;
			app.after = NULL;
			after(&app);
			db_rollback(&app.db);
		}
		if (app.drain_after) {
			app.drain_after = 0;
			if (drain)
				drain(&app);
			db_rollback(&app.db);
		}
	}
	log_info("stop", "%s stopping", name);
	FCGX_Free(&fr, 1);
	db_release(&app.db);
	config_release(&app.cfg);
	config_release(&app.base);
	return 0;
}
