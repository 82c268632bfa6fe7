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
 * most JSON_MAX_DEPTH, nothing but whitespace after it, and no string (name
 * or value) holding a NUL character (\u0000): json-c would keep it, and every
 * C string taken from the object would end there (a message cut short, a
 * field name changed). Invalid escapes are refused by the syntax check.
 * 0 and *out (caller puts it), or -1 and *err (caller frees): a message that,
 * for a NUL, names the member it is in.
 */
int json_parse_object(const char *s, size_t len, struct json_object **out, char **err);

/*
 * json_parse_object() with flags. JSON_NUL_IN_VALUES accepts \u0000 in string
 * values (never in names): for the documents of third parties (Meta's
 * webhook events, the providers' answers) whose readers check each field's
 * length themselves (waevent.c drops an id holding a NUL), where refusing the
 * whole document would refuse every event in it.
 */
#define JSON_NUL_IN_VALUES 1
int json_parse_object_flags(const char *s, size_t len, int flags, struct json_object **out,
                            char **err);

/*
 * json_parse_object_flags(), and -2 (with *err, caller frees) when the body
 * holds more than max_values JSON values (objects, arrays, strings, numbers,
 * literals; member names do not count), found by the syntax check before
 * json-c builds anything: what parsing allocates is then bounded by
 * max_values, not only by len. A syntax error met before the limit is still
 * -1. max_values 0: no limit.
 */
int json_parse_object_max(const char *s, size_t len, int flags, size_t max_values,
                          struct json_object **out, char **err);

/* json-c's name for a value's type, for error messages ("string", "number", ...). */
const char *json_type_label(const struct json_object *o);

#endif
