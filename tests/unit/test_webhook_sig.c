/*
 * Unit tests of common/webhook/webhook_sig.c: Meta's X-Hub-Signature-256 and
 * Twilio's X-Twilio-Signature. Expected MACs are published test vectors
 * (RFC 4231, twilio-python's test suite) or were computed independently
 * with `openssl dgst -hmac`. The file includes webhook_sig.c itself, as h2o's
 * unit tests do, to reach its static HMAC and sort helpers; libcommon.a's
 * webhook_sig.o is then never pulled in (every symbol it defines is defined
 * here first), so nothing is defined twice. webhook_sig.c asks for OpenSSL's
 * low-level digests with OPENSSL_SUPPRESS_DEPRECATED before its first OpenSSL
 * header; testutil.h includes OpenSSL headers earlier, so the request is made
 * here, first.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "testutil.h"

#include <openssl/hmac.h>

#include "app/form.h"
#include "webhook/webhook_sig.c"

/* RFC 4231 test case 2. */
#define RFC2_KEY "Jefe"
#define RFC2_DATA "what do ya want for nothing?"
#define RFC2_HEX "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define RFC2_HEADER "sha256=" RFC2_HEX

static int meta(const char *secret, const char *body, const char *header)
{
	return meta_signature_valid(secret, body, strlen(body), header);
}

/* A copy of header with the character at i replaced by c. */
static char *with_char(const char *header, size_t i, char c)
{
	char *s = xstrdup(header);
	s[i] = c;
	return s;
}

static void test_meta_accepts_rfc4231_case2(void **state)
{
	(void)state;
	assert_int_equal(meta(RFC2_KEY, RFC2_DATA, RFC2_HEADER), 1);
}

