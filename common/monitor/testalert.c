#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/outbox.h"
#include "monitor/route.h"
#include "delivery/spool.h"
#include "monitor/testalert.h"
#include "core/util.h"

static void iso_utc(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int testalert_queue(struct db *db, const struct config *cfg, const char *severity,
                    const char *message, struct json_object **out, char **err)
{
	struct route r;
	time_t now = time(NULL);
	char tag[17];
	*out = NULL;
	if (route_decide(cfg, severity, 0, now, &r) < 0 || random_hex(tag, 8) < 0) {
		*err = xstrdup("cannot route the test alert");
		return -1;
	}
	if (r.to->n == 0) {
		*err = xstrdup("no recipient configured for this severity (CRITICAL_PHONE_n)");
		return -1;
	}
	char *content = xasprintf("TEST %s alert: %s", severity, message);
	struct json_object *o = json_object_new_object(), *msgs = json_object_new_array();
	if (db_begin(db) < 0)
		goto spool;
	for (int i = 0; i < r.to->n; i++) {
		char *key = xasprintf("test:%s:%s", tag, r.to->num[i]);
		struct outbox_msg m = {
		    .phone = r.to->num[i],
		    .content = content,
		    .priority = severity,
		    .kind = "test",
		    .key = key,
		    .not_before = r.not_before == now ? 0 : (long long)r.not_before,
		};
		int q = outbox_queue(db, &m);
		free(key);
		if (q < 0)
			goto fail;
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "phone_number", json_object_new_string(r.to->num[i]));
		json_object_array_add(msgs, e);
	}
	PGresult *res =
	    db_query(db,
	             "SELECT id FROM whatsapp_logs WHERE idempotency_key LIKE 'test:' || $1"
	             " || ':%' ORDER BY id",
	             1, (const char *const[]){tag});
	if (!res)
		goto fail;
	for (int i = 0; i < PQntuples(res) && i < (int)json_object_array_length(msgs); i++)
		json_object_object_add(
		    json_object_array_get_idx(msgs, (size_t)i), "id",
		    json_object_new_int64(strtoll(PQgetvalue(res, i, 0), NULL, 10)));
	PQclear(res);
	if (db_commit(db) < 0)
		goto fail;
	json_object_object_add(o, "spooled", json_object_new_boolean(0));
done:
	json_object_object_add(o, "severity", json_object_new_string(severity));
	json_object_object_add(o, "messages", msgs);
	if (r.not_before != now) {
		char when[32];
		iso_utc(r.not_before, when);
		json_object_object_add(o, "held_until", json_object_new_string(when));
		json_object_object_add(
		    o, "note",
		    json_object_new_string(
		        "outside business hours: the warning goes when they start"));
	} else {
		json_object_object_add(o, "held_until", NULL);
	}
	free(content);
	*out = o;
	return 0;
spool:
	/* The state database is down: spool, send anyway, replay later. */
	{
		struct spool_msg *sm = xcalloc((size_t)r.to->n, sizeof(*sm));
		char **keys = xcalloc((size_t)r.to->n, sizeof(char *));
		for (int i = 0; i < r.to->n; i++) {
			keys[i] = xasprintf("test:%s:%s", tag, r.to->num[i]);
			sm[i] = (struct spool_msg){
			    .key = keys[i],
			    .phone = r.to->num[i],
			    .content = content,
			    .priority = severity,
			    .kind = "test",
			    .not_before = r.not_before == now ? 0 : (long long)r.not_before,
			};
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "phone_number",
			                       json_object_new_string(r.to->num[i]));
			json_object_object_add(e, "id", NULL);
			json_object_array_add(msgs, e);
		}
		int spooled = 0;
		int sent = spool_send(cfg, sm, (size_t)r.to->n, &spooled);
		for (int i = 0; i < r.to->n; i++)
			free(keys[i]);
		free(keys);
		free(sm);
		json_object_object_add(o, "spooled", json_object_new_boolean(spooled));
		json_object_object_add(o, "sent_while_database_down", json_object_new_int(sent));
		json_object_object_add(o, "state_database", json_object_new_string(db->err));
		goto done;
	}
fail:
	if (PQstatus(db->conn) != CONNECTION_OK) {
		db_rollback(db);
		json_object_put(msgs);
		msgs = json_object_new_array();
		goto spool;
	}
	*err = xasprintf("state database: %s", db->err);
	db_rollback(db);
	json_object_put(o);
	json_object_put(msgs);
	free(content);
	return -1;
}
