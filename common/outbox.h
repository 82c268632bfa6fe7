/*
 * outbox.h: queueing messages into whatsapp_logs, the audit log and outbox.
 * A message is queued inside the caller's transaction (the one that made the
 * decision), with an idempotency key so the same decision never queues twice.
 * Sending the queued rows is the drainer's job.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>

#include "db.h"

struct outbox_msg {
	const char *phone;    /* E.164 */
	const char *content;  /* UTF-8, at most OUTBOX_MAX_CONTENT bytes */
	const char *priority; /* "critical", "warning", "info" */
	const char *kind;     /* "alert", "recovery", ... */
	const char *key;      /* idempotency key */
	const long long *alert_ids;
	size_t n_alert_ids;
	long long check_run_id; /* 0: none */
	int emergency;
};

#define OUTBOX_MAX_CONTENT 4096

/* Queue one message. 1 queued, 0 already queued under that key, -1 error (db->err). */
int outbox_queue(struct db *db, const struct outbox_msg *m);

#endif