static void test_meta_accepts_rfc4231_case1_binary_key(void **state)
{
	(void)state;
	/* Key 0x0b x 20, data "Hi There". */
	char key[21];
	memset(key, 0x0b, 20);
	key[20] = '\0';
	assert_int_equal(
	    meta(key, "Hi There",
	         "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
	    1);
}

/* Keys longer than the 64-byte block are hashed first; a key of exactly 64 bytes is not. */
static void test_meta_accepts_rfc4231_case6_long_key(void **state)
{
	(void)state;
	char key[132];
	memset(key, 0xaa, 131);
	key[131] = '\0';
	assert_int_equal(
	    meta(key, "Test Using Larger Than Block-Size Key - Hash Key First",
	         "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
	    1);
	char block[65];
	memset(block, 'k', 64);
	block[64] = '\0';
	assert_int_equal(
	    meta(block, "exactly one block of key",
	         "sha256=baa93ea4ccc7062ed6870c5e7937dbd35ad7791df4e29df9addeb429ff491acf"),
	    1);
}

static void test_meta_accepts_uppercase_hex(void **state)
{
	(void)state;
	assert_int_equal(
	    meta(RFC2_KEY, RFC2_DATA,
	         "sha256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
	    1);
	assert_int_equal(
	    meta(RFC2_KEY, RFC2_DATA,
	         "sha256=5Bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	    1);
}

static void test_meta_hashes_exact_bytes_including_nul(void **state)
{
	(void)state;
	/* printf 'a\0b' | openssl dgst -sha256 -hmac Jefe */
	const char *h = "sha256=abe96d286949754c65051de08d3f8b1b5d35c314af100829f50c13954d98b7ea";
	assert_int_equal(meta_signature_valid(RFC2_KEY, "a\0b", 3, h), 1);
	assert_int_equal(meta_signature_valid(RFC2_KEY, "a\0b", 1, h), 0);
	assert_int_equal(meta_signature_valid(RFC2_KEY, "a\0c", 3, h), 0);
}

static void test_meta_accepts_empty_body(void **state)
{
	(void)state;
	/* printf '' | openssl dgst -sha256 -hmac Jefe */
	const char *h = "sha256=923598ca6d64af2a5dba79dcd021a8a0fe5c5f557519adaaf0ad532d4506dd30";
	assert_int_equal(meta_signature_valid(RFC2_KEY, "", 0, h), 1);
	assert_int_equal(meta_signature_valid(RFC2_KEY, NULL, 0, h), 1);
	assert_int_equal(meta_signature_valid(RFC2_KEY, NULL, 5, h), 0);
}

static void test_meta_accepts_webhook_body(void **state)
{
	(void)state;
	const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
	const char *h = "sha256=0ca28c0f1996234eb6829e59ad3c11a18161f6eb043943d601e420c312432cdf";
	assert_int_equal(meta("app-secret-1", body, h), 1);
	/* Same JSON, re-serialised with a space: a different body. */
	assert_int_equal(
	    meta("app-secret-1", "{\"object\": \"whatsapp_business_account\",\"entry\":[]}", h), 0);
}

static void test_meta_rejects_tampered_body(void **state)
{
	(void)state;
	assert_int_equal(meta(RFC2_KEY, "what do ya want for nothing!", RFC2_HEADER), 0);
	assert_int_equal(meta(RFC2_KEY, "what do ya want for nothing? ", RFC2_HEADER), 0);
	assert_int_equal(meta(RFC2_KEY, "", RFC2_HEADER), 0);
	/* One byte short. */
	assert_int_equal(
	    meta_signature_valid(RFC2_KEY, RFC2_DATA, strlen(RFC2_DATA) - 1, RFC2_HEADER), 0);
}

static void test_meta_rejects_tampered_signature(void **state)
{
	(void)state;
	size_t len = strlen(RFC2_HEADER);
	/* Change each hex digit in turn (a wrong digit anywhere must count). */
	for (size_t i = 7; i < len; i++) {
		char *h = with_char(RFC2_HEADER, i, RFC2_HEADER[i] == '0' ? '1' : '0');
		assert_int_equal(meta(RFC2_KEY, RFC2_DATA, h), 0);
		free(h);
	}
}

static void test_meta_rejects_wrong_secret(void **state)
{
	(void)state;
	assert_int_equal(meta("jefe", RFC2_DATA, RFC2_HEADER), 0);
	assert_int_equal(meta("Jefe ", RFC2_DATA, RFC2_HEADER), 0);
	assert_int_equal(meta("Jef", RFC2_DATA, RFC2_HEADER), 0);
}

static void test_meta_rejects_empty_or_null_secret(void **state)
{
	(void)state;
	/* The true HMAC-SHA256 with an empty key of an empty message (openssl dgst -hmac ''). */
	const char *h = "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
	assert_int_equal(meta_signature_valid("", "", 0, h), 0);
	assert_int_equal(meta_signature_valid(NULL, "", 0, h), 0);
	assert_int_equal(meta(NULL, RFC2_DATA, RFC2_HEADER), 0);
}

static void test_meta_rejects_missing_header(void **state)
{
	(void)state;
	assert_int_equal(meta(RFC2_KEY, RFC2_DATA, NULL), 0);
	assert_int_equal(meta(RFC2_KEY, RFC2_DATA, ""), 0);
	assert_int_equal(meta(RFC2_KEY, RFC2_DATA, "sha256="), 0);
}

static void test_meta_rejects_wrong_prefix(void **state)
{
	(void)state;
	const char *cases[] = {
	    "SHA256=" RFC2_HEX,  "sha256:" RFC2_HEX, "sha1=" RFC2_HEX,    " sha256=" RFC2_HEX,
	    "sha256 =" RFC2_HEX, "sha512=" RFC2_HEX, "xsha256=" RFC2_HEX, RFC2_HEX,
	    "ha256=" RFC2_HEX,
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (meta(RFC2_KEY, RFC2_DATA, cases[i]) != 0) {
			print_error("accepted \"%s\"\n", cases[i]);
			fail();
		}
	}
}

static void test_meta_rejects_wrong_length(void **state)
{
	(void)state;
	const char *cases[] = {
	    RFC2_HEADER "0",
	    RFC2_HEADER " ",
	    RFC2_HEADER "\n",
	    RFC2_HEADER RFC2_HEX,
	    "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384",
	    "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38",
	    "sha256=5bdcc146",
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (meta(RFC2_KEY, RFC2_DATA, cases[i]) != 0) {
			print_error("accepted \"%s\"\n", cases[i]);
			fail();
		}
	}
}

static void test_meta_rejects_non_hex(void **state)
{
	(void)state;
	const char bad[] = {'g', 'G', 'x', ' ', '-', '+', ':', '=', '\t', (char)0xc3};
	for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
		char *h = with_char(RFC2_HEADER, 20, bad[k]);
		assert_int_equal(meta(RFC2_KEY, RFC2_DATA, h), 0);
		free(h);
	}
	/* A NUL in the middle shortens the header. */
	char *h = with_char(RFC2_HEADER, 40, '\0');
	assert_int_equal(meta(RFC2_KEY, RFC2_DATA, h), 0);
	free(h);
}

/* ---- Twilio ---- */

#define TW_TOKEN "12345"
#define TW_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_EXPECTED "RSOYDt4T1cUTdK1PDd93/VVr8B8="

static struct form parse_form(const char *body)
{
	struct form f;
	char *err = NULL;
	int r = form_parse(body, strlen(body), &f, &err);
	if (r != 0)
		print_error("form_parse: %s\n", err ? err : "?");
	free(err);
	assert_int_equal(r, 0);
	return f;
}

/* twilio-python's example request, sent in an order of our own. */
static const char *tw_body = "To=%2B18005551212&Digits=1234&From=%2B14158675309&"
                             "CallSid=CA1234567890ABCDE&Caller=%2B14158675309";

static void test_twilio_signature_matches_known_example(void **state)
{
	(void)state;
	struct form f = parse_form(tw_body);
	char sig[TWILIO_SIG_LEN + 1];
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, sizeof(sig)), 0);
	assert_string_equal(sig, TW_EXPECTED);
	assert_int_equal(twilio_signature_valid(TW_TOKEN, TW_URL, &f, TW_EXPECTED), 1);
	form_release(&f);
}

static void test_twilio_signature_from_hand_built_form(void **state)
{
	(void)state;
	struct form_kv kv[] = {
	    {"CallSid", "CA1234567890ABCDE"}, {"Digits", "1234"},         {"From", "+14158675309"},
	    {"To", "+18005551212"},           {"Caller", "+14158675309"},
	};
	struct form f = {kv, ARRAY_LEN(kv)};
	char sig[TWILIO_SIG_LEN + 1];
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, sizeof(sig)), 0);
	assert_string_equal(sig, TW_EXPECTED);
	/* The caller's array is not reordered. */
	assert_string_equal(kv[0].key, "CallSid");
	assert_string_equal(kv[4].key, "Caller");
}

