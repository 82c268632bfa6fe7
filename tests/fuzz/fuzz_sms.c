/*
 * fuzz_sms.c: core/sms.c, the SMS body made from any alert text: control characters removed,
 * the encoding chosen, the text cut to a budget of segments. The first byte picks the budget
 * (1 + byte % SMS_SEGMENTS_MAX); the rest is the text (up to a NUL).
 *
 * Invariants:
 *  - sms_clean() gives valid UTF-8 without control characters but LF (no C0, DEL or C1), never
 *    longer than its input;
 *  - sms_fit() gives the same kind of text, in the encoding sms_encoding_of() says, taking the
 *    segments it reports and at most the budget; uncut it is exactly sms_clean()'s text; cut,
 *    it ends with "..." after a prefix of that text.
 */
#include "fuzz.h"
#include "core/sms.h"

/* Valid UTF-8 with no control character but LF. */
static void check_clean_text(const char *s)
{
	size_t n = strlen(s);
	FUZZ_CHECK(str_is_utf8(s, n));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7F));
		/* C1: U+0080..U+009F is C2 80..C2 9F */
		FUZZ_CHECK(!(c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] < 0xA0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t max = 1 + (size_t)data[0] % SMS_SEGMENTS_MAX;
	char *in = fuzz_cstr(data + 1, size - 1);
	char *clean = sms_clean(in);
	check_clean_text(clean);
	FUZZ_CHECK(strlen(clean) <= strlen(in));

	struct sms_fit fit;
	char *out = sms_fit(in, max, &fit);
	check_clean_text(out);
	FUZZ_CHECK(fit.encoding == sms_encoding_of(out));
	FUZZ_CHECK(fit.segments == sms_segments(out, fit.encoding));
	FUZZ_CHECK(fit.segments <= max);
	if (!fit.cut) {
		FUZZ_CHECK(strcmp(out, clean) == 0);
	} else {
		size_t n = strlen(out);
		FUZZ_CHECK(n >= 3 && strcmp(out + n - 3, "...") == 0);
		FUZZ_CHECK(strncmp(out, clean, n - 3) == 0);
		FUZZ_CHECK(fit.segments >= 1);
	}
	free(out);
	free(clean);
	free(in);
	return 0;
}
