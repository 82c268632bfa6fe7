/* Unit tests of common/core/email.c: addresses, SMTP_FROM, subjects, RFC 2047 encoding and the
 * whole message, with header injection through every text that reaches a header. */
#include "testutil.h"

#include "core/base64.h"
#include "core/email.h"

/* ---------------------------------------------------------------- addresses */

static void test_email_address_accepts_ordinary_addresses(void **state)
{
	(void)state;
	const char *ok[] = {"ops@example.com", "first.last+alerts@mail.example.co.uk", "a@b",
	                    "o'brien@example.org", "x_y-z=1@sub-domain.example"};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		const char *why = NULL;
		if (email_address_check(ok[i], &why) != 0) {
			print_error("%s refused: %s\n", ok[i], why);
			fail();
		}
	}
}

static void test_email_address_refuses_cr_lf_and_controls(void **state)
{
	(void)state;
	const char *bad[] = {"ops@example.com\r\nBcc: victim@evil.test",
	                     "ops@example.com\n",
	                     "ops\r@example.com",
	                     "ops@exam\tple.com",
	                     "ops@example.com\x7f",
	                     "\x01ops@example.com"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *why = NULL;
		assert_int_equal(email_address_check(bad[i], &why), -1);
		assert_contains(why, "control character");
	}
}

static void test_email_address_refuses_what_is_not_local_at_domain(void **state)
{
	(void)state;
	const char *bad[] = {"",
	                     "ops",
	                     "@example.com",
	                     "ops@",
	                     "a@b@c",
	                     "Ops <ops@example.com>",
	                     "ops@example.com, victim@evil.test",
	                     "o ps@example.com",
	                     "\"ops\"@example.com",
	                     ".ops@example.com",
	                     "ops.@example.com",
	                     "o..ps@example.com",
	                     "ops@-example.com",
	                     "ops@example-.com",
	                     "ops@example..com",
	                     "ops@example.com.",
	                     "ops@[127.0.0.1]",
	                     "öps@example.com",
	                     "ops@exämple.com"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *why = NULL;
		if (email_address_check(bad[i], &why) != -1) {
			print_error("%s accepted\n", bad[i]);
			fail();
		}
		assert_non_null(why);
	}
}

static void test_email_address_limits_lengths(void **state)
{
	(void)state;
	const char *why;
	char local[80], addr[300];
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_int_equal(email_address_check(addr, &why), -1);
	local[64] = '\0';
	snprintf(addr, sizeof(addr), "%s@example.com", local);
	assert_int_equal(email_address_check(addr, &why), 0);
	char label[70];
	memset(label, 'b', 64);
	label[64] = '\0';
	snprintf(addr, sizeof(addr), "a@%s.com", label);
	assert_int_equal(email_address_check(addr, &why), -1);
}

/* ---------------------------------------------------------------- SMTP_FROM */

static void test_email_mailbox_parse_forms(void **state)
{
	(void)state;
	const char *why;
	char *name, *addr;
	assert_int_equal(email_mailbox_parse("alerts@example.com", &name, &addr, &why), 0);
	assert_string_equal(name, "");
	assert_string_equal(addr, "alerts@example.com");
	free(name);
	free(addr);
	assert_int_equal(
	    email_mailbox_parse("  Ops Alerts  <alerts@example.com>", &name, &addr, &why), 0);
	assert_string_equal(name, "Ops Alerts");
	assert_string_equal(addr, "alerts@example.com");
	free(name);
	free(addr);
	assert_int_equal(
	    email_mailbox_parse("\"Müller, Ops\" <ops@example.de>", &name, &addr, &why), 0);
	assert_string_equal(name, "Müller, Ops");
	free(name);
	free(addr);
}

