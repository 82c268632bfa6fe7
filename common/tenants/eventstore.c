#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "tenants/eventstore.h"

static const char *verdict_code(enum event_verdict v)
{
	switch (v) {
	case EVENT_UNKNOWN_TENANT:
		return "unknown_tenant";
	case EVENT_TENANT_SUSPENDED:
		return "tenant_suspended";
	default:
		return "invalid_field";
	}
}

/* The field at fault and its message (new), for an item refused with verdict v. */
static void refusal(const struct event_item *it, enum event_verdict v, char **field, char **msg)
{
	if (v == EVENT_INVALID) {
		*field = xstrdup(it->field ? it->field : "");
		*msg = xstrdup(it->message ? it->message : "the event is not valid");
	} else {
		*field = xstrdup("tenant");
		*msg = xasprintf(v == EVENT_UNKNOWN_TENANT ? "tenant %s is no seller of ours"
		                                           : "tenant %s is suspended",
		                 it->ev.tenant);
	}
}

/* {"index", "id" (when the item has one), "code", "field", "message"} of a refused item. */
static struct json_object *refused_item(const struct event_item *it, size_t i, enum event_verdict v,
                                        int with_index)
{
	char *field, *msg;
	refusal(it, v, &field, &msg);
	struct json_object *o = json_object_new_object();
	if (with_index)
		json_object_object_add(o, "index", json_object_new_int64((int64_t)i));
	if (it->ev.id)
		json_object_object_add(o, "id", json_object_new_string(it->ev.id));
	json_object_object_add(o, "code", json_object_new_string(verdict_code(v)));
	json_object_object_add(o, "field", json_object_new_string(field));
	json_object_object_add(o, "message", json_object_new_string(msg));
	free(field);
	free(msg);
	return o;
}

