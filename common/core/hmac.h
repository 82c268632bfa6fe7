/*
 * hmac.h: HMAC-SHA256 (RFC 2104) and SHA-256, for the signatures and token
 * hashes of core/ (JWT, Standard Webhooks, session tokens, login codes).
 *
 * Built on OpenSSL's low-level SHA-256 rather than EVP or HMAC(): EVP's first
 * use loads a provider (openssl.cnf, method stores), about 2 MB resident in
 * every FastCGI worker that checks one signature (webhook_sig.c measured it
 * and made the same choice). The state is caller-owned, on the stack;
 * nothing here allocates or fails, and hmac_sha256_final() wipes the state.
 * Compare MACs with CRYPTO_memcmp(), never memcmp().
 */
#ifndef HMAC_H
#define HMAC_H

#include <stddef.h>

#include <openssl/sha.h>

#define SHA256_LEN 32
/* 64 hex digits and a NUL. */
#define SHA256_HEX_SIZE 65

struct hmac_sha256 {
	SHA256_CTX inner, outer;
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* Writes SHA256_LEN bytes into mac and wipes h (init it again to reuse it). */
void hmac_sha256_final(struct hmac_sha256 *h, unsigned char mac[SHA256_LEN]);

/* One call: HMAC-SHA256(key, data). */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                 unsigned char mac[SHA256_LEN]);

/* SHA-256 of len bytes. */
void sha256(const void *data, size_t len, unsigned char md[SHA256_LEN]);

/* The n bytes at in as 2n lowercase hex digits and a NUL (out holds 2n + 1). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
