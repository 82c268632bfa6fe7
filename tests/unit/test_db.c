/* Unit tests of common/db/db.c's text[] literal builder (db_array_push, db_array_end). */
#include "testutil.h"

#include "db/db.h"

static void test_db_array_empty_is_braces(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(64);
	assert_int_equal(db_array_end(&a), 0);
	assert_string_equal(buf_str(&a), "{}");
	buf_release(&a);
}

static void test_db_array_quotes_every_element(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(256);
	assert_int_equal(db_array_push(&a, "meta", 4), 0);
	assert_int_equal(db_array_push(&a, "", 0), 0);
	assert_int_equal(db_array_push(&a, "a,b {c} NULL", 12), 0);
	assert_int_equal(db_array_end(&a), 0);
	assert_string_equal(buf_str(&a), "{\"meta\",\"\",\"a,b {c} NULL\"}");
	buf_release(&a);
}

static void test_db_array_escapes_quotes_and_backslashes(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(256);
	const char *json = "{\"k\":\"a\\\"b\\\\\"}";
	assert_int_equal(db_array_push(&a, json, strlen(json)), 0);
	assert_int_equal(db_array_end(&a), 0);
	assert_string_equal(buf_str(&a), "{\"{\\\"k\\\":\\\"a\\\\\\\"b\\\\\\\\\\\"}\"}");
	buf_release(&a);
}

static void test_db_array_stops_at_len_and_at_nul(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(256);
	assert_int_equal(db_array_push(&a, "abcdef", 3), 0);
	assert_int_equal(db_array_push(&a, "x\0y", 3), 0);
	assert_int_equal(db_array_push(&a, "\"\0\"", 3), 0);
	assert_int_equal(db_array_end(&a), 0);
	assert_string_equal(buf_str(&a), "{\"abc\",\"x\",\"\\\"\"}");
	buf_release(&a);
}

static void test_db_array_reports_the_limit(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(8);
	assert_int_equal(db_array_push(&a, "abc", 3), 0);
	assert_int_equal(db_array_push(&a, "defghij", 7), -1);
	buf_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_db_array_empty_is_braces),
	    cmocka_unit_test(test_db_array_quotes_every_element),
	    cmocka_unit_test(test_db_array_escapes_quotes_and_backslashes),
	    cmocka_unit_test(test_db_array_stops_at_len_and_at_nul),
	    cmocka_unit_test(test_db_array_reports_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
