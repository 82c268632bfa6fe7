/*
 * tick.h: `cron tick`, run every minute: everything that is due, once.
 *
 * In order: the first steps of the drain sequence (jobs/drain.h: webhook
 * events to retry, an expired pause to announce, escalations and repeats), a
 * check when MONITORING_INTERVAL has passed since the last one, the daily and
 * weekly reports when their slot has come (schedule.h), the daily prune, the
 * business events stored since (alerts to their sellers, digests due:
 * tenants/dispatch.h, which sends what each of its transactions queued, unpaced), the
 * end-to-end canary (one when CANARY_INTERVAL has passed, its alert opened or resolved:
 * monitor/canary.h), then
 * the drain's sending step (which replays the spool first). One tick at a
 * time: a tick that finds another one running (a session advisory lock; with
 * DATABASE_POOLING=transaction the lease row "tick" of db/lease.h, renewed
 * before each step, a tick that lost it leaving the remaining steps) exits
 * quietly. Each scheduled thing is also keyed
 * by its period in schedule_runs, so it happens once per period whatever
 * hosts run ticks. After downtime the missed check runs at once and the
 * missed report of the latest period is sent, marked late, once.
 *
 * A tick that cannot reach the state database still runs the check, through
 * its no-database path (check.h: findings spooled, sent, replayed when the
 * database is back; a finding already spooled is not sent again), and says
 * so in its log and output; everything else waits for the database.
 */
#ifndef TICK_H
#define TICK_H

#include <json-c/json.h>
#include <time.h>

#include "core/config.h"
#include "db/db.h"

/*
 * Do what is due at now. *out (caller frees) says what each step did and how
 * long it took. 0 when every step could do its work (or another tick runs:
 * "skipped"), -1 when one could not (the rest still ran), and when the state
 * database could not be reached (the check still ran without it).
 */
int tick_run(struct db *db, struct config *cfg, time_t now, struct json_object **out);

#endif
