/* Unit tests of common/core/buf.c: the growable buffer with a limit. */
#include "testutil.h"

#include "core/buf.h"

static void test_buf_str_of_empty_buffer_is_empty_string(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(16);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_buf_append_grows_past_initial_capacity(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	char chunk[100];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= b.len + 1);
	assert_int_equal(strlen(buf_str(&b)), 10000);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], 'x');
	buf_release(&b);
}

static void test_buf_keeps_binary_data_and_nul_terminates(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_release(&b);
}

static void test_buf_append_of_nothing_still_terminates(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_buf_accepts_exactly_max_bytes(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(10);
	assert_int_equal(buf_puts(&b, "0123456789"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(buf_str(&b), "0123456789");
	assert_true(b.cap <= 11); /* never allocates past max + NUL */
	assert_int_equal(buf_append(&b, "", 0), 0);
	buf_release(&b);
}

static void test_buf_append_past_max_fails_and_leaves_buffer_unchanged(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	size_t cap = b.cap;
	char *data = b.data;
	assert_int_equal(buf_puts(&b, "worlds"), -1); /* 5 + 6 > 10 */
	assert_int_equal(b.len, 5);
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);
	assert_string_equal(buf_str(&b), "hello");
	assert_int_equal(buf_puts(&b, "world"), 0); /* 5 + 5 fits */
	assert_string_equal(buf_str(&b), "helloworld");
	assert_int_equal(buf_puts(&b, "!"), -1);
	assert_string_equal(buf_str(&b), "helloworld");
	buf_release(&b);
}

static void test_buf_append_huge_length_fails_without_overflow(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(100);
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 2), -1);
	assert_int_equal(b.len, 3);
	assert_string_equal(buf_str(&b), "abc");
	buf_release(&b);
}

static void test_buf_printf_appends_formatted_text(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(256);
	assert_int_equal(buf_printf(&b, "%s=%d", "a", 1), 0);
	assert_int_equal(buf_printf(&b, ",%s=%.2f", "b", 2.5), 0);
	assert_string_equal(buf_str(&b), "a=1,b=2.50");
	assert_int_equal(b.len, strlen("a=1,b=2.50"));
	buf_release(&b);
}

static void test_buf_printf_past_max_fails_and_leaves_buffer_unchanged(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(8);
	assert_int_equal(buf_printf(&b, "%d", 1234), 0);
	assert_int_equal(buf_printf(&b, "%s", "56789"), -1);
	assert_string_equal(buf_str(&b), "1234");
	assert_int_equal(b.len, 4);
	buf_release(&b);
}

static void test_buf_detach_hands_over_contents_and_resets(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_puts(&b, "payload"), 0);
	char *p = buf_detach(&b);
	assert_string_equal(p, "payload");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.max, 64); /* still usable with the same limit */
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "again"), 0);
	assert_string_equal(buf_str(&b), "again");
	free(p);
	buf_release(&b);
}

static void test_buf_detach_of_empty_buffer_returns_empty_string(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	char *p = buf_detach(&b);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
}

static void test_buf_reset_empties_but_keeps_storage(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_puts(&b, "something"), 0);
	char *data = b.data;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.data, data);
	assert_int_equal(buf_puts(&b, "x"), 0);
	assert_string_equal(buf_str(&b), "x");
	buf_release(&b);
}

static void test_buf_release_leaves_reusable_empty_buffer(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_puts(&b, "first"), 0);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_puts(&b, "second"), 0);
	assert_string_equal(buf_str(&b), "second");
	buf_release(&b);
	buf_release(&b); /* twice is harmless */
}

/*
 * SIZE_MAX is the natural "no limit" value; buf_reserve computes b->max + 1,
 * which wraps to 0 and clamps the allocation to nothing. Run in a child:
 * when the bug is present ASan aborts on the heap overflow.
 */
static int append_with_size_max_limit(void)
{
	struct buf b;
	buf_init(&b, SIZE_MAX);
	if (buf_puts(&b, "hello, world") < 0)
		return 1;
	int ok = strcmp(buf_str(&b), "hello, world") == 0 && b.cap >= b.len + 1;
	buf_release(&b);
	return ok ? 0 : 1;
}

static void test_buf_with_size_max_limit_allocates_enough(void **state)
{
	(void)state;
	assert_child_ok(tu_run_in_child(append_with_size_max_limit));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_str_of_empty_buffer_is_empty_string),
	    cmocka_unit_test(test_buf_append_grows_past_initial_capacity),
	    cmocka_unit_test(test_buf_keeps_binary_data_and_nul_terminates),
	    cmocka_unit_test(test_buf_append_of_nothing_still_terminates),
	    cmocka_unit_test(test_buf_accepts_exactly_max_bytes),
	    cmocka_unit_test(test_buf_append_past_max_fails_and_leaves_buffer_unchanged),
	    cmocka_unit_test(test_buf_append_huge_length_fails_without_overflow),
	    cmocka_unit_test(test_buf_printf_appends_formatted_text),
	    cmocka_unit_test(test_buf_printf_past_max_fails_and_leaves_buffer_unchanged),
	    cmocka_unit_test(test_buf_detach_hands_over_contents_and_resets),
	    cmocka_unit_test(test_buf_detach_of_empty_buffer_returns_empty_string),
	    cmocka_unit_test(test_buf_reset_empties_but_keeps_storage),
	    cmocka_unit_test(test_buf_release_leaves_reusable_empty_buffer),
	    cmocka_unit_test(test_buf_with_size_max_limit_allocates_enough),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
