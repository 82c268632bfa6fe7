/*
 * Unit tests of common/core/util.c: strict number parsing and string helpers.
 * The file includes util.c itself, as h2o's unit tests do, to reach its
 * static helpers (ident_part, random_bytes, digits); libcommon.a's util.o is
 * then never pulled in (every symbol it defines is defined here first).
 */
#include "testutil.h"

#include <limits.h>

#include "core/util.c"

/* ---------------------------------------------------------------- parse_int */

static void test_parse_int_accepts_plain_and_signed_decimal(void **state)
{
	(void)state;
	long long v = 0;
	const char *err = NULL;
	assert_int_equal(parse_int("42", 0, 100, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int("-7", -10, 10, &v, &err), 0);
	assert_int_equal(v, -7);
	assert_int_equal(parse_int("+7", -10, 10, &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_int("0", 0, 0, &v, &err), 0);
	assert_int_equal(v, 0);
}

static void test_parse_int_rejects_trailing_junk(void **state)
{
	(void)state;
	long long v = 99;
	const char *err = NULL;
	assert_int_equal(parse_int("12abc", 0, 100, &v, &err), -1);
	assert_string_equal(err, "must be an integer");
	assert_int_equal(parse_int("12 ", 0, 100, &v, &err), -1);
	assert_int_equal(parse_int("1.5", 0, 100, &v, &err), -1);
	assert_int_equal(parse_int("12\n", 0, 100, &v, &err), -1);
	assert_int_equal(v, 99); /* untouched on failure */
}

static void test_parse_int_rejects_leading_space(void **state)
{
	(void)state;
	long long v = 99;
	const char *err = NULL;
	assert_int_equal(parse_int(" 12", 0, 100, &v, &err), -1);
	assert_int_equal(parse_int("\t12", 0, 100, &v, &err), -1);
	assert_int_equal(v, 99);
}

static void test_parse_int_rejects_empty_and_null(void **state)
{
	(void)state;
	long long v = 99;
	const char *err = NULL;
	assert_int_equal(parse_int("", 0, 100, &v, &err), -1);
	assert_string_equal(err, "must be an integer");
	err = NULL;
	assert_int_equal(parse_int(NULL, 0, 100, &v, &err), -1);
	assert_non_null(err);
	assert_int_equal(parse_int("-", 0, 100, &v, &err), -1);
	assert_int_equal(parse_int("+", 0, 100, &v, &err), -1);
	assert_int_equal(v, 99);
}

static void test_parse_int_rejects_hex_and_octal_prefixes_as_junk(void **state)
{
	(void)state;
	long long v = 99;
	const char *err = NULL;
	assert_int_equal(parse_int("0x10", 0, 100, &v, &err), -1);
	/* Base 10 only: a leading zero is not octal. */
	assert_int_equal(parse_int("010", 0, 100, &v, &err), 0);
	assert_int_equal(v, 10);
}

static void test_parse_int_rejects_overflow(void **state)
{
	(void)state;
	long long v = 99;
	const char *err = NULL;
	assert_int_equal(parse_int("9223372036854775808", LLONG_MIN, LLONG_MAX, &v, &err), -1);
	assert_string_equal(err, "is out of range");
	assert_int_equal(parse_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v, &err), -1);
	assert_string_equal(err, "is out of range");
	assert_int_equal(parse_int("99999999999999999999999", LLONG_MIN, LLONG_MAX, &v, &err), -1);
	assert_int_equal(v, 99);
}

static void test_parse_int_accepts_llong_limits(void **state)
{
	(void)state;
	long long v = 0;
	const char *err = NULL;
	assert_int_equal(parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v, &err), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v, &err), 0);
	assert_true(v == LLONG_MIN);
}

static void test_parse_int_enforces_inclusive_bounds(void **state)
{
	(void)state;
	long long v = 0;
	const char *err = NULL;
	assert_int_equal(parse_int("10", 10, 20, &v, &err), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_int("20", 10, 20, &v, &err), 0);
	assert_int_equal(v, 20);
	assert_int_equal(parse_int("9", 10, 20, &v, &err), -1);
	assert_string_equal(err, "is out of range");
	assert_int_equal(parse_int("21", 10, 20, &v, &err), -1);
	assert_string_equal(err, "is out of range");
}