static void test_twilio_signature_independent_of_param_order(void **state)
{
	(void)state;
	const char *bodies[] = {
	    "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&"
	    "To=%2B18005551212",
	    "Caller=%2B14158675309&CallSid=CA1234567890ABCDE&To=%2B18005551212&"
	    "From=%2B14158675309&Digits=1234",
	};
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		struct form f = parse_form(bodies[i]);
		assert_int_equal(twilio_signature_valid(TW_TOKEN, TW_URL, &f, TW_EXPECTED), 1);
		form_release(&f);
	}
}

static void test_twilio_signature_sorts_duplicate_keys_by_value(void **state)
{
	(void)state;
	/* twilio-python's duplicate-parameter vector; "Sid" sorts before "SidAccount". */
	const char *expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
	const char *bodies[] = {
	    "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
	    "Digits=1234&Digits=5678&SidAccount=AC123&Sid=CA123",
	};
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		struct form f = parse_form(bodies[i]);
		char sig[TWILIO_SIG_LEN + 1];
		assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, sizeof(sig)), 0);
		assert_string_equal(sig, expected);
		form_release(&f);
	}
}

static void test_twilio_signature_sorts_keys_in_byte_order(void **state)
{
	(void)state;
	/* 'B' (0x42) sorts before 'a' and 'b': data "https://example.com/hookB1a2b3". */
	struct form f = parse_form("b=3&a=2&B=1");
	char sig[TWILIO_SIG_LEN + 1];
	assert_int_equal(twilio_signature("tok", "https://example.com/hook", &f, sig, sizeof(sig)),
	                 0);
	assert_string_equal(sig, "6n7i3nsaU5utcp1xUiwyVjj9LLw=");
	form_release(&f);
}

static void test_twilio_signature_uses_decoded_values(void **state)
{
	(void)state;
	/* Data "https://example.com/hookBodycafé & ack 12Fromwhatsapp:+15551234567". */
	struct form f = parse_form("From=whatsapp%3A%2B15551234567&Body=caf%C3%A9+%26+ack+12");
	assert_int_equal(twilio_signature_valid("tok", "https://example.com/hook", &f,
	                                        "tekRx5mDE/2D+T6pnCMakp+0WUg="),
	                 1);
	form_release(&f);
}

