/*
 * sender.h: run many provider calls (HTTP requests, SMTP transactions) at once (curl multi), each
 * allowed to start no earlier than its start_ms offset, at most max_in_flight together. Connections
 * are reused between calls to the same host. sender_send() builds each message's call with its
 * account's provider and credentials, runs them so, and classifies the answers: the outbox drain
 * and the spool both send through it.
 */
#ifndef SENDER_H
#define SENDER_H

#include <stddef.h>

#include "core/buf.h"
#include "delivery/account.h"
#include "delivery/provider.h"

#define SENDER_MAX_ANSWER (64 * 1024)

struct sender_job {
	struct http_call call; /* owned by the caller */
	long start_ms;         /* not before this many ms after sender_run starts */
	/* results */
	long status;
	int transport_error;
	int timed_out;
	struct buf answer; /* HTTP: the body; SMTP: the server's reply lines. Capped at
	                      SENDER_MAX_ANSWER; released by sender_job_release */
	char curl_error[256];
	size_t uploaded; /* SMTP: bytes of call.body handed to curl */
};

void sender_job_release(struct sender_job *j);

/* libcurl's global set-up (and with it OpenSSL's), once per process, on the first send rather
 * than at start: a program that sends nothing never pays its memory. Thread-safe. 0 / -1. */
int sender_global_init(void);

/*
 * Runs every job to completion (or failure), each within its call's timeout_ms or else
 * timeout_ms. status is the HTTP status or the SMTP server's last reply code, also when the
 * transfer failed. 0, or -1 when curl itself cannot start.
 */
int sender_run(struct sender_job *jobs, size_t n, int max_in_flight, long timeout_ms);
/* sender_run, calling done_fn(arg, job) as each job completes (or fails to start), while the
 * others are still in flight. */
int sender_run_each(struct sender_job *jobs, size_t n, int max_in_flight, long timeout_ms,
                    void (*done_fn)(void *arg, struct sender_job *j), void *arg);

/* One message to send now: the outbox drain sends its claimed rows with it, the spool its own. */
struct sender_msg {
	const struct account *acct; /* who it is sent as: provider, credentials, templates */
	double start_s;             /* not before this many seconds from now (its paced slot) */
	const char *phone, *content, *priority;
	const char *alert_id; /* quick-reply button "ACK:<id>"; NULL, "" or "0": none */
	int as_template;      /* in: asked for; out: as sent */
	int in_window;        /* the 24-hour window is open: text is allowed */
	const char *reply_id, *reply_title; /* a reply button under the text, sent only as text
	                                       inside the window (in_window); NULL: none */
	/*
	 * Its own template (a seller alert of one event): name and body parameters in order;
	 * NULL, 0: none. Sent as such when it goes as a template and provider_template_choice()
	 * says TEMPLATE_OWN; otherwise the generic template (priority, summary).
	 */
	const char *template_name;
	const char *const *template_params;
	size_t n_template_params;
	struct send_result rs;
};

/*
 * Send n messages, each as its account at its start_s, with up to cfg's
 * SEND_MAX_IN_FLIGHT requests in flight (each at most SEND_TIMEOUT_MS): the
 * process's limits, whatever the accounts. Fills each rs. No database.
 */
void sender_send(const struct config *cfg, struct sender_msg *v, int n);
/*
 * sender_send, calling done(arg, i) as soon as v[i].rs is final (its answer came, or it needed
 * no call), while the other requests are still in flight: the outbox drain records each result
 * then, so a drainer that dies mid-batch has sent unrecorded only what was in flight.
 */
void sender_send_each(const struct config *cfg, struct sender_msg *v, int n,
                      void (*done)(void *arg, int i), void *arg);

#endif
