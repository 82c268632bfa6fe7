/* Unit tests of common/tenants/tenant.c: the validation of the platform's tenant document. */
#include "testutil.h"

#include <json-c/json.h>

#include "tenants/tenant.h"

/* Parse the JSON text doc; assert success. */
static void parse_ok(const char *doc, struct tenant_input *in)
{
	struct json_object *o = json_tokener_parse(doc);
	char *field = NULL, *err = NULL;
	assert_non_null(o);
	if (tenant_parse(o, in, &field, &err) != 0) {
		print_error("tenant_parse(%s) failed: %s: %s\n", doc, field, err);
		fail();
	}
	json_object_put(o);
}

/* Parse doc; assert it is refused naming want_field, with a message that names it too. */
static void parse_refused(const char *doc, const char *want_field)
{
	struct json_object *o = json_tokener_parse(doc);
	struct tenant_input in;
	char *field = NULL, *err = NULL;
	assert_non_null(o);
	if (tenant_parse(o, &in, &field, &err) == 0) {
		print_error("tenant_parse(%s) accepted it\n", doc);
		fail();
	}
	assert_string_equal(field, want_field);
	assert_non_null(strstr(err, want_field));
	for (int i = 0; i < TF_COUNT; i++)
		assert_null(in.value[i]);
	free(field);
	free(err);
	json_object_put(o);
}

/* tenant_check_field(f, s): assert accepted as want (NULL: refused). */
static void check(enum tenant_field f, const char *s, const char *want)
{
	char *out = NULL;
	const char *why = NULL;
	int rc = tenant_check_field(f, s, &out, &why);
	if (want == NULL) {
		if (rc == 0) {
			print_error("%s \"%s\" accepted as %s\n", tenant_field_name(f), s, out);
			fail();
		}
		assert_non_null(why);
		assert_null(out);
		return;
	}
	if (rc != 0) {
		print_error("%s \"%s\" refused: %s\n", tenant_field_name(f), s, why);
		fail();
	}
	assert_string_equal(out, want);
	free(out);
}

static void test_tenant_full_document_is_normalised(void **state)
{
	(void)state;
	struct tenant_input in;
	parse_ok("{\"external_id\":\"shop-ada\",\"display_name\":\"Ada Foods\","
	         "\"whatsapp_number\":\"+234 901 234 5678\",\"time_zone\":\"Africa/Lagos\","
	         "\"quiet_start\":\"22:00\",\"quiet_end\":\"07:00\",\"language\":\"en-NG\","
	         "\"email\":\"ada@example.com\",\"sms_number\":null}",
	         &in);
	assert_string_equal(in.value[TF_WHATSAPP_NUMBER], "+2349012345678");
	assert_string_equal(in.value[TF_TIME_ZONE], "Africa/Lagos");
	assert_string_equal(in.value[TF_QUIET_END], "07:00");
	assert_true(in.present & (1u << TF_SMS_NUMBER));
	assert_null(in.value[TF_SMS_NUMBER]);
	assert_true(in.present & (1u << TF_TIME_ZONE));
	tenant_input_release(&in);
	tenant_input_release(&in);
}

static void test_tenant_minimal_document_sets_only_its_members(void **state)
{
	(void)state;
	struct tenant_input in;
	parse_ok("{\"external_id\":\"a\",\"display_name\":\"A\"}", &in);
	assert_int_equal(in.present, (1u << TF_EXTERNAL_ID) | (1u << TF_DISPLAY_NAME));
	tenant_input_release(&in);
}

static void test_tenant_each_bad_member_is_named(void **state)
{
	(void)state;
	parse_refused("{\"display_name\":\"A\"}", "external_id");
	parse_refused("{\"external_id\":\"a\"}", "display_name");
	parse_refused("{\"external_id\":\"a\",\"display_name\":null}", "display_name");
	parse_refused("{\"external_id\":7,\"display_name\":\"A\"}", "external_id");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"whatsapp_number\":\"0901\"}",
	              "whatsapp_number");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"sms_number\":\"x\"}",
	              "sms_number");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"email\":\"x\"}", "email");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"time_zone\":\"Nowhere/X\"}",
	              "time_zone");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"language\":\"EN\"}",
	              "language");
	parse_refused("{\"external_id\":\"a\",\"display_name\":\"A\",\"status\":\"active\"}",
	              "status");
}

