/* Unit tests of common/delivery/provider_smtp.c: the SMTP transaction it builds (envelope,
 * message, credentials, timeout) and how it classifies the server's answers. */
#include "testutil.h"

#include <curl/curl.h>

#include "delivery/provider.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	tu_config_set(&cfg.smtp_url, "smtp://mail.example.com:587");
	tu_config_set(&cfg.smtp_from, "Ops Alerts <alerts@example.com>");
	tu_config_set(&cfg.smtp_username, "alerts");
	tu_config_set(&cfg.smtp_password, "s3cret-pass");
	cfg.smtp_timeout_ms = 7000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static struct send_request request(const char *to, const char *text)
{
	return (struct send_request){.to = to, .priority = "critical", .text = text};
}

static void test_smtp_build_makes_one_transaction(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	memset(&rs, 0, sizeof(rs));
	struct send_request rq = request("ops@example.org", "Disk full on db1\ndetails");
	assert_int_equal(provider_smtp.build(&cfg, &rq, &call, &rs), 0);
	assert_string_equal(call.url, "smtp://mail.example.com:587");
	assert_string_equal(call.mail_from, "<alerts@example.com>");
	assert_string_equal(call.mail_rcpt, "<ops@example.org>");
	assert_string_equal(call.username, "alerts");
	assert_string_equal(call.password, "s3cret-pass");
	assert_null(call.userpwd);
	assert_null(call.ca_file);
	assert_int_equal(call.timeout_ms, 7000);
	assert_contains(call.body, "From: Ops Alerts <alerts@example.com>\r\n");
	assert_contains(call.body, "To: ops@example.org\r\n");
	assert_contains(call.body, "Subject: [CRITICAL] Disk full on db1\r\n");
	/* The Message-ID is made here, kept in rs, and is the one in the message. */
	assert_true(strncmp(rs.message_id, "<", 1) == 0);
	assert_contains(rs.message_id, "@example.com>");
	char *hdr = xasprintf("Message-ID: %s\r\n", rs.message_id);
	assert_contains(call.body, hdr);
	free(hdr);
	http_call_release(&call);
}

static void test_smtp_build_without_credentials_sends_no_auth(void **state)
{
	(void)state;
	tu_config_set(&cfg.smtp_username, "");
	tu_config_set(&cfg.smtp_password, "");
	tu_config_set(&cfg.smtp_ca_file, "/etc/ssl/our-ca.pem");
	struct http_call call;
	struct send_result rs;
	memset(&rs, 0, sizeof(rs));
	struct send_request rq = request("ops@example.org", "x");
	assert_int_equal(provider_smtp.build(&cfg, &rq, &call, &rs), 0);
	assert_null(call.username);
	assert_null(call.password);
	assert_string_equal(call.ca_file, "/etc/ssl/our-ca.pem");
	http_call_release(&call);
}

static void test_smtp_build_refuses_a_bad_recipient_as_permanent(void **state)
{
	(void)state;
	const char *bad[] = {"ops@example.org\r\nBcc: victim@evil.test", "+2348011112222", ""};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct http_call call;
		struct send_result rs;
		memset(&rs, 0, sizeof(rs));
		struct send_request rq = request(bad[i], "x");
		assert_int_equal(provider_smtp.build(&cfg, &rq, &call, &rs), -1);
		assert_int_equal(rs.outcome, SEND_PERMANENT);
		assert_string_equal(rs.error_code, "invalid_recipient");
		assert_null(strchr(rs.error, '\n'));
		assert_null(strchr(rs.error, '\r'));
		assert_string_equal(rs.message_id, "");
		assert_null(call.url);
		assert_null(call.body);
	}
}

static void test_smtp_build_subject_injection_stays_in_the_subject(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	memset(&rs, 0, sizeof(rs));
	struct send_request rq = request("ops@example.org", "x\rBcc: victim@evil.test\nmore");
	assert_int_equal(provider_smtp.build(&cfg, &rq, &call, &rs), 0);
	assert_contains(call.body, "Subject: [CRITICAL] x Bcc: victim@evil.test\r\n");
	assert_null(strstr(call.body, "\r\nBcc:"));
	http_call_release(&call);
}

/* classify() with a Message-ID in rs, as build() left it. */
static struct send_result classify(long status, int curl_code, const char *replies)
{
	struct send_result rs;
	memset(&rs, 0, sizeof(rs));
	snprintf(rs.message_id, sizeof(rs.message_id), "<1.abc@example.com>");
	struct http_answer ans = {
	    .status = status,
	    .transport_error = curl_code,
	    .timed_out = curl_code == CURLE_OPERATION_TIMEDOUT,
	    .body = replies,
	    .len = replies ? strlen(replies) : 0,
	};
	provider_smtp.classify(&cfg, &ans, &rs);
	return rs;
}

