#include <ctype.h>
#include <string.h>

#include "jsonutil.h"
#include "util.h"

int json_parse_object(const char *s, size_t len, struct json_object **out, const char **err)
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
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
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
