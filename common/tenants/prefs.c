#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/util.h"
#include "tenants/prefs.h"

static const char *const delivery_names[] = {"immediate", "hourly", "daily"};

const char *pref_delivery_name(enum pref_delivery d)
{
	return delivery_names[d];
}

int pref_delivery_parse(const char *s, enum pref_delivery *d)
{
	for (size_t i = 0; i < sizeof(delivery_names) / sizeof(delivery_names[0]); i++)
		if (s && strcmp(s, delivery_names[i]) == 0) {
			*d = (enum pref_delivery)i;
			return 0;
		}
	return -1;
}

int pref_locked(const struct alert_type *t)
{
	return !t->can_switch_off;
}

void pref_default_channels(const struct alert_type *t, struct chain *c)
{
	if (t->urgency == ALERT_URGENT)
		chain_urgent(c);
	else if (t->urgency == ALERT_NORMAL)
		chain_normal(c);
	else
		chain_whatsapp_only(c);
}

void pref_default(const struct alert_type *t, struct alert_pref *p)
{
	p->type = t;
	p->enabled = 1;
	p->delivery = t->delivery == ALERT_DIGEST ? PREF_HOURLY : PREF_IMMEDIATE;
	pref_default_channels(t, &p->channels);
}

void pref_set_channels(struct alert_pref *p, const char *stored)
{
	char copy[64];
	const char *names[CHAIN_MAX + 1];
	size_t n = 0, len = stored ? strlen(stored) : 0;
	struct chain c;
	const char *why;
	if (len < 2 || len >= sizeof(copy) || stored[0] != '{' || stored[len - 1] != '}')
		return;
	snprintf(copy, sizeof(copy), "%.*s", (int)(len - 2), stored + 1);
	for (char *s = copy, *e; *s && n <= CHAIN_MAX; s = e + 1) {
		names[n++] = s;
		if (!(e = strchr(s, ',')))
			break;
		*e = '\0';
	}
	if (n <= CHAIN_MAX && chain_from_names(names, n, &c, &why) == 0)
		p->channels = c;
}

void pref_effective(const struct alert_type *t, const char *enabled, const char *delivery,
                    struct alert_pref *p)
{
	enum pref_delivery d;
	pref_default(t, p);
	if (enabled)
		p->enabled = strcmp(enabled, "t") == 0;
	if (delivery && pref_delivery_parse(delivery, &d) == 0)
		p->delivery = d;
	if (pref_locked(t))
		p->enabled = 1;
}

/* ------------------------------------------------------------------ the seller's change */

/* Fail with *field = "preferences.<type>[.<member>]" and a message starting with it. */
static int refuse(const char **code, char **field, char **err, const char *c, const char *type,
                  const char *member, const char *why)
{
	*code = c;
	if (!type)
		*field = xstrdup(member);
	else if (member)
		*field = xasprintf("preferences.%s.%s", type, member);
	else
		*field = xasprintf("preferences.%s", type);
	*err = xasprintf("%s %s", *field, why);
	return -1;
}

/* channels: 1..3 names in order, whatsapp first, each once (core/chain.h). 0, or -1 with *why. */
static int channels_parse(struct json_object *v, struct chain *c, const char **why)
{
	const char *names[CHAIN_MAX + 1];
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	*why = "must be a list of channels in order, whatsapp first, from whatsapp, sms and email"
	       " (each once)";
	if (!json_object_is_type(v, json_type_array) || n == 0 || n > CHAIN_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return -1;
		names[i] = json_object_get_string(e);
	}
	const char *detail;
	return chain_from_names(names, n, c, &detail);
}

/* One type's object into *c. 0, or -1 (refused). */
static int parse_one(const char *type, struct json_object *v, struct pref_change *c,
                     const char **code, char **field, char **err)
{
	const char *inv = "invalid_field";
	if (!json_object_is_type(v, json_type_object))
		return refuse(code, field, err, inv, type, NULL,
		              "must be an object with enabled, delivery or channels");
	if (json_object_object_length(v) == 0)
		return refuse(code, field, err, inv, type, NULL,
		              "must set at least one of enabled, delivery and channels");
	json_object_object_foreach(v, key, val)
	{
		if (strcmp(key, "enabled") == 0) {
			if (!json_object_is_type(val, json_type_boolean))
				return refuse(code, field, err, inv, type, key,
				              "must be true or false");
			c->set_enabled = 1;
			c->enabled = json_object_get_boolean(val);
		} else if (strcmp(key, "delivery") == 0) {
			if (!json_object_is_type(val, json_type_string) ||
			    pref_delivery_parse(json_object_get_string(val), &c->delivery) < 0)
				return refuse(code, field, err, inv, type, key,
				              "must be \"immediate\", \"hourly\" or \"daily\"");
			c->set_delivery = 1;
		} else if (strcmp(key, "channels") == 0) {
			const char *why;
			if (channels_parse(val, &c->channels, &why) < 0)
				return refuse(code, field, err, inv, type, key, why);
			c->set_channels = 1;
		} else {
			return refuse(code, field, err, inv, type, key,
			              "is not a preference (enabled, delivery, channels)");
		}
	}
	if (c->set_enabled && !c->enabled && pref_locked(c->type))
		return refuse(code, field, err, PREF_E_LOCKED, type, "enabled",
		              "cannot be false: this type cannot be switched off");
	return 0;
}

