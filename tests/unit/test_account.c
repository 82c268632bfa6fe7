/*
 * Unit tests of common/delivery/account.c and what providers declare about
 * themselves (provider.h): channels, capability flags and each provider's
 * own error-code table, which callers use instead of testing a name.
 */
#include "testutil.h"

#include "delivery/account.h"
#include "delivery/provider.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static void test_operator_account_is_id_1_whatsapp_no_tenant_with_the_config(void **state)
{
	(void)state;
	struct account a;
	memset(&a, 0x5a, sizeof(a));
	account_operator(&a, &cfg, &provider_meta);
	assert_int_equal(a.id, ACCOUNT_OPERATOR_ID);
	assert_int_equal(a.id, 1);
	assert_int_equal(a.channel, CHANNEL_WHATSAPP);
	assert_int_equal(a.tenant_id, 0);
	assert_ptr_equal(a.provider, &provider_meta);
	assert_ptr_equal(a.cfg, &cfg);
}

static void test_operator_account_keeps_the_whatsapp_pace(void **state)
{
	(void)state;
	struct account a;
	cfg.send_rate_per_second = 80;
	cfg.recipient_min_interval_s = 6;
	cfg.send_timeout_ms = 10000;
	cfg.retry_base_s = 15;
	cfg.retry_max_s = 900;
	cfg.smtp_rate_per_second = 5;
	cfg.smtp_timeout_ms = 30000;
	cfg.smtp_retry_base_s = 60;
	account_operator(&a, &cfg, &provider_meta);
	assert_int_equal(a.rate_per_second, 80);
	assert_int_equal(a.recipient_min_interval_s, 6);
	assert_int_equal(a.timeout_ms, 10000);
	assert_int_equal(a.retry_base_s, 15);
	assert_int_equal(a.retry_max_s, 900);
}

static void test_inbound_today_belongs_to_the_operator_account(void **state)
{
	(void)state;
	assert_int_equal(account_receiving(&cfg, "meta", "1234567890"), ACCOUNT_OPERATOR_ID);
	assert_int_equal(account_receiving(&cfg, "twilio", NULL), ACCOUNT_OPERATOR_ID);
}

static void test_account_set_finds_by_id_and_lists_ids(void **state)
{
	(void)state;
	struct account v[3];
	account_operator(&v[0], &cfg, &provider_sandbox);
	v[1] = v[0];
	v[1].id = 4;
	v[2] = v[0];
	v[2].id = 17;
	struct account_set s = {.v = v, .n = 3};
	assert_ptr_equal(account_set_find(&s, 4), &v[1]);
	assert_ptr_equal(account_set_find(&s, 1), &v[0]);
	assert_null(account_set_find(&s, 2));
	char *ids = account_set_ids(&s);
	assert_string_equal(ids, "{1,4,17}");
	free(ids);
	struct account_set none = {0};
	ids = account_set_ids(&none);
	assert_string_equal(ids, "{}");
	free(ids);
}

static void test_channel_names_round_trip_and_unknown_is_refused(void **state)
{
	(void)state;
	const char *names[] = {"whatsapp", "sms", "email"};
	for (int i = 0; i < CHANNEL_COUNT; i++) {
		enum channel c;
		assert_int_equal(channel_parse(names[i], &c), 0);
		assert_int_equal(c, i);
		assert_string_equal(channel_name(c), names[i]);
	}
	enum channel c = CHANNEL_SMS;
	assert_int_equal(channel_parse("WhatsApp", &c), -1);
	assert_int_equal(channel_parse("", &c), -1);
	assert_int_equal(channel_parse(NULL, &c), -1);
	assert_int_equal(c, CHANNEL_SMS); /* untouched on failure */
	assert_string_equal(channel_name((enum channel)9), "unknown");
}

