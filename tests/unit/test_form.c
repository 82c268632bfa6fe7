/* Unit tests of common/app/form.c: application/x-www-form-urlencoded bodies. */
#include "testutil.h"

#include "core/buf.h"
#include "app/form.h"

/* Parse a string that must be accepted. */
static void parse_ok(const char *body, struct form *f)
{
	char *err = NULL;
	int r = form_parse(body, strlen(body), f, &err);
	if (r != 0)
		print_error("rejected \"%s\": %s\n", body, err ? err : "?");
	free(err);
	assert_int_equal(r, 0);
}

/* Assert that len bytes of body are rejected, the form left empty, and err mentions word. */
static void assert_rejected(const char *body, size_t len, const char *word)
{
	struct form f = {(void *)&f, 99};
	char *err = NULL;
	if (form_parse(body, len, &f, &err) == 0) {
		print_error("accepted \"%.*s\"\n", (int)len, body);
		form_release(&f);
		fail();
	}
	assert_null(f.v);
	assert_int_equal(f.n, 0);
	assert_non_null(err);
	if (word)
		assert_contains(err, word);
	free(err);
}

#define REJECT(lit, word) assert_rejected((lit), sizeof(lit) - 1, (word))

static void test_form_parse_reads_pairs_in_order(void **state)
{
	(void)state;
	struct form f;
	parse_ok("a=1&b=2&c=three", &f);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.v[0].key, "a");
	assert_string_equal(f.v[0].value, "1");
	assert_string_equal(f.v[1].key, "b");
	assert_string_equal(f.v[1].value, "2");
	assert_string_equal(f.v[2].key, "c");
	assert_string_equal(f.v[2].value, "three");
	form_release(&f);
}

static void test_form_parse_decodes_plus_and_escapes(void **state)
{
	(void)state;
	struct form f;
	parse_ok("Body=ack+12%20now&From=whatsapp%3A%2B16505551234&Name=Ren%C3%A9e&x%5By%5D=%7e",
	         &f);
	assert_string_equal(form_get(&f, "Body"), "ack 12 now");
	assert_string_equal(form_get(&f, "From"), "whatsapp:+16505551234");
	assert_string_equal(form_get(&f, "Name"), "Ren\xc3\xa9"
	                                          "e");
	assert_string_equal(form_get(&f, "x[y]"), "~");
	form_release(&f);
	/* Lower and upper case hex digits alike. */
	parse_ok("k=%c3%A9%2b%2B", &f);
	assert_string_equal(form_get(&f, "k"), "\xc3\xa9++");
	form_release(&f);
}

static void test_form_parse_empty_values(void **state)
{
	(void)state;
	struct form f;
	parse_ok("a=&b&c=+&=v", &f);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "a"), "");
	assert_string_equal(form_get(&f, "b"), "");
	assert_string_equal(form_get(&f, "c"), " ");
	assert_string_equal(form_get(&f, ""), "v");
	form_release(&f);
}

static void test_form_parse_value_may_hold_equals(void **state)
{
	(void)state;
	struct form f;
	parse_ok("sig=abc==&id=wamid.HBg%3D%3D", &f);
	assert_string_equal(form_get(&f, "sig"), "abc==");
	assert_string_equal(form_get(&f, "id"), "wamid.HBg==");
	form_release(&f);
}

static void test_form_parse_skips_empty_pieces(void **state)
{
	(void)state;
	struct form f;
	parse_ok("&&a=1&&b=2&", &f);
	assert_int_equal(f.n, 2);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_string_equal(form_get(&f, "b"), "2");
	form_release(&f);
	parse_ok("&", &f);
	assert_int_equal(f.n, 0);
	form_release(&f);
}

static void test_form_parse_empty_body(void **state)
{
	(void)state;
	struct form f = {(void *)&f, 5};
	char *err = (char *)"stale";
	assert_int_equal(form_parse("", 0, &f, &err), 0);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
	assert_null(err);
	assert_int_equal(form_parse(NULL, 0, &f, &err), 0);
	assert_int_equal(f.n, 0);
	assert_null(form_get(&f, "a"));
	form_release(&f);
}

static void test_form_parse_keeps_duplicates(void **state)
{
	(void)state;
	struct form f;
	parse_ok("k=1&other=x&k=2&k=", &f);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "k"), "1");
	assert_string_equal(f.v[2].value, "2");
	assert_string_equal(f.v[3].value, "");
	form_release(&f);
}

