#include <string.h>

#include "app/form.h"
#include "app/http.h"
#include "core/util.h"

/* Decode one key or value; NULL and *err on failure. */
static char *decode(const char *s, size_t len, size_t index, const char *what, char **err)
{
	char *out = http_url_decode(s, len);
	if (!out) {
		if (err)
			*err = xasprintf("parameter %zu: the %s has a bad %%-escape or a NUL byte",
			                 index + 1, what);
		return NULL;
	}
	if (!str_is_utf8(out, strlen(out))) {
		if (err)
			*err =
			    xasprintf("parameter %zu: the %s is not valid UTF-8", index + 1, what);
		free(out);
		return NULL;
	}
	return out;
}

int form_parse(const char *body, size_t len, struct form *f, char **err)
{
	int ret = -1;
	size_t cap = 0;

	f->v = NULL;
	f->n = 0;
	if (err)
		*err = NULL;
	if (!body && len > 0) {
		if (err)
			*err = xstrdup("no body");
		return -1;
	}
	const char *p = body, *end = body ? body + len : NULL;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (n > 0) {
			if (f->n >= FORM_MAX_PAIRS) {
				if (err)
					*err = xasprintf("more than %d parameters", FORM_MAX_PAIRS);
				goto out;
			}
			const char *eq = memchr(p, '=', n);
			size_t klen = eq ? (size_t)(eq - p) : n;
			char *key = decode(p, klen, f->n, "name", err);
			if (!key)
				goto out;
			char *value =
			    eq ? decode(eq + 1, n - klen - 1, f->n, "value", err) : xstrdup("");
			if (!value) {
				free(key);
				goto out;
			}
			if (f->n == cap) {
				cap = cap ? cap * 2 : 16;
				f->v = xrealloc(f->v, cap * sizeof(*f->v));
			}
			f->v[f->n].key = key;
			f->v[f->n].value = value;
			f->n++;
		}
		p = amp ? amp + 1 : end;
	}
	ret = 0;
out:
	if (ret < 0)
		form_release(f);
	return ret;
}

const char *form_get(const struct form *f, const char *key)
{
	if (!f || !key)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].key, key) == 0)
			return f->v[i].value;
	return NULL;
}

void form_release(struct form *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].value);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
