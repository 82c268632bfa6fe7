#include <math.h>
#include <string.h>

#include "core/metrics.h"
#include "core/util.h"

#define H DIR_HIGHER_IS_WORSE
#define L DIR_LOWER_IS_WORSE
#define N DIR_NONE

/*
 * Defaults follow ../shared/reference/postgres-metrics.md ("proposed" column)
 * unless the comment says otherwise.
 */
const struct metric_def metric_defs[M_COUNT] = {
    [M_DATABASE_UP] = {"database_up", "bool", L, NAN, 1,
                       "1 when the monitored database accepts the monitor's login and a query"},
    [M_READ_ONLY] = {"read_only", "bool", H, NAN, 1,
                     "1 when default_transaction_read_only is on (disk-full guard)"},
    [M_RESTARTED] = {"restarted", "bool", H, 1, NAN,
                     "1 when the server started after the previous check"},
    [M_ORDERS_TODAY] = {"orders_today", "count", N, NAN, NAN, "orders so far today"},
    [M_ORDERS_SAME_TIME_LAST_WEEK] = {"orders_same_time_last_week", "count", N, NAN, NAN,
                                      "orders on the same weekday last week, up to this time"},
    [M_ORDERS_TODAY_DROP_PCT] = {"orders_today_drop_pct", "pct", H, 40, 70,
                                 "drop of today's orders against the same time last week"},
    [M_ORDERS_YESTERDAY] = {"orders_yesterday", "count", N, NAN, NAN, "orders yesterday"},
    [M_ORDERS_YESTERDAY_LAST_WEEK] = {"orders_yesterday_last_week", "count", N, NAN, NAN,
                                      "orders 8 days ago (yesterday's weekday last week)"},
    [M_ORDERS_YESTERDAY_DROP_PCT] = {"orders_yesterday_drop_pct", "pct", H, 40, 70,
                                     "drop of yesterday's orders against 8 days ago"},
    [M_DATABASE_SIZE_BYTES] = {"database_size_bytes", "bytes", N, NAN, NAN,
                               "pg_database_size of the monitored database"},
    [M_DATABASE_GROWTH_BYTES_PER_DAY] = {"database_growth_bytes_per_day", "bytes", N, NAN, NAN,
                                         "least-squares growth over the stored size samples"},
    [M_DATABASE_SIZE_PCT] = {"database_size_pct", "pct", H, 80, 90,
                             "size against DATABASE_SIZE_LIMIT_MB"},
    [M_DATABASE_DAYS_UNTIL_FULL] = {"database_days_until_full", "days", L, 14, 3,
                                    "days until DATABASE_SIZE_LIMIT_MB at the current growth"},
    [M_CONNECTIONS] = {"connections", "count", N, NAN, NAN, "client backends"},
    [M_CONNECTIONS_USED_PCT] = {"connections_used_pct", "pct", H, 80, 95,
                                "client backends against max_connections - reserved"},
    [M_CACHE_HIT_RATIO_PCT] = {"cache_hit_ratio_pct", "pct", L, 95, 90,
                               "buffer cache hits since the last check"},
    [M_ROLLBACK_RATIO_PCT] = {"rollback_ratio_pct", "pct", H, 10, 25,
                              "rolled-back transactions since the last check"},
    [M_DEADLOCKS] = {"deadlocks", "count", H, 1, 10, "deadlocks since the last check"},
    [M_LONG_RUNNING_QUERY_SECONDS] = {"long_running_query_seconds", "seconds", H, 300, 1800,
                                      "longest running active statement"},
    [M_IDLE_IN_TRANSACTION_SECONDS] = {"idle_in_transaction_seconds", "seconds", H, 300, 1800,
                                       "longest idle-in-transaction session"},
    /* Reference: warn when a transaction is older than 1 h; critical is ours (4 h). */
    [M_OLDEST_TRANSACTION_SECONDS] = {"oldest_transaction_seconds", "seconds", H, 3600, 14400,
                                      "age of the oldest open transaction"},
    /* Reference: critical when more than 5 sessions are blocked. */
    [M_BLOCKED_SESSIONS] = {"blocked_sessions", "count", H, NAN, 6,
                            "sessions waiting on a lock held by another"},
    [M_BLOCKED_SESSION_SECONDS] = {"blocked_session_seconds", "seconds", H, 60, 120,
                                   "longest wait of a blocked session"},
    [M_XID_AGE] = {"xid_age", "xids", H, 400000000, 1200000000,
                   "age(datfrozenxid), transaction-ID wraparound"},
    [M_MULTIXACT_AGE] = {"multixact_age", "xids", H, 400000000, 1200000000,
                         "mxid_age(datminmxid), multixact wraparound"},
    [M_DEAD_TUPLES_RATIO] = {"dead_tuples_ratio", "ratio", H, 2, 10,
                             "dead tuples against the table's autovacuum trigger"},
    [M_REPLICATION_LAG_SECONDS] = {"replication_lag_seconds", "seconds", H, 60, 900,
                                   "replay lag of a standby"},
    /* Reference: warn on an inactive slot retaining > 1 GB; critical is ours (10 GB). */
    [M_REPLICATION_SLOT_RETAINED_BYTES] = {"replication_slot_retained_bytes", "bytes", H,
                                           1073741824.0, 10737418240.0,
                                           "WAL retained by an inactive replication slot"},
    [M_REPLICATION_SLOT_LOST] = {"replication_slot_lost", "bool", H, NAN, 1,
                                 "1 when a slot's wal_status is unreserved or lost"},
    [M_SEQUENCE_USED_PCT] = {"sequence_used_pct", "pct", H, 75, 90,
                             "share of a sequence (or its column type) already used"},
    /* Reference: critical above 1 s with >= 100 calls; warning is ours (200 ms). */
    [M_SLOWEST_QUERY_MEAN_MS] = {"slowest_query_mean_ms", "ms", H, 200, 1000,
                                 "highest mean time of a statement since the last check"},
};

