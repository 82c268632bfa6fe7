/*
 * Unit tests of common/monitor/configure.c: validation of POST /monitoring/configure
 * bodies (configure_parse) and the JSON view of the configuration
 * (config_to_json).
 *
 * Each test starts from a configuration loaded from defaults only: the
 * config variables are cleared from the environment and the group runs in an
 * empty temporary directory (no .env.monitoring).
 */
#include "testutil.h"

#include "core/config.h"
#include "monitor/configure.h"
#include "core/jsonutil.h"
#include "core/metrics.h"

static struct config cfg;

static int group_setup(void **state)
{
	(void)state;
	return tu_enter_tmpdir("configure");
}

static int group_teardown(void **state)
{
	(void)state;
	return tu_leave_tmpdir();
}

/* Load cfg from the current environment (defaults when it is clean). */
static int load_cfg(void)
{
	char *err = NULL;
	config_init(&cfg);
	if (config_load(&cfg, &err) < 0) {
		print_error("config_load: %s\n", err ? err : "?");
		free(err);
		config_release(&cfg);
		return -1;
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	tu_clear_config_env();
	return load_cfg();
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	tu_clear_config_env();
	return 0;
}

struct result {
	int rc;
	struct setting_changes changes;
	char *field, *err;
};

/* Run configure_parse on JSON text against cfg. */
static struct result run(const char *json)
{
	struct result r;
	memset(&r, 0, sizeof(r));
	struct json_object *body = NULL;
	char *perr = NULL;
	if (json_parse_object(json, strlen(json), &body, &perr) < 0) {
		print_error("test body does not parse: %s: %s\n", perr, json);
		fail();
	}
	r.rc = configure_parse(&cfg, body, &r.changes, &r.field, &r.err);
	json_object_put(body);
	return r;
}

static void result_release(struct result *r)
{
	setting_changes_release(&r->changes);
	free(r->field);
	free(r->err);
}

/* Assert the request is rejected on field, with no changes left behind. */
static void assert_rejected_at(const char *json, const char *field)
{
	struct result r = run(json);
	if (r.rc == 0) {
		print_error("accepted: %s\n", json);
		result_release(&r);
		fail();
	}
	assert_int_equal(r.rc, -1);
	assert_non_null(r.err);
	assert_true(*r.err);
	assert_non_null(r.field);
	assert_string_equal(r.field, field);
	assert_int_equal(r.changes.n, 0);
	assert_null(r.changes.v);
	result_release(&r);
}

/* Assert change i of r is key=value. */
static void assert_change(const struct result *r, size_t i, const char *key, const char *value)
{
	assert_true(i < r->changes.n);
	assert_string_equal(r->changes.v[i].key, key);
	assert_string_equal(r->changes.v[i].value, value);
}

/* ---------------------------------------------------------------- thresholds */

static void test_configure_threshold_change_produces_setting_change(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"deadlocks\": {\"warning\": 3}}}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.changes.n, 1);
	assert_change(&r, 0, "THRESHOLD_DEADLOCKS_WARNING", "3");
	assert_double_near(cfg.thresholds.warning[M_DEADLOCKS], 3, 0);
	result_release(&r);
}

static void test_configure_fractional_threshold_keeps_precision(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"cache_hit_ratio_pct\": {\"critical\": 89.5}}}");
	assert_int_equal(r.rc, 0);
	assert_change(&r, 0, "THRESHOLD_CACHE_HIT_RATIO_PCT_CRITICAL", "89.5");
	result_release(&r);
}

static void test_configure_null_clears_a_threshold(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"deadlocks\": {\"warning\": null}}}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.changes.n, 1);
	assert_change(&r, 0, "THRESHOLD_DEADLOCKS_WARNING", "none");
	assert_nan(cfg.thresholds.warning[M_DEADLOCKS]);
	result_release(&r);
}

