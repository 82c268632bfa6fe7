/* Unit tests of common/db/pgarray.c: the bigint[] literal every list parameter is sent as. */
#include "testutil.h"

#include <limits.h>

#include "db/pgarray.h"

static void test_pgarray_of_nothing_is_empty_braces(void **state)
{
	(void)state;
	char *s = pg_bigint_array(NULL, 0);
	assert_string_equal(s, "{}");
	free(s);
}

static void test_pgarray_of_one_has_no_comma(void **state)
{
	(void)state;
	long long v[] = {42};
	char *s = pg_bigint_array(v, 1);
	assert_string_equal(s, "{42}");
	free(s);
}

static void test_pgarray_separates_by_commas_in_order(void **state)
{
	(void)state;
	long long v[] = {3, 1, 2, 1};
	char *s = pg_bigint_array(v, 4);
	assert_string_equal(s, "{3,1,2,1}");
	free(s);
}

static void test_pgarray_keeps_signs_and_extremes(void **state)
{
	(void)state;
	long long v[] = {LLONG_MIN, -1, 0, LLONG_MAX};
	char *s = pg_bigint_array(v, 4);
	assert_string_equal(s, "{-9223372036854775808,-1,0,9223372036854775807}");
	free(s);
}

static void test_pgarray_takes_only_n_values(void **state)
{
	(void)state;
	long long v[] = {7, 8, 9};
	char *s = pg_bigint_array(v, 2);
	assert_string_equal(s, "{7,8}");
	free(s);
}

static void test_pgarray_has_no_length_limit_of_its_own(void **state)
{
	(void)state;
	/* 100,000 ids of 19 digits: past the 1 MiB the hand-built literals were capped at. */
	size_t n = 100000;
	long long *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = 1000000000000000000LL + (long long)i;
	char *s = pg_bigint_array(v, n);
	assert_int_equal(strlen(s), 2 + n * 19 + (n - 1));
	assert_true(s[0] == '{' && s[strlen(s) - 1] == '}');
	assert_non_null(strstr(s, ",1000000000000099999}"));
	free(s);
	free(v);
}

static void test_pg_text_array_quotes_each_element_in_order(void **state)
{
	(void)state;
	const char *v[] = {"1001", "NGN 12,500", "3 items", NULL};
	char *s = pg_text_array(v, 4);
	assert_string_equal(s, "{\"1001\",\"NGN 12,500\",\"3 items\",\"\"}");
	free(s);
	s = pg_text_array(NULL, 0);
	assert_string_equal(s, "{}");
	free(s);
}

static void test_pg_text_array_escapes_quotes_and_backslashes(void **state)
{
	(void)state;
	const char *v[] = {"Ada \"The\" {Boss}", "a\\b,c"};
	char *s = pg_text_array(v, 2);
	assert_string_equal(s, "{\"Ada \\\"The\\\" {Boss}\",\"a\\\\b,c\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pgarray_of_nothing_is_empty_braces),
	    cmocka_unit_test(test_pg_text_array_quotes_each_element_in_order),
	    cmocka_unit_test(test_pg_text_array_escapes_quotes_and_backslashes),
	    cmocka_unit_test(test_pgarray_of_one_has_no_comma),
	    cmocka_unit_test(test_pgarray_separates_by_commas_in_order),
	    cmocka_unit_test(test_pgarray_keeps_signs_and_extremes),
	    cmocka_unit_test(test_pgarray_takes_only_n_values),
	    cmocka_unit_test(test_pgarray_has_no_length_limit_of_its_own),
	};
	return cmocka_run_group_tests_name("pgarray", tests, NULL, NULL);
}
