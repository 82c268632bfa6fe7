/*
 * fuzz_query.c: http_url_decode() and http_query_get() (the query string of
 * GET /monitoring/webhook: hub.mode, hub.challenge, hub.verify_token).
 *
 * Invariants:
 *  - http_url_decode() fails exactly on a NUL byte, a '%' without two hex
 *    digits after it, or an escape that decodes to NUL; otherwise its result
 *    has no NUL and is 2 bytes shorter than the input per escape;
 *  - an input without '%' or '+' decodes to itself;
 *  - decoding the re-encoding of a result (spaces as '+' or as %20) gives the
 *    result back, whatever bytes it holds;
 *  - http_query_get(q, key) is 1 and the decoded value of the first pair
 *    whose decoded name is key ("" for a pair without '='), -1 (and NULL)
 *    when that value does not decode, 0 (and NULL) when there is no such
 *    pair; pairs whose name does not decode are skipped. Checked for the names the webhook asks for
 * and for the names found in the input;
 *  - a pair put in front of the query wins: query_get("key=<enc(v)>&" q) is v.
 */
#include "fuzz.h"
#include "app/http.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Would the len bytes at s decode? (The contract of http_url_decode, written out.) */
static int decodable(const char *s, size_t len, size_t *escapes)
{
	*escapes = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0')
			return 0;
		if (s[i] != '%')
			continue;
		if (i + 2 >= len)
			return 0;
		int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
		if (h < 0 || l < 0 || h * 16 + l == 0)
			return 0;
		i += 2;
		(*escapes)++;
	}
	return 1;
}

static void check_decode(const char *s, size_t len)
{
	size_t escapes = 0;
	int ok = decodable(s, len, &escapes);
	char *d = http_url_decode(s, len);

	FUZZ_CHECK((d != NULL) == ok);
	if (!d)
		return;
	FUZZ_CHECK(strlen(d) == len - 2 * escapes);
	if (len > 0 && !memchr(s, '%', len) && !memchr(s, '+', len))
		FUZZ_CHECK(memcmp(d, s, len) == 0);
	for (int plus = 0; plus <= 1; plus++) {
		char *e = fuzz_urlencode(d, strlen(d), plus);
		char *again = http_url_decode(e, strlen(e));
		FUZZ_CHECK(again != NULL && strcmp(again, d) == 0);
		free(again);
		free(e);
	}
	free(d);
}

/* http_query_get() as documented, for comparison; *rc its return value. */
static char *reference_get(const char *q, const char *key, int *rc)
{
	*rc = 0;
	const char *p = q;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		char *k = http_url_decode(p, klen);
		int hit = k && strcmp(k, key) == 0;
		free(k);
		if (hit) {
			char *v = eq ? http_url_decode(eq + 1, n - klen - 1) : xstrdup("");
			*rc = v ? 1 : -1;
			return v;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return NULL;
}

static void check_get(const char *q, const char *key)
{
	char *got = NULL, *want;
	int want_rc, rc = http_query_get(q, key, &got);
	want = reference_get(q, key, &want_rc);
	FUZZ_CHECK(rc == want_rc);
	FUZZ_CHECK((got == NULL) == (rc != 1));
	FUZZ_CHECK((got == NULL) == (want == NULL));
	if (got)
		FUZZ_CHECK(strcmp(got, want) == 0);
	free(got);
	free(want);

	/* A pair in front wins. */
	const char *v = "front value & more=";
	char *ek = fuzz_urlencode(key, strlen(key), 1), *ev = fuzz_urlencode(v, strlen(v), 1);
	char *q2 = xasprintf("%s=%s&%s", ek, ev, q);
	got = NULL;
	FUZZ_CHECK(http_query_get(q2, key, &got) == 1);
	FUZZ_CHECK(got != NULL && strcmp(got, v) == 0);
	free(got);
	free(q2);
	free(ek);
	free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"hub.mode", "hub.challenge", "hub.verify_token", "a",
	                                   ""};
	check_decode((const char *)data, size);

	char *q = fuzz_cstr(data, size);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		check_get(q, keys[i]);
	/* The names the query holds, decoded, and every piece of it taken as a name. */
	const char *p = q;
	for (int n = 0; *p && n < 8; n++) {
		size_t len = strcspn(p, "&");
		size_t klen = strcspn(p, "&=");
		char *k = http_url_decode(p, klen);
		if (k) {
			check_get(q, k);
			free(k);
		}
		char *raw = xstrndup(p, len);
		check_get(q, raw);
		check_decode(p, len);
		free(raw);
		p += len;
		if (*p == '&')
			p++;
	}
	free(q);
	return 0;
}
