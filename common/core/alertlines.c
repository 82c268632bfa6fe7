#include <stdlib.h>
#include <string.h>

#include "core/alertlines.h"
#include "core/buf.h"
#include "core/util.h"

/* Room kept for the last line, "\n+N more", N of up to 20 digits. */
#define TRAILER_MAX 32

char *alertlines_text(const char *const *lines, size_t n, size_t total, size_t max, size_t *shown)
{
	struct buf b = BUF_INIT(max);
	size_t i = 0;
	if (total < n)
		total = n;
	if (buf_printf(&b, "%zu alert%s:", total, total == 1 ? "" : "s") < 0)
		buf_reset(&b);
	for (; i < n; i++) {
		size_t need = 3 + strlen(lines[i]);
		/* The last line needs no room for a trailer (when it is the last alert too). */
		size_t keep = i + 1 == total ? 0 : TRAILER_MAX;
		if (b.len + need + keep > max)
			break;
		buf_puts(&b, "\n- ");
		buf_puts(&b, lines[i]);
	}
	if (i < total)
		buf_printf(&b, "\n+%zu more", total - i);
	*shown = i;
	return buf_detach(&b);
}

/* The count of a header "N alert:" / "N alerts:" ending at the first newline; 0: none. */
static size_t header_count(const char *text, const char **rest)
{
	const char *p = text;
	size_t n = 0;
	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > ((size_t)-1 - 9) / 10)
			return 0;
		n = n * 10 + (size_t)(*p - '0');
	}
	if (strncmp(p, " alerts:\n", 9) == 0)
		*rest = p + 9;
	else if (strncmp(p, " alert:\n", 8) == 0)
		*rest = p + 8;
	else
		return 0;
	return strncmp(*rest, "- ", 2) == 0 ? n : 0;
}

void alertlines_parse(const char *text, struct alertlines *out)
{
	const char *p = NULL;
	size_t total = header_count(text, &p);
	memset(out, 0, sizeof(*out));
	if (total == 0) {
		out->v = xcalloc(1, sizeof(*out->v));
		out->v[0] = xstrdup(text);
		out->n = out->total = 1;
		return;
	}
	size_t cap = 8;
	out->v = xcalloc(cap, sizeof(*out->v));
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= 2 && strncmp(p, "- ", 2) == 0) {
			if (out->n == cap) {
				cap *= 2;
				out->v = xrealloc(out->v, cap * sizeof(*out->v));
			}
			out->v[out->n++] = xstrndup(p + 2, len - 2);
		}
		p += len + (end ? 1 : 0);
	}
	out->total = total > out->n ? total : out->n;
}

void alertlines_release(struct alertlines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
