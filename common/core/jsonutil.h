/*
 * jsonutil.h: strict parsing of untrusted JSON request bodies, and typed
 * getters of an object's members.
 *
 * The getters take any json_object (NULL, or not an object, is "absent") and
 * never fail on input: a member that is absent or of the wrong type gives
 * NULL / -1 as each says. Strings may hold a NUL (a document parsed with
 * JSON_NUL_IN_VALUES): json_get_string() gives the C string, which ends at
 * it; json_get_id() refuses such a string, json_get_text() cuts it there,
 * json_get_whole() refuses it when its true length is past max. Returned
 * json_object pointers and json_get_string()'s text are borrowed (they live
 * as long as the object); char * results are copies the caller frees.
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

/* The member key of o, of any type; NULL when absent, JSON null, or o is not an object. */
struct json_object *json_get(struct json_object *o, const char *key);

/* The member key of o when o is an object and the member has type t; else NULL. */
struct json_object *json_member(struct json_object *o, const char *key, enum json_type t);

/* 1 when o is an object with the member key and it is not JSON null; else 0. */
int json_present(struct json_object *o, const char *key);

/* The string member key (borrowed, up to its first NUL); NULL when absent or not a string. */
const char *json_get_string(struct json_object *o, const char *key);

/*
 * An identifier: *out a copy, or NULL when the member is absent or null (0). -1 (and *out
 * NULL) when it is present but not a non-empty string of at most max bytes of UTF-8 without
 * a NUL.
 */
int json_get_id(struct json_object *o, const char *key, size_t max, char **out);

/*
 * A free text: a copy, cut at the first NUL and then to at most max bytes at a UTF-8
 * boundary. NULL when absent, not a string or not UTF-8.
 */
char *json_get_text(struct json_object *o, const char *key, size_t max);

/* A value that must not be cut (a payload): json_get_text(), NULL when longer than max. */
char *json_get_whole(struct json_object *o, const char *key, size_t max);

/*
 * A non-negative integer sent as a JSON integer or as a string of digits (no sign, no
 * space); -1 when absent, of another type, negative, past max, or a string past int64 (a
 * JSON number past int64 is clamped to INT64_MAX by json-c: pass a max below it).
 */
long long json_get_uint(struct json_object *o, const char *key, long long max);

/* A JSON integer member (not a string of digits) into *out. 0, or -1 when there is none. */
int json_get_int64(struct json_object *o, const char *key, long long *out);

/* A JSON boolean member; def when absent or of another type. */
int json_get_bool(struct json_object *o, const char *key, int def);

/* json-c's name for a value's type, for error messages ("string", "number", ...). */
const char *json_type_label(const struct json_object *o);

#endif
