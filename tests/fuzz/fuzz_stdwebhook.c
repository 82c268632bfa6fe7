/*
 * fuzz_stdwebhook.c: stdwebhook_verify(), for the signature headers of
 * POST /events (issue 17).
 *
 * The input is "webhook-id\nwebhook-timestamp\nwebhook-signature\nbody": the
 * first three lines are the headers (a missing line is a missing header),
 * the rest the raw body (any bytes).
 *
 * Invariants:
 *  - the answer is 0 with no code, or -1 with one of the documented codes;
 *  - an accepted request has a timestamp within the window and its list
 *    holds, as a whole entry, the very signature stdwebhook_sign() makes
 *    (the decoding is canonical: nothing else carries the MAC);
 *  - the list with that signature added is accepted at the timestamp's own
 *    time, whatever else it holds, unless the header is then too long.
 */
#include "fuzz.h"
#include "core/stdwebhook.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define NOW 1614265330LL

static const char *const codes[] = {
    STDWEBHOOK_E_MISSING_HEADER, STDWEBHOOK_E_MALFORMED,     STDWEBHOOK_E_TOO_OLD,
    STDWEBHOOK_E_TOO_NEW,        STDWEBHOOK_E_BAD_SIGNATURE,
};

static const char *verify(const struct stdwebhook_key *k, const char *id, const char *ts,
                          const char *sigs, const char *body, size_t len, long long now)
{
	const char *code = "unset";
	int rc = stdwebhook_verify(k, id, ts, sigs, body, len, now, STDWEBHOOK_TOLERANCE, &code);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(code == NULL);
		return NULL;
	}
	int known = 0;
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		known |= code && strcmp(code, codes[i]) == 0;
	FUZZ_CHECK(known);
	return code;
}

/* 1 when list holds entry between spaces. */
static int has_entry(const char *list, const char *entry)
{
	size_t n = strlen(entry);
	for (const char *p = strstr(list, entry); p; p = strstr(p + 1, entry))
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

/* The timestamp as the signer writes it (digits, no leading zero), or -1. */
static long long plain_timestamp(const char *ts)
{
	long long v = 0;
	size_t n = strlen(ts);
	if (n == 0 || n > 12 || (ts[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (ts[i] < '0' || ts[i] > '9')
			return -1;
		v = v * 10 + (ts[i] - '0');
	}
	return v;
}

static void check(const struct stdwebhook_key *k, char *id, char *ts, char *sigs, const char *body,
                  size_t len)
{
	char good[STDWEBHOOK_SIGNATURE_LEN + 1];
	long long t = ts ? plain_timestamp(ts) : -1;
	int signable =
	    id && t >= 0 && stdwebhook_sign(k, id, t, body, len, good, sizeof(good)) == 0;

	if (!verify(k, id, ts, sigs, body, len, NOW)) {
		FUZZ_CHECK(t >= NOW - STDWEBHOOK_TOLERANCE && t <= NOW + STDWEBHOOK_TOLERANCE);
		FUZZ_CHECK(signable && has_entry(sigs, good));
	}
	if (!signable)
		return;
	char *more = xasprintf("%s %s", sigs ? sigs : "", good);
	const char *code = verify(k, id, ts, more, body, len, t);
	FUZZ_CHECK(!code || (strlen(more) > STDWEBHOOK_SIG_HEADER_MAX &&
	                     strcmp(code, STDWEBHOOK_E_MALFORMED) == 0));
	free(more);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stdwebhook_key k;
	const char *err = NULL;
	char *copy = xmalloc(size + 1), *line[3] = {NULL, NULL, NULL}, *p = copy,
	     *end = copy + size;

	FUZZ_CHECK(stdwebhook_key_parse(SECRET, &k, &err) == 0);
	if (size)
		memcpy(copy, data, size);
	copy[size] = '\0';
	/* Three header lines (a NUL inside one ends it early, as in a C string), then the body. */
	for (int i = 0; i < 3 && p <= end; i++) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		line[i] = p;
		if (!nl) {
			p = end + 1;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
	const char *body = p <= end ? p : "";
	size_t len = p <= end ? (size_t)(end - p) : 0;
	check(&k, line[0], line[1], line[2], body, len);
	stdwebhook_key_wipe(&k);
	free(copy);
	return 0;
}
