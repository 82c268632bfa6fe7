/*
 * Unit tests of common/core/stdwebhook.c: Standard Webhooks "v1" signatures
 * (issue 17).
 *
 * The vectors are the reference implementation's, from
 * github.com/standard-webhooks/standard-webhooks (commit b2fa7b87):
 *  - libraries/go/webhook_test.go TestWebhookSign (also javascript/src/webhook.test.ts,
 *    python/tests/test_webhooks.py): secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, id
 *    msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330, body {"test": 2432232314};
 *  - libraries/rust/src/lib.rs test_sign: secret whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD;
 *  - the wrong signatures of their "invalid signature" and "partial signature" cases, the
 *    rotated list of their "valid multi sig" case, their "old"/"new timestamp" cases (tolerance
 *    and 1 s either way) and "invalid timestamp" ("hello").
 */
#include "testutil.h"

#include "core/base64.h"
#include "core/stdwebhook.h"

#define REF_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define REF_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define REF_TS 1614265330LL
#define REF_TS_S "1614265330"
#define REF_BODY "{\"test\": 2432232314}"
#define REF_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* Wrong ones from the reference tests: python's (a changed last character), go's. */
#define REF_BAD_PY "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
#define REF_BAD_GO "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
#define TOL STDWEBHOOK_TOLERANCE

static struct stdwebhook_key ref_key(void)
{
	struct stdwebhook_key k;
	const char *err = NULL;
	assert_int_equal(stdwebhook_key_parse(REF_SECRET, &k, &err), 0);
	return k;
}

/* The code for the reference request with these headers at now ("" when accepted). */
static const char *verdict_at(const char *id, const char *ts, const char *sigs, long long now)
{
	struct stdwebhook_key k = ref_key();
	const char *code = "unset";
	int rc = stdwebhook_verify(&k, id, ts, sigs, REF_BODY, strlen(REF_BODY), now, TOL, &code);
	assert_true((rc == 0) == (code == NULL));
	return rc == 0 ? "" : code;
}

static const char *verdict(const char *sigs)
{
	return verdict_at(REF_ID, REF_TS_S, sigs, REF_TS);
}

static void test_reference_sign_vectors(void **state)
{
	(void)state;
	struct stdwebhook_key k = ref_key();
	char sig[STDWEBHOOK_SIGNATURE_LEN + 1];
	assert_int_equal(k.len, 24);
	assert_int_equal(
	    stdwebhook_sign(&k, REF_ID, REF_TS, REF_BODY, strlen(REF_BODY), sig, sizeof(sig)), 0);
	assert_string_equal(sig, REF_SIG);

	const char *err = NULL;
	const char *body = "{\"email\":\"test@example.com\",\"username\":\"test_user\"}";
	assert_int_equal(stdwebhook_key_parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", &k, &err),
	                 0);
	assert_int_equal(stdwebhook_sign(&k, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body,
	                                 strlen(body), sig, sizeof(sig)),
	                 0);
	assert_string_equal(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
	/* Rust's "no verify" case: a signature of something else. */
	const char *code = NULL;
	assert_int_equal(stdwebhook_verify(&k, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
	                                   "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=", body,
	                                   strlen(body), 1649367553, TOL, &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_BAD_SIGNATURE);
	assert_int_equal(stdwebhook_verify(&k, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", "1649367553",
	                                   "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=", body,
	                                   strlen(body), 1649367553, TOL, &code),
	                 0);
}

static void test_valid_signature(void **state)
{
	(void)state;
	assert_string_equal(verdict(REF_SIG), "");
}

static void test_wrong_and_partial_signatures(void **state)
{
	(void)state;
	assert_string_equal(verdict(REF_BAD_PY), STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict(REF_BAD_GO), STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("v1,"), STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("v1,dawfeoifkpqwoekfpqoekf"), STDWEBHOOK_E_BAD_SIGNATURE);
	/* Right MAC, wrong version tag, or no tag: not a v1 signature. */
	assert_string_equal(verdict("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	/* Right MAC, re-spelt: unpadded, url alphabet, truncated, with a byte more. */
	assert_string_equal(verdict("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O=="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OEA"),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	/* A non-zero spare bit in the last character: another spelling of a near MAC. */
	assert_string_equal(verdict("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
}

/* Go's "valid multi sig": during a rotation the list holds old, unknown and current ones. */
static void test_rotated_list(void **state)
{
	(void)state;
	assert_string_equal(verdict(REF_BAD_GO
	                            " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " REF_SIG
	                            " " REF_BAD_GO),
	                    "");
	assert_string_equal(verdict(REF_SIG " " REF_BAD_PY), "");
	assert_string_equal(verdict("v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ== " REF_SIG), "");
	assert_string_equal(verdict("junk,,, nocomma " REF_SIG), "");
	/* Extra spaces between and around entries are tolerated. */
	assert_string_equal(verdict("  " REF_BAD_PY "   " REF_SIG "  "), "");
	assert_string_equal(verdict(REF_BAD_GO " " REF_BAD_PY), STDWEBHOOK_E_BAD_SIGNATURE);
	/* Only spaces: present, but holding no signature. */
	assert_string_equal(verdict("   "), STDWEBHOOK_E_BAD_SIGNATURE);
}

static void test_timestamp_window_both_ways(void **state)
{
	(void)state;
	/* The bounds are inclusive, as in the reference: tolerance either way is accepted... */
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_SIG, REF_TS + TOL), "");
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_SIG, REF_TS - TOL), "");
	/* ...one second more is not. */
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_SIG, REF_TS + TOL + 1),
	                    STDWEBHOOK_E_TOO_OLD);
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_SIG, REF_TS - TOL - 1),
	                    STDWEBHOOK_E_TOO_NEW);
	/* A replay days later, and a timestamp in year 2000 (go's "invalid timestamp"). */
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_SIG, REF_TS + 86400 * 3),
	                    STDWEBHOOK_E_TOO_OLD);
	assert_string_equal(verdict_at(REF_ID, "946684800", REF_SIG, REF_TS), STDWEBHOOK_E_TOO_OLD);
	/* The window is checked before the MAC: a stale request with a bad MAC says too_old. */
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, REF_BAD_PY, REF_TS + TOL + 1),
	                    STDWEBHOOK_E_TOO_OLD);
	/* A tolerance of 0: only the same second. */
	struct stdwebhook_key k = ref_key();
	const char *code = NULL;
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY), REF_TS, 0, &code),
	                 0);
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY), REF_TS + 1, 0, &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_TOO_OLD);
}

