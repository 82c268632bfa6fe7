/* Unit tests of common/core/money.c: ISO 4217 codes, limits, the text of an amount, JSON. */
#include "testutil.h"

#include <json-c/json.h>
#include <limits.h>

#include "core/money.h"

/* money_format(amount, code): assert the text is want. */
static void formats(long long amount, const char *code, const char *want)
{
	char out[MONEY_TEXT_MAX];
	if (money_format(amount, code, out) != 0) {
		print_error("money_format(%lld, %s) refused\n", amount, code);
		fail();
	}
	assert_string_equal(out, want);
}

static void test_money_whole_amounts_have_no_decimals(void **state)
{
	(void)state;
	formats(1250000, "NGN", "NGN 12,500");
	formats(100, "USD", "USD 1");
	formats(0, "EUR", "EUR 0");
	formats(100000000, "KES", "KES 1,000,000");
	formats(99900, "GHS", "GHS 999");
}

static void test_money_fractions_show_every_decimal(void **state)
{
	(void)state;
	formats(1250050, "NGN", "NGN 12,500.50");
	formats(99, "USD", "USD 0.99");
	formats(5, "GBP", "GBP 0.05");
	formats(123456789, "ZAR", "ZAR 1,234,567.89");
}

static void test_money_exponent_follows_the_currency(void **state)
{
	(void)state;
	formats(1200, "JPY", "JPY 1,200");
	formats(5000, "XOF", "XOF 5,000");
	formats(15000, "XAF", "XAF 15,000");
	formats(1250, "KWD", "KWD 1.250");
	formats(1000, "KWD", "KWD 1");
	formats(1001, "BHD", "BHD 1.001");
	formats(12345, "CLF", "CLF 1.2345");
	assert_int_equal(money_exponent("NGN"), 2);
	assert_int_equal(money_exponent("JPY"), 0);
	assert_int_equal(money_exponent("KRW"), 0);
	assert_int_equal(money_exponent("OMR"), 3);
	assert_int_equal(money_exponent("TND"), 3);
}

static void test_money_refunds_carry_a_minus(void **state)
{
	(void)state;
	formats(-50000, "NGN", "-NGN 500");
	formats(-99, "USD", "-USD 0.99");
	formats(-1250, "KWD", "-KWD 1.250");
	formats(-MONEY_AMOUNT_MAX, "NGN", "-NGN 10,000,000,000,000");
	formats(MONEY_AMOUNT_MAX, "JPY", "JPY 1,000,000,000,000,000");
	formats(-MONEY_AMOUNT_MAX + 1, "UYW", "-UYW 99,999,999,999.9999");
}

static void test_money_the_common_codes_are_known(void **state)
{
	(void)state;
	static const char *const codes[] = {
	    "NGN", "GHS", "KES", "ZAR", "EGP", "MAD", "XOF", "XAF", "USD", "EUR", "GBP",
	    "CAD", "AUD", "INR", "BRL", "MXN", "JPY", "KRW", "CNY", "CHF", "SEK", "NOK",
	    "DKK", "AED", "SAR", "KWD", "BHD", "OMR", "JOD", "TND", "UGX", "TZS", "RWF"};
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		if (money_exponent(codes[i]) < 0) {
			print_error("%s unknown\n", codes[i]);
			fail();
		}
}

static void test_money_refuses_unknown_codes_and_big_amounts(void **state)
{
	(void)state;
	static const char *const bad[] = {"ngn", "Ngn", "NG",  "NGNN", "",
	                                  "XXX", "ABC", "XAU", "N G",  "NGN "};
	const char *why = NULL;
	char out[MONEY_TEXT_MAX];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(money_exponent(bad[i]), -1);
		assert_int_equal(money_check(100, bad[i], &why), -1);
		assert_contains(why, "ISO 4217");
		assert_int_equal(money_format(100, bad[i], out), -1);
		assert_string_equal(out, "");
	}
	assert_int_equal(money_exponent(NULL), -1);
	assert_int_equal(money_check(MONEY_AMOUNT_MAX, "NGN", &why), 0);
	assert_int_equal(money_check(-MONEY_AMOUNT_MAX, "NGN", &why), 0);
	assert_int_equal(money_check(MONEY_AMOUNT_MAX + 1, "NGN", &why), -1);
	assert_contains(why, "10^15");
	assert_int_equal(money_check(-MONEY_AMOUNT_MAX - 1, "NGN", &why), -1);
	assert_int_equal(money_check(LLONG_MIN, "NGN", &why), -1);
	assert_int_equal(money_format(LLONG_MIN, "NGN", out), -1);
}

/* money_from_json(doc): assert refused naming want_member. */
static void json_refused(const char *doc, const char *want_member)
{
	struct json_object *o = json_tokener_parse(doc);
	struct money m;
	const char *member = NULL, *why = NULL;
	if (money_from_json(o, &m, &member, &why) == 0) {
		print_error("money_from_json(%s) accepted it\n", doc);
		fail();
	}
	assert_string_equal(member, want_member);
	assert_non_null(why);
	json_object_put(o);
}

static void test_money_from_json(void **state)
{
	(void)state;
	struct json_object *o =
	    json_tokener_parse("{\"amount\":1250000,\"currency\":\"NGN\",\"display\":\"x\"}");
	struct money m;
	const char *member = NULL, *why = NULL;
	assert_int_equal(money_from_json(o, &m, &member, &why), 0);
	assert_int_equal(m.amount, 1250000);
	assert_string_equal(m.currency, "NGN");
	json_object_put(o);
	o = json_tokener_parse("{\"amount\":-500,\"currency\":\"USD\"}");
	assert_int_equal(money_from_json(o, &m, &member, &why), 0);
	assert_int_equal(m.amount, -500);
	json_object_put(o);

	json_refused("[1250000, \"NGN\"]", "");
	json_refused("\"NGN 12,500\"", "");
	json_refused("{\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":\"1250000\",\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":12500.5,\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":1e6,\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":null,\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":1000000000000001,\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":99999999999999999999,\"currency\":\"NGN\"}", "amount");
	json_refused("{\"amount\":100}", "currency");
	json_refused("{\"amount\":100,\"currency\":\"ngn\"}", "currency");
	json_refused("{\"amount\":100,\"currency\":566}", "currency");
	struct json_object *none = NULL;
	assert_int_equal(money_from_json(none, &m, &member, &why), -1);
	assert_string_equal(member, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_money_whole_amounts_have_no_decimals),
	    cmocka_unit_test(test_money_fractions_show_every_decimal),
	    cmocka_unit_test(test_money_exponent_follows_the_currency),
	    cmocka_unit_test(test_money_refunds_carry_a_minus),
	    cmocka_unit_test(test_money_the_common_codes_are_known),
	    cmocka_unit_test(test_money_refuses_unknown_codes_and_big_amounts),
	    cmocka_unit_test(test_money_from_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