static void test_form_parse_honours_len(void **state)
{
	(void)state;
	struct form f;
	char *err = NULL;
	assert_int_equal(form_parse("a=1&b=2", 3, &f, &err), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(form_get(&f, "a"), "1");
	assert_null(form_get(&f, "b"));
	form_release(&f);
	/* Not NUL-terminated at all. */
	char raw[4] = {'x', '=', '4', '2'};
	assert_int_equal(form_parse(raw, sizeof(raw), &f, &err), 0);
	assert_string_equal(form_get(&f, "x"), "42");
	form_release(&f);
}

static void test_form_parse_rejects_bad_escapes(void **state)
{
	(void)state;
	REJECT("a=%", "escape");
	REJECT("a=%4", "escape");
	REJECT("a=%zz", "escape");
	REJECT("a=%g1", "escape");
	REJECT("a=%1g", "escape");
	REJECT("a=1%2", "escape");
	REJECT("a=%%41", "escape");
	REJECT("%=1", "escape");
	REJECT("a%x=1", "name");
	REJECT("ok=1&bad=%", "parameter 2");
	/* "%" at the very end of a piece, followed by another piece. */
	REJECT("a=%&b=1", "escape");
	REJECT("a=%4&b=1", "escape");
}

static void test_form_parse_rejects_nul_bytes(void **state)
{
	(void)state;
	REJECT("a=%00", "NUL");
	REJECT("a%00=1", "NUL");
	REJECT("a=x\0y", "NUL");
	REJECT("a\0=1", "NUL");
	REJECT("a=1&\0", "NUL");
}

static void test_form_parse_rejects_invalid_utf8(void **state)
{
	(void)state;
	REJECT("a=%FF", "UTF-8");
	REJECT("a=%C3", "UTF-8");
	REJECT("a=%C0%AF", "UTF-8");
	REJECT("%ED%A0%80=1", "UTF-8");
	REJECT("a=\xff", "UTF-8");
}

/* "k0=0&k1=1&..." with n pairs. */
static char *many_pairs(int n)
{
	struct buf b = BUF_INIT(1 << 20);
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%sk%d=%d", i ? "&" : "", i, i);
	return buf_detach(&b);
}

static void test_form_parse_accepts_max_pairs(void **state)
{
	(void)state;
	char *s = many_pairs(FORM_MAX_PAIRS);
	struct form f;
	parse_ok(s, &f);
	assert_int_equal(f.n, FORM_MAX_PAIRS);
	assert_string_equal(form_get(&f, "k255"), "255");
	form_release(&f);
	free(s);
}

static void test_form_parse_rejects_too_many_pairs(void **state)
{
	(void)state;
	char *s = many_pairs(FORM_MAX_PAIRS + 1);
	assert_rejected(s, strlen(s), "more than");
	free(s);
	s = many_pairs(5000);
	assert_rejected(s, strlen(s), "more than");
	free(s);
	/* Empty pieces do not count. */
	struct buf b = BUF_INIT(1 << 20);
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "&");
	buf_puts(&b, "a=1");
	struct form f;
	parse_ok(buf_str(&b), &f);
	assert_int_equal(f.n, 1);
	form_release(&f);
	buf_release(&b);
}

static void test_form_parse_without_err_pointer(void **state)
{
	(void)state;
	struct form f;
	assert_int_equal(form_parse("a=%zz", 5, &f, NULL), -1);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse("a=1", 3, &f, NULL), 0);
	assert_string_equal(form_get(&f, "a"), "1");
	form_release(&f);
}

static void test_form_parse_twilio_inbound(void **state)
{
	(void)state;
	const char *body =
	    "SmsMessageSid=SM0123456789abcdef0123456789abcdef&NumMedia=0&ProfileName=Sheena+Nelson&"
	    "MessageType=text&SmsSid=SM0123456789abcdef0123456789abcdef&WaId=16505551234&"
	    "SmsStatus=received&Body=Pause+2h&To=whatsapp%3A%2B14155238886&NumSegments=1&"
	    "ReferralNumMedia=0&MessageSid=SM0123456789abcdef0123456789abcdef&"
	    "AccountSid=ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&From=whatsapp%3A%2B16505551234&"
	    "ApiVersion=2010-04-01";
	struct form f;
	parse_ok(body, &f);
	assert_int_equal(f.n, 15);
	assert_string_equal(form_get(&f, "Body"), "Pause 2h");
	assert_string_equal(form_get(&f, "From"), "whatsapp:+16505551234");
	assert_string_equal(form_get(&f, "WaId"), "16505551234");
	assert_string_equal(form_get(&f, "ProfileName"), "Sheena Nelson");
	assert_null(form_get(&f, "ButtonPayload"));
	assert_null(form_get(&f, "body")); /* names are case-sensitive */
	form_release(&f);
}

static void test_form_get_and_release_edge_cases(void **state)
{
	(void)state;
	struct form f;
	parse_ok("a=1", &f);
	assert_null(form_get(&f, NULL));
	assert_null(form_get(NULL, "a"));
	assert_null(form_get(&f, "a "));
	assert_null(form_get(&f, ""));
	form_release(&f);
	form_release(&f); /* released twice: still empty */
	assert_int_equal(f.n, 0);
	assert_null(f.v);
	form_release(NULL);
	/* A released form can be parsed into again. */
	parse_ok("b=2", &f);
	assert_string_equal(form_get(&f, "b"), "2");
	form_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_form_parse_reads_pairs_in_order),
	    cmocka_unit_test(test_form_parse_decodes_plus_and_escapes),
	    cmocka_unit_test(test_form_parse_empty_values),
	    cmocka_unit_test(test_form_parse_value_may_hold_equals),
	    cmocka_unit_test(test_form_parse_skips_empty_pieces),
	    cmocka_unit_test(test_form_parse_empty_body),
	    cmocka_unit_test(test_form_parse_keeps_duplicates),
	    cmocka_unit_test(test_form_parse_honours_len),
	    cmocka_unit_test(test_form_parse_rejects_bad_escapes),
	    cmocka_unit_test(test_form_parse_rejects_nul_bytes),
	    cmocka_unit_test(test_form_parse_rejects_invalid_utf8),
	    cmocka_unit_test(test_form_parse_accepts_max_pairs),
	    cmocka_unit_test(test_form_parse_rejects_too_many_pairs),
	    cmocka_unit_test(test_form_parse_without_err_pointer),
	    cmocka_unit_test(test_form_parse_twilio_inbound),
	    cmocka_unit_test(test_form_get_and_release_edge_cases),
	};
	return cmocka_run_group_tests_name("form", tests, NULL, NULL);
}
