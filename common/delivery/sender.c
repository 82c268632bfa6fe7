#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/log.h"
#include "delivery/sender.h"
#include "core/util.h"

void sender_job_release(struct sender_job *j)
{
	buf_release(&j->answer);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;
	/* Past the cap the rest is dropped: an error body longer than that is not for us. */
	if (b->len < b->max)
		buf_append(b, ptr, n <= b->max - b->len ? n : b->max - b->len);
	return n;
}

/* SMTP: the message, as much as fits each time curl asks. */
static size_t on_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sender_job *j = userdata;
	const char *body = j->call.body ? j->call.body : "";
	size_t len = strlen(body), room = size * nmemb;
	size_t n = len - j->uploaded < room ? len - j->uploaded : room;
	memcpy(ptr, body + j->uploaded, n);
	j->uploaded += n;
	return n;
}

/*
 * One SMTP transaction: STARTTLS required on smtp:// (CURLUSESSL_ALL: a server
 * that does not offer it gets no MAIL FROM, nothing goes in clear), the
 * server's certificate verified; its reply lines into the answer.
 */
static void smtp_options(CURL *e, struct sender_job *j, struct curl_slist **rcpt)
{
	*rcpt = curl_slist_append(NULL, j->call.mail_rcpt);
	j->uploaded = 0;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (j->call.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, j->call.ca_file);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, j->call.mail_from);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, *rcpt);
	if (j->call.username) {
		curl_easy_setopt(e, CURLOPT_USERNAME, j->call.username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, j->call.password ? j->call.password : "");
	}
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, j);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
	                 (curl_off_t)(j->call.body ? strlen(j->call.body) : 0));
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &j->answer);
}

/* One HTTP POST with the call's headers, body and credentials; the body of the answer kept. */
static void http_options(CURL *e, struct sender_job *j, struct curl_slist **headers)
{
	*headers = NULL;
	if (j->call.content_type) {
		char *h = xasprintf("Content-Type: %s", j->call.content_type);
		*headers = curl_slist_append(*headers, h);
		free(h);
	}
	if (j->call.bearer) {
		char *h = xasprintf("Authorization: Bearer %s", j->call.bearer);
		*headers = curl_slist_append(*headers, h);
		free(h);
	}
	*headers = curl_slist_append(*headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->call.body ? j->call.body : "");
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(j->call.body ? strlen(j->call.body) : 0));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *headers);
	if (j->call.userpwd) {
		curl_easy_setopt(e, CURLOPT_USERPWD, j->call.userpwd);
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &j->answer);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "whatsapp-monitor/1");
}

/* The easy handle of job j; *lists (a header or recipient list) freed by the caller. */
static CURL *easy_for(struct sender_job *j, long timeout_ms, struct curl_slist **lists)
{
	CURL *e = curl_easy_init();
	*lists = NULL;
	if (!e)
		return NULL;
	if (j->call.timeout_ms > 0)
		timeout_ms = j->call.timeout_ms;
	curl_easy_setopt(e, CURLOPT_URL, j->call.url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (j->call.mail_rcpt)
		smtp_options(e, j, lists);
	else
		http_options(e, j, lists);
	return e;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc = -1;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
	if (curl_init_rc < 0)
		log_error("curl_init", "curl_global_init failed: nothing can be sent");
}

int sender_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc;
}

int sender_run(struct sender_job *jobs, size_t n, int max_in_flight, long timeout_ms)
{
	return sender_run_each(jobs, n, max_in_flight, timeout_ms, NULL, NULL);
}

