#include <stdint.h>
#include <string.h>

#include "core/base64.h"
#include "core/util.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

long base64_encode(const void *in, size_t n, int flavour, char *out, size_t outlen)
{
	const unsigned char *p = in;
	const char *abc = flavour == BASE64_URL ? url_alphabet : std_alphabet;
	size_t need = flavour == BASE64_URL ? BASE64URL_LEN(n) : BASE64_LEN(n);
	size_t o = 0;

	if (n > (SIZE_MAX - 3) / 4 * 3 || !out || outlen <= need)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)p[i] << 16;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		if (left > 1)
			out[o++] = abc[v >> 6 & 63];
		else if (flavour != BASE64_URL)
			out[o++] = '=';
		if (left > 2)
			out[o++] = abc[v & 63];
		else if (flavour != BASE64_URL)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

/* The 6-bit value of character c in flavour, or -1 (padding included). */
static int sextet(unsigned char c, int flavour)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (flavour == BASE64_URL ? '-' : '+'))
		return 62;
	if (c == (flavour == BASE64_URL ? '_' : '/'))
		return 63;
	return -1;
}

int base64_decode(const char *s, size_t len, int flavour, unsigned char *out, size_t outmax,
                  size_t *outlen)
{
	size_t chars = len, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!s && len > 0)
		return -1;
	if (flavour == BASE64_URL) {
		if (len % 4 == 1)
			return -1; /* one character carries 6 bits: never a whole byte */
	} else {
		if (len % 4 != 0)
			return -1;
		/* At most two '=', only at the end. */
		if (chars > 0 && s[chars - 1] == '=')
			chars--;
		if (chars > 0 && s[chars - 1] == '=' && chars % 4 == 3)
			chars--;
	}
	if (chars / 4 * 3 + (chars % 4 ? chars % 4 - 1 : 0) > outmax)
		return -1;
	for (size_t i = 0; i < chars; i++) {
		int v = sextet((unsigned char)s[i], flavour);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* The bits left over pad the last byte: canonical only when they are zero. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}
