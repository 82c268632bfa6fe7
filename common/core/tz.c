#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tz.h"
#include "core/util.h"

/* Held for a switch of TZ and the conversion that needs it. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Make zone the C library's zone (tz_lock held). TZ is read back rather than
 * remembered, and tzset (which does nothing when TZ is what it last read)
 * runs every time, so a TZ set behind the module's back is still noticed.
 */
static void tz_switch(const char *zone)
{
	const char *now = getenv("TZ");
	if (!now || strcmp(now, zone) != 0)
		setenv("TZ", zone, 1);
	/* This file is the only caller of the functions banned.h bans: hence the parentheses. */
	(tzset)();
}

void tz_init(const char *zone)
{
	pthread_mutex_lock(&tz_lock);
	tz_switch(zone);
	pthread_mutex_unlock(&tz_lock);
}

void tz_local(const char *zone, time_t t, struct tm *out)
{
	pthread_mutex_lock(&tz_lock);
	tz_switch(zone);
	(localtime_r)(&t, out);
	pthread_mutex_unlock(&tz_lock);
}

/* The offset from UTC, in seconds, of zone at t (tz_lock held, zone switched to). */
static long offset_at(time_t t)
{
	struct tm tm;
	(localtime_r)(&t, &tm);
	return tm.tm_gmtoff;
}

/*
 * Not mktime: for a time that happens twice, glibc's mktime answers with the
 * offset its previous call found (a cache kept across calls and zones), so the
 * same question got either answer. Here the offsets a day before and a day
 * after are tried (no zone changes its offset twice within two days).
 */
time_t tz_make(const char *zone, struct tm *tm)
{
	struct tm wall = *tm;
	time_t w = timegm(&wall); /* the wall time, fields normalised, as if it were UTC */
	pthread_mutex_lock(&tz_lock);
	tz_switch(zone);
	long before = offset_at(w - 86400), after = offset_at(w + 86400);
	time_t t = w - before; /* skipped (clocks went forward): read with the earlier offset */
	int t_ok = offset_at(t) == before;
	time_t t2 = w - after;
	if (offset_at(t2) == after && (!t_ok || t2 < t))
		t = t2; /* the only reading, or the earlier of two */
	(localtime_r)(&t, tm);
	pthread_mutex_unlock(&tz_lock);
	return t;
}

int tz_known(const char *zone)
{
	if (!zone || !*zone || strlen(zone) > 64 || strstr(zone, "..") || zone[0] == '/')
		return 0;
	for (const char *p = zone; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	struct stat st;
	char magic[4];
	int ok = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd < 0)
		return 0;
	/* A compiled zone (RFC 8536), not a table beside them (leapseconds, a text file). */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4)
		ok = memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}
