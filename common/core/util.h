/*
 * util.h: allocation that aborts on out-of-memory, strict number parsing and
 * small string helpers. Nothing here touches the network or the database.
 *
 * x-allocators never return NULL: on failure they log and abort(), and the
 * process supervisor (spawn-fcgi, systemd) starts a fresh worker.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Parse a whole decimal integer in [min, max]. Leading/trailing junk,
 * overflow and empty input are errors. Returns 0 and sets *out, or -1 and
 * points *err at a static description.
 */
int parse_int(const char *s, long long min, long long max, long long *out, const char **err);
/* Same for a finite floating point number. */
int parse_double(const char *s, double min, double max, double *out, const char **err);
/* "HH:MM" (00:00..23:59) into minutes since midnight. */
int parse_hhmm(const char *s, int *minutes, const char **err);
/* "30s", "30m", "2h", "1d" or plain seconds, into seconds in [min, max]. */
int parse_duration(const char *s, long long min, long long max, long long *seconds,
                   const char **err);

/*
 * An RFC 3339 timestamp ("2026-11-23T09:00:00Z", "...+01:00", optional
 * fraction, ignored) into epoch seconds. 0, or -1 with *err.
 */
int parse_timestamp(const char *s, long long *epoch, const char **err);

/* Case-insensitive ASCII equality. */
int str_eq_nocase(const char *a, const char *b);
/* Trim ASCII whitespace in place; returns s advanced past leading space. */
char *str_trim(char *s);
/* 1 if s is a safe SQL identifier: [A-Za-z_][A-Za-z0-9_]* , optionally schema-qualified once. */
int str_is_identifier(const char *s);
/* The value of hexadecimal digit c (either case), or -1. */
int hex_value(int c);
/* 1 if s is valid UTF-8 without NUL bytes (len bytes). */
int str_is_utf8(const char *s, size_t len);

/* Equality of a caller's string and a secret, in time that depends on strlen(given) alone
 * (not on where they first differ). 0 if either is NULL. */
int secure_str_eq(const char *given, const char *secret);

/* Milliseconds from a monotonic clock. */
int64_t mono_ms(void);

/* Fill buf with n bytes from the kernel's CSPRNG (getrandom(2), blocking until it is seeded).
 * 0 / -1. */
int random_bytes(void *buf, size_t n);

/* Write n (at most 64) random bytes from getrandom(2) as 2n hex characters + NUL into out (2n+1
 * bytes). 0 / -1. */
int random_hex(char *out, size_t nbytes);

/* A uniformly random number in [0, 1] (for jitter; not for secrets). */
double random_unit(void);

#include "core/banned.h"

#endif
