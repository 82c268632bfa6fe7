/*
 * Unit tests of the pure steps of common/monitor/collect.c (included, so its
 * static helpers are reachable; libcommon.a's collect.o is then never linked):
 * the orders' drop and when it is judged. The queries themselves run against
 * PostgreSQL in tests/integration/test_check.sh.
 */
#include <time.h> /* before banned.h (through collect.c) takes its name */

#include "../../common/monitor/collect.c"

#include "testutil.h"

static void test_drop_is_how_far_below_the_base(void **state)
{
	(void)state;
	assert_double_near(drop_pct(50, 100), 50.0, 1e-9);
	assert_double_near(drop_pct(2, 3), 33.3, 1e-9);  /* one decimal */
	assert_double_near(drop_pct(120, 100), 0, 1e-9); /* a rise is no drop */
	assert_double_near(drop_pct(5, 0), 0, 1e-9);     /* nothing to compare with */
	assert_double_near(drop_pct(0, 7), 100.0, 1e-9);
}

static void test_a_small_base_is_not_judged(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	cfg.orders_min_volume = 10;
	struct collection c;
	collection_init(&c);
	add_drop(&c, &cfg, M_ORDERS_TODAY_DROP_PCT, 1, 9, "today");
	add_drop(&c, &cfg, M_ORDERS_YESTERDAY_DROP_PCT, 5, 10, "yesterday");
	assert_int_equal(c.samples.n, 2);
	assert_true(c.samples.v[0].skipped);
	assert_double_near(c.samples.v[0].value, 88.9, 1e-9);
	assert_string_equal(c.samples.v[0].detail,
	                    "today: 1 vs 9; below ORDERS_MIN_VOLUME 10, not judged");
	assert_false(c.samples.v[1].skipped);
	assert_double_near(c.samples.v[1].value, 50.0, 1e-9);
	assert_string_equal(c.samples.v[1].detail, "yesterday: 5 vs 10");
	collection_release(&c);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop_is_how_far_below_the_base),
	    cmocka_unit_test(test_a_small_base_is_not_judged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