static void test_parse_int_tolerates_null_err(void **state)
{
	(void)state;
	long long v = 0;
	assert_int_equal(parse_int("x", 0, 10, &v, NULL), -1);
	assert_int_equal(parse_int("11", 0, 10, &v, NULL), -1);
}

/* ---------------------------------------------------------------- parse_double */

static void test_parse_double_accepts_decimal_and_exponent(void **state)
{
	(void)state;
	double d = 0;
	const char *err = NULL;
	assert_int_equal(parse_double("1.5", 0, 10, &d, &err), 0);
	assert_double_near(d, 1.5, 0);
	assert_int_equal(parse_double("-2", -10, 10, &d, &err), 0);
	assert_double_near(d, -2, 0);
	assert_int_equal(parse_double("1e3", 0, 1e4, &d, &err), 0);
	assert_double_near(d, 1000, 0);
	assert_int_equal(parse_double(".5", 0, 1, &d, &err), 0);
	assert_double_near(d, 0.5, 0);
	assert_int_equal(parse_double("2.5E-1", 0, 1, &d, &err), 0);
	assert_double_near(d, 0.25, 0);
}

static void test_parse_double_rejects_inf_and_nan(void **state)
{
	(void)state;
	double d = 99;
	const char *err = NULL;
	const char *bad[] = {"inf", "-inf", "INF", "infinity", "nan", "NAN", "-nan", "nan(1)"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		assert_int_equal(parse_double(bad[i], -1e300, 1e300, &d, &err), -1);
		assert_string_equal(err, "must be a number");
	}
	assert_double_near(d, 99, 0);
}

