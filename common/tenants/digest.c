#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "tenants/digest.h"

/* Room kept for the last line, "\n+N more", N of up to 20 digits. */
#define DIGEST_TRAILER_MAX 32

char *digest_text(const char *const *lines, size_t n, size_t max, size_t *shown)
{
	struct buf b = BUF_INIT(max);
	size_t i = 0;
	if (buf_printf(&b, "%zu alert%s:", n, n == 1 ? "" : "s") < 0)
		buf_reset(&b);
	for (; i < n; i++) {
		size_t need = 3 + strlen(lines[i]);
		/* The last line needs no room for a trailer. */
		size_t keep = i + 1 == n ? 0 : DIGEST_TRAILER_MAX;
		if (b.len + need + keep > max)
			break;
		buf_puts(&b, "\n- ");
		buf_puts(&b, lines[i]);
	}
	if (i < n)
		buf_printf(&b, "\n+%zu more", n - i);
	*shown = i;
	return buf_detach(&b);
}