static void test_configure_pair_valid_only_after_both_levels_is_accepted(void **state)
{
	(void)state;
	/* warning 20 alone would be above the current critical (10). */
	struct result r =
	    run("{\"thresholds\": {\"deadlocks\": {\"warning\": 20, \"critical\": 30}}}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.changes.n, 2);
	assert_change(&r, 0, "THRESHOLD_DEADLOCKS_WARNING", "20");
	assert_change(&r, 1, "THRESHOLD_DEADLOCKS_CRITICAL", "30");
	result_release(&r);
}

static void test_configure_rejects_warning_above_critical_after_applying_both(void **state)
{
	(void)state;
	struct result r =
	    run("{\"thresholds\": {\"deadlocks\": {\"warning\": 5, \"critical\": 3}}}");
	assert_int_equal(r.rc, -1);
	assert_non_null(r.field);
	assert_contains(r.field, "thresholds");
	assert_contains(r.err, "THRESHOLD_DEADLOCKS_WARNING");
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
}

static void test_configure_rejects_warning_below_critical_for_lower_is_worse(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"cache_hit_ratio_pct\": {\"warning\": 50}}}");
	assert_int_equal(r.rc, -1);
	assert_contains(r.err, "THRESHOLD_CACHE_HIT_RATIO_PCT_WARNING");
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
}

static void test_configure_rejects_unknown_metric(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"no_such_metric\": {\"warning\": 1}}}",
	                   "thresholds.no_such_metric");
}

static void test_configure_rejects_metric_without_thresholds(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"connections\": {\"warning\": 1}}}",
	                   "thresholds.connections");
}

static void test_configure_rejects_unknown_level(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"deadlocks\": {\"severe\": 1}}}",
	                   "thresholds.deadlocks.severe");
}

static void test_configure_rejects_string_where_number_expected(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"deadlocks\": {\"warning\": \"3\"}}}");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.field, "thresholds.deadlocks.warning");
	assert_contains(r.err, "string");
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
}

static void test_configure_rejects_boolean_threshold(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"deadlocks\": {\"critical\": true}}}",
	                   "thresholds.deadlocks.critical");
}

static void test_configure_rejects_out_of_range_threshold(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"xid_age\": {\"critical\": 1e300}}}",
	                   "thresholds.xid_age.critical");
}

static void test_configure_rejects_levels_that_are_not_an_object(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"deadlocks\": 3}}", "thresholds.deadlocks");
}

static void test_configure_rejects_thresholds_that_are_not_an_object(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": [1, 2]}", "thresholds");
}

/* ---------------------------------------------------------------- top level */

static void test_configure_rejects_unknown_top_level_key(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"deadlocks\": {\"warning\": 2}}, \"foo\": 1}",
	                   "foo");
}

static void test_configure_rejects_empty_request(void **state)
{
	(void)state;
	struct result r = run("{}");
	assert_int_equal(r.rc, -1);
	assert_contains(r.err, "nothing to change");
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
	r = run("{\"thresholds\": {}}");
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
}

static void test_configure_one_bad_field_rejects_the_whole_request(void **state)
{
	(void)state;
	assert_rejected_at("{\"thresholds\": {\"deadlocks\": {\"warning\": 2}},"
	                   " \"settings\": {\"business_hours_start\": \"8am\"}}",
	                   "settings.business_hours_start");
}

/* ---------------------------------------------------------------- settings */

static void test_configure_setting_business_hours_start_accepts_hhmm(void **state)
{
	(void)state;
	struct result r = run("{\"settings\": {\"business_hours_start\": \"08:00\"}}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.changes.n, 1);
	assert_change(&r, 0, "BUSINESS_HOURS_START", "08:00");
	assert_int_equal(cfg.business_hours_start, 480);
	result_release(&r);
}

static void test_configure_setting_business_hours_start_rejects_8am(void **state)
{
	(void)state;
	struct result r = run("{\"settings\": {\"business_hours_start\": \"8am\"}}");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.field, "settings.business_hours_start");
	assert_contains(r.err, "BUSINESS_HOURS_START");
	assert_int_equal(r.changes.n, 0);
	result_release(&r);
}

