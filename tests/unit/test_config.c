/*
 * Unit tests of common/core/config.c: loading (defaults < env file < environment),
 * validation naming the variable, runtime settings,
 * redaction and copying.
 *
 * config_load() reads every known variable from environ, so each test starts
 * and ends with tu_clear_config_env(), and the group runs in an empty
 * temporary directory so no stray .env.monitoring is picked up.
 */
#include "testutil.h"

#include <limits.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/metrics.h"

static int group_setup(void **state)
{
	(void)state;
	return tu_enter_tmpdir("config");
}

static int group_teardown(void **state)
{
	(void)state;
	return tu_leave_tmpdir();
}

static int setup(void **state)
{
	(void)state;
	tu_clear_config_env();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_clear_config_env();
	return 0;
}

/* config_init + config_load with text as the env file (MONITORING_ENV_FILE). */
static int load_with_file(struct config *cfg, const char *text, char **err)
{
	char *path = tu_write_temp_file(text);
	tu_setenv("MONITORING_ENV_FILE", path);
	config_init(cfg);
	*err = NULL;
	int r = config_load(cfg, err);
	tu_remove_temp_file(path);
	return r;
}

/* Load; assert failure with an error mentioning each of the given words. */
static void assert_load_fails(const char *file_text, const char *word1, const char *word2)
{
	struct config cfg;
	char *err = NULL;
	int r = load_with_file(&cfg, file_text, &err);
	if (r == 0) {
		print_error("config_load accepted the configuration\n");
		config_release(&cfg);
		fail();
	}
	assert_non_null(err);
	assert_contains(err, word1);
	if (word2)
		assert_contains(err, word2);
	free(err);
	config_release(&cfg);
}

/* ---------------------------------------------------------------- loading and precedence */

static void test_config_load_uses_defaults_with_empty_env_file(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_null(err);
	assert_string_equal(cfg.database_url, "dbname=monitoring");
	assert_string_equal(cfg.monitored_database_url, "dbname=monitoring");
	assert_string_equal(cfg.api_token, "");
	assert_string_equal(cfg.timezone, "UTC");
	assert_int_equal(cfg.business_hours_start, 9 * 60);
	assert_int_equal(cfg.business_hours_end, 18 * 60);
	assert_int_equal(cfg.monitoring_interval_ms, 21600000);
	assert_string_equal(cfg.provider, "sandbox");
	assert_string_equal(cfg.meta_graph_url, "https://graph.facebook.com/v25.0");
	assert_string_equal(cfg.orders_table, "orders");
	assert_string_equal(cfg.orders_timestamp_column, "created_at");
	assert_int_equal(cfg.orders_min_volume, 20);
	assert_int_equal(cfg.max_body_bytes, 65536);
	assert_int_equal(cfg.command_max_age_s, 600);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.critical.n, 0);
	assert_int_equal(cfg.warning.n, 0);
	assert_int_equal(cfg.weekend.n, 0);
	assert_double_near(cfg.thresholds.warning[M_DEADLOCKS], 1, 0);
	assert_double_near(cfg.thresholds.critical[M_DEADLOCKS], 10, 0);
	assert_nan(cfg.thresholds.warning[M_BLOCKED_SESSIONS]);
	config_release(&cfg);
}

static void test_config_load_without_env_file_uses_defaults(void **state)
{
	(void)state;
	/* No MONITORING_ENV_FILE and no .env.monitoring in the (empty) cwd. */
	struct config cfg;
	char *err = NULL;
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, &err), 0);
	assert_string_equal(cfg.env_file, ".env.monitoring");
	assert_int_equal(cfg.orders_min_volume, 20);
	config_release(&cfg);
}

static void test_config_load_reads_default_env_file_in_cwd(void **state)
{
	(void)state;
	FILE *f = fopen(".env.monitoring", "w");
	assert_non_null(f);
	fputs("ORDERS_MIN_VOLUME=33\n", f);
	assert_int_equal(fclose(f), 0);
	struct config cfg;
	char *err = NULL;
	config_init(&cfg);
	int r = config_load(&cfg, &err);
	unlink(".env.monitoring");
	assert_int_equal(r, 0);
	assert_int_equal(cfg.orders_min_volume, 33);
	config_release(&cfg);
}

static void test_config_env_file_overrides_defaults(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "ORDERS_MIN_VOLUME=50\n"
	                                "TIMEZONE=Europe/Berlin\n"
	                                "BUSINESS_HOURS_START=08:30\n"
	                                "LOG_LEVEL=debug\n"
	                                "THRESHOLD_DEADLOCKS_CRITICAL=5\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.orders_min_volume, 50);
	assert_string_equal(cfg.timezone, "Europe/Berlin");
	assert_int_equal(cfg.business_hours_start, 8 * 60 + 30);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_double_near(cfg.thresholds.critical[M_DEADLOCKS], 5, 0);
	config_release(&cfg);
}

static void test_config_environment_overrides_env_file(void **state)
{
	(void)state;
	tu_setenv("MONITORING_INTERVAL", "180000");
	tu_setenv("THRESHOLD_DEADLOCKS_WARNING", "3");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "MONITORING_INTERVAL=120000\n"
	                                "ORDERS_MIN_VOLUME=50\n"
	                                "THRESHOLD_DEADLOCKS_WARNING=2\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.monitoring_interval_ms, 180000); /* environment */
	assert_int_equal(cfg.orders_min_volume, 50);          /* file */
	assert_double_near(cfg.thresholds.warning[M_DEADLOCKS], 3, 0);
	assert_int_equal(cfg.max_body_bytes, 65536); /* default */
	config_release(&cfg);
}

static void test_config_empty_value_falls_back_to_default(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(
	    load_with_file(&cfg, "MONITORING_INTERVAL=\nTIMEZONE=\nORDERS_TABLE=\n", &err), 0);
	assert_int_equal(cfg.monitoring_interval_ms, 21600000);
	assert_string_equal(cfg.timezone, "UTC");
	assert_string_equal(cfg.orders_table, "orders");
	config_release(&cfg);
}

static void test_config_explicit_missing_env_file_is_an_error(void **state)
{
	(void)state;
	tu_setenv("MONITORING_ENV_FILE", "/nonexistent/dir/monitoring.env");
	struct config cfg;
	char *err = NULL;
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, &err), -1);
	assert_contains(err, "MONITORING_ENV_FILE");
	assert_contains(err, "/nonexistent/dir/monitoring.env");
	free(err);
	config_release(&cfg);
}

static void test_config_unknown_variable_in_env_file_is_ignored(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "ORDERS_MIN_VOLUMEN=5\n", &err), 0);
	assert_int_equal(cfg.orders_min_volume, 20);
	config_release(&cfg);
}

static void test_config_env_file_syntax_error_names_the_line(void **state)
{
	(void)state;
	assert_load_fails("# comment\nORDERS_MIN_VOLUME=5\nthis line has no equals sign\n",
	                  "line 3", NULL);
}

