#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/util.h"
#include "tenants/alerttype.h"
#include "tenants/event.h"
#include "tenants/tenant.h"

/* ------------------------------------------------------------------ one event */

static const char *const event_members[] = {"id", "type", "tenant", "occurred_at", "data"};

void event_release(struct event *e)
{
	free(e->id);
	free(e->tenant);
	if (e->data)
		json_object_put(e->data);
	memset(e, 0, sizeof(*e));
}

/* *field and *err for member field (a new path) and its sentence; returns -1. */
static int refuse(char **field, char **err, char *path, const char *why)
{
	*field = path;
	*err = *path ? xasprintf("%s %s", path, why) : xasprintf("the event %s", why);
	return -1;
}

/* The string member key of o, or NULL with *why (absent, or not a string). */
static const char *string_member(struct json_object *o, const char *key, const char *must,
                                 const char **why)
{
	struct json_object *v = json_get(o, key);
	*why = v ? must : "is required";
	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL; /* a \u0000 inside: what C reads would not be what was sent */
	*why = NULL;
	return s;
}

static const char *const id_rule = "must be 1 to 128 characters of letters, digits and . _ : @ -";

static int check_id(const char *s, const char **why)
{
	size_t n = strlen(s);
	*why = id_rule;
	if (n == 0 || n > EVENT_ID_MAX)
		return -1;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._:@-", *p)))
			return -1;
	return 0;
}

/* id, type, tenant and occurred_at into e. 0, or -1 with *member and *why. */
static int parse_envelope(struct json_object *o, struct event *e, const char **member,
                          const char **why)
{
	const char *s;
	char *tenant = NULL;
	*member = "id";
	if (!(s = string_member(o, "id", id_rule, why)) || check_id(s, why) < 0)
		return -1;
	e->id = xstrdup(s);
	*member = "type";
	if (!(s = string_member(o, "type", "must be an alert type such as order.placed", why)))
		return -1;
	if (!(e->type = alert_type_find(s))) {
		*why = "is not a known alert type (order.placed, payment.failed, ...)";
		return -1;
	}
	*member = "tenant";
	if (!(s = string_member(o, "tenant", "must be the tenant's external_id, a string", why)) ||
	    tenant_check_field(TF_EXTERNAL_ID, s, &tenant, why) < 0)
		return -1;
	e->tenant = tenant;
	*member = "occurred_at";
	static const char *const rfc3339 =
	    "must be an RFC 3339 time with its offset, such as 2026-12-02T14:05:00+01:00";
	if (!(s = string_member(o, "occurred_at", rfc3339, why)))
		return -1;
	if (parse_timestamp(s, &e->occurred_at, why) < 0) {
		*why = rfc3339;
		return -1;
	}
	return 0;
}

/* The first member of o that is not an event's, or NULL. */
static const char *unknown_member(struct json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		size_t i = 0;
		while (i < ARRAY_LEN(event_members) && strcmp(key, event_members[i]) != 0)
			i++;
		if (i == ARRAY_LEN(event_members))
			return key;
	}
	return NULL;
}

/*
 * Every number in v (data, kept as it came) storable as sent: a number that overflows a
 * double (1e999999), or an integer beyond 64 bits (which json-c clamps to INT64_MIN or
 * UINT64_MAX, themselves refused with them), is refused, *path its place ("x", "x[2].y", ""
 * for v itself, new); the other doubles are written back in their plain form ("%.17g"), not
 * the text they came in (1.5e-999999, which reads 0, is more than any database numeric
 * holds). 0 / -1. v's depth is the strict parser's, small.
 */
