/*
 * exposition.h: GET /monitoring/metrics?format=prometheus, the service's
 * numbers in Prometheus' text exposition format (version 0.0.4).
 *
 * Two kinds of families, all named whatsapp_monitor_*: the samples of the
 * latest check (one gauge per catalogue metric, labelled by target, units
 * converted to base units where the catalogue's are not: ms and days become
 * seconds), and the service's own state read from the state database at
 * scrape time: messages by channel and outcome, the queue by channel and
 * priority, the oldest due message's age, webhook events by source and
 * outcome, open alerts by severity, tenants only as aggregates (no tenant
 * label), and the last successful check and tick as unix timestamps.
 *
 * Counters are counted from the rows that hold them (whatsapp_logs is never
 * pruned; the webhook rows that the tick prunes leave their count behind in
 * counter_offsets), so they only go down if someone deletes rows by hand.
 */
#ifndef EXPOSITION_H
#define EXPOSITION_H

#include "core/buf.h"
#include "db/db.h"

/* The content type of the answer. */
#define EXPOSITION_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Append the whole exposition to out. 0; -1 when a query failed (db->err);
 * -2 when out's limit was reached (out then holds a truncated text).
 */
int exposition_write(struct db *db, struct buf *out);

/*
 * One catalogue metric's family name and the factor that converts its
 * values to the family's unit ("whatsapp_monitor_slowest_query_mean_seconds",
 * 0.001). name must hold EXPOSITION_NAME_MAX bytes. 0, or -1 for an unknown
 * metric.
 */
#define EXPOSITION_NAME_MAX 128
int exposition_check_family(int metric, char *name, double *scale);

#endif
