/*
 * Unit tests of common/delivery/provider_sandbox.c and common/delivery/provider.c: the sandbox
 * answers without a call; provider_for, send_outcome_name, http_call_release.
 */
#include "testutil.h"

#include "delivery/provider.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	tu_config_set(&cfg.provider, "sandbox");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static const struct send_request text_rq = {.to = "+16505551234", .text = "hello"};

static void test_sandbox_build_answers_sent_without_a_call(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	memset(&call, 0x5a, sizeof(call)); /* build() must clear what it does not fill */
	assert_int_equal(provider_sandbox.build(&cfg, &text_rq, &call, &rs), 1);
	assert_int_equal(rs.outcome, SEND_SENT);
	assert_null(call.url);
	assert_null(call.body);
	assert_null(call.content_type);
	assert_null(call.bearer);
	assert_null(call.userpwd);
	assert_string_equal(rs.error_code, "");
	assert_string_equal(rs.error, "");
}

static void test_sandbox_message_id_is_sandbox_and_16_hex(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	assert_int_equal(provider_sandbox.build(&cfg, &text_rq, &call, &rs), 1);
	assert_int_equal(strlen(rs.message_id), 8 + 16);
	assert_int_equal(strncmp(rs.message_id, "sandbox-", 8), 0);
	for (const char *p = rs.message_id + 8; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
}

static void test_sandbox_message_ids_differ(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result a, b;
	assert_int_equal(provider_sandbox.build(&cfg, &text_rq, &call, &a), 1);
	assert_int_equal(provider_sandbox.build(&cfg, &text_rq, &call, &b), 1);
	assert_string_not_equal(a.message_id, b.message_id);
}

static void test_sandbox_sends_templates_too(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	const char *params[] = {"critical", "db01"};
	struct send_request rq = {
	    .to = "+16505551234", .text = "t", .as_template = 1, .params = params, .n_params = 2};
	assert_int_equal(provider_sandbox.build(&cfg, &rq, &call, &rs), 1);
	assert_int_equal(rs.outcome, SEND_SENT);
}

static void test_sandbox_classify_is_a_permanent_error(void **state)
{
	(void)state;
	struct send_result rs;
	struct http_answer ans = {.status = 200, .body = "{}", .len = 2};
	provider_sandbox.classify(&cfg, &ans, &rs);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_true(rs.error[0] != '\0');
	assert_string_equal(rs.message_id, "");
}

static void test_provider_for_picks_provider_by_name(void **state)
{
	(void)state;
	assert_ptr_equal(provider_for(&cfg), &provider_sandbox);
	tu_config_set(&cfg.provider, "meta");
	assert_ptr_equal(provider_for(&cfg), &provider_meta);
	tu_config_set(&cfg.provider, "twilio");
	assert_ptr_equal(provider_for(&cfg), &provider_twilio);
}

static void test_provider_for_unknown_name_is_null(void **state)
{
	(void)state;
	tu_config_set(&cfg.provider, "telegram");
	assert_null(provider_for(&cfg));
	tu_config_set(&cfg.provider, "");
	assert_null(provider_for(&cfg));
}

static void test_provider_names_match_configuration_values(void **state)
{
	(void)state;
	assert_string_equal(provider_meta.name, "meta");
	assert_string_equal(provider_twilio.name, "twilio");
	assert_string_equal(provider_sandbox.name, "sandbox");
}

static void test_send_outcome_name_names_every_outcome(void **state)
{
	(void)state;
	assert_string_equal(send_outcome_name(SEND_SENT), "sent");
	assert_string_equal(send_outcome_name(SEND_RETRY), "retry");
	assert_string_equal(send_outcome_name(SEND_RETRY_RECIPIENT), "retry_recipient");
	assert_string_equal(send_outcome_name(SEND_AS_TEMPLATE), "as_template");
	assert_string_equal(send_outcome_name(SEND_PERMANENT), "permanent");
	assert_string_equal(send_outcome_name(SEND_STOP_ALL), "stop_all");
	assert_string_equal(send_outcome_name((enum send_outcome)99), "unknown");
}

static void test_http_call_release_frees_and_clears_every_field(void **state)
{
	(void)state;
	struct http_call call = {
	    .url = xstrdup("https://example.invalid/"),
	    .body = xstrdup("{}"),
	    .content_type = xstrdup("application/json"),
	    .bearer = xstrdup("secret"),
	    .userpwd = xstrdup("user:secret"),
	};
	http_call_release(&call); /* LeakSanitizer reports anything left */
	assert_null(call.url);
	assert_null(call.body);
	assert_null(call.content_type);
	assert_null(call.bearer);
	assert_null(call.userpwd);
	http_call_release(&call); /* twice is harmless */
	http_call_release(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sandbox_build_answers_sent_without_a_call),
	    T(test_sandbox_message_id_is_sandbox_and_16_hex),
	    T(test_sandbox_message_ids_differ),
	    T(test_sandbox_sends_templates_too),
	    T(test_sandbox_classify_is_a_permanent_error),
	    T(test_provider_for_picks_provider_by_name),
	    T(test_provider_for_unknown_name_is_null),
	    T(test_provider_names_match_configuration_values),
	    T(test_send_outcome_name_names_every_outcome),
	    T(test_http_call_release_frees_and_clears_every_field),
	};
	return cmocka_run_group_tests_name("provider_sandbox", tests, NULL, NULL);
}
