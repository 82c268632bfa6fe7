/*
 * Unit tests of common/tenants/quiet.c: a seller's quiet hours and digest slots in the
 * seller's zone, within a day, across midnight, and across the DST changes of 2026 (London:
 * 29 March 01:00 GMT -> 02:00 BST, 25 October 02:00 BST -> 01:00 GMT; New York: 8 March
 * 02:00 EST -> 03:00 EDT).
 */
#include "testutil.h"

#include "core/tz.h"
#include "tenants/quiet.h"

static int setup(void **state)
{
	(void)state;
	tz_init("UTC");
	return 0;
}

static void within_a_day_held_until_the_end_and_not_outside(void **state)
{
	(void)state;
	assert_int_equal(quiet_until("UTC", "09:00", "17:00", tu_utc(2026, 12, 2, 12, 0, 0)),
	                 tu_utc(2026, 12, 2, 17, 0, 0));
	assert_int_equal(quiet_until("UTC", "09:00", "17:00", tu_utc(2026, 12, 2, 9, 0, 0)),
	                 tu_utc(2026, 12, 2, 17, 0, 0));
	assert_int_equal(quiet_until("UTC", "09:00", "17:00", tu_utc(2026, 12, 2, 8, 59, 59)), 0);
	assert_int_equal(quiet_until("UTC", "09:00", "17:00", tu_utc(2026, 12, 2, 17, 0, 0)), 0);
}

static void spanning_midnight_ends_the_next_morning_or_this_one(void **state)
{
	(void)state;
	/* Berlin in December is UTC+1: 23:30 local is 22:30Z; 07:00 local 06:00Z. */
	const char *z = "Europe/Berlin";
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 12, 2, 22, 30, 0)),
	                 tu_utc(2026, 12, 3, 6, 0, 0));
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 12, 3, 2, 0, 0)),
	                 tu_utc(2026, 12, 3, 6, 0, 0));
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 12, 3, 6, 0, 0)), 0);
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 12, 2, 20, 59, 0)), 0);
	/* The year ends inside them. */
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 12, 31, 23, 30, 0)),
	                 tu_utc(2027, 1, 1, 6, 0, 0));
}

static void the_end_is_wall_clock_time_across_dst(void **state)
{
	(void)state;
	const char *z = "Europe/London";
	/* Spring: 23:00 GMT on the 28th, the end 07:00 BST = 06:00Z (a night an hour short). */
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 3, 28, 23, 0, 0)),
	                 tu_utc(2026, 3, 29, 6, 0, 0));
	/* Autumn: 23:00 BST on the 24th (22:00Z), the end 07:00 GMT = 07:00Z. */
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 10, 24, 22, 0, 0)),
	                 tu_utc(2026, 10, 25, 7, 0, 0));
	/* Inside the repeated hour (01:30 GMT, the second time): still quiet, same end. */
	assert_int_equal(quiet_until(z, "22:00", "07:00", tu_utc(2026, 10, 25, 1, 30, 0)),
	                 tu_utc(2026, 10, 25, 7, 0, 0));
}

static void an_end_that_never_happens_reads_with_the_offset_before(void **state)
{
	(void)state;
	/* New York, 8 March: 02:30 does not exist; read as EST, 07:30Z (03:30 EDT). */
	assert_int_equal(
	    quiet_until("America/New_York", "00:00", "02:30", tu_utc(2026, 3, 8, 6, 0, 0)),
	    tu_utc(2026, 3, 8, 7, 30, 0));
}

static void no_quiet_hours_when_unset_equal_or_malformed(void **state)
{
	(void)state;
	time_t now = tu_utc(2026, 12, 2, 12, 0, 0);
	assert_int_equal(quiet_until("UTC", NULL, NULL, now), 0);
	assert_int_equal(quiet_until("UTC", "12:00", NULL, now), 0);
	assert_int_equal(quiet_until("UTC", "11:00", "11:00", now), 0);
	assert_int_equal(quiet_until("UTC", "11", "13:00", now), 0);
	assert_int_equal(quiet_until("UTC", "25:00", "13:00", now), 0);
}

static void hourly_slot_ends_at_the_next_local_hour(void **state)
{
	(void)state;
	assert_int_equal(digest_slot_end("UTC", DIGEST_HOURLY, tu_utc(2026, 12, 2, 12, 34, 56)),
	                 tu_utc(2026, 12, 2, 13, 0, 0));
	assert_int_equal(digest_slot_end("UTC", DIGEST_HOURLY, tu_utc(2026, 12, 2, 12, 0, 0)),
	                 tu_utc(2026, 12, 2, 13, 0, 0));
	/* Kolkata is UTC+5:30: 17:40 local -> 18:00 local = 12:30Z. */
	assert_int_equal(
	    digest_slot_end("Asia/Kolkata", DIGEST_HOURLY, tu_utc(2026, 12, 2, 12, 10, 0)),
	    tu_utc(2026, 12, 2, 12, 30, 0));
	/* London, clocks back: 01:30 BST (00:30Z) -> 01:00 GMT (01:00Z), not 02:00. */
	assert_int_equal(
	    digest_slot_end("Europe/London", DIGEST_HOURLY, tu_utc(2026, 10, 25, 0, 30, 0)),
	    tu_utc(2026, 10, 25, 1, 0, 0));
	/* Clocks forward: 00:30 GMT -> 02:00 BST (01:00Z). */
	assert_int_equal(
	    digest_slot_end("Europe/London", DIGEST_HOURLY, tu_utc(2026, 3, 29, 0, 30, 0)),
	    tu_utc(2026, 3, 29, 1, 0, 0));
}

static void daily_slot_ends_at_the_next_local_midnight(void **state)
{
	(void)state;
	/* Berlin 23:30 local (22:30Z) -> midnight local = 23:00Z the same UTC day. */
	assert_int_equal(
	    digest_slot_end("Europe/Berlin", DIGEST_DAILY, tu_utc(2026, 12, 2, 22, 30, 0)),
	    tu_utc(2026, 12, 2, 23, 0, 0));
	/* London: before the spring change midnight is 00:00Z; after it, 23:00Z. */
	assert_int_equal(
	    digest_slot_end("Europe/London", DIGEST_DAILY, tu_utc(2026, 3, 28, 12, 0, 0)),
	    tu_utc(2026, 3, 29, 0, 0, 0));
	assert_int_equal(
	    digest_slot_end("Europe/London", DIGEST_DAILY, tu_utc(2026, 3, 29, 12, 0, 0)),
	    tu_utc(2026, 3, 29, 23, 0, 0));
	/* The autumn day is 25 hours long: from 00:30Z (01:30 BST) to 00:00 GMT of the 26th. */
	assert_int_equal(
	    digest_slot_end("Europe/London", DIGEST_DAILY, tu_utc(2026, 10, 25, 0, 30, 0)),
	    tu_utc(2026, 10, 26, 0, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(within_a_day_held_until_the_end_and_not_outside),
	    cmocka_unit_test(spanning_midnight_ends_the_next_morning_or_this_one),
	    cmocka_unit_test(the_end_is_wall_clock_time_across_dst),
	    cmocka_unit_test(an_end_that_never_happens_reads_with_the_offset_before),
	    cmocka_unit_test(no_quiet_hours_when_unset_equal_or_malformed),
	    cmocka_unit_test(hourly_slot_ends_at_the_next_local_hour),
	    cmocka_unit_test(daily_slot_ends_at_the_next_local_midnight),
	};
	return cmocka_run_group_tests_name("quiet", tests, setup, NULL);
}
