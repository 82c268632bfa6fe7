/*
 * delta.h: pure arithmetic between two checks: counter deltas with reset
 * detection, pg_stat_statements interval means, and the size forecast.
 */
#ifndef DELTA_H
#define DELTA_H

#include <stddef.h>

#include "monitor/collect.h"

struct delta {
	int valid;
	char reason[160]; /* why not valid */
	long long commit, rollback, blks_read, blks_hit, deadlocks;
};

/*
 * cur - prev, valid only when both are present, the server did not restart
 * (postmaster start time unchanged), stats_reset is unchanged and no counter
 * went down. Otherwise valid = 0 and reason says which.
 */
void counters_delta(const struct counters *prev, const struct counters *cur, struct delta *d);

struct stmt_delta {
	const struct stmt *stmt; /* the current row */
	double calls, total_ms, mean_ms;
};

/*
 * Interval figures of statements present in both sets whose calls did not go
 * down, with at least min_calls calls in the interval; written to out (up to
 * max) sorted by mean time, slowest first. Returns how many were written.
 */
size_t stmt_deltas(const struct stmt_set *prev, const struct stmt_set *cur, double min_calls,
                   struct stmt_delta *out, size_t max);

/*
 * Least-squares slope of y over x (x in days). -1 when fewer than two points
 * or all x equal; else 0 and *slope.
 */
int linear_slope(const double *x, const double *y, size_t n, double *slope);

#endif