static void test_config_monitored_database_url_defaults_to_database_url(void **state)
{
	(void)state;
	tu_setenv("DATABASE_URL", "host=db.example dbname=state");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "MONITORED_DATABASE_URL=\n", &err), 0);
	assert_string_equal(cfg.database_url, "host=db.example dbname=state");
	assert_string_equal(cfg.monitored_database_url, "host=db.example dbname=state");
	config_release(&cfg);
}

static void test_config_monitored_database_url_can_differ(void **state)
{
	(void)state;
	tu_setenv("DATABASE_URL", "dbname=state");
	tu_setenv("MONITORED_DATABASE_URL", "dbname=shop");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_string_equal(cfg.database_url, "dbname=state");
	assert_string_equal(cfg.monitored_database_url, "dbname=shop");
	config_release(&cfg);
}

static void test_config_pooling_defaults_to_session_for_both_databases(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(cfg.database_pooling, POOLING_SESSION);
	assert_int_equal(cfg.monitored_database_pooling, POOLING_SESSION);
	char *t = config_value_text(&cfg, "DATABASE_POOLING", 1);
	assert_string_equal(t, "session");
	free(t);
	config_release(&cfg);
}

static void test_config_pooling_transaction_is_read_per_database(void **state)
{
	(void)state;
	tu_setenv("MONITORED_DATABASE_POOLING", "transaction");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "DATABASE_POOLING=transaction\n", &err), 0);
	assert_int_equal(cfg.database_pooling, POOLING_TRANSACTION);
	assert_int_equal(cfg.monitored_database_pooling, POOLING_TRANSACTION);
	char *t = config_value_text(&cfg, "MONITORED_DATABASE_POOLING", 1);
	assert_string_equal(t, "transaction");
	free(t);
	config_release(&cfg);
}

static void test_config_pooling_rejects_other_modes_naming_the_variable(void **state)
{
	(void)state;
	assert_load_fails("DATABASE_POOLING=statement\n", "DATABASE_POOLING",
	                  "session or transaction");
	assert_load_fails("MONITORED_DATABASE_POOLING=Transaction\n", "MONITORED_DATABASE_POOLING",
	                  "Transaction");
}

static void test_config_phone_lists_are_normalised_and_deduplicated(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "CRITICAL_PHONE_1=+52 55 1234 5678\n"
	                                "CRITICAL_PHONE_3=0044 20 7946 0958\n"
	                                "CRITICAL_PHONE_10=+525512345678\n"
	                                "WARNING_PHONE_2=whatsapp:+15551234567\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.critical.n, 2);
	assert_string_equal(cfg.critical.num[0], "+525512345678");
	assert_string_equal(cfg.critical.num[1], "+442079460958");
	assert_int_equal(cfg.warning.n, 1);
	assert_string_equal(cfg.warning.num[0], "+15551234567");
	assert_int_equal(cfg.weekend.n, 0);
	config_release(&cfg);
}

/*
 * The lookup reads CRITICAL_PHONE_1..10 only, so "_01" would be a number
 * silently dropped: it is refused, naming the variable and the rule.
 */
static void test_config_phone_with_zero_padded_suffix_is_refused(void **state)
{
	(void)state;
	assert_load_fails("CRITICAL_PHONE_01=+15551234567\n", "CRITICAL_PHONE_01",
	                  "the suffix must be 1..10");
}

static void test_config_valid_meta_provider_loads(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "WHATSAPP_PROVIDER=meta\n"
	                                "META_WHATSAPP_TOKEN=EAAB-token\n"
	                                "META_PHONE_NUMBER_ID=1234567890\n",
	                                &err),
	                 0);
	assert_string_equal(cfg.provider, "meta");
	assert_string_equal(cfg.meta_token, "EAAB-token");
	config_release(&cfg);
}

static void test_config_threshold_none_disables_a_level(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "THRESHOLD_DEADLOCKS_WARNING=none\n"
	                                "THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=NONE\n",
	                                &err),
	                 0);
	assert_nan(cfg.thresholds.warning[M_DEADLOCKS]);
	assert_double_near(cfg.thresholds.critical[M_DEADLOCKS], 10, 0);
	assert_nan(cfg.thresholds.critical[M_CONNECTIONS_USED_PCT]);
	config_release(&cfg);
}

/* ---------------------------------------------------------------- bad values name the variable */

static void test_config_rejects_non_integer_interval(void **state)
{
	(void)state;
	assert_load_fails("MONITORING_INTERVAL=abc\n", "MONITORING_INTERVAL", "abc");
}

static void test_config_rejects_interval_out_of_range(void **state)
{
	(void)state;
	assert_load_fails("MONITORING_INTERVAL=1000\n", "MONITORING_INTERVAL", "range");
}

/* Sellers' own templates: off unless set to on; anything else is refused by name. */
static void test_config_seller_templates_off_or_on(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_string_equal(cfg.seller_templates, "off");
	assert_int_equal(cfg.seller_templates_on, 0);
	config_release(&cfg);
	assert_int_equal(load_with_file(&cfg, "SELLER_TEMPLATES=on\n", &err), 0);
	assert_int_equal(cfg.seller_templates_on, 1);
	config_release(&cfg);
	assert_int_equal(load_with_file(&cfg, "SELLER_TEMPLATES=off\n", &err), 0);
	assert_int_equal(cfg.seller_templates_on, 0);
	config_release(&cfg);
	assert_load_fails("SELLER_TEMPLATES=yes\n", "SELLER_TEMPLATES", "yes");
	assert_load_fails("SELLER_TEMPLATES=ON\n", "SELLER_TEMPLATES", "off or on");
}

/* Business events are kept 90 days once dispatched; at least a week (the platform's retries). */
static void test_config_events_retention_days(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(cfg.events_retention_days, 90);
	config_release(&cfg);
	assert_int_equal(load_with_file(&cfg, "EVENTS_RETENTION_DAYS=30\n", &err), 0);
	assert_int_equal(cfg.events_retention_days, 30);
	config_release(&cfg);
	assert_load_fails("EVENTS_RETENTION_DAYS=6\n", "EVENTS_RETENTION_DAYS", "range");
	assert_load_fails("EVENTS_RETENTION_DAYS=3651\n", "EVENTS_RETENTION_DAYS", "range");
	assert_load_fails("EVENTS_RETENTION_DAYS=90d\n", "EVENTS_RETENTION_DAYS", "90d");
}

static void test_config_rejects_bad_value_from_environment(void **state)
{
	(void)state;
	tu_setenv("MONITORING_INTERVAL", "6h");
	assert_load_fails("", "MONITORING_INTERVAL", "6h");
}

static void test_config_platform_key_is_long_and_not_the_operator_token(void **state)
{
	(void)state;
	assert_load_fails("PLATFORM_API_KEY=short\n", "PLATFORM_API_KEY", "16");
	assert_load_fails("MONITORING_API_TOKEN=0123456789abcdef0123\n"
	                  "PLATFORM_API_KEY=0123456789abcdef0123\n",
	                  "PLATFORM_API_KEY", "MONITORING_API_TOKEN");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "MONITORING_API_TOKEN=0123456789abcdef0123\n"
	                                "PLATFORM_API_KEY=fedcba98765432100123\n",
	                                &err),
	                 0);
	assert_string_equal(cfg.platform_api_key, "fedcba98765432100123");
	config_release(&cfg);
}

