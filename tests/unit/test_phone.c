/* Unit tests of common/core/phone.c: normalisation to E.164. */
#include "testutil.h"

#include "core/phone.h"

/* Normalise in; assert success and the expected E.164 form. */
static void assert_normalizes(const char *in, const char *want)
{
	char out[PHONE_MAX];
	const char *err = NULL;
	memset(out, 0, sizeof(out));
	if (phone_normalize(in, out, &err) != 0) {
		print_error("phone_normalize(\"%s\") failed: %s\n", in, err ? err : "(no error)");
		fail();
	}
	assert_string_equal(out, want);
}

/* Normalise in; assert failure with an error message. */
static const char *assert_rejects(const char *in)
{
	char out[PHONE_MAX];
	const char *err = NULL;
	if (phone_normalize(in, out, &err) == 0) {
		print_error("phone_normalize(\"%s\") accepted it as %s\n", in ? in : "(null)", out);
		fail();
	}
	assert_non_null(err);
	return err;
}

static void test_phone_normalizes_spaced_international_number(void **state)
{
	(void)state;
	assert_normalizes("+52 55 1234 5678", "+525512345678");
}

static void test_phone_normalizes_parenthesised_plus_and_dashes(void **state)
{
	(void)state;
	assert_normalizes("(+44) 20-7946-0958", "+442079460958");
}

static void test_phone_normalizes_00_international_prefix(void **state)
{
	(void)state;
	assert_normalizes("0044 20 7946 0958", "+442079460958");
	assert_normalizes("00525512345678", "+525512345678");
}

static void test_phone_normalizes_whatsapp_prefix(void **state)
{
	(void)state;
	assert_normalizes("whatsapp:+15551234567", "+15551234567");
}

static void test_phone_keeps_already_normalized_number(void **state)
{
	(void)state;
	assert_normalizes("+15551234567", "+15551234567");
	assert_normalizes("  +1.555.123.4567\t", "+15551234567");
}

static void test_phone_accepts_8_and_15_digits(void **state)
{
	(void)state;
	assert_normalizes("+12345678", "+12345678");
	assert_normalizes("+123456789012345", "+123456789012345");
}

static void test_phone_rejects_number_without_country_code(void **state)
{
	(void)state;
	assert_contains(assert_rejects("55 1234 5678"), "country code");
	assert_rejects("020 7946 0958");
}

static void test_phone_rejects_letters(void **state)
{
	(void)state;
	assert_contains(assert_rejects("+52 55 CALL NOW"), "not a digit");
	assert_rejects("+1555123456x");
	assert_rejects("+1 555 123 4567 ext 2");
	assert_rejects("tel:+15551234567");
}

static void test_phone_rejects_too_short(void **state)
{
	(void)state;
	assert_contains(assert_rejects("+1234567"), "8 to 15");
	assert_rejects("+1");
}

static void test_phone_rejects_too_long(void **state)
{
	(void)state;
	assert_contains(assert_rejects("+1234567890123456"), "15");
	/* Far more digits than any buffer inside: must fail, not overflow. */
	assert_rejects("+1234567890123456789012345678901234567890123456789012345678901234567890");
}

static void test_phone_rejects_plus_in_the_middle(void **state)
{
	(void)state;
	assert_contains(assert_rejects("52+5512345678"), "'+'");
	assert_rejects("+52 55+12345678");
	assert_rejects("++525512345678");
}

static void test_phone_rejects_country_code_starting_with_0(void **state)
{
	(void)state;
	assert_contains(assert_rejects("+0525512345678"), "0");
	assert_rejects("000525512345678");
}

static void test_phone_rejects_empty(void **state)
{
	(void)state;
	assert_rejects("");
	assert_rejects("   ");
	assert_rejects("+");
	assert_rejects("whatsapp:");
	assert_rejects("00");
	assert_rejects(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phone_normalizes_spaced_international_number),
	    cmocka_unit_test(test_phone_normalizes_parenthesised_plus_and_dashes),
	    cmocka_unit_test(test_phone_normalizes_00_international_prefix),
	    cmocka_unit_test(test_phone_normalizes_whatsapp_prefix),
	    cmocka_unit_test(test_phone_keeps_already_normalized_number),
	    cmocka_unit_test(test_phone_accepts_8_and_15_digits),
	    cmocka_unit_test(test_phone_rejects_number_without_country_code),
	    cmocka_unit_test(test_phone_rejects_letters),
	    cmocka_unit_test(test_phone_rejects_too_short),
	    cmocka_unit_test(test_phone_rejects_too_long),
	    cmocka_unit_test(test_phone_rejects_plus_in_the_middle),
	    cmocka_unit_test(test_phone_rejects_country_code_starting_with_0),
	    cmocka_unit_test(test_phone_rejects_empty),
	};
	return cmocka_run_group_tests_name("phone", tests, NULL, NULL);
}
