/*
 * cron: the command-line side of the service.
 *   cron tick                 everything that is due, once (run it every minute): webhook
 *                             retries, pause end, escalation, a check when the interval
 *                             passed, daily and weekly reports, prune, drain (tick.h)
 *   cron migrate              apply the state database migrations
 *   cron check [--emergency]  run a monitoring check, print its JSON
 *   cron config               print the effective configuration (secrets redacted)
 *   cron test-alert critical|warning [message]   queue a test alert through routing, drain
 *   cron test-email ADDRESS [message]   queue a test email to ADDRESS (SMTP_*), drain
 *   cron test-sms NUMBER [message]      queue a test SMS to NUMBER (Twilio), drain
 *   cron drain [--resume]     retry webhook events, announce an expired pause, escalate
 *                             and repeat what is due, then send the queued messages that
 *                             are due (jobs/drain.h); --resume first clears a stop of all
 *                             sending (after fixing the token or account)
 *   cron escalate             only escalate and repeat what is due (queues, sends nothing)
 *   cron tenant-token EXTERNAL_ID [SECONDS]   print a seller JWT for that tenant, as the
 *                             platform would mint it (TENANT_JWT_SECRET, TENANT_JWT_AUDIENCE),
 *                             valid SECONDS (default 3600); touches no database
 *   cron seller-templates     print the 13 seller alert templates to register with Meta
 *                             (SELLER_TEMPLATES), a JSON array of creation requests in
 *                             WHATSAPP_TEMPLATE_LANGUAGE; touches no database
 * Exit status: 0 done, 1 could not do the work, 2 usage or configuration error.
 *
 * The commands are the table commands[]: its usage lines are the usage text, and one
 * preamble (settings_preamble) applies the stored settings the way each command needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core/config.h"
#include "core/jsonutil.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/settings.h"
#include "delivery/outbox.h"
#include "jobs/drain.h"
#include "jobs/tick.h"
#include "monitor/check.h"
#include "monitor/configure.h"
#include "monitor/escalate.h"
#include "monitor/testalert.h"
#include "tenants/alerttype.h"
#include "tenants/tenant.h"

/* How a command treats stored settings the state database cannot give. */
enum settings_need {
	SETTINGS_NONE,     /* does not read them (migrate), or reads them itself (tick) */
	SETTINGS_OPTIONAL, /* warns and goes on with the configuration alone */
	SETTINGS_REQUIRED, /* fails: the work needs the state database anyway */
};

struct command {
	const char *name;
	const char *usage; /* the arguments, as the usage text shows them */
	/* Are argv[2..argc) right? ARGS_OK, ARGS_USAGE, or ARGS_BAD (it said why). */
	int (*args)(int argc, char **argv);
	enum settings_need settings;
	const char *fail_event; /* the log event of a SETTINGS_REQUIRED failure */
	int (*run)(struct db *db, struct config *cfg, int argc, char **argv);
};

enum { ARGS_OK, ARGS_USAGE, ARGS_BAD };

static void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- argument checks ---- */

static int args_none(int argc, char **argv)
{
	(void)argv;
	return argc == 2 ? ARGS_OK : ARGS_USAGE;
}

static int args_check(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--emergency") != 0)
			return ARGS_USAGE;
	return ARGS_OK;
}

static int args_drain(int argc, char **argv)
{
	return argc == 2 || (argc == 3 && strcmp(argv[2], "--resume") == 0) ? ARGS_OK : ARGS_USAGE;
}

static const char *test_alert_message(int argc, char **argv)
{
	return argc == 4 ? argv[3] : "test alert from the monitoring service";
}

static int args_test_alert(int argc, char **argv)
{
	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[2], "critical") != 0 && strcmp(argv[2], "warning") != 0))
		return ARGS_USAGE;
	const char *message = test_alert_message(argc, argv);
	if (!*message || strlen(message) > TESTALERT_MAX_MESSAGE ||
	    !str_is_utf8(message, strlen(message))) {
		fprintf(stderr, "test-alert: the message must be 1..%d bytes of UTF-8\n",
		        TESTALERT_MAX_MESSAGE);
		return ARGS_BAD;
	}
	return ARGS_OK;
}

static const char *test_email_message(int argc, char **argv)
{
	return argc == 4 ? argv[3] : "it reaches you";
}

/* The address is the library's to check (the outbox refuses a bad one). */
static int args_test_email(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return ARGS_USAGE;
	const char *message = test_email_message(argc, argv);
	if (!*message || strlen(message) > TESTALERT_MAX_MESSAGE ||
	    !str_is_utf8(message, strlen(message))) {
		fprintf(stderr, "%s: the message must be 1..%d bytes of UTF-8\n", argv[1],
		        TESTALERT_MAX_MESSAGE);
		return ARGS_BAD;
	}
	return ARGS_OK;
}

/* The number is the library's to check (the outbox refuses a bad one); the message as email's. */
static int args_test_sms(int argc, char **argv)
{
	return args_test_email(argc, argv);
}

