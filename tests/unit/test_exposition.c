/* Unit tests of common/monitor/exposition.c's tables: the families of the service's own state
 * and the queries that fill them (the SQL itself runs in tests/integration/test_prometheus.sh). */
#include "testutil.h"

#include "../../common/monitor/exposition.c"

#define NFAMILIES (sizeof(families) / sizeof(families[0]))
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_every_column_names_a_known_family(void **state)
{
	(void)state;
	for (size_t q = 0; q < NQUERIES; q++)
		for (int c = 0; c < ncols(&queries[q]); c++)
			assert_non_null(family_by_name(queries[q].cols[c].family));
}

static void test_every_family_is_filled_by_exactly_one_query(void **state)
{
	(void)state;
	for (size_t f = 0; f < NFAMILIES; f++) {
		int n = 0;
		for (size_t q = 0; q < NQUERIES; q++) {
			int here = 0;
			for (int c = 0; c < ncols(&queries[q]); c++)
				here |= strcmp(queries[q].cols[c].family, families[f].name) == 0;
			n += here;
		}
		assert_int_equal(n, 1);
	}
}

static void test_names_follow_prometheus_conventions(void **state)
{
	(void)state;
	for (size_t f = 0; f < NFAMILIES; f++) {
		char name[EXPOSITION_NAME_MAX];
		snprintf(name, sizeof(name), PREFIX "%s", families[f].name);
		assert_true(promtext_name_ok(name));
		/* Counters and only counters end in _total. */
		assert_int_equal(ends_with(name, "_total"), families[f].type == PROMTEXT_COUNTER);
		assert_true(strlen(families[f].help) > 0);
	}
}

static void test_no_label_names_a_tenant(void **state)
{
	(void)state;
	for (size_t q = 0; q < NQUERIES; q++) {
		for (int k = 0; k < queries[q].nkeys; k++) {
			assert_true(promtext_name_ok(queries[q].keys[k]));
			assert_null(strstr(queries[q].keys[k], "tenant"));
		}
		for (int c = 0; c < ncols(&queries[q]); c++)
			if (queries[q].cols[c].label)
				assert_null(strstr(queries[q].cols[c].label, "tenant"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_column_names_a_known_family),
	    cmocka_unit_test(test_every_family_is_filled_by_exactly_one_query),
	    cmocka_unit_test(test_names_follow_prometheus_conventions),
	    cmocka_unit_test(test_no_label_names_a_tenant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
