/*
 * Unit tests of common/core/tz.c: local time in a named zone, also from several
 * threads at once (the webhook's request and store threads route messages,
 * replies to commands; soon every tenant has a zone of its own). Each thread
 * converts instants around DST changes in its own order, so that at any
 * moment threads work in different zones; every answer must equal the one
 * computed alone. The file includes tz.c itself, as h2o's unit tests do, to
 * reach its static helpers (tz_switch, offset_at); libcommon.a's tz.o is then
 * never pulled in (every symbol it defines is defined here first).
 */
#include <pthread.h>

#include "testutil.h"

#include "core/tz.c"

#define THREADS 8
#define ROUNDS 40

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	return tu_utc(y, mo, d, h, mi, s);
}

/* Instants: each zone's 2026 DST changes (Kolkata has none), and around them. */
struct instant {
	const char *zone;
	time_t t;
};

/* Wall times: one that does not exist, one that happens twice, ordinary ones. */
struct wall {
	const char *zone;
	int y, mo, d, h, mi;
};

static struct instant instants[128];
static size_t n_instants;

static const struct wall walls[] = {
    {"Europe/London", 2026, 3, 29, 1, 30},    /* skipped: 01:00 GMT -> 02:00 BST */
    {"Europe/London", 2026, 10, 25, 1, 30},   /* twice */
    {"Europe/London", 2026, 3, 30, 9, 0},     /* Monday 09:00 BST */
    {"America/New_York", 2026, 3, 8, 2, 30},  /* skipped */
    {"America/New_York", 2026, 11, 1, 1, 30}, /* twice */
    {"America/New_York", 2026, 11, 2, 9, 0},  /* Monday 09:00 EST */
    {"Asia/Kolkata", 2026, 3, 29, 9, 0},      /* no DST */
    {"Asia/Kolkata", 2026, 12, 31, 23, 59},   /* the year ends */
    {"Pacific/Auckland", 2026, 9, 27, 2, 30}, /* skipped: 02:00 NZST -> 03:00 NZDT */
    {"Pacific/Auckland", 2026, 4, 5, 2, 30},  /* twice */
    {"Pacific/Auckland", 2026, 4, 6, 9, 0},   /* Monday 09:00 NZST */
    {"Pacific/Auckland", 2026, 9, 28, 9, 0},  /* Monday 09:00 NZDT */
};

static struct tm want_local[128];
static struct tm want_wall_tm[ARRAY_LEN(walls)];
static time_t want_wall_t[ARRAY_LEN(walls)];

static void add_around(const char *zone, time_t edge)
{
	static const int offsets[] = {-3600, -1800, -1, 0, 1, 1800, 3600};
	for (size_t i = 0; i < ARRAY_LEN(offsets); i++) {
		assert_true(n_instants < ARRAY_LEN(instants));
		instants[n_instants].zone = zone;
		instants[n_instants].t = edge + offsets[i];
		n_instants++;
	}
}

static struct tm wall_tm(const struct wall *w)
{
	struct tm tm = {0};
	tm.tm_year = w->y - 1900;
	tm.tm_mon = w->mo - 1;
	tm.tm_mday = w->d;
	tm.tm_hour = w->h;
	tm.tm_min = w->mi;
	return tm;
}

static int same_tm(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon && a->tm_mday == b->tm_mday &&
	       a->tm_hour == b->tm_hour && a->tm_min == b->tm_min && a->tm_sec == b->tm_sec &&
	       a->tm_wday == b->tm_wday && a->tm_yday == b->tm_yday && a->tm_isdst == b->tm_isdst &&
	       a->tm_gmtoff == b->tm_gmtoff;
}

/* The answers computed alone, before any thread starts. */
static int setup(void **state)
{
	(void)state;
	n_instants = 0;
	add_around("Europe/London", utc(2026, 3, 29, 1, 0, 0));
	add_around("Europe/London", utc(2026, 10, 25, 1, 0, 0));
	add_around("America/New_York", utc(2026, 3, 8, 7, 0, 0));
	add_around("America/New_York", utc(2026, 11, 1, 6, 0, 0));
	add_around("Asia/Kolkata", utc(2026, 3, 29, 1, 0, 0));
	add_around("Pacific/Auckland", utc(2026, 4, 4, 14, 0, 0));
	add_around("Pacific/Auckland", utc(2026, 9, 26, 14, 0, 0));
	for (size_t i = 0; i < n_instants; i++)
		tz_local(instants[i].zone, instants[i].t, &want_local[i]);
	for (size_t i = 0; i < ARRAY_LEN(walls); i++) {
		want_wall_tm[i] = wall_tm(&walls[i]);
		want_wall_t[i] = tz_make(walls[i].zone, &want_wall_tm[i]);
	}
	return 0;
}

