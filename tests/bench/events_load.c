/*
 * tests/bench/events_load.c: POST /events load, for make bench (tests/bench/bench.sh).
 *
 * ab sends the same request every time, and a Standard Webhooks request must not: each needs its
 * own webhook-id (or it is a replay, answered from the record) and its own signature. This
 * client builds N requests up front, each with a fresh webhook-id and event ids, signed with the
 * secret, then sends them over C keep-alive connections (one thread, epoll, one request in flight
 * per connection) and prints "requests/s p50_ms p99_ms non2xx". The same client against another
 * path (the do-nothing program) gives the figure to compare with. It is C, not Python, so that
 * the client's own CPU, on the same cores as the server, stays small next to what it measures.
 *
 * usage: events_load HOST PORT PATH SECRET TENANT REQUESTS CONNECTIONS EVENTS_PER_REQUEST
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct req {
	char *data;
	size_t len;
};

struct conn {
	int fd;
	struct req *req; /* in flight, or NULL */
	size_t sent;
	char *in;
	size_t in_len, in_cap;
	double t0;
	int out; /* EPOLLOUT asked for: the request is not all written */
};

/* Ask for EPOLLOUT only while the request is not all written (else it fires all along). */
static void want(int ep, struct conn *c)
{
	int out = c->req && c->sent < c->req->len;
	if (out == c->out)
		return;
	c->out = out;
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die("malloc");
	return p;
}

/* The request's bytes: head and body, the body signed (Standard Webhooks, v1). */
static struct req build(const char *host, const char *path, const unsigned char *key, int key_len,
                        const char *run, long i, int per, const char *tenant, const char *ts)
{
	size_t cap = 512 + (size_t)per * 512, blen = 0;
	char *body = xmalloc(cap);
	if (per > 1)
		blen += (size_t)snprintf(body + blen, cap - blen, "{\"events\": [");
	for (int k = 0; k < per; k++)
		blen += (size_t)snprintf(
		    body + blen, cap - blen,
		    "%s{\"id\": \"b-%s-%ld-%d\", \"type\": \"order.placed\", \"tenant\": \"%s\","
		    " \"occurred_at\": \"2026-12-02T14:05:00Z\", \"data\": {\"order_id\": "
		    "\"%ld-%d\","
		    " \"total\": {\"amount\": 1250000, \"currency\": \"NGN\"}, \"items\": 3,"
		    " \"customer\": {\"name\": \"Ada\", \"phone\": \"+2349012345678\"}}}",
		    k ? ", " : "", run, i, k, tenant, i, k);
	if (per > 1)
		blen += (size_t)snprintf(body + blen, cap - blen, "]}");
	char wid[64];
	snprintf(wid, sizeof(wid), "msg_%s_%ld", run, i);
	size_t slen = strlen(wid) + strlen(ts) + 2 + blen;
	char *signed_text = xmalloc(slen + 1);
	snprintf(signed_text, slen + 1, "%s.%s.%s", wid, ts, body);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (!HMAC(EVP_sha256(), key, key_len, (unsigned char *)signed_text, slen, mac, &mac_len))
		die("HMAC");
	free(signed_text);
	unsigned char sig[128];
	EVP_EncodeBlock(sig, mac, (int)mac_len);
	size_t cap2 = blen + 1024;
	struct req r = {xmalloc(cap2), 0};
	r.len =
	    (size_t)snprintf(r.data, cap2,
	                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	                     "Content-Length: %zu\r\nwebhook-id: %s\r\nwebhook-timestamp: %s\r\n"
	                     "webhook-signature: v1,%s\r\n\r\n",
	                     path, host, blen, wid, ts, sig);
	memcpy(r.data + r.len, body, blen);
	r.len += blen;
	free(body);
	return r;
}

/*
 * The length of the first complete answer in c->in, 0 while incomplete; *status its code.
 * Content-Length or chunked bodies.
 */
static size_t answer_len(const struct conn *c, int *status)
{
	const char *in = c->in;
	const char *end = memmem(in, c->in_len, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end - in) + 4;
	*status = c->in_len > 12 ? (int)strtol(in + 9, NULL, 10) : 0;
	long length = -1;
	int chunked = 0;
	for (const char *line = strstr(in, "\r\n") + 2; line < end;
	     line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "content-length:", 15) == 0)
			length = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "transfer-encoding:", 18) == 0 &&
		         strstr(line, "chunked") && strstr(line, "chunked") < strstr(line, "\r\n"))
			chunked = 1;
	}
	if (!chunked)
		return c->in_len >= head + (size_t)(length < 0 ? 0 : length)
		           ? head + (size_t)(length < 0 ? 0 : length)
		           : 0;
	size_t at = head;
	for (;;) {
		const char *nl = memmem(in + at, c->in_len - at, "\r\n", 2);
		if (!nl)
			return 0;
		size_t n = strtoul(in + at, NULL, 16);
		at = (size_t)(nl - in) + 2 + n + 2;
		if (at > c->in_len)
			return 0;
		if (n == 0)
			return at;
	}
}