static void test_configure_setting_integer_is_accepted(void **state)
{
	(void)state;
	struct result r =
	    run("{\"settings\": {\"monitoring_interval\": 3600000, \"query_min_calls\": 50}}");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.changes.n, 2);
	assert_change(&r, 0, "MONITORING_INTERVAL", "3600000");
	assert_change(&r, 1, "QUERY_MIN_CALLS", "50");
	assert_int_equal(cfg.monitoring_interval_ms, 3600000);
	result_release(&r);
}

static void test_configure_setting_integer_out_of_range_is_rejected(void **state)
{
	(void)state;
	assert_rejected_at("{\"settings\": {\"monitoring_interval\": 5}}",
	                   "settings.monitoring_interval");
}

static void test_configure_setting_with_wrong_type_is_rejected(void **state)
{
	(void)state;
	assert_rejected_at("{\"settings\": {\"monitoring_interval\": \"3600000\"}}",
	                   "settings.monitoring_interval");
	assert_rejected_at("{\"settings\": {\"monitoring_interval\": 3600000.5}}",
	                   "settings.monitoring_interval");
	assert_rejected_at("{\"settings\": {\"business_hours_end\": 1800}}",
	                   "settings.business_hours_end");
}

static void test_configure_settings_that_are_not_an_object_are_rejected(void **state)
{
	(void)state;
	assert_rejected_at("{\"settings\": [\"business_hours_start\"]}", "settings");
	assert_rejected_at("{\"settings\": \"x\"}", "settings");
}

static void test_configure_read_only_setting_is_rejected(void **state)
{
	(void)state;
	assert_rejected_at("{\"settings\": {\"database_url\": \"dbname=evil\"}}",
	                   "settings.database_url");
	assert_rejected_at("{\"settings\": {\"monitoring_api_token\": \"x\"}}",
	                   "settings.monitoring_api_token");
	assert_rejected_at("{\"settings\": {\"timezone\": \"UTC\"}}", "settings.timezone");
	assert_string_equal(cfg.database_url, "dbname=monitoring");
}

static void test_configure_unknown_or_upper_case_setting_is_rejected(void **state)
{
	(void)state;
	assert_rejected_at("{\"settings\": {\"no_such_setting\": 1}}", "settings.no_such_setting");
	assert_rejected_at("{\"settings\": {\"BUSINESS_HOURS_START\": \"08:00\"}}",
	                   "settings.BUSINESS_HOURS_START");
}

static void test_configure_crossed_business_hours_names_settings_field(void **state)
{
	(void)state;
	/* 19:00 is after the default end (18:00): the offending field is a setting. */
	struct result r = run("{\"settings\": {\"business_hours_start\": \"19:00\"}}");
	assert_int_equal(r.rc, -1);
	assert_contains(r.err, "BUSINESS_HOURS");
	assert_int_equal(r.changes.n, 0);
	assert_non_null(r.field);
	if (strncmp(r.field, "settings", 8) != 0) {
		print_error("field is \"%s\", expected settings(.business_hours_start)\n", r.field);
		result_release(&r);
		fail();
	}
	result_release(&r);
}

/* ---------------------------------------------------------------- config_to_json */

static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		print_error("no key \"%s\" in %s\n", key, json_text(o));
		fail();
	}
	return v;
}

static void test_config_to_json_redacts_secrets(void **state)
{
	(void)state;
	config_release(&cfg);
	tu_setenv("MONITORING_API_TOKEN", "tok-0123456789abcdef-SECRET");
	tu_setenv("DATABASE_URL", "postgresql://monitor:pw-SECRET2@db.example/state");
	tu_setenv("TWILIO_AUTH_TOKEN", "twilio-SECRET3");
	assert_int_equal(load_cfg(), 0);
	struct json_object *o = config_to_json(&cfg);
	const char *s = json_text(o);
	assert_not_contains(s, "tok-0123456789abcdef-SECRET");
	assert_not_contains(s, "pw-SECRET2");
	assert_not_contains(s, "twilio-SECRET3");
	struct json_object *all = get(o, "configuration");
	assert_string_equal(json_object_get_string(get(all, "MONITORING_API_TOKEN")), "(set)");
	assert_string_equal(json_object_get_string(get(all, "TWILIO_AUTH_TOKEN")), "(set)");
	assert_string_equal(json_object_get_string(get(all, "META_WHATSAPP_TOKEN")), "");
	json_object_put(o);
}