static void test_email_mailbox_parse_refuses_injection_and_bad_addresses(void **state)
{
	(void)state;
	const char *bad[] = {"Ops\r\nBcc: victim@evil.test <alerts@example.com>",
	                     "Ops <alerts@example.com>\r\nBcc: victim@evil.test",
	                     "Ops\n <alerts@example.com>",
	                     "Ops <alerts@example.com\r\n>",
	                     "Ops <not an address>",
	                     "Ops <a@b> <c@d>",
	                     "",
	                     "\"Ops \"x\" <alerts@example.com>"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *why = NULL;
		char *name = (char *)"x", *addr = (char *)"y";
		if (email_mailbox_parse(bad[i], &name, &addr, &why) != -1) {
			print_error("'%s' accepted\n", bad[i]);
			fail();
		}
		assert_null(name);
		assert_null(addr);
		assert_non_null(why);
	}
}

/* ---------------------------------------------------------------- subjects */

static void test_email_subject_tags_priority_and_takes_the_first_line(void **state)
{
	(void)state;
	char *s = email_subject("critical", "Disk full on db1\nsecond line");
	assert_string_equal(s, "[CRITICAL] Disk full on db1");
	free(s);
	s = email_subject("warning", "  spaced\t\tout  ");
	assert_string_equal(s, "[WARNING] spaced out");
	free(s);
	s = email_subject("other", "");
	assert_string_equal(s, "Alert");
	free(s);
	s = email_subject(NULL, "\n\nlater");
	assert_string_equal(s, "Alert");
	free(s);
}

static void test_email_subject_turns_cr_and_controls_into_spaces(void **state)
{
	(void)state;
	char *s = email_subject("info", "x\r\nBcc: victim@evil.test");
	assert_string_equal(s, "[INFO] x");
	free(s);
	s = email_subject("info", "a\rBcc: v@e.test\x01\x7f"
	                          "b\xc2\x85"
	                          "c");
	assert_string_equal(s, "[INFO] a Bcc: v@e.test b c");
	assert_null(strchr(s, '\r'));
	free(s);
}

static void test_email_subject_cuts_long_lines_and_replaces_invalid_utf8(void **state)
{
	(void)state;
	char text[400];
	memset(text, 'x', 300);
	text[300] = '\0';
	char *s = email_subject(NULL, text);
	assert_int_equal(strlen(s), EMAIL_SUBJECT_CHARS + 3); /* + "…" */
	assert_string_equal(s + EMAIL_SUBJECT_CHARS, "\xE2\x80\xA6");
	free(s);
	s = email_subject(NULL, "bad \xff\xfe byte");
	assert_string_equal(s, "bad ?? byte");
	free(s);
}

/* ---------------------------------------------------------------- whole messages */

static char *format(const struct email_msg *m)
{
	struct buf b = BUF_INIT(EMAIL_MAX_MESSAGE);
	const char *why = NULL;
	if (email_format(&b, m, &why) != 0) {
		print_error("email_format: %s\n", why);
		fail();
	}
	return buf_detach(&b);
}

static struct email_msg base_msg(void)
{
	return (struct email_msg){
	    .from_name = "Ops Alerts",
	    .from_addr = "alerts@example.com",
	    .to_addr = "ops@example.com",
	    .subject = "[CRITICAL] Disk full",
	    .body = "line one\nline two",
	    .message_id = "<1796263416.0123456789abcdef@example.com>",
	    .date = 1796263416, /* 2026-12-03 02:03:36 UTC, a Thursday */
	};
}

/* The header block (up to the blank line) of msg, a copy. */
static char *header_block(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	assert_non_null(end);
	return xstrndup(msg, (size_t)(end - msg) + 2);
}

/* How many header lines (not continuation lines) the block has. */
static int header_count(const char *hdr)
{
	int n = 0;
	for (const char *p = hdr; *p;) {
		if (*p != ' ' && *p != '\t')
			n++;
		const char *nl = strstr(p, "\r\n");
		assert_non_null(nl);
		p = nl + 2;
	}
	return n;
}

/* Every CR is followed by LF and every LF follows a CR. */
static void assert_only_crlf(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\r')
			assert_int_equal(p[1], '\n');
		if (*p == '\n')
			assert_true(p > s && p[-1] == '\r');
	}
}

