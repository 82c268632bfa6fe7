/*
 * testutil.h: small helpers shared by the unit tests (tests/unit/test_*.c).
 *
 * Include after <cmocka.h>'s prerequisites; this header includes them itself.
 * Everything here is static inline so a test file that uses none of it still
 * compiles warning-free.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/config.h"
#include "configenv.h"
#include "core/util.h"

/* Assert two doubles are within eps of each other, printing both on failure. */
#define assert_double_near(a, b, eps) tu_assert_double_near((a), (b), (eps), __FILE__, __LINE__)

static inline void tu_assert_double_near(double a, double b, double eps, const char *file, int line)
{
	if (!(fabs(a - b) <= eps)) {
		print_error("%.17g != %.17g (eps %g)\n", a, b, eps);
		_fail(file, line);
	}
}

/* Assert that a double is NAN. */
#define assert_nan(a) assert_true(isnan(a))

/* Assert that haystack contains needle, printing both on failure. */
#define assert_contains(haystack, needle)                                                          \
	tu_assert_contains((haystack), (needle), __FILE__, __LINE__)

static inline void tu_assert_contains(const char *haystack, const char *needle, const char *file,
                                      int line)
{
	if (!haystack || !strstr(haystack, needle)) {
		print_error("\"%s\" does not contain \"%s\"\n", haystack ? haystack : "(null)",
		            needle);
		_fail(file, line);
	}
}

/* Assert that haystack does not contain needle. */
#define assert_not_contains(haystack, needle)                                                      \
	tu_assert_not_contains((haystack), (needle), __FILE__, __LINE__)

static inline void tu_assert_not_contains(const char *haystack, const char *needle,
                                          const char *file, int line)
{
	if (haystack && strstr(haystack, needle)) {
		print_error("\"%s\" contains \"%s\"\n", haystack, needle);
		_fail(file, line);
	}
}

/* Seconds since the epoch of a UTC date and time. */
static inline time_t tu_utc(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

/* setenv that fails the test when it cannot set the variable. */
static inline void tu_setenv(const char *name, const char *value)
{
	assert_int_equal(setenv(name, value, 1), 0);
}

/*
 * Unset every environment variable config_load() reads (configenv.h).
 * config_load() scans environ, so a test must start from a clean slate and
 * leave one behind.
 */
static inline void tu_clear_config_env(void)
{
	clear_config_env();
}

/* Write text to a new temporary file; returns its path (caller frees and unlinks). */
static inline char *tu_write_temp_file(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/unit-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		off += (size_t)n;
	}
	assert_int_equal(close(fd), 0);
	return path;
}

/* Remove a file made by tu_write_temp_file and free its path. */
static inline void tu_remove_temp_file(char *path)
{
	if (path) {
		unlink(path);
		free(path);
	}
}

/*
 * Run fn in a child process and return its wait status. For behaviours that
 * would crash the test binary (a sanitizer abort) when a bug is present: the
 * child must not call cmocka assertions; it returns 0 for success, anything
 * else for failure, and exits with _exit() (no leak check in the child).
 */
static inline int tu_run_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn() == 0 ? 0 : 1);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return status;
}

/* Assert that a wait status from tu_run_in_child means "exited with 0". */
#define assert_child_ok(status)                                                                    \
	do {                                                                                       \
		int st_ = (status);                                                                \
		if (!(WIFEXITED(st_) && WEXITSTATUS(st_) == 0)) {                                  \
			print_error("child %s %d\n",                                               \
			            WIFSIGNALED(st_) ? "killed by signal" : "exited with",         \
			            WIFSIGNALED(st_) ? WTERMSIG(st_) : WEXITSTATUS(st_));          \
			_fail(__FILE__, __LINE__);                                                 \
		}                                                                                  \
	} while (0)

/*
 * A test group that loads configuration runs in an empty temporary directory
 * (no .env.monitoring), with TZDIR and every config variable cleared.
 */
static char *tu_tmpdir;
static char *tu_oldcwd;

static inline int tu_enter_tmpdir(const char *name)
{
	const char *dir = getenv("TMPDIR");
	tu_tmpdir = xasprintf("%s/unit-%s-XXXXXX", dir && *dir ? dir : "/tmp", name);
	if (!mkdtemp(tu_tmpdir))
		return -1;
	tu_oldcwd = getcwd(NULL, 0);
	if (!tu_oldcwd || chdir(tu_tmpdir) < 0)
		return -1;
	unsetenv("TZDIR");
	tu_clear_config_env();
	return 0;
}

static inline int tu_leave_tmpdir(void)
{
	tu_clear_config_env();
	unlink(".env.monitoring");
	if (tu_oldcwd && chdir(tu_oldcwd) < 0)
		return -1;
	rmdir(tu_tmpdir);
	free(tu_tmpdir);
	free(tu_oldcwd);
	return 0;
}

/*
 * Replace a heap string field of a struct config (config_init() makes them
 * all heap strings; config_release() frees them).
 */
static inline void tu_config_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/*
 * The member of a json-c value at a dotted path: object keys and array
 * indexes, e.g. "template.components.0.parameters.1.text". NULL when any
 * step is missing. The result is owned by root.
 */
static inline struct json_object *tu_json_at(struct json_object *root, const char *path)
{
	struct json_object *cur = root;
	char *copy = xstrdup(path);
	char *save = NULL;
	for (char *step = strtok_r(copy, ".", &save); step && cur;
	     step = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(cur, json_type_array)) {
			char *end = NULL;
			unsigned long i = strtoul(step, &end, 10);
			cur = *step && !*end && i < json_object_array_length(cur)
			          ? json_object_array_get_idx(cur, i)
			          : NULL;
		} else if (!json_object_is_type(cur, json_type_object) ||
		           !json_object_object_get_ex(cur, step, &cur)) {
			cur = NULL;
		}
	}
	free(copy);
	return cur;
}

/* The string at path in root; fails the test when it is missing or not a string. */
#define tu_json_string(root, path) tu_json_string_at((root), (path), __FILE__, __LINE__)

static inline const char *tu_json_string_at(struct json_object *root, const char *path,
                                            const char *file, int line)
{
	struct json_object *v = tu_json_at(root, path);
	if (!v || !json_object_is_type(v, json_type_string)) {
		print_error("no string at \"%s\"\n", path);
		_fail(file, line);
	}
	return json_object_get_string(v);
}

#endif
