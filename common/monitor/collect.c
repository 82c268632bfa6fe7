#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "monitor/collect.h"
#include "core/log.h"
#include "core/util.h"

/* Every monitoring query starts with this tag, so it can be filtered out of pg_stat_statements. */
#define TAG "/* whatsapp_monitor */ "

void samples_add(struct samples *s, enum metric_id m, const char *target, double value,
                 const char *detail)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	struct sample *x = &s->v[s->n++];
	memset(x, 0, sizeof(*x));
	x->metric = m;
	x->target = xstrdup(target ? target : "");
	x->value = value;
	x->available = 1;
	x->detail = detail && *detail ? xstrdup(detail) : NULL;
}

void samples_unavailable(struct samples *s, enum metric_id m, const char *target,
                         const char *reason)
{
	samples_add(s, m, target, NAN, reason);
	s->v[s->n - 1].available = 0;
}

void samples_skipped(struct samples *s, enum metric_id m, const char *target, double value,
                     const char *reason)
{
	samples_add(s, m, target, value, reason);
	s->v[s->n - 1].skipped = 1;
}

void samples_release(struct samples *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].target);
		free(s->v[i].detail);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void stmt_set_add(struct stmt_set *s, const char *key, double calls, double total_ms,
                  const char *query)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	struct stmt *x = &s->v[s->n++];
	x->key = xstrdup(key);
	x->calls = calls;
	x->total_ms = total_ms;
	x->query = query ? xstrdup(query) : NULL;
}

void stmt_set_release(struct stmt_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].query);
	}
	free(s->v);
	free(s->reason);
	memset(s, 0, sizeof(*s));
}

void collection_init(struct collection *c)
{
	memset(c, 0, sizeof(*c));
}

void collection_release(struct collection *c)
{
	free(c->error);
	free(c->database);
	samples_release(&c->samples);
	stmt_set_release(&c->stmts);
	memset(c, 0, sizeof(*c));
}

/* Run sql (no parameters, result discarded); for savepoints and the transaction's ends. */
static void simple(PGconn *conn, const char *sql)
{
	PQclear(PQexec(conn, sql));
}

/*
 * A query against the monitored database; NULL and *why (static buffer) on failure.
 * Inside the transaction of MONITORED_DATABASE_POOLING=transaction each query runs under
 * a savepoint, rolled back to when it fails, so one failing query does not abort the
 * rest. (A query that works leaves its savepoint: the next one stacks on it, and the
 * commit ends them all; a RELEASE would cost a round trip per query.)
 */
static PGresult *q(PGconn *conn, const char *sql, int n, const char *const *params,
                   const char **why)
{
	static char msg[300];
	int in_tx = PQtransactionStatus(conn) == PQTRANS_INTRANS;
	if (in_tx)
		simple(conn, "SAVEPOINT q");
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	const char *e = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && strcmp(state, "57014") == 0)
		snprintf(msg, sizeof(msg), "query timed out (statement_timeout)");
	else if (state && strcmp(state, "42501") == 0)
		snprintf(msg, sizeof(msg), "permission denied: %s", e);
	else
		snprintf(msg, sizeof(msg), "query failed: %s", e);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	size_t l = strlen(msg);
	while (l && msg[l - 1] == ' ')
		msg[--l] = '\0';
	PQclear(res);
	if (in_tx)
		simple(conn, "ROLLBACK TO SAVEPOINT q");
	*why = msg;
	return NULL;
}

static double num(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NAN;
	return strtod(PQgetvalue(r, row, col), NULL);
}

static const char *str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static void unavailable_all(struct collection *c, const enum metric_id *ms, size_t n,
                            const char *why)
{
	for (size_t i = 0; i < n; i++)
		samples_unavailable(&c->samples, ms[i], "", why);
}

static void collect_size(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn, TAG "SELECT pg_database_size(current_database())", 0, NULL, &why);
	if (!r) {
		samples_unavailable(&c->samples, M_DATABASE_SIZE_BYTES, "", why);
		return;
	}
	samples_add(&c->samples, M_DATABASE_SIZE_BYTES, "", num(r, 0, 0), NULL);
	c->evaluated[M_DATABASE_SIZE_BYTES] = 1;
	PQclear(r);
}