static void test_email_format_writes_our_headers_in_order(void **state)
{
	(void)state;
	struct email_msg m = base_msg();
	char *msg = format(&m);
	char *hdr = header_block(msg);
	assert_string_equal(hdr, "Date: Thu, 03 Dec 2026 02:03:36 +0000\r\n"
	                         "From: Ops Alerts <alerts@example.com>\r\n"
	                         "To: ops@example.com\r\n"
	                         "Message-ID: <1796263416.0123456789abcdef@example.com>\r\n"
	                         "Subject: [CRITICAL] Disk full\r\n"
	                         "MIME-Version: 1.0\r\n"
	                         "Content-Type: text/plain; charset=UTF-8\r\n"
	                         "Content-Transfer-Encoding: base64\r\n"
	                         "Auto-Submitted: auto-generated\r\n");
	assert_only_crlf(msg);
	free(hdr);
	free(msg);
}

static void test_email_format_body_is_base64_of_crlf_text(void **state)
{
	(void)state;
	struct email_msg m = base_msg();
	m.body = "a\nb\r\nc\rd\n.\nBcc: x@evil.test";
	char *msg = format(&m);
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	struct buf enc = BUF_INIT(256);
	/* Join the base64 lines, then decode. */
	for (const char *p = body; *p; p++)
		if (*p != '\r' && *p != '\n')
			buf_append(&enc, p, 1);
	unsigned char out[256];
	size_t n = 0;
	assert_int_equal(base64_decode(buf_str(&enc), enc.len, BASE64_STD, out, sizeof(out), &n),
	                 0);
	buf_release(&enc);
	out[n] = '\0';
	assert_string_equal((char *)out, "a\r\nb\r\nc\r\nd\r\n.\r\nBcc: x@evil.test");
	free(msg);
}

static void test_email_format_body_lines_are_at_most_76(void **state)
{
	(void)state;
	char text[1000];
	memset(text, 'z', 999);
	text[999] = '\0';
	struct email_msg m = base_msg();
	m.body = text;
	char *msg = format(&m);
	const char *body = strstr(msg, "\r\n\r\n") + 4;
	for (const char *p = body; *p;) {
		const char *nl = strstr(p, "\r\n");
		assert_non_null(nl);
		assert_true(nl - p <= 76);
		p = nl + 2;
	}
	free(msg);
}

static void test_email_format_encodes_non_ascii_subject_as_rfc2047(void **state)
{
	(void)state;
	struct email_msg m = base_msg();
	m.subject = "Réplica atrasada ✓ Ünïcode — a long subject that needs several encoded words";
	char *msg = format(&m);
	char *hdr = header_block(msg);
	assert_contains(hdr, "Subject: =?UTF-8?B?");
	assert_int_equal(header_count(hdr), 9);
	/* The whole message is 7-bit and each encoded word decodes to whole characters. */
	for (const char *p = msg; *p; p++)
		assert_true((unsigned char)*p < 0x80);
	struct buf joined = BUF_INIT(4096);
	for (const char *w = strstr(hdr, "=?UTF-8?B?"); w; w = strstr(w, "=?UTF-8?B?")) {
		w += 10;
		const char *e = strstr(w, "?=");
		unsigned char out[64];
		size_t n;
		assert_true(e - w <= 64);
		assert_int_equal(
		    base64_decode(w, (size_t)(e - w), BASE64_STD, out, sizeof(out), &n), 0);
		assert_true(str_is_utf8((char *)out, n));
		buf_append(&joined, out, n);
		w = e;
	}
	assert_string_equal(buf_str(&joined), m.subject);
	buf_release(&joined);
	free(hdr);
	free(msg);
}

static void test_email_format_subject_injection_adds_no_header(void **state)
{
	(void)state;
	const char *attempts[] = {"x\r\nBcc: victim@evil.test", "x\nBcc: victim@evil.test",
	                          "x\rBcc: victim@evil.test", "x\r\n\r\nbody?",
	                          "=?UTF-8?B?QmNjOiB4?= plain"};
	for (size_t i = 0; i < ARRAY_LEN(attempts); i++) {
		struct email_msg m = base_msg();
		m.subject = attempts[i];
		char *msg = format(&m);
		char *hdr = header_block(msg);
		assert_int_equal(header_count(hdr), 9);
		assert_null(strstr(hdr, "\r\nBcc:"));
		assert_only_crlf(msg);
		free(hdr);
		free(msg);
	}
}