static void test_tenant_quiet_hours_go_together(void **state)
{
	(void)state;
	const char *base = "{\"external_id\":\"a\",\"display_name\":\"A\",";
	char doc[256];
	snprintf(doc, sizeof(doc), "%s\"quiet_start\":\"22:00\"}", base);
	parse_refused(doc, "quiet_end");
	snprintf(doc, sizeof(doc), "%s\"quiet_end\":\"07:00\"}", base);
	parse_refused(doc, "quiet_start");
	snprintf(doc, sizeof(doc), "%s\"quiet_start\":\"22:00\",\"quiet_end\":null}", base);
	parse_refused(doc, "quiet_end");
	snprintf(doc, sizeof(doc), "%s\"quiet_start\":\"22:00\",\"quiet_end\":\"22:00\"}", base);
	parse_refused(doc, "quiet_end");
	snprintf(doc, sizeof(doc), "%s\"quiet_start\":\"24:00\",\"quiet_end\":\"07:00\"}", base);
	parse_refused(doc, "quiet_start");
	struct tenant_input in;
	snprintf(doc, sizeof(doc), "%s\"quiet_start\":null,\"quiet_end\":null}", base);
	parse_ok(doc, &in);
	tenant_input_release(&in);
}

static void test_tenant_external_id(void **state)
{
	(void)state;
	check(TF_EXTERNAL_ID, "seller:42@shop.example-1_x", "seller:42@shop.example-1_x");
	check(TF_EXTERNAL_ID, "", NULL);
	check(TF_EXTERNAL_ID, "a b", NULL);
	check(TF_EXTERNAL_ID, "a/b", NULL);
	check(TF_EXTERNAL_ID, "a%2f", NULL);
	check(TF_EXTERNAL_ID, "me", NULL); /* the seller's own routes */
	check(TF_EXTERNAL_ID, "session", NULL);
	char longid[130];
	memset(longid, 'a', 129);
	longid[129] = '\0';
	check(TF_EXTERNAL_ID, longid, NULL);
	longid[128] = '\0';
	check(TF_EXTERNAL_ID, longid, longid);
}

static void test_tenant_display_name(void **state)
{
	(void)state;
	check(TF_DISPLAY_NAME, "Ada's Café 🍲", "Ada's Café 🍲");
	check(TF_DISPLAY_NAME, "", NULL);
	check(TF_DISPLAY_NAME, "   ", NULL);
	check(TF_DISPLAY_NAME, "a\nb", NULL);
	check(TF_DISPLAY_NAME, "a\x7f", NULL);
	check(TF_DISPLAY_NAME, "\xff\xfe", NULL);
}

static void test_tenant_numbers_are_international(void **state)
{
	(void)state;
	check(TF_WHATSAPP_NUMBER, "+2349012345678", "+2349012345678");
	check(TF_WHATSAPP_NUMBER, "+52 55 1234-5678", "+525512345678");
	check(TF_WHATSAPP_NUMBER, "09012345678", NULL);     /* no country code */
	check(TF_WHATSAPP_NUMBER, "002349012345678", NULL); /* "+", not 00 */
	check(TF_WHATSAPP_NUMBER, "+1234567", NULL);        /* 7 digits */
	check(TF_WHATSAPP_NUMBER, "+123456789012345", "+123456789012345");
	check(TF_WHATSAPP_NUMBER, "+1234567890123456", NULL); /* 16 digits */
	check(TF_SMS_NUMBER, "+0123456789", NULL);
}

