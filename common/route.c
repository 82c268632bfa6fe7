#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "util.h"

/*
 * Work in another zone: TZ is switched for the call and put back (the
 * programs are single-threaded). tz_enter returns what tz_leave restores.
 */
static char *tz_enter(const char *tz)
{
	char *saved = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	return saved;
}

static void tz_leave(char *saved)
{
	if (saved) {
		setenv("TZ", saved, 1);
		free(saved);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

void route_local_tm(const char *tz, time_t t, struct tm *out)
{
	char *saved = tz_enter(tz);
	localtime_r(&t, out);
	tz_leave(saved);
}

time_t route_make_local(const char *tz, struct tm *tm)
{
	char *saved = tz_enter(tz);
	tm->tm_isdst = -1;
	time_t t = mktime(tm);
	tz_leave(saved);
	return t;
}

static int weekend(const struct tm *tm)
{
	return tm->tm_wday == 0 || tm->tm_wday == 6;
}

int route_in_business_hours(const struct config *cfg, time_t now)
{
	struct tm tm;
	route_local_tm(cfg->timezone, now, &tm);
	return !weekend(&tm) && config_in_business_hours(cfg, tm.tm_hour * 60 + tm.tm_min);
}

time_t route_next_business_start(const struct config *cfg, time_t now)
{
	struct tm today;
	route_local_tm(cfg->timezone, now, &today);
	for (int d = 0; d < 8; d++) {
		struct tm tm = today;
		tm.tm_mday += d;
		tm.tm_hour = cfg->business_hours_start / 60;
		tm.tm_min = cfg->business_hours_start % 60;
		tm.tm_sec = 0;
		time_t t = route_make_local(cfg->timezone, &tm);
		struct tm check;
		route_local_tm(cfg->timezone, t, &check);
		if (t >= now - 59 && !weekend(&check))
			return t < now ? now : t;
	}
	return now; /* unreachable: some day in 8 is a weekday */
}

int route_decide(const struct config *cfg, const char *severity, int emergency, time_t now,
                 struct route *r)
{
	struct tm tm;
	route_local_tm(cfg->timezone, now, &tm);
	r->not_before = now;
	if (emergency) {
		r->to = &cfg->critical;
	} else if (strcmp(severity, "critical") == 0) {
		r->to = weekend(&tm) && cfg->weekend.n ? &cfg->weekend : &cfg->critical;
	} else {
		r->to = cfg->warning.n ? &cfg->warning : &cfg->critical;
		if (!route_in_business_hours(cfg, now))
			r->not_before = route_next_business_start(cfg, now);
	}
	return 0;
}