#define TENANT_TOKEN_SECONDS_DEFAULT 3600
#define TENANT_TOKEN_SECONDS_MAX 31536000 /* a year */

/* The lifetime in seconds of cron tenant-token's token; -1 when SECONDS is bad. */
static long long tenant_token_seconds(int argc, char **argv)
{
	long long s = TENANT_TOKEN_SECONDS_DEFAULT;
	const char *err;
	if (argc == 4 && parse_int(argv[3], 1, TENANT_TOKEN_SECONDS_MAX, &s, &err) < 0)
		return -1;
	return s;
}

static int args_tenant_token(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return ARGS_USAGE;
	char *id = NULL;
	const char *why;
	int bad = tenant_check_field(TF_EXTERNAL_ID, argv[2], &id, &why) < 0;
	free(id);
	if (bad) {
		fprintf(stderr, "tenant-token: the external id %s\n", why);
		return ARGS_BAD;
	}
	if (tenant_token_seconds(argc, argv) < 0) {
		fprintf(stderr, "tenant-token: SECONDS must be a whole number from 1 to %d\n",
		        TENANT_TOKEN_SECONDS_MAX);
		return ARGS_BAD;
	}
	return ARGS_OK;
}

/* ---- the commands ---- */

static int cmd_migrate(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)cfg, (void)argc, (void)argv;
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
	struct check_opts opts = {.emergency = argc > 2, .trigger = "cli"}; /* args_check */
	(void)argv;
	char *err = NULL;
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
	(void)argv;
	if (argc == 3) { /* --resume (args_drain) */
		if (outbox_resume(db) < 0) {
			log_error("resume_failed", "cannot clear the stop: %s", db->err);
			return 1;
		}
		log_info("sending_resumed", "sending resumed by the operator");
	}
	struct drain_run run = DRAIN_RUN_INIT;
	enum drain_step failed;
	int64_t t0 = mono_ms();
	if (drain_all(db, cfg, &run, &failed) < 0) {
		log_error(failed == DRAIN_STEP_ESCALATE ? "escalate_failed" : "drain_failed", "%s",
		          db->err);
		return 1;
	}
	const struct drain_stats *st = &run.ds;
	printf("{\"escalated\":%d,\"repeated\":%d,\"webhook_events\":%d,\"fallback_queued\":%d,"
	       "\"fallback_exhausted\":%d,\"replayed\":%d,"
	       "\"quarantined\":%d,\"claimed\":%d,\"sent\":%d,\"retried\":%d,\"as_template\":%d,"
	       "\"failed\":%d,\"stale\":%d,\"merged\":%d,\"stopped\":%s,\"duration_ms\":%lld}\n",
	       run.es.escalated, run.es.repeated, run.ws.events, run.fs.queued, run.fs.exhausted,
	       st->replayed, st->quarantined, st->claimed, st->sent, st->retried, st->as_template,
	       st->failed, st->stale, st->merged, st->stopped ? "true" : "false",
	       (long long)(mono_ms() - t0));
	log_info("drain_done", "claimed %d: sent %d, retry %d, template %d, failed %d, merged %d%s",
	         st->claimed, st->sent, st->retried, st->as_template, st->failed, st->merged,
	         st->stopped ? " (sending is stopped)" : "");
	return 0;
}

static int cmd_tick(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)argc, (void)argv;
	struct json_object *out = NULL;
	int r = tick_run(db, cfg, time(NULL), &out);
	puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	return r < 0 ? 1 : 0;
}

static int cmd_escalate(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)argc, (void)argv;
	struct escalate_stats es;
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
	char *err = NULL;
	struct json_object *out = NULL;
	if (testalert_queue(db, cfg, argv[2], test_alert_message(argc, argv), &out, &err) < 0) {
		log_error("test_alert_failed", "%s", err);
		free(err);
		return 1;
	}
	print_json(out);
	int was_spooled = json_get(out, "state_database") != NULL;
	json_object_put(out);
	if (was_spooled) /* sent already, through the spool */
		return 0;
	struct drain_run run = DRAIN_RUN_INIT;
	if (drain_step(db, cfg, DRAIN_STEP_SEND, &run) < 0) {
		log_error("drain_failed", "%s", db->err);
		return 1;
	}
	return 0;
}

/* One test message on another channel than WhatsApp (argv[1] names it), then a send step. */
static int cmd_test_channel(struct db *db, struct config *cfg, int argc, char **argv)
{
	int is_sms = strcmp(argv[1], "test-sms") == 0;
	char *err = NULL;
	struct json_object *out = NULL;
	const char *message = test_email_message(argc, argv);
	int rc = is_sms ? testalert_sms(db, cfg, argv[2], message, &out, &err)
	                : testalert_email(db, cfg, argv[2], message, &out, &err);
	if (rc < 0) {
		log_error(is_sms ? "test_sms_failed" : "test_email_failed", "%s", err);
		fprintf(stderr, "%s: %s\n", argv[1], err);
		free(err);
		return 1;
	}
	print_json(out);
	int was_spooled = json_get(out, "state_database") != NULL;
	json_object_put(out);
	if (was_spooled) /* sent already, through the spool */
		return 0;
	struct drain_run run = DRAIN_RUN_INIT;
	if (drain_step(db, cfg, DRAIN_STEP_SEND, &run) < 0) {
		log_error("drain_failed", "%s", db->err);
		return 1;
	}
	return 0;
}

