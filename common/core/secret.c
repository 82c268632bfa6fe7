#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/base64.h"
#include "core/hmac.h"
#include "core/secret.h"
#include "core/util.h"

#define CODE_SPACE 1000000u /* 10^LOGIN_CODE_DIGITS */
/* The largest multiple of CODE_SPACE that fits in 32 bits: values from here up would make the
 * low codes (v % CODE_SPACE < 2^32 % CODE_SPACE) a little likelier, so they are drawn again. */
#define CODE_LIMIT (UINT32_MAX / CODE_SPACE * CODE_SPACE)

/* The code for a uniformly random v, or -1 when v must be drawn again. */
static long code_from_u32(uint32_t v)
{
	return v < CODE_LIMIT ? (long)(v % CODE_SPACE) : -1;
}

int login_code_new(char out[LOGIN_CODE_SIZE])
{
	long code = -1;

	out[0] = '\0';
	/* Each draw is rejected with probability 967296 / 2^32 (0.02 %). */
	while (code < 0) {
		uint32_t v;
		if (random_bytes(&v, sizeof(v)) < 0)
			return -1;
		code = code_from_u32(v);
	}
	snprintf(out, LOGIN_CODE_SIZE, "%0*ld", LOGIN_CODE_DIGITS, code);
	return 0;
}

int login_code_format_ok(const char *code)
{
	if (!code)
		return 0;
	for (int i = 0; i < LOGIN_CODE_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return code[LOGIN_CODE_DIGITS] == '\0';
}

int login_code_hash(const void *key, size_t keylen, const char *context, const char *code,
                    char out[SHA256_HEX_SIZE])
{
	static const char purpose[] = "login-code"; /* with its NUL */
	unsigned char mac[SHA256_LEN];
	struct hmac_sha256 h;

	out[0] = '\0';
	if (!key || keylen < LOGIN_CODE_KEY_MIN || !context || !*context ||
	    !login_code_format_ok(code))
		return -1;
	hmac_sha256_init(&h, key, keylen);
	hmac_sha256_update(&h, purpose, sizeof(purpose));
	hmac_sha256_update(&h, context, strlen(context) + 1);
	hmac_sha256_update(&h, code, LOGIN_CODE_DIGITS + 1);
	hmac_sha256_final(&h, mac);
	hex_encode(mac, sizeof(mac), out);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int login_code_matches(const void *key, size_t keylen, const char *context, const char *code,
                       const char *stored_hex)
{
	char want[SHA256_HEX_SIZE];
	int ok;

	if (!stored_hex || strnlen(stored_hex, SHA256_HEX_SIZE) != SHA256_HEX_SIZE - 1 ||
	    login_code_hash(key, keylen, context, code, want) < 0)
		return 0;
	ok = CRYPTO_memcmp(want, stored_hex, SHA256_HEX_SIZE - 1) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int session_token_new(char out[SESSION_TOKEN_LEN + 1])
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	int ret = -1;

	out[0] = '\0';
	if (random_bytes(raw, sizeof(raw)) == 0 &&
	    base64_encode(raw, sizeof(raw), BASE64_URL, out, SESSION_TOKEN_LEN + 1) ==
	        SESSION_TOKEN_LEN)
		ret = 0;
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

int session_token_format_ok(const char *token)
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	size_t n = 0;

	if (!token || strnlen(token, SESSION_TOKEN_LEN + 1) != SESSION_TOKEN_LEN)
		return 0;
	int ok = base64_decode(token, SESSION_TOKEN_LEN, BASE64_URL, raw, sizeof(raw), &n) == 0 &&
	         n == SESSION_TOKEN_BYTES;
	OPENSSL_cleanse(raw, sizeof(raw));
	return ok;
}

int session_token_hash(const char *token, char out[SHA256_HEX_SIZE])
{
	unsigned char md[SHA256_LEN];

	out[0] = '\0';
	if (!session_token_format_ok(token))
		return -1;
	sha256(token, SESSION_TOKEN_LEN, md);
	hex_encode(md, sizeof(md), out);
	return 0;
}
