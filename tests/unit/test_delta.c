/* Unit tests of common/monitor/delta.c: counter deltas, statement deltas, slope. */
#include "testutil.h"

#include "monitor/collect.h"
#include "monitor/delta.h"

static struct counters counters(long long commit, long long rollback, long long rd, long long hit,
                                long long deadlocks)
{
	struct counters c;
	memset(&c, 0, sizeof(c));
	c.present = 1;
	c.postmaster_start = 1700000000;
	snprintf(c.stats_reset, sizeof(c.stats_reset), "%s", "2026-11-01 00:00:00+00");
	c.xact_commit = commit;
	c.xact_rollback = rollback;
	c.blks_read = rd;
	c.blks_hit = hit;
	c.deadlocks = deadlocks;
	return c;
}

/* ---------------------------------------------------------------- counters_delta */

static void test_counters_delta_gives_exact_differences(void **state)
{
	(void)state;
	struct counters prev = counters(1000, 10, 500, 9500, 2);
	struct counters cur = counters(1600, 25, 700, 19500, 5);
	struct delta d;
	counters_delta(&prev, &cur, &d);
	assert_true(d.valid);
	assert_int_equal(d.commit, 600);
	assert_int_equal(d.rollback, 15);
	assert_int_equal(d.blks_read, 200);
	assert_int_equal(d.blks_hit, 10000);
	assert_int_equal(d.deadlocks, 3);
}

static void test_counters_delta_of_unchanged_counters_is_valid_zero(void **state)
{
	(void)state;
	struct counters prev = counters(5, 1, 2, 3, 0);
	struct delta d;
	counters_delta(&prev, &prev, &d);
	assert_true(d.valid);
	assert_int_equal(d.commit, 0);
	assert_int_equal(d.deadlocks, 0);
}

static void test_counters_delta_first_check_has_no_previous(void **state)
{
	(void)state;
	struct counters cur = counters(1, 1, 1, 1, 1);
	struct delta d;
	counters_delta(NULL, &cur, &d);
	assert_false(d.valid);
	assert_contains(d.reason, "first check");

	struct counters absent;
	memset(&absent, 0, sizeof(absent));
	counters_delta(&absent, &cur, &d);
	assert_false(d.valid);
	assert_contains(d.reason, "first check");
}

static void test_counters_delta_current_unavailable_is_invalid(void **state)
{
	(void)state;
	struct counters prev = counters(1, 1, 1, 1, 1);
	struct counters cur;
	memset(&cur, 0, sizeof(cur));
	struct delta d;
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
	assert_true(d.reason[0] != '\0');
}

static void test_counters_delta_restart_invalidates(void **state)
{
	(void)state;
	struct counters prev = counters(1000, 10, 500, 9500, 2);
	struct counters cur = counters(1600, 25, 700, 19500, 5);
	cur.postmaster_start = prev.postmaster_start + 3600;
	struct delta d;
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
	assert_contains(d.reason, "restarted");
	assert_int_equal(d.commit, 0);
}

static void test_counters_delta_stats_reset_invalidates(void **state)
{
	(void)state;
	struct counters prev = counters(1000, 10, 500, 9500, 2);
	struct counters cur = counters(1600, 25, 700, 19500, 5);
	snprintf(cur.stats_reset, sizeof(cur.stats_reset), "%s", "2026-11-20 12:00:00+00");
	struct delta d;
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
	assert_contains(d.reason, "reset");

	/* From NULL (never reset) to a timestamp is a reset too. */
	prev.stats_reset[0] = '\0';
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
}

static void test_counters_delta_counter_going_down_invalidates(void **state)
{
	(void)state;
	struct counters prev = counters(1000, 10, 500, 9500, 2);
	struct counters cur = counters(1600, 25, 700, 19500, 1); /* deadlocks 2 -> 1 */
	struct delta d;
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
	assert_contains(d.reason, "went down");
	/* No partial figures are left behind. */
	assert_int_equal(d.commit, 0);
	assert_int_equal(d.blks_hit, 0);

	cur = counters(999, 25, 700, 19500, 5); /* commits went down */
	counters_delta(&prev, &cur, &d);
	assert_false(d.valid);
}

