/*
 * Unit tests of common/core/hmac.c: HMAC-SHA256 against RFC 4231's test
 * cases, SHA-256 against FIPS 180-2's "abc" and the empty string, keys
 * around the 64-byte block (computed independently with Python's hmac).
 */
#include "testutil.h"

#include "core/hmac.h"

/* The hex HMAC-SHA256 of key and data. */
static void mac_hex(const void *key, size_t klen, const void *data, size_t len,
                    char out[SHA256_HEX_SIZE])
{
	unsigned char mac[SHA256_LEN];
	hmac_sha256(key, klen, data, len, mac);
	hex_encode(mac, sizeof(mac), out);
}

static void test_rfc4231_cases_1_2_7(void **state)
{
	(void)state;
	char hex[SHA256_HEX_SIZE];
	unsigned char key[131];

	memset(key, 0x0b, 20);
	mac_hex(key, 20, "Hi There", 8, hex);
	assert_string_equal(hex,
	                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	mac_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Case 7: a key longer than the block is hashed first. */
	const char *data = "This is a test using a larger than block-size key and a larger than "
	                   "block-size data. The key needs to be hashed before being used by the "
	                   "HMAC algorithm.";
	memset(key, 0xaa, sizeof(key));
	mac_hex(key, sizeof(key), data, strlen(data), hex);
	assert_string_equal(hex,
	                    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_keys_at_the_block_boundary(void **state)
{
	(void)state;
	char hex[SHA256_HEX_SIZE], key[65];
	memset(key, 'k', sizeof(key));
	mac_hex(key, 64, "exactly one block of key", 24, hex);
	assert_string_equal(hex,
	                    "baa93ea4ccc7062ed6870c5e7937dbd35ad7791df4e29df9addeb429ff491acf");
	mac_hex(key, 65, "one byte over a block", 21, hex);
	assert_string_equal(hex,
	                    "a9859b9179dcdfa882e85bd94059f8456e543d377a10320a7cfb213bbdc5ea92");
}

static void test_incremental_equals_one_call_and_wipes_state(void **state)
{
	(void)state;
	unsigned char a[SHA256_LEN], b[SHA256_LEN];
	struct hmac_sha256 h, zero;
	const char *msg = "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}";

	hmac_sha256("key", 3, msg, strlen(msg), a);
	hmac_sha256_init(&h, "key", 3);
	hmac_sha256_update(&h, msg, 5);
	hmac_sha256_update(&h, msg + 5, 0);
	hmac_sha256_update(&h, msg + 5, strlen(msg) - 5);
	hmac_sha256_final(&h, b);
	assert_memory_equal(a, b, SHA256_LEN);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&h, &zero, sizeof(h));
}

static void test_sha256_fips_vectors(void **state)
{
	(void)state;
	unsigned char md[SHA256_LEN];
	char hex[SHA256_HEX_SIZE];
	sha256("abc", 3, md);
	hex_encode(md, sizeof(md), hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256(NULL, 0, md);
	hex_encode(md, sizeof(md), hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4231_cases_1_2_7),
	    cmocka_unit_test(test_keys_at_the_block_boundary),
	    cmocka_unit_test(test_incremental_equals_one_call_and_wipes_state),
	    cmocka_unit_test(test_sha256_fips_vectors),
	};
	return cmocka_run_group_tests_name("hmac", tests, NULL, NULL);
}
