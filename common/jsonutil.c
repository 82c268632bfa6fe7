#include <ctype.h>
#include <string.h>

#include "jsonutil.h"
#include "util.h"

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
};

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

static int string(struct scan *c)
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
				for (int i = 0; i < 4; i++, c->pos++)
					if (c->pos >= c->len ||
					    !isxdigit((unsigned char)c->s[c->pos]))
						return -1;
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
		c->pos++;
		ws(c);
		if (c->pos < c->len && c->s[c->pos] == close) {
			c->pos++;
			return 0;
		}
		for (;;) {
			if (ch == '{') {
				ws(c);
				if (c->pos >= c->len || c->s[c->pos] != '"' || string(c) < 0)
					goto bad;
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
				return 0;
			}
			goto bad;
		}
	}
	if (ch == '"' ? string(c) == 0
	    : ch == '-' || isdigit((unsigned char)ch)
	        ? number(c) == 0
	        : lit(c, "true") == 0 || lit(c, "false") == 0 || lit(c, "null") == 0)
		return 0;
bad:
	c->err = c->pos >= c->len ? "the JSON is truncated" : "the body is not valid JSON";
	return -1;
}

int json_parse_object(const char *s, size_t len, struct json_object **out, const char **err)
{
	return json_parse_object_max(s, len, 0, out, err);
}

int json_parse_object_max(const char *s, size_t len, size_t max_values, struct json_object **out,
                          const char **err)
{
	*out = NULL;
	if (len == 0) {
		*err = "the body is empty; a JSON object is expected";
		return -1;
	}
	if (!str_is_utf8(s, len)) {
		*err = "the body is not valid UTF-8 text";
		return -1;
	}
	struct scan sc = {s, len, 0, NULL, 0, max_values, 0};
	ws(&sc);
	if (sc.pos < len && s[sc.pos] != '{') {
		*err = "a JSON object is expected";
		return -1;
	}
	if (value(&sc, 0) < 0) {
		*err = sc.err;
		return sc.too_many ? -2 : -1;
	}
	ws(&sc);
	if (sc.pos != len) {
		*err = "unexpected data after the JSON object";
		return -1;
	}
	/* json-c counts one level more than we do. */
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 1);
	if (!tok) {
		*err = "out of memory";
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *obj = json_tokener_parse_ex(tok, s, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		*err = jerr == json_tokener_error_depth ? "the JSON is nested too deeply"
		       : jerr == json_tokener_continue  ? "the JSON is truncated"
		                                        : "the body is not valid JSON";
		return -1;
	}
	for (size_t i = used; i < len; i++)
		if (!isspace((unsigned char)s[i])) {
			json_object_put(obj);
			*err = "unexpected data after the JSON object";
			return -1;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*err = "a JSON object is expected";
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