static void collect_connections(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn,
	                TAG "SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
	                    " round(100.0 * count(*) FILTER (WHERE backend_type = 'client backend')"
	                    " / greatest(current_setting('max_connections')::int"
	                    " - current_setting('superuser_reserved_connections')::int, 1), 1),"
	                    " current_setting('max_connections')::int"
	                    " FROM pg_stat_activity",
	                0, NULL, &why);
	if (!r) {
		enum metric_id ms[] = {M_CONNECTIONS, M_CONNECTIONS_USED_PCT};
		unavailable_all(c, ms, ARRAY_LEN(ms), why);
		return;
	}
	char detail[96];
	snprintf(detail, sizeof(detail), "%s of max_connections %s", str(r, 0, 0), str(r, 0, 2));
	samples_add(&c->samples, M_CONNECTIONS, "", num(r, 0, 0), NULL);
	samples_add(&c->samples, M_CONNECTIONS_USED_PCT, "", num(r, 0, 1), detail);
	c->evaluated[M_CONNECTIONS] = c->evaluated[M_CONNECTIONS_USED_PCT] = 1;
	PQclear(r);
}

static void collect_counters(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn,
	                TAG "SELECT xact_commit, xact_rollback, blks_read, blks_hit, deadlocks,"
	                    " coalesce(stats_reset::text, '')"
	                    " FROM pg_stat_database WHERE datname = current_database()",
	                0, NULL, &why);
	if (!r || PQntuples(r) != 1) {
		log_warnx("collect_counters", "pg_stat_database unreadable: %s",
		          r ? "no row" : why);
		PQclear(r);
		return;
	}
	struct counters *k = &c->counters;
	k->xact_commit = strtoll(str(r, 0, 0), NULL, 10);
	k->xact_rollback = strtoll(str(r, 0, 1), NULL, 10);
	k->blks_read = strtoll(str(r, 0, 2), NULL, 10);
	k->blks_hit = strtoll(str(r, 0, 3), NULL, 10);
	k->deadlocks = strtoll(str(r, 0, 4), NULL, 10);
	snprintf(k->stats_reset, sizeof(k->stats_reset), "%s", str(r, 0, 5));
	k->present = 1;
	PQclear(r);
}

/* Sessions: needs pg_read_all_stats (pg_monitor) to see other roles' sessions. */
static void collect_sessions(PGconn *conn, struct collection *c, int can_read_stats)
{
	enum metric_id ms[] = {M_LONG_RUNNING_QUERY_SECONDS, M_IDLE_IN_TRANSACTION_SECONDS,
	                       M_OLDEST_TRANSACTION_SECONDS, M_BLOCKED_SESSIONS,
	                       M_BLOCKED_SESSION_SECONDS};
	if (!can_read_stats) {
		unavailable_all(c, ms, ARRAY_LEN(ms),
		                "the monitor's role cannot see other sessions: GRANT pg_monitor");
		return;
	}
	const char *why;
	/* For each kind: the worst session's age, pid and the start of its query. */
	PGresult *r = q(
	    conn,
	    TAG "WITH a AS (SELECT pid, state, query_start, xact_start, state_change,"
	        " left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query,"
	        " cardinality(pg_blocking_pids(pid)) > 0 AS blocked, pg_blocking_pids(pid) AS by"
	        " FROM pg_stat_activity"
	        " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())"
	        " SELECT k.kind, k.secs, k.pid, k.query, k.n, k.by FROM ("
	        " (SELECT 1 AS kind, extract(epoch FROM now() - query_start) AS secs, pid, query,"
	        "   0::bigint AS n, ''::text AS by FROM a WHERE state = 'active'"
	        "   ORDER BY query_start LIMIT 1)"
	        " UNION ALL (SELECT 2, extract(epoch FROM now() - state_change), pid, query, 0, ''"
	        "   FROM a WHERE state LIKE 'idle in transaction%' ORDER BY state_change LIMIT 1)"
	        " UNION ALL (SELECT 3, extract(epoch FROM now() - xact_start), pid, query, 0, ''"
	        "   FROM a WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 1)"
	        " UNION ALL (SELECT 4, extract(epoch FROM now() - query_start), pid, query,"
	        "   count(*) OVER (), array_to_string(by, ',')"
	        "   FROM a WHERE blocked ORDER BY query_start LIMIT 1)) k",
	    0, NULL, &why);
	if (!r) {
		unavailable_all(c, ms, ARRAY_LEN(ms), why);
		return;
	}
	double secs[5] = {0, 0, 0, 0, 0}, blocked = 0;
	char *details[5] = {NULL, NULL, NULL, NULL, NULL};
	for (int i = 0; i < PQntuples(r); i++) {
		int kind = (int)num(r, i, 0);
		if (kind < 1 || kind > 4)
			continue;
		secs[kind] = num(r, i, 1);
		if (kind == 4) {
			blocked = num(r, i, 4);
			details[kind] = xasprintf("pid %s waits for pid %s: %s", str(r, i, 2),
			                          str(r, i, 5), str(r, i, 3));
		} else {
			details[kind] = xasprintf("pid %s: %s", str(r, i, 2), str(r, i, 3));
		}
	}
	samples_add(&c->samples, M_LONG_RUNNING_QUERY_SECONDS, "", round(secs[1]), details[1]);
	samples_add(&c->samples, M_IDLE_IN_TRANSACTION_SECONDS, "", round(secs[2]), details[2]);
	samples_add(&c->samples, M_OLDEST_TRANSACTION_SECONDS, "", round(secs[3]), details[3]);
	samples_add(&c->samples, M_BLOCKED_SESSIONS, "", blocked, details[4]);
	samples_add(&c->samples, M_BLOCKED_SESSION_SECONDS, "", round(secs[4]), details[4]);
	for (size_t i = 0; i < ARRAY_LEN(ms); i++)
		c->evaluated[ms[i]] = 1;
	for (int i = 0; i < 5; i++)
		free(details[i]);
	PQclear(r);
}

