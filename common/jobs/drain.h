/*
 * drain.h: the drain sequence, one for `cron drain` and `cron tick`.
 *
 * In order: webhook events whose processing failed and are due again, a
 * pause that expired and was not announced yet, the fallback chain's next
 * steps (jobs/fallback.h: before escalation, so a critical alert found
 * undelivered escalates in the same run), the escalations and repeats
 * that are due, then sending what is due (which replays the spool first,
 * outbox.h). Acknowledgements waiting in retried webhook events are applied
 * before escalation, so an alert acknowledged meanwhile does not escalate.
 *
 * Each step is its own call so that tick can put its own scheduled work
 * (check, reports, prune) between escalation and sending and time each step;
 * drain_all() runs them all for `cron drain`. The caller owns the
 * struct drain_run; nothing here allocates past a call.
 */
#ifndef JOBS_DRAIN_H
#define JOBS_DRAIN_H

#include <json-c/json.h>

#include "core/config.h"
#include "db/db.h"
#include "delivery/outbox.h"
#include "jobs/fallback.h"
#include "monitor/escalate.h"
#include "webhook/webhook_stats.h"

enum drain_step {
	DRAIN_STEP_WEBHOOK_RETRIES,
	DRAIN_STEP_PAUSE_END,
	DRAIN_STEP_FALLBACK,
	DRAIN_STEP_ESCALATE,
	DRAIN_STEP_SEND,
	DRAIN_STEP_COUNT
};

/* What the steps did; zero it before the first step (DRAIN_RUN_INIT). */
struct drain_run {
	struct webhook_stats ws;
	int pause_announced; /* 1 when an expired pause was announced */
	struct fallback_stats fs;
	struct escalate_stats es;
	struct drain_stats ds;
};
#define DRAIN_RUN_INIT                                                                             \
	{                                                                                          \
		0                                                                                  \
	}

/* Webhook events one run retries at most. */
#define DRAIN_WEBHOOK_BATCH 1000

/* The step's name in tick's output: "webhook_retries", "pause_end", "fallback", "escalate",
 * "drain". */
const char *drain_step_name(enum drain_step s);

/* Run step s, its counts into *run. 0, or -1 with the reason in db->err. */
int drain_step(struct db *db, struct config *cfg, enum drain_step s, struct drain_run *run);

/* What step s did, as tick reports it: a new object, the caller's. */
struct json_object *drain_step_json(enum drain_step s, const struct drain_run *run);

/*
 * Every step in order, stopping at the first that fails (`cron drain`: what
 * follows a failure would fail the same way). 0, or -1 with *failed the step
 * and db->err the reason.
 */
int drain_all(struct db *db, struct config *cfg, struct drain_run *run, enum drain_step *failed);

#endif