static void test_config_events_secret_is_a_whsec_key(void **state)
{
	(void)state;
	/* 32 bytes "0123456789abcdef0123456789abcdef" in base64. */
	const char *good = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
	assert_load_fails("EVENTS_SIGNING_SECRET=0123456789abcdef0123456789abcdef\n",
	                  "EVENTS_SIGNING_SECRET", "whsec_");
	assert_load_fails("EVENTS_SIGNING_SECRET=whsec_c2hvcnQ=\n", "EVENTS_SIGNING_SECRET", NULL);
	assert_load_fails("EVENTS_SIGNING_SECRET=whsec_not*base64*at*all*0123456789abcdef\n",
	                  "EVENTS_SIGNING_SECRET", NULL);
	struct config cfg;
	char *err = NULL;
	char *doc = xasprintf("EVENTS_SIGNING_SECRET=%s\n", good);
	assert_int_equal(load_with_file(&cfg, doc, &err), 0);
	assert_string_equal(cfg.events_signing_secret, good);
	config_release(&cfg);
	free(doc);
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_string_equal(cfg.events_signing_secret, "");
	config_release(&cfg);
}

static void test_config_tenant_keys_are_long_and_distinct(void **state)
{
	(void)state;
	const char *k1 = "0123456789abcdef0123456789abcdef",
	           *k2 = "fedcba9876543210fedcba9876543210";
	char *doc;
	assert_load_fails("TENANT_JWT_SECRET=0123456789abcdef0123456789abcde\n",
	                  "TENANT_JWT_SECRET", "32");
	assert_load_fails("TENANT_CODE_SECRET=short-but-sixteen\n", "TENANT_CODE_SECRET", "32");
	doc = xasprintf("PLATFORM_API_KEY=%s\nTENANT_JWT_SECRET=%s\n", k1, k1);
	assert_load_fails(doc, "TENANT_JWT_SECRET", "PLATFORM_API_KEY");
	free(doc);
	doc = xasprintf("MONITORING_API_TOKEN=%s\nTENANT_CODE_SECRET=%s\n", k1, k1);
	assert_load_fails(doc, "TENANT_CODE_SECRET", "MONITORING_API_TOKEN");
	free(doc);
	doc = xasprintf("TENANT_JWT_SECRET=%s\nTENANT_CODE_SECRET=%s\n", k1, k1);
	assert_load_fails(doc, "TENANT_CODE_SECRET", "TENANT_JWT_SECRET");
	free(doc);
	assert_load_fails("TENANT_JWT_LEEWAY_SECONDS=301\n", "TENANT_JWT_LEEWAY_SECONDS", NULL);
	assert_load_fails("LOGIN_CODE_RESEND_SECONDS=5\n", "LOGIN_CODE_RESEND_SECONDS", NULL);
	struct config cfg;
	char *err = NULL;
	doc = xasprintf("TENANT_JWT_SECRET=%s\nTENANT_CODE_SECRET=%s\nTENANT_JWT_AUDIENCE=shop\n",
	                k1, k2);
	assert_int_equal(load_with_file(&cfg, doc, &err), 0);
	assert_string_equal(cfg.tenant_jwt_secret, k1);
	assert_string_equal(cfg.tenant_code_secret, k2);
	assert_string_equal(cfg.tenant_jwt_audience, "shop");
	assert_int_equal(cfg.tenant_jwt_leeway_s, 30);
	assert_int_equal(cfg.login_code_ttl_s, 600);
	assert_int_equal(cfg.login_code_max_attempts, 5);
	config_release(&cfg);
	free(doc);
}

static void test_config_rejects_unknown_timezone(void **state)
{
	(void)state;
	assert_load_fails("TIMEZONE=Mars/Olympus\n", "TIMEZONE", "Mars/Olympus");
}

static void test_config_rejects_timezone_path_tricks(void **state)
{
	(void)state;
	assert_load_fails("TIMEZONE=../../etc/passwd\n", "TIMEZONE", NULL);
	assert_load_fails("TIMEZONE=/etc/localtime\n", "TIMEZONE", NULL);
	assert_load_fails("TIMEZONE=Europe\n", "TIMEZONE", NULL); /* a directory */
}

static void test_config_command_max_age_bounds(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "COMMAND_MAX_AGE_SECONDS=3600\n", &err), 0);
	assert_int_equal(cfg.command_max_age_s, 3600);
	config_release(&cfg);
	assert_load_fails("COMMAND_MAX_AGE_SECONDS=59\n", "COMMAND_MAX_AGE_SECONDS", "range");
	assert_load_fails("COMMAND_MAX_AGE_SECONDS=604801\n", "COMMAND_MAX_AGE_SECONDS", "range");
	assert_load_fails("COMMAND_MAX_AGE_SECONDS=10m\n", "COMMAND_MAX_AGE_SECONDS", "10m");
}

static void test_config_rejects_business_hours_start_25_00(void **state)
{
	(void)state;
	assert_load_fails("BUSINESS_HOURS_START=25:00\n", "BUSINESS_HOURS_START", "25:00");
}

static void test_config_rejects_business_hours_end_before_start(void **state)
{
	(void)state;
	assert_load_fails("BUSINESS_HOURS_START=18:00\nBUSINESS_HOURS_END=09:00\n",
	                  "BUSINESS_HOURS_END", NULL);
}

static void test_config_rejects_critical_phone_without_country_code(void **state)
{
	(void)state;
	assert_load_fails("CRITICAL_PHONE_1=12345\n", "CRITICAL_PHONE_1", "12345");
}

static void test_config_rejects_phone_suffix_outside_1_to_10(void **state)
{
	(void)state;
	assert_load_fails("CRITICAL_PHONE_11=+15551234567\n", "CRITICAL_PHONE_11", NULL);
	assert_load_fails("WEEKEND_PHONE_X=+15551234567\n", "WEEKEND_PHONE_X", NULL);
}

static void test_config_rejects_unknown_provider(void **state)
{
	(void)state;
	assert_load_fails("WHATSAPP_PROVIDER=pigeon\n", "WHATSAPP_PROVIDER", "pigeon");
}

static void test_config_rejects_orders_table_that_is_not_an_identifier(void **state)
{
	(void)state;
	assert_load_fails("ORDERS_TABLE=\"orders; drop\"\n", "ORDERS_TABLE", "orders; drop");
}

static void test_config_rejects_non_numeric_threshold(void **state)
{
	(void)state;
	assert_load_fails("THRESHOLD_DEADLOCKS_WARNING=abc\n", "THRESHOLD_DEADLOCKS_WARNING",
	                  "abc");
}