static void collect_wraparound(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn,
	                TAG "SELECT datname, age(datfrozenxid), mxid_age(datminmxid)"
	                    " FROM pg_database WHERE datallowconn ORDER BY age(datfrozenxid) DESC",
	                0, NULL, &why);
	if (!r) {
		enum metric_id ms[] = {M_XID_AGE, M_MULTIXACT_AGE};
		unavailable_all(c, ms, ARRAY_LEN(ms), why);
		return;
	}
	double xid = 0, mxid = 0;
	char dx[128] = "", dm[128] = "";
	for (int i = 0; i < PQntuples(r); i++) {
		if (num(r, i, 1) > xid) {
			xid = num(r, i, 1);
			snprintf(dx, sizeof(dx), "database %s", str(r, i, 0));
		}
		if (num(r, i, 2) > mxid) {
			mxid = num(r, i, 2);
			snprintf(dm, sizeof(dm), "database %s", str(r, i, 0));
		}
	}
	samples_add(&c->samples, M_XID_AGE, "", xid, dx);
	samples_add(&c->samples, M_MULTIXACT_AGE, "", mxid, dm);
	c->evaluated[M_XID_AGE] = c->evaluated[M_MULTIXACT_AGE] = 1;
	PQclear(r);
}

static void collect_dead_tuples(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn,
	                TAG "SELECT s.schemaname || '.' || s.relname, s.n_dead_tup::float8"
	                    " / (current_setting('autovacuum_vacuum_threshold')::int"
	                    "    + current_setting('autovacuum_vacuum_scale_factor')::float8"
	                    "      * greatest(c.reltuples, 0)),"
	                    " s.n_dead_tup, s.n_live_tup,"
	                    " coalesce(greatest(s.last_autovacuum, s.last_vacuum)::text, 'never')"
	                    " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
	                    " WHERE s.n_dead_tup > 1000 ORDER BY 2 DESC LIMIT 20",
	                0, NULL, &why);
	if (!r) {
		samples_unavailable(&c->samples, M_DEAD_TUPLES_RATIO, "", why);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		char *d = xasprintf("%s dead, %s live, last vacuum %s", str(r, i, 2), str(r, i, 3),
		                    str(r, i, 4));
		samples_add(&c->samples, M_DEAD_TUPLES_RATIO, str(r, i, 0),
		            round(num(r, i, 1) * 100) / 100, d);
		free(d);
	}
	c->evaluated[M_DEAD_TUPLES_RATIO] = 1;
	PQclear(r);
}

