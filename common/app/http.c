#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/http.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/util.h"

void http_req_begin(struct http_req *r, FCGX_Request *fcgi)
{
	memset(r, 0, sizeof(*r));
	r->fcgi = fcgi;
	const char *m = FCGX_GetParam("REQUEST_METHOD", fcgi->envp);
	r->method = xstrdup(m ? m : "");
	const char *uri = FCGX_GetParam("DOCUMENT_URI", fcgi->envp);
	if (!uri)
		uri = FCGX_GetParam("REQUEST_URI", fcgi->envp);
	if (!uri)
		uri = "";
	const char *q = strchr(uri, '?');
	r->path = q ? xstrndup(uri, (size_t)(q - uri)) : xstrdup(uri);
	const char *qs = FCGX_GetParam("QUERY_STRING", fcgi->envp);
	r->query = xstrdup(qs ? qs : "");
	buf_init(&r->body, 0);
}

void http_req_end(struct http_req *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	buf_release(&r->body);
	memset(r, 0, sizeof(*r));
}

const char *http_param(struct http_req *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgi->envp);
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

void http_send_text(struct http_req *r, int status, const char *content_type, const char *text,
                    size_t len)
{
	if (r->status_sent)
		return;
	r->status_sent = 1;
	r->status = status;
	/* libfcgi's own printf knows few conversions: format the head ourselves. */
	char *head = xasprintf("Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                       "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
	                       status, http_status_text(status), content_type, len);
	FCGX_PutStr(head, (int)strlen(head), r->fcgi->out);
	free(head);
	FCGX_PutStr(text, (int)len, r->fcgi->out);
}

void http_send_json(struct http_req *r, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	struct buf b = BUF_INIT(SIZE_MAX / 2);
	buf_append(&b, s, len);
	buf_puts(&b, "\n");
	http_send_text(r, status, "application/json", buf_str(&b), b.len);
	buf_release(&b);
}

/* retry_after < 0: none. */
static void send_error(struct http_req *r, int status, const char *code, const char *field,
                       long long retry_after, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void send_error(struct http_req *r, int status, const char *code, const char *field,
                       long long retry_after, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);
	struct json_object *root = json_object_new_object();
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (field)
		json_object_object_add(e, "field", json_object_new_string(field));
	if (retry_after >= 0 && !r->status_sent) {
		char *h = xasprintf("Retry-After: %lld\r\n", retry_after);
		FCGX_PutS(h, r->fcgi->out);
		free(h);
		json_object_object_add(e, "retry_after_seconds",
		                       json_object_new_int64(retry_after));
	}
	json_object_object_add(root, "error", e);
	http_send_json(r, status, root);
	json_object_put(root);
	free(msg);
}

void http_send_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_error(r, status, code, NULL, -1, fmt, ap);
	va_end(ap);
}

void http_send_field_error(struct http_req *r, int status, const char *code, const char *field,
                           const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_error(r, status, code, field, -1, fmt, ap);
	va_end(ap);
}

void http_send_retry(struct http_req *r, long long seconds, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	send_error(r, 429, code, NULL, seconds < 1 ? 1 : seconds, fmt, ap);
	va_end(ap);
}

int http_require_method(struct http_req *r, const char *allowed)
{
	size_t ml = strlen(r->method);
	const char *p = allowed;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == ml && ml > 0 && strncmp(p, r->method, n) == 0)
			return 0;
		p += n + (comma ? 1 : 0);
	}
	FCGX_PutS("Allow: ", r->fcgi->out);
	FCGX_PutS(allowed, r->fcgi->out);
	FCGX_PutS("\r\n", r->fcgi->out);
	http_send_error(r, 405, "method_not_allowed", "use %s", allowed);
	return -1;
}

int http_read_body(struct http_req *r, size_t cap)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	long long n = 0;
	const char *why;
	buf_release(&r->body);
	buf_init(&r->body, cap);
	if (!cl || !*cl) {
		if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
			http_send_error(r, 411, "length_required", "Content-Length is required");
			return -1;
		}
		return 0;
	}
	if (parse_int(cl, 0, (long long)1 << 40, &n, &why) < 0) {
		http_send_error(r, 400, "bad_request", "Content-Length %s", why);
		return -1;
	}
	if ((unsigned long long)n > cap) {
		http_send_error(r, 413, "payload_too_large", "the body is limited to %zu bytes",
		                cap);
		return -1;
	}
	char tmp[8192];
	while (r->body.len < (size_t)n) {
		size_t want = (size_t)n - r->body.len;
		if (want > sizeof(tmp))
			want = sizeof(tmp);
		int got = FCGX_GetStr(tmp, (int)want, r->fcgi->in);
		if (got <= 0)
			break;
		if (buf_append(&r->body, tmp, (size_t)got) < 0)
			break;
	}
	if (r->body.len != (size_t)n) {
		http_send_error(r, 400, "bad_request",
		                "the body ended before Content-Length bytes");
		return -1;
	}
	return 0;
}

int http_read_json(struct http_req *r, size_t cap, struct json_object **obj)
{
	char *err = NULL;
	*obj = NULL;
	if (http_read_body(r, cap) < 0)
		return -1;
	if (json_parse_object(r->body.data ? r->body.data : "", r->body.len, obj, &err) < 0) {
		http_send_error(r, 400, "invalid_json", "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

int http_require_bearer(struct http_req *r, const char *token)
{
	return http_require_key(r, token, "MONITORING_API_TOKEN");
}

int http_require_key(struct http_req *r, const char *token, const char *setting)
{
	const char *h = http_param(r, "HTTP_AUTHORIZATION");
	if (!token || !*token) {
		http_send_error(r, 401, "unauthorized", "%s is not configured", setting);
		return -1;
	}
	if (!h || strncmp(h, "Bearer ", 7) != 0) {
		http_send_error(r, 401, "unauthorized",
		                "Authorization: Bearer <token> is required");
		return -1;
	}
	const char *t = h + 7;
	while (*t == ' ')
		t++;
	if (!secure_str_eq(t, token)) {
		http_send_error(r, 401, "unauthorized", "invalid token");
		return -1;
	}
	return 0;
}

char *http_url_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			int h = hex_value((unsigned char)s[i + 1]),
			    l = hex_value((unsigned char)s[i + 2]);
			if (h < 0 || l < 0) {
				free(out);
				return NULL;
			}
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0') {
			free(out);
			return NULL;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

int http_query_get(const char *query, const char *key, char **value)
{
	size_t kl = strlen(key);
	const char *p = query;
	*value = NULL;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		char *k = http_url_decode(p, klen);
		if (k && strlen(k) == kl && strcmp(k, key) == 0) {
			free(k);
			*value = eq ? http_url_decode(eq + 1, n - klen - 1) : xstrdup("");
			return *value ? 1 : -1;
		}
		free(k);
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

int http_query_param(struct http_req *r, const char *key, char **value)
{
	if (http_query_get(r->query, key, value) >= 0)
		return 0;
	http_send_field_error(r, 400, "invalid_parameter", key,
	                      "%s: the value has a bad %%-escape or a NUL byte", key);
	return -1;
}
