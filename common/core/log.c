#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

static const char *prog = "monitoring";
static enum log_level min_level = LOG_INFO;

void log_init(const char *progname, enum log_level level)
{
	prog = progname;
	min_level = level;
}

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (str_eq_nocase(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int json_escape_into(struct buf *b, const char *s)
{
	if (buf_puts(b, "\"") < 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r;
		switch (*p) {
		case '"':
			r = buf_puts(b, "\\\"");
			break;
		case '\\':
			r = buf_puts(b, "\\\\");
			break;
		case '\n':
			r = buf_puts(b, "\\n");
			break;
		case '\r':
			r = buf_puts(b, "\\r");
			break;
		case '\t':
			r = buf_puts(b, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				r = buf_printf(b, "\\u%04x", *p);
			} else if (*p < 0x80) {
				r = buf_append(b, p, 1);
			} else {
				/* Copy a valid UTF-8 sequence whole; replace a bad byte with
				 * U+FFFD. */
				size_t n = (*p & 0xE0) == 0xC0   ? 2
				           : (*p & 0xF0) == 0xE0 ? 3
				           : (*p & 0xF8) == 0xF0 ? 4
				                                 : 0;
				size_t have = strnlen((const char *)p, n ? n : 1);
				if (n && have == n && str_is_utf8((const char *)p, n)) {
					r = buf_append(b, p, n);
					p += n - 1;
				} else {
					r = buf_puts(b, "\\ufffd");
				}
			}
		}
		if (r < 0)
			return -1;
	}
	return buf_puts(b, "\"");
}

static void emit(enum log_level level, const char *event, const char *fmt, va_list ap,
                 int with_errno)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	int saved = errno;
	if (level < min_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[96];
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (long)(tv.tv_usec / 1000));
	char *msg = xvasprintf(fmt, ap);
	if (with_errno) {
		char *m2 = xasprintf("%s: %s", msg, strerror(saved));
		free(msg);
		msg = m2;
	}
	struct buf b = BUF_INIT(16384);
	buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":", ts, names[level]);
	json_escape_into(&b, prog);
	buf_puts(&b, ",\"event\":");
	json_escape_into(&b, event);
	buf_puts(&b, ",\"msg\":");
	if (json_escape_into(&b, msg) < 0) {
		buf_reset(&b);
		buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"log_truncated\"", ts,
		           names[level]);
	}
	buf_puts(&b, "}\n");
	fputs(buf_str(&b), stderr);
	fflush(stderr);
	buf_release(&b);
	free(msg);
	errno = saved;
}

#define LOGFN(fname, lvl, en)                                                                      \
	void fname(const char *event, const char *fmt, ...)                                        \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(lvl, event, fmt, ap, en);                                                     \
		va_end(ap);                                                                        \
	}

LOGFN(log_debug, LOG_DEBUG, 0)
LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_warnx, LOG_WARN, 0)
LOGFN(log_warn, LOG_WARN, 1)
LOGFN(log_error, LOG_ERROR, 0)

void fatal(const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_ERROR, event, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
