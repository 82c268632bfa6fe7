#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "form.h"
#include "webhook_sig.h"
#include "util.h"

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

int meta_signature_valid(const char *app_secret, const void *body, size_t len, const char *header)
{
	unsigned char want[32], mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	size_t plen = strlen(META_SIG_PREFIX);

	if (!app_secret || !*app_secret || !header || (!body && len > 0))
		return 0;
	size_t klen = strlen(app_secret);
	if (klen > INT_MAX)
		return 0;
	/* strnlen: never read far into a header that is absurdly long. */
	if (strnlen(header, META_SIG_LEN + 1) != META_SIG_LEN ||
	    memcmp(header, META_SIG_PREFIX, plen) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(want); i++) {
		int h = hexval((unsigned char)header[plen + 2 * i]);
		int l = hexval((unsigned char)header[plen + 2 * i + 1]);
		if (h < 0 || l < 0)
			return 0;
		want[i] = (unsigned char)(h * 16 + l);
	}
	if (!HMAC(EVP_sha256(), app_secret, (int)klen, body ? body : (const void *)"", len, mac,
	          &mlen) ||
	    mlen != sizeof(want))
		return 0;
	return CRYPTO_memcmp(mac, want, sizeof(want)) == 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct form_kv *x = *(const struct form_kv *const *)a;
	const struct form_kv *y = *(const struct form_kv *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

static int mac_update(EVP_MAC_CTX *ctx, const char *s)
{
	return EVP_MAC_update(ctx, (const unsigned char *)s, strlen(s)) == 1 ? 0 : -1;
}

int twilio_signature(const char *auth_token, const char *url, const struct form *params, char *out,
                     size_t outlen)
{
	int ret = -1;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	const struct form_kv **sorted = NULL;
	unsigned char digest[EVP_MAX_MD_SIZE];
	size_t dlen = 0;
	size_t n = params ? params->n : 0;

	if (!out || outlen < TWILIO_SIG_LEN + 1 || !auth_token || !*auth_token || !url)
		return -1;
	out[0] = '\0';
	if (n > 0) {
		sorted = xcalloc(n, sizeof(*sorted));
		for (size_t i = 0; i < n; i++)
			sorted[i] = &params->v[i];
		qsort(sorted, n, sizeof(*sorted), kv_cmp);
	}
	OSSL_PARAM op[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
	    OSSL_PARAM_construct_end(),
	};
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (!ctx ||
	    EVP_MAC_init(ctx, (const unsigned char *)auth_token, strlen(auth_token), op) != 1 ||
	    mac_update(ctx, url) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (mac_update(ctx, sorted[i]->key) < 0 || mac_update(ctx, sorted[i]->value) < 0)
			goto out;
	if (EVP_MAC_final(ctx, digest, &dlen, sizeof(digest)) != 1 || dlen != 20)
		goto out;
	if (EVP_EncodeBlock((unsigned char *)out, digest, (int)dlen) != TWILIO_SIG_LEN)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		out[0] = '\0';
	OPENSSL_cleanse(digest, sizeof(digest));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
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
