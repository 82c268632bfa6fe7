#include <string.h>

/* The low-level SHA-256 functions are deprecated in OpenSSL 3 in favour of EVP; hmac.h says
 * why we use them anyway. The one-shot SHA256() is
 * avoided too: OpenSSL 3 may route it through EVP. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "core/hmac.h"
#include "core/util.h"

#define BLOCK 64 /* SHA-256's block size */

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen)
{
	unsigned char k[BLOCK] = {0}, pad[BLOCK];

	if (keylen > BLOCK) { /* a longer key is hashed first (RFC 2104) */
		SHA256_Init(&h->inner);
		SHA256_Update(&h->inner, key, keylen);
		SHA256_Final(k, &h->inner);
	} else if (keylen) {
		memcpy(k, key, keylen);
	}
	for (size_t i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&h->inner);
	SHA256_Update(&h->inner, pad, BLOCK);
	for (size_t i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&h->outer);
	SHA256_Update(&h->outer, pad, BLOCK);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len)
{
	if (len)
		SHA256_Update(&h->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256 *h, unsigned char mac[SHA256_LEN])
{
	unsigned char in[SHA256_LEN];

	SHA256_Final(in, &h->inner);
	SHA256_Update(&h->outer, in, sizeof(in));
	SHA256_Final(mac, &h->outer);
	OPENSSL_cleanse(in, sizeof(in));
	OPENSSL_cleanse(h, sizeof(*h));
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 unsigned char mac[SHA256_LEN])
{
	struct hmac_sha256 h;
	hmac_sha256_init(&h, key, keylen);
	hmac_sha256_update(&h, data, len);
	hmac_sha256_final(&h, mac);
}

void sha256(const void *data, size_t len, unsigned char md[SHA256_LEN])
{
	SHA256_CTX c;
	SHA256_Init(&c);
	if (len)
		SHA256_Update(&c, data, len);
	SHA256_Final(md, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
