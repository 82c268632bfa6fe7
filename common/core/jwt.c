#include <math.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/base64.h"
#include "core/hmac.h"
#include "core/jsonutil.h"
#include "core/jwt.h"
#include "core/util.h"

/* The three parts of a token, pointing into it. */
struct parts {
	const char *header, *payload, *sig;
	size_t header_len, payload_len, sig_len;
};

/* The decoded JSON of a part is at most 3/4 of the token, with room for a NUL. */
#define DECODED_MAX (JWT_MAX_LEN / 4 * 3 + 1)

static int split(const char *token, struct parts *p)
{
	size_t len = strnlen(token, JWT_MAX_LEN + 1);
	const char *dot1, *dot2;

	if (len > JWT_MAX_LEN || !(dot1 = memchr(token, '.', len)))
		return -1;
	dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return -1; /* two parts, or more than three (a JWE has five) */
	p->header = token;
	p->header_len = (size_t)(dot1 - token);
	p->payload = dot1 + 1;
	p->payload_len = (size_t)(dot2 - p->payload);
	p->sig = dot2 + 1;
	p->sig_len = len - (size_t)(p->sig - token);
	return 0;
}

/*
 * The members of the object at the top of a JSON text that json_parse_object() accepted: the
 * colons at depth 1 outside strings. json-c keeps the last of duplicate names, so an object
 * with fewer members than this had a name twice ({"alg":"none","alg":"HS256"}): refused,
 * whatever another parser of the same token would have picked.
 */
static size_t top_members(const char *s, size_t len)
{
	size_t n = 0;
	int depth = 0, in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ':' && depth == 1) {
			n++;
		}
	}
	return n;
}

/* Decode a base64url part holding a JSON object with unique member names into *out. */
static int decode_object(const char *part, size_t len, struct json_object **out)
{
	unsigned char text[DECODED_MAX];
	size_t n = 0;
	char *err = NULL;

	*out = NULL;
	if (len == 0 || base64_decode(part, len, BASE64_URL, text, sizeof(text) - 1, &n) < 0)
		return -1;
	if (json_parse_object((const char *)text, n, out, &err) < 0) {
		free(err);
		return -1;
	}
	if (json_object_object_length(*out) != (int)top_members((const char *)text, n)) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Step 2: the header names HS256 and nothing we would have to understand. */
static const char *check_header(const struct json_object *h)
{
	struct json_object *v;

	if (!json_object_object_get_ex(h, "alg", &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "HS256") != 0 ||
	    (size_t)json_object_get_string_len(v) != strlen("HS256"))
		return JWT_E_BAD_ALG;
	if (json_object_object_get_ex(h, "typ", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     !str_eq_nocase(json_object_get_string(v), "JWT")))
		return JWT_E_MALFORMED;
	/* RFC 7515 section 4.1.11: an extension we must understand; we understand none. */
	if (json_object_object_get_ex(h, "crit", NULL))
		return JWT_E_MALFORMED;
	return NULL;
}

/* Step 3: the MAC of "header.payload", 32 bytes, in constant time. */
static const char *check_signature(const struct parts *p, const struct jwt_check *check)
{
	unsigned char mac[SHA256_LEN], sig[SHA256_LEN];
	size_t n = 0;
	const char *code = NULL;

	if (p->sig_len != BASE64URL_LEN(SHA256_LEN))
		return JWT_E_BAD_SIGNATURE;
	if (base64_decode(p->sig, p->sig_len, BASE64_URL, sig, sizeof(sig), &n) < 0 ||
	    n != SHA256_LEN)
		return JWT_E_MALFORMED;
	hmac_sha256(check->key, check->keylen, p->header, p->header_len + 1 + p->payload_len, mac);
	if (CRYPTO_memcmp(mac, sig, SHA256_LEN) != 0)
		code = JWT_E_BAD_SIGNATURE;
	OPENSSL_cleanse(mac, sizeof(mac));
	return code;
}

/*
 * A NumericDate claim into *out: absent (0, *present 0), or a number in [0, JWT_TIME_MAX]
 * rounded down (up when round_up). -1 for any other value.
 */
static int time_claim(struct json_object *payload, const char *name, int round_up, long long *out,
                      int *present)
{
	struct json_object *v;

	*out = 0;
	*present = 0;
	if (!json_object_object_get_ex(payload, name, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v); /* saturates: caught by the range */
		if (i < 0 || i > JWT_TIME_MAX)
			return -1;
		*out = i;
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d < 0 || d > (double)JWT_TIME_MAX)
			return -1;
		*out = (long long)(round_up ? ceil(d) : floor(d));
	} else {
		return -1;
	}
	*present = 1;
	return 0;
}