static void test_providers_declare_their_channels(void **state)
{
	(void)state;
	assert_true(provider_sends_on(&provider_meta, CHANNEL_WHATSAPP));
	assert_false(provider_sends_on(&provider_meta, CHANNEL_SMS));
	assert_false(provider_sends_on(&provider_meta, CHANNEL_EMAIL));
	assert_true(provider_sends_on(&provider_twilio, CHANNEL_WHATSAPP));
	assert_false(provider_sends_on(&provider_twilio, CHANNEL_EMAIL));
	assert_true(provider_sends_on(&provider_smtp, CHANNEL_EMAIL));
	assert_false(provider_sends_on(&provider_smtp, CHANNEL_WHATSAPP));
	assert_false(provider_sends_on(&provider_smtp, CHANNEL_SMS));
	for (int c = 0; c < CHANNEL_COUNT; c++)
		assert_true(provider_sends_on(&provider_sandbox, (enum channel)c));
	assert_false(provider_sends_on(&provider_sandbox, (enum channel)CHANNEL_COUNT));
	assert_false(provider_sends_on(NULL, CHANNEL_WHATSAPP));
}

static void test_providers_declare_their_capabilities(void **state)
{
	(void)state;
	unsigned all = PROVIDER_NETWORK | PROVIDER_RECEIPTS | PROVIDER_TEMPLATES | PROVIDER_BUTTONS;
	/* Meta alone takes a template by name (a seller alert type's own, SELLER_TEMPLATES). */
	assert_int_equal(provider_meta.caps, all | PROVIDER_TEMPLATE_NAMES);
	/* Twilio's quick-reply payload lives in the Content template, not in each message. */
	assert_int_equal(provider_twilio.caps, all & ~(unsigned)PROVIDER_BUTTONS);
	/* Email: the network, and nothing else (no receipts, templates or buttons). */
	assert_int_equal(provider_smtp.caps, PROVIDER_NETWORK);
	/* The sandbox touches no network: the sender logs what it "sent" instead. */
	assert_int_equal(provider_sandbox.caps, 0);
}

static void test_each_provider_classifies_its_own_codes(void **state)
{
	(void)state;
	/* Meta's codes. */
	assert_int_equal(provider_meta.code_outcome(131047), SEND_AS_TEMPLATE);
	assert_int_equal(provider_meta.code_outcome(130429), SEND_RETRY);
	assert_int_equal(provider_meta.code_outcome(131056), SEND_RETRY_RECIPIENT);
	assert_int_equal(provider_meta.code_outcome(190), SEND_STOP_ALL);
	assert_int_equal(provider_meta.code_outcome(131026), SEND_PERMANENT);
	assert_int_equal(provider_meta.code_outcome(999999), SEND_PERMANENT); /* unknown */
	/* Twilio's: the same number means something else there (or nothing). */
	assert_int_equal(provider_twilio.code_outcome(63016), SEND_AS_TEMPLATE);
	assert_int_equal(provider_twilio.code_outcome(63017), SEND_RETRY);
	assert_int_equal(provider_twilio.code_outcome(20003), SEND_STOP_ALL);
	assert_int_equal(provider_twilio.code_outcome(21211), SEND_PERMANENT);
	assert_int_equal(provider_twilio.code_outcome(131047), SEND_PERMANENT);
	assert_int_equal(provider_meta.code_outcome(63016), SEND_PERMANENT);
	/* SMTP's reply codes: 4xx transient, anything else final. */
	assert_int_equal(provider_smtp.code_outcome(451), SEND_RETRY);
	assert_int_equal(provider_smtp.code_outcome(550), SEND_PERMANENT);
	/* The sandbox has no codes: whatever a status says is final. */
	assert_int_equal(provider_sandbox.code_outcome(131047), SEND_PERMANENT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_operator_account_is_id_1_whatsapp_no_tenant_with_the_config),
	    T(test_operator_account_keeps_the_whatsapp_pace),
	    T(test_inbound_today_belongs_to_the_operator_account),
	    T(test_account_set_finds_by_id_and_lists_ids),
	    T(test_channel_names_round_trip_and_unknown_is_refused),
	    T(test_providers_declare_their_channels),
	    T(test_providers_declare_their_capabilities),
	    T(test_each_provider_classifies_its_own_codes),
	};
	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
