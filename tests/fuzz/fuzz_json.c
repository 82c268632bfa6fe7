/*
 * fuzz_json.c: json_parse_object(), the strict pre-scan plus json-c parse
 * every JSON request body goes through.
 *
 * Invariants:
 *  - failure: *out is NULL and *err a message; success: *out is an object;
 *  - only valid UTF-8 is accepted, starting with '{' and ending with '}'
 *    after whitespace, nested at most JSON_MAX_DEPTH deep (objects and
 *    arrays, the outermost counting 1);
 *  - whitespace around the body changes nothing;
 *  - no string of an accepted object (value or name) holds a NUL character:
 *    every C string taken from it is the whole string;
 *  - json-c can serialise what was accepted (plain, spaced and pretty), and
 *    json_parse_object() accepts each serialisation and gives an equal
 *    object back;
 *  - json_parse_object_max() with a limit answers the same, except -2 (and
 *    no object) when the body holds more values than the limit; with a
 *    limit of the whole input's length it never says -2.
 */
#include <ctype.h>

#include "fuzz.h"
#include "core/jsonutil.h"

static int depth(struct json_object *o)
{
	int d = 0;
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			int dv = depth(v);
			d = dv > d ? dv : d;
		}
		return d + 1;
	}
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			int dv = depth(json_object_array_get_idx(o, i));
			d = dv > d ? dv : d;
		}
		return d + 1;
	}
	return 0;
}

/* No string value in o holds a NUL: its length is its strlen(). */
static void check_no_nul(struct json_object *o)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			check_no_nul(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			check_no_nul(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_string)) {
		FUZZ_CHECK(strlen(json_object_get_string(o)) ==
		           (size_t)json_object_get_string_len(o));
	}
}

static void check_reparse(struct json_object *o, int flags)
{
	size_t n = 0;
	struct json_object *again = NULL;
	char *err = NULL;
	const char *s = json_object_to_json_string_length(o, flags, &n);

	FUZZ_CHECK(s != NULL && n > 0);
	if (json_parse_object(s, n, &again, &err) != 0) {
		fprintf(stderr, "json_parse_object refuses json-c's serialisation: %s\n%.*s\n", err,
		        (int)(n > 2000 ? 2000 : n), s);
		FUZZ_CHECK(!"the serialisation of an accepted object is accepted");
	}
	FUZZ_CHECK(json_object_equal(o, again));
	json_object_put(again);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct json_object *o = (struct json_object *)&o; /* must be reset */
	char *err = NULL;

	int rc = json_parse_object(s, size, &o, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);

	char *wrapped = xmalloc(size + 4);
	memcpy(wrapped, " \n", 2);
	if (size)
		memcpy(wrapped + 2, data, size);
	memcpy(wrapped + 2 + size, "\t\r", 2);
	struct json_object *w = NULL;
	char *werr = NULL;
	int wrc = json_parse_object(wrapped, size + 4, &w, &werr);
	free(wrapped);
	FUZZ_CHECK(wrc == rc);

	/* The value limit: a small one may refuse (-2), one no body can exceed never does. */
	struct json_object *m = NULL;
	char *merr = NULL;
	int mrc = json_parse_object_max(s, size, 0, 8, &m, &merr);
	FUZZ_CHECK(mrc == rc || mrc == -2);
	FUZZ_CHECK((m != NULL) == (mrc == 0) && (mrc == 0 || (merr && *merr)));
	if (mrc == 0)
		FUZZ_CHECK(json_object_equal(o, m));
	json_object_put(m);
	free(merr);
	m = NULL;
	merr = NULL;
	FUZZ_CHECK(json_parse_object_max(s, size, 0, size + 1, &m, &merr) == rc);
	json_object_put(m);
	free(merr);

	if (rc < 0) {
		FUZZ_CHECK(o == NULL && err != NULL && *err != '\0');
		FUZZ_CHECK(w == NULL && werr != NULL);
		free(err);
		free(werr);
		return 0;
	}
	FUZZ_CHECK(err == NULL && werr == NULL);
	FUZZ_CHECK(o != NULL && json_object_is_type(o, json_type_object));
	FUZZ_CHECK(json_object_equal(o, w));
	json_object_put(w);
	FUZZ_CHECK(str_is_utf8(s, size));
	size_t a = 0, b = size;
	while (a < size && isspace((unsigned char)s[a]))
		a++;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	FUZZ_CHECK(b - a >= 2 && s[a] == '{' && s[b - 1] == '}');
	FUZZ_CHECK(depth(o) <= JSON_MAX_DEPTH);
	check_no_nul(o);

	check_reparse(o, JSON_C_TO_STRING_PLAIN);
	check_reparse(o, JSON_C_TO_STRING_SPACED);
	check_reparse(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(o);
	return 0;
}
