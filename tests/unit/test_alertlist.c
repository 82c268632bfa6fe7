/* Unit tests of common/tenants/alertlist.c: the query parameters and the rates. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "tenants/alertlist.h"

static void absent_parameters_give_the_newest_default_page(void **state)
{
	(void)state;
	struct alertlist_query q = {7, 7};
	const char *param = NULL, *why = NULL;
	assert_int_equal(alertlist_parse(NULL, NULL, &q, &param, &why), 0);
	assert_int_equal(q.limit, ALERTLIST_LIMIT_DEFAULT);
	assert_int_equal(q.before, 0);
}

static void limit_and_before_are_taken_within_their_bounds(void **state)
{
	(void)state;
	struct alertlist_query q;
	const char *param = NULL, *why = NULL;
	assert_int_equal(alertlist_parse("1", "9223372036854775807", &q, &param, &why), 0);
	assert_int_equal(q.limit, 1);
	assert_true(q.before == 9223372036854775807LL);
	assert_int_equal(alertlist_parse("200", "1", &q, &param, &why), 0);
	assert_int_equal(q.limit, ALERTLIST_LIMIT_MAX);
	assert_int_equal(q.before, 1);
}

static void a_bad_limit_is_named(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "0", "201", "-1", "", "abc", "1x", " 5", "1.5", "99999999999999999999"};
	struct alertlist_query q;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *param = NULL, *why = NULL;
		assert_int_equal(alertlist_parse(bad[i], "5", &q, &param, &why), -1);
		assert_string_equal(param, "limit");
		assert_non_null(why);
	}
}

static void a_bad_before_is_named(void **state)
{
	(void)state;
	static const char *const bad[] = {"0", "-5", "", "x", "9223372036854775808", "1e3"};
	struct alertlist_query q;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *param = NULL, *why = NULL;
		assert_int_equal(alertlist_parse("10", bad[i], &q, &param, &why), -1);
		assert_string_equal(param, "before");
		assert_non_null(why);
	}
}

static void rates_are_rounded_down_to_three_decimals(void **state)
{
	(void)state;
	assert_true(alertlist_rate(2, 3) == 0.666);
	assert_true(alertlist_rate(1, 3) == 0.333);
	assert_true(alertlist_rate(3, 3) == 1.0);
	assert_true(alertlist_rate(0, 5) == 0.0);
	assert_true(alertlist_rate(999, 1000) == 0.999);
}

static void no_rate_without_messages_and_never_above_one(void **state)
{
	(void)state;
	assert_true(alertlist_rate(0, 0) < 0);
	assert_true(alertlist_rate(3, 0) < 0);
	assert_true(alertlist_rate(-1, 4) < 0);
	assert_true(alertlist_rate(5, 4) == 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(absent_parameters_give_the_newest_default_page),
	    cmocka_unit_test(limit_and_before_are_taken_within_their_bounds),
	    cmocka_unit_test(a_bad_limit_is_named),
	    cmocka_unit_test(a_bad_before_is_named),
	    cmocka_unit_test(rates_are_rounded_down_to_three_decimals),
	    cmocka_unit_test(no_rate_without_messages_and_never_above_one),
	};
	return cmocka_run_group_tests_name("alertlist", tests, NULL, NULL);
}