static void test_email_format_names_are_quoted_or_encoded_never_raw(void **state)
{
	(void)state;
	struct email_msg m = base_msg();
	m.from_name = "Ops, Team \"A\"";
	m.to_name = "Ada\r\nBcc: victim@evil.test";
	char *msg = format(&m);
	char *hdr = header_block(msg);
	assert_contains(hdr, "From: \"Ops, Team \\\"A\\\"\" <alerts@example.com>\r\n");
	/* The CR/LF of the name became a space; the rest is quoted text, not a header. */
	assert_contains(hdr, "To: \"Ada Bcc: victim@evil.test\" <ops@example.com>\r\n");
	assert_int_equal(header_count(hdr), 9);
	free(hdr);
	free(msg);
	m.to_name = "Adaèze Okafor";
	msg = format(&m);
	assert_contains(msg, "To: =?UTF-8?B?");
	assert_contains(msg, "?= <ops@example.com>\r\n");
	free(msg);
}

static void test_email_format_refuses_bad_addresses_and_ids(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(EMAIL_MAX_MESSAGE);
	const char *why = NULL;
	struct email_msg m = base_msg();
	m.to_addr = "ops@example.com\r\nBcc: victim@evil.test";
	assert_int_equal(email_format(&b, &m, &why), -1);
	assert_contains(why, "control character");
	assert_int_equal(b.len, 0);
	m = base_msg();
	m.from_addr = "not an address";
	assert_int_equal(email_format(&b, &m, &why), -1);
	const char *ids[] = {"no-brackets@x", "<no-at>", "<a@b>\r\nBcc: x", "<a b@c>", "<@b>"};
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		m = base_msg();
		m.message_id = ids[i];
		assert_int_equal(email_format(&b, &m, &why), -1);
		assert_contains(why, "message id");
	}
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_email_format_leaves_out_untouched_when_over_its_cap(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(100);
	buf_puts(&b, "kept");
	const char *why = NULL;
	struct email_msg m = base_msg();
	assert_int_equal(email_format(&b, &m, &why), -1);
	assert_string_equal(buf_str(&b), "kept");
	buf_release(&b);
}

static void test_email_date_is_rfc5322_utc(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(100);
	assert_int_equal(email_date(&b, 0), 0);
	assert_string_equal(buf_str(&b), "Thu, 01 Jan 1970 00:00:00 +0000");
	buf_reset(&b);
	assert_int_equal(email_date(&b, 951782400), 0); /* 2000-02-29 */
	assert_string_equal(buf_str(&b), "Tue, 29 Feb 2000 00:00:00 +0000");
	buf_release(&b);
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_email_address_accepts_ordinary_addresses),
	    T(test_email_address_refuses_cr_lf_and_controls),
	    T(test_email_address_refuses_what_is_not_local_at_domain),
	    T(test_email_address_limits_lengths),
	    T(test_email_mailbox_parse_forms),
	    T(test_email_mailbox_parse_refuses_injection_and_bad_addresses),
	    T(test_email_subject_tags_priority_and_takes_the_first_line),
	    T(test_email_subject_turns_cr_and_controls_into_spaces),
	    T(test_email_subject_cuts_long_lines_and_replaces_invalid_utf8),
	    T(test_email_format_writes_our_headers_in_order),
	    T(test_email_format_body_is_base64_of_crlf_text),
	    T(test_email_format_body_lines_are_at_most_76),
	    T(test_email_format_encodes_non_ascii_subject_as_rfc2047),
	    T(test_email_format_subject_injection_adds_no_header),
	    T(test_email_format_names_are_quoted_or_encoded_never_raw),
	    T(test_email_format_refuses_bad_addresses_and_ids),
	    T(test_email_format_leaves_out_untouched_when_over_its_cap),
	    T(test_email_date_is_rfc5322_utc),
	};
	return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}
