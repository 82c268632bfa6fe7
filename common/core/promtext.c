/*
 * promtext.c: Prometheus' text exposition format (see promtext.h).
 */
#include <math.h>
#include <string.h>

#include "core/promtext.h"

/* s with each of the characters in special replaced by its escape. */
static int escape(struct buf *b, const char *s, int quote)
{
	const char *run = s;
	for (; *s; s++) {
		const char *esc = *s == '\\'           ? "\\\\"
		                  : *s == '\n'         ? "\\n"
		                  : quote && *s == '"' ? "\\\""
		                                       : NULL;
		if (!esc)
			continue;
		if (buf_append(b, run, (size_t)(s - run)) < 0 || buf_puts(b, esc) < 0)
			return -1;
		run = s + 1;
	}
	return buf_append(b, run, (size_t)(s - run));
}

int promtext_help_escape(struct buf *b, const char *s)
{
	return escape(b, s, 0);
}

int promtext_label_escape(struct buf *b, const char *s)
{
	return escape(b, s, 1);
}

int promtext_value(struct buf *b, double v)
{
	if (isnan(v))
		return buf_puts(b, "NaN");
	if (isinf(v))
		return buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return buf_printf(b, "%.0f", v);
	return buf_printf(b, "%.17g", v);
}

int promtext_name_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		int alpha =
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
		if (!alpha && (p == s || *p < '0' || *p > '9'))
			return 0;
	}
	return 1;
}

int promtext_family(struct buf *b, const char *name, enum promtext_type type, const char *help)
{
	size_t mark = b->len;
	if (buf_printf(b, "# HELP %s ", name) < 0 || promtext_help_escape(b, help) < 0 ||
	    buf_printf(b, "\n# TYPE %s %s\n", name,
	               type == PROMTEXT_COUNTER ? "counter" : "gauge") < 0)
		goto fail;
	return 0;
fail:
	b->len = mark;
	if (b->data)
		b->data[mark] = '\0';
	return -1;
}

int promtext_sample(struct buf *b, const char *name, const struct promtext_label *labels,
                    double value)
{
	size_t mark = b->len;
	if (buf_puts(b, name) < 0)
		goto fail;
	for (int i = 0; labels && labels[i].name; i++) {
		if (buf_puts(b, i == 0 ? "{" : ",") < 0 || buf_puts(b, labels[i].name) < 0 ||
		    buf_puts(b, "=\"") < 0 || promtext_label_escape(b, labels[i].value) < 0 ||
		    buf_puts(b, "\"") < 0)
			goto fail;
	}
	if ((labels && labels[0].name && buf_puts(b, "}") < 0) || buf_puts(b, " ") < 0 ||
	    promtext_value(b, value) < 0 || buf_puts(b, "\n") < 0)
		goto fail;
	return 0;
fail:
	b->len = mark;
	if (b->data)
		b->data[mark] = '\0';
	return -1;
}
