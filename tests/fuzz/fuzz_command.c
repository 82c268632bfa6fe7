/*
 * fuzz_command.c: command_parse() and command_parse_payload(), the text and
 * the button payloads people send on WhatsApp. The input is the text (up to
 * a NUL); it is parsed with several pause limits.
 *
 * Invariants:
 *  - the result is 0 or -1 and kind is a command_kind; on 0 kind is not
 *    CMD_UNKNOWN and error is empty, on -1 error is a non-empty string;
 *  - CMD_PAUSE that succeeds: 1 <= pause_s <= the effective limit
 *    (max_pause_s, or COMMAND_PAUSE_LIMIT when that is <= 0 or larger);
 *    pause_s is 0 for every other kind; alert_id >= 0, and 0 unless CMD_ACK;
 *  - words are case-insensitive: the input upper-cased or lower-cased
 *    (ASCII) gives the same result, kind, pause_s, alert_id and error;
 *  - spaces around the text change nothing;
 *  - what was understood can be said again: "pause <pause_s>s" and
 *    "ack #<alert_id>" give the same command back;
 *  - a payload that succeeds is CMD_ACK of an id >= 1; "ack <id>" then gives
 *    the same id; payloads are case-insensitive too.
 */
#include <ctype.h>
#include <limits.h>

#include "monitor/command.h"
#include "fuzz.h"

static void check_one(const struct command *c, int rc, long long max)
{
	long long limit = max > 0 && max < COMMAND_PAUSE_LIMIT ? max : COMMAND_PAUSE_LIMIT;

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(c->kind >= CMD_UNKNOWN && c->kind <= CMD_ACK);
	FUZZ_CHECK(memchr(c->error, '\0', sizeof(c->error)) != NULL);
	if (rc == 0) {
		FUZZ_CHECK(c->kind != CMD_UNKNOWN);
		FUZZ_CHECK(c->error[0] == '\0');
	} else {
		FUZZ_CHECK(c->error[0] != '\0');
	}
	if (c->kind == CMD_PAUSE && rc == 0)
		FUZZ_CHECK(c->pause_s >= 1 && c->pause_s <= limit);
	if (c->kind != CMD_PAUSE)
		FUZZ_CHECK(c->pause_s == 0);
	FUZZ_CHECK(c->alert_id >= 0);
	if (c->kind != CMD_ACK)
		FUZZ_CHECK(c->alert_id == 0);
}

static void same(const struct command *a, int ra, const struct command *b, int rb)
{
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(a->kind == b->kind);
	FUZZ_CHECK(a->pause_s == b->pause_s);
	FUZZ_CHECK(a->alert_id == b->alert_id);
	FUZZ_CHECK(strcmp(a->error, b->error) == 0);
}

static char *recase(const char *s, int upper)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		*p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
	return t;
}

static void check_text(const char *text, long long max)
{
	struct command c, d;
	int rc = command_parse(text, max, &c);
	check_one(&c, rc, max);

	for (int upper = 0; upper <= 1; upper++) {
		char *t = recase(text, upper);
		same(&c, rc, &d, command_parse(t, max, &d));
		free(t);
	}
	char *padded = xasprintf(" \t\n%s\r\n ", text);
	same(&c, rc, &d, command_parse(padded, max, &d));
	free(padded);

	if (rc == 0 && c.kind == CMD_PAUSE) {
		char *again = xasprintf("pause %llds", c.pause_s);
		same(&c, rc, &d, command_parse(again, max, &d));
		free(again);
	}
	if (rc == 0 && c.kind == CMD_ACK && c.alert_id > 0) {
		char *again = xasprintf("ack #%lld", c.alert_id);
		same(&c, rc, &d, command_parse(again, max, &d));
		free(again);
	}
}

static void check_payload(const char *text)
{
	struct command c, d;
	int rc = command_parse_payload(text, &c);

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(c.kind == CMD_UNKNOWN || c.kind == CMD_ACK);
	FUZZ_CHECK(c.pause_s == 0);
	FUZZ_CHECK(memchr(c.error, '\0', sizeof(c.error)) != NULL);
	if (rc == 0) {
		FUZZ_CHECK(c.kind == CMD_ACK && c.alert_id >= 1 && c.error[0] == '\0');
		char *again = xasprintf("ack %lld", c.alert_id);
		FUZZ_CHECK(command_parse(again, 0, &d) == 0);
		FUZZ_CHECK(d.kind == CMD_ACK && d.alert_id == c.alert_id);
		free(again);
	} else {
		FUZZ_CHECK(c.alert_id == 0 && c.error[0] != '\0');
	}
	for (int upper = 0; upper <= 1; upper++) {
		char *t = recase(text, upper);
		same(&c, rc, &d, command_parse_payload(t, &d));
		free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long limits[] = {
	    0, -1, 1, 59, 1800, 7200, 86400, COMMAND_PAUSE_LIMIT, LLONG_MAX};
	char *text = fuzz_cstr(data, size);

	for (size_t i = 0; i < ARRAY_LEN(limits); i++)
		check_text(text, limits[i]);
	check_payload(text);
	free(text);
	return 0;
}
