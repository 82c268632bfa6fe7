/*
 * webhook_stats.h: what processing webhook events did, counted. Its own
 * header so that inbound.c, which counts the messages and commands, need not
 * include webhook.h, which calls it (no two modules include each other).
 */
#ifndef WEBHOOK_STATS_H
#define WEBHOOK_STATS_H

struct webhook_stats {
	int events, failed;     /* events processed, events whose processing failed */
	int statuses, messages; /* new (not duplicate) items applied */
	int commands, replies;  /* commands obeyed, messages queued */
	int ignored;            /* items for another phone_number_id, or whose number is not one,
	                           and statuses for messages not ours (kept as ignored) */
	int stale;              /* commands too old to obey (COMMAND_MAX_AGE_SECONDS) */
};

#endif
