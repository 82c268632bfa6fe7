/* Unit tests of common/app/http.c: URL decoding and query-string lookup. */
#include "testutil.h"

#include "app/http.h"

/* Decode a NUL-terminated string. */
static char *decode(const char *s)
{
	return http_url_decode(s, strlen(s));
}

static void assert_decodes(const char *in, const char *want)
{
	char *out = decode(in);
	if (!out) {
		print_error("http_url_decode(\"%s\") failed\n", in);
		fail();
	}
	assert_string_equal(out, want);
	free(out);
}

/* want NULL: key is absent (0). */
static void assert_query(const char *query, const char *key, const char *want)
{
	char *v = (char *)"unset";
	int rc = http_query_get(query, key, &v);
	if (!want) {
		if (rc != 0 || v) {
			print_error("query \"%s\" key \"%s\": got %d \"%s\", want 0 (none)\n",
			            query, key, rc, v ? v : "(null)");
			free(v);
			fail();
		}
		return;
	}
	if (rc != 1 || !v) {
		print_error("query \"%s\" key \"%s\": got %d, want 1 \"%s\"\n", query, key, rc,
		            want);
		fail();
	}
	assert_string_equal(v, want);
	free(v);
}

/* key's value is there but does not decode: -1, never taken for absent (0). */
static void assert_query_invalid(const char *query, const char *key)
{
	char *v = (char *)"unset";
	int rc = http_query_get(query, key, &v);
	if (rc != -1 || v) {
		print_error("query \"%s\" key \"%s\": got %d, want -1 (invalid)\n", query, key, rc);
		if (rc == 1)
			free(v);
		fail();
	}
}

/* ---------------------------------------------------------------- http_url_decode */

static void test_url_decode_leaves_plain_text_alone(void **state)
{
	(void)state;
	assert_decodes("", "");
	assert_decodes("abc-_.~123", "abc-_.~123");
}

static void test_url_decode_turns_plus_into_space(void **state)
{
	(void)state;
	assert_decodes("hello+world", "hello world");
	assert_decodes("+", " ");
	assert_decodes("%2B", "+"); /* an encoded plus stays a plus */
}

static void test_url_decode_decodes_percent_escapes(void **state)
{
	(void)state;
	assert_decodes("%20", " ");
	assert_decodes("%41%42c", "ABc");
	assert_decodes("%2b%2F", "+/");
	assert_decodes("caf%C3%A9", "caf\xc3\xa9");
	assert_decodes("100%25", "100%");
	assert_decodes("%2541", "%41"); /* decoded once only */
}

static void test_url_decode_rejects_bad_escapes(void **state)
{
	(void)state;
	const char *bad[] = {"%", "%4", "abc%", "abc%4", "%zz", "%4g", "%g4", "%%41", "% 41"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *out = decode(bad[i]);
		if (out) {
			print_error("\"%s\" decoded to \"%s\"\n", bad[i], out);
			free(out);
			fail();
		}
	}
}

static void test_url_decode_rejects_encoded_nul(void **state)
{
	(void)state;
	assert_null(decode("%00"));
	assert_null(decode("abc%00def"));
}

static void test_url_decode_rejects_raw_nul_within_length(void **state)
{
	(void)state;
	assert_null(http_url_decode("ab\0cd", 5));
}

static void test_url_decode_stops_at_length(void **state)
{
	(void)state;
	char *out = http_url_decode("abc%41def", 3);
	assert_string_equal(out, "abc");
	free(out);
	/* An escape cut by the length is incomplete. */
	assert_null(http_url_decode("abc%41", 5));
}

/* ---------------------------------------------------------------- http_query_get */

static void test_query_get_finds_each_key(void **state)
{
	(void)state;
	assert_query("a=1&b=2&c=3", "a", "1");
	assert_query("a=1&b=2&c=3", "b", "2");
	assert_query("a=1&b=2&c=3", "c", "3");
}

