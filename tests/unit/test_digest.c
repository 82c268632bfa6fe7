/* Unit tests of common/tenants/digest.c: the text of a digest, and its length limit. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "tenants/digest.h"

static void lists_each_alert_on_its_own_line(void **state)
{
	(void)state;
	const char *lines[] = {"Cart c1: +2 Shoes", "Cart c2: -1 Hat"};
	size_t shown = 0;
	char *s = digest_text(lines, 2, 4096, &shown);
	assert_string_equal(s, "2 alerts:\n- Cart c1: +2 Shoes\n- Cart c2: -1 Hat");
	assert_int_equal(shown, 2);
	free(s);
}

static void one_alert_is_singular(void **state)
{
	(void)state;
	const char *lines[] = {"Cart c1: +2 Shoes"};
	size_t shown = 0;
	char *s = digest_text(lines, 1, 4096, &shown);
	assert_string_equal(s, "1 alert:\n- Cart c1: +2 Shoes");
	free(s);
}

static void too_many_stay_within_the_limit_and_say_how_many_are_left(void **state)
{
	(void)state;
	enum { N = 50 };
	const char *lines[N];
	char line[301];
	memset(line, 'x', 300);
	line[300] = '\0';
	for (int i = 0; i < N; i++)
		lines[i] = line;
	size_t shown = 0;
	char *s = digest_text(lines, N, 4096, &shown);
	assert_true(strlen(s) <= 4096);
	assert_true(shown > 0 && shown < N);
	char want[32];
	snprintf(want, sizeof(want), "\n+%zu more", N - shown);
	assert_int_equal(strcmp(s + strlen(s) - strlen(want), want), 0);
	assert_true(strncmp(s, "50 alerts:\n- x", 14) == 0);
	free(s);
}

static void a_last_line_that_just_fits_needs_no_trailer(void **state)
{
	(void)state;
	/* "2 alerts:" (9) + "\n- a" (4) + "\n- " (3) + 48 = 64. */
	char last[49];
	memset(last, 'b', 48);
	last[48] = '\0';
	const char *lines[] = {"a", last};
	size_t shown = 0;
	char *s = digest_text(lines, 2, 64, &shown);
	assert_int_equal(shown, 2);
	assert_int_equal(strlen(s), 64);
	free(s);
	/* One byte less: the second line is left out and counted. */
	s = digest_text(lines, 2, 63, &shown);
	assert_int_equal(shown, 1);
	assert_string_equal(s, "2 alerts:\n- a\n+1 more");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lists_each_alert_on_its_own_line),
	    cmocka_unit_test(one_alert_is_singular),
	    cmocka_unit_test(too_many_stay_within_the_limit_and_say_how_many_are_left),
	    cmocka_unit_test(a_last_line_that_just_fits_needs_no_trailer),
	};
	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
