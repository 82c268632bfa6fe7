/*
 * sender.h: run many provider HTTP calls at once (curl multi), each allowed to
 * start no earlier than its start_ms offset, at most max_in_flight together.
 * Connections are reused between calls to the same host.
 */
#ifndef SENDER_H
#define SENDER_H

#include <stddef.h>

#include "buf.h"
#include "provider.h"

#define SENDER_MAX_ANSWER (64 * 1024)

struct sender_job {
	struct http_call call; /* owned by the caller */
	long start_ms;         /* not before this many ms after sender_run starts */
	/* results */
	long status;
	int transport_error;
	int timed_out;
	struct buf answer; /* capped at SENDER_MAX_ANSWER; released by sender_job_release */
	char curl_error[256];
};

void sender_job_release(struct sender_job *j);

/* libcurl's global set-up (and with it OpenSSL's), once per process, on the first send rather
 * than at start: a program that sends nothing never pays its memory. Thread-safe. 0 / -1. */
int sender_global_init(void);

/* Runs every job to completion (or failure). 0, or -1 when curl itself cannot start. */
int sender_run(struct sender_job *jobs, size_t n, int max_in_flight, long timeout_ms);

#endif
