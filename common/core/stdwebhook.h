/*
 * stdwebhook.h: Standard Webhooks signatures (https://www.standardwebhooks.com,
 * spec 1.0.0, symmetric "v1"), for the business events the platform posts to
 * POST /events (issue 17).
 *
 * The producer sends three headers: webhook-id (the message id),
 * webhook-timestamp (integer seconds since the epoch of this attempt) and
 * webhook-signature, a space-separated list of "v1,<base64 of
 * HMAC-SHA256(key, id "." timestamp "." body)>". The list holds several
 * signatures while the producer rotates its key; entries of other versions
 * ("v1a", "v2") and entries without a comma are ignored. The secret is
 * written "whsec_" followed by the key in base64.
 *
 * stdwebhook_verify() answers 0 (genuine, fresh) or -1 with a short code (a
 * static string, STDWEBHOOK_E_*), the first that applies in this order:
 *   bad_config      the key or the tolerance is unusable (the caller's fault)
 *   missing_header  a header is NULL or empty
 *   malformed       the id longer than STDWEBHOOK_ID_MAX or holding anything
 *                   but printable ASCII other than '.' (the spec asks for no
 *                   '.': "id.timestamp.body" must split one way only); the
 *                   timestamp not 1..12 decimal digits; the signature header
 *                   longer than STDWEBHOOK_SIG_HEADER_MAX
 *   too_old         timestamp < now - tolerance   (a replay, or a retry held
 *   too_new         timestamp > now + tolerance    too long; a skewed clock)
 *   bad_signature   no v1 entry is the canonical base64 of the 32-byte MAC
 * as the reference implementations do (the window is checked before the MAC,
 * both bounds inclusive). The MAC is compared in constant time. Nothing here
 * keeps state: refusing a webhook-id seen before is the caller's job (the
 * issue's idempotency by id).
 */
#ifndef STDWEBHOOK_H
#define STDWEBHOOK_H

#include <stddef.h>

/* The spec's key sizes: 24 to 64 random bytes. */
#define STDWEBHOOK_KEY_MIN 24
#define STDWEBHOOK_KEY_MAX 64
#define STDWEBHOOK_SECRET_PREFIX "whsec_"
/* The spec's and the window: 5 minutes either way. */
#define STDWEBHOOK_TOLERANCE 300
#define STDWEBHOOK_TOLERANCE_MAX 3600
#define STDWEBHOOK_ID_MAX 255
#define STDWEBHOOK_SIG_HEADER_MAX 4096
/* "v1," and the padded base64 of 32 bytes, without the NUL. */
#define STDWEBHOOK_SIGNATURE_LEN 47

#define STDWEBHOOK_E_BAD_CONFIG "bad_config"
#define STDWEBHOOK_E_MISSING_HEADER "missing_header"
#define STDWEBHOOK_E_MALFORMED "malformed"
#define STDWEBHOOK_E_TOO_OLD "too_old"
#define STDWEBHOOK_E_TOO_NEW "too_new"
#define STDWEBHOOK_E_BAD_SIGNATURE "bad_signature"

/* A decoded key, caller-owned (on the stack or in the program's settings). */
struct stdwebhook_key {
	unsigned char bytes[STDWEBHOOK_KEY_MAX];
	size_t len;
};

/*
 * Decode a secret "whsec_<base64>" (the standard alphabet, padded, canonical)
 * of STDWEBHOOK_KEY_MIN..STDWEBHOOK_KEY_MAX bytes into *key. 0, or -1 with
 * *err a static message naming what is wrong (never the secret) and *key
 * emptied. For checking the setting when a program starts.
 */
int stdwebhook_key_parse(const char *secret, struct stdwebhook_key *key, const char **err);

/* Overwrite the key's bytes (OPENSSL_cleanse) once it is no longer needed. */
void stdwebhook_key_wipe(struct stdwebhook_key *key);

/*
 * Verify a request: the three header values as received (NUL-terminated,
 * NULL when absent), the len bytes of the raw body, the time now and the
 * tolerance in seconds (STDWEBHOOK_TOLERANCE; at most
 * STDWEBHOOK_TOLERANCE_MAX). 0, or -1 and *code as above.
 */
int stdwebhook_verify(const struct stdwebhook_key *key, const char *id, const char *timestamp,
                      const char *signatures, const void *body, size_t len, long long now,
                      long long tolerance, const char **code);

/*
 * The webhook-signature value for one key: "v1," and the base64 MAC
 * (STDWEBHOOK_SIGNATURE_LEN characters) and a NUL, into out. 0, or -1 when
 * outlen is too small, the key unusable, the id or timestamp would be
 * refused by stdwebhook_verify(). For tests and for tools that post events.
 */
int stdwebhook_sign(const struct stdwebhook_key *key, const char *id, long long timestamp,
                    const void *body, size_t len, char *out, size_t outlen);

#endif
