#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "core/phone.h"
#include "core/tz.h"
#include "core/util.h"
#include "tenants/tenant.h"

/* ------------------------------------------------------------------ validation */

static const char *const reserved_ids[] = {"me",     "login",       "session",
                                           "verify", "preferences", "alerts"};

static int check_external_id(const char *s, char **out, const char **why)
{
	size_t n = strlen(s);
	*why = "must be 1 to 128 characters of letters, digits and . _ : @ -";
	if (n == 0 || n > TENANT_EXTERNAL_ID_MAX)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._:@-", *p))
			return -1;
	/* The seller's routes under /tenants/: never a tenant's id. */
	for (size_t i = 0; i < sizeof(reserved_ids) / sizeof(reserved_ids[0]); i++)
		if (strcmp(s, reserved_ids[i]) == 0) {
			*why = "is reserved (me, login, session, verify, preferences, alerts)";
			return -1;
		}
	*out = xstrdup(s);
	return 0;
}

static int check_display_name(const char *s, char **out, const char **why)
{
	size_t n = strlen(s);
	int visible = 0;
	*why = "must be 1 to 200 bytes of UTF-8 text without control characters";
	if (n == 0 || n > TENANT_NAME_MAX || !str_is_utf8(s, n))
		return -1;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			return -1;
		visible |= c != ' ';
	}
	if (!visible) {
		*why = "must not be blank";
		return -1;
	}
	*out = xstrdup(s);
	return 0;
}

/* International format only: a number without its country code is a guess we do not make. */
static int check_phone(const char *s, char **out, const char **why)
{
	char num[PHONE_MAX];
	while (*s == ' ')
		s++;
	if (*s != '+') {
		*why =
		    "must be in international format: + then the country code and number, 8 to 15 "
		    "digits (e.g. +2349012345678)";
		return -1;
	}
	if (phone_normalize(s, num, why) < 0) {
		*why =
		    "must be in international format: + then the country code and number, 8 to 15 "
		    "digits (e.g. +2349012345678)";
		return -1;
	}
	*out = xstrdup(num);
	return 0;
}

/* A plain address: local@domain.tld, printable ASCII without spaces, one '@'. */
static int check_email(const char *s, char **out, const char **why)
{
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	*why = "must be an email address such as name@example.com (at most 254 characters)";
	if (n > TENANT_EMAIL_MAX || !at || at == s || at - s > 64 || strchr(at + 1, '@'))
		return -1;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[],;:\\\"", *p))
			return -1;
	const char *dot = strrchr(at + 1, '.');
	if (!dot || dot == at + 1 || !dot[1] || strstr(at + 1, ".."))
		return -1;
	*out = xstrdup(s);
	return 0;
}

static int check_time_zone(const char *s, char **out, const char **why)
{
	*why = "must be a time zone of the IANA database, such as Africa/Lagos or Europe/Berlin";
	if (!tz_known(s))
		return -1;
	*out = xstrdup(s);
	return 0;
}

static int check_hhmm(const char *s, char **out, const char **why)
{
	int minutes;
	if (parse_hhmm(s, &minutes, why) < 0)
		return -1;
	*out = xasprintf("%02d:%02d", minutes / 60, minutes % 60);
	return 0;
}

/* A BCP 47 tag as people use them: a 2-3 letter language, then subtags ("pt-BR", "zh-Hant"). */
static int check_language(const char *s, char **out, const char **why)
{
	size_t n = strlen(s), i = 0, sub;
	*why = "must be a language tag such as en, fr or pt-BR";
	if (n > TENANT_LANGUAGE_MAX)
		return -1;
	while (i < n && islower((unsigned char)s[i]))
		i++;
	if (i < 2 || i > 3)
		return -1;
	while (i < n) {
		if (s[i++] != '-')
			return -1;
		for (sub = 0; i < n && isalnum((unsigned char)s[i]); i++)
			sub++;
		if (sub < 2 || sub > 8)
			return -1;
	}
	*out = xstrdup(s);
	return 0;
}

struct field_def {
	const char *name;
	int (*check)(const char *s, char **out, const char **why);
	int required; /* in every platform document, never null */
};

