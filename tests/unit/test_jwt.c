/*
 * Unit tests of common/core/jwt.c: HS256 tokens for tenants (issue 16).
 *
 * Tokens come from three places: RFC 7515 appendix A.1 (the HS256 example and
 * its JWK key), tests/unit/jwt_vectors.h (made by Python's standard library,
 * tests/unit/gen_jwt_vectors.py: valid ones, alg confusion, duplicate names,
 * bad claims), and jwt_sign_hs256() itself for the boundaries of time,
 * audience and size, once the vectors have shown it agrees with Python.
 */
#include "testutil.h"

#include "core/base64.h"
#include "core/jwt.h"

#include "jwt_vectors.h"

#define LEEWAY 30

static struct jwt_check check_at(long long now, const char *audience)
{
	struct jwt_check c = {JV_KEY, strlen(JV_KEY), audience, now, LEEWAY};
	return c;
}

/* The code jwt_verify_hs256() answers for token ("" when it accepts it). */
static const char *verdict(const char *token, const struct jwt_check *c)
{
	struct jwt_claims claims;
	const char *code = "unset";
	int rc = jwt_verify_hs256(token, c, &claims, &code);
	assert_true(rc == 0 || rc == -1);
	assert_true((rc == 0) == (code == NULL));
	if (rc < 0) {
		struct jwt_claims zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&claims, &zero, sizeof(zero));
	}
	return rc == 0 ? "" : code;
}

/* A token from our signer for payload, the default header and the vectors' key. */
static char *signed_payload(const char *payload)
{
	char *t = jwt_sign_hs256(JV_KEY, strlen(JV_KEY), NULL, payload);
	assert_non_null(t);
	return t;
}

static void test_python_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(jwt_vectors); i++) {
		struct jwt_check c = check_at(JV_NOW, jwt_vectors[i].audience);
		const char *got = verdict(jwt_vectors[i].token, &c);
		if (strcmp(got, jwt_vectors[i].code) != 0)
			fail_msg("%s (%s): got \"%s\", want \"%s\"", jwt_vectors[i].name,
			         jwt_vectors[i].why, got, jwt_vectors[i].code);
	}
}

static void test_valid_token_gives_its_claims(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	struct jwt_claims claims;
	const char *code = NULL;
	assert_int_equal(jwt_verify_hs256(JV_VALID_TOKEN, &c, &claims, &code), 0);
	assert_null(code);
	assert_string_equal(claims.sub, "shop-42");
	assert_int_equal(claims.exp, JV_NOW + 3600);
	assert_int_equal(claims.has_iat, 1);
	assert_int_equal(claims.iat, JV_NOW);
	assert_int_equal(claims.has_nbf, 0);
	/* Our signer writes exactly what Python wrote for the same JSON. */
	char *t = signed_payload("{\"sub\":\"shop-42\",\"iat\":1767225600,\"exp\":1767229200}");
	assert_string_equal(t, JV_VALID_TOKEN);
	free(t);
}

/*
 * RFC 7515 A.1: its header and payload (with their CR LF), its JWK key. The example has no
 * "sub", so a verification that passes the signature stops at missing_claim.
 */
static void test_rfc7515_appendix_a1(void **state)
{
	(void)state;
	const char *k =
	    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwj"
	    "AzZr1Z9CAow";
	const char *want =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmN"
	    "vbS9pc19yb290Ijp0cnVlfQ"
	    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	unsigned char key[64];
	size_t keylen = 0;
	assert_int_equal(base64_decode(k, strlen(k), BASE64_URL, key, sizeof(key), &keylen), 0);
	assert_int_equal(keylen, 64);
	char *t = jwt_sign_hs256(key, keylen, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
	                         "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
	                         "\"http://example.com/is_root\":true}");
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);

	struct jwt_check c = {key, keylen, NULL, 1300819000, LEEWAY};
	assert_string_equal(verdict(want, &c), JWT_E_MISSING_CLAIM);
	char *bad = xstrdup(want);
	bad[strlen(bad) - 5] = bad[strlen(bad) - 5] == 'A' ? 'B' : 'A';
	assert_string_equal(verdict(bad, &c), JWT_E_BAD_SIGNATURE);
	free(bad);
}

