#include <time.h>
#include <stddef.h>

#include "core/tz.h"
#include "core/util.h"
#include "tenants/quiet.h"

/* The instant of local time hh:mm on the day of *day plus add_days, in zone. */
static time_t local_at(const char *zone, const struct tm *day, int add_days, int minutes)
{
	struct tm tm = {0};
	tm.tm_year = day->tm_year;
	tm.tm_mon = day->tm_mon;
	tm.tm_mday = day->tm_mday + add_days;
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_isdst = -1;
	return tz_make(zone, &tm);
}

time_t quiet_until(const char *zone, const char *start, const char *end, time_t now)
{
	int s, e;
	const char *err;
	if (!start || !end || parse_hhmm(start, &s, &err) < 0 || parse_hhmm(end, &e, &err) < 0 ||
	    s == e)
		return 0;
	struct tm tm;
	tz_local(zone, now, &tm);
	int m = tm.tm_hour * 60 + tm.tm_min;
	int inside = s < e ? (m >= s && m < e) : (m >= s || m < e);
	if (!inside)
		return 0;
	/* Ends today, unless it spans midnight and now is before it (then tomorrow). */
	int tomorrow = s > e && m >= s;
	time_t until = local_at(zone, &tm, tomorrow, e);
	/* A DST change can put the end at or before now (the wall clock went back past it):
	 * then it ends the next time that wall-clock time comes. */
	if (until <= now)
		until = local_at(zone, &tm, tomorrow + 1, e);
	return until;
}

time_t digest_slot_end(const char *zone, enum digest_period period, time_t now)
{
	struct tm tm;
	tz_local(zone, now, &tm);
	time_t at;
	if (period == DIGEST_DAILY) {
		at = local_at(zone, &tm, 1, 0);
	} else {
		/* The top of this local hour, an hour on: the next local hh:00, a DST change
		 * (a whole hour) in between included. */
		at = now - (tm.tm_min * 60 + tm.tm_sec) + 3600;
	}
	return at;
}
