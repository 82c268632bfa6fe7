#include <string.h>

#include <openssl/crypto.h>

#include "core/base64.h"
#include "core/hmac.h"
#include "core/stdwebhook.h"
#include "core/util.h"

/* Timestamps of at most 12 digits: year 33658, and never an overflow. */
#define TIMESTAMP_DIGITS_MAX 12

int stdwebhook_key_parse(const char *secret, struct stdwebhook_key *key, const char **err)
{
	size_t plen = strlen(STDWEBHOOK_SECRET_PREFIX), n = 0;

	memset(key, 0, sizeof(*key));
	if (!secret || !*secret) {
		*err = "is empty";
		return -1;
	}
	if (strncmp(secret, STDWEBHOOK_SECRET_PREFIX, plen) != 0) {
		*err = "must start with " STDWEBHOOK_SECRET_PREFIX;
		return -1;
	}
	secret += plen;
	if (base64_decode(secret, strlen(secret), BASE64_STD, key->bytes, sizeof(key->bytes), &n) <
	        0 ||
	    n < STDWEBHOOK_KEY_MIN) {
		stdwebhook_key_wipe(key);
		*err = "must be " STDWEBHOOK_SECRET_PREFIX " and the base64 of 24 to 64 bytes";
		return -1;
	}
	key->len = n;
	return 0;
}

void stdwebhook_key_wipe(struct stdwebhook_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

static int key_usable(const struct stdwebhook_key *key)
{
	return key && key->len >= STDWEBHOOK_KEY_MIN && key->len <= STDWEBHOOK_KEY_MAX;
}

/* 1 when id is 1..STDWEBHOOK_ID_MAX printable ASCII characters, none of them '.'. */
static int id_ok(const char *id)
{
	size_t n = strnlen(id, STDWEBHOOK_ID_MAX + 1);
	if (n == 0 || n > STDWEBHOOK_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= ' ' || id[i] > '~' || id[i] == '.')
			return 0;
	return 1;
}

/* The timestamp header: 1..12 decimal digits, nothing else. 0 and *out, or -1. */
static int timestamp_parse(const char *s, long long *out)
{
	long long v = 0;
	size_t n = strnlen(s, TIMESTAMP_DIGITS_MAX + 1);
	if (n == 0 || n > TIMESTAMP_DIGITS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* HMAC(key, id "." timestamp "." body), the timestamp as its text. */
static void mac_of(const struct stdwebhook_key *key, const char *id, const char *timestamp,
                   const void *body, size_t len, unsigned char mac[SHA256_LEN])
{
	struct hmac_sha256 h;
	hmac_sha256_init(&h, key->bytes, key->len);
	hmac_sha256_update(&h, id, strlen(id));
	hmac_sha256_update(&h, ".", 1);
	hmac_sha256_update(&h, timestamp, strlen(timestamp));
	hmac_sha256_update(&h, ".", 1);
	hmac_sha256_update(&h, body, len);
	hmac_sha256_final(&h, mac);
}

/* 1 when one "v1,<base64>" entry of the space-separated list carries mac. */
static int any_v1_matches(const char *list, const unsigned char mac[SHA256_LEN])
{
	int found = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, " ");
		const char *comma = memchr(p, ',', n);
		unsigned char sig[SHA256_LEN];
		size_t siglen = 0;
		if (comma && comma - p == 2 && memcmp(p, "v1", 2) == 0 &&
		    base64_decode(comma + 1, n - 3, BASE64_STD, sig, sizeof(sig), &siglen) == 0 &&
		    siglen == SHA256_LEN && CRYPTO_memcmp(sig, mac, SHA256_LEN) == 0)
			found = 1;
		p += n;
		p += strspn(p, " ");
	}
	return found;
}

int stdwebhook_verify(const struct stdwebhook_key *key, const char *id, const char *timestamp,
                      const char *signatures, const void *body, size_t len, long long now,
                      long long tolerance, const char **code)
{
	unsigned char mac[SHA256_LEN];
	long long ts = 0;

	*code = NULL;
	if (!key_usable(key) || tolerance < 0 || tolerance > STDWEBHOOK_TOLERANCE_MAX ||
	    (!body && len > 0))
		*code = STDWEBHOOK_E_BAD_CONFIG;
	else if (!id || !*id || !timestamp || !*timestamp || !signatures || !*signatures)
		*code = STDWEBHOOK_E_MISSING_HEADER;
	else if (!id_ok(id) || timestamp_parse(timestamp, &ts) < 0 ||
	         strnlen(signatures, STDWEBHOOK_SIG_HEADER_MAX + 1) > STDWEBHOOK_SIG_HEADER_MAX)
		*code = STDWEBHOOK_E_MALFORMED;
	else if (ts < now - tolerance)
		*code = STDWEBHOOK_E_TOO_OLD;
	else if (ts > now + tolerance)
		*code = STDWEBHOOK_E_TOO_NEW;
	if (*code)
		return -1;
	mac_of(key, id, timestamp, body, len, mac);
	if (!any_v1_matches(signatures, mac))
		*code = STDWEBHOOK_E_BAD_SIGNATURE;
	OPENSSL_cleanse(mac, sizeof(mac));
	return *code ? -1 : 0;
}

int stdwebhook_sign(const struct stdwebhook_key *key, const char *id, long long timestamp,
                    const void *body, size_t len, char *out, size_t outlen)
{
	unsigned char mac[SHA256_LEN];
	char ts[TIMESTAMP_DIGITS_MAX + 2];

	if (!out || outlen < STDWEBHOOK_SIGNATURE_LEN + 1 || !key_usable(key) || !id ||
	    !id_ok(id) || timestamp < 0 || (!body && len > 0))
		return -1;
	int n = snprintf(ts, sizeof(ts), "%lld", timestamp);
	if (n < 0 || n > TIMESTAMP_DIGITS_MAX)
		return -1;
	mac_of(key, id, ts, body, len, mac);
	memcpy(out, "v1,", 3);
	base64_encode(mac, sizeof(mac), BASE64_STD, out + 3, outlen - 3);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}
