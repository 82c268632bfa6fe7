#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/util.h"

static const char *const known[] = {"whatsapp", "sms", "email"};

int chain_channel_known(const char *s)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(s, known[i]) == 0)
			return 1;
	return 0;
}

int chain_from_names(const char *const *names, size_t n, struct chain *c, const char **why)
{
	memset(c, 0, sizeof(*c));
	if (n == 0) {
		*why = "must name at least one channel";
		return -1;
	}
	if (n > CHAIN_MAX) {
		*why = "must name at most 3 channels (whatsapp, sms, email)";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!chain_channel_known(names[i])) {
			*why = "must name only whatsapp, sms and email";
			goto fail;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(names[k], names[i]) == 0) {
				*why = "must not name a channel twice";
				goto fail;
			}
		snprintf(c->step[i], CHAIN_NAME_MAX, "%s", names[i]);
	}
	if (strcmp(names[0], "whatsapp") != 0) {
		*why = "must start with whatsapp";
		goto fail;
	}
	c->n = (int)n;
	return 0;
fail:
	memset(c, 0, sizeof(*c));
	return -1;
}

int chain_parse(const char *s, struct chain *c, const char **why)
{
	char copy[64];
	const char *names[CHAIN_MAX + 1];
	size_t n = 0;
	memset(c, 0, sizeof(*c));
	if (!s || strlen(s) >= sizeof(copy)) {
		*why = !s ? "is missing" : "is too long (whatsapp,sms,email at most)";
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", s);
	char *p = copy;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		char *name = str_trim(p);
		if (!*name) {
			*why = "must be channel names separated by commas (whatsapp,sms,email)";
			return -1;
		}
		if (n == CHAIN_MAX) {
			*why = "must name at most 3 channels (whatsapp, sms, email)";
			return -1;
		}
		names[n++] = name;
		if (!comma)
			break;
		p = comma + 1;
	}
	return chain_from_names(names, n, c, why);
}

static void chain_set(struct chain *c, const char *const *names, int n)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < n; i++)
		snprintf(c->step[i], CHAIN_NAME_MAX, "%s", names[i]);
	c->n = n;
}

void chain_urgent(struct chain *c)
{
	static const char *const v[] = {"whatsapp", "sms", "email"};
	chain_set(c, v, 3);
}

void chain_normal(struct chain *c)
{
	static const char *const v[] = {"whatsapp", "email"};
	chain_set(c, v, 2);
}

void chain_whatsapp_only(struct chain *c)
{
	static const char *const v[] = {"whatsapp"};
	chain_set(c, v, 1);
}

char *chain_pg_rest(const struct chain *c, int from)
{
	struct buf b = BUF_INIT(64);
	buf_puts(&b, "{");
	for (int i = from < 0 ? 0 : from; i < c->n; i++)
		buf_printf(&b, "%s%s", i > (from < 0 ? 0 : from) ? "," : "", c->step[i]);
	buf_puts(&b, "}");
	char *s = xstrdup(buf_str(&b));
	buf_release(&b);
	return s;
}

void chain_format(const struct chain *c, char *out, size_t len)
{
	size_t at = 0;
	if (len)
		out[0] = '\0';
	for (int i = 0; i < c->n && at < len; i++) {
		int w = snprintf(out + at, len - at, "%s%s", i ? "," : "", c->step[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}
