#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/util.h"

/*
 * A strict RFC 8259 syntax check, run before json-c (which accepts NaN,
 * Infinity and single quotes even in strict mode). Depth counts nested
 * objects and arrays; the outermost is depth 1.
 */
struct scan {
	const char *s;
	size_t len, pos;
	const char *err;
	size_t values, max_values; /* values seen; the most allowed (0: no limit) */
	int too_many;              /* stopped at max_values */
	const char *key;           /* the innermost member name being scanned (raw text), or NULL */
	size_t key_len;
	int nul;          /* 1: a string value holds \u0000; 2: a member name does */
	int nul_value_ok; /* JSON_NUL_IN_VALUES */
};

#define FIELD_SHOWN_MAX 64

static void ws(struct scan *c)
{
	while (c->pos < c->len && strchr(" \t\r\n", c->s[c->pos]) && c->s[c->pos])
		c->pos++;
}

static int lit(struct scan *c, const char *word)
{
	size_t n = strlen(word);
	if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
		return -1;
	c->pos += n;
	return 0;
}

/* A string at c->pos (its opening quote); is_key: it is a member name. */
static int string(struct scan *c, int is_key)
{
	c->pos++; /* opening quote */
	while (c->pos < c->len) {
		unsigned char ch = (unsigned char)c->s[c->pos++];
		if (ch == '"')
			return 0;
		if (ch < 0x20)
			return -1; /* control characters must be escaped */
		if (ch == '\\') {
			if (c->pos >= c->len)
				return -1;
			char e = c->s[c->pos++];
			if (e == 'u') {
				size_t start = c->pos;
				for (int i = 0; i < 4; i++, c->pos++)
					if (c->pos >= c->len ||
					    !isxdigit((unsigned char)c->s[c->pos]))
						return -1;
				if (memcmp(c->s + start, "0000", 4) == 0 &&
				    (is_key || !c->nul_value_ok)) {
					c->nul = is_key ? 2 : 1;
					return -1;
				}
			} else if (!strchr("\"\\/bfnrt", e) || e == 0) {
				return -1;
			}
		}
	}
	return -1;
}

static int digits(struct scan *c)
{
	size_t start = c->pos;
	while (c->pos < c->len && isdigit((unsigned char)c->s[c->pos]))
		c->pos++;
	return c->pos > start ? 0 : -1;
}

static int number(struct scan *c)
{
	if (c->s[c->pos] == '-')
		c->pos++;
	if (c->pos < c->len && c->s[c->pos] == '0')
		c->pos++;
	else if (digits(c) < 0)
		return -1;
	if (c->pos < c->len && c->s[c->pos] == '.') {
		c->pos++;
		if (digits(c) < 0)
			return -1;
	}
	if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E')) {
		c->pos++;
		if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
			c->pos++;
		if (digits(c) < 0)
			return -1;
	}
	return 0;
}

static int value(struct scan *c, int depth)
{
	ws(c);
	if (c->pos >= c->len) {
		c->err = "the JSON is truncated";
		return -1;
	}
	if (c->max_values && ++c->values > c->max_values) {
		c->err = "the JSON has too many values";
		c->too_many = 1;
		return -1;
	}
	char ch = c->s[c->pos];
	if (ch == '{' || ch == '[') {
		char close = ch == '{' ? '}' : ']';
		if (depth + 1 > JSON_MAX_DEPTH) {
			c->err = "the JSON is nested too deeply";
			return -1;
		}
		/* The member name around this value, put back once the value is scanned. */
		const char *outer_key = c->key;
		size_t outer_key_len = c->key_len;
		c->pos++;
		ws(c);
		if (c->pos < c->len && c->s[c->pos] == close) {
			c->pos++;
			return 0;
		}
		for (;;) {
			if (ch == '{') {
				ws(c);
				if (c->pos >= c->len || c->s[c->pos] != '"')
					goto bad;
				size_t key_start = c->pos + 1;
				if (string(c, 1) < 0)
					goto bad;
				c->key = c->s + key_start;
				c->key_len = c->pos - 1 - key_start;
				ws(c);
				if (c->pos >= c->len || c->s[c->pos] != ':')
					goto bad;
				c->pos++;
			}
			if (value(c, depth + 1) < 0)
				return -1;
			ws(c);
			if (c->pos >= c->len)
				goto bad;
			if (c->s[c->pos] == ',') {
				c->pos++;
				continue;
			}
			if (c->s[c->pos] == close) {
				c->pos++;
				c->key = outer_key;
				c->key_len = outer_key_len;
				return 0;
			}
			goto bad;
		}
	}
	if (ch == '"' ? string(c, 0) == 0
	    : ch == '-' || isdigit((unsigned char)ch)
	        ? number(c) == 0
	        : lit(c, "true") == 0 || lit(c, "false") == 0 || lit(c, "null") == 0)
		return 0;
bad:
	c->err = c->pos >= c->len ? "the JSON is truncated" : "the body is not valid JSON";
	return -1;
}

