/* Unit tests of common/core/jsonutil.c: strict parsing of request bodies, typed getters. */
#include "testutil.h"

#include <limits.h>

#include "core/buf.h"
#include "core/jsonutil.h"

static int parse(const char *s, struct json_object **out)
{
	char *err = NULL;
	int r = json_parse_object(s, strlen(s), out, &err);
	free(err);
	return r;
}

/* Assert that s is rejected, with *out NULL and an error mentioning word. */
static void assert_rejected(const char *s, size_t len, const char *word)
{
	static char sentinel;
	struct json_object *o = (void *)&sentinel;
	char *err = NULL;
	int r = json_parse_object(s, len, &o, &err);
	if (r == 0) {
		print_error("accepted: %.*s\n", (int)len, s);
		json_object_put(o);
		fail();
	}
	assert_null(o);
	assert_non_null(err);
	if (word)
		assert_contains(err, word);
	free(err);
}

/* Assert that a string literal (which may hold NUL bytes) is rejected. */
#define REJECT(lit, word) assert_rejected((lit), sizeof(lit) - 1, (word))

/* {"a":{"a":...1...}} with depth nested objects (the outermost counts). */
static char *nested_objects(int depth)
{
	struct buf b = BUF_INIT(4096);
	for (int i = 0; i < depth; i++)
		buf_puts(&b, i + 1 < depth ? "{\"a\":" : "{\"a\":1");
	for (int i = 0; i < depth; i++)
		buf_puts(&b, "}");
	return buf_detach(&b);
}

static void test_json_parse_object_accepts_object(void **state)
{
	(void)state;
	struct json_object *o = NULL;
	assert_int_equal(parse("{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {\"d\": 2.5}}", &o),
	                 0);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_object));
	struct json_object *a = NULL;
	assert_true(json_object_object_get_ex(o, "a", &a));
	assert_int_equal(json_object_get_int(a), 1);
	json_object_put(o);
}

static void test_json_parse_object_accepts_surrounding_whitespace(void **state)
{
	(void)state;
	struct json_object *o = NULL;
	assert_int_equal(parse(" \r\n\t{}\n\n ", &o), 0);
	json_object_put(o);
	assert_int_equal(parse("{}", &o), 0);
	json_object_put(o);
}

static void test_json_parse_object_accepts_utf8_strings(void **state)
{
	(void)state;
	struct json_object *o = NULL;
	assert_int_equal(parse("{\"msg\": \"caf\xc3\xa9 \xe2\x82\xac\"}", &o), 0);
	struct json_object *m = NULL;
	assert_true(json_object_object_get_ex(o, "msg", &m));
	assert_string_equal(json_object_get_string(m), "caf\xc3\xa9 \xe2\x82\xac");
	json_object_put(o);
}

static void test_json_parse_object_rejects_array(void **state)
{
	(void)state;
	REJECT("[1, 2]", "object");
	REJECT("[]", "object");
}

static void test_json_parse_object_rejects_scalars(void **state)
{
	(void)state;
	REJECT("42", NULL);
	REJECT("\"text\"", NULL);
	REJECT("null", NULL);
	REJECT("true", NULL);
}

static void test_json_parse_object_rejects_trailing_garbage(void **state)
{
	(void)state;
	const char *cases[] = {"{}x", "{\"a\":1} x", "{\"a\":1}{\"b\":2}", "{} []", "{}\n,"};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_rejected(cases[i], strlen(cases[i]), NULL);
}

static void test_json_parse_object_rejects_truncated_input(void **state)
{
	(void)state;
	REJECT("{\"a\":", "truncated");
	REJECT("{\"a\": [1, 2", "truncated");
	REJECT("{\"a\": \"unterminated", "truncated");
	/* The bytes are there, but len stops before the end. */
	assert_rejected("{\"a\":1}", 6, NULL);
}

static void test_json_parse_object_rejects_invalid_json(void **state)
{
	(void)state;
	const char *cases[] = {"{a:1}",        "{\"a\":1,}", "{\"a\":01}",
	                       "{\"a\":TRUE}", "{\"a\" 1}",  "{\"a\":.5}"};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_rejected(cases[i], strlen(cases[i]), NULL);
}

