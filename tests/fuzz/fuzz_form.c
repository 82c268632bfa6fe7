/*
 * fuzz_form.c: form_parse() (Twilio's application/x-www-form-urlencoded
 * webhooks) and twilio_signature() over the pairs it returns.
 *
 * Invariants:
 *  - success: one pair per non-empty '&'-separated piece, at most
 *    FORM_MAX_PAIRS; every key and value is valid UTF-8 without NUL;
 *    form_get() of a key returns the value of its first pair; encoding the
 *    pairs again and parsing that gives the same pairs in the same order;
 *  - more than FORM_MAX_PAIRS non-empty pieces is always an error;
 *  - failure: an error message and an empty form; err == NULL is allowed;
 *  - twilio_signature() writes 28 Base64 characters (20 bytes: one '='),
 *    equals Base64(HMAC-SHA1(token, url + sorted key/value pairs)) computed
 *    here with OpenSSL's one-shot HMAC(), does not depend on the order of the
 *    pairs, and twilio_signature_valid() accepts it and rejects it with one
 *    character changed, one removed or one added, or with another token;
 *  - the output buffer limit and a missing token are refused.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "app/form.h"
#include "fuzz.h"
#include "webhook/webhook_sig.h"

#define TOKEN "fuzz0123456789abcdef0123456789ab"
#define URL "https://monitor.example.com/monitoring/webhook/twilio?tenant=a%20b"

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static int pair_cmp(const void *a, const void *b)
{
	const struct form_kv *x = *(const struct form_kv *const *)a;
	const struct form_kv *y = *(const struct form_kv *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

/* The signature as Twilio documents it, built here independently of webhook_sig.c. */
static void reference_signature(const char *url, const struct form *f, char out[TWILIO_SIG_LEN + 1])
{
	const struct form_kv **sorted = xcalloc(f->n + 1, sizeof(*sorted));
	size_t len = strlen(url);
	for (size_t i = 0; i < f->n; i++) {
		sorted[i] = &f->v[i];
		len += strlen(f->v[i].key) + strlen(f->v[i].value);
	}
	qsort(sorted, f->n, sizeof(*sorted), pair_cmp);
	char *base = xmalloc(len + 1), *p = base;
	memcpy(p, url, strlen(url));
	p += strlen(url);
	for (size_t i = 0; i < f->n; i++) {
		size_t kl = strlen(sorted[i]->key), vl = strlen(sorted[i]->value);
		memcpy(p, sorted[i]->key, kl);
		p += kl;
		memcpy(p, sorted[i]->value, vl);
		p += vl;
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	FUZZ_CHECK(HMAC(EVP_sha1(), TOKEN, (int)strlen(TOKEN), (const unsigned char *)base,
	                (size_t)(p - base), mac, &mlen) != NULL);
	FUZZ_CHECK(mlen == 20);
	FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)out, mac, 20) == TWILIO_SIG_LEN);
	free(base);
	free(sorted);
}

static void check_signature(const char *url, const struct form *f, size_t salt)
{
	char sig[TWILIO_SIG_LEN + 1], other[TWILIO_SIG_LEN + 2], ref[TWILIO_SIG_LEN + 1];

	FUZZ_CHECK(twilio_signature(TOKEN, url, f, sig, sizeof(sig)) == 0);
	FUZZ_CHECK(strlen(sig) == TWILIO_SIG_LEN);
	for (size_t i = 0; i + 1 < TWILIO_SIG_LEN; i++)
		FUZZ_CHECK(b64_char(sig[i]));
	FUZZ_CHECK(sig[TWILIO_SIG_LEN - 1] == '=');
	reference_signature(url, f, ref);
	FUZZ_CHECK(strcmp(sig, ref) == 0);
	FUZZ_CHECK(twilio_signature_valid(TOKEN, url, f, sig) == 1);

	/* The order of the pairs does not matter: they are sorted. */
	struct form rev = {xcalloc(f->n + 1, sizeof(*f->v)), f->n};
	for (size_t i = 0; i < f->n; i++)
		rev.v[i] = f->v[f->n - 1 - i];
	FUZZ_CHECK(twilio_signature(TOKEN, url, &rev, other, TWILIO_SIG_LEN + 1) == 0);
	FUZZ_CHECK(strcmp(other, sig) == 0);
	free(rev.v);
	if (f->n == 0) {
		FUZZ_CHECK(twilio_signature(TOKEN, url, NULL, other, sizeof(other)) == 0);
		FUZZ_CHECK(strcmp(other, sig) == 0);
	}

	/* One character changed, removed or added. */
	memcpy(other, sig, sizeof(sig));
	size_t at = salt % TWILIO_SIG_LEN;
	other[at] = other[at] == 'A' ? 'B' : 'A';
	FUZZ_CHECK(twilio_signature_valid(TOKEN, url, f, other) == 0);
	memcpy(other, sig, sizeof(sig));
	other[TWILIO_SIG_LEN - 1] = '\0';
	FUZZ_CHECK(twilio_signature_valid(TOKEN, url, f, other) == 0);
	memcpy(other, sig, sizeof(sig));
	other[TWILIO_SIG_LEN] = 'A';
	other[TWILIO_SIG_LEN + 1] = '\0';
	FUZZ_CHECK(twilio_signature_valid(TOKEN, url, f, other) == 0);
	FUZZ_CHECK(twilio_signature_valid(TOKEN "x", url, f, sig) == 0);
	FUZZ_CHECK(twilio_signature_valid("", url, f, sig) == 0);
	FUZZ_CHECK(twilio_signature_valid(TOKEN, url, f, NULL) == 0);

	/* Refusals. */
	FUZZ_CHECK(twilio_signature(TOKEN, url, f, other, TWILIO_SIG_LEN) == -1);
	FUZZ_CHECK(twilio_signature("", url, f, other, sizeof(other)) == -1);
	FUZZ_CHECK(twilio_signature(NULL, url, f, other, sizeof(other)) == -1);
	FUZZ_CHECK(twilio_signature(TOKEN, NULL, f, other, sizeof(other)) == -1);
}

