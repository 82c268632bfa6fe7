#include <stdio.h>
#include <string.h>

#include "monitor/schedule.h"
#include "core/tz.h"

/* Local time day_offset days from the local date of t, at minute m of the day. */
static time_t at_minute(const char *tz, time_t t, int day_offset, int m)
{
	struct tm tm;
	tz_local(tz, t, &tm);
	tm.tm_mday += day_offset;
	tm.tm_hour = m / 60;
	tm.tm_min = m % 60;
	tm.tm_sec = 0;
	return tz_make(tz, &tm);
}

static void key_of(const char *tz, time_t t, char key[40])
{
	struct tm tm;
	tz_local(tz, t, &tm);
	snprintf(key, 40, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void schedule_daily(const struct config *cfg, time_t now, struct slot *s)
{
	int back = at_minute(cfg->timezone, now, 0, cfg->report_daily_time) > now ? -1 : 0;
	s->at = at_minute(cfg->timezone, now, back, cfg->report_daily_time);
	s->from = at_minute(cfg->timezone, now, back - 1, cfg->report_daily_time);
	key_of(cfg->timezone, s->at, s->key);
}

void schedule_weekly(const struct config *cfg, time_t now, struct slot *s)
{
	for (int back = 0; back >= -7; back--) {
		time_t at = at_minute(cfg->timezone, now, back, cfg->report_daily_time);
		struct tm tm;
		tz_local(cfg->timezone, at, &tm);
		if (tm.tm_wday != cfg->report_weekly_day || at > now)
			continue;
		s->at = at;
		s->from = at_minute(cfg->timezone, now, back - 7, cfg->report_daily_time);
		key_of(cfg->timezone, at, s->key);
		return;
	}
	/* unreachable: one of the last 8 days is the weekday with its time passed */
	schedule_daily(cfg, now, s);
}

int schedule_check_due(const struct config *cfg, time_t now, double last)
{
	return last <= 0 || (double)now >= last + (double)cfg->monitoring_interval_ms / 1000.0;
}