static void test_expiry_and_leeway_boundaries(void **state)
{
	(void)state;
	char *t = signed_payload("{\"sub\":\"s\",\"exp\":1767225600}");
	/* Valid while now < exp + leeway. */
	struct jwt_check c = check_at(JV_NOW + LEEWAY - 1, NULL);
	assert_string_equal(verdict(t, &c), "");
	c.now = JV_NOW + LEEWAY;
	assert_string_equal(verdict(t, &c), JWT_E_EXPIRED);
	c.now = JV_NOW + LEEWAY + 1; /* expired by 1 s beyond the leeway */
	assert_string_equal(verdict(t, &c), JWT_E_EXPIRED);
	c.now = JV_NOW;
	c.leeway = 0;
	assert_string_equal(verdict(t, &c), JWT_E_EXPIRED);
	c.now = JV_NOW - 1;
	assert_string_equal(verdict(t, &c), "");
	free(t);

	/* A fractional exp counts as the second before it. */
	t = signed_payload("{\"sub\":\"s\",\"exp\":1767225600.9}");
	c = check_at(JV_NOW + LEEWAY, NULL);
	assert_string_equal(verdict(t, &c), JWT_E_EXPIRED);
	c.now--;
	assert_string_equal(verdict(t, &c), "");
	free(t);
}

static void test_nbf_and_iat_in_the_future(void **state)
{
	(void)state;
	char *t = signed_payload("{\"sub\":\"s\",\"nbf\":1767225600,\"exp\":1767229200}");
	struct jwt_check c = check_at(JV_NOW - LEEWAY, NULL);
	assert_string_equal(verdict(t, &c), "");
	c.now--;
	assert_string_equal(verdict(t, &c), JWT_E_NOT_YET_VALID);
	free(t);
	/* A fractional nbf counts as the second after it. */
	t = signed_payload("{\"sub\":\"s\",\"nbf\":1767225599.1,\"exp\":1767229200}");
	c.now = JV_NOW - LEEWAY;
	assert_string_equal(verdict(t, &c), "");
	c.now--;
	assert_string_equal(verdict(t, &c), JWT_E_NOT_YET_VALID);
	free(t);
	/* Issued in the future, beyond the leeway: the platform's clock or the token is wrong. */
	t = signed_payload("{\"sub\":\"s\",\"iat\":1767225600,\"exp\":1767229200}");
	c.now = JV_NOW - LEEWAY;
	assert_string_equal(verdict(t, &c), "");
	c.now--;
	assert_string_equal(verdict(t, &c), JWT_E_NOT_YET_VALID);
	free(t);
}

static void test_audience(void **state)
{
	(void)state;
	char *plain = signed_payload("{\"sub\":\"s\",\"exp\":1767229200}");
	char *ours = signed_payload("{\"sub\":\"s\",\"exp\":1767229200,\"aud\":\"alerts\"}");
	char *list =
	    signed_payload("{\"sub\":\"s\",\"exp\":1767229200,\"aud\":[\"a\",\"alerts\"]}");
	char *other = signed_payload("{\"sub\":\"s\",\"exp\":1767229200,\"aud\":\"Alerts\"}");
	char *mixed = signed_payload("{\"sub\":\"s\",\"exp\":1767229200,\"aud\":[\"alerts\",1]}");
	struct jwt_check none = check_at(JV_NOW, NULL), empty = check_at(JV_NOW, "");
	struct jwt_check set = check_at(JV_NOW, "alerts");

	assert_string_equal(verdict(plain, &none), "");
	assert_string_equal(verdict(plain, &empty), "");
	assert_string_equal(verdict(plain, &set), JWT_E_BAD_AUDIENCE);
	assert_string_equal(verdict(ours, &set), "");
	assert_string_equal(verdict(list, &set), "");
	/* Audiences compare exactly (RFC 7519: case-sensitive strings). */
	assert_string_equal(verdict(other, &set), JWT_E_BAD_AUDIENCE);
	assert_string_equal(verdict(mixed, &set), JWT_E_MALFORMED);
	/* A token meant for someone while we are nobody in particular: refused. */
	assert_string_equal(verdict(ours, &none), JWT_E_BAD_AUDIENCE);
	assert_string_equal(verdict(list, &empty), JWT_E_BAD_AUDIENCE);
	free(plain);
	free(ours);
	free(list);
	free(other);
	free(mixed);
}

