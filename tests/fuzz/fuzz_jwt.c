/*
 * fuzz_jwt.c: jwt_verify_hs256(), for the tokens sellers send (issue 16).
 *
 * The first byte picks the mode:
 *  - 'T': the rest is a token, verified as received: most inputs never get
 *    past the MAC, which is the point (the shape and header parsers);
 *  - 'M': the rest is a tenant's external id, minted into a token by
 *    jwt_mint_hs256() (what `cron tenant-token` prints) and verified;
 *  - anything else: the rest is "header JSON" '\n' "payload JSON", signed
 *    with the harness's key by jwt_sign_hs256() and then verified, so that
 *    the claim checks see fuzzed, authentic payloads.
 *
 * Invariants:
 *  - the answer is 0 with no code, or -1 with one of the documented codes,
 *    and the claims zeroed;
 *  - an accepted token is at most JWT_MAX_LEN bytes, its sub 1..JWT_SUB_MAX
 *    bytes without control characters, now before exp + leeway, and nbf and
 *    iat (when present) not beyond now + leeway;
 *  - a token we signed is never refused for its signature, and once
 *    accepted, changing one character of its signature gets it refused;
 *  - a minted token exists for every sub of 1..JWT_SUB_MAX bytes, and is
 *    accepted exactly when the sub is UTF-8 without a control character, giving back
 *    that sub byte for byte and the times it was minted with (the sub is
 *    escaped into the JSON, never spliced: no sub changes another claim).
 */
#include "fuzz.h"
#include "core/jwt.h"

#define KEY "fuzz-key-fuzz-key-fuzz-key-fuzz-key!"
#define NOW 1767225600LL
#define LEEWAY 30

static const char *const codes[] = {
    JWT_E_MALFORMED,     JWT_E_BAD_ALG,      JWT_E_BAD_SIGNATURE, JWT_E_EXPIRED,
    JWT_E_NOT_YET_VALID, JWT_E_BAD_AUDIENCE, JWT_E_MISSING_CLAIM,
};

static const char *check(const char *token, const char *audience)
{
	struct jwt_check c = {KEY, strlen(KEY), audience, NOW, LEEWAY};
	struct jwt_claims claims, zero;
	const char *code = "unset";
	int rc = jwt_verify_hs256(token, &c, &claims, &code);

	memset(&zero, 0, sizeof(zero));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		int known = 0;
		for (size_t i = 0; i < ARRAY_LEN(codes); i++)
			known |= code && strcmp(code, codes[i]) == 0;
		FUZZ_CHECK(known);
		FUZZ_CHECK(memcmp(&claims, &zero, sizeof(zero)) == 0);
		return code;
	}
	FUZZ_CHECK(code == NULL);
	FUZZ_CHECK(strlen(token) <= JWT_MAX_LEN);
	size_t n = strnlen(claims.sub, sizeof(claims.sub));
	FUZZ_CHECK(n >= 1 && n <= JWT_SUB_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)claims.sub[i] >= 0x20 && claims.sub[i] != 0x7f);
	FUZZ_CHECK(NOW < claims.exp + LEEWAY);
	FUZZ_CHECK(!claims.has_nbf || claims.nbf <= NOW + LEEWAY);
	FUZZ_CHECK(!claims.has_iat || claims.iat <= NOW + LEEWAY);
	return NULL;
}

static void signed_mode(const char *text)
{
	char *header = xstrdup(text), *payload = strchr(header, '\n');
	if (!payload) {
		free(header);
		return;
	}
	*payload++ = '\0';
	char *token = jwt_sign_hs256(KEY, strlen(KEY), *header ? header : NULL, payload);
	if (token) {
		const char *code = check(token, "alerts");
		FUZZ_CHECK(!code || strcmp(code, JWT_E_BAD_SIGNATURE) != 0);
		if (!code) {
			char *last = token + strlen(token) - 2; /* not the last: spare bits */
			*last = *last == 'A' ? 'B' : 'A';
			code = check(token, "alerts");
			FUZZ_CHECK(code && strcmp(code, JWT_E_BAD_SIGNATURE) == 0);
		}
		check(token, NULL);
	}
	free(token);
	free(header);
}

static void mint_mode(const char *sub)
{
	size_t n = strlen(sub);
	int clean = str_is_utf8(sub, n); /* the verifier's JSON parser wants UTF-8 */
	for (size_t i = 0; i < n; i++)
		clean &= (unsigned char)sub[i] >= 0x20 && sub[i] != 0x7f;
	char *token = jwt_mint_hs256(KEY, strlen(KEY), sub, "alerts", NOW - 10, NOW + 3600);
	FUZZ_CHECK((token != NULL) == (n >= 1 && n <= JWT_SUB_MAX));
	if (!token)
		return;
	struct jwt_check c = {KEY, strlen(KEY), "alerts", NOW, LEEWAY};
	struct jwt_claims claims;
	const char *code = NULL;
	int rc = jwt_verify_hs256(token, &c, &claims, &code);
	FUZZ_CHECK((rc == 0) == clean);
	if (rc == 0) {
		FUZZ_CHECK(strcmp(claims.sub, sub) == 0);
		FUZZ_CHECK(claims.exp == NOW + 3600 && claims.has_iat && claims.iat == NOW - 10);
		FUZZ_CHECK(!claims.has_nbf);
	} else {
		FUZZ_CHECK(strcmp(code, JWT_E_MALFORMED) == 0);
	}
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *text = fuzz_cstr(data + 1, size - 1);
	if (data[0] == 'T') {
		check(text, NULL);
		check(text, "alerts");
	} else if (data[0] == 'M') {
		mint_mode(text);
	} else {
		signed_mode(text);
	}
	free(text);
	return 0;
}
