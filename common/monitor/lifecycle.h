/*
 * lifecycle.h: the alert lifecycle, for any producer (the check today; an
 * Alertmanager receiver keyed by a fingerprint, a business event tomorrow).
 * A producer says what is firing now and the module decides: open an alert,
 * change its severity, leave it, or resolve it; it records each decision in
 * alerts and alert_events and collects the notices each causes (notify.h),
 * queued by alert_round_finish(). Acknowledgement is here too.
 *
 * Identity: an alert is (source, rule, target), at most one open at a time.
 * The alerts table keys it by (rule, target): the check's alerts are stored
 * as they always were; another source's rule is stored prefixed with it
 * ("alertmanager:HighLatency"), so two sources never share an alert.
 *
 * Decisions and their notices:
 *   opened            "CRITICAL|WARNING text", routed by severity and time
 *   warning->critical "CRITICAL (was warning) text", routed; starts escalation
 *   critical->warning nothing (the recovery will say it); stops escalation
 *   resolved          "RESOLVED rule on target after 2h 5m" (or the producer's
 *                     text: alert_round_resolved), to those told
 *   acknowledged      "Acknowledged by +1...: #12 rule", to the others told
 * When an open alert escalates or is repeated is escalate.h's decision; the
 * record of it (alerts, alert_events) is written here.
 *
 * Everything runs inside the caller's transaction, which the caller owns
 * (begins, commits, rolls back): the producer's own record of the run
 * (check_runs) and the alert decisions commit together or not at all. The
 * caller takes alert_lock() first. On -1 (db->err) the transaction is
 * useless: the caller rolls back.
 */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <json-c/json.h>
#include <stddef.h>
#include <time.h>

#include "core/config.h"
#include "db/db.h"
#include "monitor/notify.h"

#define ALERT_SOURCE_CHECK "check"

struct alert_ident {
	const char *source; /* ALERT_SOURCE_CHECK, "alertmanager", ... */
	const char *rule;   /* what is wrong: a metric, an alertname, an event type */
	const char *target; /* which one: a table, a replica, a fingerprint; "" for none */
};

/* What a producer found firing. */
struct alert_firing {
	struct alert_ident id;
	const char *severity; /* "warning" or "critical" */
	double value;         /* NAN: none */
	double threshold;     /* NAN: none */
	const char *text;     /* "deadlocks: 3 (threshold 1)": the message's line */
};

struct open_alert; /* lifecycle.c */

/* One producer's decisions in one transaction. Fields are the module's; read the JSON. */
struct alert_round {
	struct db *db;
	const struct config *cfg;
	const char *source;
	char run_id[24]; /* alert_events.check_run_id, alerts.*_check_id; "" for none */
	int emergency;   /* notices go to the critical list at once */
	time_t now;
	struct open_alert *open; /* this source's open alerts, locked */
	size_t nopen;
	struct notices notices;
	/* What changed: arrays of {id, rule, target, severity, [previous_severity,] value,
	 * message} (opened, changed) and {id, rule, target, severity} (resolved). */
	struct json_object *opened, *changed, *resolved;
};

/* Serialise alert bookkeeping (checks, escalation, acknowledgement) until commit. 0 / -1. */
int alert_lock(struct db *db);

/*
 * Start a round: load and lock source's open alerts. run_id 0: none. 0, or -1
 * (r is then still to be released).
 */
int alert_round_begin(struct alert_round *r, struct db *db, const struct config *cfg,
                      const char *source, long long run_id, int emergency, time_t now);

/* f fires now: open its alert, or update it (value, text, severity). 0 / -1. */
int alert_round_firing(struct alert_round *r, const struct alert_firing *f);

/*
 * Resolve every open alert of the source that did not fire in this round and
 * that judged(arg, rule, target) says was looked at (an alert whose target
 * could not be read this time stays open). judged NULL: all of them. 0 / -1.
 */
/*
 * The producer says id has stopped firing (Alertmanager's "resolved"): resolve
 * its open alert, the recovery naming it by text ("RESOLVED <text> after 2h
 * 5m"; NULL: by rule and target). Nothing when it is not open (already
 * resolved: a repeated notification). 0 / -1.
 */
int alert_round_resolved(struct alert_round *r, const struct alert_ident *id, const char *text);

typedef int (*alert_judged_fn)(void *arg, const char *rule, const char *target);
int alert_round_settle(struct alert_round *r, alert_judged_fn judged, void *arg);

/*
 * Queue the round's notices (one message per recipient: notify_queue), title
 * starting each ("Monitoring shop"), keyed by key_prefix ("check:42"). Adds to
 * *st. 0 / -1.
 */
int alert_round_finish(struct alert_round *r, const char *title, const char *key_prefix,
                       struct notify_stats *st);

/* Frees what the round holds, its JSON arrays included (take them first: json_object_get). */
void alert_round_release(struct alert_round *r);

/*
 * Escalation and repeats, decided by escalate.h, recorded in the caller's
 * transaction (0 / -1):
 *   alert_mark_escalated  level 1, no further escalation; event "escalation"
 *   alert_defer_repeat    the next repeat at from + minutes (a warning waits
 *                         for business hours)
 *   alert_count_repeat    one more repeat, the next in minutes (no event:
 *                         alert_record(id, "repeat") once its notice is made)
 *   alert_record          an alert_events line (event, severity) outside a round
 */
int alert_mark_escalated(struct db *db, long long id);
int alert_defer_repeat(struct db *db, long long id, time_t from, long long minutes);
int alert_count_repeat(struct db *db, long long id, long long minutes);
int alert_record(struct db *db, long long id, const char *event, const char *severity);

/*
 * Acknowledge, for the contact by: the alerts ids (n > 0), or every open one
 * by was told about (n == 0). Stops their escalation and repeats, records the
 * event, and tells the others who were told about them, one message each,
 * keyed "<key_prefix>:<number>". Returns how many were acknowledged (0: none
 * of them open and unacknowledged), with *list ("#12 deadlocks, #14
 * dead_tuples_pct on public.orders"; caller frees; NULL when 0) and *told
 * (messages queued to the others); -1 (db->err).
 */
int alert_acknowledge(struct db *db, const struct config *cfg, const char *by, const long long *ids,
                      size_t n, const char *key_prefix, char **list, int *told);

#endif
