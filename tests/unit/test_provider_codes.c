/*
 * Unit tests of the providers' error-code classification, the pure part of
 * common/delivery/provider.c, provider_meta.c and provider_twilio.c that the
 * send path and the webhook's status callbacks share: a code's outcome
 * (provider_meta.code_outcome, provider_twilio.code_outcome), the table walk
 * behind them (provider_code_rule), the fallback by HTTP status
 * (provider_outcome_by_status) and the code as stored text
 * (provider_code_text). The classification of whole answers is in
 * test_provider_meta.c and test_provider_twilio.c.
 */
#include "testutil.h"

#include <limits.h>

#include "delivery/provider.h"
#include "delivery/provider_internal.h"

struct code_case {
	long long code;
	enum send_outcome want;
};

static void assert_outcomes(enum send_outcome (*f)(long long), const struct code_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum send_outcome got = f(c[i].code);
		if (got != c[i].want)
			fail_msg("code %lld: %s, expected %s", c[i].code, send_outcome_name(got),
			         send_outcome_name(c[i].want));
	}
}

static void test_meta_codes_each_class(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {130429, SEND_RETRY},
	    {131000, SEND_RETRY},
	    {131016, SEND_RETRY},
	    {1, SEND_RETRY},
	    {2, SEND_RETRY},
	    {4, SEND_RETRY},
	    {80007, SEND_RETRY},
	    {131057, SEND_RETRY},
	    {17, SEND_RETRY},
	    {613, SEND_RETRY},
	    {131056, SEND_RETRY_RECIPIENT},
	    {131047, SEND_AS_TEMPLATE},
	    {470, SEND_AS_TEMPLATE},
	    {0, SEND_STOP_ALL},
	    {190, SEND_STOP_ALL},
	    {368, SEND_STOP_ALL},
	    {131031, SEND_STOP_ALL},
	    {131042, SEND_STOP_ALL},
	    {131048, SEND_STOP_ALL},
	    {131026, SEND_PERMANENT},
	    {131051, SEND_PERMANENT},
	    {130472, SEND_PERMANENT},
	    {131030, SEND_PERMANENT},
	    {100, SEND_PERMANENT},
	    {131021, SEND_PERMANENT},
	    {3, SEND_PERMANENT},
	    {10, SEND_PERMANENT},
	    {33, SEND_PERMANENT},
	};
	assert_outcomes(provider_meta.code_outcome, cases, ARRAY_LEN(cases));
}

static void test_meta_code_ranges_include_both_ends(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {131049, SEND_PERMANENT},
	    {131050, SEND_PERMANENT}, /* withheld .. stopped marketing */
	    {131008, SEND_PERMANENT},
	    {131009, SEND_PERMANENT}, /* missing / invalid parameter */
	    {200, SEND_PERMANENT},
	    {250, SEND_PERMANENT},
	    {299, SEND_PERMANENT},
	    {132000, SEND_PERMANENT},
	    {132001, SEND_PERMANENT},
	    {132999, SEND_PERMANENT},
	    /* just outside a retry or stop code: nothing of theirs */
	    {189, SEND_PERMANENT},
	    {191, SEND_PERMANENT},
	    {130428, SEND_PERMANENT},
	    {130430, SEND_PERMANENT},
	};
	assert_outcomes(provider_meta.code_outcome, cases, ARRAY_LEN(cases));
}

static void test_meta_unknown_and_out_of_range_codes_are_permanent(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {-1, SEND_PERMANENT},     {-190, SEND_PERMANENT},      {5, SEND_PERMANENT},
	    {999999, SEND_PERMANENT}, {LLONG_MAX, SEND_PERMANENT}, {LLONG_MIN, SEND_PERMANENT},
	    {63016, SEND_PERMANENT}, /* Twilio's window code means nothing to Meta */
	};
	assert_outcomes(provider_meta.code_outcome, cases, ARRAY_LEN(cases));
}

static void test_twilio_codes_each_class(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {20429, SEND_RETRY},       {63017, SEND_RETRY},     {63018, SEND_RETRY},
	    {63016, SEND_AS_TEMPLATE}, {20003, SEND_STOP_ALL},  {20005, SEND_STOP_ALL},
	    {10001, SEND_STOP_ALL},    {30002, SEND_STOP_ALL},  {21211, SEND_PERMANENT},
	    {21614, SEND_PERMANENT},   {63003, SEND_PERMANENT}, {63024, SEND_PERMANENT},
	    {63014, SEND_PERMANENT},   {63032, SEND_PERMANENT}, {63007, SEND_PERMANENT},
	    {63013, SEND_PERMANENT},
	};
	assert_outcomes(provider_twilio.code_outcome, cases, ARRAY_LEN(cases));
}