static void test_json_parse_object_rejects_invalid_utf8(void **state)
{
	(void)state;
	REJECT("{\"a\":\"\xff\"}", "UTF-8");
	REJECT("{\"a\":\"\xc0\xaf\"}", "UTF-8");     /* overlong '/' */
	REJECT("{\"a\":\"\xed\xa0\x80\"}", "UTF-8"); /* surrogate */
	REJECT("{\"a\":\"\xe2\x82\"}", "UTF-8");     /* truncated */
}

static void test_json_parse_object_rejects_nul_byte(void **state)
{
	(void)state;
	REJECT("{\"a\":\"x\0y\"}", NULL);
	REJECT("{}\0", NULL);
}

static void test_json_parse_object_rejects_empty_body(void **state)
{
	(void)state;
	REJECT("", "empty");
	REJECT("   \n", NULL);
}

static void test_json_parse_object_accepts_depth_16(void **state)
{
	(void)state;
	/* "nesting at most JSON_MAX_DEPTH" (jsonutil.h): 16 levels must pass. */
	char *s = nested_objects(JSON_MAX_DEPTH);
	struct json_object *o = NULL;
	char *err = NULL;
	int r = json_parse_object(s, strlen(s), &o, &err);
	if (r != 0)
		print_error("depth %d rejected: %s\n", JSON_MAX_DEPTH, err ? err : "?");
	free(err);
	free(s);
	json_object_put(o);
	assert_int_equal(r, 0);
}

static void test_json_parse_object_accepts_depth_15(void **state)
{
	(void)state;
	char *s = nested_objects(JSON_MAX_DEPTH - 1);
	struct json_object *o = NULL;
	char *err = NULL;
	int r = json_parse_object(s, strlen(s), &o, &err);
	free(err);
	free(s);
	json_object_put(o);
	assert_int_equal(r, 0);
}

static void test_json_parse_object_rejects_depth_over_16(void **state)
{
	(void)state;
	char *s = nested_objects(JSON_MAX_DEPTH + 1);
	assert_rejected(s, strlen(s), "deep");
	free(s);
	s = nested_objects(200);
	assert_rejected(s, strlen(s), "deep");
	free(s);
	/* Arrays count too. */
	struct buf b = BUF_INIT(4096);
	buf_puts(&b, "{\"a\":");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "[");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "]");
	buf_puts(&b, "}");
	assert_rejected(buf_str(&b), b.len, "deep");
	buf_release(&b);
}

static void test_json_parse_object_rejects_nan_and_infinity(void **state)
{
	(void)state;
	/* Not JSON (RFC 8259): a strict parser must refuse them. */
	REJECT("{\"a\":NaN}", NULL);
	REJECT("{\"a\":Infinity}", NULL);
	REJECT("{\"a\":-Infinity}", NULL);
}

static void test_json_parse_object_rejects_single_quoted_strings(void **state)
{
	(void)state;
	REJECT("{'a':1}", NULL);
}

static void test_json_parse_object_rejects_escaped_nul_naming_the_field(void **state)
{
	(void)state;
	/* json-c keeps \u0000, and every C string taken from the object ends there (issue 14:
	 * test-alert cut its message short). */
	REJECT("{\"severity\":\"critical\",\"message\":\"abc\\u0000def\"}", "'message'");
	REJECT("{\"message\":\"\\u0000\"}", "NUL");
	REJECT("{\"a\":{\"b\":[1,\"x\\u0000\"]}}", "'b'");
	/* The innermost member the string is in, not the last one seen. */
	REJECT("{\"a\":{\"b\":1},\"c\":\"\\u0000\"}", "'c'");
	REJECT("{\"a\":[{\"b\":1},\"\\u0000\"]}", "'a'");
	/* In a name: json-c would cut "mess\u0000age" to "mess". */
	REJECT("{\"mess\\u0000age\":\"x\"}", "field name");
	/* A long name is cut in the message. */
	REJECT("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
	       ":\"\\u0000\"}",
	       "aaa...'");
}

static void test_json_parse_object_flags_nul_in_values(void **state)
{
	(void)state;
	struct json_object *o = NULL, *v = NULL;
	char *err = NULL;
	/* Third-party documents: a value may hold \u0000 (its reader checks lengths)... */
	const char *ok = "{\"text\":{\"body\":\"cut\\u0000here\"}}";
	assert_int_equal(json_parse_object_flags(ok, strlen(ok), JSON_NUL_IN_VALUES, &o, &err), 0);
	assert_null(err);
	assert_true(json_object_object_get_ex(o, "text", &v));
	assert_true(json_object_object_get_ex(v, "body", &v));
	assert_int_equal(json_object_get_string_len(v), 8); /* "cut", NUL, "here" */
	json_object_put(o);
	/* ...a name never. */
	const char *bad = "{\"te\\u0000xt\":1}";
	o = NULL;
	assert_int_equal(json_parse_object_flags(bad, strlen(bad), JSON_NUL_IN_VALUES, &o, &err),
	                 -1);
	assert_null(o);
	assert_contains(err, "field name");
	free(err);
}

