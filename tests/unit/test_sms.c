/* Unit tests of common/core/sms.c: control characters, GSM-7 or UCS-2, segments and the cut to a
 * budget of segments. */
#include "testutil.h"

#include "core/sms.h"

/* A string of n copies of the UTF-8 character c. Caller frees. */
static char *repeat(const char *c, size_t n)
{
	size_t l = strlen(c);
	char *s = malloc(l * n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * l, c, l);
	s[l * n] = '\0';
	return s;
}

static void test_sms_clean_removes_control_characters(void **state)
{
	(void)state;
	char *s = sms_clean("a\x01"
	                    "b\x1b[31m\x7f"
	                    "c\r\nd\te\xc2\x85"
	                    "f\xc2\x9b");
	assert_string_equal(s, "ab[31mc\nd ef");
	free(s);
}

static void test_sms_clean_drops_invalid_utf8_and_keeps_valid(void **state)
{
	(void)state;
	/* A lone continuation byte, an overlong '/', an encoded surrogate; é and an emoji kept. */
	char *s = sms_clean("x\x80y\xc0\xafz\xed\xa0\x80 \xc3\xa9\xf0\x9f\x94\xa5");
	assert_string_equal(s, "xyz \xc3\xa9\xf0\x9f\x94\xa5");
	free(s);
}

static void test_sms_encoding_gsm7_for_its_alphabet(void **state)
{
	(void)state;
	assert_int_equal(
	    sms_encoding_of("Disk 95% full on db1 @ 03:00 {x} [y] ~ | ^ \\ \xe2\x82\xac"),
	    SMS_GSM7);
	/* £ ¥ è é Ç Ø Å Δ Σ ß Ä Ö Ñ Ü § ¿ ä ö ñ ü à ¡ */
	assert_int_equal(
	    sms_encoding_of("\xc2\xa3\xc2\xa5\xc3\xa8\xc3\xa9\xc3\x87\xc3\x98\xc3\x85\xce\x94"
	                    "\xce\xa3\xc3\x9f\xc3\x84\xc3\x96\xc3\x91\xc3\x9c\xc2\xa7\xc2\xbf"
	                    "\xc3\xa4\xc3\xb6\xc3\xb1\xc3\xbc\xc3\xa0\xc2\xa1"),
	    SMS_GSM7);
	assert_int_equal(sms_encoding_of(""), SMS_GSM7);
}

static void test_sms_encoding_ucs2_for_anything_else(void **state)
{
	(void)state;
	assert_int_equal(sms_encoding_of("backtick `"), SMS_UCS2);
	assert_int_equal(sms_encoding_of("\xc3\xa7"), SMS_UCS2);     /* ç: only Ç is GSM-7 */
	assert_int_equal(sms_encoding_of("\xd0\x96"), SMS_UCS2);     /* Ж */
	assert_int_equal(sms_encoding_of("\xe2\x80\xa6"), SMS_UCS2); /* … */
	assert_int_equal(sms_encoding_of("\xf0\x9f\x94\xa5"), SMS_UCS2);
	assert_string_equal(sms_encoding_name(SMS_GSM7), "gsm7");
	assert_string_equal(sms_encoding_name(SMS_UCS2), "ucs2");
}

static void test_sms_segments_gsm7_160_then_153(void **state)
{
	(void)state;
	assert_int_equal(sms_segments("", SMS_GSM7), 0);
	size_t cases[][2] = {{1, 1}, {160, 1}, {161, 2}, {306, 2}, {307, 3}, {459, 3}, {460, 4}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *s = repeat("a", cases[i][0]);
		assert_int_equal(sms_segments(s, SMS_GSM7), cases[i][1]);
		free(s);
	}
}

static void test_sms_segments_gsm7_extension_counts_two_and_is_not_split(void **state)
{
	(void)state;
	char *s = repeat("{", 80); /* 160 septets: one segment */
	assert_int_equal(sms_segments(s, SMS_GSM7), 1);
	free(s);
	s = repeat("{", 81); /* 162 septets: two segments */
	assert_int_equal(sms_segments(s, SMS_GSM7), 2);
	free(s);
	/* 306 septets would be two segments of 153, but 76 escape pairs fill one: three */
	s = repeat("{", 153);
	assert_int_equal(sms_segments(s, SMS_GSM7), 3);
	free(s);
}