static const struct field_def fields[TF_COUNT] = {
    [TF_EXTERNAL_ID] = {"external_id", check_external_id, 1},
    [TF_DISPLAY_NAME] = {"display_name", check_display_name, 1},
    [TF_WHATSAPP_NUMBER] = {"whatsapp_number", check_phone, 0},
    [TF_SMS_NUMBER] = {"sms_number", check_phone, 0},
    [TF_EMAIL] = {"email", check_email, 0},
    [TF_TIME_ZONE] = {"time_zone", check_time_zone, 0},
    [TF_QUIET_START] = {"quiet_start", check_hhmm, 0},
    [TF_QUIET_END] = {"quiet_end", check_hhmm, 0},
    [TF_LANGUAGE] = {"language", check_language, 0},
};

const char *tenant_field_name(enum tenant_field f)
{
	return f < TF_COUNT ? fields[f].name : "";
}

int tenant_check_field(enum tenant_field f, const char *s, char **out, const char **why)
{
	*out = NULL;
	if (f >= TF_COUNT || !s) {
		*why = "is required";
		return -1;
	}
	return fields[f].check(s, out, why);
}

void tenant_input_release(struct tenant_input *in)
{
	for (int i = 0; i < TF_COUNT; i++) {
		free(in->value[i]);
		in->value[i] = NULL;
	}
	in->present = 0;
}

static int field_by_name(const char *name)
{
	for (int i = 0; i < TF_COUNT; i++)
		if (strcmp(fields[i].name, name) == 0)
			return i;
	return -1;
}

/* One member into in. 0, or -1 with *why (static). */
static int parse_member(struct tenant_input *in, int f, struct json_object *v, int self,
                        const char **why)
{
	if (in->present & (1u << f)) {
		*why = "is given twice";
		return -1;
	}
	in->present |= 1u << f;
	if (self && f == TF_EXTERNAL_ID) {
		*why = "cannot be changed: it is the platform's id for your shop";
		return -1;
	}
	if (!v && self && f == TF_WHATSAPP_NUMBER) {
		*why = "cannot be removed: alerts go to it (switch alerts off instead)";
		return -1;
	}
	if (!v) {
		*why = "is required and cannot be null";
		return fields[f].required ? -1 : 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*why = "must be a string";
		return -1;
	}
	return fields[f].check(json_object_get_string(v), &in->value[f], why);
}

/* What holds between members: the required ones (not in a change), quiet hours as a pair. */
static int check_whole(const struct tenant_input *in, int self, int *bad, const char **why)
{
	unsigned qs = 1u << TF_QUIET_START, qe = 1u << TF_QUIET_END;
	for (int i = 0; i < TF_COUNT && !self; i++)
		if (fields[i].required && !(in->present & (1u << i))) {
			*bad = i;
			*why = "is required";
			return -1;
		}
	if (!(in->present & qs) != !(in->present & qe) ||
	    !in->value[TF_QUIET_START] != !in->value[TF_QUIET_END]) {
		*bad =
		    (in->present & qs) && in->value[TF_QUIET_START] ? TF_QUIET_END : TF_QUIET_START;
		*why =
		    "is set together with the other of quiet_start and quiet_end (both HH:MM, or "
		    "both null)";
		return -1;
	}
	if (in->value[TF_QUIET_START] &&
	    strcmp(in->value[TF_QUIET_START], in->value[TF_QUIET_END]) == 0) {
		*bad = TF_QUIET_END;
		*why = "must differ from quiet_start";
		return -1;
	}
	return 0;
}

static int parse_doc(struct json_object *body, int self, struct tenant_input *in, char **field,
                     char **err)
{
	const char *why = NULL;
	int bad = -1;
	memset(in, 0, sizeof(*in));
	*field = NULL;
	*err = NULL;
	if (!body || !json_object_is_type(body, json_type_object)) {
		*field = xstrdup("");
		*err = xstrdup("the body must be a JSON object");
		return -1;
	}
	json_object_object_foreach(body, key, val)
	{
		int f = field_by_name(key);
		if (f < 0) {
			*field = xstrdup(key);
			*err = xasprintf("%s: unknown member", key);
			goto fail;
		}
		if (parse_member(in, f, val, self, &why) < 0) {
			bad = f;
			break;
		}
	}
	if (bad < 0 && check_whole(in, self, &bad, &why) == 0)
		return 0;
	*field = xstrdup(fields[bad].name);
	*err = xasprintf("%s %s", fields[bad].name, why);
fail:
	tenant_input_release(in);
	return -1;
}

