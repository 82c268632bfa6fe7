/*
 * route.h: who is told, and when, in TIMEZONE (system tz database, DST
 * included; through tz.h, so any thread may ask).
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

#include "core/config.h"

struct route {
	const struct phone_list *to;
	time_t not_before; /* == now when it may go at once */
};

/* Fills r and returns 0 (a TIMEZONE the tz database lacks reads as UTC: tz.h). */
int route_decide(const struct config *cfg, const char *severity, int emergency, time_t now,
                 struct route *r);

/* Is now inside business hours (weekday, start <= time < end) in TIMEZONE? */
int route_in_business_hours(const struct config *cfg, time_t now);

/* The next time business hours start after now (now itself if they start this minute). */
time_t route_next_business_start(const struct config *cfg, time_t now);

#endif
