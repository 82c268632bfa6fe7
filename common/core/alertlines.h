/*
 * alertlines.h: the text of one message that lists several alerts, and the reverse (pure).
 *
 * The house format, shared by the seller's digests and coalesced alerts (tenants/digest.h,
 * tenants/dispatch.h) and by the drain when it merges waiting messages (delivery/coalesce.h):
 * "3 alerts:" then one line per alert, "- " and its text, in the order given; when they do not
 * all fit in max bytes the last line says how many were left out ("+12 more"). The text never
 * exceeds max. Strings returned are the caller's.
 */
#ifndef ALERTLINES_H
#define ALERTLINES_H

#include <stddef.h>

#define ALERTLINES_MIN_MAX 64 /* the smallest max alertlines_text takes */

/*
 * The text for n >= 1 lines standing for total >= n alerts (the header says total; those
 * past the lines shown are counted in "+N more"), in at most max (>= ALERTLINES_MIN_MAX)
 * bytes. *shown: lines listed.
 */
char *alertlines_text(const char *const *lines, size_t n, size_t total, size_t max, size_t *shown);

/* The alerts one message's text lists: its lines and how many it says. */
struct alertlines {
	const char **v; /* the lines listed, without their "- "; xmalloc'd, NUL-ended copies */
	size_t n;
	size_t total; /* alerts it stands for: n plus those a "+N more" left out */
};

/*
 * Read text, one alert's own text or a list in the format above, into *out (its lines
 * copied). A text not in the list format is one alert: one line, itself. Never fails.
 */
void alertlines_parse(const char *text, struct alertlines *out);

/* Free what alertlines_parse gave *l. */
void alertlines_release(struct alertlines *l);

#endif