static void test_config_to_json_lists_thresholds_with_direction_and_unit(void **state)
{
	(void)state;
	struct result r = run("{\"thresholds\": {\"deadlocks\": {\"warning\": null}}}");
	assert_int_equal(r.rc, 0);
	result_release(&r);
	struct json_object *o = config_to_json(&cfg);
	struct json_object *th = get(o, "thresholds");
	struct json_object *d = get(th, "deadlocks");
	assert_true(json_object_is_type(get(d, "warning"), json_type_null));
	assert_double_near(json_object_get_double(get(d, "critical")), 10, 0);
	assert_string_equal(json_object_get_string(get(d, "direction")), "above");
	assert_string_equal(json_object_get_string(get(d, "unit")), "count");
	struct json_object *c = get(th, "cache_hit_ratio_pct");
	assert_string_equal(json_object_get_string(get(c, "direction")), "below");
	assert_double_near(json_object_get_double(get(c, "warning")), 95, 0);
	/* Metrics without a direction have no thresholds entry. */
	struct json_object *none = NULL;
	assert_false(json_object_object_get_ex(th, "connections", &none));
	json_object_put(o);
}

static void test_config_to_json_settings_hold_runtime_values_only(void **state)
{
	(void)state;
	struct json_object *o = config_to_json(&cfg);
	struct json_object *st = get(o, "settings");
	assert_string_equal(json_object_get_string(get(st, "business_hours_start")), "09:00");
	assert_string_equal(json_object_get_string(get(st, "monitoring_interval")), "21600000");
	assert_string_equal(json_object_get_string(get(st, "timezone")), "UTC");
	struct json_object *v = NULL;
	assert_false(json_object_object_get_ex(st, "database_url", &v));
	assert_false(json_object_object_get_ex(st, "monitoring_api_token", &v));
	json_object_put(o);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_configure_threshold_change_produces_setting_change),
	    T(test_configure_fractional_threshold_keeps_precision),
	    T(test_configure_null_clears_a_threshold),
	    T(test_configure_pair_valid_only_after_both_levels_is_accepted),
	    T(test_configure_rejects_warning_above_critical_after_applying_both),
	    T(test_configure_rejects_warning_below_critical_for_lower_is_worse),
	    T(test_configure_rejects_unknown_metric),
	    T(test_configure_rejects_metric_without_thresholds),
	    T(test_configure_rejects_unknown_level),
	    T(test_configure_rejects_string_where_number_expected),
	    T(test_configure_rejects_boolean_threshold),
	    T(test_configure_rejects_out_of_range_threshold),
	    T(test_configure_rejects_levels_that_are_not_an_object),
	    T(test_configure_rejects_thresholds_that_are_not_an_object),
	    T(test_configure_rejects_unknown_top_level_key),
	    T(test_configure_rejects_empty_request),
	    T(test_configure_one_bad_field_rejects_the_whole_request),
	    T(test_configure_setting_business_hours_start_accepts_hhmm),
	    T(test_configure_setting_business_hours_start_rejects_8am),
	    T(test_configure_setting_integer_is_accepted),
	    T(test_configure_setting_integer_out_of_range_is_rejected),
	    T(test_configure_setting_with_wrong_type_is_rejected),
	    T(test_configure_settings_that_are_not_an_object_are_rejected),
	    T(test_configure_read_only_setting_is_rejected),
	    T(test_configure_unknown_or_upper_case_setting_is_rejected),
	    T(test_configure_crossed_business_hours_names_settings_field),
	    T(test_config_to_json_redacts_secrets),
	    T(test_config_to_json_lists_thresholds_with_direction_and_unit),
	    T(test_config_to_json_settings_hold_runtime_values_only),
	};
	return cmocka_run_group_tests_name("configure", tests, group_setup, group_teardown);
}
