/*
 * phone.h: phone numbers as E.164 ("+" then 8 to 15 digits, no leading 0).
 * Accepts the ways people write them ("+52 55 1234-5678", "(+44) 20 ...",
 * "00 44 ...", "whatsapp:+1...") and rejects anything else.
 */
#ifndef PHONE_H
#define PHONE_H

#include <stddef.h>

#define PHONE_MAX 17 /* "+" + 15 digits + NUL */

/* Normalise in into out (PHONE_MAX bytes). 0 on success, -1 and *err otherwise. */
int phone_normalize(const char *in, char out[PHONE_MAX], const char **err);

#endif
