/*
 * escalate.h: follow-ups of open alerts nobody acknowledged.
 *
 * Escalation: a critical alert still unacknowledged ESCALATION_MINUTES after
 * it opened (or rose to critical) goes to ESCALATION_PHONE_n, and those who
 * were told are reminded. It happens once per alert (escalation_level 0 -> 1).
 * A critical alert never delivered escalates at once, without waiting out the
 * timer: a message about it to an operator failed for good or had no receipt by
 * its deadline (jobs/fallback.h marked it: fallback_state set) and none about
 * it was delivered or read. Its escalation says "not delivered".
 *
 * Repeat: every ALERT_REPEAT_MINUTES an open, unacknowledged alert is sent
 * again to those who were told; a warning only inside business hours.
 *
 * Each run takes the alert lock (NOTIFY_LOCK_KEY) and works in one
 * transaction, so concurrent runs (many drainers, many hosts) act once.
 * Acknowledgement (acknowledged_at) stops both.
 */
#ifndef ESCALATE_H
#define ESCALATE_H

#include "core/config.h"
#include "db/db.h"

struct escalate_stats {
	int escalated, repeated, queued, suppressed;
};

/* Do what is due. 0, or -1 (db->err). */
int escalate_run(struct db *db, const struct config *cfg, struct escalate_stats *st);

#endif
