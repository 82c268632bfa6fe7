/*
 * route.h: who is told, and when, in TIMEZONE (system tz database, DST
 * included).
 *
 * critical: at once, to WEEKEND_PHONE_n on Saturdays and Sundays (the
 * critical list when none is set), CRITICAL_PHONE_n otherwise.
 * warning: WARNING_PHONE_n (the critical list when none is set) inside
 * business hours on weekdays; outside them it is held until business hours
 * next start. emergency: the critical list, at once.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <time.h>

#include "config.h"

struct route {
	const struct phone_list *to;
	time_t not_before; /* == now when it may go at once */
};

/* Fills r. 0, or -1 when the time zone cannot be used. */
int route_decide(const struct config *cfg, const char *severity, int emergency, time_t now,
                 struct route *r);

/* Is now inside business hours (weekday, start <= time < end) in TIMEZONE? */
int route_in_business_hours(const struct config *cfg, time_t now);

/* The next time business hours start after now (now itself if they start this minute). */
time_t route_next_business_start(const struct config *cfg, time_t now);

/* t as local time in zone tz (IANA name). */
void route_local_tm(const char *tz, time_t t, struct tm *out);
/* The instant of local time *tm in zone tz (tm_isdst worked out; fields normalised). */
time_t route_make_local(const char *tz, struct tm *tm);

#endif