static void test_twilio_signature_without_params(void **state)
{
	(void)state;
	char sig[TWILIO_SIG_LEN + 1];
	struct form empty = {NULL, 0};
	assert_int_equal(
	    twilio_signature("tok", "https://example.com/hook?x=1", NULL, sig, sizeof(sig)), 0);
	assert_string_equal(sig, "+STmb7eHLE9/ORIrXDG8NJ4Z3kI=");
	assert_int_equal(
	    twilio_signature("tok", "https://example.com/hook?x=1", &empty, sig, sizeof(sig)), 0);
	assert_string_equal(sig, "+STmb7eHLE9/ORIrXDG8NJ4Z3kI=");
}

/* RFC 2202 case 6 (HMAC-SHA1, an 80-byte key, hashed first), and a 65-byte key. */
static void test_twilio_signature_long_keys(void **state)
{
	(void)state;
	char sig[TWILIO_SIG_LEN + 1], key[81];
	memset(key, 0xaa, 80);
	key[80] = '\0';
	assert_int_equal(twilio_signature(key,
	                                  "Test Using Larger Than Block-Size Key - Hash Key First",
	                                  NULL, sig, sizeof(sig)),
	                 0);
	assert_string_equal(sig, "qkrl4VJy0A6VcFY3zoo7Ve1AIRI=");
	memset(key, 'k', 65);
	key[65] = '\0';
	assert_int_equal(twilio_signature(key, "https://example.com/hook", NULL, sig, sizeof(sig)),
	                 0);
	assert_string_equal(sig, "Ch9zhnl8r2BNKfNyltPdtLJbP3o=");
}

static void test_twilio_signature_url_is_signed_exactly(void **state)
{
	(void)state;
	struct form f = parse_form(tw_body);
	/* twilio-python: the same request signed with ":443" in the URL. */
	const char *with_port = "kvajT1Ptam85bY51eRf/AJRuM3w=";
	assert_int_equal(twilio_signature_valid(TW_TOKEN,
	                                        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
	                                        &f, with_port),
	                 1);
	assert_int_equal(twilio_signature_valid(TW_TOKEN, TW_URL, &f, with_port), 0);
	assert_int_equal(twilio_signature_valid(TW_TOKEN,
	                                        "http://mycompany.com/myapp.php?foo=1&bar=2", &f,
	                                        TW_EXPECTED),
	                 0);
	assert_int_equal(twilio_signature_valid(TW_TOKEN, "https://mycompany.com/myapp.php?foo=1",
	                                        &f, TW_EXPECTED),
	                 0);
	form_release(&f);
}

static void test_twilio_signature_rejects_small_buffer_and_bad_args(void **state)
{
	(void)state;
	struct form f = parse_form(tw_body);
	char sig[64];
	memset(sig, 'x', sizeof(sig));
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, TWILIO_SIG_LEN), -1);
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, 0), -1);
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, NULL, sizeof(sig)), -1);
	assert_int_equal(twilio_signature("", TW_URL, &f, sig, sizeof(sig)), -1);
	assert_int_equal(twilio_signature(NULL, TW_URL, &f, sig, sizeof(sig)), -1);
	assert_int_equal(twilio_signature(TW_TOKEN, NULL, &f, sig, sizeof(sig)), -1);
	assert_int_equal(twilio_signature(TW_TOKEN, TW_URL, &f, sig, TWILIO_SIG_LEN + 1), 0);
	assert_string_equal(sig, TW_EXPECTED);
	form_release(&f);
}

static void test_twilio_valid_rejects_tampered_params(void **state)
{
	(void)state;
	const char *bodies[] = {
	    /* Digits changed */
	    "To=%2B18005551212&Digits=1235&From=%2B14158675309&CallSid=CA1234567890ABCDE&"
	    "Caller=%2B14158675309",
	    /* one parameter more */
	    "To=%2B18005551212&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE&"
	    "Caller=%2B14158675309&Body=hi",
	    /* one parameter less */
	    "To=%2B18005551212&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE",
	    /* value moved to another key */
	    "To=%2B18005551212&Digits=&From=%2B14158675309&CallSid=CA1234567890ABCDE1234&"
	    "Caller=%2B14158675309",
	};
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		struct form f = parse_form(bodies[i]);
		if (twilio_signature_valid(TW_TOKEN, TW_URL, &f, TW_EXPECTED) != 0) {
			print_error("accepted body %zu\n", i);
			fail();
		}
		form_release(&f);
	}
}