/* The payload of a valid token replaced, its signature kept. */
static void test_tampered_payload(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	const char *tok = JV_VALID_TOKEN;
	const char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
	char forged_payload[128];
	const char *claims = "{\"sub\":\"shop-43\",\"iat\":1767225600,\"exp\":1767229200}";
	assert_true(base64_encode(claims, strlen(claims), BASE64_URL, forged_payload,
	                          sizeof(forged_payload)) > 0);
	char *forged = xasprintf("%.*s.%s%s", (int)(dot1 - tok), tok, forged_payload, dot2);
	assert_string_equal(verdict(forged, &c), JWT_E_BAD_SIGNATURE);
	free(forged);
	/* A header changed after signing (a typ added): the MAC covers it too. */
	char *h = xasprintf("eyJhbGciOiJIUzI1NiIsInR5cCI6Imp3dCJ9%s", dot1);
	assert_string_equal(verdict(h, &c), JWT_E_BAD_SIGNATURE);
	free(h);
	/* Every single-character change of the payload part is caught. */
	for (const char *p = dot1 + 1; p < dot2; p++) {
		char *t = xstrdup(tok);
		t[p - tok] = *p == 'x' ? 'y' : 'x';
		const char *v = verdict(t, &c);
		assert_true(strcmp(v, JWT_E_BAD_SIGNATURE) == 0 || strcmp(v, JWT_E_MALFORMED) == 0);
		free(t);
	}
}

static void test_signature_of_right_length_but_wrong(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	const char *tok = JV_VALID_TOKEN;
	size_t sig = (size_t)(strrchr(tok, '.') + 1 - tok);
	char *t = xstrdup(tok);

	assert_int_equal(strlen(tok) - sig, 43);
	for (size_t i = sig; i < strlen(tok) - 1; i++) {
		t[i] = tok[i] == 'A' ? 'B' : 'A';
		assert_string_equal(verdict(t, &c), JWT_E_BAD_SIGNATURE);
		t[i] = tok[i];
	}
	memset(t + sig, 'A', 43);
	assert_string_equal(verdict(t, &c), JWT_E_BAD_SIGNATURE);
	/* The last character carries 2 spare bits: a non-zero one is another spelling. */
	memcpy(t, tok, strlen(tok));
	t[strlen(t) - 1] = 'B';
	assert_string_equal(verdict(t, &c), JWT_E_MALFORMED);
	free(t);
	/* Shorter or longer than 32 bytes: not an HS256 signature. */
	char *shorter = xstrndup(tok, strlen(tok) - 1);
	assert_string_equal(verdict(shorter, &c), JWT_E_BAD_SIGNATURE);
	char *longer = xasprintf("%sAAAA", tok);
	assert_string_equal(verdict(longer, &c), JWT_E_BAD_SIGNATURE);
	char *empty = xstrndup(tok, sig);
	assert_string_equal(verdict(empty, &c), JWT_E_BAD_SIGNATURE);
	free(shorter);
	free(longer);
	free(empty);
}

static void test_malformed_shapes(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	const char *tok = JV_VALID_TOKEN;
	const char *dot1 = strchr(tok, '.');
	const char *bad[] = {"",    ".",       "..",        "...",      "abc",
	                     "a.b", "a.b.c.d", "a.b.c.d.e", ".eyJ9.abc"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_string_equal(verdict(bad[i], &c), JWT_E_MALFORMED);
	/* A good header and nothing else: the signature is checked before the payload is read. */
	assert_string_equal(verdict("eyJhbGciOiJIUzI1NiJ9..", &c), JWT_E_BAD_SIGNATURE);

	char *s = xasprintf("Bearer %s", tok);
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	s = xasprintf(" %s", tok);
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	/* Padding on the header part ("...J9" -> "...J9=="): not base64url as JWS writes it. */
	s = xasprintf("%.*s==%s", (int)(dot1 - tok), tok, dot1);
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	/* The standard alphabet's '+' in the header. */
	s = xasprintf("+%s", tok + 1);
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	/* A header that is not an object, or not JSON. */
	s = xasprintf("WyJIUzI1NiJd%s", dot1); /* ["HS256"] */
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	s = xasprintf("SFMyNTY%s", dot1); /* HS256 */
	assert_string_equal(verdict(s, &c), JWT_E_MALFORMED);
	free(s);
	assert_string_equal(verdict(NULL, &c), JWT_E_MALFORMED);
}

/* A valid token of exactly JWT_MAX_LEN bytes: "pad" grown one byte at a time until it fits. */
static char *token_of_max_len(void)
{
	for (size_t pad = 2800; pad < JWT_MAX_LEN; pad++) {
		char *p =
		    xasprintf("{\"sub\":\"s\",\"exp\":1767229200,\"pad\":\"%*s\"}", (int)pad, "");
		char *t = jwt_sign_hs256(JV_KEY, strlen(JV_KEY), NULL, p);
		free(p);
		if (!t)
			return NULL;
		if (strlen(t) == JWT_MAX_LEN)
			return t;
		free(t);
	}
	return NULL;
}

static void test_huge_tokens(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	char *t = token_of_max_len();
	assert_non_null(t);
	assert_string_equal(verdict(t, &c), "");
	free(t);
	/* The signer refuses what the verifier would. */
	char *p = xasprintf("{\"sub\":\"s\",\"exp\":1767229200,\"pad\":\"%*s\"}", JWT_MAX_LEN, "");
	assert_null(jwt_sign_hs256(JV_KEY, strlen(JV_KEY), NULL, p));
	free(p);
	/* One byte over, and a megabyte of dots and letters: refused on the length alone. */
	size_t n = 1 << 20;
	char *big = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 100 == 50 ? '.' : 'e';
	big[n] = '\0';
	assert_string_equal(verdict(big, &c), JWT_E_MALFORMED);
	big[JWT_MAX_LEN + 1] = '\0';
	assert_string_equal(verdict(big, &c), JWT_E_MALFORMED);
	free(big);
}

static void test_bad_configuration(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, NULL);
	c.keylen = JWT_KEY_MIN - 1;
	assert_string_equal(verdict(JV_VALID_TOKEN, &c), JWT_E_BAD_CONFIG);
	c = check_at(JV_NOW, NULL);
	c.key = NULL;
	assert_string_equal(verdict(JV_VALID_TOKEN, &c), JWT_E_BAD_CONFIG);
	c = check_at(JV_NOW, NULL);
	c.leeway = -1;
	assert_string_equal(verdict(JV_VALID_TOKEN, &c), JWT_E_BAD_CONFIG);
	c.leeway = JWT_LEEWAY_MAX + 1;
	assert_string_equal(verdict(JV_VALID_TOKEN, &c), JWT_E_BAD_CONFIG);
	c.leeway = JWT_LEEWAY_MAX;
	assert_string_equal(verdict(JV_VALID_TOKEN, &c), "");
	assert_null(jwt_sign_hs256("short", 5, NULL, "{}"));
	assert_null(jwt_sign_hs256(JV_KEY, strlen(JV_KEY), NULL, NULL));
}

