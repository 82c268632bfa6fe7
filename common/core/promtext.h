/*
 * promtext.h: writing Prometheus' text exposition format (version 0.0.4)
 * into a caller-owned buf.
 *
 * A family is announced once with promtext_family() (its # HELP and # TYPE
 * lines), then its samples follow with promtext_sample(). The writer escapes
 * what the format asks it to: in HELP text backslash and newline, in label
 * values backslash, double quote and newline. Names are the caller's: they
 * must match [a-zA-Z_:][a-zA-Z0-9_:]* (promtext_name_ok() says whether one
 * does). Values are written so that Prometheus parses them back exactly:
 * NaN, +Inf, -Inf, integers without a fraction, others with 17 digits.
 *
 * Every function returns 0, or -1 when the buffer's limit was reached (the
 * output is then incomplete: the caller answers an error instead).
 */
#ifndef PROMTEXT_H
#define PROMTEXT_H

#include "core/buf.h"

enum promtext_type { PROMTEXT_GAUGE, PROMTEXT_COUNTER };

/* A label: name=value; a sample's labels are an array ended by {NULL, NULL}. */
struct promtext_label {
	const char *name;
	const char *value;
};

int promtext_family(struct buf *b, const char *name, enum promtext_type type, const char *help);
/* One sample; labels may be NULL (no labels). */
int promtext_sample(struct buf *b, const char *name, const struct promtext_label *labels,
                    double value);
/* The escaped forms alone (used by the two above). */
int promtext_help_escape(struct buf *b, const char *s);
int promtext_label_escape(struct buf *b, const char *s);
int promtext_value(struct buf *b, double v);
/* 1 if s is a valid metric or label name, else 0. */
int promtext_name_ok(const char *s);

#endif
