/*
 * jwt.h: the tokens the platform mints for its logged-in seller (issue 16): a
 * JWT (RFC 7519) in JWS compact serialization (RFC 7515), HS256 only, checked
 * with a shared secret (TENANT_JWT_SECRET).
 *
 * jwt_verify_hs256() takes a token as received (the caller has removed
 * "Bearer "), and answers 0 with the claims, or -1 with a short code (a
 * static string, one of JWT_E_*), which is all a 401 may tell the caller. It
 * trusts nothing in the token to choose how to check it: the algorithm is
 * fixed (a token saying "none", "HS384" or "RS256" is refused before any
 * MAC), keys named by the token ("kid", "jwk", "jku", "x5u", "x5c") are
 * ignored, extensions ("crit") are refused. Checks run in this order, and the
 * first that fails gives the code:
 *   1. shape: at most JWT_MAX_LEN bytes, three base64url parts (RFC 4648
 *      section 5, canonical, no padding, nothing else), no whitespace;
 *      header a JSON object without duplicate members      -> malformed
 *   2. header "alg" missing, not a string, or not exactly "HS256"
 *                                                           -> bad_alg
 *      "typ" present and not "JWT" (any case), or "crit" present
 *                                                           -> malformed
 *   3. HMAC-SHA256 over "header.payload" as sent, compared in constant
 *      time with the third part, which must be 32 bytes     -> bad_signature
 *   4. payload a JSON object without duplicate members, "sub" a string of
 *      1..JWT_SUB_MAX bytes without control characters, the times integers
 *      or fractions in [0, JWT_TIME_MAX]                    -> malformed
 *   5. "sub" and "exp" present                              -> missing_claim
 *   6. now >= exp + leeway                                  -> expired
 *      now + leeway < nbf, or now + leeway < iat (issued in the future)
 *                                                           -> not_yet_valid
 *   7. "aud" (a string, or an array of strings) holds the configured
 *      audience; with none configured, a token that names one is refused
 *      (RFC 7519 section 4.1.3: a recipient not named must reject it); one
 *      configured and the claim missing                    -> bad_audience
 *      "aud" neither a string nor an array of strings        -> malformed
 * The payload is parsed only after its MAC is checked (step 3): the JSON
 * parser sees no unauthenticated claims. Unknown claims are ignored.
 *
 * Times are whole seconds since the epoch; a fractional exp is rounded
 * down, nbf and iat up (never in the token's favour). The leeway absorbs
 * clock skew between the platform and us: JWT_LEEWAY_DEFAULT, at most
 * JWT_LEEWAY_MAX.
 */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>

/* The longest token accepted, in bytes: the platform's are a few hundred; nginx's default
 * header buffer (8 KB) holds this with room for the rest of the request. */
#define JWT_MAX_LEN 4096
/* The longest "sub" (the tenant's external id), in bytes. */
#define JWT_SUB_MAX 255
/* The shortest key: RFC 7518 section 3.2 wants at least the hash size (256 bits). */
#define JWT_KEY_MIN 32
/* 9999-12-31T23:59:59Z: the latest time a claim may name. */
#define JWT_TIME_MAX 253402300799LL
#define JWT_LEEWAY_DEFAULT 30
#define JWT_LEEWAY_MAX 300

#define JWT_E_MALFORMED "malformed"
#define JWT_E_BAD_ALG "bad_alg"
#define JWT_E_BAD_SIGNATURE "bad_signature"
#define JWT_E_EXPIRED "expired"
#define JWT_E_NOT_YET_VALID "not_yet_valid"
#define JWT_E_BAD_AUDIENCE "bad_audience"
#define JWT_E_MISSING_CLAIM "missing_claim"
/* The caller's fault, never the token's: a key under JWT_KEY_MIN bytes or a leeway outside
 * [0, JWT_LEEWAY_MAX]. A program checks its settings at start so this is never answered. */
#define JWT_E_BAD_CONFIG "bad_config"

struct jwt_claims {
	char sub[JWT_SUB_MAX + 1];
	long long exp;
	long long iat, nbf; /* 0 when absent */
	int has_iat, has_nbf;
};

/* What a token is checked against. audience NULL or "": none configured. */
struct jwt_check {
	const void *key;
	size_t keylen;
	const char *audience;
	long long now;
	long long leeway;
};

/*
 * Verify token (NUL-terminated) as above. 0 and *claims filled; or -1, *code
 * set and *claims zeroed. claims and code must not be NULL.
 */
int jwt_verify_hs256(const char *token, const struct jwt_check *check, struct jwt_claims *claims,
                     const char **code);

/*
 * A token: base64url(header_json) "." base64url(payload_json) "." the
 * base64url HMAC-SHA256 of the first two parts. The JSON texts are encoded
 * byte for byte as given (nothing checks them: tests build bad tokens with
 * this); header_json NULL means {"alg":"HS256","typ":"JWT"}. A new string
 * (caller frees), or NULL when the key is under JWT_KEY_MIN bytes, the
 * payload is NULL or the token would exceed JWT_MAX_LEN.
 */
char *jwt_sign_hs256(const void *key, size_t keylen, const char *header_json,
                     const char *payload_json);

/*
 * A token for a tenant, as the platform would mint it: {"sub":sub,"iat":iat,
 * "exp":exp} with "aud":audience when audience is neither NULL nor "", the
 * JSON built by json-c (sub escaped). NULL as jwt_sign_hs256(), or when sub
 * is NULL, empty or longer than JWT_SUB_MAX.
 */
char *jwt_mint_hs256(const void *key, size_t keylen, const char *sub, const char *audience,
                     long long iat, long long exp);

#endif
