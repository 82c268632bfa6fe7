/*
 * migrate.h: apply the numbered migrations of sql/ (embedded in the binary at
 * build time) to the state database, in order, each in its own transaction,
 * recorded in schema_migrations.
 *
 * Each transaction first takes a transaction-level advisory lock, then looks
 * whether its migration is recorded, so concurrent runs (or a run through a
 * transaction-mode pooler, where a session lock would not hold) apply each
 * migration once: the second waits for the first's commit and then finds it
 * done. A migration is applied only after every earlier one was found
 * committed, so two runs may take turns between migrations but never apply
 * one out of order or on a half-migrated schema.
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