int tenant_parse(struct json_object *body, struct tenant_input *in, char **field, char **err)
{
	return parse_doc(body, 0, in, field, err);
}

int tenant_parse_change(struct json_object *body, struct tenant_input *in, char **field, char **err)
{
	return parse_doc(body, 1, in, field, err);
}

/* ------------------------------------------------------------------ rows */

/* The columns of struct tenant, in its order (row_to_tenant reads them so); times in UTC. */
#define TENANT_COLS                                                                                \
	"id, external_id, display_name, whatsapp_number, "                                         \
	"to_char(whatsapp_verified_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "     \
	"sms_number, email, time_zone, to_char(quiet_start, 'HH24:MI'), "                          \
	"to_char(quiet_end, 'HH24:MI'), language, status, "                                        \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "               \
	"to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "               \
	"pending_whatsapp_number"
/* How many: the column after them is TENANT_NCOLS. */
#define TENANT_NCOLS 15

static char *dup_or_null(const PGresult *res, int r, int c)
{
	const char *v = db_value(res, r, c);
	return v ? xstrdup(v) : NULL;
}

static void row_to_tenant(const PGresult *res, int r, struct tenant *t)
{
	char **s[] = {&t->external_id,     &t->display_name,
	              &t->whatsapp_number, &t->whatsapp_verified_at,
	              &t->sms_number,      &t->email,
	              &t->time_zone,       &t->quiet_start,
	              &t->quiet_end,       &t->language,
	              &t->status,          &t->created_at,
	              &t->updated_at,      &t->pending_whatsapp_number};
	t->id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		*s[i] = dup_or_null(res, r, (int)i + 1);
}

void tenant_release(struct tenant *t)
{
	char *s[] = {t->external_id,     t->display_name,
	             t->whatsapp_number, t->whatsapp_verified_at,
	             t->sms_number,      t->email,
	             t->time_zone,       t->quiet_start,
	             t->quiet_end,       t->language,
	             t->status,          t->created_at,
	             t->updated_at,      t->pending_whatsapp_number};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(s[i]);
	memset(t, 0, sizeof(*t));
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *tenant_to_json(const struct tenant *t)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(t->id));
	json_object_object_add(o, "external_id", str_or_null(t->external_id));
	json_object_object_add(o, "display_name", str_or_null(t->display_name));
	json_object_object_add(o, "whatsapp_number", str_or_null(t->whatsapp_number));
	json_object_object_add(o, "whatsapp_verified",
	                       json_object_new_boolean(t->whatsapp_verified_at != NULL));
	json_object_object_add(o, "whatsapp_verified_at", str_or_null(t->whatsapp_verified_at));
	json_object_object_add(o, "pending_whatsapp_number",
	                       str_or_null(t->pending_whatsapp_number));
	json_object_object_add(o, "sms_number", str_or_null(t->sms_number));
	json_object_object_add(o, "email", str_or_null(t->email));
	json_object_object_add(o, "time_zone", str_or_null(t->time_zone));
	/* The names POST /tenants takes: what is read can be sent back as it is. */
	json_object_object_add(o, "quiet_start", str_or_null(t->quiet_start));
	json_object_object_add(o, "quiet_end", str_or_null(t->quiet_end));
	json_object_object_add(o, "language", str_or_null(t->language));
	json_object_object_add(o, "status", str_or_null(t->status));
	json_object_object_add(o, "created_at", str_or_null(t->created_at));
	json_object_object_add(o, "updated_at", str_or_null(t->updated_at));
	return o;
}

/* ------------------------------------------------------------------ queries */

/* The one-row answer of a statement returning TENANT_COLS. 0 and *t, 1 no row, -1. */
static int one_tenant(struct db *db, PGresult *res, const char *what, struct tenant *t)
{
	int ret;
	if (!res) {
		log_warnx("tenant_query_failed", "%s: %s", what, db->err);
		return -1;
	}
	ret = PQntuples(res) > 0 ? 0 : 1;
	if (ret == 0)
		row_to_tenant(res, 0, t);
	PQclear(res);
	return ret;
}

