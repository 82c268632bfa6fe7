/*
 * event.h: the business events the commerce platform posts (POST /events), read and checked:
 * one event object {id, type, tenant, occurred_at, data}, or a batch {"events": [...]} of up
 * to EVENT_BATCH_MAX of them.
 *
 * An event is checked member by member: id (1 to EVENT_ID_MAX of A-Z a-z 0-9 . _ : @ -, the
 * platform's, unique per event), type (a type of tenants/alerttype.h), tenant (an external id
 * as tenant_check_field(TF_EXTERNAL_ID) accepts it; whether that tenant exists is the
 * caller's question), occurred_at (RFC 3339 with a Z or an offset, kept as epoch seconds) and
 * data (an object with the fields its type requires; other members of data are accepted).
 * Any other member of the event is refused: data is the place for more.
 *
 * In a batch each item is judged on its own: event_parse_body succeeds when the body has the
 * right shape and says, item by item, which events are good and why the others are refused
 * (the caller stores the good ones). Only a body that is not one of the two shapes, or holds
 * too many items, is refused as a whole. A message always starts with the field it is about
 * ("data.total.currency must be ...").
 *
 * Memory: struct event, struct event_item and struct event_body own what they point to
 * (data is a reference on the parsed document); release them with event_release /
 * event_body_release, both safe on a zeroed struct and twice. Nothing here touches the
 * database.
 */
#ifndef EVENT_H
#define EVENT_H

#include <json-c/json.h>
#include <stddef.h>

#include "tenants/alerttype.h"

#define EVENT_ID_MAX 128
#define EVENT_BATCH_MAX 100
/* JSON values in one body (core/jsonutil.h json_parse_object_max): 1,000 per event. */
#define EVENT_BODY_MAX_VALUES 100000

struct event {
	char *id;
	const struct alert_type *type;
	char *tenant;             /* the tenant's external id */
	long long occurred_at;    /* epoch seconds */
	struct json_object *data; /* a reference (held by the event) */
};

void event_release(struct event *e);

/*
 * One event object. 0 and *e; or -1 and *field (the member at fault, a path such as
 * "data.total.currency"; "" for o itself) and *err (a sentence starting with the field);
 * both new strings the caller frees, and *e zeroed.
 */
int event_parse(struct json_object *o, struct event *e, char **field, char **err);

/* One item of a body: ok and ev, or refused with field and message (as event_parse gives). */
struct event_item {
	int ok;
	struct event ev;
	char *field;
	char *message;
};

struct event_body {
	int batch;                /* 1: the body was {"events": [...]}; 0: one event */
	size_t n;                 /* items, in the body's order (index = position in events) */
	struct event_item *items; /* n */
	size_t refused;           /* items not ok */
};

void event_body_release(struct event_body *b);

/*
 * A body already parsed: an event object, or an object whose only member is "events", an
 * array of 1 to EVENT_BATCH_MAX items. 0 and *b, every item judged (b->refused may be n);
 * -1 the body's shape is wrong; -2 more than EVENT_BATCH_MAX items (for a 413). On -1 and -2,
 * *field ("" or "events" or the member at fault) and *err, new strings the caller frees, and
 * *b empty.
 */
int event_parse_body_json(struct json_object *body, struct event_body *b, char **field, char **err);

/*
 * The same from the request's bytes, parsed strictly (json_parse_object_max: one object,
 * UTF-8, no \u0000, at most EVENT_BODY_MAX_VALUES values, or -2).
 */
int event_parse_body(const char *s, size_t len, struct event_body *b, char **field, char **err);

#endif
