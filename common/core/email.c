/*
 * email.c: addresses, subjects and whole messages (email.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/email.h"
#include "core/util.h"

/* RFC 5322 atext, without the dot. */
static int atext(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int label_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static int check_local(const char *s, size_t n, const char **why)
{
	if (n == 0 || n > 64) {
		*why = "its local part (before @) must be 1 to 64 characters";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' && i > 0 && i + 1 < n && s[i + 1] != '.')
			continue;
		if (!atext(c)) {
			*why = c == '.' ? "its local part has a leading, trailing or double dot"
			                : "its local part holds a character an address may not";
			return -1;
		}
	}
	return 0;
}

static int check_domain(const char *s, size_t n, const char **why)
{
	size_t label = 0;
	*why = "its domain must be labels of letters, digits and inner hyphens, joined by dots";
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return -1;
			label = 0;
			continue;
		}
		if (!label_char((unsigned char)s[i]))
			return -1;
		label++;
	}
	return 0;
}

int email_address_check(const char *s, const char **why)
{
	if (!s || !*s) {
		*why = "is empty";
		return -1;
	}
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) {
			*why = "holds a control character (CR, LF, TAB, ...)";
			return -1;
		}
	if (n > EMAIL_ADDRESS_MAX) {
		*why = "is longer than 254 bytes";
		return -1;
	}
	const char *at = strchr(s, '@');
	if (!at || strchr(at + 1, '@')) {
		*why = "must be local@domain, with one @";
		return -1;
	}
	if (check_local(s, (size_t)(at - s), why) < 0)
		return -1;
	return check_domain(at + 1, n - (size_t)(at - s) - 1, why);
}

int email_mailbox_parse(const char *s, char **name, char **addr, const char **why)
{
	*name = *addr = NULL;
	if (!s) {
		*why = "is empty";
		return -1;
	}
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) {
			*why = "holds a control character (CR, LF, TAB, ...)";
			return -1;
		}
	const char *lt = strrchr(s, '<');
	char *nm, *ad;
	if (n > 0 && s[n - 1] == '>' && lt) {
		nm = xstrndup(s, (size_t)(lt - s));
		ad = xstrndup(lt + 1, n - (size_t)(lt - s) - 2);
	} else {
		nm = xstrdup("");
		ad = xstrdup(s);
	}
	/* str_trim returns a pointer into its string: copy, then free the originals. */
	char *name_out = xstrdup(str_trim(nm)), *addr_out = xstrdup(str_trim(ad));
	free(nm);
	free(ad);
	size_t l = strlen(name_out);
	if (l >= 2 && name_out[0] == '"' && name_out[l - 1] == '"') {
		memmove(name_out, name_out + 1, l - 2);
		name_out[l - 2] = '\0';
	}
	int ok = 1;
	if (strlen(name_out) > EMAIL_NAME_MAX) {
		*why = "has a display name longer than 200 bytes";
		ok = 0;
	} else if (!str_is_utf8(name_out, strlen(name_out)) || strchr(name_out, '"') ||
	           strchr(name_out, '<') || strchr(name_out, '>')) {
		*why = "has a display name that is not UTF-8 or holds \", < or >";
		ok = 0;
	} else if (email_address_check(addr_out, why) < 0) {
		ok = 0;
	}
	if (!ok) {
		free(name_out);
		free(addr_out);
		return -1;
	}
	*name = name_out;
	*addr = addr_out;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80             ? 1
	             : (s[0] & 0xE0) == 0xC0 ? 2
	             : (s[0] & 0xF0) == 0xE0 ? 3
	             : (s[0] & 0xF8) == 0xF0 ? 4
	                                     : 0;
	if (len == 0 || len > n || !str_is_utf8((const char *)s, len))
		return 0;
	return len;
}

/*
 * s as one line: control characters (C0, DEL, C1 as U+0080..U+009F) and runs
 * of spaces as one space, trimmed, invalid UTF-8 bytes as '?', at most
 * max_chars characters ("…" at a cut; 0: no limit), stopping at the first LF
 * when first_line.
 */
static char *clean_line(const char *s, size_t max_chars, int first_line)
{
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)in), chars = 0;
	struct buf b = BUF_INIT(SIZE_MAX);
	int space = 0;
	for (size_t i = 0; i < n;) {
		if (first_line && in[i] == '\n')
			break;
		size_t l = utf8_len(in + i, n - i);
		int ctl = l == 0   ? 0
		          : l == 1 ? (in[i] < 0x20 || in[i] == 0x7F || in[i] == ' ')
		                   : (l == 2 && in[i] == 0xC2 && in[i + 1] < 0xA0);
		if (ctl) {
			space = b.len > 0;
			i += l;
			continue;
		}
		if (max_chars && chars + space + 1 > max_chars) {
			buf_puts(&b, "\xE2\x80\xA6"); /* … */
			break;
		}
		if (space)
			buf_puts(&b, " ");
		chars += (size_t)space + 1;
		space = 0;
		if (l == 0) {
			buf_puts(&b, "?");
			i++;
		} else {
			buf_append(&b, in + i, l);
			i += l;
		}
	}
	buf_puts(&b, "");
	return buf_detach(&b);
}

char *email_subject(const char *priority, const char *text)
{
	static const char *const tags[][2] = {
	    {"critical", "[CRITICAL] "}, {"warning", "[WARNING] "}, {"info", "[INFO] "}};
	const char *tag = "";
	for (size_t i = 0; priority && i < ARRAY_LEN(tags); i++)
		if (strcmp(priority, tags[i][0]) == 0)
			tag = tags[i][1];
	char *line = clean_line(text, EMAIL_SUBJECT_CHARS, 1);
	char *s = xasprintf("%s%s", tag, *line ? line : "Alert");
	free(line);
	return s;
}

