/*
 * email.h: email addresses and messages as we write them, with no network
 * (delivery/provider_smtp.c sends them; config.c checks SMTP_FROM with them).
 *
 * Header injection is impossible by construction: addresses are checked
 * (ASCII, no space, no control character, local@domain), and every other
 * text that reaches a header (a display name, the subject) has its control
 * characters turned into spaces and is written either as plain printable
 * ASCII or as RFC 2047 encoded words; nothing here ever copies a CR or LF
 * from its input into a header. The body goes base64-encoded, so a line of
 * it can never be read as a header or as the end of the DATA.
 *
 * Everything returned is allocated (xmalloc: out of memory aborts) and the
 * caller's; failures are -1 with a static *why naming what is wrong.
 */
#ifndef EMAIL_H
#define EMAIL_H

#include <stddef.h>

#include "core/buf.h"

#define EMAIL_ADDRESS_MAX 254   /* RFC 5321's path limit, less the angle brackets */
#define EMAIL_NAME_MAX 200      /* bytes of a display name */
#define EMAIL_SUBJECT_CHARS 120 /* characters of a subject made by email_subject() */
#define EMAIL_MAX_MESSAGE (256 * 1024)

/*
 * 0 when s is an address we send to: local@domain in ASCII, the local part
 * 1-64 of RFC 5322's atext and single dots, the domain dot-separated labels
 * of letters, digits and inner hyphens, 254 bytes at most. No quoted local
 * parts, no domain literals, no internationalised addresses. -1 with *why.
 */
int email_address_check(const char *s, const char **why);

/*
 * A mailbox as SMTP_FROM holds it: "addr" or "Display Name <addr>" (the name
 * may be double-quoted, UTF-8, at most EMAIL_NAME_MAX bytes, no control
 * character). 0 with *name ("" when none) and *addr, or -1 with *why (nothing
 * allocated).
 */
int email_mailbox_parse(const char *s, char **name, char **addr, const char **why);

/*
 * The subject of a message of that priority: "[CRITICAL] " and the first
 * line of text, control characters and runs of spaces as one space, invalid
 * UTF-8 as '?', cut to EMAIL_SUBJECT_CHARS characters ("…" at the cut);
 * "Alert" when the line is empty. An unknown or NULL priority adds no tag.
 */
char *email_subject(const char *priority, const char *text);

/* Append the RFC 5322 date of epoch seconds t, in UTC ("Thu, 03 Dec 2026 01:55:41 +0000"). */
int email_date(struct buf *b, long long t);

struct email_msg {
	const char *from_name, *from_addr; /* name "" or NULL: none */
	const char *to_name, *to_addr;
	const char *subject;    /* any UTF-8; cleaned and encoded here */
	const char *body;       /* UTF-8 text; line ends made CRLF, then base64 */
	const char *message_id; /* "<local@domain>", printable ASCII */
	long long date;         /* epoch seconds */
};

/*
 * The whole message (headers, a blank line, the body) with CRLF line ends,
 * appended to out: Date, From, To, Message-ID, Subject, MIME-Version,
 * Content-Type text/plain; charset=UTF-8, Content-Transfer-Encoding base64,
 * Auto-Submitted auto-generated. 0, or -1 with *why when an address or the
 * message id is refused or out's cap is reached (out then holds what it held).
 */
int email_format(struct buf *out, const struct email_msg *m, const char **why);

#endif