static void assert_local(const char *zone, time_t t, int y, int mo, int d, int h, int mi, int s,
                         int isdst, long gmtoff)
{
	struct tm tm;
	tz_local(zone, t, &tm);
	assert_int_equal(tm.tm_year + 1900, y);
	assert_int_equal(tm.tm_mon + 1, mo);
	assert_int_equal(tm.tm_mday, d);
	assert_int_equal(tm.tm_hour, h);
	assert_int_equal(tm.tm_min, mi);
	assert_int_equal(tm.tm_sec, s);
	assert_int_equal(tm.tm_isdst, isdst);
	assert_int_equal(tm.tm_gmtoff, gmtoff);
}

/* The reference answers are right (so that comparing with them means something). */
static void local_time_is_right_on_both_sides_of_each_change(void **state)
{
	(void)state;
	assert_local("Europe/London", utc(2026, 3, 29, 0, 59, 59), 2026, 3, 29, 0, 59, 59, 0, 0);
	assert_local("Europe/London", utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 2, 0, 0, 1, 3600);
	assert_local("Europe/London", utc(2026, 10, 25, 0, 59, 59), 2026, 10, 25, 1, 59, 59, 1,
	             3600);
	assert_local("Europe/London", utc(2026, 10, 25, 1, 0, 0), 2026, 10, 25, 1, 0, 0, 0, 0);
	assert_local("America/New_York", utc(2026, 3, 8, 6, 59, 59), 2026, 3, 8, 1, 59, 59, 0,
	             -5 * 3600);
	assert_local("America/New_York", utc(2026, 3, 8, 7, 0, 0), 2026, 3, 8, 3, 0, 0, 1,
	             -4 * 3600);
	assert_local("America/New_York", utc(2026, 11, 1, 5, 59, 59), 2026, 11, 1, 1, 59, 59, 1,
	             -4 * 3600);
	assert_local("America/New_York", utc(2026, 11, 1, 6, 0, 0), 2026, 11, 1, 1, 0, 0, 0,
	             -5 * 3600);
	assert_local("Asia/Kolkata", utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 6, 30, 0, 0, 19800);
	assert_local("Pacific/Auckland", utc(2026, 4, 4, 13, 59, 59), 2026, 4, 5, 2, 59, 59, 1,
	             13 * 3600);
	assert_local("Pacific/Auckland", utc(2026, 4, 4, 14, 0, 0), 2026, 4, 5, 2, 0, 0, 0,
	             12 * 3600);
	assert_local("Pacific/Auckland", utc(2026, 9, 26, 13, 59, 59), 2026, 9, 27, 1, 59, 59, 0,
	             12 * 3600);
	assert_local("Pacific/Auckland", utc(2026, 9, 26, 14, 0, 0), 2026, 9, 27, 3, 0, 0, 1,
	             13 * 3600);
}

/* Wall time in zone; *isdst is what the instant reads as there. */
static time_t wall_in(const char *zone, int y, int mo, int d, int h, int mi, int *isdst)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	time_t t = tz_make(zone, &tm);
	*isdst = tm.tm_isdst;
	return t;
}

/*
 * A wall time that happens twice is its first instant, whatever was asked
 * before (glibc's mktime answers with the offset its last call found).
 */
static void a_time_that_happens_twice_is_its_first_instant_always(void **state)
{
	(void)state;
	static const char *const before[] = {"Europe/London", "Asia/Kolkata", "America/New_York",
	                                     "Pacific/Auckland"};
	for (size_t i = 0; i < ARRAY_LEN(before); i++) {
		int dst;
		struct tm tm = {.tm_year = 126, .tm_mon = 0, .tm_mday = 15, .tm_hour = 12};
		tz_make(before[i], &tm); /* winter there (summer in Auckland) */
		assert_true(wall_in("Europe/London", 2026, 10, 25, 1, 30, &dst) ==
		            utc(2026, 10, 25, 0, 30, 0)); /* 01:30 BST, not 01:30 GMT */
		assert_int_equal(dst, 1);
		tz_make(before[i], &tm);
		assert_true(wall_in("America/New_York", 2026, 11, 1, 1, 30, &dst) ==
		            utc(2026, 11, 1, 5, 30, 0)); /* EDT */
		assert_int_equal(dst, 1);
		tz_make(before[i], &tm);
		assert_true(wall_in("Pacific/Auckland", 2026, 4, 5, 2, 30, &dst) ==
		            utc(2026, 4, 4, 13, 30, 0)); /* NZDT */
		assert_int_equal(dst, 1);
	}
}

