/*
 * cron: the command-line side of the service.
 *   cron tick                 everything that is due, once (run it every minute): webhook
 *                             retries, pause end, escalation, a check when the interval
 *                             passed, daily and weekly reports, prune, drain (tick.h)
 *   cron migrate              apply the state database migrations
 *   cron check [--emergency]  run a monitoring check, print its JSON
 *   cron config               print the effective configuration (secrets redacted)
 *   cron test-alert critical|warning [message]   queue a test alert through routing, drain
 *   cron drain [--resume]     escalate and repeat what is due, retry webhook events,
 *                             announce an expired pause, then send the queued messages
 *                             that are due; --resume first clears a stop of all
 *                             sending (after fixing the token or account)
 *   cron escalate             only escalate and repeat what is due (queues, sends nothing)
 * Exit status: 0 done, 1 could not do the work, 2 usage or configuration error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "monitor/check.h"
#include "core/config.h"
#include "monitor/configure.h"
#include "db/db.h"
#include "monitor/escalate.h"
#include "webhook/inbound.h"
#include "core/log.h"
#include "db/migrate.h"
#include "delivery/outbox.h"
#include "db/settings.h"
#include "monitor/testalert.h"
#include "jobs/tick.h"
#include "core/util.h"
#include "webhook/webhook.h"

/* Webhook events one drain retries at most. */
#define CRON_WEBHOOK_BATCH 1000

static void usage(void)
{
	fputs("usage: cron tick | migrate | check [--emergency] | config | drain [--resume] |\n"
	      "       escalate |\n"
	      "       test-alert critical|warning [message]\n",
	      stderr);
	exit(2);
}

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int cmd_migrate(struct db *db)
{
	int n = migrate_apply(db);
	if (n < 0) {
		log_error("migrate_failed", "migrations not applied: %s", db->err);
		return 1;
	}
	log_info("migrate_done", "%d migration(s) applied", n);
	return 0;
}

static int cmd_check(struct db *db, struct config *cfg, int argc, char **argv)
{
	struct check_opts opts = {.emergency = 0, .trigger = "cli"};
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--emergency") == 0)
			opts.emergency = 1;
		else
			usage();
	}
	char *err = NULL;
	if (settings_apply(db, cfg, &err) < 0) {
		log_warnx("settings_unavailable", "stored settings not applied: %s", err);
		free(err);
		err = NULL;
	}
	struct json_object *out = NULL;
	int r = check_run(db, cfg, &opts, &out, &err);
	if (out)
		print_json(out);
	json_object_put(out);
	if (r < 0) {
		log_error("check_failed", "%s", err);
		free(err);
		return 1;
	}
	return 0;
}

static int cmd_drain(struct db *db, struct config *cfg, int argc, char **argv)
{
	char *err = NULL;
	if (argc == 3 && strcmp(argv[2], "--resume") == 0) {
		if (outbox_resume(db) < 0) {
			log_error("resume_failed", "cannot clear the stop: %s", db->err);
			return 1;
		}
		log_info("sending_resumed", "sending resumed by the operator");
	} else if (argc != 2) {
		usage();
	}
	if (settings_apply(db, cfg, &err) < 0) {
		log_error("drain_failed", "state database unavailable: %s", err);
		free(err);
		return 1;
	}
	struct drain_stats st;
	struct escalate_stats es;
	int64_t t0 = mono_ms();
	if (escalate_run(db, cfg, &es) < 0) {
		log_error("escalate_failed", "%s", db->err);
		return 1;
	}
	/* Webhook events that failed processing, and a pause that expired. */
	struct webhook_stats ws = {0};
	if (webhook_process_due(db, cfg, CRON_WEBHOOK_BATCH, &ws) < 0 ||
	    inbound_announce_pause_end(db, cfg) < 0) {
		log_error("drain_failed", "%s", db->err);
		return 1;
	}
	if (outbox_drain(db, cfg, provider_for(cfg), 0, DRAIN_WAIT_PACED, &st) < 0) {
		log_error("drain_failed", "%s", db->err);
		return 1;
	}
	printf("{\"escalated\":%d,\"repeated\":%d,\"webhook_events\":%d,\"replayed\":%d,"
	       "\"quarantined\":%d,\"claimed\":%d,\"sent\":%d,\"retried\":%d,\"as_template\":%d,"
	       "\"failed\":%d,\"stale\":%d,\"stopped\":%s,\"duration_ms\":%lld}\n",
	       es.escalated, es.repeated, ws.events, st.replayed, st.quarantined, st.claimed,
	       st.sent, st.retried, st.as_template, st.failed, st.stale,
	       st.stopped ? "true" : "false", (long long)(mono_ms() - t0));
	log_info("drain_done", "claimed %d: sent %d, retry %d, template %d, failed %d%s",
	         st.claimed, st.sent, st.retried, st.as_template, st.failed,
	         st.stopped ? " (sending is stopped)" : "");
	return 0;
}

