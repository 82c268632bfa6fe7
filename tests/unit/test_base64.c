/*
 * Unit tests of common/core/base64.c: the RFC 4648 section 10 test vectors in
 * both flavours, and every kind of non-canonical input the strict decoder
 * refuses.
 */
#include "testutil.h"

#include "core/base64.h"

static const struct {
	const char *plain, *std, *url;
} rfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

/* 1 when s (NUL-terminated) decodes in flavour; the bytes in out, their count in *n. */
static int dec(const char *s, int flavour, unsigned char *out, size_t max, size_t *n)
{
	return base64_decode(s, strlen(s), flavour, out, max, n) == 0;
}

static void test_rfc4648_vectors_encode(void **state)
{
	(void)state;
	char out[16];
	for (size_t i = 0; i < ARRAY_LEN(rfc4648); i++) {
		size_t n = strlen(rfc4648[i].plain);
		assert_int_equal(base64_encode(rfc4648[i].plain, n, BASE64_STD, out, sizeof(out)),
		                 strlen(rfc4648[i].std));
		assert_string_equal(out, rfc4648[i].std);
		assert_int_equal(BASE64_LEN(n), strlen(rfc4648[i].std));
		assert_int_equal(base64_encode(rfc4648[i].plain, n, BASE64_URL, out, sizeof(out)),
		                 strlen(rfc4648[i].url));
		assert_string_equal(out, rfc4648[i].url);
		assert_int_equal(BASE64URL_LEN(n), strlen(rfc4648[i].url));
	}
}

static void test_rfc4648_vectors_decode(void **state)
{
	(void)state;
	unsigned char out[16];
	size_t n = 99;
	for (size_t i = 0; i < ARRAY_LEN(rfc4648); i++) {
		size_t want = strlen(rfc4648[i].plain);
		assert_true(dec(rfc4648[i].std, BASE64_STD, out, sizeof(out), &n));
		assert_int_equal(n, want);
		assert_memory_equal(out, rfc4648[i].plain, want);
		assert_true(dec(rfc4648[i].url, BASE64_URL, out, sizeof(out), &n));
		assert_int_equal(n, want);
		assert_memory_equal(out, rfc4648[i].plain, want);
	}
}

static void test_alphabets_differ_in_two_characters(void **state)
{
	(void)state;
	const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
	unsigned char out[4];
	size_t n = 0;
	char s[8];
	assert_int_equal(base64_encode(bytes, 3, BASE64_STD, s, sizeof(s)), 4);
	assert_string_equal(s, "+/+/");
	assert_int_equal(base64_encode(bytes, 3, BASE64_URL, s, sizeof(s)), 4);
	assert_string_equal(s, "-_-_");
	assert_true(dec("-_-_", BASE64_URL, out, sizeof(out), &n));
	assert_memory_equal(out, bytes, 3);
	/* Each flavour refuses the other's two characters. */
	assert_false(dec("+/+/", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("-_-_", BASE64_STD, out, sizeof(out), &n));
}

static void test_every_byte_value_round_trips(void **state)
{
	(void)state;
	unsigned char in[256], out[256];
	char s[BASE64_LEN(256) + 1];
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(255 - i);
	for (int flavour = BASE64_STD; flavour <= BASE64_URL; flavour++) {
		for (size_t len = 0; len <= 256; len += 1 + len / 8) {
			size_t n = 0;
			long chars = base64_encode(in, len, flavour, s, sizeof(s));
			assert_true(chars >= 0);
			assert_true(base64_decode(s, (size_t)chars, flavour, out, len, &n) == 0);
			assert_int_equal(n, len);
			assert_memory_equal(out, in, len);
		}
	}
}

static void test_url_refuses_padding(void **state)
{
	(void)state;
	unsigned char out[8];
	size_t n = 0;
	assert_false(dec("Zg==", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm8=", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zg=", BASE64_URL, out, sizeof(out), &n));
}

static void test_std_requires_exact_padding(void **state)
{
	(void)state;
	unsigned char out[8];
	size_t n = 0;
	assert_false(dec("Zg", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zg=", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zm8", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Z===", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("====", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zg==Zg==", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Z=g=", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zm9v=", BASE64_STD, out, sizeof(out), &n));
}

/* "Zh" and "Zm9=" leave non-zero bits after the last whole byte: another spelling of "f"/"fo". */
static void test_refuses_non_canonical_trailing_bits(void **state)
{
	(void)state;
	unsigned char out[8];
	size_t n = 0;
	assert_false(dec("Zh", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zh==", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zm9", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9=", BASE64_STD, out, sizeof(out), &n));
	assert_true(dec("Zm8", BASE64_URL, out, sizeof(out), &n));
}

static void test_refuses_impossible_length_and_foreign_characters(void **state)
{
	(void)state;
	unsigned char out[16];
	size_t n = 0;
	assert_false(dec("Z", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9vY", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9 v", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9v\n", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9v\nZm9v", BASE64_STD, out, sizeof(out), &n));
	assert_false(dec("Zm.v", BASE64_URL, out, sizeof(out), &n));
	assert_false(dec("Zm9\xc3\xa9", BASE64_URL, out, sizeof(out), &n));
	/* Exactly len characters: a NUL inside is a character, and a foreign one. */
	assert_int_equal(base64_decode("Zm\0v", 4, BASE64_URL, out, sizeof(out), &n), -1);
	assert_int_equal(base64_decode("Zm9vXXXX", 4, BASE64_URL, out, sizeof(out), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
}

static void test_buffers_too_small(void **state)
{
	(void)state;
	unsigned char out[8];
	char s[9];
	size_t n = 0;
	assert_int_equal(base64_decode("Zm9vYmFy", 8, BASE64_STD, out, 5, &n), -1);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, BASE64_STD, out, 6, &n), 0);
	assert_int_equal(base64_decode("Zm9vYmE", 7, BASE64_URL, out, 4, &n), -1);
	assert_int_equal(base64_decode("Zm9vYmE", 7, BASE64_URL, out, 5, &n), 0);
	memset(s, 'x', sizeof(s));
	assert_int_equal(base64_encode("foobar", 6, BASE64_STD, s, 8), -1);
	assert_int_equal(s[0], 'x');
	assert_int_equal(base64_encode("foobar", 6, BASE64_STD, s, 9), 8);
	assert_int_equal(base64_encode("fo", 2, BASE64_URL, s, 3), -1);
	assert_int_equal(base64_encode("fo", 2, BASE64_URL, s, 4), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors_encode),
	    cmocka_unit_test(test_rfc4648_vectors_decode),
	    cmocka_unit_test(test_alphabets_differ_in_two_characters),
	    cmocka_unit_test(test_every_byte_value_round_trips),
	    cmocka_unit_test(test_url_refuses_padding),
	    cmocka_unit_test(test_std_requires_exact_padding),
	    cmocka_unit_test(test_refuses_non_canonical_trailing_bits),
	    cmocka_unit_test(test_refuses_impossible_length_and_foreign_characters),
	    cmocka_unit_test(test_buffers_too_small),
	};
	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
