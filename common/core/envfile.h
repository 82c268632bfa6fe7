/*
 * envfile.h: the env file reader (MONITORING_ENV_FILE, default .env.monitoring).
 *
 * The file is KEY=VALUE lines as a shell or docker's --env-file would write
 * them: blank lines and "#" comments are skipped, an "export " prefix is
 * allowed, a value may be quoted ('...' or "...", taken as written, no
 * escapes), and an unquoted value ends at " #". Keys are [A-Za-z_][A-Za-z0-9_]*.
 * The reader knows nothing of which variables exist or what they mean:
 * config.c does.
 *
 * Errors come back as a message the caller frees, naming the line (the
 * parser) or MONITORING_ENV_FILE and the path (the file reader); a value is
 * never in a message, since it may be a secret.
 */
#ifndef ENVFILE_H
#define ENVFILE_H

#include <stddef.h>

#include "core/buf.h"

/* The largest env file read, in bytes. */
#define ENVFILE_MAX (1024 * 1024)

/*
 * Parse an env file's text (len bytes; a NUL in it is a character like any
 * other, the caller refuses those): calls fn(key, value, arg) for each
 * KEY=VALUE in order; fn returns 0, or -1 to stop. 0, or -1 with *err (caller
 * frees) naming the line: a syntax error or fn's refusal.
 */
int envfile_parse(const char *text, size_t len,
                  int (*fn)(const char *key, const char *value, void *arg), void *arg, char **err);

/*
 * Read the file at path into out (created with BUF_INIT(ENVFILE_MAX) or a
 * smaller limit), and *mode its permission bits (st_mode & 07777; -1 when
 * fstat fails). 0; -1 with *err (caller frees) when it cannot be opened or
 * read, is larger than out's limit, or holds a NUL byte.
 */
int envfile_read(const char *path, struct buf *out, int *mode, char **err);

#endif