static void test_twilio_valid_rejects_bad_signature(void **state)
{
	(void)state;
	struct form f = parse_form(tw_body);
	const char *cases[] = {
	    "RSOYDt4T1cUTdK1PDd93/VVr8B8",   /* truncated */
	    "RSOYDt4T1cUTdK1PDd93/VVr8B8==", /* too long */
	    "RSOYDt4T1cUTdK1PDd93/VVr8B9=",  /* one character */
	    "rsoydt4t1cutdk1pdd93/vvr8b8=",  /* case matters in Base64 */
	    " RSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n", "", "=",
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (twilio_signature_valid(TW_TOKEN, TW_URL, &f, cases[i]) != 0) {
			print_error("accepted \"%s\"\n", cases[i]);
			fail();
		}
	}
	assert_int_equal(twilio_signature_valid(TW_TOKEN, TW_URL, &f, NULL), 0);
	form_release(&f);
}

static void test_twilio_valid_rejects_wrong_or_empty_token(void **state)
{
	(void)state;
	struct form f = parse_form(tw_body);
	assert_int_equal(twilio_signature_valid("12346", TW_URL, &f, TW_EXPECTED), 0);
	assert_int_equal(twilio_signature_valid("", TW_URL, &f, TW_EXPECTED), 0);
	assert_int_equal(twilio_signature_valid(NULL, TW_URL, &f, TW_EXPECTED), 0);
	assert_int_equal(twilio_signature_valid(TW_TOKEN, NULL, &f, TW_EXPECTED), 0);
	form_release(&f);
}

/* ---- the static helpers: the HMAC over the low-level digests, the pair order ---- */

/* hmac_init/update/final over data cut in pieces of step bytes, against OpenSSL's HMAC(). */
static void assert_hmac_matches_openssl(int sha1, const unsigned char *key, size_t klen,
                                        const unsigned char *data, size_t n, size_t step)
{
	unsigned char ours[SHA256_DIGEST_LENGTH], theirs[EVP_MAX_MD_SIZE];
	unsigned int theirs_len = 0;
	struct hmac h;
	hmac_init(&h, sha1, key, klen);
	assert_int_equal(hmac_len(&h), sha1 ? 20 : 32);
	for (size_t off = 0; off < n; off += step)
		hmac_update(&h, data + off, n - off < step ? n - off : step);
	hmac_final(&h, ours);
	assert_non_null(HMAC(sha1 ? EVP_sha1() : EVP_sha256(), klen ? key : (const void *)"",
	                     (int)klen, data, n, theirs, &theirs_len));
	assert_int_equal(theirs_len, sha1 ? 20 : 32);
	assert_memory_equal(ours, theirs, theirs_len);
}

static void test_hmac_equals_openssl_for_keys_around_the_block_size(void **state)
{
	(void)state;
	unsigned char key[200], data[300];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(255 - i);
	/* 64 is the block: shorter keys are padded, longer ones hashed first. */
	static const size_t klens[] = {0, 1, 20, 32, 63, 64, 65, 128, 200};
	for (int sha1 = 0; sha1 <= 1; sha1++)
		for (size_t k = 0; k < ARRAY_LEN(klens); k++)
			assert_hmac_matches_openssl(sha1, key, klens[k], data, sizeof(data),
			                            sizeof(data));
}

static void test_hmac_is_the_same_whatever_the_pieces(void **state)
{
	(void)state;
	const unsigned char *key = (const unsigned char *)"a webhook secret";
	unsigned char data[257];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i; /* NUL bytes included */
	static const size_t steps[] = {1, 3, 63, 64, 65, 257};
	for (int sha1 = 0; sha1 <= 1; sha1++)
		for (size_t k = 0; k < ARRAY_LEN(steps); k++)
			assert_hmac_matches_openssl(sha1, key, 16, data, sizeof(data), steps[k]);
	assert_hmac_matches_openssl(0, key, 16, data, 0, 1); /* an empty message */
}

