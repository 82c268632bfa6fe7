/* Unit tests of common/core/metrics.c: the catalogue and threshold evaluation. */
#include "testutil.h"

#include "core/metrics.h"

/* Thresholds with the given warning/critical for metric m, defaults elsewhere. */
static struct thresholds with(enum metric_id m, double warning, double critical)
{
	struct thresholds t;
	thresholds_defaults(&t);
	t.warning[m] = warning;
	t.critical[m] = critical;
	return t;
}

/* ---------------------------------------------------------------- higher is worse */

static void test_evaluate_higher_is_worse_below_warning_is_ok(void **state)
{
	(void)state;
	struct thresholds t = with(M_DEADLOCKS, 1, 10);
	assert_int_equal(metric_evaluate(&t, M_DEADLOCKS, 0), V_OK);
	assert_int_equal(metric_evaluate(&t, M_DEADLOCKS, 0.999), V_OK);
}

static void test_evaluate_higher_is_worse_at_warning_is_warning(void **state)
{
	(void)state;
	struct thresholds t = with(M_CONNECTIONS_USED_PCT, 80, 95);
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS_USED_PCT, 80), V_WARNING);
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS_USED_PCT, 94.9), V_WARNING);
}

static void test_evaluate_higher_is_worse_at_and_above_critical_is_critical(void **state)
{
	(void)state;
	struct thresholds t = with(M_CONNECTIONS_USED_PCT, 80, 95);
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS_USED_PCT, 95), V_CRITICAL);
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS_USED_PCT, 100), V_CRITICAL);
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS_USED_PCT, 1e12), V_CRITICAL);
}

/* ---------------------------------------------------------------- lower is worse */

static void test_evaluate_lower_is_worse_at_or_above_warning_is_ok(void **state)
{
	(void)state;
	struct thresholds t = with(M_CACHE_HIT_RATIO_PCT, 95, 90);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 95), V_OK);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 100), V_OK);
}

static void test_evaluate_lower_is_worse_below_warning_is_warning(void **state)
{
	(void)state;
	struct thresholds t = with(M_CACHE_HIT_RATIO_PCT, 95, 90);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 94.99), V_WARNING);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 90), V_WARNING);
}

static void test_evaluate_lower_is_worse_below_critical_is_critical(void **state)
{
	(void)state;
	struct thresholds t = with(M_CACHE_HIT_RATIO_PCT, 95, 90);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 89.99), V_CRITICAL);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 0), V_CRITICAL);
}

static void test_evaluate_database_down_is_critical_by_default(void **state)
{
	(void)state;
	struct thresholds t;
	thresholds_defaults(&t);
	assert_int_equal(metric_evaluate(&t, M_DATABASE_UP, 0), V_CRITICAL);
	assert_int_equal(metric_evaluate(&t, M_DATABASE_UP, 1), V_OK);
	assert_int_equal(metric_evaluate(&t, M_READ_ONLY, 1), V_CRITICAL);
	assert_int_equal(metric_evaluate(&t, M_READ_ONLY, 0), V_OK);
}

/* ---------------------------------------------------------------- NAN disables a level */

static void test_evaluate_nan_warning_goes_straight_to_critical(void **state)
{
	(void)state;
	struct thresholds t = with(M_BLOCKED_SESSIONS, NAN, 6);
	assert_int_equal(metric_evaluate(&t, M_BLOCKED_SESSIONS, 5), V_OK);
	assert_int_equal(metric_evaluate(&t, M_BLOCKED_SESSIONS, 6), V_CRITICAL);
	t = with(M_CACHE_HIT_RATIO_PCT, NAN, 90);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 91), V_OK);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 89), V_CRITICAL);
}

static void test_evaluate_nan_critical_caps_at_warning(void **state)
{
	(void)state;
	struct thresholds t = with(M_DEADLOCKS, 1, NAN);
	assert_int_equal(metric_evaluate(&t, M_DEADLOCKS, 1e9), V_WARNING);
	t = with(M_CACHE_HIT_RATIO_PCT, 95, NAN);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, 0), V_WARNING);
}

static void test_evaluate_both_nan_is_always_ok(void **state)
{
	(void)state;
	struct thresholds t = with(M_DEADLOCKS, NAN, NAN);
	assert_int_equal(metric_evaluate(&t, M_DEADLOCKS, 1e9), V_OK);
	t = with(M_CACHE_HIT_RATIO_PCT, NAN, NAN);
	assert_int_equal(metric_evaluate(&t, M_CACHE_HIT_RATIO_PCT, -1), V_OK);
}

static void test_evaluate_metric_without_direction_is_ok(void **state)
{
	(void)state;
	struct thresholds t = with(M_CONNECTIONS, 1, 2); /* ignored: no direction */
	assert_int_equal(metric_evaluate(&t, M_CONNECTIONS, 1000), V_OK);
	assert_false(metric_has_thresholds(M_CONNECTIONS));
	assert_true(metric_has_thresholds(M_DEADLOCKS));
}

/* ---------------------------------------------------------------- thresholds_check_pair */

static void test_check_pair_accepts_consistent_and_equal_thresholds(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(thresholds_check_pair(M_DEADLOCKS, 1, 10, &err), 0);
	assert_int_equal(thresholds_check_pair(M_DEADLOCKS, 5, 5, &err), 0);
	assert_int_equal(thresholds_check_pair(M_CACHE_HIT_RATIO_PCT, 95, 90, &err), 0);
	assert_int_equal(thresholds_check_pair(M_CACHE_HIT_RATIO_PCT, 90, 90, &err), 0);
	assert_null(err);
}

static void test_check_pair_rejects_warning_above_critical_when_higher_is_worse(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(thresholds_check_pair(M_DEADLOCKS, 11, 10, &err), -1);
	assert_contains(err, "above critical");
}

