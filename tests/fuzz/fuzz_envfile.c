/*
 * fuzz_envfile.c: envfile_parse(), the KEY=VALUE lines of .env.monitoring.
 *
 * Invariants:
 *  - every key handed to the callback is an identifier ([A-Za-z_][A-Za-z0-9_]*)
 *    and neither key nor value holds a newline; there are no more pairs than
 *    lines;
 *  - 0 leaves *err alone; -1 sets it to "env file line N..." with N a line
 *    of the text;
 *  - written back as KEY="VALUE" (or KEY='VALUE' when the value holds a
 *    double quote), the pairs parse to the same pairs;
 *  - a callback that refuses a pair makes the parse fail at that pair with
 *    "rejected", without leaks.
 */
#include <ctype.h>

#include "core/envfile.h"
#include "fuzz.h"

struct pairs {
	char **k, **v;
	size_t n, cap;
	size_t refuse_at; /* refuse the pair with this index (SIZE_MAX: none) */
};

static void pairs_release(struct pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->k[i]);
		free(p->v[i]);
	}
	free(p->k);
	free(p->v);
}

static int collect(const char *key, const char *value, void *arg)
{
	struct pairs *p = arg;
	FUZZ_CHECK(key != NULL && value != NULL);
	FUZZ_CHECK(*key == '_' || isalpha((unsigned char)*key));
	for (const char *k = key; *k; k++)
		FUZZ_CHECK(*k == '_' || isalnum((unsigned char)*k));
	FUZZ_CHECK(strchr(value, '\n') == NULL);
	if (p->n == p->refuse_at)
		return -1;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->k = xrealloc(p->k, p->cap * sizeof(*p->k));
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->k[p->n] = xstrdup(key);
	p->v[p->n] = xstrdup(value);
	p->n++;
	return 0;
}

/* "env file line N" with 1 <= N <= lines. */
static void check_err(const char *err, size_t lines)
{
	static const char pre[] = "env file line ";
	FUZZ_CHECK(err != NULL && strncmp(err, pre, sizeof(pre) - 1) == 0);
	long long n = 0;
	for (const char *p = err + sizeof(pre) - 1; isdigit((unsigned char)*p); p++)
		n = n * 10 + (*p - '0');
	FUZZ_CHECK(n >= 1 && (size_t)n <= lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct pairs p = {.refuse_at = SIZE_MAX};
	char *err = NULL;
	size_t lines = size > 0;

	for (size_t i = 0; i + 1 < size; i++)
		lines += data[i] == '\n';
	int rc = envfile_parse(text, size, collect, &p, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(p.n <= lines);
	if (rc < 0) {
		check_err(err, lines);
		free(err);
		pairs_release(&p);
		return 0;
	}
	FUZZ_CHECK(err == NULL);

	/* Written back, read again. */
	size_t cap = 1;
	for (size_t i = 0; i < p.n; i++)
		cap += strlen(p.k[i]) + strlen(p.v[i]) + 5;
	char *again = xmalloc(cap);
	size_t len = 0;
	again[0] = '\0';
	int writable = 1;
	for (size_t i = 0; i < p.n && writable; i++) {
		char q = strchr(p.v[i], '"') ? '\'' : '"';
		writable = strchr(p.v[i], q) == NULL;
		len +=
		    (size_t)snprintf(again + len, cap - len, "%s=%c%s%c\n", p.k[i], q, p.v[i], q);
	}
	if (writable) {
		struct pairs r = {.refuse_at = SIZE_MAX};
		FUZZ_CHECK(envfile_parse(again, len, collect, &r, &err) == 0);
		FUZZ_CHECK(r.n == p.n);
		for (size_t i = 0; i < p.n; i++)
			FUZZ_CHECK(strcmp(r.k[i], p.k[i]) == 0 && strcmp(r.v[i], p.v[i]) == 0);
		pairs_release(&r);
	}
	free(again);

	/* Refusing a pair stops the parse there. */
	if (p.n > 0) {
		struct pairs r = {.refuse_at = size % p.n};
		FUZZ_CHECK(envfile_parse(text, size, collect, &r, &err) == -1);
		check_err(err, lines);
		FUZZ_CHECK(strstr(err, "rejected") != NULL);
		FUZZ_CHECK(r.n == r.refuse_at);
		free(err);
		pairs_release(&r);
	}
	pairs_release(&p);
	return 0;
}
