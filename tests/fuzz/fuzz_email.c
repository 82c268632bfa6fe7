/*
 * fuzz_email.c: core/email.c, for the addresses producers and sellers give, SMTP_FROM, and
 * every text that reaches an email's headers (a subject, a display name) or its body. The
 * input is the text (up to a NUL).
 *
 * Invariants:
 *  - an address email_address_check() accepts is printable ASCII, no space, one '@', at most
 *    254 bytes; email_format() with it as the recipient succeeds;
 *  - a mailbox email_mailbox_parse() accepts has a name without control characters and an
 *    address the check accepts;
 *  - a subject from email_subject() is valid UTF-8 without control characters (C0, DEL, C1);
 *  - email_format() with the input as subject, display name and body writes exactly our nine
 *    headers, 7-bit ASCII only, every CR followed by LF and every LF after a CR, no line longer
 *    than 998 characters.
 */
#include "fuzz.h"
#include "core/buf.h"
#include "core/email.h"

static void check_address(const char *in)
{
	const char *why = NULL;
	if (email_address_check(in, &why) < 0) {
		FUZZ_CHECK(why != NULL && *why != '\0');
		return;
	}
	size_t n = strlen(in);
	FUZZ_CHECK(n > 0 && n <= EMAIL_ADDRESS_MAX);
	int ats = 0;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(in[i] > 0x20 && in[i] < 0x7F);
		ats += in[i] == '@';
	}
	FUZZ_CHECK(ats == 1);
}

static void check_mailbox(const char *in)
{
	const char *why = NULL;
	char *name = NULL, *addr = NULL;
	if (email_mailbox_parse(in, &name, &addr, &why) < 0) {
		FUZZ_CHECK(name == NULL && addr == NULL && why != NULL);
		return;
	}
	for (const char *p = name; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7F);
	FUZZ_CHECK(email_address_check(addr, &why) == 0);
	free(name);
	free(addr);
}

static void check_subject(const char *in)
{
	char *s = email_subject("critical", in);
	size_t n = strlen(s);
	FUZZ_CHECK(n > 0 && str_is_utf8(s, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		FUZZ_CHECK(c >= 0x20 && c != 0x7F);
		FUZZ_CHECK(!(c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] < 0xA0));
	}
	free(s);
}

/* The message's shape: nine header lines, 7-bit, CRLF only, lines of at most 998. */
static void check_message(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");
	FUZZ_CHECK(end != NULL);
	int headers = 0;
	size_t line = 0;
	for (const char *p = msg; *p; p++) {
		FUZZ_CHECK((unsigned char)*p < 0x80 && *p != '\0');
		if (*p == '\r')
			FUZZ_CHECK(p[1] == '\n');
		if (*p == '\n') {
			FUZZ_CHECK(p > msg && p[-1] == '\r');
			line = 0;
			if (p < end && p[1] != ' ' && p[1] != '\t')
				headers++;
			continue;
		}
		FUZZ_CHECK(++line <= 998 + 1);
	}
	FUZZ_CHECK(headers + 1 == 9); /* the first header has no LF before it */
}

static void check_format(const char *in, int as_recipient)
{
	struct buf b = BUF_INIT(EMAIL_MAX_MESSAGE);
	const char *why = NULL;
	struct email_msg m = {
	    .from_name = in,
	    .from_addr = "alerts@example.com",
	    .to_name = in,
	    .to_addr = as_recipient ? in : "ops@example.com",
	    .subject = in,
	    .body = in,
	    .message_id = "<1.0123456789abcdef@example.com>",
	    .date = 1796263416,
	};
	int rc = email_format(&b, &m, &why);
	if (as_recipient) {
		FUZZ_CHECK(rc == 0);
	} else if (rc < 0) {
		FUZZ_CHECK(why != NULL && strstr(why, "larger") != NULL);
		buf_release(&b);
		return;
	}
	check_message(buf_str(&b));
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	const char *why;
	check_address(in);
	check_mailbox(in);
	check_subject(in);
	check_format(in, 0);
	if (email_address_check(in, &why) == 0)
		check_format(in, 1);
	free(in);
	return 0;
}