static void test_smtp_classify_250_is_sent_with_the_message_id(void **state)
{
	(void)state;
	struct send_result rs = classify(250, CURLE_OK, "250 OK queued as 123\r\n");
	assert_int_equal(rs.outcome, SEND_SENT);
	assert_string_equal(rs.message_id, "<1.abc@example.com>");
}

static void test_smtp_classify_5xx_is_permanent_with_the_reply(void **state)
{
	(void)state;
	struct send_result rs =
	    classify(550, CURLE_SEND_ERROR,
	             "220 mail ESMTP\r\n250-mail\r\n250 OK\r\n550 5.1.1 <x@example.org>: no such "
	             "user\r\n221 Bye\r\n");
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_string_equal(rs.error_code, "smtp_550");
	assert_contains(rs.error, "550 5.1.1 <x@example.org>: no such user");
	assert_not_contains(rs.error, "221");
	assert_string_equal(rs.message_id, "");
	rs = classify(554, CURLE_WEIRD_SERVER_REPLY, "554 5.7.1 rejected as spam\r\n");
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_string_equal(rs.error_code, "smtp_554");
}

static void test_smtp_classify_4xx_retries(void **state)
{
	(void)state;
	long codes[] = {421, 450, 451, 452};
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		struct send_result rs = classify(codes[i], CURLE_SEND_ERROR, "4xx try later\r\n");
		assert_int_equal(rs.outcome, SEND_RETRY);
		char want[16];
		snprintf(want, sizeof(want), "smtp_%ld", codes[i]);
		assert_string_equal(rs.error_code, want);
	}
}

static void test_smtp_classify_no_connection_and_timeout_retry(void **state)
{
	(void)state;
	struct send_result rs = classify(0, CURLE_COULDNT_CONNECT, NULL);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "connect");
	rs = classify(0, CURLE_OPERATION_TIMEDOUT, NULL);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "timeout");
}

static void test_smtp_classify_tls_failures_retry_and_say_nothing_was_sent(void **state)
{
	(void)state;
	struct send_result rs = classify(250, CURLE_USE_SSL_FAILED, "250 HELP\r\n");
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "smtp_starttls");
	assert_contains(rs.error, "nothing was sent");
	rs = classify(0, CURLE_PEER_FAILED_VERIFICATION, NULL);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "smtp_tls");
}

static void test_smtp_classify_refused_login_stops_the_account(void **state)
{
	(void)state;
	struct send_result rs =
	    classify(535, CURLE_LOGIN_DENIED, "535 5.7.8 Authentication credentials invalid\r\n");
	assert_int_equal(rs.outcome, SEND_STOP_ALL);
	assert_string_equal(rs.error_code, "smtp_auth");
	assert_contains(rs.error, "535 5.7.8");
}

static void test_smtp_classify_reply_text_loses_control_characters(void **state)
{
	(void)state;
	struct send_result rs = classify(550, CURLE_SEND_ERROR, "550 bad\x01\x1b[31m thing\r\n");
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	for (const char *p = rs.error; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7F);
}

static void test_smtp_provider_sends_email_only_with_no_template(void **state)
{
	(void)state;
	assert_true(provider_sends_on(&provider_smtp, CHANNEL_EMAIL));
	assert_false(provider_sends_on(&provider_smtp, CHANNEL_WHATSAPP));
	assert_false(provider_sends_on(&provider_smtp, CHANNEL_SMS));
	assert_int_equal(provider_smtp.has_template(&cfg), 0);
	assert_true(provider_smtp.caps & PROVIDER_NETWORK);
	assert_false(provider_smtp.caps & PROVIDER_RECEIPTS);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_smtp_build_makes_one_transaction),
	    T(test_smtp_build_without_credentials_sends_no_auth),
	    T(test_smtp_build_refuses_a_bad_recipient_as_permanent),
	    T(test_smtp_build_subject_injection_stays_in_the_subject),
	    T(test_smtp_classify_250_is_sent_with_the_message_id),
	    T(test_smtp_classify_5xx_is_permanent_with_the_reply),
	    T(test_smtp_classify_4xx_retries),
	    T(test_smtp_classify_no_connection_and_timeout_retry),
	    T(test_smtp_classify_tls_failures_retry_and_say_nothing_was_sent),
	    T(test_smtp_classify_refused_login_stops_the_account),
	    T(test_smtp_classify_reply_text_loses_control_characters),
	    T(test_smtp_provider_sends_email_only_with_no_template),
	};
	return cmocka_run_group_tests_name("provider_smtp", tests, NULL, NULL);
}
