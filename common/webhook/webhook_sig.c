#include <stdlib.h>
#include <string.h>

/* The low-level SHA-1 and SHA-256 functions are deprecated in OpenSSL 3 in favour of EVP, but
 * EVP's first use fetches a provider: it loads openssl.cnf and sets up method stores, about
 * 2 MB resident in every process that checks a signature (measured with a one-line HMAC()).
 * HMAC (RFC 2104) over the low-level digests computes the same MAC without any of that. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "app/form.h"
#include "webhook/webhook_sig.h"
#include "core/util.h"

#define HMAC_BLOCK 64 /* SHA-1's and SHA-256's block size */

struct hmac {
	int sha1; /* else SHA-256 */
	union {
		SHA_CTX s1;
		SHA256_CTX s256;
	} in, out;
};

static void digest_init(const struct hmac *h, void *ctx)
{
	if (h->sha1)
		SHA1_Init(ctx);
	else
		SHA256_Init(ctx);
}

static void digest_update(const struct hmac *h, void *ctx, const void *p, size_t n)
{
	if (h->sha1)
		SHA1_Update(ctx, p, n);
	else
		SHA256_Update(ctx, p, n);
}

static void digest_final(const struct hmac *h, void *ctx, unsigned char *md)
{
	if (h->sha1)
		SHA1_Final(md, ctx);
	else
		SHA256_Final(md, ctx);
}

static size_t hmac_len(const struct hmac *h)
{
	return h->sha1 ? SHA_DIGEST_LENGTH : SHA256_DIGEST_LENGTH;
}

static void hmac_init(struct hmac *h, int sha1, const void *key, size_t klen)
{
	unsigned char k[HMAC_BLOCK] = {0}, pad[HMAC_BLOCK];
	h->sha1 = sha1;
	if (klen > HMAC_BLOCK) { /* a longer key is hashed first */
		digest_init(h, &h->in);
		digest_update(h, &h->in, key, klen);
		digest_final(h, &h->in, k);
	} else if (klen) {
		memcpy(k, key, klen);
	}
	for (size_t i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	digest_init(h, &h->in);
	digest_update(h, &h->in, pad, HMAC_BLOCK);
	for (size_t i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	digest_init(h, &h->out);
	digest_update(h, &h->out, pad, HMAC_BLOCK);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static void hmac_update(struct hmac *h, const void *p, size_t n)
{
	digest_update(h, &h->in, p, n);
}

/* Writes hmac_len(h) bytes into mac and wipes the state. */
static void hmac_final(struct hmac *h, unsigned char *mac)
{
	unsigned char inner[SHA256_DIGEST_LENGTH];
	digest_final(h, &h->in, inner);
	digest_update(h, &h->out, inner, hmac_len(h));
	digest_final(h, &h->out, mac);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(h, sizeof(*h));
}

int meta_signature_valid(const char *app_secret, const void *body, size_t len, const char *header)
{
	unsigned char want[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
	size_t plen = strlen(META_SIG_PREFIX);
	struct hmac mac_state;

	if (!app_secret || !*app_secret || !header || (!body && len > 0))
		return 0;
	/* strnlen: never read far into a header that is absurdly long. */
	if (strnlen(header, META_SIG_LEN + 1) != META_SIG_LEN ||
	    memcmp(header, META_SIG_PREFIX, plen) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(want); i++) {
		int h = hex_value((unsigned char)header[plen + 2 * i]);
		int l = hex_value((unsigned char)header[plen + 2 * i + 1]);
		if (h < 0 || l < 0)
			return 0;
		want[i] = (unsigned char)(h * 16 + l);
	}
	hmac_init(&mac_state, 0, app_secret, strlen(app_secret));
	if (len)
		hmac_update(&mac_state, body, len);
	hmac_final(&mac_state, mac);
	return CRYPTO_memcmp(mac, want, sizeof(want)) == 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct form_kv *x = *(const struct form_kv *const *)a;
	const struct form_kv *y = *(const struct form_kv *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

int twilio_signature(const char *auth_token, const char *url, const struct form *params, char *out,
                     size_t outlen)
{
	const struct form_kv **sorted = NULL;
	unsigned char digest[SHA_DIGEST_LENGTH];
	size_t n = params ? params->n : 0;
	struct hmac h;

	if (!out || outlen < TWILIO_SIG_LEN + 1 || !auth_token || !*auth_token || !url)
		return -1;
	out[0] = '\0';
	if (n > 0) {
		sorted = xcalloc(n, sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			sorted[i] = &params->v[i];
		qsort(sorted, n, sizeof(*sorted), kv_cmp);
	}
	hmac_init(&h, 1, auth_token, strlen(auth_token));
	hmac_update(&h, url, strlen(url));
	for (size_t i = 0; i < n; i++) {
		hmac_update(&h, sorted[i]->key, strlen(sorted[i]->key));
		hmac_update(&h, sorted[i]->value, strlen(sorted[i]->value));
	}
	hmac_final(&h, digest);
	int ret =
	    EVP_EncodeBlock((unsigned char *)out, digest, (int)sizeof(digest)) == TWILIO_SIG_LEN
	        ? 0
	        : -1;
	if (ret < 0)
		out[0] = '\0';
	OPENSSL_cleanse(digest, sizeof(digest));
	free(sorted);
	return ret;
}

int twilio_signature_valid(const char *auth_token, const char *url, const struct form *params,
                           const char *header)
{
	char sig[TWILIO_SIG_LEN + 1];

	if (!auth_token || !*auth_token || !header ||
	    strnlen(header, TWILIO_SIG_LEN + 1) != TWILIO_SIG_LEN)
		return 0;
	if (twilio_signature(auth_token, url, params, sig, sizeof(sig)) < 0)
		return 0;
	return CRYPTO_memcmp(sig, header, TWILIO_SIG_LEN) == 0;
}