/* Non-empty '&'-separated pieces of the body. */
static size_t count_pieces(const uint8_t *data, size_t size)
{
	size_t n = 0, len = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '&') {
			n += len > 0;
			len = 0;
		} else {
			len++;
		}
	}
	return n;
}

/* Encode the pairs again; parsing that must give the same pairs. */
static void check_round_trip(const struct form *f)
{
	size_t cap = 1, len = 0;
	for (size_t i = 0; i < f->n; i++)
		cap += 3 * (strlen(f->v[i].key) + strlen(f->v[i].value)) + 2;
	char *body = xmalloc(cap);
	body[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		char *k = fuzz_urlencode(f->v[i].key, strlen(f->v[i].key), i % 2);
		char *v = fuzz_urlencode(f->v[i].value, strlen(f->v[i].value), i % 2 == 0);
		/* An empty key with an empty value would be an empty piece: keep the '='. */
		len += (size_t)snprintf(body + len, cap - len, "%s%s=%s", i ? "&" : "", k, v);
		free(k);
		free(v);
	}
	struct form g;
	char *err = NULL;
	FUZZ_CHECK(form_parse(body, len, &g, &err) == 0);
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(g.n == f->n);
	for (size_t i = 0; i < f->n; i++) {
		FUZZ_CHECK(strcmp(g.v[i].key, f->v[i].key) == 0);
		FUZZ_CHECK(strcmp(g.v[i].value, f->v[i].value) == 0);
	}
	form_release(&g);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f;
	char *err = NULL;
	const char *body = (const char *)data;
	size_t pieces = count_pieces(data, size);

	int rc = form_parse(body, size, &f, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	struct form g;
	FUZZ_CHECK(form_parse(body, size, &g, NULL) == rc);
	form_release(&g);
	if (pieces > FORM_MAX_PAIRS)
		FUZZ_CHECK(rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && *err != '\0');
		FUZZ_CHECK(f.v == NULL && f.n == 0);
		free(err);
		/* A failed parse still leaves a form that signs like an empty one. */
		check_signature(URL, &f, size);
		return 0;
	}
	FUZZ_CHECK(err == NULL);
	FUZZ_CHECK(f.n == pieces && f.n <= FORM_MAX_PAIRS);
	for (size_t i = 0; i < f.n; i++) {
		const char *k = f.v[i].key, *v = f.v[i].value;
		FUZZ_CHECK(k != NULL && v != NULL);
		FUZZ_CHECK(str_is_utf8(k, strlen(k)) && str_is_utf8(v, strlen(v)));
		FUZZ_CHECK(strlen(k) + strlen(v) <= size);
		const char *first = NULL;
		for (size_t j = 0; j < f.n && !first; j++)
			if (strcmp(f.v[j].key, k) == 0)
				first = f.v[j].value;
		FUZZ_CHECK(form_get(&f, k) == first);
	}
	FUZZ_CHECK(form_get(&f, NULL) == NULL);
	FUZZ_CHECK(form_get(NULL, "Body") == NULL);
	check_round_trip(&f);
	check_signature(URL, &f, size);
	/* Any URL: the first value stands in for one. */
	if (f.n > 0)
		check_signature(f.v[0].value, &f, size / 2);
	form_release(&f);
	FUZZ_CHECK(f.v == NULL && f.n == 0);
	form_release(&f);
	return 0;
}
