#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/log.h"
#include "core/util.h"
#include "tenants/alerttype.h"
#include "tenants/amroute.h"
#include "tenants/tenant.h"

void am_route_event_id(const struct am_alert *a, char *out, size_t size)
{
	snprintf(out, size, "am:%s:%s:%s", a->fingerprint, a->firing ? "firing" : "resolved",
	         a->starts_at);
	for (char *p = out; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("._:@-", *p)))
			*p = '-';
}

/* The active seller whose external id is label: its row id, 0 when none, -1 (db->err). */
static long long seller_of(struct db *db, const char *label)
{
	char *ext = NULL;
	const char *why;
	if (tenant_check_field(TF_EXTERNAL_ID, label, &ext, &why) < 0)
		return 0;
	const char *p[] = {ext};
	PGresult *r = db_query(
	    db, "SELECT id FROM tenants WHERE external_id = $1 AND status = 'active'", 1, p);
	free(ext);
	if (!r)
		return -1;
	long long id = PQntuples(r) == 1 ? atoll(db_value(r, 0, 0)) : 0;
	PQclear(r);
	return id;
}

/* Store a's event for seller tenant_id: 1 stored, 0 stored before, -1 (db->err). */
static int store_event(struct db *db, const struct am_alert *a, long long tenant_id, time_t now)
{
	const struct alert_type *t = alert_type_find("system.notice");
	struct json_object *data = json_object_new_object();
	const char *title = !a->firing                             ? "Resolved"
	                    : strcmp(a->severity, "critical") == 0 ? "CRITICAL alert"
	                                                           : "Warning";
	json_object_object_add(data, "title", json_object_new_string(title));
	json_object_object_add(data, "message", json_object_new_string(a->text));
	char *path = NULL;
	const char *why = NULL;
	if (!t || alert_type_check_data(t, data, &path, &why) < 0) {
		/* a's text is one non-empty line of at most ~700 bytes: this cannot happen */
		log_error("alertmanager_event", "system.notice refused %s: %s", path ? path : "?",
		          why ? why : "no such type");
		free(path);
		json_object_put(data);
		snprintf(db->err, sizeof(db->err), "system.notice refused the alert's data");
		return -1;
	}
	char id[AMROUTE_EVENT_ID_SIZE], tid[24], at[24];
	am_route_event_id(a, id, sizeof(id));
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(at, sizeof(at), "%lld", (long long)now);
	const char *p[] = {id, tid, json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN),
	                   at, AMROUTE_WEBHOOK_ID};
	PGresult *r = db_query(db,
	                       "INSERT INTO events (event_id, tenant_id, type, occurred_at, data,"
	                       " webhook_id) VALUES ($1, $2, 'system.notice', to_timestamp($4),"
	                       " $3::jsonb, $5) ON CONFLICT (event_id) DO NOTHING RETURNING id",
	                       5, p);
	json_object_put(data);
	if (!r)
		return -1;
	int stored = PQntuples(r) == 1;
	PQclear(r);
	return stored;
}

int am_route_apply(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
                   struct json_object **out)
{
	struct am_notice ops = *n; /* the operators' share: a view on n's alerts */
	struct am_alert *v = xcalloc(n->n ? n->n : 1, sizeof(*v));
	char **notes = xcalloc(n->n ? n->n : 1, sizeof(*notes));
	struct json_object *not_sellers = json_object_new_array();
	int stored = 0, repeated = 0, ret = -1;
	ops.v = v;
	ops.n = 0;
	*out = NULL;
	if (db_begin(db) < 0)
		goto out;
	for (size_t i = 0; i < n->n; i++) {
		const struct am_alert *a = &n->v[i];
		long long tenant_id = a->tenant ? seller_of(db, a->tenant) : 0;
		if (tenant_id < 0)
			goto out;
		if (tenant_id > 0) {
			int s = store_event(db, a, tenant_id, now);
			if (s < 0)
				goto out;
			s ? stored++ : repeated++;
			continue;
		}
		v[ops.n] = *a;
		if (a->tenant) {
			notes[i] = xasprintf("%s (tenant label \"%s\": no such active seller)",
			                     a->text, a->tenant);
			v[ops.n].text = notes[i];
			json_object_array_add(not_sellers, json_object_new_string(a->tenant));
		}
		ops.n++;
	}
	if (am_apply_in(db, cfg, &ops, now, out) < 0 || db_commit(db) < 0)
		goto out;
	struct json_object *sellers = json_object_new_object();
	json_object_object_add(sellers, "events_stored", json_object_new_int(stored));
	json_object_object_add(sellers, "events_repeated", json_object_new_int(repeated));
	json_object_object_add(sellers, "not_sellers", json_object_get(not_sellers));
	json_object_object_add(*out, "sellers", sellers);
	if (stored || repeated)
		log_info("alertmanager_sellers",
		         "receiver %s: %d seller event(s) stored, %d repeated", n->receiver, stored,
		         repeated);
	ret = 0;
out:
	if (ret < 0) {
		db_rollback(db);
		json_object_put(*out);
		*out = NULL;
	}
	for (size_t i = 0; i < n->n; i++)
		free(notes[i]);
	free(notes);
	free(v);
	json_object_put(not_sellers);
	return ret;
}