int tenant_load_external(struct db *db, const char *external_id, struct tenant *t)
{
	const char *p[] = {external_id};
	return one_tenant(
	    db,
	    db_query_idem(db, "SELECT " TENANT_COLS " FROM tenants WHERE external_id = $1", 1, p),
	    "load", t);
}

int tenant_load_id(struct db *db, long long id, struct tenant *t)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", id);
	const char *p[] = {buf};
	return one_tenant(
	    db, db_query_idem(db, "SELECT " TENANT_COLS " FROM tenants WHERE id = $1", 1, p),
	    "load", t);
}

int tenant_number_taken(const struct db *db)
{
	/* unique_violation; the only unique column a statement here can break besides the ids */
	return strcmp(db->sqlstate, "23505") == 0 && strstr(db->err, "tenants_whatsapp_number_key");
}

/*
 * The upsert. $10 names the members the request has: each other column keeps its stored value
 * (CASE ... ELSE tenants.col). On a new row the absent ones take their defaults (coalesce).
 */
static const char upsert_sql[] =
    "INSERT INTO tenants AS tenants (external_id, display_name, whatsapp_number,"
    " whatsapp_verified_at, sms_number, email, time_zone, quiet_start, quiet_end, language)"
    " VALUES ($1, $2, $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, $4, $5,"
    " coalesce($6, 'UTC'), $7::time, $8::time, coalesce($9, 'en'))"
    " ON CONFLICT (external_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
    " whatsapp_number = CASE WHEN 'whatsapp_number' = ANY($10::text[]) THEN "
    "EXCLUDED.whatsapp_number ELSE tenants.whatsapp_number END,"
    " whatsapp_verified_at = CASE WHEN 'whatsapp_number' = ANY($10::text[])"
    "  AND EXCLUDED.whatsapp_number IS DISTINCT FROM tenants.whatsapp_number"
    "  THEN EXCLUDED.whatsapp_verified_at ELSE tenants.whatsapp_verified_at END,"
    " sms_number = CASE WHEN 'sms_number' = ANY($10::text[]) THEN EXCLUDED.sms_number ELSE "
    "tenants.sms_number END,"
    " email = CASE WHEN 'email' = ANY($10::text[]) THEN EXCLUDED.email ELSE tenants.email END,"
    " time_zone = CASE WHEN 'time_zone' = ANY($10::text[]) THEN EXCLUDED.time_zone ELSE "
    "tenants.time_zone END,"
    " quiet_start = CASE WHEN 'quiet_start' = ANY($10::text[]) THEN EXCLUDED.quiet_start ELSE "
    "tenants.quiet_start END,"
    " quiet_end = CASE WHEN 'quiet_end' = ANY($10::text[]) THEN EXCLUDED.quiet_end ELSE "
    "tenants.quiet_end END,"
    " language = CASE WHEN 'language' = ANY($10::text[]) THEN EXCLUDED.language"
    "  ELSE tenants.language END"
    " RETURNING " TENANT_COLS ", (xmax = 0)";

int tenant_upsert(struct db *db, const struct tenant_input *in, struct tenant *t, int *created)
{
	struct buf names = BUF_INIT(1024); /* the field names: always fits */
	int ret = -1;
	buf_puts(&names, "{");
	for (int i = 0; i < TF_COUNT; i++)
		if (in->present & (1u << i))
			buf_printf(&names, "%s%s", names.len > 1 ? "," : "", fields[i].name);
	buf_puts(&names, "}");
	const char *p[] = {in->value[TF_EXTERNAL_ID],     in->value[TF_DISPLAY_NAME],
	                   in->value[TF_WHATSAPP_NUMBER], in->value[TF_SMS_NUMBER],
	                   in->value[TF_EMAIL],           in->value[TF_TIME_ZONE],
	                   in->value[TF_QUIET_START],     in->value[TF_QUIET_END],
	                   in->value[TF_LANGUAGE],        buf_str(&names)};
	PGresult *res = db_query_idem(db, upsert_sql, 10, p);
	if (!res && tenant_number_taken(db)) {
		ret = TENANT_NUMBER_IN_USE;
		goto out;
	}
	if (!res) {
		log_warnx("tenant_upsert_failed", "%s", db->err);
		goto out;
	}
	if (PQntuples(res) == 1) {
		row_to_tenant(res, 0, t);
		*created = PQgetvalue(res, 0, TENANT_NCOLS)[0] == 't';
		ret = 0;
	}
	PQclear(res);
out:
	buf_release(&names);
	return ret;
}

