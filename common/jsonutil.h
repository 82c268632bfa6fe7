/*
 * jsonutil.h: strict parsing of untrusted JSON request bodies.
 */
#ifndef JSONUTIL_H
#define JSONUTIL_H

#include <json-c/json.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 16

/*
 * Parse exactly one JSON object from s (len bytes): valid UTF-8, nesting at
 * most JSON_MAX_DEPTH, nothing but whitespace after it. 0 and *out (caller
 * puts it), or -1 and *err (static text).
 */
int json_parse_object(const char *s, size_t len, struct json_object **out, const char **err);

/* json-c's name for a value's type, for error messages ("string", "number", ...). */
const char *json_type_label(const struct json_object *o);

#endif