static void test_config_rejects_warning_above_critical_when_higher_is_worse(void **state)
{
	(void)state;
	assert_load_fails("THRESHOLD_DEADLOCKS_WARNING=20\n", "THRESHOLD_DEADLOCKS_WARNING",
	                  "above critical");
}

static void test_config_rejects_warning_below_critical_when_lower_is_worse(void **state)
{
	(void)state;
	/* cache hit ratio: warning 95, critical 90 by default. */
	assert_load_fails("THRESHOLD_CACHE_HIT_RATIO_PCT_WARNING=80\n",
	                  "THRESHOLD_CACHE_HIT_RATIO_PCT_WARNING", "below critical");
}

static void test_config_rejects_unknown_log_level(void **state)
{
	(void)state;
	assert_load_fails("LOG_LEVEL=verbose\n", "LOG_LEVEL", "verbose");
}

static void test_config_smtp_settings_load(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "SMTP_URL=smtps://mail.example.com:465\n"
	                                "SMTP_FROM=Ops Alerts <alerts@example.com>\n"
	                                "SMTP_USERNAME=alerts\nSMTP_PASSWORD=pw-123456\n"
	                                "SMTP_RATE_PER_SECOND=2\n",
	                                &err),
	                 0);
	assert_string_equal(cfg.smtp_url, "smtps://mail.example.com:465");
	assert_int_equal(cfg.smtp_rate_per_second, 2);
	assert_int_equal(cfg.smtp_timeout_ms, 30000);
	assert_int_equal(cfg.smtp_retry_base_s, 60);
	assert_int_equal(cfg.smtp_retry_max_s, 1800);
	char *v = config_value_text(&cfg, "SMTP_PASSWORD", 1);
	assert_string_equal(v, "(set)");
	free(v);
	config_release(&cfg);
	/* No SMTP_URL: nothing else is required. */
	assert_int_equal(load_with_file(&cfg, "SMTP_FROM=\n", &err), 0);
	config_release(&cfg);
}

static void test_config_rejects_bad_smtp_settings(void **state)
{
	(void)state;
	assert_load_fails("SMTP_URL=http://mail.example.com\nSMTP_FROM=a@example.com\n", "SMTP_URL",
	                  "smtp://");
	assert_load_fails("SMTP_URL=smtp://\nSMTP_FROM=a@example.com\n", "SMTP_URL", NULL);
	assert_load_fails("SMTP_URL=smtp://u:p@mail.example.com\nSMTP_FROM=a@example.com\n",
	                  "SMTP_URL", "credentials");
	assert_load_fails("SMTP_URL=smtp://mail.example.com\n", "SMTP_FROM", "required");
	assert_load_fails("SMTP_URL=smtp://mail.example.com\nSMTP_FROM=Ops <not an address>\n",
	                  "SMTP_FROM", NULL);
	assert_load_fails("SMTP_URL=smtp://mail.example.com\nSMTP_FROM=a@example.com\n"
	                  "SMTP_USERNAME=alerts\n",
	                  "SMTP_PASSWORD", "required");
	assert_load_fails("SMTP_URL=smtp://mail.example.com\nSMTP_FROM=a@example.com\n"
	                  "SMTP_CA_FILE=/nonexistent/ca.pem\n",
	                  "SMTP_CA_FILE", NULL);
	assert_load_fails("SMTP_TIMEOUT_MS=10\n", "SMTP_TIMEOUT_MS", NULL);
}

static void test_config_rejects_smtp_from_with_cr_lf_from_the_environment(void **state)
{
	(void)state;
	tu_setenv("SMTP_URL", "smtp://mail.example.com");
	tu_setenv("SMTP_FROM", "Ops\r\nBcc: victim@evil.test <a@example.com>");
	assert_load_fails("", "SMTP_FROM", "control character");
	unsetenv("SMTP_URL");
	unsetenv("SMTP_FROM");
}

static void test_config_sms_settings_load(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "TWILIO_ACCOUNT_SID=AC0123\nTWILIO_AUTH_TOKEN=tok-123456\n"
	                                "TWILIO_SMS_FROM=+1 555 333 0000\n",
	                                &err),
	                 0);
	assert_string_equal(cfg.twilio_sms_from, "+15553330000");
	assert_int_equal(cfg.sms_max_segments, 3);
	assert_int_equal(cfg.sms_rate_per_second, 1);
	assert_int_equal(cfg.sms_retry_base_s, 30);
	assert_int_equal(cfg.sms_retry_max_s, 900);
	config_release(&cfg);
	assert_int_equal(load_with_file(&cfg,
	                                "TWILIO_ACCOUNT_SID=AC0123\nTWILIO_AUTH_TOKEN=tok-123456\n"
	                                "TWILIO_MESSAGING_SERVICE_SID="
	                                "MG0123456789abcdef0123456789ABCDEF\nSMS_MAX_SEGMENTS=10\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.sms_max_segments, 10);
	config_release(&cfg);
	/* No sender: nothing else is required. */
	assert_int_equal(load_with_file(&cfg, "SMS_MAX_SEGMENTS=1\n", &err), 0);
	config_release(&cfg);
}

static void test_config_rejects_bad_sms_settings(void **state)
{
	(void)state;
	const char *keys = "TWILIO_ACCOUNT_SID=AC0123\nTWILIO_AUTH_TOKEN=tok-123456\n";
	char *both = xasprintf("%sTWILIO_SMS_FROM=+15553330000\nTWILIO_MESSAGING_SERVICE_SID="
	                       "MG0123456789abcdef0123456789abcdef\n",
	                       keys);
	assert_load_fails(both, "TWILIO_SMS_FROM", "not both");
	free(both);
	char *bad_from = xasprintf("%sTWILIO_SMS_FROM=Ops\n", keys);
	assert_load_fails(bad_from, "TWILIO_SMS_FROM", NULL);
	free(bad_from);
	char *bad_ms = xasprintf("%sTWILIO_MESSAGING_SERVICE_SID=MG1\n", keys);
	assert_load_fails(bad_ms, "TWILIO_MESSAGING_SERVICE_SID", "32 hex");
	free(bad_ms);
	assert_load_fails("TWILIO_AUTH_TOKEN=tok-123456\nTWILIO_SMS_FROM=+15553330000\n",
	                  "TWILIO_ACCOUNT_SID", "SMS");
	assert_load_fails("SMS_MAX_SEGMENTS=11\n", "SMS_MAX_SEGMENTS", NULL);
	assert_load_fails("SMS_MAX_SEGMENTS=0\n", "SMS_MAX_SEGMENTS", NULL);
}

static void test_config_rejects_non_http_graph_url(void **state)
{
	(void)state;
	assert_load_fails("META_GRAPH_URL=ftp://graph.example\n", "META_GRAPH_URL", NULL);
}

static void test_config_rejects_short_api_token_without_echoing_it(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "MONITORING_API_TOKEN=tiny-s3cret\n", &err), -1);
	assert_contains(err, "MONITORING_API_TOKEN");
	assert_not_contains(err, "tiny-s3cret");
	free(err);
	config_release(&cfg);
}

