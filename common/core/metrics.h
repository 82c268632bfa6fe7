/*
 * metrics.h: the catalogue of metrics the check collects, their default
 * thresholds, and the pure evaluation of a value against them.
 *
 * A metric is a number about the monitored database, optionally about one
 * object in it (its "target": a table, a sequence, a replication slot).
 * Thresholds are per metric; NAN means "no threshold at that level".
 * Higher-is-worse metrics fire when value >= threshold, lower-is-worse
 * metrics fire when value < threshold.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

enum metric_id {
	M_DATABASE_UP,
	M_READ_ONLY,
	M_RESTARTED,
	M_ORDERS_TODAY,
	M_ORDERS_SAME_TIME_LAST_WEEK,
	M_ORDERS_TODAY_DROP_PCT,
	M_ORDERS_YESTERDAY,
	M_ORDERS_YESTERDAY_LAST_WEEK,
	M_ORDERS_YESTERDAY_DROP_PCT,
	M_DATABASE_SIZE_BYTES,
	M_DATABASE_GROWTH_BYTES_PER_DAY,
	M_DATABASE_SIZE_PCT,
	M_DATABASE_DAYS_UNTIL_FULL,
	M_CONNECTIONS,
	M_CONNECTIONS_USED_PCT,
	M_CACHE_HIT_RATIO_PCT,
	M_ROLLBACK_RATIO_PCT,
	M_DEADLOCKS,
	M_LONG_RUNNING_QUERY_SECONDS,
	M_IDLE_IN_TRANSACTION_SECONDS,
	M_OLDEST_TRANSACTION_SECONDS,
	M_BLOCKED_SESSIONS,
	M_BLOCKED_SESSION_SECONDS,
	M_XID_AGE,
	M_MULTIXACT_AGE,
	M_DEAD_TUPLES_RATIO,
	M_REPLICATION_LAG_SECONDS,
	M_REPLICATION_SLOT_RETAINED_BYTES,
	M_REPLICATION_SLOT_LOST,
	M_SEQUENCE_USED_PCT,
	M_SLOWEST_QUERY_MEAN_MS,
	M_COUNT
};

enum metric_dir { DIR_NONE, DIR_HIGHER_IS_WORSE, DIR_LOWER_IS_WORSE };

enum verdict { V_OK, V_WARNING, V_CRITICAL, V_UNAVAILABLE, V_SKIPPED };

struct metric_def {
	const char *name; /* snake_case, stable: used in alerts, settings, API */
	const char *unit; /* "count", "pct", "seconds", "bytes", "ms", "bool", ... */
	enum metric_dir dir;
	double warning; /* default; NAN = none */
	double critical;
	const char *help;
};

extern const struct metric_def metric_defs[M_COUNT];

/* Thresholds in force: starts from the defaults, then config and settings. */
struct thresholds {
	double warning[M_COUNT];
	double critical[M_COUNT];
};

void thresholds_defaults(struct thresholds *t);
/* Index of a metric by name, or -1. */
int metric_by_name(const char *name);
/* 1 if the metric has a direction, so thresholds may be set for it. */
int metric_has_thresholds(enum metric_id m);
/* Verdict of value against the thresholds (V_OK, V_WARNING or V_CRITICAL). */
enum verdict metric_evaluate(const struct thresholds *t, enum metric_id m, double value);
/* 0 if warning/critical are consistent with the direction (NAN allowed), else -1 and *err. */
int thresholds_check_pair(enum metric_id m, double warning, double critical, const char **err);

const char *verdict_name(enum verdict v);

#endif
