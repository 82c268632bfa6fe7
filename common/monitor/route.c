#include <string.h>

#include "monitor/route.h"
#include "core/tz.h"
#include "core/util.h"

static int weekend(const struct tm *tm)
{
	return tm->tm_wday == 0 || tm->tm_wday == 6;
}

int route_in_business_hours(const struct config *cfg, time_t now)
{
	struct tm tm;
	tz_local(cfg->timezone, now, &tm);
	return !weekend(&tm) && config_in_business_hours(cfg, tm.tm_hour * 60 + tm.tm_min);
}

time_t route_next_business_start(const struct config *cfg, time_t now)
{
	struct tm today;
	tz_local(cfg->timezone, now, &today);
	for (int d = 0; d < 8; d++) {
		struct tm tm = today;
		tm.tm_mday += d;
		tm.tm_hour = cfg->business_hours_start / 60;
		tm.tm_min = cfg->business_hours_start % 60;
		tm.tm_sec = 0;
		time_t t = tz_make(cfg->timezone, &tm);
		struct tm check;
		tz_local(cfg->timezone, t, &check);
		if (t >= now - 59 && !weekend(&check))
			return t < now ? now : t;
	}
	return now; /* unreachable: some day in 8 is a weekday */
}

int route_decide(const struct config *cfg, const char *severity, int emergency, time_t now,
                 struct route *r)
{
	struct tm tm;
	tz_local(cfg->timezone, now, &tm);
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