int tenant_list(struct db *db, long long after, int limit, struct tenant **list, int *n,
                long long *next_after)
{
	char a[24], l[16];
	*list = NULL;
	*n = 0;
	*next_after = 0;
	if (limit < 1 || limit > TENANT_LIST_MAX || after < 0)
		return -1;
	snprintf(a, sizeof(a), "%lld", after);
	snprintf(l, sizeof(l), "%d", limit + 1); /* one more: is there a next page? */
	const char *p[] = {a, l};
	PGresult *res = db_query_idem(
	    db, "SELECT " TENANT_COLS " FROM tenants WHERE id > $1 ORDER BY id LIMIT $2", 2, p);
	if (!res) {
		log_warnx("tenant_list_failed", "%s", db->err);
		return -1;
	}
	int rows = PQntuples(res);
	int take = rows > limit ? limit : rows;
	*list = xcalloc(take ? (size_t)take : 1, sizeof(**list));
	for (int i = 0; i < take; i++)
		row_to_tenant(res, i, &(*list)[i]);
	*n = take;
	if (rows > limit)
		*next_after = (*list)[take - 1].id;
	PQclear(res);
	return 0;
}

void tenant_list_free(struct tenant *list, int n)
{
	for (int i = 0; list && i < n; i++)
		tenant_release(&list[i]);
	free(list);
}

int tenant_set_status(struct db *db, const char *external_id, const char *status, struct tenant *t)
{
	const char *p[] = {external_id, status};
	if (strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0)
		return -1;
	return one_tenant(db,
	                  db_query_idem(db,
	                                "UPDATE tenants SET status = $2 WHERE external_id = $1"
	                                " RETURNING " TENANT_COLS,
	                                2, p),
	                  "set_status", t);
}

/*
 * The seller's change: each column named in $9 takes its new value, the others keep theirs.
 * The number is not among them: a seller's number is verified first (tenants/login.h).
 */
static const char update_sql[] =
    "UPDATE tenants SET"
    " display_name = CASE WHEN 'display_name' = ANY($9::text[]) THEN $2 ELSE display_name END,"
    " sms_number = CASE WHEN 'sms_number' = ANY($9::text[]) THEN $3 ELSE sms_number END,"
    " email = CASE WHEN 'email' = ANY($9::text[]) THEN $4 ELSE email END,"
    " time_zone = CASE WHEN 'time_zone' = ANY($9::text[]) THEN coalesce($5, 'UTC') ELSE time_zone "
    "END,"
    " quiet_start = CASE WHEN 'quiet_start' = ANY($9::text[]) THEN $6::time ELSE quiet_start"
    " END,"
    " quiet_end = CASE WHEN 'quiet_end' = ANY($9::text[]) THEN $7::time ELSE quiet_end END,"
    " language = CASE WHEN 'language' = ANY($9::text[]) THEN coalesce($8, 'en') ELSE language END"
    " WHERE id = $1 RETURNING " TENANT_COLS;

int tenant_update(struct db *db, long long id, const struct tenant_input *in, struct tenant *t)
{
	struct buf names = BUF_INIT(1024); /* the field names: always fits */
	char ids[24];
	buf_puts(&names, "{");
	for (int i = 0; i < TF_COUNT; i++)
		if ((in->present & (1u << i)) && i != TF_WHATSAPP_NUMBER && i != TF_EXTERNAL_ID)
			buf_printf(&names, "%s%s", names.len > 1 ? "," : "", fields[i].name);
	buf_puts(&names, "}");
	snprintf(ids, sizeof(ids), "%lld", id);
	const char *p[] = {ids,
	                   in->value[TF_DISPLAY_NAME],
	                   in->value[TF_SMS_NUMBER],
	                   in->value[TF_EMAIL],
	                   in->value[TF_TIME_ZONE],
	                   in->value[TF_QUIET_START],
	                   in->value[TF_QUIET_END],
	                   in->value[TF_LANGUAGE],
	                   buf_str(&names)};
	int ret = one_tenant(db, db_query(db, update_sql, 9, p), "update", t);
	buf_release(&names);
	return ret;
}