static int cmd_tick(struct db *db, struct config *cfg)
{
	struct json_object *out = NULL;
	int r = tick_run(db, cfg, time(NULL), &out);
	puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return r < 0 ? 1 : 0;
}

static int cmd_escalate(struct db *db, struct config *cfg)
{
	char *err = NULL;
	struct escalate_stats es;
	if (settings_apply(db, cfg, &err) < 0) {
		log_error("escalate_failed", "state database unavailable: %s", err);
		free(err);
		return 1;
	}
	if (escalate_run(db, cfg, &es) < 0) {
		log_error("escalate_failed", "%s", db->err);
		return 1;
	}
	printf("{\"escalated\":%d,\"repeated\":%d,\"queued\":%d,\"suppressed\":%d}\n", es.escalated,
	       es.repeated, es.queued, es.suppressed);
	return 0;
}

static int cmd_test_alert(struct db *db, struct config *cfg, int argc, char **argv)
{
	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[2], "critical") != 0 && strcmp(argv[2], "warning") != 0))
		usage();
	const char *message = argc == 4 ? argv[3] : "test alert from the monitoring service";
	if (!*message || strlen(message) > TESTALERT_MAX_MESSAGE ||
	    !str_is_utf8(message, strlen(message))) {
		fprintf(stderr, "test-alert: the message must be 1..%d bytes of UTF-8\n",
		        TESTALERT_MAX_MESSAGE);
		return 2;
	}
	char *err = NULL;
	struct json_object *out = NULL;
	if (settings_apply(db, cfg, &err) < 0) {
		log_warnx("settings_unavailable", "stored settings not applied: %s", err);
		free(err);
		err = NULL;
	}
	if (testalert_queue(db, cfg, argv[2], message, &out, &err) < 0) {
		log_error("test_alert_failed", "%s", err);
		free(err);
		return 1;
	}
	print_json(out);
	struct json_object *spooled = NULL;
	int was_spooled = json_object_object_get_ex(out, "state_database", &spooled);
	json_object_put(out);
	if (was_spooled) /* sent already, through the spool */
		return 0;
	struct drain_stats st;
	if (outbox_drain(db, cfg, provider_for(cfg), 0, DRAIN_WAIT_PACED, &st) < 0) {
		log_error("drain_failed", "%s", db->err);
		return 1;
	}
	return 0;
}

static int cmd_config(struct db *db, struct config *cfg)
{
	char *err = NULL;
	/* Stored settings apply when the state database answers; say so when it does not. */
	if (settings_apply(db, cfg, &err) < 0) {
		log_warnx("settings_unavailable", "stored settings not applied: %s", err);
		free(err);
	}
	struct json_object *o = config_to_json(cfg);
	print_json(o);
	json_object_put(o);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct db db;
	char *err = NULL;
	if (argc < 2)
		usage();
	log_init("cron", LOG_INFO);
	config_init(&cfg);
	if (config_load(&cfg, &err) < 0) {
		log_error("config_invalid", "configuration error: %s", err);
		fprintf(stderr, "configuration error: %s\n", err);
		free(err);
		config_release(&cfg);
		return 2;
	}
	log_set_level(cfg.log_level);
	config_warn_env_file(&cfg);
	db_init(&db, cfg.database_url);
	int rc;
	if (strcmp(argv[1], "migrate") == 0 && argc == 2)
		rc = cmd_migrate(&db);
	else if (strcmp(argv[1], "check") == 0)
		rc = cmd_check(&db, &cfg, argc, argv);
	else if (strcmp(argv[1], "test-alert") == 0)
		rc = cmd_test_alert(&db, &cfg, argc, argv);
	else if (strcmp(argv[1], "drain") == 0)
		rc = cmd_drain(&db, &cfg, argc, argv);
	else if (strcmp(argv[1], "tick") == 0 && argc == 2)
		rc = cmd_tick(&db, &cfg);
	else if (strcmp(argv[1], "escalate") == 0 && argc == 2)
		rc = cmd_escalate(&db, &cfg);
	else if (strcmp(argv[1], "config") == 0 && argc == 2)
		rc = cmd_config(&db, &cfg);
	else
		usage();
	db_release(&db);
	config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
