#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "monitor/command.h"
#include "core/util.h"

#define UNKNOWN "unknown command"

static const struct {
	const char *word;
	enum command_kind kind;
} words[] = {
    {"status", CMD_STATUS}, {"pause", CMD_PAUSE}, {"resume", CMD_RESUME},
    {"help", CMD_HELP},     {"ack", CMD_ACK},
};

/* The next whitespace-separated word of *p: 1 and (*w, *n), or 0 at the end. */
static int next_word(const char **p, const char **w, size_t *n)
{
	const char *s = *p;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*p = s;
		return 0;
	}
	*w = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	*n = (size_t)(s - *w);
	*p = s;
	return 1;
}

/* Case-insensitive: is the n bytes at w the word lit? */
static int word_is(const char *w, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)w[i]) != lit[i])
			return 0;
	return 1;
}

static int fail(struct command *c, enum command_kind kind, const char *msg)
{
	c->kind = kind;
	snprintf(c->error, sizeof(c->error), "%s", msg);
	return -1;
}

/* "90s", "30m", "2h", "1d" written as a person would: a duration in words. */
static void format_duration(long long s, char *out, size_t len)
{
	if (s % 86400 == 0)
		snprintf(out, len, "%lldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, len, "%lldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, len, "%lldm", s / 60);
	else
		snprintf(out, len, "%llds", s);
}

/* A positive alert id: "12" or "#12", digits only. */
static int parse_alert_id(const char *w, size_t n, long long *id)
{
	char tmp[24];
	if (n > 0 && w[0] == '#') {
		w++;
		n--;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)w[i]))
			return -1;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	return parse_int(tmp, 1, LLONG_MAX, id, NULL);
}

static int parse_pause(const char *w, size_t n, long long max_s, struct command *c)
{
	char tmp[24], maxtxt[32];
	const char *err = NULL;
	long long s = 0;

	/* Digits and one unit: parse_duration() alone would also take "+5m" or bare seconds. */
	int ok = n >= 2 && n < sizeof(tmp) && strchr("smhdSMHD", w[n - 1]) != NULL;
	for (size_t i = 0; ok && i + 1 < n; i++)
		ok = isdigit((unsigned char)w[i]) != 0;
	if (ok) {
		memcpy(tmp, w, n);
		tmp[n] = '\0';
		ok = parse_duration(tmp, 0, LLONG_MAX, &s, &err) == 0;
	}
	if (!ok)
		return fail(c, CMD_PAUSE, "pause takes a duration such as 30m, 2h or 1d");
	if (s == 0)
		return fail(c, CMD_PAUSE, "a pause must last at least 1s");
	if (s > max_s) {
		format_duration(max_s, maxtxt, sizeof(maxtxt));
		snprintf(c->error, sizeof(c->error), "the longest pause is %s", maxtxt);
		c->kind = CMD_PAUSE;
		return -1;
	}
	c->pause_s = s;
	return 0;
}

int command_parse(const char *text, long long max_pause_s, struct command *c)
{
	const char *p = text, *w = NULL, *arg = NULL, *extra = NULL;
	size_t wn = 0, an = 0, xn = 0;
	enum command_kind kind = CMD_UNKNOWN;

	memset(c, 0, sizeof(*c));
	c->kind = CMD_UNKNOWN;
	if (!text || !next_word(&p, &w, &wn))
		return fail(c, CMD_UNKNOWN, UNKNOWN);
	for (size_t i = 0; i < ARRAY_LEN(words) && kind == CMD_UNKNOWN; i++)
		if (word_is(w, wn, words[i].word))
			kind = words[i].kind;
	if (kind == CMD_UNKNOWN)
		return fail(c, CMD_UNKNOWN, UNKNOWN);
	int has_arg = next_word(&p, &arg, &an);
	int has_extra = has_arg && next_word(&p, &extra, &xn);
	long long max_s = max_pause_s > 0 && max_pause_s < COMMAND_PAUSE_LIMIT
	                      ? max_pause_s
	                      : COMMAND_PAUSE_LIMIT;

	c->kind = kind;
	switch (kind) {
	case CMD_STATUS:
		if (has_arg)
			return fail(c, kind, "status takes no argument");
		return 0;
	case CMD_RESUME:
		if (has_arg)
			return fail(c, kind, "resume takes no argument");
		return 0;
	case CMD_HELP:
		return 0; /* "help pause" and the like: the whole list is the answer */
	case CMD_PAUSE:
		if (has_extra)
			return fail(c, kind, "pause takes one duration, such as pause 30m");
		if (!has_arg) {
			c->pause_s = COMMAND_PAUSE_DEFAULT < max_s ? COMMAND_PAUSE_DEFAULT : max_s;
			return 0;
		}
		return parse_pause(arg, an, max_s, c);
	case CMD_ACK:
		if (has_extra)
			return fail(c, kind, "ack takes one alert number, such as ack 12");
		if (has_arg && parse_alert_id(arg, an, &c->alert_id) < 0)
			return fail(c, kind,
			            "the alert number must be a positive integer, as in ack 12");
		return 0;
	case CMD_UNKNOWN:
		break;
	}
	return fail(c, CMD_UNKNOWN, UNKNOWN);
}

int command_parse_payload(const char *payload, struct command *c)
{
	memset(c, 0, sizeof(*c));
	c->kind = CMD_UNKNOWN;
	if (!payload || strlen(payload) < 4 || !word_is(payload, 4, "ack:"))
		return fail(c, CMD_UNKNOWN, "unknown button");
	long long id = 0;
	if (parse_alert_id(payload + 4, strlen(payload + 4), &id) < 0)
		return fail(c, CMD_ACK, "the button names no alert");
	c->kind = CMD_ACK;
	c->alert_id = id;
	return 0;
}

const char *command_help_text(void)
{
	return "Commands:\n"
	       "status: open alerts and pause state\n"
	       "pause 30m (or 2h, 1d; default 1h): hold alerts\n"
	       "resume: end the pause\n"
	       "ack 12: acknowledge alert #12; ack alone: all open alerts\n"
	       "help: this list";
}

int command_too_old(long long sent, long long now, long long max_age_s)
{
	return sent < now && now - sent > max_age_s;
}
