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

/*
 * The same, and -2 (*err static) when the body holds more than max_values
 * JSON values (objects, arrays, strings, numbers, literals; member names do
 * not count), found by the syntax check before json-c builds anything: what
 * parsing allocates is then bounded by max_values, not only by len. A syntax
 * error met before the limit is still -1. max_values 0: no limit.
 */
int json_parse_object_max(const char *s, size_t len, size_t max_values, struct json_object **out,
                          const char **err);

/* json-c's name for a value's type, for error messages ("string", "number", ...). */
const char *json_type_label(const struct json_object *o);

#endif