static void collect_replication(PGconn *conn, struct collection *c, int in_recovery)
{
	const char *why;
	PGresult *r;
	if (in_recovery) {
		r = q(conn,
		      TAG
		      "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
		      " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()),"
		      " 0) END",
		      0, NULL, &why);
		if (!r) {
			samples_unavailable(&c->samples, M_REPLICATION_LAG_SECONDS, "", why);
		} else {
			samples_add(&c->samples, M_REPLICATION_LAG_SECONDS, "", num(r, 0, 0),
			            "this server is a standby");
			c->evaluated[M_REPLICATION_LAG_SECONDS] = 1;
			PQclear(r);
		}
	} else {
		r = q(conn,
		      TAG
		      "SELECT coalesce(application_name, '') || '@' || coalesce(client_addr::text,"
		      " 'local'), coalesce(extract(epoch FROM replay_lag), 0)"
		      " FROM pg_stat_replication",
		      0, NULL, &why);
		if (!r) {
			samples_unavailable(&c->samples, M_REPLICATION_LAG_SECONDS, "", why);
		} else {
			for (int i = 0; i < PQntuples(r); i++)
				samples_add(&c->samples, M_REPLICATION_LAG_SECONDS, str(r, i, 0),
				            num(r, i, 1), NULL);
			c->evaluated[M_REPLICATION_LAG_SECONDS] = 1;
			PQclear(r);
		}
	}
	r = q(conn,
	      TAG "SELECT slot_name, active, coalesce(wal_status, ''),"
	          " coalesce(pg_wal_lsn_diff(" /* a standby has no current LSN: use replay */
	          " CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
	          " ELSE pg_current_wal_lsn() END, restart_lsn), 0)"
	          " FROM pg_replication_slots",
	      0, NULL, &why);
	if (!r) {
		samples_unavailable(&c->samples, M_REPLICATION_SLOT_RETAINED_BYTES, "", why);
		samples_unavailable(&c->samples, M_REPLICATION_SLOT_LOST, "", why);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *name = str(r, i, 0), *ws = str(r, i, 2);
		int active = strcmp(str(r, i, 1), "t") == 0;
		char *d = xasprintf("%s, wal_status %s", active ? "active" : "inactive",
		                    *ws ? ws : "unknown");
		if (!active)
			samples_add(&c->samples, M_REPLICATION_SLOT_RETAINED_BYTES, name,
			            num(r, i, 3), d);
		samples_add(&c->samples, M_REPLICATION_SLOT_LOST, name,
		            strcmp(ws, "lost") == 0 || strcmp(ws, "unreserved") == 0, d);
		free(d);
	}
	c->evaluated[M_REPLICATION_SLOT_RETAINED_BYTES] = c->evaluated[M_REPLICATION_SLOT_LOST] = 1;
	PQclear(r);
}

struct seq_pct {
	int row;
	double pct;
};

static int seq_pct_desc(const void *a, const void *b)
{
	const struct seq_pct *x = a, *y = b;
	return (x->pct < y->pct) - (x->pct > y->pct);
}

static void collect_sequences(PGconn *conn, struct collection *c)
{
	const char *why;
	/* Both the sequence's own range and the type of the column it feeds. */
	PGresult *r = q(
	    conn,
	    TAG "SELECT format('%I.%I', s.schemaname, s.sequencename),"
	        " has_sequence_privilege(format('%I.%I', s.schemaname, s.sequencename)::regclass,"
	        "   'SELECT,USAGE'),"
	        " greatest(100.0 * (s.last_value - s.min_value)"
	        "   / nullif(s.max_value - s.min_value, 0),"
	        "  (SELECT max(100.0 * s.last_value / CASE a.atttypid"
	        "     WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647"
	        "     ELSE 9223372036854775807 END)"
	        "   FROM pg_depend d JOIN pg_attribute a"
	        "     ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
	        "   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
	        "     AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass"
	        "     AND d.deptype IN ('a', 'i'))),"
	        " s.last_value, s.max_value"
	        " FROM pg_sequences s WHERE NOT s.cycle"
	        " AND s.schemaname NOT IN ('pg_catalog', 'information_schema')",
	    0, NULL, &why);
	if (!r) {
		samples_unavailable(&c->samples, M_SEQUENCE_USED_PCT, "", why);
		return;
	}
	int unreadable = 0, readable = 0;
	size_t nrows = (size_t)PQntuples(r), nused = 0;
	struct seq_pct *used = xcalloc(nrows ? nrows : 1, sizeof(*used));
	for (int i = 0; i < PQntuples(r); i++) {
		if (strcmp(str(r, i, 1), "t") != 0) {
			unreadable++;
			continue;
		}
		readable++;
		if (!isnan(num(r, i, 2))) { /* NULL: never used */
			used[nused].row = i;
			used[nused].pct = num(r, i, 2);
			nused++;
		}
	}
	/* Keep the ten fullest: a sample each. */
	qsort(used, nused, sizeof(*used), seq_pct_desc);
	for (size_t k = 0; k < nused && k < 10; k++) {
		char *d = xasprintf("last_value %s of %s", str(r, used[k].row, 3),
		                    str(r, used[k].row, 4));
		samples_add(&c->samples, M_SEQUENCE_USED_PCT, str(r, used[k].row, 0),
		            round(used[k].pct * 100) / 100, d);
		free(d);
	}
	free(used);
	if (unreadable) {
		char *d = xasprintf("%d of %d sequences are not readable by the monitor's role: "
		                    "GRANT SELECT ON ALL SEQUENCES",
		                    unreadable, unreadable + readable);
		samples_unavailable(&c->samples, M_SEQUENCE_USED_PCT,
		                    readable ? "(unreadable)" : "", d);
		free(d);
	}
	if (readable)
		c->evaluated[M_SEQUENCE_USED_PCT] = 1;
	PQclear(r);
}