static void test_json_parse_object_accepts_other_escapes(void **state)
{
	(void)state;
	struct json_object *o = NULL, *v = NULL;
	/* An escaped backslash before u0000 is text, and \u0001 is not NUL. */
	assert_int_equal(parse("{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\",\"c\":\"\\u00e9\"}", &o), 0);
	assert_true(json_object_object_get_ex(o, "a", &v));
	assert_string_equal(json_object_get_string(v), "\\u0000");
	assert_true(json_object_object_get_ex(o, "b", &v));
	assert_int_equal(json_object_get_string_len(v), 1);
	json_object_put(o);
	/* Invalid escapes stay refused. */
	REJECT("{\"a\":\"\\x41\"}", NULL);
	REJECT("{\"a\":\"\\u00g0\"}", NULL);
	REJECT("{\"a\":\"\\u000\"}", NULL);
}

static void test_json_type_label_names_each_type(void **state)
{
	(void)state;
	struct json_object *o = NULL;
	assert_int_equal(
	    parse("{\"n\":null,\"b\":true,\"i\":1,\"d\":1.5,\"o\":{},\"a\":[],\"s\":\"x\"}", &o),
	    0);
	struct {
		const char *key, *label;
	} cases[] = {{"n", "null"},   {"b", "boolean"}, {"i", "number"}, {"d", "number"},
	             {"o", "object"}, {"a", "array"},   {"s", "string"}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct json_object *v = NULL;
		json_object_object_get_ex(o, cases[i].key, &v);
		assert_string_equal(json_type_label(v), cases[i].label);
	}
	json_object_put(o);
}

static void test_json_parse_object_max_counts_values_before_building(void **state)
{
	(void)state;
	struct json_object *o = NULL;
	char *err = NULL;
	/* {"a":[1,"x",true,null,{}],"b":{"c":2}}: 1 + 1 + 5 + 1 + 1 = 9 values; names do not count.
	 */
	const char *s = "{\"a\":[1,\"x\",true,null,{}],\"b\":{\"c\":2}}";
	assert_int_equal(json_parse_object_max(s, strlen(s), 0, 9, &o, &err), 0);
	assert_non_null(o);
	json_object_put(o);
	o = NULL;
	assert_int_equal(json_parse_object_max(s, strlen(s), 0, 8, &o, &err), -2);
	assert_null(o);
	assert_contains(err, "too many values");
	free(err);
	err = NULL;
	/* No limit. */
	assert_int_equal(json_parse_object_max(s, strlen(s), 0, 0, &o, &err), 0);
	json_object_put(o);
	o = NULL;
	/* A syntax error met before the limit is still -1; one after it is never reached. */
	const char *bad = "{\"a\":[1,2,,3]}";
	assert_int_equal(json_parse_object_max(bad, strlen(bad), 0, 100, &o, &err), -1);
	free(err);
	err = NULL;
	assert_int_equal(json_parse_object_max(bad, strlen(bad), 0, 2, &o, &err), -2);
	free(err);
	err = NULL;
	/* A million-element array stops at the limit. */
	struct buf b = BUF_INIT(1 << 22);
	buf_puts(&b, "{\"a\":[");
	for (int i = 0; i < 1000000; i++)
		buf_puts(&b, i ? ",0" : "0");
	buf_puts(&b, "]}");
	assert_int_equal(json_parse_object_max(buf_str(&b), b.len, 0, 1000, &o, &err), -2);
	assert_null(o);
	free(err);
	buf_release(&b);
}

/* ---------------------------------------------------------------- typed getters */

/* A document as a third party's (NUL allowed in values). The caller puts it. */
static struct json_object *doc(const char *s)
{
	struct json_object *o = NULL;
	char *err = NULL;
	assert_int_equal(json_parse_object_flags(s, strlen(s), JSON_NUL_IN_VALUES, &o, &err), 0);
	return o;
}

