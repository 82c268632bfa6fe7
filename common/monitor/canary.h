/*
 * canary.h: the end-to-end canary (issue 20). Every CANARY_INTERVAL seconds
 * the tick queues one WhatsApp message of kind 'canary' to CANARY_PHONE, as
 * the operator account, through the path every alert takes (the outbox, the
 * drain, the provider); the provider's delivered (or read) receipt, written
 * to the row by the webhook program, closes the loop. A canary is a
 * whatsapp_logs row: no state of its own (sql/019_canary.sql indexes them).
 *
 * Judging (canary_judge(), pure): the newest canary decides; while it is in
 * flight (no receipt, its deadline not passed) the one before it does, if it
 * was the previous canary of the same series (queued at most an interval, the
 * deadline and CANARY_TICK_GRACE_S earlier); with none, the state is
 * "pending". A canary is ok when its receipt came within CANARY_DEADLINE of
 * when it was queued (the whole path counts: a stuck queue makes it late),
 * late when it came later or not by then. The series itself is late when no
 * canary was queued for an interval, the deadline and the grace (the step
 * that sends them stopped).
 *
 * The alert: late opens the critical alert ("canary", "late", "") in the
 * operators' lifecycle (lifecycle.h: routed, escalated, acknowledged by
 * reply, repeated); a later canary judged ok resolves it with a recovery, and
 * so does turning the canary off. A pause suppresses the alert's notices as
 * it does every other alert's, but never the canary message itself: the
 * measurement goes on, the alert opens and shows in /monitoring/health, the
 * metrics and /monitoring/alerts, and the pause's end tells everyone it is
 * still open.
 *
 * Once per period: the canary's idempotency key is "canary:after:<id of the
 * newest canary>" (0: none yet): ticks on any number of hosts that see the
 * same newest canary queue one row between them.
 */
#ifndef CANARY_H
#define CANARY_H

#include <json-c/json.h>
#include <time.h>

#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"

#define CANARY_SOURCE "canary"
#define CANARY_RULE "late"
/* Slack for the tick's schedule (cron each minute) before the series counts as stopped. */
#define CANARY_TICK_GRACE_S 120
/* Canaries canary_status_read() looks at, newest first (the newest and the one before). */
#define CANARY_JUDGED 2

enum canary_state { CANARY_OFF, CANARY_PENDING, CANARY_OK, CANARY_LATE };

/* "off", "pending", "ok", "late". */
const char *canary_state_name(enum canary_state s);

/* One canary: when it was queued and when its first receipt came (NAN: none yet), epoch s. */
struct canary_row {
	long long id;
	double queued_at, receipt_at;
};

/*
 * The state at now of the series rows[0..n) (newest first, n <= CANARY_JUDGED),
 * for interval_s (0: off) and deadline_s. *judged: the index of the canary that
 * decided (-1: none, the state is then off, pending or late for a stopped series).
 */
enum canary_state canary_judge(const struct canary_row *rows, int n, double now,
                               long long interval_s, long long deadline_s, int *judged);

/* Whether a canary is due at now: on, and none queued (last_queued_at 0) or an interval ago. */
int canary_due(const struct config *cfg, double now, double last_queued_at);

/* What /monitoring/health and the metrics show. */
struct canary_status {
	enum canary_state state;
	long long interval_s, deadline_s; /* as configured; interval 0: off */
	double last_sent_at;              /* when the newest canary was queued; 0: none */
	double last_receipt_at;           /* the newest receipt of any canary; 0: none */
	double round_trip_s;              /* of that canary: receipt - queued; NAN: none */
	struct canary_row newest;         /* id 0: none */
	long long judged_id;              /* the canary the state is about; 0: none */
};

/* Read the status at now (off without a query). 0, or -1 (db->err). */
int canary_status_read(struct db *db, const struct config *cfg, double now,
                       struct canary_status *st);

/* {"state", "interval_seconds", "deadline_seconds", "last_sent_at", "last_receipt_at",
 * "round_trip_seconds"}: times RFC 3339 UTC, null when none. Caller puts it. */
struct json_object *canary_status_json(const struct canary_status *st);

/* The whatsapp_monitor_canary_* families (exposition.h's naming). 0, or -1 (out's limit). */
int canary_prom_write(struct buf *out, const struct canary_status *st);

/*
 * The tick's step, at now: queue a canary when one is due (one statement:
 * the key keeps it to one per period), then judge and open or resolve the
 * alert (one transaction of its own, only when the alert must change). Adds
 * what it did to o ("sent", "state", "alert": "opened", "resolved" or null).
 * 0, or -1 (db->err; what committed stays).
 */
int canary_tick(struct db *db, const struct config *cfg, time_t now, struct json_object *o);

#endif
