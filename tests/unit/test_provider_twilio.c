/* Unit tests of common/delivery/provider_twilio.c: the form-encoded request and the error
 * classification. */
#include "testutil.h"

#include "delivery/provider.h"

#define SID "AC0123456789abcdef0123456789abcdef"
#define AUTH_TOKEN "f3c1a9b27d4e8f6a0b5c3d2e1f4a7b9c"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	tu_config_set(&cfg.provider, "twilio");
	tu_config_set(&cfg.twilio_account_sid, SID);
	tu_config_set(&cfg.twilio_auth_token, AUTH_TOKEN);
	tu_config_set(&cfg.twilio_whatsapp_number, "+14155238886");
	tu_config_set(&cfg.twilio_api_url, "https://api.twilio.com/2010-04-01");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

/* A decoded application/x-www-form-urlencoded body. */
struct form {
	size_t n;
	char *name[16];
	char *value[16];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..len) ("+" is a space, as forms say); fails the test on a bad escape. */
static char *pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			assert_true(i + 2 < len);
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			assert_true(hi >= 0 && lo >= 0);
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[o] = '\0';
	return out;
}

static void form_parse(const char *body, struct form *f)
{
	memset(f, 0, sizeof(*f));
	const char *p = body;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		assert_non_null(eq);
		assert_true(f->n < ARRAY_LEN(f->name));
		f->name[f->n] = pct_decode(p, (size_t)(eq - p));
		f->value[f->n] = pct_decode(eq + 1, len - (size_t)(eq - p) - 1);
		f->n++;
		p += len + (amp ? 1 : 0);
	}
}

static void form_release(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	f->n = 0;
}

/* The value of a field, or NULL; fails when the field appears twice. */
static const char *form_get(const struct form *f, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0) {
			assert_null(v);
			v = f->value[i];
		}
	return v;
}

static void build_ok(const struct send_request *rq, struct http_call *call, struct form *f)
{
	struct send_result rs;
	int r = provider_twilio.build(&cfg, rq, call, &rs);
	if (r != 0) {
		print_error("build returned %d: %s %s\n", r, rs.error_code, rs.error);
		fail();
	}
	assert_non_null(call->body);
	form_parse(call->body, f);
}

static void build_text(const char *text, struct http_call *call, struct form *f)
{
	struct send_request rq = {.to = "+15552229999", .text = text};
	build_ok(&rq, call, f);
}

static void build_template(const char *const *params, size_t n, struct http_call *call,
                           struct form *f)
{
	struct send_request rq = {.to = "+15552229999",
	                          .text = "summary",
	                          .as_template = 1,
	                          .params = params,
	                          .n_params = n,
	                          .button_payload = "ACK:8812"};
	build_ok(&rq, call, f);
}

static size_t utf16_units(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n++;
		if ((*p & 0xF8) == 0xF0)
			n++;
	}
	return n;
}

/* ---- build() ---- */

