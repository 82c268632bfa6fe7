/*
 * Unit tests of the pure parts of common/monitor/lifecycle.c (included, so its
 * static helpers are reachable; libcommon.a's lifecycle.o is then never
 * linked): how a source's identity is stored, and numbers as statement
 * parameters. The decisions themselves run against PostgreSQL in
 * tests/integration/test_check.sh and test_escalation.sh.
 */
#include "../../common/monitor/lifecycle.c"

#include "testutil.h"

static void test_the_checks_rules_are_stored_as_they_were(void **state)
{
	(void)state;
	char *r = stored_rule(ALERT_SOURCE_CHECK, "deadlocks");
	assert_string_equal(r, "deadlocks");
	free(r);
}

static void test_another_sources_rules_never_meet_the_checks(void **state)
{
	(void)state;
	char *r = stored_rule("alertmanager", "deadlocks");
	assert_string_equal(r, "alertmanager:deadlocks");
	free(r);
	assert_true(is_check("check"));
	assert_false(is_check("alertmanager"));
}

static void test_numbers_as_parameters(void **state)
{
	(void)state;
	char b[48];
	assert_null(num_param(b, sizeof(b), NAN));
	assert_string_equal(num_param(b, sizeof(b), 12), "12");
	assert_string_equal(num_param(b, sizeof(b), 0.1), "0.10000000000000001"); /* exact */
}

static void test_firing_json_carries_what_changed(void **state)
{
	(void)state;
	struct alert_firing f = {
	    .id = {"check", "deadlocks", ""},
	    .severity = "critical",
	    .value = 12,
	    .threshold = 10,
	    .text = "deadlocks: 12",
	};
	struct json_object *o = firing_json(7, &f, "warning");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"id\":7,\"rule\":\"deadlocks\",\"target\":\"\",\"severity\":"
	                    "\"critical\",\"previous_severity\":\"warning\",\"value\":12.0,"
	                    "\"message\":\"deadlocks: 12\"}");
	json_object_put(o);
	f.value = NAN;
	o = firing_json(8, &f, NULL);
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, "value", &v));
	assert_null(v);
	assert_false(json_object_object_get_ex(o, "previous_severity", &v));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_checks_rules_are_stored_as_they_were),
	    cmocka_unit_test(test_another_sources_rules_never_meet_the_checks),
	    cmocka_unit_test(test_numbers_as_parameters),
	    cmocka_unit_test(test_firing_json_carries_what_changed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
