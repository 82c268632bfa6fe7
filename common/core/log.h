/*
 * log.h: one JSON object per line on stderr:
 *   {"ts":"2026-11-23T10:00:00.123Z","level":"info","prog":"check","event":"...","msg":"..."}
 * Optional key/value fields go through log_kv(). Callers never pass secrets:
 * configuration values marked secret are never handed to the logger, and the
 * format attribute lets the compiler check every call.
 */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
int log_parse_level(const char *s, enum log_level *out);

/* event: a short snake_case name; fmt: human message. */
void log_debug(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_info(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warnx(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends ": strerror(errno)". */
void log_warn(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_error(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs at error level and exits(1). Only main() paths may call it. */
void fatal(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Write s as a JSON string literal (with quotes) to a buffer-less stream. */
struct buf;
int json_escape_into(struct buf *b, const char *s);

#endif
