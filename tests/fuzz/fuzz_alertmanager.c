/*
 * fuzz_alertmanager.c: a POST /monitoring/alertmanager body read as the program reads it
 * (json_parse_object_max with AM_MAX_VALUES, then am_parse()).
 *
 * Invariants:
 *  - am_parse is 0 or -1; refused, *err is set and the notice holds nothing;
 *  - accepted: 1 to AM_MAX_ALERTS alerts, a title and a receiver; each alert has a non-empty
 *    alertname of at most AM_MAX_NAME bytes, a fingerprint of 1 to AM_MAX_FINGERPRINT hex
 *    digits that no other alert of the notice has, severity "critical" or "warning", and a
 *    text that is valid UTF-8 and starts with its alertname; the title and each text are
 *    one line (no control character); its tenant NULL or a non-empty line of at most
 *    AM_MAX_NAME bytes; its starts_at at most AM_MAX_STARTS bytes, and the event id a seller's
 *    alert would be stored under (am_route_event_id) one the events table accepts.
 */
#include <json-c/json.h>
#include <time.h>

#include "fuzz.h"
#include "core/jsonutil.h"
#include "monitor/alertmanager.h"
#include "tenants/amroute.h"
#include "core/util.h"

static int is_hex(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AM_MAX_FINGERPRINT)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

/* One line: no control character. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void check_notice(const struct am_notice *n)
{
	FUZZ_CHECK(n->n >= 1 && n->n <= AM_MAX_ALERTS);
	FUZZ_CHECK(n->title != NULL && n->receiver != NULL);
	FUZZ_CHECK(str_is_utf8(n->title, strlen(n->title)) && one_line(n->title));
	for (size_t i = 0; i < n->n; i++) {
		const struct am_alert *a = &n->v[i];
		FUZZ_CHECK(a->alertname && *a->alertname && strlen(a->alertname) <= AM_MAX_NAME);
		FUZZ_CHECK(a->fingerprint && is_hex(a->fingerprint));
		FUZZ_CHECK(strcmp(a->severity, "critical") == 0 ||
		           strcmp(a->severity, "warning") == 0);
		FUZZ_CHECK(a->text && str_is_utf8(a->text, strlen(a->text)) && one_line(a->text));
		FUZZ_CHECK(strncmp(a->text, a->alertname, strlen(a->alertname)) == 0);
		FUZZ_CHECK(!a->tenant ||
		           (*a->tenant && strlen(a->tenant) <= AM_MAX_NAME && one_line(a->tenant)));
		FUZZ_CHECK(a->starts_at && strlen(a->starts_at) <= AM_MAX_STARTS);
		char id[AMROUTE_EVENT_ID_SIZE];
		am_route_event_id(a, id, sizeof(id));
		size_t idlen = strlen(id);
		FUZZ_CHECK(
		    idlen >= 1 && idlen <= 128 &&
		    strspn(id,
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-") ==
		        idlen);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(n->v[k].fingerprint, a->fingerprint) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *body = NULL;
	struct am_notice n;
	char *err = NULL;
	if (json_parse_object_max((const char *)data, size, 0, AM_MAX_VALUES, &body, &err) < 0) {
		FUZZ_CHECK(err != NULL);
		free(err);
		return 0;
	}
	if (am_parse(body, &n, &err) < 0) {
		FUZZ_CHECK(err != NULL && n.n == 0 && n.v == NULL && n.title == NULL);
		free(err);
	} else {
		FUZZ_CHECK(err == NULL);
		check_notice(&n);
		am_notice_release(&n);
	}
	json_object_put(body);
	return 0;
}