/* ---------------------------------------------------------------- stmt_deltas */

static void test_stmt_deltas_computes_interval_mean(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	stmt_set_add(&prev, "1:1:t:100", 1000, 5000, NULL);
	stmt_set_add(&cur, "1:1:t:100", 1500, 7500, "SELECT 1");
	struct stmt_delta out[4];
	assert_int_equal(stmt_deltas(&prev, &cur, 100, out, 4), 1);
	assert_ptr_equal(out[0].stmt, &cur.v[0]);
	assert_double_near(out[0].calls, 500, 0);
	assert_double_near(out[0].total_ms, 2500, 1e-9);
	assert_double_near(out[0].mean_ms, 5, 1e-9);
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_filters_below_min_calls(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	stmt_set_add(&prev, "a", 0, 0, NULL);
	stmt_set_add(&prev, "b", 0, 0, NULL);
	stmt_set_add(&cur, "a", 99, 99000, NULL); /* slow but too few calls */
	stmt_set_add(&cur, "b", 100, 1000, NULL); /* exactly min_calls */
	struct stmt_delta out[4];
	assert_int_equal(stmt_deltas(&prev, &cur, 100, out, 4), 1);
	assert_string_equal(out[0].stmt->key, "b");
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_skips_reset_key_whose_calls_went_down(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	stmt_set_add(&prev, "reset", 5000, 50000, NULL);
	stmt_set_add(&prev, "steady", 100, 100, NULL);
	stmt_set_add(&cur, "reset", 200, 400000, NULL); /* calls 5000 -> 200 */
	stmt_set_add(&cur, "steady", 300, 300, NULL);
	struct stmt_delta out[4];
	assert_int_equal(stmt_deltas(&prev, &cur, 1, out, 4), 1);
	assert_string_equal(out[0].stmt->key, "steady");
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_skips_statements_new_since_last_check(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	stmt_set_add(&prev, "old", 0, 0, NULL);
	stmt_set_add(&cur, "new", 1000, 1e6, NULL);
	struct stmt_delta out[4];
	assert_int_equal(stmt_deltas(&prev, &cur, 1, out, 4), 0);
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_sorts_slowest_first(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	const char *keys[] = {"k1", "k2", "k3", "k4"};
	const double means[] = {2, 40, 0.5, 15};
	for (int i = 0; i < 4; i++) {
		stmt_set_add(&prev, keys[i], 1000, 1000, NULL);
		stmt_set_add(&cur, keys[i], 1100, 1000 + 100 * means[i], NULL);
	}
	struct stmt_delta out[4];
	assert_int_equal(stmt_deltas(&prev, &cur, 100, out, 4), 4);
	assert_string_equal(out[0].stmt->key, "k2");
	assert_string_equal(out[1].stmt->key, "k4");
	assert_string_equal(out[2].stmt->key, "k1");
	assert_string_equal(out[3].stmt->key, "k3");
	assert_double_near(out[0].mean_ms, 40, 1e-9);
	assert_double_near(out[3].mean_ms, 0.5, 1e-9);
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_caps_at_max_keeping_the_slowest(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	char key[16];
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		stmt_set_add(&prev, key, 0, 0, NULL);
		stmt_set_add(&cur, key, 100, 100.0 * i, NULL); /* mean i ms */
	}
	struct stmt_delta out[3];
	memset(out, 0, sizeof(out));
	assert_int_equal(stmt_deltas(&prev, &cur, 1, out, 3), 3);
	assert_string_equal(out[0].stmt->key, "k9");
	assert_string_equal(out[1].stmt->key, "k8");
	assert_string_equal(out[2].stmt->key, "k7");
	stmt_set_release(&prev);
	stmt_set_release(&cur);
}

static void test_stmt_deltas_of_empty_sets_is_zero(void **state)
{
	(void)state;
	struct stmt_set prev = {0}, cur = {0};
	struct stmt_delta out[1];
	assert_int_equal(stmt_deltas(&prev, &cur, 1, out, 1), 0);
	stmt_set_add(&prev, "a", 1, 1, NULL);
	assert_int_equal(stmt_deltas(&prev, &cur, 1, out, 1), 0);
	stmt_set_release(&prev);
}

/* ---------------------------------------------------------------- linear_slope */

static void test_linear_slope_of_exact_line(void **state)
{
	(void)state;
	const double x[] = {0, 1, 2, 3, 4};
	const double y[] = {10, 12, 14, 16, 18};
	double slope = 0;
	assert_int_equal(linear_slope(x, y, 5, &slope), 0);
	assert_double_near(slope, 2, 1e-12);
}

static void test_linear_slope_of_two_points_and_negative_slope(void **state)
{
	(void)state;
	const double x[] = {1.5, 3.5};
	const double y[] = {1e9, 0};
	double slope = 0;
	assert_int_equal(linear_slope(x, y, 2, &slope), 0);
	assert_double_near(slope, -5e8, 1e-3);
}

static void test_linear_slope_least_squares_fit_of_noisy_points(void **state)
{
	(void)state;
	/* y = 3x + noise that cancels out: (+1, -1, -1, +1). */
	const double x[] = {0, 1, 2, 3};
	const double y[] = {1, 2, 5, 10};
	double slope = 0;
	assert_int_equal(linear_slope(x, y, 4, &slope), 0);
	assert_double_near(slope, 3, 1e-12);
}

static void test_linear_slope_needs_two_points(void **state)
{
	(void)state;
	const double x[] = {1};
	const double y[] = {1};
	double slope = 42;
	assert_int_equal(linear_slope(x, y, 1, &slope), -1);
	assert_int_equal(linear_slope(x, y, 0, &slope), -1);
	assert_double_near(slope, 42, 0);
}

static void test_linear_slope_rejects_all_x_equal(void **state)
{
	(void)state;
	const double x[] = {7, 7, 7};
	const double y[] = {1, 2, 3};
	double slope = 42;
	assert_int_equal(linear_slope(x, y, 3, &slope), -1);
	assert_double_near(slope, 42, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counters_delta_gives_exact_differences),
	    cmocka_unit_test(test_counters_delta_of_unchanged_counters_is_valid_zero),
	    cmocka_unit_test(test_counters_delta_first_check_has_no_previous),
	    cmocka_unit_test(test_counters_delta_current_unavailable_is_invalid),
	    cmocka_unit_test(test_counters_delta_restart_invalidates),
	    cmocka_unit_test(test_counters_delta_stats_reset_invalidates),
	    cmocka_unit_test(test_counters_delta_counter_going_down_invalidates),
	    cmocka_unit_test(test_stmt_deltas_computes_interval_mean),
	    cmocka_unit_test(test_stmt_deltas_filters_below_min_calls),
	    cmocka_unit_test(test_stmt_deltas_skips_reset_key_whose_calls_went_down),
	    cmocka_unit_test(test_stmt_deltas_skips_statements_new_since_last_check),
	    cmocka_unit_test(test_stmt_deltas_sorts_slowest_first),
	    cmocka_unit_test(test_stmt_deltas_caps_at_max_keeping_the_slowest),
	    cmocka_unit_test(test_stmt_deltas_of_empty_sets_is_zero),
	    cmocka_unit_test(test_linear_slope_of_exact_line),
	    cmocka_unit_test(test_linear_slope_of_two_points_and_negative_slope),
	    cmocka_unit_test(test_linear_slope_least_squares_fit_of_noisy_points),
	    cmocka_unit_test(test_linear_slope_needs_two_points),
	    cmocka_unit_test(test_linear_slope_rejects_all_x_equal),
	};
	return cmocka_run_group_tests_name("delta", tests, NULL, NULL);
}
