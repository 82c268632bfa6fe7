/*
 * report.h: the daily and weekly reports. One WhatsApp message each, numbers
 * not prose: checks run, alerts by severity (opened, resolved, still open),
 * median time to acknowledge and to resolve, messages sent, delivered, read
 * and failed, orders against the period before, database size, growth and
 * days until full, the slowest query. A quiet period says so, and the report
 * still goes (its arrival proves the service is alive).
 */
#ifndef REPORT_H
#define REPORT_H

#include "core/config.h"
#include "db/db.h"
#include "monitor/schedule.h"

/* The text of the report on [s->from, s->at). weekly: 0 daily, 1 weekly. NULL on db error. */
char *report_text(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                  int late);

/*
 * Queue the report for slot s to REPORT_PHONE_n (the critical list when none)
 * inside the caller's transaction, keyed report:<kind>:<period>:<phone>.
 * Messages queued, or -1.
 */
int report_queue(struct db *db, const struct config *cfg, const struct slot *s, int weekly,
                 const char *text);

#endif