static void test_config_alertmanager_token_is_its_own(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "ALERTMANAGER_TOKEN=am-short\n", &err), -1);
	assert_contains(err, "ALERTMANAGER_TOKEN must be at least 16 characters");
	assert_not_contains(err, "am-short");
	free(err);
	config_release(&cfg);
	assert_load_fails("MONITORING_API_TOKEN=0123456789abcdef0123\n"
	                  "ALERTMANAGER_TOKEN=0123456789abcdef0123\n",
	                  "ALERTMANAGER_TOKEN", "MONITORING_API_TOKEN");
	assert_load_fails("META_APP_SECRET=0123456789abcdef0123\n"
	                  "ALERTMANAGER_TOKEN=0123456789abcdef0123\n",
	                  "ALERTMANAGER_TOKEN", "META_APP_SECRET");
	assert_int_equal(load_with_file(&cfg, "ALERTMANAGER_TOKEN=am-0123456789abcdef\n", &err), 0);
	assert_string_equal(cfg.alertmanager_token, "am-0123456789abcdef");
	config_release(&cfg);
}

static void test_config_canary_is_off_by_default(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(cfg.canary_interval_s, 0);
	assert_int_equal(cfg.canary_deadline_s, 300);
	assert_string_equal(cfg.canary_phone, "");
	config_release(&cfg);
}

static void test_config_canary_settings_are_checked_naming_the_variable(void **state)
{
	(void)state;
	assert_load_fails("CANARY_INTERVAL=600\n", "CANARY_PHONE is required", NULL);
	assert_load_fails("CANARY_INTERVAL=59\nCANARY_PHONE=+15550000042\n", "CANARY_INTERVAL",
	                  "at least 60");
	assert_load_fails("CANARY_INTERVAL=10m\nCANARY_PHONE=+15550000042\n", "CANARY_INTERVAL",
	                  NULL);
	assert_load_fails("CANARY_INTERVAL=600\nCANARY_PHONE=555-CANARY\n", "CANARY_PHONE", NULL);
	assert_load_fails("CANARY_INTERVAL=600\nCANARY_PHONE=+15550000042\nCANARY_DEADLINE=600\n",
	                  "CANARY_DEADLINE (600 s) must be less than CANARY_INTERVAL (600 s)",
	                  NULL);
	assert_load_fails("CANARY_DEADLINE=9\n", "CANARY_DEADLINE", NULL);
	/* Off: the phone and the deadline's relation to the interval do not matter. */
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "CANARY_INTERVAL=0\nCANARY_DEADLINE=3600\n", &err),
	                 0);
	config_release(&cfg);
}

static void test_config_canary_phone_is_normalised(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "CANARY_INTERVAL=300\nCANARY_DEADLINE=120\n"
	                                "CANARY_PHONE=+1 555 000 0042\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.canary_interval_s, 300);
	assert_int_equal(cfg.canary_deadline_s, 120);
	assert_string_equal(cfg.canary_phone, "+15550000042");
	config_release(&cfg);
}

static void test_config_meta_provider_without_token_names_meta_whatsapp_token(void **state)
{
	(void)state;
	assert_load_fails("WHATSAPP_PROVIDER=meta\nMETA_PHONE_NUMBER_ID=1234567890\n",
	                  "META_WHATSAPP_TOKEN", NULL);
}

static void test_config_meta_provider_without_phone_id_names_it(void **state)
{
	(void)state;
	assert_load_fails("WHATSAPP_PROVIDER=meta\nMETA_WHATSAPP_TOKEN=EAAB-token\n",
	                  "META_PHONE_NUMBER_ID", NULL);
}

static void test_config_twilio_provider_requires_account_sid(void **state)
{
	(void)state;
	assert_load_fails("WHATSAPP_PROVIDER=twilio\nTWILIO_AUTH_TOKEN=x\n"
	                  "TWILIO_WHATSAPP_NUMBER=+15551234567\n",
	                  "TWILIO_ACCOUNT_SID", NULL);
}

static void test_config_rejects_invalid_twilio_sender(void **state)
{
	(void)state;
	assert_load_fails("TWILIO_WHATSAPP_NUMBER=5551234567\n", "TWILIO_WHATSAPP_NUMBER", NULL);
}

/* ---------------------------------------------------------------- runtime settings */

static void test_config_apply_setting_changes_runtime_schedule(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(config_apply_setting(&cfg, "BUSINESS_HOURS_START", "08:00", &err), 0);
	assert_int_equal(cfg.business_hours_start, 480);
	assert_int_equal(config_apply_setting(&cfg, "MONITORING_INTERVAL", "3600000", &err), 0);
	assert_int_equal(cfg.monitoring_interval_ms, 3600000);
	assert_int_equal(config_apply_setting(&cfg, "THRESHOLD_DEADLOCKS_CRITICAL", "7.5", &err),
	                 0);
	assert_double_near(cfg.thresholds.critical[M_DEADLOCKS], 7.5, 0);
	assert_int_equal(config_apply_setting(&cfg, "THRESHOLD_DEADLOCKS_WARNING", "none", &err),
	                 0);
	assert_nan(cfg.thresholds.warning[M_DEADLOCKS]);
	assert_null(err);
	config_release(&cfg);
}

static void test_config_apply_setting_rejects_non_runtime_variables(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	const char *names[] = {"DATABASE_URL",      "MONITORING_API_TOKEN", "TIMEZONE",
	                       "WHATSAPP_PROVIDER", "ORDERS_TABLE",         "MAX_BODY_BYTES"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		err = NULL;
		assert_int_equal(config_apply_setting(&cfg, names[i], "x", &err), -1);
		assert_contains(err, names[i]);
		assert_contains(err, "run time");
		free(err);
	}
	assert_string_equal(cfg.database_url, "dbname=monitoring");
	assert_string_equal(cfg.timezone, "UTC");
	config_release(&cfg);
}

static void test_config_apply_setting_rejects_unknown_names(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(config_apply_setting(&cfg, "NO_SUCH_SETTING", "1", &err), -1);
	assert_contains(err, "NO_SUCH_SETTING");
	free(err);
	err = NULL;
	/* connections has no direction, so no thresholds. */
	assert_int_equal(config_apply_setting(&cfg, "THRESHOLD_CONNECTIONS_WARNING", "1", &err),
	                 -1);
	free(err);
	config_release(&cfg);
}

static void test_config_apply_setting_rejects_bad_values_naming_the_variable(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(config_apply_setting(&cfg, "BUSINESS_HOURS_END", "8pm", &err), -1);
	assert_contains(err, "BUSINESS_HOURS_END");
	free(err);
	err = NULL;
	assert_int_equal(config_apply_setting(&cfg, "QUERY_MIN_CALLS", "0", &err), -1);
	assert_contains(err, "QUERY_MIN_CALLS");
	free(err);
	err = NULL;
	assert_int_equal(config_apply_setting(&cfg, "THRESHOLD_XID_AGE_WARNING", "lots", &err), -1);
	assert_contains(err, "THRESHOLD_XID_AGE_WARNING");
	free(err);
	assert_int_equal(cfg.business_hours_end, 18 * 60);
	assert_int_equal(cfg.query_min_calls, 100);
	config_release(&cfg);
}