static void test_json_get_and_member_check_object_and_type(void **state)
{
	(void)state;
	struct json_object *o = doc("{\"s\":\"x\",\"n\":5,\"z\":null,\"a\":[1]}");
	assert_non_null(json_get(o, "s"));
	assert_null(json_get(o, "z")); /* JSON null is absent */
	assert_null(json_get(o, "missing"));
	assert_null(json_get(NULL, "s"));
	assert_null(json_get(json_get(o, "a"), "s")); /* not an object */
	assert_non_null(json_member(o, "n", json_type_int));
	assert_null(json_member(o, "n", json_type_string));
	assert_non_null(json_member(o, "a", json_type_array));
	assert_true(json_present(o, "s"));
	assert_false(json_present(o, "z"));
	assert_false(json_present(o, "missing"));
	assert_false(json_present(NULL, "s"));
	json_object_put(o);
}

static void test_json_get_string_borrows_and_checks_type(void **state)
{
	(void)state;
	struct json_object *o = doc("{\"s\":\"abc\",\"n\":5,\"nul\":\"a\\u0000b\"}");
	assert_string_equal(json_get_string(o, "s"), "abc");
	assert_null(json_get_string(o, "n"));
	assert_null(json_get_string(o, "missing"));
	assert_string_equal(json_get_string(o, "nul"), "a"); /* a C string ends at the NUL */
	json_object_put(o);
}

static void test_json_get_id_refuses_what_is_not_an_identifier(void **state)
{
	(void)state;
	struct json_object *o =
	    doc("{\"ok\":\"wamid.1\",\"empty\":\"\",\"num\":7,\"nul\":\"a\\u0000b\",\"z\":null,"
	        "\"long\":\"abcdefghij\",\"bad\":\"\\udc00x\"}");
	char *out = (char *)"sentinel";
	assert_int_equal(json_get_id(o, "ok", 64, &out), 0);
	assert_string_equal(out, "wamid.1");
	free(out);
	assert_int_equal(json_get_id(o, "missing", 64, &out), 0);
	assert_null(out);
	assert_int_equal(json_get_id(o, "z", 64, &out), 0);
	assert_null(out);
	assert_int_equal(json_get_id(o, "empty", 64, &out), -1);
	assert_null(out);
	assert_int_equal(json_get_id(o, "num", 64, &out), -1);
	assert_int_equal(json_get_id(o, "nul", 64, &out), -1);
	assert_int_equal(json_get_id(o, "long", 9, &out), -1);
	assert_int_equal(json_get_id(o, "long", 10, &out), 0);
	free(out);
	json_object_put(o);
}

static void test_json_get_text_cuts_at_nul_and_utf8_boundary(void **state)
{
	(void)state;
	/* "h\u00e9llo": h, then é as two bytes. */
	struct json_object *o = doc("{\"t\":\"h\\u00e9llo\",\"nul\":\"ab\\u0000cd\",\"n\":1}");
	char *t = json_get_text(o, "t", 100);
	assert_string_equal(t, "h\xc3\xa9llo");
	free(t);
	t = json_get_text(o, "t", 2); /* would split é: cut before it */
	assert_string_equal(t, "h");
	free(t);
	t = json_get_text(o, "t", 3);
	assert_string_equal(t, "h\xc3\xa9");
	free(t);
	t = json_get_text(o, "nul", 100);
	assert_string_equal(t, "ab");
	free(t);
	assert_null(json_get_text(o, "n", 100));
	assert_null(json_get_text(o, "missing", 100));
	json_object_put(o);
}

static void test_json_get_whole_refuses_what_is_too_long(void **state)
{
	(void)state;
	struct json_object *o = doc("{\"p\":\"payload\",\"nul\":\"ab\\u0000cdef\"}");
	char *t = json_get_whole(o, "p", 7);
	assert_string_equal(t, "payload");
	free(t);
	assert_null(json_get_whole(o, "p", 6));
	/* The true length counts, NUL and all: 7 bytes are past 6. */
	assert_null(json_get_whole(o, "nul", 6));
	json_object_put(o);
}