static char *to_text(struct json_object *o)
{
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                        JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *event_answer(const struct event_body *body, const enum event_verdict *v, int *status)
{
	size_t accepted = 0;
	for (size_t i = 0; i < body->n; i++)
		accepted += v[i] == EVENT_ACCEPTED;
	if (!body->batch && body->n == 1 && accepted == 0) {
		struct json_object *err = refused_item(&body->items[0], 0, v[0], 0);
		struct json_object *root = json_object_new_object();
		json_object_object_add(root, "error", err);
		*status = v[0] == EVENT_INVALID ? 400 : 422;
		return to_text(root);
	}
	struct json_object *root = json_object_new_object(), *refused = json_object_new_array();
	for (size_t i = 0; i < body->n; i++)
		if (v[i] != EVENT_ACCEPTED)
			json_object_array_add(refused, refused_item(&body->items[i], i, v[i], 1));
	if (accepted == 0) {
		struct json_object *err = json_object_new_object();
		json_object_object_add(err, "code", json_object_new_string("all_refused"));
		json_object_object_add(
		    err, "message",
		    json_object_new_string("every event of the batch was refused (see refused); "
		                           "none was stored"));
		json_object_object_add(root, "error", err);
	}
	json_object_object_add(root, "accepted", json_object_new_int64((int64_t)accepted));
	json_object_object_add(root, "refused", refused);
	*status = accepted ? 200 : 422;
	return to_text(root);
}

/*
 * Each ok item's tenant, looked up at once: v[i] and tenant_id[i] (decimal, for the events
 * INSERT). Items not ok are EVENT_INVALID. 0 / -1 (db->err).
 */
static int judge(struct db *db, const struct event_body *b, enum event_verdict *v,
                 char (*tenant_id)[24])
{
	struct buf names = BUF_INIT(SIZE_MAX / 4);
	size_t wanted = 0;
	for (size_t i = 0; i < b->n; i++) {
		v[i] = b->items[i].ok ? EVENT_UNKNOWN_TENANT : EVENT_INVALID;
		tenant_id[i][0] = '\0';
		if (b->items[i].ok) {
			db_array_push(&names, b->items[i].ev.tenant, strlen(b->items[i].ev.tenant));
			wanted++;
		}
	}
	db_array_end(&names);
	int ret = -1;
	PGresult *r = NULL;
	if (wanted == 0) {
		ret = 0;
		goto out;
	}
	const char *p[1] = {buf_str(&names)};
	r = db_query(db,
	             "SELECT external_id, id, status FROM tenants"
	             " WHERE external_id = ANY($1::text[])",
	             1, p);
	if (!r)
		goto out;
	for (int row = 0; row < PQntuples(r); row++) {
		const char *ext = db_value(r, row, 0);
		int active = strcmp(db_value(r, row, 2), "active") == 0;
		for (size_t i = 0; i < b->n; i++) {
			if (!b->items[i].ok || strcmp(b->items[i].ev.tenant, ext) != 0)
				continue;
			v[i] = active ? EVENT_ACCEPTED : EVENT_TENANT_SUSPENDED;
			snprintf(tenant_id[i], sizeof(tenant_id[i]), "%s", db_value(r, row, 1));
		}
	}
	ret = 0;
out:
	PQclear(r);
	buf_release(&names);
	return ret;
}

/* The accepted events of d, in one INSERT; those stored before stay as they are. 0 / -1. */
static int insert_events(struct db *db, const struct event_delivery *d, const enum event_verdict *v,
                         char (*tenant_id)[24])
{
	struct buf ids = BUF_INIT(SIZE_MAX / 4), tenants = BUF_INIT(SIZE_MAX / 4),
	           types = BUF_INIT(SIZE_MAX / 4), times = BUF_INIT(SIZE_MAX / 4),
	           data = BUF_INIT(SIZE_MAX / 4);
	const struct event_body *b = d->body;
	for (size_t i = 0; i < b->n; i++) {
		if (v[i] != EVENT_ACCEPTED)
			continue;
		const struct event *e = &b->items[i].ev;
		char t[24];
		snprintf(t, sizeof(t), "%lld", e->occurred_at);
		size_t len = 0;
		const char *json = json_object_to_json_string_length(
		    e->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		db_array_push(&ids, e->id, strlen(e->id));
		db_array_push(&tenants, tenant_id[i], strlen(tenant_id[i]));
		db_array_push(&types, e->type->name, strlen(e->type->name));
		db_array_push(&times, t, strlen(t));
		db_array_push(&data, json, len);
	}
	db_array_end(&ids);
	db_array_end(&tenants);
	db_array_end(&types);
	db_array_end(&times);
	db_array_end(&data);
	const char *p[6] = {buf_str(&ids),   buf_str(&tenants), buf_str(&types),
	                    buf_str(&times), buf_str(&data),    d->webhook_id};
	/* In event_id order: two transactions storing the same events lock them alike. */
	int rc = db_exec(db,
	                 "INSERT INTO events (event_id, tenant_id, type, occurred_at, data,"
	                 " webhook_id)"
	                 " SELECT e, t, ty, to_timestamp(o), d::jsonb, $6"
	                 " FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[],"
	                 " $5::text[]) AS u(e, t, ty, o, d)"
	                 " ORDER BY e"
	                 " ON CONFLICT (event_id) DO NOTHING",
	                 6, p);
	buf_release(&ids);
	buf_release(&tenants);
	buf_release(&types);
	buf_release(&times);
	buf_release(&data);
	return rc;
}

/* The answer recorded for webhook_id: d->status and d->answer. 0, or -1 (db->err). */
static int recorded_answer(struct db *db, struct event_delivery *d)
{
	const char *p[1] = {d->webhook_id};
	PGresult *r =
	    db_query(db, "SELECT status, answer FROM event_deliveries WHERE webhook_id = $1", 1, p);
	if (!r)
		return -1;
	int ok = PQntuples(r) == 1;
	if (ok) {
		d->status = (int)strtol(db_value(r, 0, 0), NULL, 10);
		d->answer = xstrdup(db_value(r, 0, 1));
		d->replayed = 1;
	} else {
		snprintf(db->err, sizeof(db->err), "delivery %s vanished", d->webhook_id);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

/* One delivery, inside the transaction. 0 / -1 (db->err). */
static int store_one(struct db *db, struct event_delivery *d)
{
	const struct event_body *b = d->body;
	enum event_verdict *v = xcalloc(b->n, sizeof(*v));
	char(*tenant_id)[24] = xcalloc(b->n, sizeof(*tenant_id));
	char *answer = NULL;
	PGresult *r = NULL;
	int ret = -1, status = 0;
	if (judge(db, b, v, tenant_id) < 0)
		goto out;
	answer = event_answer(b, v, &status);
	char st[8];
	snprintf(st, sizeof(st), "%d", status);
	const char *p[3] = {d->webhook_id, st, answer};
	r = db_query(db,
	             "INSERT INTO event_deliveries (webhook_id, status, answer)"
	             " VALUES ($1, $2::smallint, $3)"
	             " ON CONFLICT (webhook_id) DO NOTHING RETURNING 1",
	             3, p);
	if (!r)
		goto out;
	if (PQntuples(r) == 0) { /* answered before: that answer, and nothing stored */
		ret = recorded_answer(db, d);
		goto out;
	}
	if (status == 200 && insert_events(db, d, v, tenant_id) < 0)
		goto out;
	d->status = status;
	d->answer = answer;
	d->replayed = 0;
	answer = NULL;
	ret = 0;
out:
	PQclear(r);
	free(answer);
	free(tenant_id);
	free(v);
	return ret;
}

/*
 * BEGIN, once more on a new connection when the server had closed this one (a restart shows
 * only at the next statement): nothing was sent that could have been applied. 0 / -1.
 */
static int begin(struct db *db)
{
	if (db_begin(db) == 0)
		return 0;
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return -1;
	return db_begin(db);
}

int event_store_many(struct db *db, size_t n, struct event_delivery *const *d)
{
	if (begin(db) < 0)
		return -1;
	size_t i = 0;
	while (i < n && store_one(db, d[i]) == 0)
		i++;
	if (i == n && db_commit(db) == 0)
		return 0;
	db_rollback(db);
	for (size_t k = 0; k < n; k++) { /* nothing was stored: no answer holds */
		free(d[k]->answer);
		d[k]->answer = NULL;
		d[k]->status = 0;
		d[k]->replayed = 0;
	}
	return -1;
}