static void test_tenant_email(void **state)
{
	(void)state;
	check(TF_EMAIL, "ada@example.com", "ada@example.com");
	check(TF_EMAIL, "a.b+c@mail.example.co.uk", "a.b+c@mail.example.co.uk");
	check(TF_EMAIL, "ada", NULL);
	check(TF_EMAIL, "@example.com", NULL);
	check(TF_EMAIL, "ada@example", NULL);
	check(TF_EMAIL, "ada@@example.com", NULL);
	check(TF_EMAIL, "ada@example..com", NULL);
	check(TF_EMAIL, "a da@example.com", NULL);
	check(TF_EMAIL, "ada@example.com\r\nBcc: x@y.z", NULL);
}

static void test_tenant_time_zone_is_iana(void **state)
{
	(void)state;
	check(TF_TIME_ZONE, "Africa/Lagos", "Africa/Lagos");
	check(TF_TIME_ZONE, "America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires");
	check(TF_TIME_ZONE, "UTC", "UTC");
	check(TF_TIME_ZONE, "Mars/Olympus", NULL);
	check(TF_TIME_ZONE, "../../etc/passwd", NULL);
	check(TF_TIME_ZONE, "/etc/localtime", NULL);
	check(TF_TIME_ZONE, "Europe", NULL); /* a directory, not a zone */
	check(TF_TIME_ZONE, "", NULL);
}

static void test_tenant_hhmm(void **state)
{
	(void)state;
	check(TF_QUIET_START, "00:00", "00:00");
	check(TF_QUIET_END, "23:59", "23:59");
	check(TF_QUIET_START, "24:00", NULL);
	check(TF_QUIET_START, "7:00", NULL);
	check(TF_QUIET_START, "07:60", NULL);
	check(TF_QUIET_START, "07:00:00", NULL);
}

static void test_tenant_language_tag(void **state)
{
	(void)state;
	check(TF_LANGUAGE, "en", "en");
	check(TF_LANGUAGE, "pt-BR", "pt-BR");
	check(TF_LANGUAGE, "zh-Hant-TW", "zh-Hant-TW");
	check(TF_LANGUAGE, "yue", "yue");
	check(TF_LANGUAGE, "e", NULL);
	check(TF_LANGUAGE, "engl", NULL);
	check(TF_LANGUAGE, "EN", NULL);
	check(TF_LANGUAGE, "en_US", NULL);
	check(TF_LANGUAGE, "en-", NULL);
	check(TF_LANGUAGE, "en-x", NULL);
	check(TF_LANGUAGE, "en-abcdefghi", NULL);
}

static void test_tenant_json_uses_the_names_post_takes(void **state)
{
	(void)state;
	struct tenant t = {0};
	t.id = 42;
	t.external_id = xstrdup("shop-42");
	t.display_name = xstrdup("Ada");
	t.whatsapp_number = xstrdup("+2349012345678");
	t.time_zone = xstrdup("Africa/Lagos");
	t.language = xstrdup("en");
	t.status = xstrdup("active");
	struct json_object *o = tenant_to_json(&t);
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "id")), 42);
	assert_false(json_object_get_boolean(json_object_object_get(o, "whatsapp_verified")));
	assert_true(json_object_object_get_ex(o, "quiet_start", NULL));
	assert_null(json_object_object_get(o, "quiet_start")); /* JSON null: none */
	assert_null(json_object_object_get(o, "sms_number"));
	for (int i = 0; i < TF_COUNT; i++)
		assert_true(
		    json_object_object_get_ex(o, tenant_field_name((enum tenant_field)i), NULL));
	json_object_put(o);
	t.whatsapp_verified_at = xstrdup("2026-12-02T16:00:00Z");
	o = tenant_to_json(&t);
	assert_true(json_object_get_boolean(json_object_object_get(o, "whatsapp_verified")));
	json_object_put(o);
	tenant_release(&t);
	tenant_release(&t);
}

