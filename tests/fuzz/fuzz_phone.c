/*
 * fuzz_phone.c: phone_normalize(), for the numbers in the configuration and
 * the senders of WhatsApp messages. The input is the text (up to a NUL).
 *
 * Invariants:
 *  - on success the output is "+" and 8 to 15 digits, the first not 0, in
 *    a NUL-terminated PHONE_MAX buffer; on failure *err is a message;
 *  - the output is a fixed point: normalising it gives itself, and so do the
 *    ways people write it ("whatsapp:" prefix, "00" for "+", spaces, dashes,
 *    dots, parentheses);
 *  - no digit is invented, dropped or reordered: the input's digits are the
 *    output's, or "00" followed by them.
 */
#include <ctype.h>

#include "fuzz.h"
#include "core/phone.h"

static void check_same(const char *in, const char *want)
{
	char out[PHONE_MAX];
	const char *err = NULL;
	FUZZ_CHECK(phone_normalize(in, out, &err) == 0);
	FUZZ_CHECK(strcmp(out, want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char out[PHONE_MAX + 8];
	const char *err = NULL;

	memset(out, 'x', sizeof(out));
	int rc = phone_normalize(in, out, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && *err != '\0');
		free(in);
		return 0;
	}
	size_t n = strnlen(out, PHONE_MAX);
	FUZZ_CHECK(n < PHONE_MAX);
	FUZZ_CHECK(out[0] == '+');
	FUZZ_CHECK(n - 1 >= 8 && n - 1 <= 15);
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(isdigit((unsigned char)out[i]));
	FUZZ_CHECK(out[1] != '0');
	for (size_t i = PHONE_MAX; i < sizeof(out); i++)
		FUZZ_CHECK(out[i] == 'x');

	/* Digits in, digits out. */
	char digits[64];
	size_t nd = 0;
	for (const char *p = in; *p && nd < sizeof(digits) - 1; p++)
		if (isdigit((unsigned char)*p))
			digits[nd++] = *p;
	digits[nd] = '\0';
	FUZZ_CHECK(strcmp(digits, out + 1) == 0 ||
	           (strncmp(digits, "00", 2) == 0 && strcmp(digits + 2, out + 1) == 0));

	/* A fixed point, however it is written. */
	char spaced[64], *s = spaced;
	check_same(out, out);
	char *w = xasprintf("whatsapp:%s", out);
	check_same(w, out);
	free(w);
	w = xasprintf("00%s", out + 1);
	check_same(w, out);
	free(w);
	w = xasprintf("  (%.3s) %s\t", out, out + 3);
	check_same(w, out);
	free(w);
	for (size_t i = 0; i < n; i++) {
		*s++ = out[i];
		if (i % 3 == 2)
			*s++ = "-. "[i % 9 / 3];
	}
	*s = '\0';
	check_same(spaced, out);
	free(in);
	return 0;
}
