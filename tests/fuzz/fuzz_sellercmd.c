/*
 * fuzz_sellercmd.c: seller_command_parse(), the text a seller sends on WhatsApp (help, status,
 * mute, unmute, stop, start). The input is the text (up to a NUL).
 *
 * Invariants:
 *  - the result is 0 or -1 and kind a seller_cmd_kind; on 0 kind is not SCMD_UNKNOWN and
 *    error is empty, on -1 error is a non-empty string;
 *  - a mute that succeeds lasts 60 s to SELLER_MUTE_MAX, names a type that is not locked, or
 *    all, or is bare (the replied-to alert); only MUTE and UNMUTE carry a type or all;
 *  - words are case-insensitive: the input upper-cased or lower-cased (ASCII) gives the same
 *    result, kind, type, duration and error;
 *  - what was understood can be said again: "mute <type|all> <secs/60>m" gives it back.
 */
#include <ctype.h>

#include "tenants/prefs.h"
#include "tenants/sellercmd.h"
#include "fuzz.h"

static void same(const struct seller_command *a, int ra, const struct seller_command *b, int rb)
{
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(a->kind == b->kind);
	FUZZ_CHECK(a->type == b->type);
	FUZZ_CHECK(a->all == b->all && a->bare == b->bare);
	FUZZ_CHECK(a->secs == b->secs);
	FUZZ_CHECK(strcmp(a->error, b->error) == 0);
}

static char *recase(const char *s, int upper)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		*p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct seller_command c, d;
	int rc = seller_command_parse(text, &c);

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(c.kind >= SCMD_UNKNOWN && c.kind <= SCMD_START);
	FUZZ_CHECK(memchr(c.error, '\0', sizeof(c.error)) != NULL);
	FUZZ_CHECK(rc == 0 ? c.kind != SCMD_UNKNOWN && c.error[0] == '\0' : c.error[0] != '\0');
	if (c.kind != SCMD_MUTE && c.kind != SCMD_UNMUTE)
		FUZZ_CHECK(!c.type && !c.all && !c.bare && c.secs == 0);
	if (rc == 0 && c.kind == SCMD_MUTE) {
		FUZZ_CHECK(c.secs >= 60 && c.secs <= SELLER_MUTE_MAX);
		FUZZ_CHECK((c.type != NULL) + c.all + c.bare == 1);
		FUZZ_CHECK(!c.type || !pref_locked(c.type));
		if (!c.bare && c.secs % 60 == 0) {
			char *again =
			    xasprintf("mute %s %lldm", c.all ? "all" : c.type->name, c.secs / 60);
			FUZZ_CHECK(seller_command_parse(again, &d) == 0);
			FUZZ_CHECK(d.kind == SCMD_MUTE && d.type == c.type && d.all == c.all &&
			           d.secs == c.secs);
			free(again);
		}
	}
	for (int upper = 0; upper <= 1; upper++) {
		char *t = recase(text, upper);
		same(&c, rc, &d, seller_command_parse(t, &d));
		free(t);
	}
	free(text);
	return 0;
}