static void test_hmac_final_wipes_the_state(void **state)
{
	(void)state;
	struct hmac h, zero;
	unsigned char mac[SHA256_DIGEST_LENGTH];
	memset(&zero, 0, sizeof(zero));
	hmac_init(&h, 0, "secret", 6);
	hmac_update(&h, "body", 4);
	hmac_final(&h, mac);
	assert_memory_equal(&h, &zero, sizeof(h));
}

static int kv_order(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct form_kv x = {(char *)k1, (char *)v1}, y = {(char *)k2, (char *)v2};
	const struct form_kv *px = &x, *py = &y;
	int c = kv_cmp(&px, &py);
	return c < 0 ? -1 : c > 0;
}

static void test_kv_cmp_orders_by_key_then_value_in_byte_order(void **state)
{
	(void)state;
	assert_int_equal(kv_order("Body", "z", "From", "a"), -1);
	assert_int_equal(kv_order("From", "a", "Body", "z"), 1);
	assert_int_equal(kv_order("To", "b", "To", "a"), 1); /* same key: by value */
	assert_int_equal(kv_order("To", "a", "To", "a"), 0);
	assert_int_equal(kv_order("Z", "", "a", ""), -1);       /* uppercase before lowercase */
	assert_int_equal(kv_order("a", "", "a_", ""), -1);      /* a prefix first */
	assert_int_equal(kv_order("\xc3\xa9", "", "z", ""), 1); /* bytes, unsigned */
	assert_int_equal(kv_order("k", "", "k", "\x01"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meta_accepts_rfc4231_case2),
	    cmocka_unit_test(test_meta_accepts_rfc4231_case6_long_key),
	    cmocka_unit_test(test_meta_accepts_rfc4231_case1_binary_key),
	    cmocka_unit_test(test_meta_accepts_uppercase_hex),
	    cmocka_unit_test(test_meta_hashes_exact_bytes_including_nul),
	    cmocka_unit_test(test_meta_accepts_empty_body),
	    cmocka_unit_test(test_meta_accepts_webhook_body),
	    cmocka_unit_test(test_meta_rejects_tampered_body),
	    cmocka_unit_test(test_meta_rejects_tampered_signature),
	    cmocka_unit_test(test_meta_rejects_wrong_secret),
	    cmocka_unit_test(test_meta_rejects_empty_or_null_secret),
	    cmocka_unit_test(test_meta_rejects_missing_header),
	    cmocka_unit_test(test_meta_rejects_wrong_prefix),
	    cmocka_unit_test(test_meta_rejects_wrong_length),
	    cmocka_unit_test(test_meta_rejects_non_hex),
	    cmocka_unit_test(test_twilio_signature_matches_known_example),
	    cmocka_unit_test(test_twilio_signature_from_hand_built_form),
	    cmocka_unit_test(test_twilio_signature_independent_of_param_order),
	    cmocka_unit_test(test_twilio_signature_sorts_duplicate_keys_by_value),
	    cmocka_unit_test(test_twilio_signature_sorts_keys_in_byte_order),
	    cmocka_unit_test(test_twilio_signature_uses_decoded_values),
	    cmocka_unit_test(test_twilio_signature_without_params),
	    cmocka_unit_test(test_twilio_signature_long_keys),
	    cmocka_unit_test(test_twilio_signature_url_is_signed_exactly),
	    cmocka_unit_test(test_twilio_signature_rejects_small_buffer_and_bad_args),
	    cmocka_unit_test(test_twilio_valid_rejects_tampered_params),
	    cmocka_unit_test(test_twilio_valid_rejects_bad_signature),
	    cmocka_unit_test(test_twilio_valid_rejects_wrong_or_empty_token),
	    cmocka_unit_test(test_hmac_equals_openssl_for_keys_around_the_block_size),
	    cmocka_unit_test(test_hmac_is_the_same_whatever_the_pieces),
	    cmocka_unit_test(test_hmac_final_wipes_the_state),
	    cmocka_unit_test(test_kv_cmp_orders_by_key_then_value_in_byte_order),
	};
	return cmocka_run_group_tests_name("webhook_sig", tests, NULL, NULL);
}
