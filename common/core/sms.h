/*
 * sms.h: an SMS body as we send it, with no network (delivery/provider_twilio.c
 * sends it through Twilio's Messages API).
 *
 * A text is cleaned (control characters removed), its encoding chosen (GSM-7
 * when every character is in the GSM 03.38 default alphabet or its extension
 * table, else UCS-2) and cut to a budget of segments: one segment holds 160
 * GSM-7 septets or 70 UCS-2 units; a concatenated message's segments hold 153
 * septets or 67 units each (the rest is the concatenation header). A GSM-7
 * extension character (two septets) and a UTF-16 surrogate pair are never
 * split across segments, so they are counted as the network counts them.
 *
 * Everything returned is allocated (xmalloc: out of memory aborts) and the
 * caller's. Invalid UTF-8 is dropped byte by byte, never passed on.
 */
#ifndef SMS_H
#define SMS_H

#include <stddef.h>

#define SMS_SEGMENTS_MAX 10 /* SMS_MAX_SEGMENTS at most (Twilio's own limit is 10) */
#define SMS_GSM7_SINGLE 160
#define SMS_GSM7_PART 153
#define SMS_UCS2_SINGLE 70
#define SMS_UCS2_PART 67

enum sms_encoding { SMS_GSM7, SMS_UCS2 };

/* "gsm7" or "ucs2". */
const char *sms_encoding_name(enum sms_encoding e);

/*
 * s without control characters: C0 (a line feed kept, a tab as a space, a CR
 * dropped, so CRLF is one LF), DEL and C1 removed; invalid UTF-8 dropped.
 */
char *sms_clean(const char *s);

/* The encoding s (UTF-8, cleaned) needs: SMS_GSM7 when every character is GSM-7. */
enum sms_encoding sms_encoding_of(const char *s);

/* The segments s (UTF-8, cleaned) takes in encoding e; 0 for an empty text. */
size_t sms_segments(const char *s, enum sms_encoding e);

/* What sms_fit() did. */
struct sms_fit {
	enum sms_encoding encoding; /* of the result */
	size_t segments;            /* of the result */
	int cut;                    /* 1 when the text was cut ("..." at the end) */
};

/*
 * s cleaned (sms_clean) and, when it takes more than max_segments (1 ..
 * SMS_SEGMENTS_MAX) in the encoding it needs, cut at a character boundary so
 * that it and a closing "..." take at most max_segments. *fit (may be NULL)
 * says how it went out.
 */
char *sms_fit(const char *s, size_t max_segments, struct sms_fit *fit);

#endif
