/*
 * http.h: helpers for one FastCGI request: method, path, query and header
 * access, body reading against a cap, JSON answers and JSON errors, and the
 * bearer-token check.
 *
 * A struct http_req wraps the caller's FCGX_Request. Strings returned by
 * http_param() die at the next accept; http_req_begin() copies the ones it
 * keeps. The body is read once, into req->body, bounded by the cap.
 */
#ifndef HTTP_H
#define HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stddef.h>

#include "core/buf.h"

struct http_req {
	FCGX_Request *fcgi;
	char *method;
	char *path; /* without query string */
	char *query;
	struct buf body;
	int status_sent;
	int status; /* status of the answer, for the log */
};

void http_req_begin(struct http_req *r, FCGX_Request *fcgi);
void http_req_end(struct http_req *r);

const char *http_param(struct http_req *r, const char *name);

/*
 * Read the body, at most cap bytes. 0 on success; otherwise an error answer
 * has been sent (411 no Content-Length for POST/PUT, 413 over the cap,
 * 400 short body) and -1 is returned.
 */
int http_read_body(struct http_req *r, size_t cap);

/*
 * Read the body (as http_read_body) and parse it as one JSON object (core/jsonutil.h
 * json_parse_object). 0 and *obj (caller puts it); or -1, *obj NULL, an error answer sent
 * (400 invalid_json for anything that is not one JSON object).
 */
int http_read_json(struct http_req *r, size_t cap, struct json_object **obj);

/* Check "Authorization: Bearer <token>" in constant time. 0 ok; -1 and a 401 sent. */
int http_require_bearer(struct http_req *r, const char *token);
/* The same for another key, named by its setting in the 401 when it is not configured. */
int http_require_key(struct http_req *r, const char *token, const char *setting);

/* Answer 405 unless the method is one of the allowed (comma-separated, e.g. "GET,POST"). */
int http_require_method(struct http_req *r, const char *allowed);

/* Send a complete JSON answer (takes no ownership of obj). */
void http_send_json(struct http_req *r, int status, struct json_object *obj);
/* Send {"error":{"code":code,"message":message}}. */
void http_send_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Send a text answer with the given content type. */
void http_send_text(struct http_req *r, int status, const char *content_type, const char *text,
                    size_t len);

/* Send {"error":{"code":code,"message":message,"field":field}}: an error in one named input. */
void http_send_field_error(struct http_req *r, int status, const char *code, const char *field,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Send 429 {"error":{"code":code,"message":message,"retry_after_seconds":seconds}} with a
 * Retry-After header (seconds, at least 1).
 */
void http_send_retry(struct http_req *r, long long seconds, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Look up key in an application/x-www-form-urlencoded query: the first pair
 * whose decoded name is key (pairs whose names do not decode are not key).
 * 1 and *value, a new string ("" for a pair without '='); 0 and *value NULL
 * when there is no such pair; -1 and *value NULL when its value does not
 * decode (a bad %-escape, or a NUL byte raw or as %00): a malformed value is
 * never taken for a missing one.
 */
int http_query_get(const char *query, const char *key, char **value);

/*
 * The request's query parameter key, as http_query_get(): 0 and *value (a new
 * string, or NULL when absent); -1 when its value does not decode, with a 400
 * invalid_parameter error naming the field sent.
 */
int http_query_param(struct http_req *r, const char *key, char **value);
/* Percent-decode (and '+' to space) into a new string; NULL on bad escapes or NUL bytes. */
char *http_url_decode(const char *s, size_t len);

const char *http_status_text(int status);

#endif