int pref_parse_change(struct json_object *body, struct pref_change **out, size_t *n,
                      const char **code, char **field, char **err)
{
	struct pref_change *v = NULL;
	size_t k = 0;
	*out = NULL;
	*n = 0;
	struct json_object *prefs = json_get(body, "preferences");
	if (!json_object_is_type(body, json_type_object) || json_object_object_length(body) != 1 ||
	    !prefs)
		return refuse(code, field, err, "invalid_field", NULL, "",
		              "the body must be {\"preferences\": {\"<type>\": {...}}}");
	if (!json_object_is_type(prefs, json_type_object) || json_object_object_length(prefs) == 0)
		return refuse(code, field, err, "invalid_field", NULL, "preferences",
		              "must be an object with at least one alert type");
	v = xcalloc((size_t)json_object_object_length(prefs), sizeof(*v));
	json_object_object_foreach(prefs, type, val)
	{
		const struct alert_type *t = alert_type_find(type);
		if (!t) {
			refuse(code, field, err, "invalid_field", type, NULL,
			       "is not an alert type");
			goto fail;
		}
		v[k].type = t;
		if (parse_one(type, val, &v[k], code, field, err) < 0)
			goto fail;
		k++;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	free(v);
	return -1;
}

/* ------------------------------------------------------------------ stored */

int pref_load(struct db *db, long long tenant_id, struct alert_pref *out)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", tenant_id);
	const char *p[1] = {id};
	PGresult *r =
	    db_query(db,
	             "SELECT type, enabled, delivery, channels::text FROM alert_preferences"
	             " WHERE tenant_id = $1",
	             1, p);
	if (!r)
		return -1;
	for (size_t i = 0; i < alert_type_count(); i++) {
		const struct alert_type *t = alert_type_at(i);
		const char *enabled = NULL, *delivery = NULL, *channels = NULL;
		for (int j = 0; j < PQntuples(r); j++)
			if (strcmp(PQgetvalue(r, j, 0), t->name) == 0) {
				enabled = PQgetvalue(r, j, 1);
				delivery = PQgetvalue(r, j, 2);
				channels = db_value(r, j, 3);
			}
		pref_effective(t, enabled, delivery, &out[i]);
		pref_set_channels(&out[i], channels);
	}
	PQclear(r);
	return 0;
}

/* One type's change: a new row starts from the defaults. */
static int apply_one(struct db *db, const char *id, const struct pref_change *c)
{
	struct alert_pref d;
	pref_default(c->type, &d);
	/* Channels not set: NULL (the urgency's default) on a new row, unchanged on an old one. */
	char *channels = c->set_channels ? chain_pg_rest(&c->channels, 0) : NULL;
	const char *p[8] = {id,
	                    c->type->name,
	                    c->set_enabled ? (c->enabled ? "t" : "f") : NULL,
	                    c->set_delivery ? pref_delivery_name(c->delivery) : NULL,
	                    d.enabled ? "t" : "f",
	                    pref_delivery_name(d.delivery),
	                    channels,
	                    c->set_channels ? "t" : "f"};
	int r =
	    db_exec(db,
	            "INSERT INTO alert_preferences (tenant_id, type, enabled, delivery, channels)"
	            " VALUES ($1, $2, coalesce($3::boolean, $5::boolean), coalesce($4, $6),"
	            " $7::text[])"
	            " ON CONFLICT (tenant_id, type) DO UPDATE SET"
	            " enabled = coalesce($3::boolean, alert_preferences.enabled),"
	            " delivery = coalesce($4, alert_preferences.delivery),"
	            " channels = CASE WHEN $8::boolean THEN $7::text[]"
	            "   ELSE alert_preferences.channels END, updated_at = now()",
	            8, p);
	free(channels);
	return r;
}

int pref_apply(struct db *db, long long tenant_id, const struct pref_change *c, size_t n)
{
	char id[24];
	int own = !db->in_tx;
	snprintf(id, sizeof(id), "%lld", tenant_id);
	if (own && db_begin(db) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (apply_one(db, id, &c[i]) < 0)
			goto fail;
	if (own && db_commit(db) < 0)
		goto fail;
	return 0;
fail:
	if (own)
		db_rollback(db);
	return -1;
}

struct json_object *pref_to_json(const struct alert_pref *p, size_t n)
{
	struct json_object *top = json_object_new_object(), *all = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		struct alert_pref d;
		pref_default(p[i].type, &d);
		struct json_object *o = json_object_new_object(), *def = json_object_new_object(),
		                   *ch = json_object_new_array(), *dch = json_object_new_array();
		for (int k = 0; k < p[i].channels.n; k++)
			json_object_array_add(ch, json_object_new_string(p[i].channels.step[k]));
		for (int k = 0; k < d.channels.n; k++)
			json_object_array_add(dch, json_object_new_string(d.channels.step[k]));
		json_object_object_add(o, "enabled", json_object_new_boolean(p[i].enabled));
		json_object_object_add(o, "delivery",
		                       json_object_new_string(pref_delivery_name(p[i].delivery)));
		json_object_object_add(o, "channels", ch);
		json_object_object_add(o, "locked",
		                       json_object_new_boolean(pref_locked(p[i].type)));
		json_object_object_add(
		    o, "urgency", json_object_new_string(alert_urgency_name(p[i].type->urgency)));
		json_object_object_add(def, "enabled", json_object_new_boolean(d.enabled));
		json_object_object_add(def, "delivery",
		                       json_object_new_string(pref_delivery_name(d.delivery)));
		json_object_object_add(def, "channels", dch);
		json_object_object_add(o, "default", def);
		json_object_object_add(all, p[i].type->name, o);
	}
	json_object_object_add(top, "preferences", all);
	return top;
}
