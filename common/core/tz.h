/*
 * tz.h: local time in a named zone (an IANA name, e.g. "Europe/Berlin"),
 * from any thread. The system tz database and the C library do the
 * arithmetic (DST and every rule change included).
 *
 * The C library knows one zone per process, the one TZ names. This module
 * owns TZ: every conversion switches it to the zone asked for, under one
 * mutex held for the switch and the conversion together, and leaves it there
 * (the next call in the same zone switches nothing). Nothing else may call
 * localtime_r, mktime or tzset (banned.h) or set TZ, and no program reads
 * the process's own local time (logs are UTC).
 *
 * A switch replaces TZ's value in place: glibc then never frees the old
 * string, so a thread reading the environment at the same time (libpq
 * connecting, libcurl) sees one value or the other. Adding TZ to the
 * environment instead reallocates it: tz_init does that once, before any
 * thread starts.
 *
 * A zone the tz database does not have reads as UTC (config_load refuses
 * such a TIMEZONE).
 */
#ifndef TZ_H
#define TZ_H

#include <time.h>

/* Put TZ in the environment (set to zone). Call once, before starting threads. */
void tz_init(const char *zone);

/* t as local time in zone. */
void tz_local(const char *zone, time_t t, struct tm *out);

/*
 * The instant of local time *tm in zone (tm_isdst is ignored), with *tm
 * normalised to it (the 32nd of March is the 1st of April). A time that
 * happens twice (clocks go back) is its first instant; a time that never
 * happens (clocks go forward) is read with the offset before the change, so
 * 01:30 on the night British clocks go from 01:00 to 02:00 is 02:30 BST.
 * The same question always gets the same answer, whatever came before.
 */
time_t tz_make(const char *zone, struct tm *tm);

/*
 * 1 when zone names a zone of the system tz database ($TZDIR, else
 * /usr/share/zoneinfo): a relative name of at most 64 characters of
 * [A-Za-z0-9/_+-], without "..", naming a compiled zone there (a regular file that starts
 * with "TZif": not leapseconds, a text table in the same directory). 0 otherwise.
 */
int tz_known(const char *zone);

#endif