/* The MAC covers id, timestamp and body: changing any of them breaks it. */
static void test_tampering(void **state)
{
	(void)state;
	struct stdwebhook_key k = ref_key();
	const char *code = NULL;
	const char *body = "{\"test\": 2432232315}";
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, body, strlen(body),
	                                   REF_TS, TOL, &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_BAD_SIGNATURE);
	/* The body is bytes: one more (a NUL, a newline) is another body. */
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY) + 1, REF_TS, TOL, &code),
	                 -1);
	assert_string_equal(verdict_at("msg_p5jXN8AQM9LWM0D4loKWxJeK", REF_TS_S, REF_SIG, REF_TS),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	assert_string_equal(verdict_at(REF_ID, "1614265331", REF_SIG, REF_TS),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	/* The same instant written with a leading zero is another text, signed differently. */
	assert_string_equal(verdict_at(REF_ID, "01614265330", REF_SIG, REF_TS),
	                    STDWEBHOOK_E_BAD_SIGNATURE);
	/* Another key. */
	const char *err = NULL;
	assert_int_equal(stdwebhook_key_parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", &k, &err),
	                 0);
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY), REF_TS, TOL, &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_BAD_SIGNATURE);
}

static void test_missing_and_malformed_headers(void **state)
{
	(void)state;
	assert_string_equal(verdict_at(NULL, REF_TS_S, REF_SIG, REF_TS),
	                    STDWEBHOOK_E_MISSING_HEADER);
	assert_string_equal(verdict_at("", REF_TS_S, REF_SIG, REF_TS), STDWEBHOOK_E_MISSING_HEADER);
	assert_string_equal(verdict_at(REF_ID, NULL, REF_SIG, REF_TS), STDWEBHOOK_E_MISSING_HEADER);
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, NULL, REF_TS),
	                    STDWEBHOOK_E_MISSING_HEADER);
	assert_string_equal(verdict_at(REF_ID, REF_TS_S, "", REF_TS), STDWEBHOOK_E_MISSING_HEADER);

	const char *bad_ts[] = {"hello",       "-1614265330", "+1614265330",
	                        " 1614265330", "1614265330 ", "1614265330.5",
	                        "1e9",         "0x60380",     "1234567890123"};
	for (size_t i = 0; i < ARRAY_LEN(bad_ts); i++)
		assert_string_equal(verdict_at(REF_ID, bad_ts[i], REF_SIG, REF_TS),
		                    STDWEBHOOK_E_MALFORMED);
	const char *bad_id[] = {"msg.1", "msg 1", "msg\t1", "msg\x7f", "msg_\xc3\xa9"};
	for (size_t i = 0; i < ARRAY_LEN(bad_id); i++)
		assert_string_equal(verdict_at(bad_id[i], REF_TS_S, REF_SIG, REF_TS),
		                    STDWEBHOOK_E_MALFORMED);
	char id[STDWEBHOOK_ID_MAX + 2];
	memset(id, 'i', sizeof(id) - 1);
	id[STDWEBHOOK_ID_MAX + 1] = '\0';
	assert_string_equal(verdict_at(id, REF_TS_S, REF_SIG, REF_TS), STDWEBHOOK_E_MALFORMED);
	id[STDWEBHOOK_ID_MAX] = '\0';
	assert_string_equal(verdict_at(id, REF_TS_S, REF_SIG, REF_TS), STDWEBHOOK_E_BAD_SIGNATURE);

	/* A signature header past the cap is refused before any MAC, even holding a good one. */
	size_t n = STDWEBHOOK_SIG_HEADER_MAX + 1;
	char *big = xmalloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, REF_SIG, strlen(REF_SIG));
	big[n] = '\0';
	assert_string_equal(verdict(big), STDWEBHOOK_E_MALFORMED);
	big[n - 1] = '\0';
	assert_string_equal(verdict(big), "");
	free(big);
}

