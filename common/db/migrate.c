#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "db/migrate.h"
#include "core/util.h"

#define MIGRATE_LOCK_KEY "7797108111110991042"

static int exec_script(struct db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(db->err, sizeof(db->err), "%s",
		         res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/* Roll back, keeping db->err (the reason) as it was. */
static void rollback_keep_err(struct db *db)
{
	char saved[sizeof(db->err)];
	memcpy(saved, db->err, sizeof(saved));
	db_rollback(db);
	memcpy(db->err, saved, sizeof(saved));
}

/*
 * Open a transaction holding the migration lock (a transaction-level advisory
 * lock: nothing outlives the transaction, so it works through a transaction-mode
 * pooler too) with schema_migrations there. 0 / -1.
 */
static int begin_locked(struct db *db)
{
	if (db_begin(db) < 0)
		return -1;
	if (db_exec(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) < 0 ||
	    db_exec(db,
	            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
	            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
	            0, NULL) < 0) {
		rollback_keep_err(db);
		return -1;
	}
	return 0;
}

/* Apply m unless it is recorded: 1 applied, 0 there already, -1 failed (rolled back). */
static int apply_one(struct db *db, const struct migration *m)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", m->version);
	const char *p[2] = {v, m->name};
	if (begin_locked(db) < 0)
		return -1;
	PGresult *res =
	    db_query(db, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, p);
	int done = res && PQntuples(res) > 0;
	PQclear(res);
	if (!res || done) {
		if (res)
			db_rollback(db);
		else
			rollback_keep_err(db);
		return res ? 0 : -1;
	}
	if (exec_script(db, m->sql) < 0 ||
	    db_exec(db, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
	            p) < 0) {
		rollback_keep_err(db);
		log_error("migrate_failed", "migration %03d_%s failed: %s", m->version, m->name,
		          db->err);
		return -1;
	}
	if (db_commit(db) < 0)
		return -1;
	log_info("migrate_applied", "applied migration %03d_%s", m->version, m->name);
	return 1;
}

int migrate_apply(struct db *db)
{
	int applied = 0;
	if (db_ensure(db) < 0)
		return -1;
	for (int i = 0; i < migration_count; i++) {
		int r = apply_one(db, &migrations[i]);
		if (r < 0)
			return -1;
		applied += r;
	}
	return applied;
}