static void collect_statements(PGconn *conn, struct collection *c)
{
	const char *why;
	PGresult *r = q(conn,
	                TAG "SELECT n.nspname FROM pg_extension e"
	                    " JOIN pg_namespace n ON n.oid = e.extnamespace"
	                    " WHERE e.extname = 'pg_stat_statements'",
	                0, NULL, &why);
	if (!r || PQntuples(r) == 0) {
		c->stmts.reason =
		    xstrdup(r ? "extension pg_stat_statements is not installed" : why);
		PQclear(r);
		return;
	}
	char *schema = PQescapeIdentifier(conn, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)));
	PQclear(r);
	if (!schema) {
		c->stmts.reason = xstrdup("cannot quote the extension's schema");
		return;
	}
	char *sql = xasprintf(
	    TAG "SELECT userid || ':' || dbid || ':' || toplevel || ':' || queryid, calls,"
	        " total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 120)"
	        " FROM %s.pg_stat_statements"
	        " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
	        " AND queryid IS NOT NULL AND query NOT LIKE '/* whatsapp_monitor */%%'"
	        " ORDER BY total_exec_time DESC LIMIT 100",
	    schema);
	PQfreemem(schema);
	r = q(conn, sql, 0, NULL, &why);
	free(sql);
	if (!r) {
		c->stmts.reason = xstrdup(why);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++)
		stmt_set_add(&c->stmts, str(r, i, 0), num(r, i, 1), num(r, i, 2), str(r, i, 3));
	c->stmts.available = 1;
	PQclear(r);
}

/* ORDERS_TABLE and its column, quoted (identifiers cannot be parameters). Caller frees both. */
static void orders_identifiers(PGconn *conn, const struct config *cfg, char **table, char **col)
{
	const char *dot = strchr(cfg->orders_table, '.');
	if (dot) {
		char *schema = xstrndup(cfg->orders_table, (size_t)(dot - cfg->orders_table));
		char *qs = PQescapeIdentifier(conn, schema, strlen(schema));
		char *qt = PQescapeIdentifier(conn, dot + 1, strlen(dot + 1));
		*table = xasprintf("%s.%s", qs ? qs : "", qt ? qt : "");
		PQfreemem(qs);
		PQfreemem(qt);
		free(schema);
	} else {
		char *qt = PQescapeIdentifier(conn, cfg->orders_table, strlen(cfg->orders_table));
		*table = xstrdup(qt ? qt : "");
		PQfreemem(qt);
	}
	char *qc = PQescapeIdentifier(conn, cfg->orders_timestamp_column,
	                              strlen(cfg->orders_timestamp_column));
	*col = xstrdup(qc ? qc : "");
	PQfreemem(qc);
}