/* The seller's change (PATCH /tenants/me): doc refused naming field, with why in the message. */
static void change_refused(const char *doc, const char *want_field, const char *why)
{
	struct json_object *o = json_tokener_parse(doc);
	struct tenant_input in;
	char *field = NULL, *err = NULL;
	assert_non_null(o);
	if (tenant_parse_change(o, &in, &field, &err) == 0) {
		print_error("tenant_parse_change(%s) accepted it\n", doc);
		fail();
	}
	assert_string_equal(field, want_field);
	if (!strstr(err, why)) {
		print_error("tenant_parse_change(%s): \"%s\" lacks \"%s\"\n", doc, err, why);
		fail();
	}
	assert_int_equal(in.present, 0);
	free(field);
	free(err);
	json_object_put(o);
}

static void test_tenant_change_needs_no_member_and_never_the_id(void **state)
{
	(void)state;
	struct json_object *o = json_tokener_parse("{}");
	struct tenant_input in;
	char *field = NULL, *err = NULL;
	assert_int_equal(tenant_parse_change(o, &in, &field, &err), 0);
	assert_int_equal(in.present, 0);
	json_object_put(o);
	o = json_tokener_parse(
	    "{\"language\":\"pt-BR\",\"whatsapp_number\":\"+234 901 234 5678\"}");
	assert_int_equal(tenant_parse_change(o, &in, &field, &err), 0);
	assert_int_equal(in.present, (1u << TF_LANGUAGE) | (1u << TF_WHATSAPP_NUMBER));
	assert_string_equal(in.value[TF_WHATSAPP_NUMBER], "+2349012345678");
	assert_null(in.value[TF_DISPLAY_NAME]);
	tenant_input_release(&in);
	json_object_put(o);
	change_refused("{\"external_id\":\"other-shop\"}", "external_id", "cannot be changed");
	change_refused("{\"whatsapp_number\":null}", "whatsapp_number", "cannot be removed");
	change_refused("{\"whatsapp_number\":\"2349012345678\"}", "whatsapp_number", "+");
	change_refused("{\"whatsapp_number\":\"+12345\"}", "whatsapp_number", "8 to 15 digits");
	change_refused("{\"display_name\":null}", "display_name", "cannot be null");
	change_refused("{\"time_zone\":\"Mars/Base\"}", "time_zone", "IANA");
	change_refused("{\"quiet_start\":\"25:00\",\"quiet_end\":\"07:00\"}", "quiet_start", "");
	change_refused("{\"quiet_start\":\"22:00\"}", "quiet_end", "together");
	change_refused("{\"shop\":\"x\"}", "shop", "unknown member");
	/* A good member before a bad one: nothing of it is kept. */
	change_refused("{\"language\":\"fr\",\"email\":\"nope\"}", "email", "email address");
}

/* Every column of struct tenant has its member, the pending number included. */
static void test_tenant_json_shows_the_pending_number(void **state)
{
	(void)state;
	struct tenant t = {.id = 7,
	                   .whatsapp_number = "+2349012345678",
	                   .pending_whatsapp_number = "+2348011112222"};
	struct json_object *o = tenant_to_json(&t), *v = NULL;
	assert_true(json_object_object_get_ex(o, "pending_whatsapp_number", &v));
	assert_string_equal(json_object_get_string(v), "+2348011112222");
	assert_true(json_object_object_get_ex(o, "whatsapp_verified", &v));
	assert_false(json_object_get_boolean(v));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tenant_full_document_is_normalised),
	    cmocka_unit_test(test_tenant_minimal_document_sets_only_its_members),
	    cmocka_unit_test(test_tenant_each_bad_member_is_named),
	    cmocka_unit_test(test_tenant_quiet_hours_go_together),
	    cmocka_unit_test(test_tenant_external_id),
	    cmocka_unit_test(test_tenant_display_name),
	    cmocka_unit_test(test_tenant_numbers_are_international),
	    cmocka_unit_test(test_tenant_email),
	    cmocka_unit_test(test_tenant_time_zone_is_iana),
	    cmocka_unit_test(test_tenant_hhmm),
	    cmocka_unit_test(test_tenant_language_tag),
	    cmocka_unit_test(test_tenant_json_uses_the_names_post_takes),
	    cmocka_unit_test(test_tenant_change_needs_no_member_and_never_the_id),
	    cmocka_unit_test(test_tenant_json_shows_the_pending_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
