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

int migrate_apply(struct db *db)
{
	int applied = 0;
	if (db_ensure(db) < 0)
		return -1;
	if (db_exec(db,
	            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
	            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
	            0, NULL) < 0)
		return -1;
	if (db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) < 0)
		return -1;
	for (int i = 0; i < migration_count; i++) {
		const struct migration *m = &migrations[i];
		char v[16];
		snprintf(v, sizeof(v), "%d", m->version);
		const char *p[2] = {v, m->name};
		PGresult *res =
		    db_query(db, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, p);
		if (!res)
			goto fail;
		int done = PQntuples(res) > 0;
		PQclear(res);
		if (done)
			continue;
		if (db_begin(db) < 0)
			goto fail;
		if (exec_script(db, m->sql) < 0 ||
		    db_exec(db,
		            "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
		            p) < 0) {
			char saved[sizeof(db->err)];
			memcpy(saved, db->err, sizeof(saved));
			db_rollback(db);
			memcpy(db->err, saved, sizeof(saved));
			log_error("migrate_failed", "migration %03d_%s failed: %s", m->version,
			          m->name, db->err);
			goto fail;
		}
		if (db_commit(db) < 0)
			goto fail;
		log_info("migrate_applied", "applied migration %03d_%s", m->version, m->name);
		applied++;
	}
	db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL);
	return applied;
fail:
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
		PGresult *r = PQexec(db->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
		PQclear(r);
	}
	return -1;
}