/* Why the monitor cannot count ORDERS_TABLE (caller frees), or NULL when it can. */
static char *orders_unreadable(PGconn *conn, const struct config *cfg)
{
	const char *why;
	const char *p1[2] = {cfg->orders_table, cfg->orders_timestamp_column};
	PGresult *r =
	    q(conn,
	      TAG "SELECT c.relrowsecurity AND NOT (pg_get_userbyid(c.relowner) = current_user"
	          "   OR r.rolbypassrls OR r.rolsuper),"
	          " has_table_privilege(c.oid, 'SELECT'),"
	          " (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
	          "   WHERE a.attrelid = c.oid AND a.attname = $2 AND NOT a.attisdropped)"
	          " FROM pg_class c, pg_roles r"
	          " WHERE c.oid = to_regclass($1) AND r.rolname = current_user",
	      2, p1, &why);
	if (!r)
		return xstrdup(why);
	char *reason = NULL;
	if (PQntuples(r) == 0)
		reason = xasprintf("table %s not found (ORDERS_TABLE)", cfg->orders_table);
	else if (strcmp(str(r, 0, 1), "t") != 0)
		reason = xasprintf("permission denied on %s: GRANT SELECT to the monitor's role",
		                   cfg->orders_table);
	else if (strcmp(str(r, 0, 0), "t") == 0)
		reason =
		    xasprintf("row-level security on %s would hide rows from the monitor's role "
		              "(counts would read 0)",
		              cfg->orders_table);
	else if (!*str(r, 0, 2))
		reason = xasprintf("column %s not found in %s (ORDERS_TIMESTAMP_COLUMN)",
		                   cfg->orders_timestamp_column, cfg->orders_table);
	PQclear(r);
	return reason;
}

/* Orders today so far, same time last week, yesterday, 8 days ago. 0, or -1 with *why. */
static int orders_counts(PGconn *conn, const struct config *cfg, double n[4], const char **why)
{
	char *table, *col;
	orders_identifiers(conn, cfg, &table, &col);
	char *sql = xasprintf(
	    TAG "SELECT count(*) FILTER (WHERE %1$s >= date_trunc('day', now())),"
	        " count(*) FILTER (WHERE %1$s >= date_trunc('day', now()) - interval '7 days'"
	        "   AND %1$s < now() - interval '7 days'),"
	        " count(*) FILTER (WHERE %1$s >= date_trunc('day', now()) - interval '1 day'"
	        "   AND %1$s < date_trunc('day', now())),"
	        " count(*) FILTER (WHERE %1$s >= date_trunc('day', now()) - interval '8 days'"
	        "   AND %1$s < date_trunc('day', now()) - interval '7 days')"
	        " FROM %2$s WHERE %1$s >= date_trunc('day', now()) - interval '8 days'"
	        " AND %1$s < now()",
	    col, table);
	free(col);
	free(table);
	PGresult *r = q(conn, sql, 0, NULL, why);
	free(sql);
	if (!r)
		return -1;
	for (int i = 0; i < 4; i++)
		n[i] = num(r, 0, i);
	PQclear(r);
	return 0;
}

/* How far now fell below base, in percent to one decimal; 0 when it did not or base is 0. */
static double drop_pct(double now, double base)
{
	double drop = base > 0 ? 100.0 * (base - now) / base : 0;
	if (drop < 0)
		drop = 0;
	return round(drop * 10) / 10;
}

/* A drop sample, judged only when the base reaches ORDERS_MIN_VOLUME. */
static void add_drop(struct collection *c, const struct config *cfg, enum metric_id m, double now,
                     double base, const char *what)
{
	double drop = drop_pct(now, base);
	char *d = xasprintf("%s: %.0f vs %.0f", what, now, base);
	if (base < (double)cfg->orders_min_volume) {
		char *d2 = xasprintf("%s; below ORDERS_MIN_VOLUME %lld, not judged", d,
		                     cfg->orders_min_volume);
		samples_skipped(&c->samples, m, "", drop, d2);
		free(d2);
	} else {
		samples_add(&c->samples, m, "", drop, d);
	}
	free(d);
}

static void collect_orders(PGconn *conn, const struct config *cfg, struct collection *c)
{
	enum metric_id ms[] = {
	    M_ORDERS_TODAY,     M_ORDERS_SAME_TIME_LAST_WEEK, M_ORDERS_TODAY_DROP_PCT,
	    M_ORDERS_YESTERDAY, M_ORDERS_YESTERDAY_LAST_WEEK, M_ORDERS_YESTERDAY_DROP_PCT};
	char *reason = orders_unreadable(conn, cfg);
	if (reason) {
		unavailable_all(c, ms, ARRAY_LEN(ms), reason);
		free(reason);
		return;
	}
	double n[4];
	const char *why;
	if (orders_counts(conn, cfg, n, &why) < 0) {
		unavailable_all(c, ms, ARRAY_LEN(ms), why);
		return;
	}
	samples_add(&c->samples, M_ORDERS_TODAY, "", n[0], NULL);
	samples_add(&c->samples, M_ORDERS_SAME_TIME_LAST_WEEK, "", n[1], NULL);
	samples_add(&c->samples, M_ORDERS_YESTERDAY, "", n[2], NULL);
	samples_add(&c->samples, M_ORDERS_YESTERDAY_LAST_WEEK, "", n[3], NULL);
	add_drop(c, cfg, M_ORDERS_TODAY_DROP_PCT, n[0], n[1],
	         "today so far vs same time last week");
	add_drop(c, cfg, M_ORDERS_YESTERDAY_DROP_PCT, n[2], n[3], "yesterday vs 8 days ago");
	for (size_t i = 0; i < ARRAY_LEN(ms); i++)
		c->evaluated[ms[i]] = 1;
}

