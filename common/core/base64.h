/*
 * base64.h: Base64 (RFC 4648 section 4, with padding) and base64url (section
 * 5, without padding, as JWS compact serialization writes it), encoded and
 * decoded strictly.
 *
 * The decoder accepts only the canonical encoding of some bytes: the
 * alphabet's characters and nothing else (no whitespace, no line breaks, no
 * character of the other alphabet), padding exactly where the flavour wants
 * it, and zero in the unused low bits of the last character. Every byte
 * string therefore has one encoding we accept, so a token or a signature
 * cannot be re-spelt to slip past a comparison or a replay check made on its
 * text. Nothing here allocates; the caller gives the output buffer.
 */
#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>

/* Which of the two flavours: */
#define BASE64_STD 0 /* "+/", padded with '=' to a multiple of 4 characters */
#define BASE64_URL 1 /* "-_", never padded */

/* Characters that n bytes encode to (without the NUL), padded and unpadded. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)
#define BASE64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Encode the n bytes at in, in flavour (BASE64_STD or BASE64_URL), into out:
 * the characters and a NUL. Returns the number of characters, or -1 (out
 * untouched) when outlen is too small for them and the NUL.
 */
long base64_encode(const void *in, size_t n, int flavour, char *out, size_t outlen);

/*
 * Decode the len characters at s (not NUL-terminated: exactly len) in
 * flavour into out (outmax bytes at most). 0 and *outlen, or -1 when s is not
 * the canonical encoding of some bytes (see above) or they would not fit:
 * out then holds nothing the caller may use. An empty s decodes to nothing.
 */
int base64_decode(const char *s, size_t len, int flavour, unsigned char *out, size_t outmax,
                  size_t *outlen);

#endif