static void test_config_check_rejects_crossed_business_hours(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(config_check(&cfg, &err), 0);
	assert_int_equal(config_apply_setting(&cfg, "BUSINESS_HOURS_START", "18:00", &err), 0);
	assert_int_equal(config_check(&cfg, &err), -1);
	assert_contains(err, "BUSINESS_HOURS");
	free(err);
	config_release(&cfg);
}

static void test_config_in_business_hours_is_start_inclusive_end_exclusive(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_false(config_in_business_hours(&cfg, 9 * 60 - 1));
	assert_true(config_in_business_hours(&cfg, 9 * 60));
	assert_true(config_in_business_hours(&cfg, 18 * 60 - 1));
	assert_false(config_in_business_hours(&cfg, 18 * 60));
	config_release(&cfg);
}

/* ---------------------------------------------------------------- value text and redaction */

static char *value(const struct config *cfg, const char *name, int redact)
{
	char *v = config_value_text(cfg, name, redact);
	assert_non_null(v);
	return v;
}

static void test_config_value_text_redacts_secrets(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "MONITORING_API_TOKEN=0123456789abcdef-secret\n"
	                                "TWILIO_AUTH_TOKEN=twilio-secret\n",
	                                &err),
	                 0);
	char *v = value(&cfg, "MONITORING_API_TOKEN", 1);
	assert_string_equal(v, "(set)");
	free(v);
	v = value(&cfg, "TWILIO_AUTH_TOKEN", 1);
	assert_string_equal(v, "(set)");
	free(v);
	v = value(&cfg, "META_APP_SECRET", 1); /* not set */
	assert_string_equal(v, "");
	free(v);
	v = value(&cfg, "MONITORING_API_TOKEN", 0);
	assert_string_equal(v, "0123456789abcdef-secret");
	free(v);
	config_release(&cfg);
}

static void test_config_value_text_redacts_urls_with_passwords(void **state)
{
	(void)state;
	tu_setenv("DATABASE_URL", "postgresql://monitor:hunter2@db.example/state");
	tu_setenv("MONITORED_DATABASE_URL", "host=shop user=monitor password=hunter3");
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	char *v = value(&cfg, "DATABASE_URL", 1);
	assert_not_contains(v, "hunter2");
	assert_contains(v, "(set");
	free(v);
	v = value(&cfg, "MONITORED_DATABASE_URL", 1);
	assert_not_contains(v, "hunter3");
	free(v);
	v = value(&cfg, "DATABASE_URL", 0);
	assert_string_equal(v, "postgresql://monitor:hunter2@db.example/state");
	free(v);
	config_release(&cfg);
}

static void test_config_value_text_shows_urls_without_credentials(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	char *v = value(&cfg, "DATABASE_URL", 1);
	assert_string_equal(v, "dbname=monitoring");
	free(v);
	v = value(&cfg, "TWILIO_API_URL", 1);
	assert_string_equal(v, "https://api.twilio.com/2010-04-01");
	free(v);
	config_release(&cfg);
}

static void test_config_value_text_formats_each_type(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg,
	                                "BUSINESS_HOURS_START=08:05\n"
	                                "LOG_LEVEL=WARN\n"
	                                "CRITICAL_PHONE_1=+15551234567\n"
	                                "CRITICAL_PHONE_2=+442079460958\n"
	                                "THRESHOLD_DEADLOCKS_WARNING=none\n"
	                                "THRESHOLD_DEADLOCKS_CRITICAL=2.5\n",
	                                &err),
	                 0);
	struct {
		const char *name, *want;
	} cases[] = {
	    {"BUSINESS_HOURS_START", "08:05"},
	    {"BUSINESS_HOURS_END", "18:00"},
	    {"LOG_LEVEL", "warn"},
	    {"CRITICAL_PHONE", "+15551234567,+442079460958"},
	    {"WARNING_PHONE", ""},
	    {"THRESHOLD_DEADLOCKS_WARNING", "none"},
	    {"THRESHOLD_DEADLOCKS_CRITICAL", "2.5"},
	    {"MONITORING_INTERVAL", "21600000"},
	    {"TIMEZONE", "UTC"},
	    {"WHATSAPP_PROVIDER", "sandbox"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *v = value(&cfg, cases[i].name, 1);
		assert_string_equal(v, cases[i].want);
		free(v);
	}
	assert_null(config_value_text(&cfg, "NO_SUCH_VARIABLE", 1));
	config_release(&cfg);
}

/* ---------------------------------------------------------------- copy, names, table */

static void test_config_copy_runtime_copies_only_runtime_settings(void **state)
{
	(void)state;
	struct config base, cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&base, "", &err), 0);
	tu_setenv("ORDERS_MIN_VOLUME", "99");
	tu_setenv("BUSINESS_HOURS_START", "07:00");
	tu_setenv("THRESHOLD_DEADLOCKS_CRITICAL", "50");
	tu_setenv("MAX_BODY_BYTES", "2048");
	tu_setenv("DATABASE_URL", "dbname=other");
	assert_int_equal(load_with_file(&cfg, "", &err), 0);

	config_copy_runtime(&cfg, &base);
	assert_int_equal(cfg.orders_min_volume, 20);
	assert_int_equal(cfg.business_hours_start, 9 * 60);
	assert_double_near(cfg.thresholds.critical[M_DEADLOCKS], 10, 0);
	/* Not runtime: untouched. */
	assert_int_equal(cfg.max_body_bytes, 2048);
	assert_string_equal(cfg.database_url, "dbname=other");
	config_release(&cfg);
	config_release(&base);
}

static void test_threshold_var_name_is_upper_snake_case(void **state)
{
	(void)state;
	char *n = threshold_var_name(M_DEADLOCKS, 0);
	assert_string_equal(n, "THRESHOLD_DEADLOCKS_WARNING");
	free(n);
	n = threshold_var_name(M_CACHE_HIT_RATIO_PCT, 1);
	assert_string_equal(n, "THRESHOLD_CACHE_HIT_RATIO_PCT_CRITICAL");
	free(n);
}

/* ---------------------------------------------------------------- the fallback chain */

static void test_config_fallback_defaults(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	assert_int_equal(load_with_file(&cfg, "", &err), 0);
	assert_int_equal(cfg.critical_chain.n, 3);
	assert_string_equal(cfg.critical_chain.step[1], "sms");
	assert_int_equal(cfg.fallback_after_s, 300);
	assert_int_equal(cfg.fallback_normal_after_s, 3600);
	assert_int_equal(cfg.contacts.n, 0);
	config_release(&cfg);
}

