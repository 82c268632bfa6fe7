/*
 * lease.h: a job that must run once at a time, held as a row of job_leases
 * (sql/010_job_leases.sql) rather than a session advisory lock, for a state
 * database reached through a transaction-mode pooler (DATABASE_POOLING=
 * transaction), where no session state outlives a transaction.
 *
 * A lease is taken with one UPDATE that succeeds only when the row's until has
 * passed, and gets a random token; renewing and releasing match that token, so
 * a holder whose lease expired and was taken by another cannot extend or free
 * the other's. A holder that dies lets the lease go when until passes. Every
 * statement is one autocommit UPDATE: nothing is held between them.
 *
 * The caller owns struct lease (no heap). Functions return 1 (held), 0 (held
 * by another, or lost), -1 (database error: db->err).
 */
#ifndef LEASE_H
#define LEASE_H

#include "db/db.h"

struct lease {
	char name[32];
	char token[33]; /* 16 random bytes in hex; "" when not held */
};

/* Take the lease name (a row of job_leases) for seconds when it is free or expired. */
int lease_take(struct db *db, struct lease *l, const char *name, int seconds);
/* Extend a held lease to now + seconds. 0 when it is no longer ours (expired, taken). */
int lease_renew(struct db *db, struct lease *l, int seconds);
/* Free a held lease (until in the past) if it is still ours; forget the token. */
void lease_release(struct db *db, struct lease *l);

#endif
