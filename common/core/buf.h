/*
 * buf.h: a growable byte buffer that knows its limit.
 *
 * A buf is caller-owned; buf_init() gives it a maximum size in bytes
 * (excluding the terminating NUL it always keeps). An append that would pass
 * the maximum fails with -1 and leaves the buffer exactly as it was, so a
 * caller never sees half a message. buf_release() frees the storage and
 * leaves an empty buffer that can be reused.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maxlen)                                                                           \
	{                                                                                          \
		NULL, 0, 0, (maxlen)                                                               \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the contents (never NULL: "" when empty); still owned by b. */
const char *buf_str(const struct buf *b);
/* Hands the contents to the caller (never NULL) and resets b. */
char *buf_detach(struct buf *b);

#endif