/* What a sender of ours signs, we accept; with a NUL in the body and an empty body too. */
static void test_sign_verify_round_trip(void **state)
{
	(void)state;
	struct stdwebhook_key k = ref_key();
	char sig[STDWEBHOOK_SIGNATURE_LEN + 1];
	const char *code = NULL;
	const char body[] = "{\"a\":1}\0tail";
	assert_int_equal(
	    stdwebhook_sign(&k, "evt_1", 1767225600, body, sizeof(body), sig, sizeof(sig)), 0);
	assert_int_equal(stdwebhook_verify(&k, "evt_1", "1767225600", sig, body, sizeof(body),
	                                   1767225600, TOL, &code),
	                 0);
	assert_int_equal(stdwebhook_verify(&k, "evt_1", "1767225600", sig, body, strlen(body),
	                                   1767225600, TOL, &code),
	                 -1);
	assert_int_equal(stdwebhook_sign(&k, "evt_2", 1767225600, NULL, 0, sig, sizeof(sig)), 0);
	assert_int_equal(
	    stdwebhook_verify(&k, "evt_2", "1767225600", sig, NULL, 0, 1767225600, TOL, &code), 0);
	/* The signer refuses what the verifier would refuse, and a short buffer. */
	assert_int_equal(stdwebhook_sign(&k, "evt.1", 1767225600, "x", 1, sig, sizeof(sig)), -1);
	assert_int_equal(stdwebhook_sign(&k, "", 1767225600, "x", 1, sig, sizeof(sig)), -1);
	assert_int_equal(stdwebhook_sign(&k, "evt_1", -1, "x", 1, sig, sizeof(sig)), -1);
	assert_int_equal(stdwebhook_sign(&k, "evt_1", 1767225600, "x", 1, sig, sizeof(sig) - 1),
	                 -1);
}

static void test_secret_parsing(void **state)
{
	(void)state;
	struct stdwebhook_key k;
	const char *err = NULL;
	const char *bad[] = {
	    NULL,
	    "",
	    "whsec_",
	    "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", /* the bare key: the setting wants the prefix */
	    "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  /* the prefix in the wrong case */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",   /* not a multiple of 4 */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ", /* a trailing space */
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w",  /* the url alphabet */
	    "whsec_dHdlbnR5LXRocmVlLWJ5dGUta2V5ISE=",  /* 23 bytes: under the spec's 24 */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		err = NULL;
		memset(&k, 0x55, sizeof(k));
		assert_int_equal(stdwebhook_key_parse(bad[i], &k, &err), -1);
		assert_non_null(err);
		assert_int_equal(k.len, 0);
		for (size_t j = 0; j < sizeof(k.bytes); j++)
			assert_int_equal(k.bytes[j], 0);
	}
	/* 64 bytes is the most; 65 is refused. */
	unsigned char raw[65];
	char b64[100], secret[120];
	memset(raw, 0xa5, sizeof(raw));
	for (size_t len = 64; len <= 65; len++) {
		assert_true(base64_encode(raw, len, BASE64_STD, b64, sizeof(b64)) > 0);
		snprintf(secret, sizeof(secret), "whsec_%s", b64);
		assert_int_equal(stdwebhook_key_parse(secret, &k, &err), len == 64 ? 0 : -1);
	}
	assert_int_equal(stdwebhook_key_parse(REF_SECRET, &k, &err), 0);
	stdwebhook_key_wipe(&k);
	assert_int_equal(k.len, 0);
	/* A key that was never parsed (or was wiped) is a configuration error, not a refusal. */
	const char *code = NULL;
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY), REF_TS, TOL, &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_BAD_CONFIG);
	k = ref_key();
	assert_int_equal(stdwebhook_verify(&k, REF_ID, REF_TS_S, REF_SIG, REF_BODY,
	                                   strlen(REF_BODY), REF_TS, STDWEBHOOK_TOLERANCE_MAX + 1,
	                                   &code),
	                 -1);
	assert_string_equal(code, STDWEBHOOK_E_BAD_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_sign_vectors),
	    cmocka_unit_test(test_valid_signature),
	    cmocka_unit_test(test_wrong_and_partial_signatures),
	    cmocka_unit_test(test_rotated_list),
	    cmocka_unit_test(test_timestamp_window_both_ways),
	    cmocka_unit_test(test_tampering),
	    cmocka_unit_test(test_missing_and_malformed_headers),
	    cmocka_unit_test(test_sign_verify_round_trip),
	    cmocka_unit_test(test_secret_parsing),
	};
	return cmocka_run_group_tests_name("stdwebhook", tests, NULL, NULL);
}
