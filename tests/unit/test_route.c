/*
 * Unit tests of common/monitor/route.c: who is told and when, in a zone with DST
 * (Europe/Berlin: CET = UTC+1, CEST = UTC+2 from 2026-03-29 01:00 UTC).
 * Business hours 09:00-22:00 on weekdays.
 */
#include "testutil.h"

#include "core/config.h"
#include "monitor/route.h"

static struct config cfg;

static time_t utc(int y, int mo, int d, int h, int mi)
{
	return tu_utc(y, mo, d, h, mi, 0);
}

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	free(cfg.timezone);
	cfg.timezone = xstrdup("Europe/Berlin");
	cfg.business_hours_start = 9 * 60;
	cfg.business_hours_end = 22 * 60;
	cfg.critical.n = 1;
	memcpy(cfg.critical.num[0], "+491511111111", 14);
	cfg.warning.n = 1;
	memcpy(cfg.warning.num[0], "+491522222222", 14);
	cfg.weekend.n = 1;
	memcpy(cfg.weekend.num[0], "+491533333333", 14);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static void warning_at_0859_is_held_until_0900(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 25, 7, 59); /* Wednesday 08:59 CET */
	assert_int_equal(route_decide(&cfg, "warning", 0, now, &r), 0);
	assert_ptr_equal(r.to, &cfg.warning);
	assert_true(r.not_before == utc(2026, 11, 25, 8, 0));
}

static void warning_at_0900_goes_at_once(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 25, 8, 0);
	route_decide(&cfg, "warning", 0, now, &r);
	assert_true(r.not_before == now);
}

static void warning_at_2159_goes_at_once(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 25, 20, 59);
	route_decide(&cfg, "warning", 0, now, &r);
	assert_true(r.not_before == now);
}

static void warning_at_2200_is_held_until_next_morning(void **state)
{
	(void)state;
	struct route r;
	route_decide(&cfg, "warning", 0, utc(2026, 11, 25, 21, 0), &r);
	assert_true(r.not_before == utc(2026, 11, 26, 8, 0)); /* Thursday 09:00 CET */
}

static void warning_on_friday_night_is_held_until_monday(void **state)
{
	(void)state;
	struct route r;
	route_decide(&cfg, "warning", 0, utc(2026, 11, 27, 22, 30), &r); /* Fri 23:30 */
	assert_true(r.not_before == utc(2026, 11, 30, 8, 0));            /* Mon 09:00 */
}

static void warning_held_across_the_spring_dst_change_opens_at_local_0900(void **state)
{
	(void)state;
	struct route r;
	/* Saturday 2026-03-28 12:00 CET; clocks go forward Sunday; Monday 09:00 is CEST. */
	route_decide(&cfg, "warning", 0, utc(2026, 3, 28, 11, 0), &r);
	assert_true(r.not_before == utc(2026, 3, 30, 7, 0));
}

static void warning_held_across_the_autumn_dst_change_opens_at_local_0900(void **state)
{
	(void)state;
	struct route r;
	/* Friday 2026-10-23 23:00 CEST; clocks go back Sunday; Monday 09:00 is CET. */
	route_decide(&cfg, "warning", 0, utc(2026, 10, 23, 21, 0), &r);
	assert_true(r.not_before == utc(2026, 10, 26, 8, 0));
}

static void critical_goes_at_once_at_night(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 25, 2, 0); /* Wednesday 03:00 */
	route_decide(&cfg, "critical", 0, now, &r);
	assert_ptr_equal(r.to, &cfg.critical);
	assert_true(r.not_before == now);
}

static void critical_on_saturday_goes_to_the_weekend_list(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 28, 10, 0);
	route_decide(&cfg, "critical", 0, now, &r);
	assert_ptr_equal(r.to, &cfg.weekend);
	assert_true(r.not_before == now);
}

static void critical_on_friday_2359_local_still_weekday_list(void **state)
{
	(void)state;
	struct route r;
	route_decide(&cfg, "critical", 0, utc(2026, 11, 27, 22, 59), &r); /* Fri 23:59 CET */
	assert_ptr_equal(r.to, &cfg.critical);
	route_decide(&cfg, "critical", 0, utc(2026, 11, 27, 23, 0), &r); /* Sat 00:00 CET */
	assert_ptr_equal(r.to, &cfg.weekend);
}

static void weekend_without_weekend_list_falls_back_to_critical(void **state)
{
	(void)state;
	struct route r;
	cfg.weekend.n = 0;
	route_decide(&cfg, "critical", 0, utc(2026, 11, 28, 10, 0), &r);
	assert_ptr_equal(r.to, &cfg.critical);
	cfg.weekend.n = 1;
}

static void warning_without_warning_list_goes_to_critical(void **state)
{
	(void)state;
	struct route r;
	cfg.warning.n = 0;
	route_decide(&cfg, "warning", 0, utc(2026, 11, 25, 10, 0), &r);
	assert_ptr_equal(r.to, &cfg.critical);
	cfg.warning.n = 1;
}

static void emergency_goes_to_critical_at_once_even_at_night_on_weekends(void **state)
{
	(void)state;
	struct route r;
	time_t now = utc(2026, 11, 29, 2, 0); /* Sunday 03:00 */
	route_decide(&cfg, "warning", 1, now, &r);
	assert_ptr_equal(r.to, &cfg.critical);
	assert_true(r.not_before == now);
}

/* The process's own zone (TZ) plays no part: routing works in TIMEZONE. */
static void routing_ignores_the_process_time_zone(void **state)
{
	(void)state;
	struct route r;
	setenv("TZ", "Asia/Tokyo", 1); /* 16:59 on Wednesday in Tokyo: business hours there */
	route_decide(&cfg, "warning", 0, utc(2026, 11, 25, 7, 59), &r);
	assert_true(r.not_before == utc(2026, 11, 25, 8, 0)); /* 08:59 in Berlin: held */
	unsetenv("TZ");
	route_decide(&cfg, "warning", 0, utc(2026, 11, 25, 7, 59), &r);
	assert_true(r.not_before == utc(2026, 11, 25, 8, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(warning_at_0859_is_held_until_0900),
	    cmocka_unit_test(warning_at_0900_goes_at_once),
	    cmocka_unit_test(warning_at_2159_goes_at_once),
	    cmocka_unit_test(warning_at_2200_is_held_until_next_morning),
	    cmocka_unit_test(warning_on_friday_night_is_held_until_monday),
	    cmocka_unit_test(warning_held_across_the_spring_dst_change_opens_at_local_0900),
	    cmocka_unit_test(warning_held_across_the_autumn_dst_change_opens_at_local_0900),
	    cmocka_unit_test(critical_goes_at_once_at_night),
	    cmocka_unit_test(critical_on_saturday_goes_to_the_weekend_list),
	    cmocka_unit_test(critical_on_friday_2359_local_still_weekday_list),
	    cmocka_unit_test(weekend_without_weekend_list_falls_back_to_critical),
	    cmocka_unit_test(warning_without_warning_list_goes_to_critical),
	    cmocka_unit_test(emergency_goes_to_critical_at_once_even_at_night_on_weekends),
	    cmocka_unit_test(routing_ignores_the_process_time_zone),
	};
	return cmocka_run_group_tests_name("route", tests, setup, teardown);
}
