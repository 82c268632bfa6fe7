#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "core/log.h"
#include "core/util.h"

void db_init(struct db *db, const char *conninfo, int pooling)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = xstrdup(conninfo);
	db->pooling = pooling;
}

static void stmts_forget(struct db *db)
{
	for (int i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	db->nstmts = 0;
}

void db_release(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	stmts_forget(db);
	free(db->conninfo);
	db->conninfo = NULL;
}

static void set_err(struct db *db, const char *msg, const char *state)
{
	snprintf(db->err, sizeof(db->err), "%s", msg ? msg : "unknown error");
	/* libpq messages end with a newline; keep one line. */
	size_t n = strlen(db->err);
	while (n > 0 && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
	for (char *p = db->err; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
}

int db_ensure(struct db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->conn) {
		log_warnx("db_reconnect", "state database connection lost; reconnecting");
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->in_tx = 0;
	stmts_forget(db); /* prepared statements belong to the old connection */
	/* A transaction-mode pooler refuses the options startup parameter (and would not keep
	 * it per transaction anyway): db_begin() sets lock_timeout there. */
	char options[64];
	int with_options = db->lock_timeout && db->pooling != POOLING_TRANSACTION;
	if (with_options)
		snprintf(options, sizeof(options), "-c lock_timeout=%s", db->lock_timeout);
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
	                      with_options ? "options" : NULL, NULL};
	const char *vals[] = {db->conninfo, "5", "whatsapp_monitor_state",
	                      with_options ? options : NULL, NULL};
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		set_err(db, db->conn ? PQerrorMessage(db->conn) : "out of memory", "08006");
		if (db->conn)
			PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	db->err[0] = '\0';
	db->sqlstate[0] = '\0';
	return 0;
}

/*
 * Execute sql: in transaction mode always unnamed (a named statement would live
 * on one server connection of the pooler's, not on ours). In session mode by
 * name when it was prepared on this connection, preparing it first when there
 * is room in the cache, else unprepared. A statement that cannot be prepared (a
 * syntax error, say) runs unprepared, so the caller sees the server's own error.
 */
static PGresult *exec(struct db *db, const char *sql, int nparams, const char *const *params)
{
	if (db->pooling == POOLING_TRANSACTION)
		return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	unsigned long h = 5381;
	for (const char *p = sql; *p; p++)
		h = h * 33 + (unsigned char)*p;
	char name[16];
	for (int i = 0; i < db->nstmts; i++)
		if (db->stmts[i].hash == h && strcmp(db->stmts[i].sql, sql) == 0) {
			snprintf(name, sizeof(name), "s%d", i);
			return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
		}
	if (db->nstmts < DB_STMT_CACHE) {
		snprintf(name, sizeof(name), "s%d", db->nstmts);
		PGresult *prep = PQprepare(db->conn, name, sql, nparams, NULL);
		int ok = prep && PQresultStatus(prep) == PGRES_COMMAND_OK;
		PQclear(prep);
		if (ok) {
			db->stmts[db->nstmts].hash = h;
			db->stmts[db->nstmts].sql = xstrdup(sql);
			db->nstmts++;
			return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
		}
		if (PQstatus(db->conn) != CONNECTION_OK)
			return NULL;
	}
	return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

static PGresult *run(struct db *db, const char *sql, int nparams, const char *const *params,
                     int idempotent)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_ensure(db) < 0)
			return NULL;
		PGresult *res = exec(db, sql, nparams, params);
		ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			db->err[0] = '\0';
			db->sqlstate[0] = '\0';
			return res;
		}
		set_err(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn),
		        res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
		PQclear(res);
		int broken = PQstatus(db->conn) != CONNECTION_OK;
		if (broken) {
			db->in_tx = 0;
			if (!db->sqlstate[0])
				snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		}
		if (!(broken && idempotent && attempt == 0))
			return NULL;
		log_warnx("db_retry", "connection broke during an idempotent statement; retrying");
	}
	return NULL;
}

PGresult *db_query(struct db *db, const char *sql, int nparams, const char *const *params)
{
	return run(db, sql, nparams, params, 0);
}

PGresult *db_query_idem(struct db *db, const char *sql, int nparams, const char *const *params)
{
	return run(db, sql, nparams, params, !db->in_tx);
}

int db_exec(struct db *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_query(db, sql, nparams, params);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}

int db_begin(struct db *db)
{
	if (db_exec(db, "BEGIN", 0, NULL) < 0)
		return -1;
	db->in_tx = 1;
	if (db->pooling == POOLING_TRANSACTION && db->lock_timeout) {
		const char *p[1] = {db->lock_timeout};
		if (db_exec(db, "SELECT set_config('lock_timeout', $1, true)", 1, p) < 0) {
			char saved[sizeof(db->err)];
			memcpy(saved, db->err, sizeof(saved));
			db_rollback(db);
			memcpy(db->err, saved, sizeof(saved));
			return -1;
		}
	}
	return 0;
}

int db_commit(struct db *db)
{
	int r = db_exec(db, "COMMIT", 0, NULL);
	db->in_tx = 0;
	return r;
}

void db_rollback(struct db *db)
{
	if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE &&
	    PQstatus(db->conn) == CONNECTION_OK) {
		PGresult *res = PQexec(db->conn, "ROLLBACK");
		PQclear(res);
	}
	db->in_tx = 0;
}

const char *db_value(const PGresult *res, int r, int c)
{
	if (PQgetisnull(res, r, c))
		return NULL;
	return PQgetvalue(res, r, c);
}

int db_array_push(struct buf *arr, const char *s, size_t len)
{
	if (buf_puts(arr, arr->len ? ",\"" : "{\"") < 0)
		return -1;
	const char *end = s + len, *run = s;
	for (const char *p = s; p < end && *p; p++) {
		if (*p != '"' && *p != '\\')
			continue;
		if (buf_append(arr, run, (size_t)(p - run)) < 0 || buf_append(arr, "\\", 1) < 0)
			return -1;
		run = p;
	}
	size_t rest = strnlen(run, (size_t)(end - run));
	return buf_append(arr, run, rest) < 0 || buf_puts(arr, "\"") < 0 ? -1 : 0;
}

int db_array_end(struct buf *arr)
{
	return buf_puts(arr, arr->len ? "}" : "{}");
}