#undef H
#undef L
#undef N

void thresholds_defaults(struct thresholds *t)
{
	for (int i = 0; i < M_COUNT; i++) {
		t->warning[i] = metric_defs[i].warning;
		t->critical[i] = metric_defs[i].critical;
	}
}

int metric_by_name(const char *name)
{
	for (int i = 0; i < M_COUNT; i++)
		if (strcmp(metric_defs[i].name, name) == 0)
			return i;
	return -1;
}

int metric_has_thresholds(enum metric_id m)
{
	return metric_defs[m].dir != DIR_NONE;
}

enum verdict metric_evaluate(const struct thresholds *t, enum metric_id m, double value)
{
	double w = t->warning[m], c = t->critical[m];
	switch (metric_defs[m].dir) {
	case DIR_HIGHER_IS_WORSE:
		if (!isnan(c) && value >= c)
			return V_CRITICAL;
		if (!isnan(w) && value >= w)
			return V_WARNING;
		return V_OK;
	case DIR_LOWER_IS_WORSE:
		if (!isnan(c) && value < c)
			return V_CRITICAL;
		if (!isnan(w) && value < w)
			return V_WARNING;
		return V_OK;
	case DIR_NONE:
		break;
	}
	return V_OK;
}

int thresholds_check_pair(enum metric_id m, double w, double c, const char **err)
{
	if (!metric_has_thresholds(m)) {
		*err = "has no thresholds";
		return -1;
	}
	if (isnan(w) || isnan(c))
		return 0;
	if (metric_defs[m].dir == DIR_HIGHER_IS_WORSE && w > c) {
		*err = "warning must not be above critical (higher is worse)";
		return -1;
	}
	if (metric_defs[m].dir == DIR_LOWER_IS_WORSE && w < c) {
		*err = "warning must not be below critical (lower is worse)";
		return -1;
	}
	return 0;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case V_OK:
		return "ok";
	case V_WARNING:
		return "warning";
	case V_CRITICAL:
		return "critical";
	case V_UNAVAILABLE:
		return "unavailable";
	case V_SKIPPED:
		return "skipped";
	}
	return "unknown";
}
