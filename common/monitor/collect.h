/*
 * collect.h: read the monitored database once and turn what it says into
 * samples. One session per check: connect_timeout, statement_timeout,
 * lock_timeout and application_name set at connect; read-only after the
 * first probe; every query tagged so it can be told apart in
 * pg_stat_statements. With MONITORED_DATABASE_POOLING=transaction (a
 * transaction-mode pooler in front) nothing is set for the session: the
 * check is one BEGIN READ ONLY transaction with the timeouts and TimeZone SET
 * LOCAL, each query under a savepoint (one that fails is rolled back to it and
 * the others still run), committed at the end; collect_orders_between() alike.
 *
 * A metric that cannot be read (missing extension, missing privilege, a
 * timeout) becomes an "unavailable" sample with the reason, never a zero.
 * An unreachable database leaves reachable = 0 and the libpq reason in error.
 * The caller owns the collection: collection_release() frees it.
 */
#ifndef COLLECT_H
#define COLLECT_H

#include <stddef.h>

#include "core/config.h"
#include "core/metrics.h"

struct sample {
	enum metric_id metric;
	char *target; /* "" for the database as a whole */
	double value;
	int available; /* 0: value meaningless, detail says why */
	int skipped;   /* 1: value known (maybe) but not judged, detail says why */
	char *detail;
	enum verdict verdict; /* filled by the evaluation */
};

struct samples {
	struct sample *v;
	size_t n, cap;
};

void samples_add(struct samples *s, enum metric_id m, const char *target, double value,
                 const char *detail);
void samples_unavailable(struct samples *s, enum metric_id m, const char *target,
                         const char *reason);
void samples_skipped(struct samples *s, enum metric_id m, const char *target, double value,
                     const char *reason);
void samples_release(struct samples *s);

/* Cumulative counters of pg_stat_database, kept to subtract at the next check. */
struct counters {
	int present;
	long long postmaster_start; /* epoch seconds */
	char stats_reset[64];       /* "" when NULL */
	long long xact_commit, xact_rollback, blks_read, blks_hit, deadlocks;
};

/* One pg_stat_statements row: key is userid:dbid:toplevel:queryid. */
struct stmt {
	char *key;
	double calls, total_ms;
	char *query; /* may be NULL (from stored history) */
};

struct stmt_set {
	int available;
	char *reason;
	struct stmt *v;
	size_t n, cap;
};

void stmt_set_add(struct stmt_set *s, const char *key, double calls, double total_ms,
                  const char *query);
void stmt_set_release(struct stmt_set *s);

struct collection {
	int reachable;
	char *error;      /* libpq reason when unreachable */
	char sqlstate[6]; /* of the connection failure, when known */
	char *database;   /* current_database() */
	double uptime_s;
	struct samples samples;
	struct counters counters;
	struct stmt_set stmts;
	int evaluated[M_COUNT]; /* 1 when the metric was read this time (even with no rows) */
};

void collection_init(struct collection *c);
void collection_release(struct collection *c);

/* Read the monitored database described by cfg. Never fails: see reachable. */
void collect_run(const struct config *cfg, struct collection *c);

/*
 * Orders (ORDERS_TABLE) in [from, to) and in [prev_from, from), epoch seconds,
 * on a session of its own. 0, or -1 with *err (caller frees).
 */
int collect_orders_between(const struct config *cfg, long long from, long long to,
                           long long prev_from, double *now_count, double *prev_count, char **err);

#endif