static void test_query_get_missing_key_is_null(void **state)
{
	(void)state;
	assert_query("a=1&b=2", "c", NULL);
	assert_query("", "a", NULL);
	assert_query("ab=1", "a", NULL); /* not a prefix match */
	assert_query("a=1", "ab", NULL);
	assert_query("xa=1", "a", NULL);
}

static void test_query_get_empty_value_is_empty_string(void **state)
{
	(void)state;
	assert_query("a=&b=2", "a", "");
	assert_query("flag&b=2", "flag", "");
	assert_query("b=2&flag", "flag", "");
}

static void test_query_get_repeated_key_returns_first(void **state)
{
	(void)state;
	assert_query("a=1&a=2&a=3", "a", "1");
	assert_query("b=0&a=first&b=1&a=second", "a", "first");
}

static void test_query_get_decodes_keys_and_values(void **state)
{
	(void)state;
	assert_query("my%20key=v", "my key", "v");
	assert_query("my+key=v", "my key", "v");
	assert_query("%61=decoded", "a", "decoded");
	assert_query("q=hello+world%21", "q", "hello world!");
	assert_query("since=2026-11-23T10%3A00%3A00Z", "since", "2026-11-23T10:00:00Z");
}

static void test_query_get_value_may_contain_equals(void **state)
{
	(void)state;
	assert_query("a=b=c", "a", "b=c");
}

static void test_query_get_skips_empty_segments(void **state)
{
	(void)state;
	assert_query("&&a=1&", "a", "1");
	assert_query("&", "a", NULL);
}

static void test_query_get_bad_value_is_an_error_not_absent(void **state)
{
	(void)state;
	/* ?limit=%zz must not read as "no limit given" (issue 14). */
	assert_query_invalid("limit=%zz", "limit");
	assert_query_invalid("a=%zz&b=2", "a");
	assert_query_invalid("a=%4", "a");
	assert_query_invalid("a=%", "a");
	assert_query_invalid("a=%00", "a");
	assert_query_invalid("a=x%00y", "a");
	assert_query_invalid("%61=%zz", "a");
	/* The first pair named key decides. */
	assert_query_invalid("a=%zz&a=1", "a");
	assert_query("a=1&a=%zz", "a", "1");
	/* A bad escape elsewhere does not hide a good key, nor make a missing one invalid. */
	assert_query("x=%zz&b=2", "b", "2");
	assert_query("%zz=1&b=2", "b", "2");
	assert_query("x=%zz", "b", NULL);
}

/* ---------------------------------------------------------------- http_status_text */

static void test_status_text_knows_common_codes(void **state)
{
	(void)state;
	assert_string_equal(http_status_text(200), "OK");
	assert_string_equal(http_status_text(401), "Unauthorized");
	assert_string_equal(http_status_text(413), "Payload Too Large");
	assert_string_equal(http_status_text(503), "Service Unavailable");
	assert_string_equal(http_status_text(299), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_decode_leaves_plain_text_alone),
	    cmocka_unit_test(test_url_decode_turns_plus_into_space),
	    cmocka_unit_test(test_url_decode_decodes_percent_escapes),
	    cmocka_unit_test(test_url_decode_rejects_bad_escapes),
	    cmocka_unit_test(test_url_decode_rejects_encoded_nul),
	    cmocka_unit_test(test_url_decode_rejects_raw_nul_within_length),
	    cmocka_unit_test(test_url_decode_stops_at_length),
	    cmocka_unit_test(test_query_get_finds_each_key),
	    cmocka_unit_test(test_query_get_missing_key_is_null),
	    cmocka_unit_test(test_query_get_empty_value_is_empty_string),
	    cmocka_unit_test(test_query_get_repeated_key_returns_first),
	    cmocka_unit_test(test_query_get_decodes_keys_and_values),
	    cmocka_unit_test(test_query_get_value_may_contain_equals),
	    cmocka_unit_test(test_query_get_skips_empty_segments),
	    cmocka_unit_test(test_query_get_bad_value_is_an_error_not_absent),
	    cmocka_unit_test(test_status_text_knows_common_codes),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