static void test_check_pair_rejects_warning_below_critical_when_lower_is_worse(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(thresholds_check_pair(M_CACHE_HIT_RATIO_PCT, 80, 90, &err), -1);
	assert_contains(err, "below critical");
}

static void test_check_pair_allows_nan_on_either_side(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(thresholds_check_pair(M_DEADLOCKS, NAN, 10, &err), 0);
	assert_int_equal(thresholds_check_pair(M_DEADLOCKS, 100, NAN, &err), 0);
	assert_int_equal(thresholds_check_pair(M_CACHE_HIT_RATIO_PCT, NAN, NAN, &err), 0);
}

static void test_check_pair_rejects_metric_without_direction(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(thresholds_check_pair(M_CONNECTIONS, 1, 2, &err), -1);
	assert_non_null(err);
}

static void test_default_thresholds_are_consistent(void **state)
{
	(void)state;
	for (int m = 0; m < M_COUNT; m++) {
		if (!metric_has_thresholds((enum metric_id)m))
			continue;
		const char *err = NULL;
		if (thresholds_check_pair((enum metric_id)m, metric_defs[m].warning,
		                          metric_defs[m].critical, &err) != 0) {
			print_error("%s: %s\n", metric_defs[m].name, err);
			fail();
		}
	}
}

/* ---------------------------------------------------------------- catalogue */

static void test_metric_by_name_finds_every_metric(void **state)
{
	(void)state;
	for (int m = 0; m < M_COUNT; m++)
		assert_int_equal(metric_by_name(metric_defs[m].name), m);
	assert_int_equal(metric_by_name("deadlocks"), M_DEADLOCKS);
}

static void test_metric_by_name_rejects_unknown_and_case_variants(void **state)
{
	(void)state;
	assert_int_equal(metric_by_name("no_such_metric"), -1);
	assert_int_equal(metric_by_name(""), -1);
	assert_int_equal(metric_by_name("Deadlocks"), -1);
	assert_int_equal(metric_by_name("deadlock"), -1);
}

static void test_every_metric_def_has_name_unit_and_help(void **state)
{
	(void)state;
	for (int m = 0; m < M_COUNT; m++) {
		const struct metric_def *d = &metric_defs[m];
		if (!d->name || !*d->name || !d->unit || !*d->unit || !d->help || !*d->help) {
			print_error("metric %d lacks a name, unit or help\n", m);
			fail();
		}
		/* snake_case: lower case letters, digits, underscores. */
		for (const char *p = d->name; *p; p++)
			assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789_", *p));
		for (int j = 0; j < m; j++)
			assert_string_not_equal(metric_defs[j].name, d->name);
	}
}

static void test_thresholds_defaults_copy_the_catalogue(void **state)
{
	(void)state;
	struct thresholds t;
	memset(&t, 0, sizeof(t));
	thresholds_defaults(&t);
	for (int m = 0; m < M_COUNT; m++) {
		if (isnan(metric_defs[m].warning))
			assert_nan(t.warning[m]);
		else
			assert_double_near(t.warning[m], metric_defs[m].warning, 0);
		if (isnan(metric_defs[m].critical))
			assert_nan(t.critical[m]);
		else
			assert_double_near(t.critical[m], metric_defs[m].critical, 0);
	}
}

static void test_verdict_name_covers_every_verdict(void **state)
{
	(void)state;
	assert_string_equal(verdict_name(V_OK), "ok");
	assert_string_equal(verdict_name(V_WARNING), "warning");
	assert_string_equal(verdict_name(V_CRITICAL), "critical");
	assert_string_equal(verdict_name(V_UNAVAILABLE), "unavailable");
	assert_string_equal(verdict_name(V_SKIPPED), "skipped");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_evaluate_higher_is_worse_below_warning_is_ok),
	    cmocka_unit_test(test_evaluate_higher_is_worse_at_warning_is_warning),
	    cmocka_unit_test(test_evaluate_higher_is_worse_at_and_above_critical_is_critical),
	    cmocka_unit_test(test_evaluate_lower_is_worse_at_or_above_warning_is_ok),
	    cmocka_unit_test(test_evaluate_lower_is_worse_below_warning_is_warning),
	    cmocka_unit_test(test_evaluate_lower_is_worse_below_critical_is_critical),
	    cmocka_unit_test(test_evaluate_database_down_is_critical_by_default),
	    cmocka_unit_test(test_evaluate_nan_warning_goes_straight_to_critical),
	    cmocka_unit_test(test_evaluate_nan_critical_caps_at_warning),
	    cmocka_unit_test(test_evaluate_both_nan_is_always_ok),
	    cmocka_unit_test(test_evaluate_metric_without_direction_is_ok),
	    cmocka_unit_test(test_check_pair_accepts_consistent_and_equal_thresholds),
	    cmocka_unit_test(test_check_pair_rejects_warning_above_critical_when_higher_is_worse),
	    cmocka_unit_test(test_check_pair_rejects_warning_below_critical_when_lower_is_worse),
	    cmocka_unit_test(test_check_pair_allows_nan_on_either_side),
	    cmocka_unit_test(test_check_pair_rejects_metric_without_direction),
	    cmocka_unit_test(test_default_thresholds_are_consistent),
	    cmocka_unit_test(test_metric_by_name_finds_every_metric),
	    cmocka_unit_test(test_metric_by_name_rejects_unknown_and_case_variants),
	    cmocka_unit_test(test_every_metric_def_has_name_unit_and_help),
	    cmocka_unit_test(test_thresholds_defaults_copy_the_catalogue),
	    cmocka_unit_test(test_verdict_name_covers_every_verdict),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