int email_date(struct buf *b, long long t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		return -1;
	return buf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Bytes of UTF-8 text in one encoded word: 36 bytes are 48 base64 characters, 60 in all. */
#define WORD_BYTES 36

/*
 * s (clean UTF-8: no control characters) as RFC 2047 "B" encoded words of
 * whole characters, folded onto continuation lines ("\r\n ").
 */
static int encode_words(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t take = 0;
		while (i + take < n) {
			size_t l = utf8_len((const unsigned char *)s + i + take, n - i - take);
			if (l == 0)
				l = 1; /* cleaned text has none; never loop on one */
			if (take + l > WORD_BYTES)
				break;
			take += l;
		}
		char enc[BASE64_LEN(WORD_BYTES) + 1];
		if (base64_encode(s + i, take, BASE64_STD, enc, sizeof(enc)) < 0 ||
		    buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc) < 0)
			return -1;
		i += take;
	}
	return 0;
}

static int plain_ascii(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return 0;
	/* "=?" could be read as the start of an encoded word. */
	return strstr(s, "=?") == NULL;
}

/* A display name: atoms as they are, other ASCII quoted, anything else encoded words. */
static int append_name(struct buf *b, const char *raw)
{
	char *name = clean_line(raw, 0, 0);
	int r, atoms = 1;
	for (const char *p = name; *p; p++)
		atoms &= *p == ' ' || atext((unsigned char)*p);
	if (plain_ascii(name, 70) && atoms) {
		r = buf_printf(b, "%s ", name);
	} else if (plain_ascii(name, 70)) {
		r = buf_puts(b, "\"");
		for (const char *p = name; r == 0 && *p; p++)
			r = buf_printf(b, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
		if (r == 0)
			r = buf_puts(b, "\" ");
	} else {
		r = encode_words(b, name);
		if (r == 0)
			r = buf_puts(b, " ");
	}
	free(name);
	return r;
}

/* "Name <addr>" or "addr", after checking the address. */
static int append_mailbox(struct buf *b, const char *field, const char *name, const char *addr,
                          const char **why)
{
	if (email_address_check(addr, why) < 0)
		return -1;
	if (buf_printf(b, "%s: ", field) < 0)
		return -1;
	if (name && *name) {
		if (append_name(b, name) < 0 || buf_printf(b, "<%s>\r\n", addr) < 0)
			return -1;
		return 0;
	}
	return buf_printf(b, "%s\r\n", addr);
}

/* "<left@right>" of printable ASCII with no space, angle bracket inside, or second @. */
static int message_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>')
		return 0;
	int ats = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7F || c == '<' || c == '>')
			return 0;
		ats += c == '@';
	}
	return ats == 1 && id[1] != '@' && id[n - 2] != '@';
}

static int append_subject(struct buf *b, const char *subject)
{
	char *s = clean_line(subject, 0, 0);
	int r = buf_puts(b, "Subject: ");
	if (r == 0)
		r = plain_ascii(s, 69) ? buf_puts(b, s) : encode_words(b, s);
	if (r == 0)
		r = buf_puts(b, "\r\n");
	free(s);
	return r;
}

/* The body with its line ends made CRLF, base64 in lines of 76 characters. */
static int append_body(struct buf *b, const char *text)
{
	struct buf crlf = BUF_INIT(EMAIL_MAX_MESSAGE);
	int r = buf_puts(&crlf, "");
	for (const char *p = text ? text : ""; r == 0 && *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue; /* the LF writes the pair */
		r = *p == '\n' || *p == '\r' ? buf_puts(&crlf, "\r\n") : buf_append(&crlf, p, 1);
	}
	for (size_t i = 0; r == 0 && i < crlf.len; i += 57) {
		size_t take = crlf.len - i < 57 ? crlf.len - i : 57;
		char enc[BASE64_LEN(57) + 1];
		if (base64_encode(crlf.data + i, take, BASE64_STD, enc, sizeof(enc)) < 0 ||
		    buf_printf(b, "%s\r\n", enc) < 0)
			r = -1;
	}
	buf_release(&crlf);
	return r;
}

int email_format(struct buf *out, const struct email_msg *m, const char **why)
{
	struct buf b = BUF_INIT(out->max);
	int ret = -1;
	if (!message_id_ok(m->message_id)) {
		*why = "the message id must be <left@right> in printable ASCII";
		goto out;
	}
	*why = "the message is larger than its buffer";
	if (buf_puts(&b, "Date: ") < 0 || email_date(&b, m->date) < 0 || buf_puts(&b, "\r\n") < 0)
		goto out;
	if (append_mailbox(&b, "From", m->from_name, m->from_addr, why) < 0 ||
	    append_mailbox(&b, "To", m->to_name, m->to_addr, why) < 0)
		goto out;
	*why = "the message is larger than its buffer";
	if (buf_printf(&b, "Message-ID: %s\r\n", m->message_id) < 0 ||
	    append_subject(&b, m->subject) < 0 ||
	    buf_puts(&b, "MIME-Version: 1.0\r\n"
	                 "Content-Type: text/plain; charset=UTF-8\r\n"
	                 "Content-Transfer-Encoding: base64\r\n"
	                 "Auto-Submitted: auto-generated\r\n"
	                 "\r\n") < 0 ||
	    append_body(&b, m->body) < 0)
		goto out;
	if (buf_append(out, b.data, b.len) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&b);
	return ret;
}