/* A wall time that never happens is read with the offset before the change. */
static void a_skipped_time_is_read_with_the_offset_before(void **state)
{
	(void)state;
	int dst;
	struct tm tm = {.tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 1, .tm_min = 30};
	assert_true(tz_make("Europe/London", &tm) == utc(2026, 3, 29, 1, 30, 0));
	assert_int_equal(tm.tm_hour, 2); /* 02:30 BST */
	assert_int_equal(tm.tm_min, 30);
	assert_int_equal(tm.tm_isdst, 1);
	assert_true(wall_in("America/New_York", 2026, 3, 8, 2, 30, &dst) ==
	            utc(2026, 3, 8, 7, 30, 0)); /* 03:30 EDT */
	assert_true(wall_in("Pacific/Auckland", 2026, 9, 27, 2, 30, &dst) ==
	            utc(2026, 9, 26, 14, 30, 0)); /* 03:30 NZDT */
}

static void wall_time_is_the_right_instant(void **state)
{
	(void)state;
	struct tm tm = {.tm_year = 126, .tm_mon = 2, .tm_mday = 30, .tm_hour = 9};
	assert_true(tz_make("Europe/London", &tm) == utc(2026, 3, 30, 8, 0, 0));
	assert_int_equal(tm.tm_isdst, 1);
	tm = (struct tm){.tm_year = 126, .tm_mon = 10, .tm_mday = 2, .tm_hour = 9};
	assert_true(tz_make("America/New_York", &tm) == utc(2026, 11, 2, 14, 0, 0));
	tm = (struct tm){.tm_year = 126, .tm_mon = 2, .tm_mday = 29, .tm_hour = 9};
	assert_true(tz_make("Asia/Kolkata", &tm) == utc(2026, 3, 29, 3, 30, 0));
	tm = (struct tm){.tm_year = 126, .tm_mon = 3, .tm_mday = 6, .tm_hour = 9};
	assert_true(tz_make("Pacific/Auckland", &tm) == utc(2026, 4, 5, 21, 0, 0));
	tm = (struct tm){.tm_year = 126, .tm_mon = 8, .tm_mday = 28, .tm_hour = 9};
	assert_true(tz_make("Pacific/Auckland", &tm) == utc(2026, 9, 27, 20, 0, 0));
	/* Fields are normalised: the 32nd of March is the 1st of April. */
	tm = (struct tm){.tm_year = 126, .tm_mon = 2, .tm_mday = 32, .tm_hour = 9};
	assert_true(tz_make("Europe/London", &tm) == utc(2026, 4, 1, 8, 0, 0));
	assert_int_equal(tm.tm_mon, 3);
	assert_int_equal(tm.tm_mday, 1);
}

/* A TZ set behind the module's back (no tzset) changes no answer. */
static void the_zone_named_wins_over_the_process_tz(void **state)
{
	(void)state;
	struct tm tm;
	tz_local("Asia/Kolkata", utc(2026, 3, 29, 1, 0, 0), &tm);
	assert_int_equal(setenv("TZ", "Europe/London", 1), 0);
	assert_local("Europe/London", utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 2, 0, 0, 1, 3600);
	assert_int_equal(setenv("TZ", "Pacific/Auckland", 1), 0);
	assert_local("Asia/Kolkata", utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 6, 30, 0, 0, 19800);
	struct tm wall = {.tm_year = 126, .tm_mon = 2, .tm_mday = 30, .tm_hour = 9};
	assert_true(tz_make("Asia/Kolkata", &wall) == utc(2026, 3, 30, 3, 30, 0));
}

struct worker {
	pthread_t tid;
	size_t start;
	long wrong;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	size_t n = n_instants + ARRAY_LEN(walls);
	for (int round = 0; round < ROUNDS; round++) {
		for (size_t k = 0; k < n; k++) {
			size_t i = (w->start + k * 7) % n; /* another order in every thread */
			if (i < n_instants) {
				struct tm tm;
				tz_local(instants[i].zone, instants[i].t, &tm);
				w->wrong += !same_tm(&tm, &want_local[i]);
			} else {
				i -= n_instants;
				struct tm tm = wall_tm(&walls[i]);
				time_t t = tz_make(walls[i].zone, &tm);
				w->wrong += t != want_wall_t[i] || !same_tm(&tm, &want_wall_tm[i]);
			}
		}
	}
	return NULL;
}

static void threads_in_different_zones_get_the_answers_computed_alone(void **state)
{
	(void)state;
	struct worker w[THREADS];
	size_t n = n_instants + ARRAY_LEN(walls);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.start = (size_t)i * n / THREADS};
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker_run, &w[i]), 0);
	}
	long wrong = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		wrong += w[i].wrong;
	}
	if (wrong)
		print_error("%ld of %ld answers differ from the ones computed alone\n", wrong,
		            (long)(THREADS * ROUNDS * n));
	assert_int_equal(wrong, 0);
}