/* Steps 4 and 5: the claims we use, well-typed, into *c. */
static const char *read_claims(struct json_object *payload, struct jwt_claims *c)
{
	struct json_object *v;
	int has_exp = 0, has_sub = 0;

	if (json_object_object_get_ex(payload, "sub", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return JWT_E_MALFORMED;
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		if (n == 0 || n > JWT_SUB_MAX)
			return JWT_E_MALFORMED;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return JWT_E_MALFORMED;
		memcpy(c->sub, s, n);
		c->sub[n] = '\0';
		has_sub = 1;
	}
	if (time_claim(payload, "exp", 0, &c->exp, &has_exp) < 0 ||
	    time_claim(payload, "nbf", 1, &c->nbf, &c->has_nbf) < 0 ||
	    time_claim(payload, "iat", 1, &c->iat, &c->has_iat) < 0)
		return JWT_E_MALFORMED;
	if (!has_sub || !has_exp)
		return JWT_E_MISSING_CLAIM;
	return NULL;
}

/* Step 7: "aud" against the configured audience (NULL or "": none). */
static const char *check_audience(struct json_object *payload, const char *audience)
{
	struct json_object *aud;
	int configured = audience && *audience;

	if (!json_object_object_get_ex(payload, "aud", &aud))
		return configured ? JWT_E_BAD_AUDIENCE : NULL;
	if (json_object_is_type(aud, json_type_string))
		return configured && strcmp(json_object_get_string(aud), audience) == 0
		           ? NULL
		           : JWT_E_BAD_AUDIENCE;
	if (!json_object_is_type(aud, json_type_array))
		return JWT_E_MALFORMED;
	int found = 0;
	size_t n = json_object_array_length(aud);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(aud, i);
		if (!json_object_is_type(e, json_type_string))
			return JWT_E_MALFORMED;
		if (configured && strcmp(json_object_get_string(e), audience) == 0)
			found = 1;
	}
	return found ? NULL : JWT_E_BAD_AUDIENCE;
}

static const char *check_times(const struct jwt_claims *c, long long now, long long leeway)
{
	if (now >= c->exp + leeway)
		return JWT_E_EXPIRED;
	if ((c->has_nbf && now + leeway < c->nbf) || (c->has_iat && now + leeway < c->iat))
		return JWT_E_NOT_YET_VALID;
	return NULL;
}

int jwt_verify_hs256(const char *token, const struct jwt_check *check, struct jwt_claims *claims,
                     const char **code)
{
	struct json_object *header = NULL, *payload = NULL;
	struct parts p;
	const char *fail = NULL;

	memset(claims, 0, sizeof(*claims));
	if (!check || !check->key || check->keylen < JWT_KEY_MIN || check->leeway < 0 ||
	    check->leeway > JWT_LEEWAY_MAX || check->now < 0 || check->now > JWT_TIME_MAX) {
		fail = JWT_E_BAD_CONFIG;
		goto out;
	}
	if (!token || split(token, &p) < 0 || decode_object(p.header, p.header_len, &header) < 0) {
		fail = JWT_E_MALFORMED;
		goto out;
	}
	if ((fail = check_header(header)) || (fail = check_signature(&p, check)))
		goto out;
	if (decode_object(p.payload, p.payload_len, &payload) < 0) {
		fail = JWT_E_MALFORMED;
		goto out;
	}
	if ((fail = read_claims(payload, claims)) ||
	    (fail = check_times(claims, check->now, check->leeway)) ||
	    (fail = check_audience(payload, check->audience)))
		goto out;
out:
	json_object_put(header);
	json_object_put(payload);
	if (fail)
		memset(claims, 0, sizeof(*claims));
	*code = fail;
	return fail ? -1 : 0;
}

/* base64url of len bytes appended at *o (room checked by the caller). */
static void put_b64url(char **o, const void *data, size_t len)
{
	long n = base64_encode(data, len, BASE64_URL, *o, BASE64URL_LEN(len) + 1);
	*o += n;
}

char *jwt_sign_hs256(const void *key, size_t keylen, const char *header_json,
                     const char *payload_json)
{
	static const char default_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char mac[SHA256_LEN];

	if (!key || keylen < JWT_KEY_MIN || !payload_json)
		return NULL;
	if (!header_json)
		header_json = default_header;
	size_t hl = strlen(header_json), pl = strlen(payload_json);
	if (hl > JWT_MAX_LEN || pl > JWT_MAX_LEN)
		return NULL;
	size_t total = BASE64URL_LEN(hl) + 1 + BASE64URL_LEN(pl) + 1 + BASE64URL_LEN(SHA256_LEN);
	if (total > JWT_MAX_LEN)
		return NULL;
	char *token = xmalloc(total + 1), *o = token;
	put_b64url(&o, header_json, hl);
	*o++ = '.';
	put_b64url(&o, payload_json, pl);
	hmac_sha256(key, keylen, token, (size_t)(o - token), mac);
	*o++ = '.';
	put_b64url(&o, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	return token;
}

char *jwt_mint_hs256(const void *key, size_t keylen, const char *sub, const char *audience,
                     long long iat, long long exp)
{
	if (!sub || !*sub || strlen(sub) > JWT_SUB_MAX)
		return NULL;
	struct json_object *claims = json_object_new_object();
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	if (audience && *audience)
		json_object_object_add(claims, "aud", json_object_new_string(audience));
	json_object_object_add(claims, "iat", json_object_new_int64(iat));
	json_object_object_add(claims, "exp", json_object_new_int64(exp));
	char *token =
	    jwt_sign_hs256(key, keylen, NULL,
	                   json_object_to_json_string_ext(
	                       claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(claims);
	return token;
}
