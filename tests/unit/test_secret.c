/*
 * Unit tests of common/core/secret.c: login codes and session tokens
 * (issue 16). Expected hashes were computed independently with Python's
 * hmac and hashlib. The file is included to reach code_from_u32(), the
 * unbiased reduction, at its boundaries.
 */
#include "testutil.h"

#include "core/secret.c"

#define KEY "server-key-for-login-codes-0123456789abcdef"
#define CTX "login +2349012345678"
#define TOKEN "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2s3U"

static void test_code_reduction_has_no_bias(void **state)
{
	(void)state;
	/* Every code is reached by exactly CODE_LIMIT / 10^6 = 4294 values of 32 bits. */
	assert_int_equal(CODE_LIMIT, 4294000000u);
	assert_int_equal(code_from_u32(0), 0);
	assert_int_equal(code_from_u32(999999), 999999);
	assert_int_equal(code_from_u32(1000000), 0);
	assert_int_equal(code_from_u32(4293999999u), 999999);
	/* The 967296 values past the last whole cycle are drawn again. */
	assert_int_equal(code_from_u32(4294000000u), -1);
	assert_int_equal(code_from_u32(UINT32_MAX), -1);
}

static void test_new_codes_are_six_digits_and_spread(void **state)
{
	(void)state;
	enum { N = 20000 };
	unsigned first[10] = {0};
	char code[LOGIN_CODE_SIZE], prev[LOGIN_CODE_SIZE] = "";
	int repeats = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(login_code_new(code), 0);
		assert_int_equal(strlen(code), LOGIN_CODE_DIGITS);
		assert_true(login_code_format_ok(code));
		first[code[0] - '0']++;
		repeats += strcmp(code, prev) == 0;
		memcpy(prev, code, sizeof(code));
	}
	/* 2000 expected per leading digit (a standard deviation of 42): leading zeros are kept,
	 * and no digit is much likelier than another. Bounds 12 deviations wide: never flaky. */
	for (int d = 0; d < 10; d++)
		assert_in_range(first[d], 1500, 2500);
	assert_true(repeats < 5);
}

static void test_code_format(void **state)
{
	(void)state;
	assert_true(login_code_format_ok("000000"));
	assert_true(login_code_format_ok("123456"));
	const char *bad[] = {NULL,      "",       "12345",  "1234567", "12345a", " 123456",
	                     "123456 ", "12 456", "-12345", "+12345",  "１23456"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_false(login_code_format_ok(bad[i]));
}

static void test_code_hash_vectors_and_binding(void **state)
{
	(void)state;
	char h[SHA256_HEX_SIZE], h2[SHA256_HEX_SIZE];
	assert_int_equal(login_code_hash(KEY, strlen(KEY), CTX, "123456", h), 0);
	assert_string_equal(h, "9c1b7b4110d5e13f631d50f65a842611c51dfd9edfa905b899ca01987bb33e8c");
	assert_int_equal(login_code_hash(KEY, strlen(KEY), CTX, "000000", h), 0);
	assert_string_equal(h, "2707abae614f1203ebe381e60207040487aac8a70e4ce25213c80888c62ec55c");
	/* Another number, another purpose, another key: another hash. */
	assert_int_equal(login_code_hash(KEY, strlen(KEY), "login +2349012345679", "000000", h2),
	                 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(login_code_hash(KEY, strlen(KEY), "verify +2349012345678", "000000", h2),
	                 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(
	    login_code_hash("another-server-key-0123456789abcdef", 35, CTX, "000000", h2), 0);
	assert_string_not_equal(h, h2);
}

static void test_code_hash_refusals(void **state)
{
	(void)state;
	char h[SHA256_HEX_SIZE];
	memset(h, 'x', sizeof(h));
	assert_int_equal(login_code_hash(KEY, LOGIN_CODE_KEY_MIN - 1, CTX, "123456", h), -1);
	assert_string_equal(h, "");
	assert_int_equal(login_code_hash(NULL, 40, CTX, "123456", h), -1);
	assert_int_equal(login_code_hash(KEY, strlen(KEY), "", "123456", h), -1);
	assert_int_equal(login_code_hash(KEY, strlen(KEY), NULL, "123456", h), -1);
	assert_int_equal(login_code_hash(KEY, strlen(KEY), CTX, "12345", h), -1);
	assert_int_equal(login_code_hash(KEY, LOGIN_CODE_KEY_MIN, CTX, "123456", h), 0);
}

static void test_code_matches(void **state)
{
	(void)state;
	char h[SHA256_HEX_SIZE], code[LOGIN_CODE_SIZE];
	assert_int_equal(login_code_new(code), 0);
	assert_int_equal(login_code_hash(KEY, strlen(KEY), CTX, code, h), 0);
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, code, h), 1);
	char wrong[LOGIN_CODE_SIZE];
	memcpy(wrong, code, sizeof(code));
	wrong[5] = wrong[5] == '9' ? '0' : (char)(wrong[5] + 1);
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, wrong, h), 0);
	assert_int_equal(login_code_matches(KEY, strlen(KEY), "login +2349012345679", code, h), 0);
	/* Stored values of the wrong shape never match, nor does a refused argument. */
	char upper[SHA256_HEX_SIZE];
	for (size_t i = 0; i < sizeof(h); i++)
		upper[i] = (char)(h[i] >= 'a' && h[i] <= 'f' ? h[i] - 32 : h[i]);
	int has_letter = strcmp(upper, h) != 0;
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, code, upper), !has_letter);
	h[63] = '\0';
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, code, h), 0);
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, code, NULL), 0);
	assert_int_equal(login_code_matches(KEY, strlen(KEY), CTX, "", ""), 0);
	assert_int_equal(login_code_matches(KEY, 8, CTX, code, h), 0);
}

static void test_session_tokens(void **state)
{
	(void)state;
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	assert_int_equal(session_token_new(a), 0);
	assert_int_equal(session_token_new(b), 0);
	assert_int_equal(strlen(a), SESSION_TOKEN_LEN);
	assert_string_not_equal(a, b);
	assert_true(session_token_format_ok(a));
	for (const char *p = a; *p; p++)
		assert_true((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
}

static void test_session_token_hash(void **state)
{
	(void)state;
	char h[SHA256_HEX_SIZE];
	assert_int_equal(session_token_hash(TOKEN, h), 0);
	assert_string_equal(h, "d337ffa94eef5fd5ccbdcae7a08134abe6644c80b24b56e1761dff7f15648850");
	const char *bad[] = {
	    NULL,
	    "",
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2s3",   /* 42 characters */
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2s3UA", /* 44 */
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2s3V",  /* spare bits set */
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2s3U=", /* padded */
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2+3U",  /* the standard alphabet */
	    "q7dAn9Q0m3ZCzTu1ZfZtqJ3rJkB3o5yKfVv1f8b2 3U",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		memset(h, 'x', sizeof(h));
		assert_false(session_token_format_ok(bad[i]));
		assert_int_equal(session_token_hash(bad[i], h), -1);
		assert_string_equal(h, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code_reduction_has_no_bias),
	    cmocka_unit_test(test_new_codes_are_six_digits_and_spread),
	    cmocka_unit_test(test_code_format),
	    cmocka_unit_test(test_code_hash_vectors_and_binding),
	    cmocka_unit_test(test_code_hash_refusals),
	    cmocka_unit_test(test_code_matches),
	    cmocka_unit_test(test_session_tokens),
	    cmocka_unit_test(test_session_token_hash),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