static void test_parse_double_rejects_hex_floats(void **state)
{
	(void)state;
	double d = 99;
	const char *err = NULL;
	assert_int_equal(parse_double("0x10", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("0x1p3", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("0X1P3", 0, 100, &d, &err), -1);
	assert_double_near(d, 99, 0);
}

static void test_parse_double_rejects_overflow_to_infinity(void **state)
{
	(void)state;
	double d = 99;
	const char *err = NULL;
	assert_int_equal(parse_double("1e999", -1e308, 1e308, &d, &err), -1);
	assert_int_equal(parse_double("-1e999", -1e308, 1e308, &d, &err), -1);
	assert_double_near(d, 99, 0);
}

static void test_parse_double_rejects_junk_space_and_empty(void **state)
{
	(void)state;
	double d = 99;
	const char *err = NULL;
	assert_int_equal(parse_double("", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double(NULL, 0, 100, &d, &err), -1);
	assert_int_equal(parse_double(" 1", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("1 ", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("1.5x", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("1e", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double(".", 0, 100, &d, &err), -1);
	assert_int_equal(parse_double("1,5", 0, 100, &d, &err), -1);
	assert_double_near(d, 99, 0);
}

static void test_parse_double_enforces_inclusive_bounds(void **state)
{
	(void)state;
	double d = 0;
	const char *err = NULL;
	assert_int_equal(parse_double("0", 0, 100, &d, &err), 0);
	assert_int_equal(parse_double("100", 0, 100, &d, &err), 0);
	assert_int_equal(parse_double("100.0001", 0, 100, &d, &err), -1);
	assert_string_equal(err, "is out of range");
	assert_int_equal(parse_double("-0.5", 0, 100, &d, &err), -1);
	assert_string_equal(err, "is out of range");
}

/* ---------------------------------------------------------------- parse_hhmm */

static void test_parse_hhmm_converts_to_minutes(void **state)
{
	(void)state;
	int m = -1;
	const char *err = NULL;
	assert_int_equal(parse_hhmm("00:00", &m, &err), 0);
	assert_int_equal(m, 0);
	assert_int_equal(parse_hhmm("09:30", &m, &err), 0);
	assert_int_equal(m, 570);
	assert_int_equal(parse_hhmm("23:59", &m, &err), 0);
	assert_int_equal(m, 1439);
}

static void test_parse_hhmm_rejects_out_of_range_hours_and_minutes(void **state)
{
	(void)state;
	int m = -1;
	const char *err = NULL;
	assert_int_equal(parse_hhmm("24:00", &m, &err), -1);
	assert_non_null(err);
	err = NULL;
	assert_int_equal(parse_hhmm("25:00", &m, &err), -1);
	assert_non_null(err);
	err = NULL;
	assert_int_equal(parse_hhmm("12:60", &m, &err), -1);
	assert_non_null(err);
	assert_int_equal(m, -1);
}

static void test_parse_hhmm_rejects_bad_shapes(void **state)
{
	(void)state;
	int m = -1;
	const char *err = NULL;
	const char *bad[] = {"",      "9:00", "09:0",  "0900",     "09-00", "09:00 ",
	                     " 9:00", "8am",  "ab:cd", "09:00:00", "+9:00", "-1:00"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		assert_int_equal(parse_hhmm(bad[i], &m, &err), -1);
		assert_string_equal(err, "must be a time HH:MM");
	}
	assert_int_equal(parse_hhmm(NULL, &m, &err), -1);
	assert_int_equal(m, -1);
}

/* ---------------------------------------------------------------- parse_duration */

static void test_parse_duration_understands_units(void **state)
{
	(void)state;
	long long s = 0;
	const char *err = NULL;
	assert_int_equal(parse_duration("30m", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 1800);
	assert_int_equal(parse_duration("2h", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 7200);
	assert_int_equal(parse_duration("1d", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(parse_duration("45s", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 45);
	assert_int_equal(parse_duration("2H", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 7200);
}

static void test_parse_duration_plain_number_is_seconds(void **state)
{
	(void)state;
	long long s = 0;
	const char *err = NULL;
	assert_int_equal(parse_duration("90", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 90);
	assert_int_equal(parse_duration("0", 0, LLONG_MAX, &s, &err), 0);
	assert_int_equal(s, 0);
}

static void test_parse_duration_rejects_junk(void **state)
{
	(void)state;
	long long s = 99;
	const char *err = NULL;
	const char *bad[] = {"",     "m",    "h",   "abc",  "30x",  "1.5h", "30 m",
	                     " 30m", "30m ", "-5m", "30mm", "0x10", "1h30m"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		assert_int_equal(parse_duration(bad[i], 0, LLONG_MAX, &s, &err), -1);
		assert_non_null(err);
	}
	err = NULL;
	assert_int_equal(parse_duration(NULL, 0, LLONG_MAX, &s, &err), -1);
	assert_non_null(err);
	assert_int_equal(s, 99);
}

static void test_parse_duration_rejects_overflow(void **state)
{
	(void)state;
	long long s = 99;
	const char *err = NULL;
	/* The number alone fits; multiplied by the unit it would not. */
	assert_int_equal(parse_duration("9223372036854775807d", 0, LLONG_MAX, &s, &err), -1);
	assert_int_equal(parse_duration("153722867280912931m", 0, LLONG_MAX, &s, &err), -1);
	/* The number alone does not fit. */
	assert_int_equal(parse_duration("99999999999999999999", 0, LLONG_MAX, &s, &err), -1);
	/* Longer than any long long. */
	assert_int_equal(
	    parse_duration("1234567890123456789012345678901234567890s", 0, LLONG_MAX, &s, &err),
	    -1);
	assert_int_equal(s, 99);
}

static void test_parse_duration_enforces_bounds_after_units(void **state)
{
	(void)state;
	long long s = 99;
	const char *err = NULL;
	assert_int_equal(parse_duration("1h", 60, 3600, &s, &err), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(parse_duration("61m", 60, 3600, &s, &err), -1);
	assert_int_equal(parse_duration("2h", 60, 3600, &s, &err), -1);
	assert_int_equal(parse_duration("30s", 60, 3600, &s, &err), -1);
	assert_string_equal(err, "is out of range");
	assert_int_equal(parse_duration("0m", 1, 3600, &s, &err), -1);
	assert_int_equal(s, 3600);
}

/* ---------------------------------------------------------------- str_is_identifier */

static void test_str_is_identifier_accepts_names_and_schema_qualified(void **state)
{
	(void)state;
	assert_true(str_is_identifier("orders"));
	assert_true(str_is_identifier("_x1"));
	assert_true(str_is_identifier("Orders_2024"));
	assert_true(str_is_identifier("shop.orders"));
	assert_true(str_is_identifier("a.b"));
	char max[64];
	memset(max, 'a', 63);
	max[63] = '\0';
	assert_true(str_is_identifier(max));
}

static void test_str_is_identifier_rejects_unsafe_text(void **state)
{
	(void)state;
	const char *bad[] = {"",           "1orders", "orders; drop", "orders--",    "or ders",
	                     "\"orders\"", "a.b.c",   ".orders",      "orders.",     "a..b",
	                     "naïve",      "orders$", "a-b",          "shop.1orders"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_false(str_is_identifier(bad[i]));
	assert_false(str_is_identifier(NULL));
}

static void test_str_is_identifier_rejects_parts_over_63_bytes(void **state)
{
	(void)state;
	char s[160];
	memset(s, 'a', 64);
	s[64] = '\0';
	assert_false(str_is_identifier(s));
	/* schema (63) . table (64) */
	memset(s, 'a', 63);
	s[63] = '.';
	memset(s + 64, 'b', 64);
	s[128] = '\0';
	assert_false(str_is_identifier(s));
	s[127] = '\0'; /* table of 63 */
	assert_true(str_is_identifier(s));
}

/* ---------------------------------------------------------------- str_is_utf8 */

static int utf8(const char *s)
{
	return str_is_utf8(s, strlen(s));
}

static void test_str_is_utf8_accepts_ascii_and_multibyte(void **state)
{
	(void)state;
	assert_true(utf8(""));
	assert_true(utf8("plain ascii"));
	assert_true(utf8("caf\xc3\xa9"));      /* U+00E9 */
	assert_true(utf8("\xe2\x82\xac"));     /* U+20AC */
	assert_true(utf8("\xf0\x9f\x98\x80")); /* U+1F600 */
	assert_true(utf8("\xef\xbf\xbf"));     /* U+FFFF */
	assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below surrogates */
	assert_true(utf8("\xee\x80\x80"));     /* U+E000, just above */
	assert_true(str_is_utf8("abc", 0));
}

static void test_str_is_utf8_rejects_overlong_encodings(void **state)
{
	(void)state;
	assert_false(utf8("\xc0\x80"));         /* NUL in 2 bytes */
	assert_false(utf8("\xc1\xbf"));         /* U+007F in 2 bytes */
	assert_false(utf8("\xe0\x80\xaf"));     /* '/' in 3 bytes */
	assert_false(utf8("\xe0\x9f\xbf"));     /* U+07FF in 3 bytes */
	assert_false(utf8("\xf0\x80\x80\xaf")); /* '/' in 4 bytes */
	assert_false(utf8("\xf0\x8f\xbf\xbf")); /* U+FFFF in 4 bytes */
}

static void test_str_is_utf8_rejects_surrogates(void **state)
{
	(void)state;
	assert_false(utf8("\xed\xa0\x80"));             /* U+D800 */
	assert_false(utf8("\xed\xbf\xbf"));             /* U+DFFF */
	assert_false(utf8("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
}

static void test_str_is_utf8_rejects_above_u10ffff_and_invalid_lead_bytes(void **state)
{
	(void)state;
	assert_false(utf8("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(utf8("\xf5\x80\x80\x80"));
	assert_false(utf8("\xf8\x88\x80\x80\x80"));
	assert_false(utf8("\xff"));
	assert_false(utf8("\xfe"));
	assert_false(utf8("\x80")); /* lone continuation byte */
	assert_false(utf8("a\xbf"
	                  "b")); /* continuation byte mid-text */
}

static void test_str_is_utf8_rejects_truncated_sequences(void **state)
{
	(void)state;
	assert_false(utf8("\xc3"));
	assert_false(utf8("\xe2\x82"));
	assert_false(utf8("\xf0\x9f\x98"));
	assert_false(utf8("abc\xf0"));
	/* The bytes exist, but len stops short of them. */
	assert_false(str_is_utf8("\xe2\x82\xac", 2));
	/* A lead byte followed by a non-continuation byte. */
	assert_false(utf8("\xc3"
	                  "a"));
	assert_false(utf8("\xe2\x82"
	                  "a"));
}

static void test_str_is_utf8_rejects_nul_bytes(void **state)
{
	(void)state;
	assert_false(str_is_utf8("a\0b", 3));
	assert_false(str_is_utf8("\0", 1));
	assert_true(str_is_utf8("a\0b", 1));
}

/* ---------------------------------------------------------------- hex_value */

static void test_hex_value_reads_both_cases_and_rejects_others(void **state)
{
	(void)state;
	assert_int_equal(hex_value('0'), 0);
	assert_int_equal(hex_value('9'), 9);
	assert_int_equal(hex_value('a'), 10);
	assert_int_equal(hex_value('F'), 15);
	assert_int_equal(hex_value('g'), -1);
	assert_int_equal(hex_value('/'), -1);
	assert_int_equal(hex_value(0xC3), -1);
}

/* ---------------------------------------------------------------- secure_str_eq */

static void test_secure_str_eq_compares_whole_strings(void **state)
{
	(void)state;
	assert_true(secure_str_eq("s3cret-token-123", "s3cret-token-123"));
	assert_true(secure_str_eq("", ""));
	assert_false(secure_str_eq("s3cret-token-123", "s3cret-token-124"));
	assert_false(secure_str_eq("abc", "abcd"));
	assert_false(secure_str_eq("abcd", "abc"));
	assert_false(secure_str_eq("abc", "ABC"));
	assert_false(secure_str_eq("", "a"));
	assert_false(secure_str_eq("a", ""));
	/* the secret is cycled under a longer input: a repetition of it must still differ */
	assert_false(secure_str_eq("abcabc", "abc"));
	assert_false(secure_str_eq("abc", "abcabc"));
	assert_false(secure_str_eq("s3cret-token-123\n", "s3cret-token-123"));
}

static void test_secure_str_eq_rejects_null(void **state)
{
	(void)state;
	assert_false(secure_str_eq(NULL, "a"));
	assert_false(secure_str_eq("a", NULL));
	assert_false(secure_str_eq(NULL, NULL));
}

/* ---------------------------------------------------------------- str_trim / str_eq_nocase */

static void test_str_trim_strips_both_ends_in_place(void **state)
{
	(void)state;
	char a[] = "  \t hello world \r\n ";
	assert_string_equal(str_trim(a), "hello world");
	char b[] = "nothing";
	assert_ptr_equal(str_trim(b), b);
	assert_string_equal(b, "nothing");
	char c[] = " \t\n ";
	assert_string_equal(str_trim(c), "");
	char d[] = "";
	assert_string_equal(str_trim(d), "");
	char e[] = "a b";
	assert_string_equal(str_trim(e), "a b");
}

static void test_str_eq_nocase_ignores_ascii_case_only(void **state)
{
	(void)state;
	assert_true(str_eq_nocase("None", "none"));
	assert_true(str_eq_nocase("DEBUG", "debug"));
	assert_true(str_eq_nocase("", ""));
	assert_false(str_eq_nocase("none", "non"));
	assert_false(str_eq_nocase("non", "none"));
	assert_false(str_eq_nocase("a", ""));
	assert_false(str_eq_nocase("warn", "warm"));
}

/* ---------------------------------------------------------------- allocation helpers */

static void test_xasprintf_formats_and_xstrndup_truncates(void **state)
{
	(void)state;
	char *s = xasprintf("%s-%d-%05.1f", "ab", 42, 3.14159);
	assert_string_equal(s, "ab-42-003.1");
	free(s);
	s = xstrndup("hello", 3);
	assert_string_equal(s, "hel");
	free(s);
	s = xasprintf("%s", "");
	assert_string_equal(s, "");
	free(s);
}

static void test_random_hex_writes_hex_and_rejects_oversize(void **state)
{
	(void)state;
	char out[2 * 64 + 1];
	assert_int_equal(random_hex(out, 16), 0);
	assert_int_equal(strlen(out), 32);
	for (size_t i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", out[i]));
	char other[33];
	assert_int_equal(random_hex(other, 16), 0);
	assert_string_not_equal(out, other);
	assert_int_equal(random_hex(out, 65), -1);
}

static void test_parse_timestamp_reads_utc_and_offsets(void **state)
{
	(void)state;
	long long t;
	const char *err;
	assert_int_equal(parse_timestamp("1970-01-01T00:00:00Z", &t, &err), 0);
	assert_int_equal(t, 0);
	assert_int_equal(parse_timestamp("2026-11-23T09:00:00Z", &t, &err), 0);
	assert_int_equal(t, 1795424400LL);
	assert_int_equal(parse_timestamp("2026-11-23T10:00:00+01:00", &t, &err), 0);
	assert_int_equal(t, 1795424400LL);
	assert_int_equal(parse_timestamp("2026-11-23T04:30:00.123-04:30", &t, &err), 0);
	assert_int_equal(t, 1795424400LL);
	assert_int_equal(parse_timestamp("2024-02-29T00:00:00Z", &t, &err), 0);
	assert_int_equal(t, 1709164800LL);
}

static void test_parse_timestamp_rejects_bad_dates_and_shapes(void **state)
{
	(void)state;
	long long t = 42;
	const char *err = NULL;
	const char *bad[] = {"",
	                     "yesterday",
	                     "2026-11-23",
	                     "2026-11-23T09:00:00",
	                     "2026-02-30T00:00:00Z",
	                     "2025-02-29T00:00:00Z",
	                     "2026-13-01T00:00:00Z",
	                     "2026-11-23T24:00:00Z",
	                     "2026-11-23T09:00:00+1:00",
	                     "2026-11-23T09:00:00Zjunk",
	                     "2026-11-23T09:00:00.Z",
	                     "1969-12-31T23:59:59Z",
	                     "+026-11-23T09:00:00Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_timestamp(bad[i], &t, &err), -1);
		assert_non_null(err);
	}
	assert_int_equal(parse_timestamp(NULL, &t, &err), -1);
	assert_int_equal(t, 42);
}

/* ---------------------------------------------------------------- static helpers */

/* A string of n copies of c (NUL-terminated) in buf. */
static const char *run_of(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static void test_ident_part_takes_1_to_63_bytes_of_a_name(void **state)
{
	(void)state;
	char buf[80];
	assert_int_equal(ident_part("a", 1), 1);
	assert_int_equal(ident_part("_", 1), 1);
	assert_int_equal(ident_part("orders_2024", 11), 1);
	assert_int_equal(ident_part(run_of(buf, 'x', 63), 63), 1);
	assert_int_equal(ident_part(run_of(buf, 'x', 64), 64), 0);
	assert_int_equal(ident_part("", 0), 0);
	/* only the n bytes given are read: a prefix of something longer */
	assert_int_equal(ident_part("abc.def", 3), 1);
	assert_int_equal(ident_part("abc.def", 4), 0);
}

static void test_ident_part_rejects_a_leading_digit_and_other_bytes(void **state)
{
	(void)state;
	assert_int_equal(ident_part("1abc", 4), 0);
	assert_int_equal(ident_part("a1", 2), 1);
	assert_int_equal(ident_part("a-b", 3), 0);
	assert_int_equal(ident_part("a b", 3), 0);
	assert_int_equal(ident_part("\xc3\xa9t\xc3\xa9", 5), 0); /* not ASCII */
	assert_int_equal(ident_part("a\"", 2), 0);
	assert_int_equal(ident_part("a;", 2), 0);
}

static void test_random_bytes_fills_every_byte(void **state)
{
	(void)state;
	unsigned char a[4096], b[4096];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(random_bytes(a, sizeof(a)), 0);
	assert_int_equal(random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* the end is written too: 256 zero bytes from getrandom are a 1 in 2^2048 event, a
	 * short read left unfilled is not */
	size_t nonzero = 0;
	for (size_t i = sizeof(a) - 256; i < sizeof(a); i++)
		nonzero += a[i] != 0;
	assert_true(nonzero > 0);
	assert_int_equal(random_bytes(a, 0), 0);
}

static void test_random_unit_is_within_0_and_1_and_varies(void **state)
{
	(void)state;
	double lo = 1, hi = 0;
	for (int i = 0; i < 1000; i++) {
		double u = random_unit();
		assert_true(u >= 0.0 && u <= 1.0);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	/* 1,000 draws all within a tenth of each other would mean it is not random */
	assert_true(hi - lo > 0.5);
}

static void test_digits_reads_exactly_n_ascii_digits(void **state)
{
	(void)state;
	int v = -1;
	assert_int_equal(digits("2026", 4, &v), 0);
	assert_int_equal(v, 2026);
	assert_int_equal(digits("0930", 2, &v), 0); /* only the n asked for */
	assert_int_equal(v, 9);
	assert_int_equal(digits("", 0, &v), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(digits("2a26", 4, &v), -1);
	assert_int_equal(digits("-1", 2, &v), -1);
	assert_int_equal(digits(" 1", 2, &v), -1);
	assert_int_equal(digits("\xd9\xa1", 2, &v), -1); /* an Arabic-Indic digit is not one */
	assert_int_equal(v, 7);                          /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ident_part_takes_1_to_63_bytes_of_a_name),
	    cmocka_unit_test(test_ident_part_rejects_a_leading_digit_and_other_bytes),
	    cmocka_unit_test(test_random_bytes_fills_every_byte),
	    cmocka_unit_test(test_random_unit_is_within_0_and_1_and_varies),
	    cmocka_unit_test(test_digits_reads_exactly_n_ascii_digits),
	    cmocka_unit_test(test_parse_int_accepts_plain_and_signed_decimal),
	    cmocka_unit_test(test_parse_int_rejects_trailing_junk),
	    cmocka_unit_test(test_parse_int_rejects_leading_space),
	    cmocka_unit_test(test_parse_int_rejects_empty_and_null),
	    cmocka_unit_test(test_parse_int_rejects_hex_and_octal_prefixes_as_junk),
	    cmocka_unit_test(test_parse_int_rejects_overflow),
	    cmocka_unit_test(test_parse_int_accepts_llong_limits),
	    cmocka_unit_test(test_parse_int_enforces_inclusive_bounds),
	    cmocka_unit_test(test_parse_int_tolerates_null_err),
	    cmocka_unit_test(test_parse_double_accepts_decimal_and_exponent),
	    cmocka_unit_test(test_parse_double_rejects_inf_and_nan),
	    cmocka_unit_test(test_parse_double_rejects_hex_floats),
	    cmocka_unit_test(test_parse_double_rejects_overflow_to_infinity),
	    cmocka_unit_test(test_parse_double_rejects_junk_space_and_empty),
	    cmocka_unit_test(test_parse_double_enforces_inclusive_bounds),
	    cmocka_unit_test(test_parse_hhmm_converts_to_minutes),
	    cmocka_unit_test(test_parse_hhmm_rejects_out_of_range_hours_and_minutes),
	    cmocka_unit_test(test_parse_hhmm_rejects_bad_shapes),
	    cmocka_unit_test(test_parse_duration_understands_units),
	    cmocka_unit_test(test_parse_duration_plain_number_is_seconds),
	    cmocka_unit_test(test_parse_duration_rejects_junk),
	    cmocka_unit_test(test_parse_duration_rejects_overflow),
	    cmocka_unit_test(test_parse_duration_enforces_bounds_after_units),
	    cmocka_unit_test(test_str_is_identifier_accepts_names_and_schema_qualified),
	    cmocka_unit_test(test_str_is_identifier_rejects_unsafe_text),
	    cmocka_unit_test(test_str_is_identifier_rejects_parts_over_63_bytes),
	    cmocka_unit_test(test_str_is_utf8_accepts_ascii_and_multibyte),
	    cmocka_unit_test(test_str_is_utf8_rejects_overlong_encodings),
	    cmocka_unit_test(test_str_is_utf8_rejects_surrogates),
	    cmocka_unit_test(test_str_is_utf8_rejects_above_u10ffff_and_invalid_lead_bytes),
	    cmocka_unit_test(test_str_is_utf8_rejects_truncated_sequences),
	    cmocka_unit_test(test_str_is_utf8_rejects_nul_bytes),
	    cmocka_unit_test(test_secure_str_eq_compares_whole_strings),
	    cmocka_unit_test(test_secure_str_eq_rejects_null),
	    cmocka_unit_test(test_str_trim_strips_both_ends_in_place),
	    cmocka_unit_test(test_str_eq_nocase_ignores_ascii_case_only),
	    cmocka_unit_test(test_xasprintf_formats_and_xstrndup_truncates),
	    cmocka_unit_test(test_random_hex_writes_hex_and_rejects_oversize),
	    cmocka_unit_test(test_hex_value_reads_both_cases_and_rejects_others),
	    cmocka_unit_test(test_parse_timestamp_reads_utc_and_offsets),
	    cmocka_unit_test(test_parse_timestamp_rejects_bad_dates_and_shapes),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
