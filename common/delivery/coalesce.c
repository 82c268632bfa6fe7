#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alertlines.h"
#include "core/util.h"
#include "db/pgarray.h"
#include "delivery/coalesce.h"

#define SELLER_KINDS "('seller_alert', 'seller_digest')"

static int is_seller_kind(const char *kind)
{
	return kind && (strcmp(kind, "seller_alert") == 0 || strcmp(kind, "seller_digest") == 0);
}

int coalesce_may_carry(const struct account *a, const struct coalesce_row *r)
{
	if (r->tenant_id == 0 || !is_seller_kind(r->kind) || !r->channel ||
	    strcmp(r->channel, "whatsapp") != 0 || r->as_template)
		return 0;
	return r->in_window ||
	       provider_template_choice(a->provider, a->cfg, r->template_name) == TEMPLATE_NONE;
}

/* 2 critical, 1 warning, 0 info (or anything else). */
static int urgency(const char *priority)
{
	return strcmp(priority, "critical") == 0 ? 2 : strcmp(priority, "warning") == 0 ? 1 : 0;
}

/* The rows that may go with carrier r, locked: id, message_content, priority, reply_id. */
static PGresult *siblings(struct db *db, const struct account *a, const struct coalesce_row *r)
{
	char id[24], acct[24], tenant[24], lim[16];
	/* Outside the window, a row that can go as its own template stays alone (coalesce.h). */
	int own =
	    !r->in_window && provider_template_choice(a->provider, a->cfg, "any") == TEMPLATE_OWN;
	snprintf(id, sizeof(id), "%lld", r->id);
	snprintf(acct, sizeof(acct), "%lld", a->id);
	snprintf(tenant, sizeof(tenant), "%lld", r->tenant_id);
	snprintf(lim, sizeof(lim), "%d", COALESCE_MAX_ROWS);
	const char *p[7] = {id, acct, tenant, r->phone, r->channel, lim, own ? "t" : "f"};
	/* coalesce(tenant_id, 0): the fair index's producer column (sql/007). */
	return db_query(db,
	                "SELECT id, message_content, priority, reply_id FROM whatsapp_logs"
	                " WHERE status = 'queued' AND direction = 'outbound'"
	                " AND account_id = $2::bigint AND coalesce(tenant_id, 0) = $3::bigint"
	                " AND phone_number = $4 AND channel = $5 AND kind IN " SELLER_KINDS
	                " AND NOT as_template AND next_attempt_at <= now()"
	                " AND not_before <= now() AND id <> $1::bigint"
	                " AND (NOT $7::boolean OR template_name IS NULL)"
	                " ORDER BY (priority = 'critical') DESC, id LIMIT $6::int"
	                " FOR UPDATE SKIP LOCKED",
	                7, p);
}

/* Every line of the carrier's text then of each sibling's, into one list; *total alerts. */
static const char **all_lines(const char *content, PGresult *s, struct alertlines *parsed,
                              size_t *n, size_t *total)
{
	int ns = PQntuples(s);
	size_t cap = 0;
	*n = *total = 0;
	for (int i = 0; i <= ns; i++) {
		alertlines_parse(i == 0 ? content : PQgetvalue(s, i - 1, 1), &parsed[i]);
		cap += parsed[i].n;
		*total += parsed[i].total;
	}
	const char **v = xcalloc(cap + 1, sizeof(*v));
	for (int i = 0; i <= ns; i++)
		for (size_t k = 0; k < parsed[i].n; k++)
			v[(*n)++] = parsed[i].v[k];
	return v;
}

/* Close the rows of s as merged into carrier id (the trigger moves their events). 0 / -1. */
static int close_merged(struct db *db, long long id, PGresult *s)
{
	int ns = PQntuples(s);
	long long *ids = xcalloc((size_t)ns + 1, sizeof(*ids));
	for (int i = 0; i < ns; i++)
		ids[i] = strtoll(PQgetvalue(s, i, 0), NULL, 10);
	char *arr = pg_bigint_array(ids, (size_t)ns);
	char carrier[24];
	snprintf(carrier, sizeof(carrier), "%lld", id);
	const char *p[2] = {carrier, arr};
	int rc = db_exec(db,
	                 "UPDATE whatsapp_logs SET status = 'merged', merged_into = $1::bigint,"
	                 " claimed_at = NULL, lease_until = NULL"
	                 " WHERE id = ANY($2::bigint[]) AND status = 'queued'",
	                 2, p);
	free(arr);
	free(ids);
	return rc;
}

/* 1 when every row of s has the reply button id (NULL: none), else 0. */
static int same_button(PGresult *s, const char *id)
{
	for (int i = 0; i < PQntuples(s); i++) {
		int none = PQgetisnull(s, i, 3);
		if (!id ? !none : none || strcmp(PQgetvalue(s, i, 3), id) != 0)
			return 0;
	}
	return 1;
}

int coalesce_merge(struct db *db, const struct account *a, const struct coalesce_row *r, size_t max,
                   char **content, char **priority, int *keep_button)
{
	*keep_button = 1;
	PGresult *s = siblings(db, a, r);
	if (!s)
		return -1;
	int ns = PQntuples(s), rc = 0;
	if (ns == 0) {
		PQclear(s);
		return 0;
	}
	struct alertlines *parsed = xcalloc((size_t)ns + 1, sizeof(*parsed));
	size_t n, total, shown;
	const char **lines = all_lines(*content, s, parsed, &n, &total);
	char *text = alertlines_text(lines, n, total, max, &shown);
	const char *most = *priority;
	for (int i = 0; i < ns; i++)
		if (urgency(PQgetvalue(s, i, 2)) > urgency(most))
			most = PQgetvalue(s, i, 2);
	char *prio = xstrdup(most);
	char id[24];
	snprintf(id, sizeof(id), "%lld", r->id);
	*keep_button = same_button(s, r->reply_id);
	const char *p[4] = {id, text, prio, *keep_button ? "t" : "f"};
	if (close_merged(db, r->id, s) < 0 ||
	    db_exec(db,
	            "UPDATE whatsapp_logs SET message_content = $2, priority = $3,"
	            " reply_id = CASE WHEN $4::boolean THEN reply_id END,"
	            " reply_title = CASE WHEN $4::boolean THEN reply_title END,"
	            " template_name = NULL, template_params = NULL"
	            " WHERE id = $1::bigint",
	            4, p) < 0) {
		rc = -1;
		free(text);
		free(prio);
	} else {
		rc = ns;
		free(*content);
		free(*priority);
		*content = text;
		*priority = prio;
	}
	for (int i = 0; i <= ns; i++)
		alertlines_release(&parsed[i]);
	free(parsed);
	free(lines);
	PQclear(s);
	return rc;
}
