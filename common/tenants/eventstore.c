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
	if (accepted == body->n) { /* the usual answer, as json-c would print it */
		*status = 200;
		return xasprintf("{\"accepted\":%zu,\"refused\":[]}", accepted);
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

/* What the transaction works out for one delivery before it is recorded. */
struct judged {
	enum event_verdict *v; /* per item */
	char (*tenant_id)[24]; /* per item: the tenant's id, decimal, when accepted */
	char *answer;          /* event_answer's */
	int status;
	int fresh;      /* its webhook-id recorded now (not seen before) */
	int optimistic; /* (j[0]'s) record_new first: no webhook-id twice in the group */
};

static int row_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Every ok item's tenant in the group, looked up (and locked, in id order) in one query:
 * j[k].v and j[k].tenant_id. Items not ok are EVENT_INVALID. 0 / -1 (db->err).
 */
static int judge(struct db *db, size_t n, struct event_delivery *const *d, struct judged *j)
{
	struct buf names = BUF_INIT(SIZE_MAX / 4);
	size_t wanted = 0;
	for (size_t k = 0; k < n; k++) {
		const struct event_body *b = d[k]->body;
		for (size_t i = 0; i < b->n; i++) {
			j[k].v[i] = b->items[i].ok ? EVENT_UNKNOWN_TENANT : EVENT_INVALID;
			if (b->items[i].ok) {
				db_array_push(&names, b->items[i].ev.tenant,
				              strlen(b->items[i].ev.tenant));
				wanted++;
			}
		}
	}
	db_array_end(&names);
	int ret = -1, rows = 0;
	PGresult *r = NULL;
	const char **found = NULL; /* row i: external_id, id, status: sorted by external_id */
	if (wanted == 0) {
		ret = 0;
		goto out;
	}
	const char *p[1] = {buf_str(&names)};
	/* FOR KEY SHARE: no tenant can go (sql/023) before the group's events are committed. */
	r = db_query(db,
	             "SELECT external_id, id, status FROM tenants"
	             " WHERE external_id = ANY($1::text[]) ORDER BY id FOR KEY SHARE",
	             1, p);
	if (!r)
		goto out;
	rows = PQntuples(r);
	found = xcalloc((size_t)rows * 3 + 1, sizeof(*found));
	for (int row = 0; row < rows; row++)
		for (int c = 0; c < 3; c++)
			found[row * 3 + c] = db_value(r, row, c);
	qsort(found, (size_t)rows, 3 * sizeof(*found), row_cmp);
	for (size_t k = 0; k < n; k++) {
		const struct event_body *b = d[k]->body;
		for (size_t i = 0; i < b->n; i++) {
			const char *key = b->items[i].ev.tenant;
			const char **t = b->items[i].ok ? bsearch(&key, found, (size_t)rows,
			                                          3 * sizeof(*found), row_cmp)
			                                : NULL;
			if (!t)
				continue;
			j[k].v[i] =
			    strcmp(t[2], "active") == 0 ? EVENT_ACCEPTED : EVENT_TENANT_SUSPENDED;
			snprintf(j[k].tenant_id[i], sizeof(j[k].tenant_id[i]), "%s", t[1]);
		}
	}
	ret = 0;
out:
	free(found);
	PQclear(r);
	buf_release(&names);
	return ret;
}

/* Whether d[k] is the first delivery of the group with its webhook-id. */
static int first_of_id(struct event_delivery *const *d, size_t k)
{
	for (size_t m = 0; m < k; m++)
		if (strcmp(d[m]->webhook_id, d[k]->webhook_id) == 0)
			return 0;
	return 1;
}

/* The deliveries' columns as arrays: webhook_id, status, answer. */
static void delivery_arrays(size_t n, struct event_delivery *const *d, const struct judged *j,
                            struct buf *a)
{
	for (size_t k = 0; k < n; k++) {
		char st[8];
		snprintf(st, sizeof(st), "%d", j[k].status);
		db_array_push(&a[0], d[k]->webhook_id, strlen(d[k]->webhook_id));
		db_array_push(&a[1], st, strlen(st));
		db_array_push(&a[2], j[k].answer, strlen(j[k].answer));
	}
}

/*
 * The accepted events of each first delivery of its webhook-id as arrays: event_id,
 * tenant_id, type, occurred_at (epoch seconds), data, webhook_id.
 */
static void event_arrays(size_t n, struct event_delivery *const *d, const struct judged *j,
                         struct buf *a)
{
	for (size_t k = 0; k < n; k++) {
		const struct event_body *b = d[k]->body;
		if (!first_of_id(d, k))
			continue;
		for (size_t i = 0; i < b->n; i++) {
			if (j[k].v[i] != EVENT_ACCEPTED)
				continue;
			const struct event *e = &b->items[i].ev;
			char t[24];
			snprintf(t, sizeof(t), "%lld", e->occurred_at);
			size_t len = 0;
			const char *json = json_object_to_json_string_length(
			    e->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
			db_array_push(&a[0], e->id, strlen(e->id));
			db_array_push(&a[1], j[k].tenant_id[i], strlen(j[k].tenant_id[i]));
			db_array_push(&a[2], e->type->name, strlen(e->type->name));
			db_array_push(&a[3], t, strlen(t));
			db_array_push(&a[4], json, len);
			db_array_push(&a[5], d[k]->webhook_id, strlen(d[k]->webhook_id));
		}
	}
}

/*
 * The group's statement (one round trip), either way below. Its parameters: the deliveries'
 * webhook_id, status, answer; the accepted events' event_id, tenant_id, type, occurred_at
 * (epoch seconds), data, webhook_id. In webhook_id, then event_id order, so that two
 * transactions lock alike.
 *
 * As new (j[0].optimistic: no webhook-id twice in the group): the deliveries and the events
 * inserted without ON CONFLICT. PostgreSQL's speculative insertion (a look in each unique index
 * first, and a WAL record more for each row) cost about an eighth of storing an event, to guard
 * against what almost never happens, a webhook-id or event id seen before; when one was, the
 * statement fails (unique_violation) and the transaction is tried again the careful way.
 */
static const char record_new_sql[] =
    "WITH fresh AS (INSERT INTO event_deliveries (webhook_id, status, answer)"
    " SELECT w, s, a FROM unnest($1::text[], $2::smallint[], $3::text[])"
    " AS u(w, s, a) ORDER BY w)"
    " INSERT INTO events (event_id, tenant_id, type, occurred_at, data, webhook_id)"
    " SELECT e, t, ty, to_timestamp(o), d::jsonb, w"
    " FROM unnest($4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[])"
    " AS u(e, t, ty, o, d, w) ORDER BY e";

/*
 * The careful way: every delivery's answer recorded under its webhook-id, and the accepted
 * events of those recorded now inserted; the webhook-ids recorded now returned. A webhook-id
 * recorded before, or twice in the group, stays as first recorded (in the group, the first of
 * its deliveries, whose events alone count); an event stored before (or earlier in the group)
 * stays as it is (the deliveries' rows are all taken before the events' by the hashed IN).
 */
static const char record_sql[] =
    "WITH fresh AS (INSERT INTO event_deliveries (webhook_id, status, answer)"
    " SELECT w, s, a FROM unnest($1::text[], $2::smallint[], $3::text[])"
    " WITH ORDINALITY AS u(w, s, a, i) ORDER BY w, i"
    " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id),"
    " stored AS (INSERT INTO events (event_id, tenant_id, type, occurred_at,"
    " data, webhook_id)"
    " SELECT e, t, ty, to_timestamp(o), d::jsonb, w"
    " FROM unnest($4::text[], $5::bigint[], $6::text[], $7::bigint[],"
    " $8::text[], $9::text[]) WITH ORDINALITY AS u(e, t, ty, o, d, w, i)"
    " WHERE w IN (SELECT webhook_id FROM fresh) ORDER BY e, i"
    " ON CONFLICT (event_id) DO NOTHING)"
    " SELECT webhook_id FROM fresh";

/*
 * The group recorded (record_new_sql when j[0].optimistic, else record_sql): j[k].fresh for the
 * deliveries recorded now. 0; -1 (db->err); -2: as new, a webhook-id or event id was seen
 * before (nothing stored: the transaction is to be tried again with optimistic off).
 */
static int record(struct db *db, size_t n, struct event_delivery *const *d, struct judged *j)
{
	struct buf a[9];
	const char *p[9];
	for (int c = 0; c < 9; c++)
		buf_init(&a[c], SIZE_MAX / 4);
	delivery_arrays(n, d, j, &a[0]);
	event_arrays(n, d, j, &a[3]);
	for (int c = 0; c < 9; c++) {
		db_array_end(&a[c]);
		p[c] = buf_str(&a[c]);
	}
	int optimistic = j[0].optimistic;
	PGresult *r = db_query(db, optimistic ? record_new_sql : record_sql, 9, p);
	for (int c = 0; c < 9; c++)
		buf_release(&a[c]);
	if (!r)
		return optimistic && strcmp(db->sqlstate, "23505") == 0 ? -2 : -1;
	for (size_t k = 0; optimistic && k < n; k++)
		j[k].fresh = 1;
	for (int row = 0; !optimistic && row < PQntuples(r); row++) {
		const char *w = db_value(r, row, 0);
		for (size_t k = 0; k < n; k++)
			if (strcmp(d[k]->webhook_id, w) == 0) {
				j[k].fresh = 1; /* the first with that id: the one inserted */
				break;
			}
	}
	PQclear(r);
	return 0;
}

/* The answers recorded before for the deliveries not fresh: d[k]->status, answer. 0 / -1. */
static int recorded_answers(struct db *db, size_t n, struct event_delivery *const *d,
                            const struct judged *j)
{
	struct buf ids = BUF_INIT(SIZE_MAX / 4);
	size_t old = 0;
	for (size_t k = 0; k < n; k++)
		if (!j[k].fresh) {
			db_array_push(&ids, d[k]->webhook_id, strlen(d[k]->webhook_id));
			old++;
		}
	db_array_end(&ids);
	if (old == 0) {
		buf_release(&ids);
		return 0;
	}
	const char *p[1] = {buf_str(&ids)};
	PGresult *r = db_query(db,
	                       "SELECT webhook_id, status, answer FROM event_deliveries"
	                       " WHERE webhook_id = ANY($1::text[])",
	                       1, p);
	buf_release(&ids);
	if (!r)
		return -1;
	for (int row = 0; row < PQntuples(r); row++)
		for (size_t k = 0; k < n; k++) {
			if (j[k].fresh || strcmp(d[k]->webhook_id, db_value(r, row, 0)) != 0)
				continue;
			d[k]->status = (int)strtol(db_value(r, row, 1), NULL, 10);
			d[k]->answer = xstrdup(db_value(r, row, 2));
			d[k]->replayed = 1;
		}
	PQclear(r);
	for (size_t k = 0; k < n; k++)
		if (!j[k].fresh && !d[k]->answer) {
			snprintf(db->err, sizeof(db->err), "delivery %s vanished",
			         d[k]->webhook_id);
			return -1;
		}
	return 0;
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

/* The group's statements, in the transaction: two (three with a replay) whatever its size.
 * 0 / -1 / -2 (record_new's). */
static int store_group(struct db *db, size_t n, struct event_delivery *const *d, struct judged *j)
{
	if (judge(db, n, d, j) < 0)
		return -1;
	for (size_t k = 0; k < n; k++)
		j[k].answer = event_answer(d[k]->body, j[k].v, &j[k].status);
	int rc = record(db, n, d, j);
	if (rc < 0)
		return rc;
	if (recorded_answers(db, n, d, j) < 0)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (j[k].fresh) {
			d[k]->status = j[k].status;
			d[k]->answer = j[k].answer;
			d[k]->replayed = 0;
			j[k].answer = NULL;
		}
	return 0;
}

int event_store_many(struct db *db, size_t n, struct event_delivery *const *d)
{
	struct judged *j = xcalloc(n, sizeof(*j));
	for (size_t k = 0; k < n; k++) {
		j[k].v = xcalloc(d[k]->body->n + 1, sizeof(*j[k].v));
		j[k].tenant_id = xcalloc(d[k]->body->n + 1, sizeof(*j[k].tenant_id));
		d[k]->answer = NULL;
	}
	int ret = -1, rc = -1;
	j[0].optimistic = 1;
	for (size_t k = 1; k < n; k++)
		j[0].optimistic &= first_of_id(d, k);
	if (begin(db) == 0 && (rc = store_group(db, n, d, j)) == -2) {
		db_rollback(db); /* a webhook-id or event id seen before: the careful way */
		for (size_t k = 0; k < n; k++) {
			free(j[k].answer);
			j[k].answer = NULL;
			j[k].fresh = 0;
		}
		j[0].optimistic = 0;
		rc = begin(db) == 0 ? store_group(db, n, d, j) : -1;
	}
	if (rc == 0 && db_commit(db) == 0)
		ret = 0;
	if (ret < 0) {
		db_rollback(db);
		for (size_t k = 0; k < n; k++) { /* nothing was stored: no answer holds */
			free(d[k]->answer);
			d[k]->answer = NULL;
			d[k]->status = 0;
			d[k]->replayed = 0;
		}
	}
	for (size_t k = 0; k < n; k++) {
		free(j[k].v);
		free(j[k].tenant_id);
		free(j[k].answer);
	}
	free(j);
	return ret;
}

int event_store_group(struct db *db, size_t n, struct event_delivery *const *d)
{
	if (event_store_many(db, n, d) == 0)
		return 0;
	if (n == 1 || !db->conn || PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	/* One delivery the database refused fails the group: each alone, so it fails alone. */
	char err[sizeof(db->err)];
	memcpy(err, db->err, sizeof(err));
	int stored = 0;
	for (size_t k = 0; k < n && PQstatus(db->conn) == CONNECTION_OK; k++)
		stored += event_store_many(db, 1, &d[k]) == 0;
	if (!stored)
		return -1;
	memcpy(db->err, err, sizeof(err));
	return 0;
}
