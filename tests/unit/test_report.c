/*
 * Unit tests of the wording of common/monitor/report.c (its static formatting
 * steps, reached by including the .c; libcommon.a's report.o is then never
 * linked). No database: the figures are given.
 */
#include "../../common/monitor/report.c"

#include "testutil.h"

static void test_bytes_read_in_powers_of_a_thousand(void **state)
{
	(void)state;
	char b[32];
	human_bytes(b, sizeof(b), 999);
	assert_string_equal(b, "999 B");
	human_bytes(b, sizeof(b), 1500);
	assert_string_equal(b, "1.5 kB");
	human_bytes(b, sizeof(b), 2.5e9);
	assert_string_equal(b, "2.5 GB");
	human_bytes(b, sizeof(b), -3e6);
	assert_string_equal(b, "-3.0 MB");
	human_bytes(b, sizeof(b), 5e18); /* past TB: still TB */
	assert_string_equal(b, "5000000.0 TB");
}

static void test_a_quiet_period_says_so(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(4096);
	struct period_counts c = {.checks = 0, .ack_s = -1, .resolve_s = -1};
	format_counts(&b, &c);
	assert_string_equal(buf_str(&b), "Checks: 0 (none ran!)\n"
	                                 "Alerts: none. A quiet period.\n"
	                                 "Messages: 0 sent, 0 delivered, 0 read, 0 failed\n");
	buf_release(&b);
}

static void test_counts_with_alerts_and_medians(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(4096);
	struct period_counts c = {.checks = 288,
	                          .unreachable = 2,
	                          .crit = 1,
	                          .warn = 3,
	                          .resolved = 4,
	                          .open = 0,
	                          .ack_s = 125,
	                          .resolve_s = -1,
	                          .sent = 9,
	                          .delivered = 8,
	                          .read = 5,
	                          .failed = 1,
	                          .suppressed = 2};
	format_counts(&b, &c);
	assert_string_equal(buf_str(&b),
	                    "Checks: 288\n"
	                    "Database unreachable in 2 check(s)\n"
	                    "Alerts: 1 critical, 3 warning opened; 4 resolved; 0 open now\n"
	                    "Median time to ack 2m, to resolve -\n"
	                    "Messages: 9 sent, 8 delivered, 5 read, 1 failed, 2 suppressed\n");
	buf_release(&b);
}

static void test_orders_against_the_period_before(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(4096);
	format_orders(&b, 0, 120, 100, NULL);
	format_orders(&b, 1, 5, 0, NULL);
	format_orders(&b, 0, 0, 0, "permission denied");
	assert_string_equal(buf_str(&b), "Orders: 120 vs 100 the day before (+20.0%)\n"
	                                 "Orders: 5 vs 0 the week before\n"
	                                 "Orders: unavailable (permission denied)\n");
	buf_release(&b);
}

static void test_database_figures_only_when_known(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(4096);
	struct db_figures f = {NAN, NAN, NAN, NAN, ""};
	format_figures(&b, &f);
	assert_string_equal(buf_str(&b), "");
	f = (struct db_figures){2.5e9, -1500, 80.4, 12.6, "SELECT 1"};
	format_figures(&b, &f);
	assert_string_equal(buf_str(&b), "Database: 2.5 GB, -1.5 kB/day, full in 80 days\n"
	                                 "Slowest query: 13 ms mean (SELECT 1)\n");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes_read_in_powers_of_a_thousand),
	    cmocka_unit_test(test_a_quiet_period_says_so),
	    cmocka_unit_test(test_counts_with_alerts_and_medians),
	    cmocka_unit_test(test_orders_against_the_period_before),
	    cmocka_unit_test(test_database_figures_only_when_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
