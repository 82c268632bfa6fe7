/*
 * schedule.h: when scheduled things are due, as pure functions of the time
 * (the clock is a parameter: tests pass any instant; cron tick passes now).
 *
 * A report slot is the most recent REPORT_DAILY_TIME (daily), or that time on
 * REPORT_WEEKLY_DAY (weekly), at or before now, in TIMEZONE (DST included).
 * Its key names the period once and for all ("2026-11-23"), so a report is
 * sent once per key whichever host or tick gets there first; its period is
 * the day (week) before the slot, in local time: a day across a DST change
 * lasts 23 or 25 hours.
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <time.h>

#include "core/config.h"

/* A report sent more than this after its slot is marked late. */
#define SCHEDULE_LATE_SECONDS 300

struct slot {
	time_t at;    /* when it is due */
	time_t from;  /* the period it reports on: [from, at) */
	char key[40]; /* local date of the slot, YYYY-MM-DD */
};

void schedule_daily(const struct config *cfg, time_t now, struct slot *s);
void schedule_weekly(const struct config *cfg, time_t now, struct slot *s);

/* Is a check due: never ran (last 0), or MONITORING_INTERVAL has passed since last? */
int schedule_check_due(const struct config *cfg, time_t now, double last);

#endif