static int cmd_config(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)db, (void)argc, (void)argv;
	struct json_object *o = config_to_json(cfg);
	print_json(o);
	json_object_put(o);
	return 0;
}

/*
 * A seller's JWT, as the platform mints them: for trying the seller's routes (make run prints
 * one) and for the platform's developers. The key is the one the programs verify with.
 */
static int cmd_tenant_token(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)db;
	const char *key = cfg->tenant_jwt_secret;
	if (!*key) {
		log_error("tenant_token_failed",
		          "TENANT_JWT_SECRET is empty: no token can be minted");
		fprintf(stderr, "tenant-token: TENANT_JWT_SECRET is empty\n");
		return 1;
	}
	long long now = (long long)time(NULL);
	char *token = jwt_mint_hs256(key, strlen(key), argv[2], cfg->tenant_jwt_audience, now,
	                             now + tenant_token_seconds(argc, argv));
	if (!token) {
		log_error("tenant_token_failed", "the token could not be minted");
		return 1;
	}
	puts(token);
	free(token);
	return 0;
}

/*
 * The seller alert types' own templates as Meta's creation requests, one per type, for the
 * operator to register (POST /<WABA id>/message_templates) before SELLER_TEMPLATES=on.
 */
static int cmd_seller_templates(struct db *db, struct config *cfg, int argc, char **argv)
{
	(void)db, (void)argc, (void)argv;
	struct json_object *all = json_object_new_array();
	for (size_t i = 0; i < alert_type_count(); i++)
		json_object_array_add(
		    all, alert_template_spec(alert_type_at(i), cfg->template_language));
	print_json(all);
	json_object_put(all);
	return 0;
}

/* In the order of the usage text. */
static const struct command commands[] = {
    {"tick", "", args_none, SETTINGS_NONE, NULL, cmd_tick},
    {"migrate", "", args_none, SETTINGS_NONE, NULL, cmd_migrate},
    {"check", "[--emergency]", args_check, SETTINGS_OPTIONAL, NULL, cmd_check},
    {"config", "", args_none, SETTINGS_OPTIONAL, NULL, cmd_config},
    {"drain", "[--resume]", args_drain, SETTINGS_REQUIRED, "drain_failed", cmd_drain},
    {"escalate", "", args_none, SETTINGS_REQUIRED, "escalate_failed", cmd_escalate},
    {"test-alert", "critical|warning [message]", args_test_alert, SETTINGS_OPTIONAL, NULL,
     cmd_test_alert},
    {"test-email", "ADDRESS [message]", args_test_email, SETTINGS_OPTIONAL, NULL, cmd_test_channel},
    {"test-sms", "NUMBER [message]", args_test_sms, SETTINGS_OPTIONAL, NULL, cmd_test_channel},
    {"tenant-token", "EXTERNAL_ID [SECONDS]", args_tenant_token, SETTINGS_NONE, NULL,
     cmd_tenant_token},
    {"seller-templates", "", args_none, SETTINGS_NONE, NULL, cmd_seller_templates},
};

static void usage(void)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(stderr, "%s cron %s%s%s\n", i ? "      " : "usage:", commands[i].name,
		        *commands[i].usage ? " " : "", commands[i].usage);
	exit(2);
}

/*
 * The stored settings (configure) over the configuration, as c needs them. 0 go on; 1 the
 * command cannot run.
 */
static int settings_preamble(const struct command *c, struct db *db, struct config *cfg)
{
	char *err = NULL;
	if (c->settings == SETTINGS_NONE || settings_apply(db, cfg, &err) == 0)
		return 0;
	if (c->settings == SETTINGS_REQUIRED)
		log_error(c->fail_event, "state database unavailable: %s", err);
	else
		log_warnx("settings_unavailable", "stored settings not applied: %s", err);
	free(err);
	return c->settings == SETTINGS_REQUIRED;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct db db;
	char *err = NULL;
	const struct command *c = argc < 2 ? NULL : find_command(argv[1]);
	if (!c)
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
	int a = c->args(argc, argv);
	if (a == ARGS_USAGE)
		usage();
	if (a == ARGS_BAD) {
		config_release(&cfg);
		return 2;
	}
	db_init(&db, cfg.database_url, cfg.database_pooling);
	int rc = settings_preamble(c, &db, &cfg) ? 1 : c->run(&db, &cfg, argc, argv);
	db_release(&db);
	config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