static int check_numbers(struct json_object *v, char **path)
{
	char *sub = NULL;
	switch (json_object_get_type(v)) {
	case json_type_int: /* json-c clamps what overflows to these two: the value is lost */
		if (json_object_get_int64(v) == INT64_MIN ||
		    json_object_get_uint64(v) == UINT64_MAX) {
			*path = xstrdup("");
			return -1;
		}
		return 0;
	case json_type_double:
		if (!isfinite(json_object_get_double(v))) {
			*path = xstrdup("");
			return -1;
		}
		json_object_set_serializer(v, NULL, NULL, NULL);
		return 0;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (check_numbers(json_object_array_get_idx(v, i), &sub) < 0) {
				*path =
				    xasprintf("[%zu]%s%s", i, *sub && *sub != '[' ? "." : "", sub);
				free(sub);
				return -1;
			}
		return 0;
	case json_type_object: {
		json_object_object_foreach(v, key, val)
		{
			if (check_numbers(val, &sub) < 0) {
				*path =
				    xasprintf("%s%s%s", key, *sub && *sub != '[' ? "." : "", sub);
				free(sub);
				return -1;
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

int event_parse(struct json_object *o, struct event *e, char **field, char **err)
{
	const char *member = "", *why = NULL, *extra;
	char *path = NULL;
	memset(e, 0, sizeof(*e));
	*field = *err = NULL;
	if (!o || !json_object_is_type(o, json_type_object))
		return refuse(field, err, xstrdup(""), "must be a JSON object");
	if (parse_envelope(o, e, &member, &why) < 0) {
		event_release(e);
		return refuse(field, err, xstrdup(member), why);
	}
	struct json_object *data = json_get(o, "data");
	if (!data || alert_type_check_data(e->type, data, &path, &why) < 0) {
		char *full = !data   ? xstrdup("data")
		             : *path ? xasprintf("data.%s", path)
		                     : xstrdup("data");
		if (!data)
			why = "is required";
		free(path);
		event_release(e);
		return refuse(field, err, full, why);
	}
	if (check_numbers(data, &path) < 0) {
		char *full = xasprintf("data.%s", path);
		free(path);
		event_release(e);
		return refuse(field, err, full,
		              "must be a number within 1e308, and an integer within 64 bits");
	}
	if ((extra = unknown_member(o))) {
		event_release(e);
		return refuse(field, err, xstrdup(extra),
		              "is not a member of an event (id, type, tenant, occurred_at, data): "
		              "put more in data");
	}
	e->data = json_object_get(data);
	return 0;
}

/* ------------------------------------------------------------------ a body */

void event_body_release(struct event_body *b)
{
	for (size_t i = 0; b->items && i < b->n; i++) {
		event_release(&b->items[i].ev);
		free(b->items[i].field);
		free(b->items[i].message);
	}
	free(b->items);
	memset(b, 0, sizeof(*b));
}

/* Item i of b from o. */
static void judge_item(struct event_body *b, size_t i, struct json_object *o)
{
	struct event_item *it = &b->items[i];
	it->ok = event_parse(o, &it->ev, &it->field, &it->message) == 0;
	b->refused += !it->ok;
}

/* The shape of a batch body. 0 and *events, -1 or -2 with *field and *err. */
static int batch_shape(struct json_object *body, struct json_object **events, char **field,
                       char **err)
{
	json_object_object_foreach(body, key, val)
	{
		(void)val;
		if (strcmp(key, "events") != 0) {
			*field = xstrdup(key);
			*err = xasprintf("%s is not allowed beside events: a body is one event or "
			                 "{\"events\": [...]}",
			                 key);
			return -1;
		}
	}
	*events = json_get(body, "events");
	size_t n =
	    json_object_is_type(*events, json_type_array) ? json_object_array_length(*events) : 0;
	*field = xstrdup("events");
	if (n == 0) {
		*err = xasprintf("events must be an array of 1 to %d events", EVENT_BATCH_MAX);
		return -1;
	}
	if (n > EVENT_BATCH_MAX) {
		*err = xasprintf("events holds %zu events; at most %d in one body", n,
		                 EVENT_BATCH_MAX);
		return -2;
	}
	free(*field);
	*field = NULL;
	return 0;
}

int event_parse_body_json(struct json_object *body, struct event_body *b, char **field, char **err)
{
	struct json_object *events = NULL;
	memset(b, 0, sizeof(*b));
	*field = *err = NULL;
	if (!body || !json_object_is_type(body, json_type_object)) {
		*field = xstrdup("");
		*err = xstrdup("the body must be a JSON object: one event or {\"events\": [...]}");
		return -1;
	}
	if (!json_object_object_get_ex(body, "events", NULL)) {
		b->n = 1;
		b->items = xcalloc(1, sizeof(*b->items));
		judge_item(b, 0, body);
		return 0;
	}
	int rc = batch_shape(body, &events, field, err);
	if (rc < 0)
		return rc;
	b->batch = 1;
	b->n = json_object_array_length(events);
	b->items = xcalloc(b->n, sizeof(*b->items));
	for (size_t i = 0; i < b->n; i++)
		judge_item(b, i, json_object_array_get_idx(events, i));
	return 0;
}

int event_parse_body(const char *s, size_t len, struct event_body *b, char **field, char **err)
{
	struct json_object *body = NULL;
	memset(b, 0, sizeof(*b));
	*field = *err = NULL;
	int rc = json_parse_object_max(s, len, 0, EVENT_BODY_MAX_VALUES, &body, err);
	if (rc < 0) {
		*field = xstrdup("");
		return rc;
	}
	rc = event_parse_body_json(body, b, field, err);
	json_object_put(body);
	return rc;
}