static void test_config_fallback_contacts_pair_with_their_phone(void **state)
{
	(void)state;
	struct config cfg;
	char *err = NULL;
	char out[PHONE_MAX];
	assert_int_equal(load_with_file(&cfg,
	                                "FALLBACK_CHAIN_CRITICAL=whatsapp,email\n"
	                                "FALLBACK_AFTER_SECONDS=5\n"
	                                "CRITICAL_PHONE_1=+15550000001\n"
	                                "CRITICAL_PHONE_3=+15550000003\n"
	                                "CRITICAL_EMAIL_3=ops3@example.com\n"
	                                "CRITICAL_SMS_1=+15559999991\n"
	                                "ESCALATION_PHONE_1=+15550000003\n"
	                                "ESCALATION_SMS_1=none\n",
	                                &err),
	                 0);
	assert_int_equal(cfg.critical_chain.n, 2);
	assert_int_equal(cfg.fallback_after_s, 5);
	assert_null(config_contact_email(&cfg, "+15550000001"));
	assert_string_equal(config_contact_email(&cfg, "+15550000003"), "ops3@example.com");
	assert_int_equal(config_contact_sms(&cfg, "+15550000001", out), 1);
	assert_string_equal(out, "+15559999991");
	/* none: no SMS to that contact (given by another list than the email). */
	assert_int_equal(config_contact_sms(&cfg, "+15550000003", out), 0);
	/* Not in the directory: its WhatsApp number takes SMS too. */
	assert_int_equal(config_contact_sms(&cfg, "+15550000009", out), 1);
	assert_string_equal(out, "+15550000009");
	char *v = config_value_text(&cfg, "CRITICAL_EMAIL", 1);
	assert_string_equal(v, "+15550000003=ops3@example.com");
	free(v);
	/* Each list shows its own contacts' addresses. */
	v = config_value_text(&cfg, "ESCALATION_SMS", 1);
	assert_string_equal(v, "+15550000003=none");
	free(v);
	v = config_value_text(&cfg, "CRITICAL_SMS", 1);
	assert_string_equal(v, "+15550000003=none,+15550000001=+15559999991");
	free(v);
	v = config_value_text(&cfg, "WEEKEND_SMS", 1);
	assert_string_equal(v, "");
	free(v);
	config_release(&cfg);
}

static void test_config_rejects_bad_fallback_settings(void **state)
{
	(void)state;
	assert_load_fails("FALLBACK_CHAIN_CRITICAL=sms,email\n", "FALLBACK_CHAIN_CRITICAL",
	                  "start with whatsapp");
	assert_load_fails("FALLBACK_CHAIN_CRITICAL=whatsapp,pager\n", "FALLBACK_CHAIN_CRITICAL",
	                  NULL);
	assert_load_fails("FALLBACK_AFTER_SECONDS=0\n", "FALLBACK_AFTER_SECONDS", NULL);
	assert_load_fails("FALLBACK_NORMAL_AFTER_SECONDS=x\n", "FALLBACK_NORMAL_AFTER_SECONDS",
	                  NULL);
	/* An email without its contact's number, a bad address, a bad SMS number. */
	assert_load_fails("CRITICAL_EMAIL_2=a@example.com\n", "CRITICAL_EMAIL_2",
	                  "CRITICAL_PHONE_2");
	assert_load_fails("CRITICAL_PHONE_1=+15550000001\nCRITICAL_EMAIL_1=not-an-address\n",
	                  "CRITICAL_EMAIL_1", NULL);
	assert_load_fails("CRITICAL_PHONE_1=+15550000001\nCRITICAL_SMS_1=12\n", "CRITICAL_SMS_1",
	                  NULL);
	assert_load_fails("CRITICAL_PHONE_1=+15550000001\nCRITICAL_EMAIL_11=a@example.com\n",
	                  "CRITICAL_EMAIL_11", "suffix");
	/* One person, two addresses from two lists. */
	assert_load_fails("CRITICAL_PHONE_1=+15550000001\nCRITICAL_EMAIL_1=a@example.com\n"
	                  "ESCALATION_PHONE_1=+15550000001\nESCALATION_EMAIL_1=b@example.com\n",
	                  "ESCALATION_EMAIL_1", "another email");
}

static void test_config_rejects_email_contact_with_newline_from_environment(void **state)
{
	(void)state;
	tu_setenv("CRITICAL_EMAIL_1", "a@example.com\r\nBcc: evil@example.com");
	struct config cfg;
	char *err = NULL;
	int r = load_with_file(&cfg, "CRITICAL_PHONE_1=+15550000001\n", &err);
	unsetenv("CRITICAL_EMAIL_1");
	assert_int_equal(r, -1);
	assert_contains(err, "CRITICAL_EMAIL_1");
	/* The refused value is not repeated. */
	assert_null(strstr(err, "evil"));
	free(err);
	config_release(&cfg);
}

static void test_config_var_table_is_complete(void **state)
{
	(void)state;
	size_t i = 0;
	for (; config_var_at(i); i++) {
		const struct cfg_var *v = config_var_at(i);
		assert_non_null(v->name);
		assert_true(*v->name);
		assert_non_null(v->help);
		assert_true(*v->help);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(config_var_at(j)->name, v->name);
		/* Secrets are never runtime settings. */
		if (v->type == CFG_SECRET)
			assert_false(v->runtime);
	}
	assert_int_equal(i, config_var_count);
	assert_null(config_var_at(config_var_count));
}

static void test_phone_list_add_keeps_one_of_each_and_stops_when_full(void **state)
{
	(void)state;
	struct phone_list l = {0};
	assert_int_equal(phone_list_add(&l, "+15550000001"), 1);
	assert_int_equal(phone_list_add(&l, "+15550000001"), 0);
	assert_true(phone_list_has(&l, "+15550000001"));
	assert_false(phone_list_has(&l, "+15550000002"));
	char num[PHONE_MAX + 16];
	for (int i = 2; i <= PHONE_LIST_MAX + 3; i++) {
		snprintf(num, sizeof(num), "+155500000%02d", i % 100);
		phone_list_add(&l, num);
	}
	assert_int_equal(l.n, PHONE_LIST_MAX);
	assert_false(phone_list_has(&l, "+15550000013"));
}

/* ---------------------------------------------------------------- the env file's mode */

/* config_init + config_load with text as the env file, created with the given mode. */
static void load_with_mode(const char *text, mode_t mode, struct config *cfg)
{
	char *path = tu_write_temp_file(text), *err = NULL;
	assert_int_equal(chmod(path, mode), 0);
	tu_setenv("MONITORING_ENV_FILE", path);
	config_init(cfg);
	int r = config_load(cfg, &err);
	if (r != 0)
		print_error("config_load: %s\n", err ? err : "?");
	free(err);
	tu_remove_temp_file(path);
	assert_int_equal(r, 0);
}

