/*
 * fuzz.h: shared by the libFuzzer harnesses in tests/fuzz/ (fuzz_<name>.c)
 * and the corpus replay (replay.c), which links the same harness without
 * libFuzzer.
 *
 * A harness checks invariants of one parser of untrusted input and calls
 * abort() through FUZZ_CHECK when one does not hold; libFuzzer and the
 * replay both turn that into a failure with the input saved or named. A
 * harness frees everything it allocates: both run under AddressSanitizer
 * with leak detection.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort, naming the broken invariant, unless cond holds. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a C string: a copy with a NUL appended (a NUL inside ends it early). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Percent-encode len bytes of s for a form or query: unreserved characters
 * as they are, a space as '+' when plus is set, everything else as %XX.
 */
static inline char *fuzz_urlencode(const char *s, size_t len, int plus)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else if (c == ' ' && plus) {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

#endif