static void test_sms_segments_ucs2_70_then_67_pairs_not_split(void **state)
{
	(void)state;
	size_t cases[][2] = {{70, 1}, {71, 2}, {134, 2}, {135, 3}, {201, 3}, {202, 4}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *s = repeat("\xd0\x96", cases[i][0]);
		assert_int_equal(sms_segments(s, SMS_UCS2), cases[i][1]);
		free(s);
	}
	/* 35 emoji: 70 units, one segment; 34 emoji (68 units) fit 67+? no: 33 + 1 per part */
	char *e = repeat("\xf0\x9f\x94\xa5", 35);
	assert_int_equal(sms_segments(e, SMS_UCS2), 1);
	free(e);
	e = repeat("\xf0\x9f\x94\xa5", 67); /* 134 units, but 33 pairs (66) per part: 3 */
	assert_int_equal(sms_segments(e, SMS_UCS2), 3);
	free(e);
}

static void test_sms_fit_keeps_a_text_within_budget(void **state)
{
	(void)state;
	struct sms_fit f;
	char *s = sms_fit("Disk full\r\non db1\x07", 3, &f);
	assert_string_equal(s, "Disk full\non db1");
	assert_int_equal(f.cut, 0);
	assert_int_equal(f.segments, 1);
	assert_int_equal(f.encoding, SMS_GSM7);
	free(s);
}

static void test_sms_fit_cuts_gsm7_to_the_budget(void **state)
{
	(void)state;
	struct sms_fit f;
	char *long_text = repeat("a", 1000);
	for (size_t max = 1; max <= 4; max++) {
		char *s = sms_fit(long_text, max, &f);
		size_t want = max == 1 ? 160 : 153 * max;
		assert_int_equal(strlen(s), want);
		assert_string_equal(s + want - 3, "...");
		assert_int_equal(f.cut, 1);
		assert_int_equal(f.segments, max);
		assert_int_equal(f.encoding, SMS_GSM7);
		free(s);
	}
	free(long_text);
}

static void test_sms_fit_cuts_ucs2_at_a_character(void **state)
{
	(void)state;
	struct sms_fit f;
	char *long_text = repeat("\xd0\x96", 500);
	char *s = sms_fit(long_text, 3, &f);
	/* 201 units: 198 Ж and "..." */
	assert_int_equal(strlen(s), 198 * 2 + 3);
	assert_int_equal(f.segments, 3);
	assert_int_equal(f.encoding, SMS_UCS2);
	assert_int_equal(f.cut, 1);
	free(s);
	free(long_text);
	/* Emoji are never cut in half. */
	long_text = repeat("\xf0\x9f\x94\xa5", 200);
	s = sms_fit(long_text, 2, &f);
	assert_int_equal(f.segments, 2);
	assert_int_equal((strlen(s) - 3) % 4, 0);
	assert_string_equal(s + strlen(s) - 3, "...");
	free(s);
	free(long_text);
}

static void test_sms_fit_cut_may_leave_gsm7(void **state)
{
	(void)state;
	struct sms_fit f;
	char *a = repeat("a", 300);
	size_t n = strlen(a) + 8;
	char *t = malloc(n);
	assert_non_null(t);
	snprintf(t, n, "%s\xd0\x96", a); /* the only UCS-2 character is past the cut */
	char *s = sms_fit(t, 1, &f);
	assert_int_equal(f.encoding, SMS_GSM7);
	assert_int_equal(f.segments, 1);
	assert_int_equal(strlen(s), 70);
	free(s);
	free(t);
	free(a);
}

static void test_sms_fit_clamps_the_budget(void **state)
{
	(void)state;
	struct sms_fit f;
	char *long_text = repeat("a", 5000);
	char *s = sms_fit(long_text, 0, &f);
	assert_int_equal(f.segments, 1);
	free(s);
	s = sms_fit(long_text, 99, &f);
	assert_int_equal(f.segments, SMS_SEGMENTS_MAX);
	free(s);
	free(long_text);
	s = sms_fit(NULL, 3, &f);
	assert_string_equal(s, "");
	assert_int_equal(f.segments, 0);
	free(s);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sms_clean_removes_control_characters),
	    T(test_sms_clean_drops_invalid_utf8_and_keeps_valid),
	    T(test_sms_encoding_gsm7_for_its_alphabet),
	    T(test_sms_encoding_ucs2_for_anything_else),
	    T(test_sms_segments_gsm7_160_then_153),
	    T(test_sms_segments_gsm7_extension_counts_two_and_is_not_split),
	    T(test_sms_segments_ucs2_70_then_67_pairs_not_split),
	    T(test_sms_fit_keeps_a_text_within_budget),
	    T(test_sms_fit_cuts_gsm7_to_the_budget),
	    T(test_sms_fit_cuts_ucs2_at_a_character),
	    T(test_sms_fit_cut_may_leave_gsm7),
	    T(test_sms_fit_clamps_the_budget),
	};
	return cmocka_run_group_tests_name("sms", tests, NULL, NULL);
}