static void test_config_env_file_readable_by_others_with_secrets_is_exposed(void **state)
{
	(void)state;
	struct config cfg;
	load_with_mode("MONITORING_API_TOKEN=0123456789abcdef0123\n", 0644, &cfg);
	assert_int_equal(cfg.env_file_mode, 0644);
	assert_int_equal(cfg.env_file_secrets, 1);
	assert_true(config_env_file_exposed(&cfg));
	config_release(&cfg);
	/* Group bits count too (mode & 077). */
	load_with_mode("META_APP_SECRET=s3cr3t-s3cr3t\nWEBHOOK_VERIFY_TOKEN=v\n", 0640, &cfg);
	assert_int_equal(cfg.env_file_secrets, 2);
	assert_true(config_env_file_exposed(&cfg));
	config_release(&cfg);
	/* A database password is a secret too, in either spelling. */
	load_with_mode("DATABASE_URL=host=/run dbname=m user=u password=pw\n", 0604, &cfg);
	assert_true(config_env_file_exposed(&cfg));
	config_release(&cfg);
	load_with_mode("MONITORED_DATABASE_URL=postgresql://u:pw@db/shop\n", 0604, &cfg);
	assert_true(config_env_file_exposed(&cfg));
	config_release(&cfg);
}

static void test_config_env_file_private_or_without_secrets_is_not_exposed(void **state)
{
	(void)state;
	struct config cfg;
	load_with_mode("MONITORING_API_TOKEN=0123456789abcdef0123\n", 0600, &cfg);
	assert_int_equal(cfg.env_file_mode, 0600);
	assert_false(config_env_file_exposed(&cfg));
	assert_int_equal(config_warn_env_file(&cfg), 0);
	config_release(&cfg);
	load_with_mode("MONITORING_API_TOKEN=0123456789abcdef0123\n", 0400, &cfg);
	assert_false(config_env_file_exposed(&cfg));
	config_release(&cfg);
	/* Readable by all, but nothing secret in it (empty secrets are not secrets). */
	load_with_mode("TIMEZONE=UTC\nMETA_APP_SECRET=\nDATABASE_URL=postgresql://u@db/m\n", 0644,
	               &cfg);
	assert_int_equal(cfg.env_file_secrets, 0);
	assert_false(config_env_file_exposed(&cfg));
	config_release(&cfg);
	/* No env file read at all. */
	unsetenv("MONITORING_ENV_FILE");
	config_init(&cfg);
	char *err = NULL;
	assert_int_equal(config_load(&cfg, &err), 0);
	assert_int_equal(cfg.env_file_mode, -1);
	assert_false(config_env_file_exposed(&cfg));
	config_release(&cfg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_config_load_uses_defaults_with_empty_env_file),
	    T(test_config_env_file_readable_by_others_with_secrets_is_exposed),
	    T(test_config_env_file_private_or_without_secrets_is_not_exposed),
	    T(test_config_load_without_env_file_uses_defaults),
	    T(test_config_load_reads_default_env_file_in_cwd),
	    T(test_config_env_file_overrides_defaults),
	    T(test_config_environment_overrides_env_file),
	    T(test_config_empty_value_falls_back_to_default),
	    T(test_config_explicit_missing_env_file_is_an_error),
	    T(test_config_unknown_variable_in_env_file_is_ignored),
	    T(test_config_env_file_syntax_error_names_the_line),
	    T(test_config_monitored_database_url_defaults_to_database_url),
	    T(test_config_monitored_database_url_can_differ),
	    T(test_config_pooling_defaults_to_session_for_both_databases),
	    T(test_config_pooling_transaction_is_read_per_database),
	    T(test_config_pooling_rejects_other_modes_naming_the_variable),
	    T(test_config_phone_lists_are_normalised_and_deduplicated),
	    T(test_phone_list_add_keeps_one_of_each_and_stops_when_full),
	    T(test_config_phone_with_zero_padded_suffix_is_refused),
	    T(test_config_valid_meta_provider_loads),
	    T(test_config_threshold_none_disables_a_level),
	    T(test_config_rejects_non_integer_interval),
	    T(test_config_rejects_interval_out_of_range),
	    T(test_config_events_retention_days),
	    T(test_config_seller_templates_off_or_on),
	    T(test_config_rejects_bad_value_from_environment),
	    T(test_config_platform_key_is_long_and_not_the_operator_token),
	    T(test_config_tenant_keys_are_long_and_distinct),
	    T(test_config_events_secret_is_a_whsec_key),
	    T(test_config_rejects_unknown_timezone),
	    T(test_config_rejects_timezone_path_tricks),
	    T(test_config_command_max_age_bounds),
	    T(test_config_rejects_business_hours_start_25_00),
	    T(test_config_rejects_business_hours_end_before_start),
	    T(test_config_rejects_critical_phone_without_country_code),
	    T(test_config_rejects_phone_suffix_outside_1_to_10),
	    T(test_config_rejects_unknown_provider),
	    T(test_config_rejects_orders_table_that_is_not_an_identifier),
	    T(test_config_rejects_non_numeric_threshold),
	    T(test_config_rejects_warning_above_critical_when_higher_is_worse),
	    T(test_config_rejects_warning_below_critical_when_lower_is_worse),
	    T(test_config_rejects_unknown_log_level),
	    T(test_config_smtp_settings_load),
	    T(test_config_sms_settings_load),
	    T(test_config_rejects_bad_sms_settings),
	    T(test_config_rejects_bad_smtp_settings),
	    T(test_config_rejects_smtp_from_with_cr_lf_from_the_environment),
	    T(test_config_rejects_non_http_graph_url),
	    T(test_config_rejects_short_api_token_without_echoing_it),
	    T(test_config_alertmanager_token_is_its_own),
	    T(test_config_canary_is_off_by_default),
	    T(test_config_canary_settings_are_checked_naming_the_variable),
	    T(test_config_canary_phone_is_normalised),
	    T(test_config_meta_provider_without_token_names_meta_whatsapp_token),
	    T(test_config_meta_provider_without_phone_id_names_it),
	    T(test_config_twilio_provider_requires_account_sid),
	    T(test_config_rejects_invalid_twilio_sender),
	    T(test_config_apply_setting_changes_runtime_schedule),
	    T(test_config_apply_setting_rejects_non_runtime_variables),
	    T(test_config_apply_setting_rejects_unknown_names),
	    T(test_config_apply_setting_rejects_bad_values_naming_the_variable),
	    T(test_config_check_rejects_crossed_business_hours),
	    T(test_config_in_business_hours_is_start_inclusive_end_exclusive),
	    T(test_config_value_text_redacts_secrets),
	    T(test_config_value_text_redacts_urls_with_passwords),
	    T(test_config_value_text_shows_urls_without_credentials),
	    T(test_config_value_text_formats_each_type),
	    T(test_config_copy_runtime_copies_only_runtime_settings),
	    T(test_threshold_var_name_is_upper_snake_case),
	    T(test_config_var_table_is_complete),
	    T(test_config_fallback_defaults),
	    T(test_config_fallback_contacts_pair_with_their_phone),
	    T(test_config_rejects_bad_fallback_settings),
	    T(test_config_rejects_email_contact_with_newline_from_environment),
	};
	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