/* offset_at in zone at t, as tz_make and tz_local call it: the lock held, the zone switched to. */
static long offset_in(const char *zone, time_t t)
{
	pthread_mutex_lock(&tz_lock);
	tz_switch(zone);
	long off = offset_at(t);
	pthread_mutex_unlock(&tz_lock);
	return off;
}

static void offset_at_follows_each_zones_rules(void **state)
{
	(void)state;
	assert_int_equal(offset_in("UTC", utc(2026, 7, 1, 12, 0, 0)), 0);
	assert_int_equal(offset_in("Europe/Paris", utc(2026, 1, 15, 12, 0, 0)), 3600);
	assert_int_equal(offset_in("Europe/Paris", utc(2026, 7, 15, 12, 0, 0)), 7200);
	/* the instant of the change: 01:00 UTC on the last Sunday of March */
	assert_int_equal(offset_in("Europe/Paris", utc(2026, 3, 29, 0, 59, 59)), 3600);
	assert_int_equal(offset_in("Europe/Paris", utc(2026, 3, 29, 1, 0, 0)), 7200);
	assert_int_equal(offset_in("America/St_Johns", utc(2026, 1, 15, 12, 0, 0)), -12600);
	assert_int_equal(offset_in("Asia/Kathmandu", utc(2026, 1, 15, 12, 0, 0)), 20700);
	/* Lord Howe moves by half an hour */
	assert_int_equal(offset_in("Australia/Lord_Howe", utc(2026, 1, 15, 12, 0, 0)), 39600);
	assert_int_equal(offset_in("Australia/Lord_Howe", utc(2026, 7, 15, 12, 0, 0)), 37800);
}

static void tz_switch_sets_tz_and_is_noticed_again_after_a_change_behind_its_back(void **state)
{
	(void)state;
	tz_init("Asia/Tokyo");
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
	assert_int_equal(offset_in("Asia/Tokyo", utc(2026, 1, 1, 0, 0, 0)), 32400);
	/* someone else sets TZ: the next switch to Tokyo still reads Tokyo's rules */
	setenv("TZ", "America/New_York", 1);
	(tzset)(); /* banned.h bans it; tz.c calls it the same way */
	assert_int_equal(offset_in("Asia/Tokyo", utc(2026, 1, 1, 0, 0, 0)), 32400);
	assert_string_equal(getenv("TZ"), "Asia/Tokyo");
}

/* A zone is a compiled zone file (TZif), not any file of the directory (leapseconds). */
static void tz_known_wants_a_compiled_zone(void **state)
{
	(void)state;
	char dir[] = "/tmp/unit-tzdir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const struct {
		const char *name, *content;
		int known;
	} files[] = {
	    {"Good", "TZif2\n", 1}, {"leapseconds", "Leap\t2016\n", 0},
	    {"Empty", "", 0},       {"Short", "TZi", 0},
	    {"tzif", "tzif2\n", 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *path = xasprintf("%s/%s", dir, files[i].name);
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(files[i].content, fp);
		assert_int_equal(fclose(fp), 0);
		free(path);
	}
	char *sub = xasprintf("%s/Area", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	tu_setenv("TZDIR", dir);
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		assert_int_equal(tz_known(files[i].name), files[i].known);
	assert_int_equal(tz_known("Area"), 0);    /* a directory */
	assert_int_equal(tz_known("Nowhere"), 0); /* missing */
	unsetenv("TZDIR");
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *path = xasprintf("%s/%s", dir, files[i].name);
		unlink(path);
		free(path);
	}
	rmdir(sub);
	free(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(local_time_is_right_on_both_sides_of_each_change),
	    cmocka_unit_test(wall_time_is_the_right_instant),
	    cmocka_unit_test(a_time_that_happens_twice_is_its_first_instant_always),
	    cmocka_unit_test(a_skipped_time_is_read_with_the_offset_before),
	    cmocka_unit_test(the_zone_named_wins_over_the_process_tz),
	    cmocka_unit_test(threads_in_different_zones_get_the_answers_computed_alone),
	    cmocka_unit_test(offset_at_follows_each_zones_rules),
	    cmocka_unit_test(tz_switch_sets_tz_and_is_noticed_again_after_a_change_behind_its_back),
	    cmocka_unit_test(tz_known_wants_a_compiled_zone),
	};
	return cmocka_run_group_tests_name("tz", tests, setup, NULL);
}