/* The error of a scan that stopped at a \u0000, naming the member. Caller frees. */
static char *nul_error(const struct scan *c)
{
	if (c->nul == 2)
		return xstrdup("a field name holds a NUL character (\\u0000)");
	if (!c->key)
		return xstrdup("a string holds a NUL character (\\u0000)");
	/* The name as written, cut (on a UTF-8 boundary) if long. */
	size_t n = c->key_len;
	if (n > FIELD_SHOWN_MAX) {
		n = FIELD_SHOWN_MAX;
		while (n > 0 && ((unsigned char)c->key[n] & 0xC0) == 0x80)
			n--;
	}
	return xasprintf("the field '%.*s%s' holds a NUL character (\\u0000)", (int)n, c->key,
	                 n < c->key_len ? "..." : "");
}

int json_parse_object(const char *s, size_t len, struct json_object **out, char **err)
{
	return json_parse_object_flags(s, len, 0, out, err);
}

int json_parse_object_flags(const char *s, size_t len, int flags, struct json_object **out,
                            char **err)
{
	return json_parse_object_max(s, len, flags, 0, out, err);
}

int json_parse_object_max(const char *s, size_t len, int flags, size_t max_values,
                          struct json_object **out, char **err)
{
	*out = NULL;
	*err = NULL;
	if (len == 0) {
		*err = xstrdup("the body is empty; a JSON object is expected");
		return -1;
	}
	if (!str_is_utf8(s, len)) {
		*err = xstrdup("the body is not valid UTF-8 text");
		return -1;
	}
	struct scan sc = {.s = s,
	                  .len = len,
	                  .max_values = max_values,
	                  .nul_value_ok = (flags & JSON_NUL_IN_VALUES) != 0};
	ws(&sc);
	if (sc.pos < len && s[sc.pos] != '{') {
		*err = xstrdup("a JSON object is expected");
		return -1;
	}
	if (value(&sc, 0) < 0) {
		*err = sc.nul ? nul_error(&sc) : xstrdup(sc.err);
		return sc.too_many ? -2 : -1;
	}
	ws(&sc);
	if (sc.pos != len) {
		*err = xstrdup("unexpected data after the JSON object");
		return -1;
	}
	/* json-c counts one level more than we do. */
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
	if (!tok) {
		*err = xstrdup("out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *obj = json_tokener_parse_ex(tok, s, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		*err = xstrdup(jerr == json_tokener_error_depth ? "the JSON is nested too deeply"
		               : jerr == json_tokener_continue  ? "the JSON is truncated"
		                                                : "the body is not valid JSON");
		return -1;
	}
	for (size_t i = used; i < len; i++)
		if (!isspace((unsigned char)s[i])) {
			json_object_put(obj);
			*err = xstrdup("unexpected data after the JSON object");
			return -1;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*err = xstrdup("a JSON object is expected");
		return -1;
	}
	*out = obj;
	return 0;
}

const char *json_type_label(const struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
	case json_type_int:
		return "number";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "unknown";
}

/* ---- typed getters ---- */

struct json_object *json_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v; /* NULL for JSON null */
}

struct json_object *json_member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v = json_get(o, key);
	return v && json_object_is_type(v, t) ? v : NULL;
}

int json_present(struct json_object *o, const char *key)
{
	return json_get(o, key) != NULL;
}

const char *json_get_string(struct json_object *o, const char *key)
{
	struct json_object *v = json_member(o, key, json_type_string);
	return v ? json_object_get_string(v) : NULL;
}

int json_get_id(struct json_object *o, const char *key, size_t max, char **out)
{
	*out = NULL;
	if (!json_present(o, key))
		return 0;
	struct json_object *v = json_member(o, key, json_type_string);
	if (!v)
		return -1;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > max || strlen(s) != n || !str_is_utf8(s, n))
		return -1;
	*out = xstrndup(s, n);
	return 0;
}

char *json_get_text(struct json_object *o, const char *key, size_t max)
{
	const char *s = json_get_string(o, key);
	if (!s)
		return NULL;
	size_t n = strlen(s); /* a NUL inside ends the text */
	if (!str_is_utf8(s, n))
		return NULL;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

char *json_get_whole(struct json_object *o, const char *key, size_t max)
{
	struct json_object *v = json_member(o, key, json_type_string);
	if (!v || (size_t)json_object_get_string_len(v) > max)
		return NULL;
	return json_get_text(o, key, max);
}

long long json_get_uint(struct json_object *o, const char *key, long long max)
{
	struct json_object *v = NULL;
	long long n = -1;
	if ((v = json_member(o, key, json_type_int))) {
		errno = 0;
		n = (long long)json_object_get_int64(v);
		if (errno != 0) /* json-c clamps a number past int64 and says so in errno */
			n = -1;
	} else if ((v = json_member(o, key, json_type_string))) {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v);
		if (len == 0 || len > 19 || strspn(s, "0123456789") != len ||
		    parse_int(s, 0, LLONG_MAX, &n, NULL) < 0)
			n = -1;
	}
	return n >= 0 && n <= max ? n : -1;
}

int json_get_int64(struct json_object *o, const char *key, long long *out)
{
	struct json_object *v = json_member(o, key, json_type_int);
	if (!v)
		return -1;
	*out = (long long)json_object_get_int64(v);
	return 0;
}

int json_get_bool(struct json_object *o, const char *key, int def)
{
	struct json_object *v = json_member(o, key, json_type_boolean);
	return v ? json_object_get_boolean(v) : def;
}
