#include <stdint.h>

#include "core/buf.h"
#include "core/util.h"
#include "db/pgarray.h"

char *pg_bigint_array(const long long *v, size_t n)
{
	/* No limit of its own: the caller's n bounds it (at most 21 bytes an element). */
	struct buf b = BUF_INIT(SIZE_MAX - 1);
	buf_puts(&b, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%lld", i ? "," : "", v[i]);
	buf_puts(&b, "}");
	return buf_detach(&b);
}

char *pg_text_array(const char *const *v, size_t n)
{
	struct buf b = BUF_INIT(SIZE_MAX - 1);
	buf_puts(&b, "{");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&b, i ? ",\"" : "\"");
		for (const char *p = v[i] ? v[i] : ""; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_puts(&b, "\\");
			buf_append(&b, p, 1);
		}
		buf_puts(&b, "\"");
	}
	buf_puts(&b, "}");
	return buf_detach(&b);
}
