/*
 * Unit tests of common/monitor/canary.c's pure parts: judging a series of
 * canaries at a chosen instant, when the next one is due, and what the
 * health JSON and the Prometheus families say (the SQL and the tick's step run
 * in tests/integration/test_canary.sh).
 */
#include "testutil.h"

#include "core/buf.h"
#include "core/config.h"
#include "monitor/canary.h"

#define T0 1796000000.0 /* a queued_at */
#define IV 300          /* interval */
#define DL 60           /* deadline */

static struct canary_row row(long long id, double queued, double receipt)
{
	return (struct canary_row){id, queued, receipt};
}

static void test_off_whatever_the_rows(void **state)
{
	(void)state;
	struct canary_row r[1] = {row(1, T0, NAN)};
	int j;
	assert_int_equal(canary_judge(r, 1, T0 + 1000, 0, DL, &j), CANARY_OFF);
	assert_int_equal(j, -1);
}

static void test_no_canary_yet_is_pending(void **state)
{
	(void)state;
	int j;
	assert_int_equal(canary_judge(NULL, 0, T0, IV, DL, &j), CANARY_PENDING);
	assert_int_equal(j, -1);
}

static void test_receipt_within_the_deadline_is_ok_at_the_deadline_exactly(void **state)
{
	(void)state;
	struct canary_row r[1] = {row(7, T0, T0 + DL)};
	int j;
	assert_int_equal(canary_judge(r, 1, T0 + DL + 5, IV, DL, &j), CANARY_OK);
	assert_int_equal(j, 0);
	r[0].receipt_at = T0 + DL + 0.5;
	assert_int_equal(canary_judge(r, 1, T0 + DL + 5, IV, DL, &j), CANARY_LATE);
	assert_int_equal(j, 0);
}

static void test_in_flight_then_late_once_the_deadline_passed(void **state)
{
	(void)state;
	struct canary_row r[1] = {row(7, T0, NAN)};
	int j;
	assert_int_equal(canary_judge(r, 1, T0 + DL, IV, DL, &j), CANARY_PENDING);
	assert_int_equal(j, -1);
	assert_int_equal(canary_judge(r, 1, T0 + DL + 1, IV, DL, &j), CANARY_LATE);
	assert_int_equal(j, 0);
}

static void test_in_flight_the_previous_canary_speaks(void **state)
{
	(void)state;
	struct canary_row r[2] = {row(8, T0 + IV, NAN), row(7, T0, NAN)};
	int j;
	/* The previous one never came back: still late while the new one flies. */
	assert_int_equal(canary_judge(r, 2, T0 + IV + 5, IV, DL, &j), CANARY_LATE);
	assert_int_equal(j, 1);
	/* It came back in time: ok. */
	r[1].receipt_at = T0 + 3;
	assert_int_equal(canary_judge(r, 2, T0 + IV + 5, IV, DL, &j), CANARY_OK);
	assert_int_equal(j, 1);
	/* The new one comes back: it speaks. */
	r[0].receipt_at = T0 + IV + 2;
	r[1].receipt_at = NAN;
	assert_int_equal(canary_judge(r, 2, T0 + IV + 5, IV, DL, &j), CANARY_OK);
	assert_int_equal(j, 0);
}

static void test_a_previous_canary_of_an_older_series_does_not_speak(void **state)
{
	(void)state;
	/* Off for a day, then on again: the canary of yesterday says nothing about today. */
	struct canary_row r[2] = {row(9, T0 + 86400, NAN), row(7, T0, NAN)};
	int j;
	assert_int_equal(canary_judge(r, 2, T0 + 86400 + 5, IV, DL, &j), CANARY_PENDING);
	assert_int_equal(j, -1);
	/* Just within an interval, the deadline and the grace: it still does. */
	r[0].queued_at = T0 + IV + DL + CANARY_TICK_GRACE_S;
	assert_int_equal(canary_judge(r, 2, r[0].queued_at + 5, IV, DL, &j), CANARY_LATE);
	assert_int_equal(j, 1);
}

static void test_a_series_that_stopped_is_late(void **state)
{
	(void)state;
	struct canary_row r[1] = {row(7, T0, T0 + 2)};
	double stop = T0 + IV + DL + CANARY_TICK_GRACE_S;
	int j;
	assert_int_equal(canary_judge(r, 1, stop, IV, DL, &j), CANARY_OK);
	assert_int_equal(canary_judge(r, 1, stop + 1, IV, DL, &j), CANARY_LATE);
	assert_int_equal(j, -1);
}