/* A whole decimal number of [min, max], or -1. */
static long number(const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < min || v > max ? -1 : v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr,
		        "usage: %s HOST PORT PATH SECRET TENANT REQUESTS CONNECTIONS "
		        "EVENTS_PER_REQUEST\n",
		        argv[0]);
		return 2;
	}
	const char *host = argv[1], *path = argv[3], *secret = argv[4], *tenant = argv[5];
	long port = number(argv[2], 1, 65535), n = number(argv[6], 1, 10000000);
	long conns = number(argv[7], 1, 10000), per = number(argv[8], 1, 1000);
	if (port < 0 || n < 0 || conns < 0 || per < 0 || strncmp(secret, "whsec_", 6) != 0) {
		fprintf(stderr, "events_load: bad arguments\n");
		return 2;
	}
	unsigned char key[256];
	int key_len =
	    EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)strlen(secret + 6));
	if (key_len < 0)
		die("the secret's base64");
	for (const char *s = secret + strlen(secret); s > secret + 6 && s[-1] == '='; s--)
		key_len--; /* EVP_DecodeBlock counts the padding's bytes */

	unsigned char rnd[4];
	FILE *ur = fopen("/dev/urandom", "rb");
	if (!ur || fread(rnd, 1, sizeof(rnd), ur) != sizeof(rnd))
		die("/dev/urandom");
	fclose(ur);
	char run[9], ts[24];
	snprintf(run, sizeof(run), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	struct req *reqs = xmalloc((size_t)n * sizeof(*reqs));
	for (long i = 0; i < n; i++)
		reqs[i] = build(host, path, key, key_len, run, i, (int)per, tenant, ts);

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "events_load: HOST must be an IPv4 address\n");
		return 2;
	}
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	struct conn *cs = calloc((size_t)conns, sizeof(*cs));
	double *lat = xmalloc((size_t)n * sizeof(*lat));
	long next = 0, done = 0, bad = 0;
	int open = 0;
	double t0 = now_s();
	for (long i = 0; i < conns; i++) {
		struct conn *c = &cs[i];
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		c->in_cap = 65536;
		c->in = xmalloc(c->in_cap + 1);
		c->out = 1;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
		open++;
	}
	struct epoll_event evs[256];
	while (open > 0) {
		int k = epoll_wait(ep, evs, 256, 30000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("epoll_wait (no answer for 30 s)");
		for (int e = 0; e < k; e++) {
			struct conn *c = evs[e].data.ptr;
			if (c->fd < 0)
				continue;
			if (!c->req) {
				if (next >= n) {
					close(c->fd);
					c->fd = -1;
					open--;
					continue;
				}
				c->req = &reqs[next++];
				c->sent = 0;
				c->in_len = 0;
				c->t0 = now_s();
			}
			while (c->sent < c->req->len) {
				ssize_t w =
				    write(c->fd, c->req->data + c->sent, c->req->len - c->sent);
				if (w < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (w <= 0)
					die("write");
				c->sent += (size_t)w;
			}
			want(ep, c);
			for (;;) {
				if (c->in_len == c->in_cap) {
					c->in_cap *= 2;
					c->in = realloc(c->in, c->in_cap + 1);
					if (!c->in)
						die("realloc");
				}
				ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (r <= 0) {
					fprintf(stderr,
					        "events_load: the server closed a connection\n");
					return 2;
				}
				c->in_len += (size_t)r;
			}
			c->in[c->in_len] = '\0';
			int status = 0;
			if (c->sent < c->req->len || !answer_len(c, &status))
				continue;
			lat[done++] = now_s() - c->t0;
			bad += status < 200 || status > 299;
			c->req = NULL;
			/* The next request at once: level-triggered EPOLLOUT would also bring it.
			 */
			if (next < n) {
				c->req = &reqs[next++];
				c->sent = 0;
				c->in_len = 0;
				c->t0 = now_s();
				ssize_t w = write(c->fd, c->req->data, c->req->len);
				if (w > 0)
					c->sent = (size_t)w;
				want(ep, c);
			} else {
				close(c->fd);
				c->fd = -1;
				open--;
			}
		}
	}
	double wall = now_s() - t0;
	qsort(lat, (size_t)done, sizeof(*lat), cmp_double);
	long i50 = (long)(0.50 * (double)done), i99 = (long)(0.99 * (double)done);
	if (i99 >= done)
		i99 = done - 1;
	printf("%.0f %.1f %.1f %ld\n", (double)done / wall, lat[i50] * 1000, lat[i99] * 1000, bad);
	return 0;
}
