/*
 * sms.c: SMS bodies, their encoding and their segments (sms.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sms.h"
#include "core/util.h"

/* The GSM 03.38 default alphabet beyond printable ASCII, as Unicode code points. */
static const uint32_t gsm_basic_extra[] = {
    0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8,
    0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,
    0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6,
    0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

const char *sms_encoding_name(enum sms_encoding e)
{
	return e == SMS_GSM7 ? "gsm7" : "ucs2";
}

/*
 * One code point of s[0..n) into *c: its length, or 0 for an invalid
 * sequence (overlong, a surrogate, past U+10FFFF, truncated).
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *c)
{
	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	}
	size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
	if (len == 0 || len > n || s[0] > 0xF4)
		return 0;
	uint32_t v = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*c = v;
	return len;
}

/* Septets of c in GSM-7: 1, 2 (the extension table), or 0 when it has none. */
static int gsm_cost(uint32_t c)
{
	if (c == '\n')
		return 1;
	if (c >= 0x20 && c < 0x7F) {
		if (c == '`')
			return 0;
		return strchr("[\\]^{|}~", (int)c) ? 2 : 1;
	}
	if (c == 0x20AC) /* the euro sign */
		return 2;
	for (size_t i = 0; i < ARRAY_LEN(gsm_basic_extra); i++)
		if (gsm_basic_extra[i] == c)
			return 1;
	return 0;
}

/* What c costs in encoding e: septets (GSM-7) or UTF-16 units (UCS-2). */
static int cost(uint32_t c, enum sms_encoding e)
{
	if (e == SMS_GSM7)
		return gsm_cost(c);
	return c >= 0x10000 ? 2 : 1;
}

char *sms_clean(const char *s)
{
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)in), len = 0;
	char *out = xmalloc(n + 1);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next(in + i, n - i, &c);
		if (l == 0) {
			i++;
			continue;
		}
		if (c == '\t')
			out[len++] = ' ';
		else if (c == '\n' || !(c < 0x20 || (c >= 0x7F && c <= 0x9F))) {
			memcpy(out + len, in + i, l);
			len += l;
		}
		i += l;
	}
	out[len] = '\0';
	return out;
}

enum sms_encoding sms_encoding_of(const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next(in + i, n - i, &c);
		if (l == 0 || gsm_cost(c) == 0)
			return SMS_UCS2;
		i += l;
	}
	return SMS_GSM7;
}

/* Segments packed so far: parts filled, the current one's fill, and the total. */
struct packing {
	size_t parts, fill, total;
	size_t part; /* a concatenated segment's room: 153 septets or 67 units */
};

static void pack(struct packing *p, size_t c)
{
	if (p->parts == 0 || p->fill + c > p->part) {
		p->parts++;
		p->fill = 0;
	}
	p->fill += c;
	p->total += c;
}

static size_t single_room(enum sms_encoding e)
{
	return e == SMS_GSM7 ? SMS_GSM7_SINGLE : SMS_UCS2_SINGLE;
}

static size_t part_room(enum sms_encoding e)
{
	return e == SMS_GSM7 ? SMS_GSM7_PART : SMS_UCS2_PART;
}

size_t sms_segments(const char *s, enum sms_encoding e)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strlen(s);
	struct packing p = {.part = part_room(e)};
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next(in + i, n - i, &c);
		if (l == 0) {
			i++;
			continue;
		}
		int k = cost(c, e);
		pack(&p, (size_t)(k ? k : 2)); /* not GSM-7 at all: counted as the widest */
		i += l;
	}
	if (p.total == 0)
		return 0;
	return p.total <= single_room(e) ? 1 : p.parts;
}

#define CUT_MARK "..."
#define CUT_MARK_COST 3

/*
 * Whether a text packed as p, followed by the cut mark, takes at most max
 * segments: one segment of single_room, or max concatenated ones.
 */
static int fits_with_mark(const struct packing *p, size_t max, size_t single)
{
	if (p->total + CUT_MARK_COST <= single)
		return 1;
	if (max < 2)
		return 0;
	if (p->parts > max)
		return 0;
	return (max - p->parts) * p->part + (p->part - p->fill) >= CUT_MARK_COST;
}

/* The bytes of clean (in encoding e) that fit in max segments with the cut mark after them. */
static size_t cut_length(const char *clean, enum sms_encoding e, size_t max)
{
	const unsigned char *in = (const unsigned char *)clean;
	size_t n = strlen(clean), keep = 0;
	struct packing p = {.part = part_room(e)};
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next(in + i, n - i, &c);
		if (l == 0)
			break; /* clean is valid UTF-8 */
		struct packing next = p;
		pack(&next, (size_t)cost(c, e));
		if (!fits_with_mark(&next, max, single_room(e)))
			break;
		p = next;
		i += l;
		keep = i;
	}
	return keep;
}

char *sms_fit(const char *s, size_t max_segments, struct sms_fit *fit)
{
	if (max_segments < 1)
		max_segments = 1;
	if (max_segments > SMS_SEGMENTS_MAX)
		max_segments = SMS_SEGMENTS_MAX;
	char *text = sms_clean(s);
	enum sms_encoding e = sms_encoding_of(text);
	int cut = 0;
	if (sms_segments(text, e) > max_segments) {
		size_t keep = cut_length(text, e, max_segments);
		char *shorter = xmalloc(keep + sizeof(CUT_MARK));
		memcpy(shorter, text, keep);
		memcpy(shorter + keep, CUT_MARK, sizeof(CUT_MARK));
		free(text);
		text = shorter;
		e = sms_encoding_of(text);
		cut = 1;
	}
	if (fit) {
		fit->encoding = e;
		fit->segments = sms_segments(text, e);
		fit->cut = cut;
	}
	return text;
}