static char *one_line(const char *s)
{
	char *o = xstrdup(s ? s : "unknown error");
	for (char *p = o; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t n = strlen(o);
	while (n && o[n - 1] == ' ')
		o[--n] = '\0';
	return o;
}

/*
 * In transaction mode: open the one read-only transaction everything runs in, with the
 * timeouts (and TimeZone, when tz is set) that session mode gives as startup options, SET
 * LOCAL. A setting refused is logged, the rest go on (its savepoint rolled back).
 */
static void monitor_begin(PGconn *conn, const struct config *cfg, const char *tz)
{
	simple(conn, "BEGIN READ ONLY");
	char st[24];
	snprintf(st, sizeof(st), "%lld", cfg->monitor_statement_timeout_ms);
	const char *p[2] = {st, tz ? tz : ""}, *why;
	PGresult *r = q(conn,
	                TAG "SELECT set_config('statement_timeout', $1, true),"
	                    " set_config('lock_timeout', '2000', true),"
	                    " set_config('idle_in_transaction_session_timeout', '60000', true),"
	                    " CASE WHEN $2 <> '' THEN set_config('TimeZone', $2, true) END",
	                2, p, &why);
	if (!r)
		log_warnx("collect_settings", "cannot SET LOCAL the monitor's timeouts: %s", why);
	PQclear(r);
}

/*
 * The monitor's connection to the monitored database (connect_timeout, application_name).
 * Session mode (MONITORED_DATABASE_POOLING): the timeouts are startup options. Transaction
 * mode: no options (a transaction-mode pooler refuses them); one read-only transaction is
 * open instead (monitor_begin: tz is the TimeZone it sets, or NULL), monitor_end() commits.
 */
static PGconn *monitor_connect(const struct config *cfg, const char *tz)
{
	int pooled = cfg->monitored_database_pooling == POOLING_TRANSACTION;
	char ct[24], opts[160];
	snprintf(ct, sizeof(ct), "%lld", cfg->monitor_connect_timeout_s);
	snprintf(opts, sizeof(opts),
	         "-c statement_timeout=%lld -c lock_timeout=2000 "
	         "-c idle_in_transaction_session_timeout=60000",
	         cfg->monitor_statement_timeout_ms);
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
	                      pooled ? NULL : "options", NULL};
	const char *vals[] = {cfg->monitored_database_url, ct, cfg->monitor_application_name,
	                      pooled ? NULL : opts, NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (pooled && conn && PQstatus(conn) == CONNECTION_OK)
		monitor_begin(conn, cfg, tz);
	return conn;
}

/* Commit what monitor_connect() opened (transaction mode), then close. NULL is fine. */
static void monitor_end(PGconn *conn)
{
	if (conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
		simple(conn, "COMMIT");
	PQfinish(conn);
}

int collect_orders_between(const struct config *cfg, long long from, long long to,
                           long long prev_from, double *now_count, double *prev_count, char **err)
{
	PGconn *conn = monitor_connect(cfg, NULL);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		*err = one_line(conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return -1;
	}
	char *table, *col;
	orders_identifiers(conn, cfg, &table, &col);
	char *sql = xasprintf(TAG "SELECT count(*) FILTER (WHERE %1$s >= to_timestamp($1::float8)),"
	                          " count(*) FILTER (WHERE %1$s < to_timestamp($1::float8))"
	                          " FROM %2$s WHERE %1$s >= to_timestamp($3::float8)"
	                          " AND %1$s < to_timestamp($2::float8)",
	                      col, table);
	free(table);
	free(col);
	char f[24], t[24], pf[24];
	snprintf(f, sizeof(f), "%lld", from);
	snprintf(t, sizeof(t), "%lld", to);
	snprintf(pf, sizeof(pf), "%lld", prev_from);
	const char *p[3] = {f, t, pf}, *why;
	PGresult *r = q(conn, sql, 3, p, &why);
	free(sql);
	int ret = -1;
	if (r) {
		*now_count = num(r, 0, 0);
		*prev_count = num(r, 0, 1);
		ret = 0;
	} else {
		*err = xstrdup(why);
	}
	PQclear(r);
	monitor_end(conn);
	return ret;
}

/* The monitored database could not be reached: why, its usual SQLSTATE, database_up 0. */
static void record_unreachable(PGconn *conn, struct collection *c)
{
	c->reachable = 0;
	c->error = one_line(conn ? PQerrorMessage(conn) : "out of memory");
	/* libpq gives no SQLSTATE for connection failures; recognise the usual ones. */
	const char *st = "08006";
	if (strstr(c->error, "password authentication failed") ||
	    strstr(c->error, "no pg_hba.conf entry") || strstr(c->error, "authentication failed"))
		st = "28P01";
	else if (strstr(c->error, "does not exist"))
		st = "3D000";
	else if (strstr(c->error, "too many"))
		st = "53300";
	else if (strstr(c->error, "starting up") || strstr(c->error, "shutting down") ||
	         strstr(c->error, "recovery"))
		st = "57P03";
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", st);
	samples_add(&c->samples, M_DATABASE_UP, "", 0, c->error);
	c->evaluated[M_DATABASE_UP] = 1;
}

void collect_run(const struct config *cfg, struct collection *c)
{
	int pooled = cfg->monitored_database_pooling == POOLING_TRANSACTION;
	PGconn *conn = monitor_connect(cfg, cfg->timezone);
	const char *why;
	PGresult *r = NULL;

	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		record_unreachable(conn, c);
		goto out;
	}
	const char *tzp[1] = {cfg->timezone};
	r = pooled ? NULL : q(conn, TAG "SELECT set_config('TimeZone', $1, false)", 1, tzp, &why);
	if (!pooled && !r)
		log_warnx("collect_timezone", "cannot set TimeZone on the monitored session: %s",
		          why);
	PQclear(r);
	/* M1: the probe, before the session turns read-only. */
	r = q(conn,
	      TAG "SELECT pg_is_in_recovery(),"
	          " extract(epoch FROM pg_postmaster_start_time())::bigint,"
	          " extract(epoch FROM now() - pg_postmaster_start_time()),"
	          " current_setting('default_transaction_read_only'), current_database(),"
	          " pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')",
	      0, NULL, &why);
	if (!r) {
		c->reachable = 0;
		c->error = xasprintf("probe failed: %s", why);
		samples_add(&c->samples, M_DATABASE_UP, "", 0, c->error);
		c->evaluated[M_DATABASE_UP] = 1;
		goto out;
	}
	c->reachable = 1;
	int in_recovery = strcmp(str(r, 0, 0), "t") == 0;
	c->counters.postmaster_start = strtoll(str(r, 0, 1), NULL, 10);
	c->uptime_s = num(r, 0, 2);
	int read_only = strcmp(str(r, 0, 3), "on") == 0;
	c->database = xstrdup(str(r, 0, 4));
	int can_read_stats = strcmp(str(r, 0, 5), "t") == 0;
	PQclear(r);
	samples_add(&c->samples, M_DATABASE_UP, "", 1, in_recovery ? "standby" : "primary");
	samples_add(&c->samples, M_READ_ONLY, "", read_only,
	            read_only ? "default_transaction_read_only is on: writes are refused" : NULL);
	c->evaluated[M_DATABASE_UP] = c->evaluated[M_READ_ONLY] = 1;

	/* In transaction mode the transaction is read-only already (monitor_begin). */
	r = pooled ? NULL
	           : q(conn, TAG "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", 0, NULL,
	               &why);
	if (!pooled && !r)
		log_warnx("collect_read_only", "cannot make the session read-only: %s", why);
	PQclear(r);

	collect_orders(conn, cfg, c);
	collect_size(conn, c);
	collect_connections(conn, c);
	collect_counters(conn, c);
	collect_sessions(conn, c, can_read_stats);
	collect_wraparound(conn, c);
	collect_dead_tuples(conn, c);
	collect_replication(conn, c, in_recovery);
	collect_sequences(conn, c);
	collect_statements(conn, c);
out:
	monitor_end(conn);
}