static void test_json_get_uint_takes_integers_and_digit_strings(void **state)
{
	(void)state;
	struct json_object *o = doc(
	    "{\"i\":42,\"s\":\"1700000000\",\"neg\":-1,\"sneg\":\"-1\",\"sp\":\" 1\",\"e\":\"\","
	    "\"big\":\"99999999999999999999\",\"huge\":99999999999999999999,\"f\":1.5,"
	    "\"b\":true}");
	assert_int_equal(json_get_uint(o, "i", 100), 42);
	assert_int_equal(json_get_uint(o, "i", 41), -1);
	assert_int_equal(json_get_uint(o, "s", LLONG_MAX), 1700000000LL);
	assert_int_equal(json_get_uint(o, "neg", 100), -1);
	assert_int_equal(json_get_uint(o, "sneg", 100), -1);
	assert_int_equal(json_get_uint(o, "sp", 100), -1);
	assert_int_equal(json_get_uint(o, "e", 100), -1);
	assert_int_equal(json_get_uint(o, "big", LLONG_MAX), -1);
	/* json-c clamps a number past int64 to its largest: past any smaller max. */
	assert_int_equal(json_get_uint(o, "huge", 1000000000000000000LL), -1);
	assert_int_equal(json_get_uint(o, "f", 100), -1);
	assert_int_equal(json_get_uint(o, "b", 100), -1);
	assert_int_equal(json_get_uint(o, "missing", 100), -1);
	json_object_put(o);
}

static void test_json_get_int64_and_bool_are_typed(void **state)
{
	(void)state;
	struct json_object *o = doc("{\"i\":-7,\"s\":\"5\",\"t\":true,\"f\":false,\"one\":1}");
	long long n = 99;
	assert_int_equal(json_get_int64(o, "i", &n), 0);
	assert_int_equal(n, -7);
	n = 99;
	assert_int_equal(json_get_int64(o, "s", &n), -1); /* a string is not an integer here */
	assert_int_equal(n, 99);
	assert_int_equal(json_get_int64(o, "missing", &n), -1);
	assert_int_equal(json_get_bool(o, "t", 0), 1);
	assert_int_equal(json_get_bool(o, "f", 1), 0);
	assert_int_equal(json_get_bool(o, "one", 0), 0); /* not a boolean: the default */
	assert_int_equal(json_get_bool(o, "missing", 1), 1);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_parse_object_accepts_object),
	    cmocka_unit_test(test_json_parse_object_accepts_surrounding_whitespace),
	    cmocka_unit_test(test_json_parse_object_accepts_utf8_strings),
	    cmocka_unit_test(test_json_parse_object_rejects_array),
	    cmocka_unit_test(test_json_parse_object_rejects_scalars),
	    cmocka_unit_test(test_json_parse_object_rejects_trailing_garbage),
	    cmocka_unit_test(test_json_parse_object_rejects_truncated_input),
	    cmocka_unit_test(test_json_parse_object_rejects_invalid_json),
	    cmocka_unit_test(test_json_parse_object_rejects_invalid_utf8),
	    cmocka_unit_test(test_json_parse_object_rejects_nul_byte),
	    cmocka_unit_test(test_json_parse_object_rejects_empty_body),
	    cmocka_unit_test(test_json_parse_object_accepts_depth_15),
	    cmocka_unit_test(test_json_parse_object_accepts_depth_16),
	    cmocka_unit_test(test_json_parse_object_rejects_depth_over_16),
	    cmocka_unit_test(test_json_parse_object_rejects_nan_and_infinity),
	    cmocka_unit_test(test_json_parse_object_rejects_single_quoted_strings),
	    cmocka_unit_test(test_json_parse_object_rejects_escaped_nul_naming_the_field),
	    cmocka_unit_test(test_json_parse_object_accepts_other_escapes),
	    cmocka_unit_test(test_json_parse_object_flags_nul_in_values),
	    cmocka_unit_test(test_json_type_label_names_each_type),
	    cmocka_unit_test(test_json_parse_object_max_counts_values_before_building),
	    cmocka_unit_test(test_json_get_and_member_check_object_and_type),
	    cmocka_unit_test(test_json_get_string_borrows_and_checks_type),
	    cmocka_unit_test(test_json_get_id_refuses_what_is_not_an_identifier),
	    cmocka_unit_test(test_json_get_text_cuts_at_nul_and_utf8_boundary),
	    cmocka_unit_test(test_json_get_whole_refuses_what_is_too_long),
	    cmocka_unit_test(test_json_get_uint_takes_integers_and_digit_strings),
	    cmocka_unit_test(test_json_get_int64_and_bool_are_typed),
	};
	return cmocka_run_group_tests_name("jsonutil", tests, NULL, NULL);
}