int sender_run_each(struct sender_job *jobs, size_t n, int max_in_flight, long timeout_ms,
                    void (*done_fn)(void *arg, struct sender_job *j), void *arg)
{
	if (sender_global_init() < 0)
		return -1;
	CURLM *m = curl_multi_init();
	if (!m)
		return -1;
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_in_flight);
	struct curl_slist **hdrs = xcalloc(n ? n : 1, sizeof(*hdrs));
	CURL **easy = xcalloc(n ? n : 1, sizeof(*easy));
	size_t next = 0, done = 0;
	int running = 0, in_flight = 0;
	int64_t t0 = mono_ms();
	for (size_t i = 0; i < n; i++) {
		buf_init(&jobs[i].answer, SENDER_MAX_ANSWER);
		jobs[i].status = 0;
		jobs[i].transport_error = 0;
		jobs[i].timed_out = 0;
		jobs[i].curl_error[0] = '\0';
	}
	while (done < n) {
		long now = (long)(mono_ms() - t0);
		/* Start what is due, within the in-flight limit (jobs are in start order). */
		while (next < n && in_flight < max_in_flight && jobs[next].start_ms <= now) {
			easy[next] = easy_for(&jobs[next], timeout_ms, &hdrs[next]);
			if (!easy[next] || curl_multi_add_handle(m, easy[next]) != CURLM_OK) {
				jobs[next].transport_error = CURLE_FAILED_INIT;
				snprintf(jobs[next].curl_error, sizeof(jobs[next].curl_error),
				         "cannot start the request");
				done++;
				if (done_fn)
					done_fn(arg, &jobs[next]);
			} else {
				in_flight++;
			}
			next++;
		}
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct sender_job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			/* Also on failure: an SMTP refusal is a failure with a reply code. */
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &j->status);
			if (msg->data.result != CURLE_OK) {
				j->transport_error = (int)msg->data.result;
				j->timed_out = msg->data.result == CURLE_OPERATION_TIMEDOUT;
				if (!j->curl_error[0])
					snprintf(j->curl_error, sizeof(j->curl_error), "%s",
					         curl_easy_strerror(msg->data.result));
			}
			curl_multi_remove_handle(m, msg->easy_handle);
			in_flight--;
			done++;
			if (done_fn)
				done_fn(arg, j);
		}
		if (done >= n)
			break;
		long wait = 100;
		if (next < n && in_flight < max_in_flight) {
			long until = jobs[next].start_ms - (long)(mono_ms() - t0);
			wait = until < 0 ? 0 : until < wait ? until : wait;
		}
		curl_multi_poll(m, NULL, 0, (int)wait, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (easy[i])
			curl_easy_cleanup(easy[i]);
		curl_slist_free_all(hdrs[i]);
	}
	free(easy);
	free(hdrs);
	curl_multi_cleanup(m);
	return 0;
}

/* One line, no tabs, runs of spaces collapsed: what a template parameter may hold. */
static char *summary_of(const char *content)
{
	struct buf b = BUF_INIT(1000);
	int space = 0;
	for (const char *p = content; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == ' ' || *p == '\r') {
			space = 1;
			continue;
		}
		if (space && b.len && buf_puts(&b, " ") < 0)
			break;
		space = 0;
		if (buf_append(&b, p, 1) < 0)
			break;
	}
	return buf_detach(&b);
}

/* Build v's call with its account's provider; 0: run it, else rs is final (see build()). */
static int build_one(struct sender_msg *v, struct http_call *call)
{
	const struct account *a = v->acct;
	const struct provider *p = a->provider;
	char *summary = summary_of(v->content);
	char *payload = v->alert_id && *v->alert_id && strcmp(v->alert_id, "0") != 0
	                    ? xasprintf("ACK:%s", v->alert_id)
	                    : NULL;
	const char *params[2] = {v->priority, summary};
	/*
	 * Outside the window as we know it: the template, when this account has
	 * one (the message's own, or the generic one). Without one, the text is
	 * tried: our view of the window can be incomplete (the number may be
	 * answered by another system), and the provider's refusal is the answer
	 * (record()).
	 */
	enum template_choice choice = provider_template_choice(p, a->cfg, v->template_name);
	int tmpl = v->as_template || (!v->in_window && choice != TEMPLATE_NONE);
	int own = tmpl && choice == TEMPLATE_OWN;
	v->as_template = tmpl;
	struct send_request rq = {
	    .to = v->phone,
	    .priority = v->priority,
	    .text = v->content,
	    .as_template = tmpl,
	    .template_name = own ? v->template_name : NULL,
	    .params = own ? v->template_params : params,
	    .n_params = own ? v->n_template_params : 2,
	    /* A type's own template has no ACK button (cron seller-templates registers none). */
	    .button_payload = own ? NULL : payload,
	    /* Reply buttons only where Meta allows them: text inside the window as we know it. */
	    .reply_id = !tmpl && v->in_window ? v->reply_id : NULL,
	    .reply_title = !tmpl && v->in_window ? v->reply_title : NULL,
	};
	memset(&v->rs, 0, sizeof(v->rs));
	int direct = p->build(a->cfg, &rq, call, &v->rs) != 0;
	free(summary);
	free(payload);
	return direct;
}

/* A call to run: when it may start and which message it is (sorted by start, then index). */
struct pending {
	long start_ms;
	int idx;
};

