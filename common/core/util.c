#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>

#include "core/util.h"

static void oom(size_t n)
{
	fprintf(stderr, "{\"level\":\"error\",\"event\":\"out_of_memory\",\"bytes\":%zu}\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

int parse_int(const char *s, long long min, long long max, long long *out, const char **err)
{
	const char *e = "must be an integer";
	if (!s || !*s || isspace((unsigned char)*s))
		goto bad;
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		goto bad;
	if (errno == ERANGE || v < min || v > max) {
		e = "is out of range";
		goto bad;
	}
	*out = v;
	return 0;
bad:
	if (err)
		*err = e;
	return -1;
}

int parse_double(const char *s, double min, double max, double *out, const char **err)
{
	const char *e = "must be a number";
	if (!s || !*s || isspace((unsigned char)*s))
		goto bad;
	/* Plain decimal only: no hex floats, no inf/nan. */
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
			goto bad;
	errno = 0;
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v))
		goto bad;
	/* ERANGE on underflow (1e-400) is a tiny number, not an error. */
	if ((errno == ERANGE && fabs(v) >= 1) || v < min || v > max) {
		e = "is out of range";
		goto bad;
	}
	*out = v;
	return 0;
bad:
	if (err)
		*err = e;
	return -1;
}

int parse_hhmm(const char *s, int *minutes, const char **err)
{
	if (!s || strlen(s) != 5 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4])) {
		*err = "must be a time HH:MM";
		return -1;
	}
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59) {
		*err = "must be a time between 00:00 and 23:59";
		return -1;
	}
	*minutes = h * 60 + m;
	return 0;
}

int parse_duration(const char *s, long long min, long long max, long long *seconds,
                   const char **err)
{
	if (!s || !*s) {
		*err = "must be a duration such as 30m or 2h";
		return -1;
	}
	size_t n = strlen(s);
	long long mult = 1;
	char unit = s[n - 1];
	if (unit == 's' || unit == 'S')
		mult = 1;
	else if (unit == 'm' || unit == 'M')
		mult = 60;
	else if (unit == 'h' || unit == 'H')
		mult = 3600;
	else if (unit == 'd' || unit == 'D')
		mult = 86400;
	else
		unit = 0;
	char tmp[32];
	size_t len = unit ? n - 1 : n;
	if (len == 0 || len >= sizeof(tmp)) {
		*err = "must be a duration such as 30m or 2h";
		return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	long long v;
	if (parse_int(tmp, 0, max, &v, err) < 0 || v > max / mult) {
		*err = "must be a duration such as 30m or 2h, within range";
		return -1;
	}
	v *= mult;
	if (v < min || v > max) {
		*err = "is out of range";
		return -1;
	}
	*seconds = v;
	return 0;
}

int str_eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

char *str_trim(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int ident_part(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

int str_is_identifier(const char *s)
{
	if (!s)
		return 0;
	const char *dot = strchr(s, '.');
	if (!dot)
		return ident_part(s, strlen(s));
	if (strchr(dot + 1, '.'))
		return 0;
	return ident_part(s, (size_t)(dot - s)) && ident_part(dot + 1, strlen(dot + 1));
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int str_is_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned int cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i - 1 < n) /* truncated sequence */
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

int secure_str_eq(const char *given, const char *secret)
{
	if (!given || !secret)
		return 0;
	size_t lg = strlen(given), ls = strlen(secret);
	if (ls == 0)
		return lg == 0;
	/* Every byte of `given` is compared (against the secret, cycled), whatever differs first:
	 * the time depends on the caller's input alone, not on where the secret stops matching. */
	volatile unsigned char diff = (unsigned char)(lg != ls);
	for (size_t i = 0; i < lg; i++)
		diff |= (unsigned char)((unsigned char)given[i] ^ (unsigned char)secret[i % ls]);
	return diff == 0;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kernel's CSPRNG (getrandom(2)): no library state to set up, unlike OpenSSL's RAND, whose
 * first call loads providers and configuration into every program that asks for a number. */
int random_bytes(void *buf, size_t n)
{
	unsigned char *out = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int random_hex(char *out, size_t nbytes)
{
	unsigned char raw[64];
	if (nbytes > sizeof(raw) || random_bytes(raw, nbytes) < 0)
		return -1;
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

double random_unit(void)
{
	unsigned char b[4];
	if (random_bytes(b, sizeof(b)) < 0)
		return 0.5;
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return (double)v / 4294967295.0;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int parse_timestamp(const char *s, long long *epoch, const char **err)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	*err = "must be an RFC 3339 timestamp such as 2026-11-23T09:00:00Z";
	if (!s || strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) < 0)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) == 0 &&
	           p[3] == ':' && digits(p + 4, 2, &om) == 0 && oh < 24 && om < 60) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -1;
	/* Days since 1970-01-01 (civil from days, proleptic Gregorian). */
	long long yy = mo <= 2 ? y - 1 : y;
	long long era = yy / 400, yoe = yy - era * 400;
	long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	long long days = era * 146097 + doe - 719468;
	*epoch = days * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec) -
	         sign * (oh * 3600 + om * 60);
	*err = NULL;
	return 0;
}
