/*
 * migrate.h: apply the numbered migrations of sql/ (embedded in the binary at
 * build time) to the state database, each in its own transaction, recorded
 * in schema_migrations. Concurrent runs serialise on an advisory lock.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "db/db.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const int migration_count;

/* Apply what is missing. Returns the number applied, or -1 (db->err says why). */
int migrate_apply(struct db *db);

#endif
