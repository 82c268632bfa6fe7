/*
 * Unit tests of common/jobs/drain.c's pure parts: the steps' order and names (tick's output
 * and the tests read them) and what each step reports.
 */
#include "testutil.h"

#include "jobs/drain.h"

static void test_drain_steps_run_in_order_with_tick_names(void **state)
{
	(void)state;
	assert_int_equal(DRAIN_STEP_COUNT, 5);
	assert_string_equal(drain_step_name(DRAIN_STEP_WEBHOOK_RETRIES), "webhook_retries");
	assert_string_equal(drain_step_name(DRAIN_STEP_PAUSE_END), "pause_end");
	/* The fallback before escalation: a never-delivered alert escalates in the same run. */
	assert_true(DRAIN_STEP_FALLBACK < DRAIN_STEP_ESCALATE);
	assert_string_equal(drain_step_name(DRAIN_STEP_FALLBACK), "fallback");
	assert_string_equal(drain_step_name(DRAIN_STEP_ESCALATE), "escalate");
	/* Sending last: tick puts its scheduled work between escalation and it. */
	assert_int_equal(DRAIN_STEP_SEND, DRAIN_STEP_COUNT - 1);
	assert_string_equal(drain_step_name(DRAIN_STEP_SEND), "drain");
	assert_string_equal(drain_step_name(DRAIN_STEP_COUNT), "?");
}

/* The member name of o as an int (-1 when absent or not an int). */
static int int_of(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int(v);
}

static void test_drain_step_json_reports_each_steps_counts(void **state)
{
	(void)state;
	struct drain_run run = DRAIN_RUN_INIT;
	run.ws.events = 3;
	run.ws.failed = 1;
	run.ws.ignored = 2;
	run.ws.stale = 4;
	run.pause_announced = 1;
	run.fs.examined = 12;
	run.fs.queued = 13;
	run.fs.sms = 14;
	run.fs.email = 15;
	run.fs.exhausted = 16;
	run.es.escalated = 5;
	run.es.repeated = 6;
	run.ds.replayed = 7;
	run.ds.quarantined = 8;
	run.ds.sent = 9;
	run.ds.retried = 10;
	run.ds.failed = 11;
	run.ds.stopped = 1;
	run.ds.merged = 12;

	struct json_object *o = drain_step_json(DRAIN_STEP_WEBHOOK_RETRIES, &run);
	assert_int_equal(int_of(o, "events"), 3);
	assert_int_equal(int_of(o, "failed"), 1);
	assert_int_equal(int_of(o, "ignored"), 2);
	assert_int_equal(int_of(o, "stale_commands"), 4);
	json_object_put(o);

	o = drain_step_json(DRAIN_STEP_PAUSE_END, &run);
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, "announced", &v));
	assert_true(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	json_object_put(o);

	o = drain_step_json(DRAIN_STEP_FALLBACK, &run);
	assert_int_equal(int_of(o, "examined"), 12);
	assert_int_equal(int_of(o, "queued"), 13);
	assert_int_equal(int_of(o, "sms"), 14);
	assert_int_equal(int_of(o, "email"), 15);
	assert_int_equal(int_of(o, "exhausted"), 16);
	json_object_put(o);

	o = drain_step_json(DRAIN_STEP_ESCALATE, &run);
	assert_int_equal(int_of(o, "escalated"), 5);
	assert_int_equal(int_of(o, "repeated"), 6);
	json_object_put(o);

	o = drain_step_json(DRAIN_STEP_SEND, &run);
	assert_int_equal(int_of(o, "replayed"), 7);
	assert_int_equal(int_of(o, "quarantined"), 8);
	assert_int_equal(int_of(o, "sent"), 9);
	assert_int_equal(int_of(o, "retried"), 10);
	assert_int_equal(int_of(o, "failed"), 11);
	assert_int_equal(int_of(o, "merged"), 12);
	assert_true(json_object_object_get_ex(o, "stopped", &v));
	assert_true(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
	json_object_put(o);
}

static void test_drain_run_init_is_all_zero(void **state)
{
	(void)state;
	struct drain_run run = DRAIN_RUN_INIT;
	struct json_object *o = drain_step_json(DRAIN_STEP_SEND, &run);
	assert_int_equal(int_of(o, "sent"), 0);
	assert_int_equal(int_of(o, "replayed"), 0);
	json_object_put(o);
	o = drain_step_json(DRAIN_STEP_PAUSE_END, &run);
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, "announced", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drain_steps_run_in_order_with_tick_names),
	    cmocka_unit_test(test_drain_step_json_reports_each_steps_counts),
	    cmocka_unit_test(test_drain_run_init_is_all_zero),
	};
	return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
