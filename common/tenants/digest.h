/*
 * digest.h: the text of a digest, one WhatsApp message listing alerts that were held (pure).
 *
 * The house list format (core/alertlines.h): "3 alerts:" then one line per alert, "- " and its text
 * (alerttype.h alert_text: one line, cleaned), in the order given. When they do not all fit in max
 * bytes the last line says how many were left out ("+12 more"); the text never exceeds max. The
 * caller frees it.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>

#define DIGEST_MIN_MAX 64 /* the smallest max digest_text takes */

/* The text for n >= 1 lines in at most max (>= DIGEST_MIN_MAX) bytes; *shown: lines listed. */
char *digest_text(const char *const *lines, size_t n, size_t max, size_t *shown);

#endif
