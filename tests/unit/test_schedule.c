/*
 * Unit tests of common/monitor/schedule.c: report slots at the exact minute, across
 * the DST changes of Europe/Berlin (CET = UTC+1; CEST = UTC+2 from 2026-03-29
 * 01:00 UTC to 2026-10-25 01:00 UTC), weekly on the right day, and whether a
 * check is due. The clock is a parameter: every instant here is chosen.
 */
#include "testutil.h"

#include "core/config.h"
#include "monitor/schedule.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	free(cfg.timezone);
	cfg.timezone = xstrdup("Europe/Berlin");
	cfg.report_daily_time = 8 * 60;
	cfg.report_weekly_day = 1; /* Monday */
	cfg.monitoring_interval_ms = 6LL * 3600 * 1000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static void daily_slot_turns_at_the_exact_minute(void **state)
{
	(void)state;
	struct slot s;
	/* Monday 2026-11-23, 07:59:59 CET: still yesterday's slot. */
	schedule_daily(&cfg, tu_utc(2026, 11, 23, 6, 59, 59), &s);
	assert_string_equal(s.key, "2026-11-22");
	assert_true(s.at == tu_utc(2026, 11, 22, 7, 0, 0));
	/* 08:00:00 CET: today's. */
	schedule_daily(&cfg, tu_utc(2026, 11, 23, 7, 0, 0), &s);
	assert_string_equal(s.key, "2026-11-23");
	assert_true(s.at == tu_utc(2026, 11, 23, 7, 0, 0));
	assert_true(s.from == tu_utc(2026, 11, 22, 7, 0, 0));
	/* Late in the evening: still today's. */
	schedule_daily(&cfg, tu_utc(2026, 11, 23, 22, 59, 0), &s);
	assert_string_equal(s.key, "2026-11-23");
}

static void daily_slot_follows_summer_time(void **state)
{
	(void)state;
	struct slot s;
	/* Sunday 2026-03-29: clocks go 02:00 -> 03:00. 08:00 CEST is 06:00 UTC. */
	schedule_daily(&cfg, tu_utc(2026, 3, 29, 5, 59, 0), &s);
	assert_string_equal(s.key, "2026-03-28");
	schedule_daily(&cfg, tu_utc(2026, 3, 29, 6, 0, 0), &s);
	assert_string_equal(s.key, "2026-03-29");
	assert_true(s.at == tu_utc(2026, 3, 29, 6, 0, 0));
	/* The period before it is 23 hours long: from 08:00 CET the day before. */
	assert_true(s.from == tu_utc(2026, 3, 28, 7, 0, 0));
	assert_int_equal((int)(s.at - s.from), 23 * 3600);
}

static void daily_slot_follows_winter_time(void **state)
{
	(void)state;
	struct slot s;
	/* Sunday 2026-10-25: clocks go 03:00 -> 02:00. 08:00 CET is 07:00 UTC again. */
	schedule_daily(&cfg, tu_utc(2026, 10, 25, 7, 0, 0), &s);
	assert_string_equal(s.key, "2026-10-25");
	assert_true(s.from == tu_utc(2026, 10, 24, 6, 0, 0));
	assert_int_equal((int)(s.at - s.from), 25 * 3600);
	schedule_daily(&cfg, tu_utc(2026, 10, 25, 6, 59, 0), &s);
	assert_string_equal(s.key, "2026-10-24");
}

static void a_time_the_spring_change_skips_still_has_a_slot(void **state)
{
	(void)state;
	struct slot s;
	cfg.report_daily_time = 2 * 60 + 30; /* 02:30 does not exist on 2026-03-29 */
	schedule_daily(&cfg, tu_utc(2026, 3, 29, 2, 0, 0), &s);
	assert_string_equal(s.key, "2026-03-29");
	assert_true(s.at <= tu_utc(2026, 3, 29, 2, 0, 0));
	schedule_daily(&cfg, tu_utc(2026, 3, 29, 23, 0, 0), &s);
	assert_string_equal(s.key, "2026-03-29");
	cfg.report_daily_time = 8 * 60;
}

static void weekly_slot_is_on_its_day(void **state)
{
	(void)state;
	struct slot s;
	/* Monday 2026-11-23 08:00 CET. */
	schedule_weekly(&cfg, tu_utc(2026, 11, 23, 7, 0, 0), &s);
	assert_string_equal(s.key, "2026-11-23");
	assert_true(s.from == tu_utc(2026, 11, 16, 7, 0, 0));
	/* One minute before: last Monday's. */
	schedule_weekly(&cfg, tu_utc(2026, 11, 23, 6, 59, 0), &s);
	assert_string_equal(s.key, "2026-11-16");
	/* Sunday evening: still this Monday's. */
	schedule_weekly(&cfg, tu_utc(2026, 11, 29, 20, 0, 0), &s);
	assert_string_equal(s.key, "2026-11-23");
	/* Another day: Friday. */
	cfg.report_weekly_day = 5;
	schedule_weekly(&cfg, tu_utc(2026, 11, 23, 7, 0, 0), &s);
	assert_string_equal(s.key, "2026-11-20");
	cfg.report_weekly_day = 1;
}

static void weekly_period_across_dst_is_a_local_week(void **state)
{
	(void)state;
	struct slot s;
	/* Monday 2026-03-30 08:00 CEST: the week before it lost an hour. */
	schedule_weekly(&cfg, tu_utc(2026, 3, 30, 6, 0, 0), &s);
	assert_string_equal(s.key, "2026-03-30");
	assert_true(s.from == tu_utc(2026, 3, 23, 7, 0, 0));
	assert_int_equal((int)(s.at - s.from), 7 * 86400 - 3600);
}

static void check_due_after_the_interval(void **state)
{
	(void)state;
	time_t now = tu_utc(2026, 11, 23, 12, 0, 0);
	assert_true(schedule_check_due(&cfg, now, 0));
	assert_false(schedule_check_due(&cfg, now, (double)now - 3600));
	assert_true(schedule_check_due(&cfg, now, (double)now - 6 * 3600));
	assert_true(schedule_check_due(&cfg, now, (double)now - 8 * 3600));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(daily_slot_turns_at_the_exact_minute),
	    cmocka_unit_test(daily_slot_follows_summer_time),
	    cmocka_unit_test(daily_slot_follows_winter_time),
	    cmocka_unit_test(a_time_the_spring_change_skips_still_has_a_slot),
	    cmocka_unit_test(weekly_slot_is_on_its_day),
	    cmocka_unit_test(weekly_period_across_dst_is_a_local_week),
	    cmocka_unit_test(check_due_after_the_interval),
	};
	return cmocka_run_group_tests_name("schedule", tests, setup, teardown);
}
