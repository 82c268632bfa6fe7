/*
 * quiet.h: when a seller's alert may go, in the seller's own time zone (pure: no database, no
 * network; the tz database through core/tz.h).
 *
 * Quiet hours are two local times "HH:MM" (tenants.quiet_start, quiet_end): from start up to
 * (not including) end nothing but urgent alerts is sent. start > end spans midnight (22:00 to
 * 07:00); start == end, or either missing, is no quiet hours. The end is a wall-clock time:
 * across a DST change it is still 07:00 local (core/tz.h reads a time that never happens with
 * the offset before the change, and a time that happens twice as its first instant).
 *
 * Digests collect a type's alerts for a slot of the seller's local clock: an hour (up to the
 * next hh:00) or a day (up to the next local midnight); the digest goes when its slot ends.
 */
#ifndef QUIET_H
#define QUIET_H

#include <time.h>

/*
 * 0 when now is outside the quiet hours start..end in zone (or there are none: start or end
 * NULL or not HH:MM, or equal); otherwise the instant they end (> now).
 */
time_t quiet_until(const char *zone, const char *start, const char *end, time_t now);

enum digest_period { DIGEST_HOURLY, DIGEST_DAILY };

/* The end of the slot of period that holds now, in zone: the next local hh:00 or 00:00 (> now). */
time_t digest_slot_end(const char *zone, enum digest_period period, time_t now);

#endif
