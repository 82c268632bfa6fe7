#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/envfile.h"
#include "core/util.h"

int envfile_parse(const char *text, size_t len,
                  int (*fn)(const char *key, const char *value, void *arg), void *arg, char **err)
{
	size_t pos = 0;
	int lineno = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		char *line = xstrndup(text + pos, end - pos);
		pos = end + 1;
		char *l = str_trim(line);
		if (*l == '\0' || *l == '#') {
			free(line);
			continue;
		}
		if (strncmp(l, "export ", 7) == 0)
			l = str_trim(l + 7);
		char *eq = strchr(l, '=');
		if (!eq) {
			*err = xasprintf("env file line %d: expected KEY=VALUE", lineno);
			free(line);
			return -1;
		}
		*eq = '\0';
		char *key = str_trim(l);
		char *val = str_trim(eq + 1);
		int keyok = *key != '\0' && (isalpha((unsigned char)*key) || *key == '_');
		for (char *k = key; *k && keyok; k++)
			keyok = isalnum((unsigned char)*k) || *k == '_';
		if (!keyok) {
			*err = xasprintf("env file line %d: bad variable name", lineno);
			free(line);
			return -1;
		}
		if (val[0] == '"' || val[0] == '\'') {
			/* Quoted: up to the matching quote; after it only a " #" comment. */
			char *close = strchr(val + 1, val[0]);
			char *rest = close ? str_trim(close + 1) : NULL;
			if (!close || (*rest && *rest != '#')) {
				*err = xasprintf("env file line %d (%s): unterminated quote",
				                 lineno, key);
				free(line);
				return -1;
			}
			*close = '\0';
			val++;
		} else if (val[0] == '#') {
			val[0] = '\0'; /* KEY= # comment: an empty value */
		} else {
			/* Unquoted: a " #" starts a comment. */
			char *hash = strstr(val, " #");
			if (hash) {
				*hash = '\0';
				val = str_trim(val);
			}
		}
		int r = fn(key, val, arg);
		free(line);
		if (r < 0) {
			*err = xasprintf("env file line %d: rejected", lineno);
			return -1;
		}
	}
	return 0;
}

int envfile_read(const char *path, struct buf *out, int *mode, char **err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err =
		    xasprintf("MONITORING_ENV_FILE: cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	*mode = fstat(fd, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
	char tmp[4096];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = xasprintf("MONITORING_ENV_FILE: cannot read '%s': %s", path,
			                 strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (buf_append(out, tmp, (size_t)n) < 0) {
			*err = xasprintf("MONITORING_ENV_FILE: '%s' is larger than %zu bytes", path,
			                 out->max);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (memchr(buf_str(out), '\0', out->len)) {
		*err = xasprintf("MONITORING_ENV_FILE: '%s' contains NUL bytes", path);
		return -1;
	}
	return 0;
}
