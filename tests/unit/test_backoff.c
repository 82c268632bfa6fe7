/* Unit tests of common/core/backoff.c: the one retry delay of the outbox and the webhook. */
#include "testutil.h"

#include <math.h>

#include "core/backoff.h"

static void test_backoff_first_attempt_waits_base(void **state)
{
	(void)state;
	assert_true(backoff_delay(30, 3600, 1, 0, 0) == 30);
	/* Zero or negative counts are the first attempt, not a shorter wait. */
	assert_true(backoff_delay(30, 3600, 0, 0, 0) == 30);
	assert_true(backoff_delay(30, 3600, -5, 0, 0) == 30);
}

static void test_backoff_doubles_each_attempt(void **state)
{
	(void)state;
	assert_true(backoff_delay(30, 3600, 2, 0, 0) == 60);
	assert_true(backoff_delay(30, 3600, 3, 0, 0) == 120);
	assert_true(backoff_delay(30, 3600, 7, 0, 0) == 1920);
}

static void test_backoff_stops_at_cap(void **state)
{
	(void)state;
	assert_true(backoff_delay(30, 3600, 8, 0, 0) == 3600); /* 3840 capped */
	assert_true(backoff_delay(30, 3600, 10, 0, 0) == 3600);
	assert_true(backoff_delay(15, 900, 100000, 0, 0) == 900);
	assert_true(backoff_delay(30, 3600, 2147483647, 0, 0) == 3600);
	/* A base above the cap is the cap. */
	assert_true(backoff_delay(5000, 3600, 1, 0, 0) == 3600);
}

static void test_backoff_without_spread_ignores_jitter(void **state)
{
	(void)state;
	assert_true(backoff_delay(30, 3600, 2, 0, 0.99) == 60);
	assert_true(backoff_delay(30, 3600, 2, 0, 0.5) == 60);
}

static void test_backoff_spread_bounds_the_delay(void **state)
{
	(void)state;
	/* +-20%: jitter 0 is 80%, jitter 0.5 is the plain delay, towards 1 it nears 120%. */
	assert_true(fabs(backoff_delay(15, 900, 1, 0.2, 0) - 12) < 1e-9);
	assert_true(fabs(backoff_delay(15, 900, 1, 0.2, 0.5) - 15) < 1e-9);
	double hi = backoff_delay(15, 900, 1, 0.2, 0.999999);
	assert_true(hi < 18 && hi > 17.99);
	/* The spread applies after the cap: a capped delay still varies, so retries part. */
	assert_true(fabs(backoff_delay(15, 900, 50, 0.2, 0) - 720) < 1e-9);
	assert_true(fabs(backoff_delay(15, 900, 50, 0.2, 0.75) - 990) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_first_attempt_waits_base),
	    cmocka_unit_test(test_backoff_doubles_each_attempt),
	    cmocka_unit_test(test_backoff_stops_at_cap),
	    cmocka_unit_test(test_backoff_without_spread_ignores_jitter),
	    cmocka_unit_test(test_backoff_spread_bounds_the_delay),
	};
	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