static void test_due_after_an_interval_and_never_when_off(void **state)
{
	(void)state;
	struct config cfg;
	config_init(&cfg);
	assert_false(canary_due(&cfg, T0, 0));
	cfg.canary_interval_s = IV;
	assert_true(canary_due(&cfg, T0, 0));
	assert_false(canary_due(&cfg, T0 + IV - 1, T0));
	assert_true(canary_due(&cfg, T0 + IV, T0));
	config_release(&cfg);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(canary_state_name(CANARY_OFF), "off");
	assert_string_equal(canary_state_name(CANARY_PENDING), "pending");
	assert_string_equal(canary_state_name(CANARY_OK), "ok");
	assert_string_equal(canary_state_name(CANARY_LATE), "late");
}

static void test_json_times_in_utc_and_nulls_when_none(void **state)
{
	(void)state;
	struct canary_status st = {
	    .state = CANARY_OK,
	    .interval_s = IV,
	    .deadline_s = DL,
	    .last_sent_at = 1796000000, /* 2026-11-30T00:53:20Z */
	    .last_receipt_at = 1796000004.5,
	    .round_trip_s = 4.5004,
	};
	struct json_object *o = canary_status_json(&st);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"state\":\"ok\",\"interval_seconds\":300,\"deadline_seconds\":60,"
	                    "\"last_sent_at\":\"2026-11-30T00:53:20Z\",\"last_receipt_at\":"
	                    "\"2026-11-30T00:53:24Z\",\"round_trip_seconds\":4.5}");
	json_object_put(o);
	struct canary_status none = {.state = CANARY_PENDING, .round_trip_s = NAN};
	o = canary_status_json(&none);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"state\":\"pending\",\"interval_seconds\":0,\"deadline_seconds\":0,"
	                    "\"last_sent_at\":null,\"last_receipt_at\":null,\"round_trip_seconds\":"
	                    "null}");
	json_object_put(o);
}

static void test_prometheus_families(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1 << 16);
	struct canary_status st = {
	    .state = CANARY_LATE,
	    .interval_s = IV,
	    .deadline_s = DL,
	    .last_sent_at = 1796000000,
	    .round_trip_s = NAN,
	};
	assert_int_equal(canary_prom_write(&b, &st), 0);
	const char *s = buf_str(&b);
	assert_contains(s, "# TYPE whatsapp_monitor_canary_late gauge\n");
	assert_contains(s, "\nwhatsapp_monitor_canary_late 1\n");
	assert_contains(s, "\nwhatsapp_monitor_canary_interval_seconds 300\n");
	assert_contains(s, "\nwhatsapp_monitor_canary_deadline_seconds 60\n");
	assert_contains(s, "\nwhatsapp_monitor_canary_last_sent_timestamp_seconds 1796000000\n");
	assert_contains(s, "\nwhatsapp_monitor_canary_last_receipt_timestamp_seconds 0\n");
	/* No round trip yet: the family, no sample. */
	assert_contains(s, "# TYPE whatsapp_monitor_canary_round_trip_seconds gauge\n");
	assert_not_contains(s, "\nwhatsapp_monitor_canary_round_trip_seconds ");
	buf_release(&b);

	/* Off: only the settings, saying so. */
	struct buf off = BUF_INIT(1 << 16);
	struct canary_status st_off = {.state = CANARY_OFF, .deadline_s = DL, .round_trip_s = NAN};
	assert_int_equal(canary_prom_write(&off, &st_off), 0);
	assert_contains(buf_str(&off), "\nwhatsapp_monitor_canary_interval_seconds 0\n");
	assert_not_contains(buf_str(&off), "canary_late");
	buf_release(&off);

	/* The buffer's limit: -1, not a crash. */
	struct buf tiny = BUF_INIT(64);
	assert_int_equal(canary_prom_write(&tiny, &st), -1);
	buf_release(&tiny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off_whatever_the_rows),
	    cmocka_unit_test(test_no_canary_yet_is_pending),
	    cmocka_unit_test(test_receipt_within_the_deadline_is_ok_at_the_deadline_exactly),
	    cmocka_unit_test(test_in_flight_then_late_once_the_deadline_passed),
	    cmocka_unit_test(test_in_flight_the_previous_canary_speaks),
	    cmocka_unit_test(test_a_previous_canary_of_an_older_series_does_not_speak),
	    cmocka_unit_test(test_a_series_that_stopped_is_late),
	    cmocka_unit_test(test_due_after_an_interval_and_never_when_off),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_json_times_in_utc_and_nulls_when_none),
	    cmocka_unit_test(test_prometheus_families),
	};
	return cmocka_run_group_tests_name("canary", tests, NULL, NULL);
}