static void test_mint_round_trip(void **state)
{
	(void)state;
	struct jwt_check c = check_at(JV_NOW, "alerts");
	struct jwt_claims claims;
	const char *code = NULL;
	const char *sub = "shop \"42\" \\ caf\xc3\xa9 / <b>";
	char *t = jwt_mint_hs256(JV_KEY, strlen(JV_KEY), sub, "alerts", JV_NOW, JV_NOW + 600);
	assert_non_null(t);
	assert_int_equal(jwt_verify_hs256(t, &c, &claims, &code), 0);
	assert_string_equal(claims.sub, sub);
	assert_int_equal(claims.iat, JV_NOW);
	assert_int_equal(claims.exp, JV_NOW + 600);
	free(t);
	/* Signed with another secret: the same claims, refused. */
	t = jwt_mint_hs256(JV_OTHER_KEY, strlen(JV_OTHER_KEY), sub, "alerts", JV_NOW, JV_NOW + 600);
	assert_string_equal(verdict(t, &c), JWT_E_BAD_SIGNATURE);
	free(t);
	char long_sub[JWT_SUB_MAX + 2];
	memset(long_sub, 's', sizeof(long_sub) - 1);
	long_sub[JWT_SUB_MAX + 1] = '\0';
	assert_null(jwt_mint_hs256(JV_KEY, strlen(JV_KEY), long_sub, NULL, JV_NOW, JV_NOW + 1));
	long_sub[JWT_SUB_MAX] = '\0';
	t = jwt_mint_hs256(JV_KEY, strlen(JV_KEY), long_sub, NULL, JV_NOW, JV_NOW + 1);
	c.audience = NULL;
	assert_string_equal(verdict(t, &c), "");
	free(t);
	assert_null(jwt_mint_hs256(JV_KEY, strlen(JV_KEY), "", NULL, JV_NOW, JV_NOW + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_python_vectors),
	    cmocka_unit_test(test_valid_token_gives_its_claims),
	    cmocka_unit_test(test_rfc7515_appendix_a1),
	    cmocka_unit_test(test_expiry_and_leeway_boundaries),
	    cmocka_unit_test(test_nbf_and_iat_in_the_future),
	    cmocka_unit_test(test_audience),
	    cmocka_unit_test(test_tampered_payload),
	    cmocka_unit_test(test_signature_of_right_length_but_wrong),
	    cmocka_unit_test(test_malformed_shapes),
	    cmocka_unit_test(test_huge_tokens),
	    cmocka_unit_test(test_bad_configuration),
	    cmocka_unit_test(test_mint_round_trip),
	};
	return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