static void test_twilio_build_posts_to_account_messages_url(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	build_text("hello", &call, &f);
	assert_string_equal(call.url,
	                    "https://api.twilio.com/2010-04-01/Accounts/" SID "/Messages.json");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_ignores_trailing_slash_of_api_url(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	tu_config_set(&cfg.twilio_api_url, "http://127.0.0.1:8089/2010-04-01/");
	build_text("hello", &call, &f);
	assert_string_equal(call.url,
	                    "http://127.0.0.1:8089/2010-04-01/Accounts/" SID "/Messages.json");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_uses_basic_auth_sid_and_token(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	build_text("hello", &call, &f);
	assert_string_equal(call.userpwd, SID ":" AUTH_TOKEN);
	assert_null(call.bearer);
	assert_not_contains(call.body, AUTH_TOKEN);
	assert_not_contains(call.url, AUTH_TOKEN);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_sends_form_encoding(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	build_text("hello", &call, &f);
	assert_string_equal(call.content_type, "application/x-www-form-urlencoded");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_text_has_to_from_and_body(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	build_text("ALERT db01: disk 97% full", &call, &f);
	assert_int_equal(f.n, 3);
	assert_string_equal(form_get(&f, "To"), "whatsapp:+15552229999");
	assert_string_equal(form_get(&f, "From"), "whatsapp:+14155238886");
	assert_string_equal(form_get(&f, "Body"), "ALERT db01: disk 97% full");
	assert_null(form_get(&f, "ContentSid"));
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_asks_for_receipts_at_our_webhook(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	tu_config_set(&cfg.twilio_webhook_url,
	              "https://monitor.example.test/monitoring/twilio/webhook");
	build_text("canary", &call, &f);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "StatusCallback"),
	                    "https://monitor.example.test/monitoring/twilio/webhook");
	form_release(&f);
	http_call_release(&call);
	const char *params[] = {"critical", "x"};
	tu_config_set(&cfg.twilio_content_sid, "HXb5b62575e6e4ff6129ad7c8efe1f983e");
	build_template(params, 2, &call, &f);
	assert_string_equal(form_get(&f, "StatusCallback"),
	                    "https://monitor.example.test/monitoring/twilio/webhook");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_to_is_whatsapp_plus_digits(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	struct send_request rq = {.to = "(+44) 20-7946-0958", .text = "hi"};
	build_ok(&rq, &call, &f);
	assert_string_equal(form_get(&f, "To"), "whatsapp:+442079460958");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_percent_encodes_reserved_characters(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	const char *text = "a b&c=d+e%f/g?h#i\nj\xc3\xa9~k_l.m-n";
	build_text(text, &call, &f);
	/* Exactly the RFC 3986 unreserved set stays as is; a space is %20. */
	assert_contains(call.body, "To=whatsapp%3A%2B15552229999");
	assert_contains(call.body, "Body=a%20b%26c%3Dd%2Be%25f%2Fg%3Fh%23i%0Aj%C3%A9~k_l.m-n");
	assert_not_contains(call.body, " ");
	assert_not_contains(call.body, "+");
	assert_string_equal(form_get(&f, "Body"), text);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_rejects_invalid_recipient_as_permanent(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	struct send_request rq = {.to = "not a number", .text = "hi"};
	assert_int_equal(provider_twilio.build(&cfg, &rq, &call, &rs), -1);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_string_equal(rs.error_code, "invalid_recipient");
	assert_null(call.url);
	assert_null(call.userpwd);
}

static void test_twilio_build_rejects_empty_text_as_permanent(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	struct send_request rq = {.to = "+15552229999", .text = NULL};
	assert_int_equal(provider_twilio.build(&cfg, &rq, &call, &rs), -1);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_null(call.body);
}

static void test_twilio_build_truncates_body_to_1600_with_ellipsis(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	char *text = xmalloc(2001);
	memset(text, 'x', 2000);
	text[2000] = '\0';
	build_text(text, &call, &f);
	const char *body = form_get(&f, "Body");
	assert_int_equal(utf16_units(body), 1600);
	assert_int_equal(strlen(body), 1599 + 3);
	assert_string_equal(body + 1599, "\xe2\x80\xa6");
	free(text);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_template_sends_content_sid_and_no_body(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	const char *params[] = {"critical", "db01"};
	tu_config_set(&cfg.twilio_content_sid, "HXb5b62575e6e4ff6129ad7c8efe1f983e");
	build_template(params, 2, &call, &f);
	assert_string_equal(form_get(&f, "ContentSid"), "HXb5b62575e6e4ff6129ad7c8efe1f983e");
	assert_string_equal(form_get(&f, "To"), "whatsapp:+15552229999");
	assert_string_equal(form_get(&f, "From"), "whatsapp:+14155238886");
	assert_null(form_get(&f, "Body"));
	assert_null(form_get(&f, "MediaUrl"));
	assert_int_equal(f.n, 4);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_template_variables_are_json_numbered_from_1(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	const char *params[] = {"critical", "db01 \"disk\" 97% full", "\xc3\xa9t\xc3\xa9"};
	tu_config_set(&cfg.twilio_content_sid, "HX1");
	build_template(params, 3, &call, &f);
	struct json_object *vars = json_tokener_parse(form_get(&f, "ContentVariables"));
	assert_non_null(vars);
	assert_true(json_object_is_type(vars, json_type_object));
	assert_int_equal(json_object_object_length(vars), 3);
	assert_string_equal(tu_json_string(vars, "1"), params[0]);
	assert_string_equal(tu_json_string(vars, "2"), params[1]);
	assert_string_equal(tu_json_string(vars, "3"), params[2]);
	json_object_put(vars);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_template_variables_lose_newlines_tabs_and_space_runs(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	const char *params[] = {" disk\nfull\ton     db01 ", ""};
	tu_config_set(&cfg.twilio_content_sid, "HX1");
	build_template(params, 2, &call, &f);
	struct json_object *vars = json_tokener_parse(form_get(&f, "ContentVariables"));
	assert_non_null(vars);
	assert_string_equal(tu_json_string(vars, "1"), "disk full on db01");
	assert_string_equal(tu_json_string(vars, "2"), "-");
	json_object_put(vars);
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_template_without_params_has_no_variables(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	tu_config_set(&cfg.twilio_content_sid, "HX1");
	build_template(NULL, 0, &call, &f);
	assert_null(form_get(&f, "ContentVariables"));
	assert_string_equal(form_get(&f, "ContentSid"), "HX1");
	form_release(&f);
	http_call_release(&call);
}

static void test_twilio_build_template_without_content_sid_is_permanent(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	const char *params[] = {"critical"};
	struct send_request rq = {.to = "+15552229999",
	                          .text = "summary",
	                          .as_template = 1,
	                          .params = params,
	                          .n_params = 1};
	tu_config_set(&cfg.twilio_content_sid, "");
	assert_int_equal(provider_twilio.build(&cfg, &rq, &call, &rs), -1);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_contains(rs.error, "TWILIO_CONTENT_SID");
	assert_null(call.url);
	assert_null(call.body);
	assert_null(call.userpwd);
}

/* ---- classify() ---- */

static void classify(long status, const char *body, struct send_result *rs)
{
	struct http_answer ans = {.status = status, .body = body, .len = body ? strlen(body) : 0};
	memset(rs, 0x5a, sizeof(*rs));
	provider_twilio.classify(&cfg, &ans, rs);
}

struct code_case {
	long long code;
	enum send_outcome want;
};

static void assert_codes(const struct code_case *cases, size_t n, long status)
{
	for (size_t i = 0; i < n; i++) {
		struct send_result rs;
		char want_code[32];
		char *body =
		    xasprintf("{\"code\":%lld,\"message\":\"test error\",\"more_info\":"
		              "\"https://www.twilio.com/docs/errors/%lld\",\"status\":%ld}",
		              cases[i].code, cases[i].code, status);
		classify(status, body, &rs);
		free(body);
		if (rs.outcome != cases[i].want) {
			print_error("code %lld (HTTP %ld): %s, want %s\n", cases[i].code, status,
			            send_outcome_name(rs.outcome),
			            send_outcome_name(cases[i].want));
			fail();
		}
		snprintf(want_code, sizeof(want_code), "%lld", cases[i].code);
		assert_string_equal(rs.error_code, want_code);
		assert_string_equal(rs.message_id, "");
	}
}

static void test_twilio_classify_created_stores_message_sid(void **state)
{
	(void)state;
	struct send_result rs;
	classify(201,
	         "{\"sid\":\"SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d\",\"account_sid\":\"" SID "\","
	         "\"to\":\"whatsapp:+15552229999\",\"status\":\"queued\",\"error_code\":null}",
	         &rs);
	assert_int_equal(rs.outcome, SEND_SENT);
	assert_string_equal(rs.message_id, "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d");
	assert_string_equal(rs.error_code, "");
	assert_string_equal(rs.error, "");
}

static void test_twilio_classify_200_with_sid_is_sent(void **state)
{
	(void)state;
	struct send_result rs;
	classify(200, "{\"sid\":\"SMabc\",\"status\":\"accepted\"}", &rs);
	assert_int_equal(rs.outcome, SEND_SENT);
	assert_string_equal(rs.message_id, "SMabc");
}

static void test_twilio_classify_retry_codes(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {20429, SEND_RETRY}, {63017, SEND_RETRY}, {63018, SEND_RETRY}};
	assert_codes(cases, ARRAY_LEN(cases), 429);
	assert_codes(cases, ARRAY_LEN(cases), 400);
}

static void test_twilio_classify_outside_window_asks_for_template(void **state)
{
	(void)state;
	static const struct code_case cases[] = {{63016, SEND_AS_TEMPLATE}};
	assert_codes(cases, ARRAY_LEN(cases), 400);
}

static void test_twilio_classify_permanent_codes(void **state)
{
	(void)state;
	static const struct code_case cases[] = {
	    {21211, SEND_PERMANENT}, {21614, SEND_PERMANENT}, {63003, SEND_PERMANENT},
	    {63024, SEND_PERMANENT}, {63014, SEND_PERMANENT}, {63032, SEND_PERMANENT},
	    {63007, SEND_PERMANENT}, {63013, SEND_PERMANENT}, {63021, SEND_PERMANENT},
	    {21617, SEND_PERMANENT}, {21658, SEND_PERMANENT}, {21999, SEND_PERMANENT},
	};
	assert_codes(cases, ARRAY_LEN(cases), 400);
}

static void test_twilio_classify_account_codes_stop_all_sending(void **state)
{
	(void)state;
	static const struct code_case cases[] = {{20003, SEND_STOP_ALL},
	                                         {20005, SEND_STOP_ALL},
	                                         {10001, SEND_STOP_ALL},
	                                         {30002, SEND_STOP_ALL}};
	assert_codes(cases, ARRAY_LEN(cases), 401);
	assert_codes(cases, ARRAY_LEN(cases), 403);
}

static void test_twilio_classify_known_code_wins_over_5xx(void **state)
{
	(void)state;
	static const struct code_case cases[] = {{21211, SEND_PERMANENT}, {99999, SEND_RETRY}};
	assert_codes(cases, ARRAY_LEN(cases), 500);
}

static void test_twilio_classify_429_without_code_retries(void **state)
{
	(void)state;
	struct send_result rs;
	classify(429, NULL, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "http_429");
}

static void test_twilio_classify_5xx_without_body_retries_as_http_status(void **state)
{
	(void)state;
	struct send_result rs;
	classify(503, NULL, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "http_503");
	assert_contains(rs.error, "503");
}

static void test_twilio_classify_401_without_code_stops_all(void **state)
{
	(void)state;
	struct send_result rs;
	classify(401, "Unauthorized", &rs);
	assert_int_equal(rs.outcome, SEND_STOP_ALL);
	assert_string_equal(rs.error_code, "http_401");
}

static void test_twilio_classify_other_4xx_without_code_is_permanent(void **state)
{
	(void)state;
	struct send_result rs;
	classify(404, "{\"message\":\"not found\"}", &rs);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_string_equal(rs.error_code, "http_404");
	assert_contains(rs.error, "not found");
}

static void test_twilio_classify_timeout_retries_as_timeout(void **state)
{
	(void)state;
	struct send_result rs;
	struct http_answer ans = {.status = 0, .transport_error = 28, .timed_out = 1};
	provider_twilio.classify(&cfg, &ans, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "timeout");
	assert_true(rs.error[0] != '\0');
}

static void test_twilio_classify_connect_failure_retries_as_connect(void **state)
{
	(void)state;
	struct send_result rs;
	struct http_answer ans = {.status = 0, .transport_error = 7};
	provider_twilio.classify(&cfg, &ans, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "connect");
	assert_true(rs.error[0] != '\0');
}

/* Documented choice: a 2xx we cannot read is retried (at-least-once), never "sent" without sid. */
static void test_twilio_classify_unparseable_201_retries(void **state)
{
	(void)state;
	struct send_result rs;
	classify(201, "{\"sid\":\"SM12", &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "http_201");
	assert_string_equal(rs.message_id, "");
	assert_contains(rs.error, "may have been sent");
}

static void test_twilio_classify_error_text_has_message_and_link(void **state)
{
	(void)state;
	struct send_result rs;
	classify(
	    400,
	    "{\"code\":21211,\"message\":\"The 'To' number 5551234567 is not a valid phone "
	    "number.\",\"more_info\":\"https://www.twilio.com/docs/errors/21211\",\"status\":400}",
	    &rs);
	assert_contains(rs.error, "is not a valid phone number");
	assert_contains(rs.error, "https://www.twilio.com/docs/errors/21211");
}

static void test_twilio_classify_error_text_never_contains_the_auth_token(void **state)
{
	(void)state;
	struct send_result rs;
	classify(401,
	         "{\"code\":20003,\"message\":\"Authenticate: " SID ":" AUTH_TOKEN
	         " refused\",\"status\":401}",
	         &rs);
	assert_int_equal(rs.outcome, SEND_STOP_ALL);
	assert_not_contains(rs.error, AUTH_TOKEN);
	assert_not_contains(rs.error, "f3c1a9b27d4e");
	assert_contains(rs.error, "Authenticate");
}

/* ---- SMS (provider_twilio_sms) ---- */

static void sms_build(const char *text, struct http_call *call, struct form *f)
{
	struct send_request rq = {.to = "+1 555 222 9999", .text = text};
	struct send_result rs;
	int r = provider_twilio_sms.build(&cfg, &rq, call, &rs);
	if (r != 0) {
		print_error("build returned %d: %s %s\n", r, rs.error_code, rs.error);
		fail();
	}
	form_parse(call->body, f);
}

static void test_sms_build_plain_e164_from_and_status_callback(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	tu_config_set(&cfg.twilio_sms_from, "+15553330000");
	tu_config_set(&cfg.twilio_webhook_url,
	              "https://monitor.example.test/monitoring/twilio/webhook");
	cfg.sms_max_segments = 3;
	sms_build("disk full", &call, &f);
	assert_string_equal(call.url,
	                    "https://api.twilio.com/2010-04-01/Accounts/" SID "/Messages.json");
	assert_string_equal(call.userpwd, SID ":" AUTH_TOKEN);
	assert_string_equal(form_get(&f, "To"), "+15552229999");
	assert_string_equal(form_get(&f, "From"), "+15553330000");
	assert_null(form_get(&f, "MessagingServiceSid"));
	assert_string_equal(form_get(&f, "Body"), "disk full");
	assert_string_equal(form_get(&f, "StatusCallback"),
	                    "https://monitor.example.test/monitoring/twilio/webhook");
	assert_int_equal(f.n, 4);
	form_release(&f);
	http_call_release(&call);
}

static void test_sms_build_messaging_service_instead_of_from(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	tu_config_set(&cfg.twilio_messaging_service_sid, "MG0123456789abcdef0123456789abcdef");
	cfg.sms_max_segments = 3;
	sms_build("x", &call, &f);
	assert_string_equal(form_get(&f, "MessagingServiceSid"),
	                    "MG0123456789abcdef0123456789abcdef");
	assert_null(form_get(&f, "From"));
	assert_null(form_get(&f, "StatusCallback")); /* no TWILIO_WEBHOOK_URL */
	form_release(&f);
	http_call_release(&call);
}

static void test_sms_build_cleans_and_cuts_the_body(void **state)
{
	(void)state;
	struct http_call call;
	struct form f;
	char long_text[1001];
	memset(long_text, 'a', 1000);
	long_text[1000] = '\0';
	long_text[10] = '\x1b';
	tu_config_set(&cfg.twilio_sms_from, "+15553330000");
	cfg.sms_max_segments = 2;
	sms_build(long_text, &call, &f);
	const char *body = form_get(&f, "Body");
	assert_int_equal(strlen(body), 306);
	assert_null(strchr(body, '\x1b'));
	assert_string_equal(body + 303, "...");
	form_release(&f);
	http_call_release(&call);
}

static void test_sms_build_refuses_without_a_sender_or_text(void **state)
{
	(void)state;
	struct http_call call;
	struct send_result rs;
	struct send_request rq = {.to = "+15552229999", .text = "x"};
	assert_int_equal(provider_twilio_sms.build(&cfg, &rq, &call, &rs), -1);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	assert_string_equal(rs.error_code, "config");
	tu_config_set(&cfg.twilio_sms_from, "+15553330000");
	rq.text = "\x01\x02";
	assert_int_equal(provider_twilio_sms.build(&cfg, &rq, &call, &rs), -1);
	assert_string_equal(rs.error_code, "bad_request");
	rq.text = "x";
	rq.to = "not a number";
	assert_int_equal(provider_twilio_sms.build(&cfg, &rq, &call, &rs), -1);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
}

static void test_sms_codes_have_their_own_table(void **state)
{
	(void)state;
	const struct {
		long long code;
		enum send_outcome o;
	} cases[] = {
	    {21211, SEND_PERMANENT}, {21610, SEND_PERMANENT}, {21614, SEND_PERMANENT},
	    {30003, SEND_PERMANENT}, {30007, SEND_PERMANENT}, {20429, SEND_RETRY},
	    {30001, SEND_RETRY},     {20003, SEND_STOP_ALL},  {20005, SEND_STOP_ALL},
	    {99999, SEND_PERMANENT},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(provider_twilio_sms.code_outcome(cases[i].code), cases[i].o);
	/* WhatsApp's 63016 (outside the window) means nothing for SMS: no template to try. */
	assert_int_equal(provider_twilio.code_outcome(63016), SEND_AS_TEMPLATE);
	assert_int_equal(provider_twilio_sms.code_outcome(63016), SEND_PERMANENT);
	assert_int_equal(provider_twilio_sms.has_template(&cfg), 0);
	assert_true(provider_sends_on(&provider_twilio_sms, CHANNEL_SMS));
	assert_false(provider_sends_on(&provider_twilio_sms, CHANNEL_WHATSAPP));
	assert_string_equal(provider_twilio_sms.name, "twilio");
}

static void test_sms_classify_429_5xx_retry_and_201_sent(void **state)
{
	(void)state;
	struct send_result rs;
	struct http_answer a = {.status = 429,
	                        .body = "{\"code\":20429,\"message\":\"Too Many Requests\"}"};
	a.len = strlen(a.body);
	provider_twilio_sms.classify(&cfg, &a, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "20429");
	struct http_answer b = {.status = 503, .body = "", .len = 0};
	provider_twilio_sms.classify(&cfg, &b, &rs);
	assert_int_equal(rs.outcome, SEND_RETRY);
	assert_string_equal(rs.error_code, "http_503");
	struct http_answer c = {.status = 400,
	                        .body = "{\"code\":21610,\"message\":\"unsubscribed\"}"};
	c.len = strlen(c.body);
	provider_twilio_sms.classify(&cfg, &c, &rs);
	assert_int_equal(rs.outcome, SEND_PERMANENT);
	struct http_answer d = {.status = 201,
	                        .body = "{\"sid\":\"SM0123\",\"status\":\"queued\"}"};
	d.len = strlen(d.body);
	provider_twilio_sms.classify(&cfg, &d, &rs);
	assert_int_equal(rs.outcome, SEND_SENT);
	assert_string_equal(rs.message_id, "SM0123");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_twilio_build_posts_to_account_messages_url),
	    T(test_twilio_build_ignores_trailing_slash_of_api_url),
	    T(test_twilio_build_uses_basic_auth_sid_and_token),
	    T(test_twilio_build_sends_form_encoding),
	    T(test_twilio_build_text_has_to_from_and_body),
	    T(test_twilio_build_asks_for_receipts_at_our_webhook),
	    T(test_twilio_build_to_is_whatsapp_plus_digits),
	    T(test_twilio_build_percent_encodes_reserved_characters),
	    T(test_twilio_build_rejects_invalid_recipient_as_permanent),
	    T(test_twilio_build_rejects_empty_text_as_permanent),
	    T(test_twilio_build_truncates_body_to_1600_with_ellipsis),
	    T(test_twilio_build_template_sends_content_sid_and_no_body),
	    T(test_twilio_build_template_variables_are_json_numbered_from_1),
	    T(test_twilio_build_template_variables_lose_newlines_tabs_and_space_runs),
	    T(test_twilio_build_template_without_params_has_no_variables),
	    T(test_twilio_build_template_without_content_sid_is_permanent),
	    T(test_twilio_classify_created_stores_message_sid),
	    T(test_twilio_classify_200_with_sid_is_sent),
	    T(test_twilio_classify_retry_codes),
	    T(test_twilio_classify_outside_window_asks_for_template),
	    T(test_twilio_classify_permanent_codes),
	    T(test_twilio_classify_account_codes_stop_all_sending),
	    T(test_twilio_classify_known_code_wins_over_5xx),
	    T(test_twilio_classify_429_without_code_retries),
	    T(test_twilio_classify_5xx_without_body_retries_as_http_status),
	    T(test_twilio_classify_401_without_code_stops_all),
	    T(test_twilio_classify_other_4xx_without_code_is_permanent),
	    T(test_twilio_classify_timeout_retries_as_timeout),
	    T(test_twilio_classify_connect_failure_retries_as_connect),
	    T(test_twilio_classify_unparseable_201_retries),
	    T(test_twilio_classify_error_text_has_message_and_link),
	    T(test_twilio_classify_error_text_never_contains_the_auth_token),
	    T(test_sms_build_plain_e164_from_and_status_callback),
	    T(test_sms_build_messaging_service_instead_of_from),
	    T(test_sms_build_cleans_and_cuts_the_body),
	    T(test_sms_build_refuses_without_a_sender_or_text),
	    T(test_sms_codes_have_their_own_table),
	    T(test_sms_classify_429_5xx_retry_and_201_sent),
	};
	return cmocka_run_group_tests_name("provider_twilio", tests, NULL, NULL);
}
