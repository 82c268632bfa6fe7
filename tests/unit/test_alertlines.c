/*
 * Unit tests of common/core/alertlines.c: the house list of alerts ("3 alerts:"), with more
 * alerts than lines, and reading a message's text back into its alerts (the drain merges
 * waiting messages with it: delivery/coalesce.h).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "core/alertlines.h"
#include "core/buf.h"

static void a_total_past_the_lines_is_counted_in_the_header_and_the_trailer(void **state)
{
	(void)state;
	const char *lines[] = {"New order #1", "New order #2"};
	size_t shown = 0;
	char *s = alertlines_text(lines, 2, 5, 4096, &shown);
	assert_string_equal(s, "5 alerts:\n- New order #1\n- New order #2\n+3 more");
	assert_int_equal(shown, 2);
	free(s);
}

static void a_total_below_the_lines_is_the_lines(void **state)
{
	(void)state;
	const char *lines[] = {"a", "b"};
	size_t shown = 0;
	char *s = alertlines_text(lines, 2, 0, 4096, &shown);
	assert_string_equal(s, "2 alerts:\n- a\n- b");
	free(s);
}

static void one_alerts_own_text_is_one_line(void **state)
{
	(void)state;
	struct alertlines l;
	alertlines_parse("New order #1001: NGN 12,500, 3 items", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.total, 1);
	assert_string_equal(l.v[0], "New order #1001: NGN 12,500, 3 items");
	alertlines_release(&l);
}

static void a_list_reads_back_its_lines_and_its_left_out_count(void **state)
{
	(void)state;
	struct alertlines l;
	alertlines_parse("7 alerts:\n- New order #1\n- Payment failed: #2\n+5 more", &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.total, 7);
	assert_string_equal(l.v[0], "New order #1");
	assert_string_equal(l.v[1], "Payment failed: #2");
	alertlines_release(&l);
	alertlines_parse("1 alert:\n- Cart c1: +2 Shoes", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.total, 1);
	assert_string_equal(l.v[0], "Cart c1: +2 Shoes");
	alertlines_release(&l);
}

static void text_that_only_looks_like_a_header_is_one_alert(void **state)
{
	(void)state;
	const char *texts[] = {"3 alerts: none listed", "3 alerts:\nno dash", "0 alerts:\n- x",
	                       "99999999999999999999999 alerts:\n- x", ""};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct alertlines l;
		alertlines_parse(texts[i], &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.total, 1);
		assert_string_equal(l.v[0], texts[i]);
		alertlines_release(&l);
	}
}

static void many_lines_grow_the_list(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1 << 16);
	buf_puts(&b, "40 alerts:");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "\n- alert %d", i);
	struct alertlines l;
	alertlines_parse(buf_str(&b), &l);
	assert_int_equal(l.n, 40);
	assert_int_equal(l.total, 40);
	assert_string_equal(l.v[39], "alert 39");
	alertlines_release(&l);
	buf_release(&b);
}

/* Merging two messages' texts as the drain does: the lines of both, the count of both. */
static void two_lists_merged_keep_every_alert_and_count(void **state)
{
	(void)state;
	struct alertlines a, b;
	alertlines_parse("New order #1", &a);
	alertlines_parse("4 alerts:\n- New order #2\n- New order #3\n+2 more", &b);
	const char *lines[3] = {a.v[0], b.v[0], b.v[1]};
	size_t shown = 0;
	char *s = alertlines_text(lines, 3, a.total + b.total, 4096, &shown);
	assert_string_equal(s,
	                    "5 alerts:\n- New order #1\n- New order #2\n- New order #3\n+2 more");
	free(s);
	alertlines_release(&a);
	alertlines_release(&b);
}

static void a_merge_past_the_limit_stays_within_it(void **state)
{
	(void)state;
	enum { N = 100 };
	char line[101];
	memset(line, 'x', 100);
	line[100] = '\0';
	const char *lines[N];
	for (int i = 0; i < N; i++)
		lines[i] = line;
	size_t shown = 0;
	char *s = alertlines_text(lines, N, N + 50, 4096, &shown);
	assert_true(strlen(s) <= 4096);
	assert_true(shown > 0 && shown < N);
	char want[32];
	snprintf(want, sizeof(want), "\n+%zu more", (size_t)N + 50 - shown);
	assert_int_equal(strcmp(s + strlen(s) - strlen(want), want), 0);
	assert_true(strncmp(s, "150 alerts:\n- x", 15) == 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_total_past_the_lines_is_counted_in_the_header_and_the_trailer),
	    cmocka_unit_test(a_total_below_the_lines_is_the_lines),
	    cmocka_unit_test(one_alerts_own_text_is_one_line),
	    cmocka_unit_test(a_list_reads_back_its_lines_and_its_left_out_count),
	    cmocka_unit_test(text_that_only_looks_like_a_header_is_one_alert),
	    cmocka_unit_test(many_lines_grow_the_list),
	    cmocka_unit_test(two_lists_merged_keep_every_alert_and_count),
	    cmocka_unit_test(a_merge_past_the_limit_stays_within_it),
	};
	return cmocka_run_group_tests_name("alertlines", tests, NULL, NULL);
}