static int by_start(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms ? 1 : x->idx - y->idx;
}

/* What run_and_classify's jobs are: the messages, the calls' copies in start order, and who
 * is told of each result. */
struct run_ctx {
	struct sender_msg *v;
	struct sender_job *run; /* run[k] is message pend[k].idx's call */
	struct pending *pend;
	char *classified; /* run[k]'s answer is in its message's rs */
	void (*done)(void *arg, int i);
	void *arg;
};

/* Classify run[k]'s answer into its message's rs, release the job, tell the caller. */
static void classify_one(struct run_ctx *x, size_t k)
{
	struct sender_job *j = &x->run[k];
	struct http_answer ans = {
	    .status = j->status,
	    .transport_error = j->transport_error,
	    .timed_out = j->timed_out,
	    .body = j->answer.data,
	    .len = j->answer.len,
	    .curl_error = j->curl_error,
	};
	struct sender_msg *m = &x->v[x->pend[k].idx];
	m->acct->provider->classify(m->acct->cfg, &ans, &m->rs);
	/*
	 * curl's own buffer says more than its code's generic text. An SMTP
	 * provider chose between it and the server's reply itself.
	 */
	if (j->transport_error && j->curl_error[0] && !j->call.mail_rcpt)
		snprintf(m->rs.error, sizeof(m->rs.error), "%s", j->curl_error);
	sender_job_release(j);
	x->classified[k] = 1;
	if (x->done)
		x->done(x->arg, x->pend[k].idx);
}

static void run_done(void *arg, struct sender_job *j)
{
	struct run_ctx *x = arg;
	classify_one(x, (size_t)(j - x->run));
}

/*
 * Run the calls that were built (pend: nrun of them), in start order as
 * sender_run wants them, classifying each answer into its message's rs as it
 * comes (and telling done); a call curl could not run at all is classified
 * after.
 */
static void run_and_classify(const struct config *cfg, struct sender_msg *v,
                             struct sender_job *jobs, struct pending *pend, int nrun,
                             void (*done)(void *arg, int i), void *arg)
{
	struct run_ctx x = {.v = v,
	                    .run = xcalloc((size_t)nrun + 1, sizeof(*x.run)),
	                    .pend = pend,
	                    .classified = xcalloc((size_t)nrun + 1, 1),
	                    .done = done,
	                    .arg = arg};
	qsort(pend, (size_t)nrun, sizeof(*pend), by_start);
	for (int k = 0; k < nrun; k++) {
		x.run[k] = jobs[pend[k].idx];
		x.run[k].start_ms = pend[k].start_ms;
	}
	if (nrun && sender_run_each(x.run, (size_t)nrun, (int)cfg->send_max_in_flight,
	                            (long)cfg->send_timeout_ms, run_done, &x) < 0)
		log_error("sender", "curl multi could not start");
	for (int k = 0; k < nrun; k++)
		if (!x.classified[k])
			classify_one(&x, (size_t)k);
	free(x.classified);
	free(x.run);
}

void sender_send_each(const struct config *cfg, struct sender_msg *v, int n,
                      void (*done)(void *arg, int i), void *arg)
{
	struct sender_job *jobs = xcalloc((size_t)n + 1, sizeof(*jobs));
	struct pending *pend = xcalloc((size_t)n + 1, sizeof(*pend));
	int nrun = 0;
	for (int i = 0; i < n; i++) {
		if (build_one(&v[i], &jobs[i].call)) {
			/* answered without a call (sandbox) or cannot be built */
			if (done)
				done(arg, i);
			continue;
		}
		double at = v[i].start_s * 1000;
		pend[nrun].start_ms = at > 0 ? (long)at : 0;
		pend[nrun++].idx = i;
	}
	run_and_classify(cfg, v, jobs, pend, nrun, done, arg);
	for (int i = 0; i < n; i++) {
		http_call_release(&jobs[i].call);
		/* Without the network the log is the only trace of what was "sent". */
		if (v[i].rs.outcome == SEND_SENT && !(v[i].acct->provider->caps & PROVIDER_NETWORK))
			log_info("sandbox_send", "to %s (%s): %s", v[i].phone, v[i].priority,
			         v[i].content);
	}
	free(pend);
	free(jobs);
}

void sender_send(const struct config *cfg, struct sender_msg *v, int n)
{
	sender_send_each(cfg, v, n, NULL, NULL);
}
