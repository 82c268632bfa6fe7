/*
 * notify.h: turning alert news into outbox messages.
 *
 * A notice is one line of news about one alert (opened, rose, resolved,
 * escalated, reminded, repeated) with its recipients and the time it may go.
 * notify_queue() groups the notices by (recipient, time) and queues one
 * message per group: alerts raised together for a person are combined. It
 * runs inside the caller's transaction, the one that made the decision.
 *
 * Who hears what:
 *   new alert, severity rise  routed by severity and time (route.h)
 *   recovery, repeat          those who were told about the alert
 *   escalation                ESCALATION_PHONE_n; the first tier is reminded
 * During a pause, every notice except an emergency one is recorded as a
 * suppressed message instead of being sent.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>
#include <time.h>

#include "core/config.h"
#include "db/db.h"

/* Serialises alert bookkeeping (checks, escalation, acknowledgement): "wamonchk". */
#define NOTIFY_LOCK_KEY "7797108111110991041"

enum notice_kind {
	NOTICE_ALERT,      /* opened or rose to critical */
	NOTICE_RECOVERY,   /* resolved */
	NOTICE_ESCALATION, /* unacknowledged: to the next tier */
	NOTICE_REMINDER,   /* unacknowledged and escalated: to the first tier */
	NOTICE_REPEAT,     /* still open, unacknowledged, repeat interval passed */
};

const char *notice_kind_name(enum notice_kind k);

struct notice {
	long long alert_id;
	char severity[16]; /* of the alert */
	enum notice_kind kind;
	int step; /* escalation level or repeat count: part of the idempotency key */
	char *line;
	struct phone_list to;
	time_t not_before;
};

struct notices {
	struct notice *v;
	size_t n, cap;
};

/* Adds a notice (takes line) with no recipients yet; returns it. */
struct notice *notices_add(struct notices *ns, long long alert_id, const char *severity,
                           enum notice_kind kind, char *line);
void notices_release(struct notices *ns);

/* Recipients and time of a new alert or rise, by severity and time (route.h). */
void notify_route(const struct config *cfg, struct notice *n, int emergency, time_t now);

/*
 * Recipients of a follow-up (recovery, repeat): the numbers that were told
 * about the alert (messages not suppressed). Warnings go inside business
 * hours only (held otherwise); the rest at once. 0, or -1 (db->err).
 */
int notify_told(struct db *db, const struct config *cfg, struct notice *n, time_t now);

/* Is a pause in force? 1 yes, 0 no, -1 error. */
int notify_paused(struct db *db);

struct notify_stats {
	int queued, suppressed;
};

/*
 * Queue one message per (recipient, time), through delivery_submit() in the
 * caller's transaction (it must have begun one: db->in_tx). title starts each
 * message ("Monitoring shop"). key_prefix names the decision ("check:42");
 * NULL keys each group by its first notice (kind, alert id, step). A critical
 * message carries the operators' fallback chain (FALLBACK_CHAIN_CRITICAL after
 * its WhatsApp step, FALLBACK_AFTER_SECONDS: jobs/fallback.h). Adds to *st. 0, or -1 (db->err; the
 * caller rolls back).
 */
int notify_queue(struct db *db, const struct config *cfg, const char *title, const char *key_prefix,
                 long long run_id, int emergency, struct notices *ns, time_t now,
                 struct notify_stats *st);

/*
 * The same grouping and wording, appended to b for the caller to submit
 * (delivery/submit.h). A notice with alert id 0 (news without an alert: the
 * state database is down) lists no alert id in its message.
 */
struct delivery_batch;
void notify_batch(const char *title, const char *key_prefix, long long run_id, int emergency,
                  const struct notices *ns, time_t now, struct delivery_batch *b);

/*
 * Give every critical message of b (WhatsApp, not yet given one) the operators'
 * fallback chain: FALLBACK_CHAIN_CRITICAL after its first step, FALLBACK_AFTER_SECONDS
 * (jobs/fallback.h). notify_queue() and the test alert do.
 */
void notify_batch_chain(const struct config *cfg, struct delivery_batch *b);

/* "2h 5m", "45m", "30s": a duration as people read it. */
void notify_format_duration(char *out, size_t len, long long seconds);

#endif
