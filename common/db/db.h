/*
 * db.h: the libpq layer. One connection per process, made lazily and
 * re-made when it breaks; parameterised statements only (PQexecParams);
 * explicit transactions.
 *
 * Every statement is prepared on first use and executed by name afterwards
 * (up to DB_STMT_CACHE distinct texts per connection; the rest run unprepared),
 * so the server parses and plans it once per connection, not once per call.
 *
 * A struct db is caller-owned: db_init() copies the conninfo, db_release()
 * closes the connection. Results returned by db_query() belong to the caller
 * (PQclear). On failure functions return NULL/-1 and leave the error text in
 * db->err (and its SQLSTATE in db->sqlstate) for the caller to report.
 */
#ifndef DB_H
#define DB_H

#include <libpq-fe.h>

#include "core/buf.h"

#define DB_STMT_CACHE 128

/* A statement prepared on the current connection (named s<index>), by its text. */
struct db_stmt {
	unsigned long hash;
	char *sql;
};

struct db {
	PGconn *conn;
	char *conninfo;
	const char
	    *options; /* server options of each connection ("-c lock_timeout=200ms"), or NULL */
	char err[512];
	char sqlstate[6];
	int in_tx;
	struct db_stmt stmts[DB_STMT_CACHE]; /* parsed and planned once per connection */
	int nstmts;
};

void db_init(struct db *db, const char *conninfo);
void db_release(struct db *db);

/* Connect if not connected or if the connection went bad. 0 / -1. */
int db_ensure(struct db *db);

/*
 * Run one statement with text parameters (params may contain NULLs for SQL
 * NULL). Returns the result (PGRES_COMMAND_OK or PGRES_TUPLES_OK) or NULL.
 * When idempotent is set and the connection was broken, reconnects and
 * retries once (never inside a transaction).
 */
PGresult *db_query(struct db *db, const char *sql, int nparams, const char *const *params);
PGresult *db_query_idem(struct db *db, const char *sql, int nparams, const char *const *params);
/* Same, discarding the result. 0 / -1. */
int db_exec(struct db *db, const char *sql, int nparams, const char *const *params);

int db_begin(struct db *db);
int db_commit(struct db *db);
/* Rolls back if a transaction is open; safe to call always. */
void db_rollback(struct db *db);

/*
 * A text[] parameter: db_array_push() appends s (len bytes, up to a NUL) as
 * one quoted element of the array literal being built in arr (an empty buf to
 * start); db_array_end() closes it ("{}" when nothing was pushed). -1 when
 * arr's limit is reached.
 */
int db_array_push(struct buf *arr, const char *s, size_t len);
int db_array_end(struct buf *arr);

/* Value of row r, column c, or NULL for SQL NULL. */
const char *db_value(const PGresult *res, int r, int c);

#endif
