/*
 * db.h: the libpq layer. One connection per process, made lazily and
 * re-made when it breaks; parameterised statements only (PQexecParams);
 * explicit transactions.
 *
 * In session mode (direct, or a session-mode pooler) every statement is
 * prepared on first use and executed by name afterwards (up to DB_STMT_CACHE
 * distinct texts per connection; the rest run unprepared), so the server
 * parses and plans it once per connection, not once per call. In transaction
 * mode (a transaction-mode pooler: each transaction may run on another server
 * connection) nothing relies on session state: every statement runs unnamed
 * (PQexecParams), no `options` startup parameter is sent, and lock_timeout is
 * set for the transaction by db_begin() instead (set_config(.., true), the
 * function form of SET LOCAL).
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
#include "core/config.h"

#define DB_STMT_CACHE 128

/* A statement prepared on the current connection (named s<index>), by its text. */
struct db_stmt {
	unsigned long hash;
	char *sql;
};

struct db {
	PGconn *conn;
	char *conninfo;
	int pooling; /* enum cfg_pooling: POOLING_TRANSACTION = no session state */
	/* How long a statement waits for a lock ("200ms"), or NULL (the server's): a startup
	 * option of each connection in session mode, SET LOCAL by db_begin() in transaction
	 * mode (statements outside a transaction then wait as long as the server says). */
	const char *lock_timeout;
	char err[512];
	char sqlstate[6];
	int in_tx;
	struct db_stmt stmts[DB_STMT_CACHE]; /* parsed and planned once per connection */
	int nstmts;
};

/* pooling: POOLING_SESSION or POOLING_TRANSACTION (the config's DATABASE_POOLING). */
void db_init(struct db *db, const char *conninfo, int pooling);
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

/* BEGIN; in transaction mode followed by SET LOCAL lock_timeout when db->lock_timeout. */
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