static void test_twilio_unknown_codes_are_permanent(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {0, SEND_PERMANENT},      {-1, SEND_PERMANENT},        {63015, SEND_PERMANENT},
	    {63019, SEND_PERMANENT},  {LLONG_MAX, SEND_PERMANENT}, {LLONG_MIN, SEND_PERMANENT},
	    {131047, SEND_PERMANENT}, /* Meta's window code means nothing to Twilio */
	    {190, SEND_PERMANENT},
	};
	assert_outcomes(provider_twilio.code_outcome, cases, ARRAY_LEN(cases));
}

static void test_code_rule_first_covering_rule_wins(void **state)
{
	(void)state;
	static const struct code_rule rules[] = {
	    {10, 10, SEND_STOP_ALL},
	    {5, 20, SEND_RETRY},
	    {10, 30, SEND_PERMANENT},
	};
	enum send_outcome o = SEND_SENT;
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 10, &o), 0);
	assert_int_equal(o, SEND_STOP_ALL);
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 5, &o), 0);
	assert_int_equal(o, SEND_RETRY);
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 20, &o), 0);
	assert_int_equal(o, SEND_RETRY);
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 21, &o), 0);
	assert_int_equal(o, SEND_PERMANENT);
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 30, &o), 0);
	assert_int_equal(o, SEND_PERMANENT);
}

static void test_code_rule_uncovered_code_leaves_the_outcome_alone(void **state)
{
	(void)state;
	static const struct code_rule rules[] = {{5, 20, SEND_RETRY}};
	enum send_outcome o = SEND_AS_TEMPLATE;
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 4, &o), -1);
	assert_int_equal(provider_code_rule(rules, ARRAY_LEN(rules), 21, &o), -1);
	assert_int_equal(provider_code_rule(rules, 0, 10, &o), -1); /* an empty table */
	assert_int_equal(o, SEND_AS_TEMPLATE);
}

static void test_outcome_by_status(void **state)
{
	(void)state;
	assert_int_equal(provider_outcome_by_status(401), SEND_STOP_ALL);
	assert_int_equal(provider_outcome_by_status(429), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(500), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(503), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(599), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(400), SEND_PERMANENT);
	assert_int_equal(provider_outcome_by_status(403), SEND_PERMANENT);
	assert_int_equal(provider_outcome_by_status(404), SEND_PERMANENT);
	assert_int_equal(provider_outcome_by_status(499), SEND_PERMANENT);
	/* nothing said about the message: try again */
	assert_int_equal(provider_outcome_by_status(0), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(200), SEND_RETRY);
	assert_int_equal(provider_outcome_by_status(302), SEND_RETRY);
}

static void test_code_text_is_the_code_or_the_status(void **state)
{
	(void)state;
	char s[32];
	provider_code_text(s, sizeof(s), 1, 131047, 400);
	assert_string_equal(s, "131047");
	provider_code_text(s, sizeof(s), 1, 0, 401);
	assert_string_equal(s, "0"); /* Meta's AuthException is a code, not a missing one */
	provider_code_text(s, sizeof(s), 0, 0, 503);
	assert_string_equal(s, "http_503");
	provider_code_text(s, 6, 0, 0, 503); /* cut, and terminated */
	assert_string_equal(s, "http_");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meta_codes_each_class),
	    cmocka_unit_test(test_meta_code_ranges_include_both_ends),
	    cmocka_unit_test(test_meta_unknown_and_out_of_range_codes_are_permanent),
	    cmocka_unit_test(test_twilio_codes_each_class),
	    cmocka_unit_test(test_twilio_unknown_codes_are_permanent),
	    cmocka_unit_test(test_code_rule_first_covering_rule_wins),
	    cmocka_unit_test(test_code_rule_uncovered_code_leaves_the_outcome_alone),
	    cmocka_unit_test(test_outcome_by_status),
	    cmocka_unit_test(test_code_text_is_the_code_or_the_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
