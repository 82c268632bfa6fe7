/*
 * fuzz_event.c: event_parse_body(), the reading of a POST /events body (one business event or
 * {"events": [...]}), and the texts made from every event it accepts; and alert_clean() on the
 * raw input.
 *
 * Invariants:
 *  - the body is 0, -1 or -2; refused whole, *field and *err are set and nothing is kept;
 *  - accepted: 1 to EVENT_BATCH_MAX items (one when not a batch), refused counts the items
 *    not ok; a refused item has a field and a message starting with it and no event; a good
 *    one has an id of the safe set, a known type, a tenant external_id accepted again, and
 *    data its type accepts again;
 *  - every text of a good event is valid UTF-8 without control characters (one line), within
 *    its length (WhatsApp 300, SMS 160, subject 120, parameter 100 characters), and a template
 *    parameter is never empty; only the email body has line breaks;
 *  - alert_clean: valid UTF-8, no control character, at most max characters, and for WhatsApp
 *    no * _ ~ ` unless between two ASCII letters or digits.
 */
#include "fuzz.h"
#include "core/util.h"
#include "tenants/alerttype.h"
#include "tenants/event.h"
#include "tenants/tenant.h"

static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int is_alnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* One line of at most max characters, valid UTF-8, no control character. */
static void check_line(const char *s, size_t max)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(str_is_utf8(s, strlen(s)));
	FUZZ_CHECK(chars(s) <= max);
	for (const char *p = s; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void check_texts(const struct event *e)
{
	char *s = alert_text(e->type, e->data), *subject = NULL, *body = NULL;
	check_line(s, ALERT_TEXT_MAX);
	free(s);
	s = alert_sms(e->type, e->data);
	check_line(s, ALERT_SMS_MAX);
	free(s);
	alert_email(e->type, e->data, &subject, &body);
	check_line(subject, ALERT_SUBJECT_MAX);
	FUZZ_CHECK(body != NULL && str_is_utf8(body, strlen(body)));
	for (const char *p = body; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\n');
	free(subject);
	free(body);
	struct alert_template tpl;
	alert_template_build(e->type, e->data, &tpl);
	FUZZ_CHECK(tpl.name != NULL && tpl.n >= 1);
	for (size_t i = 0; i < tpl.n; i++) {
		check_line(tpl.params[i], ALERT_PARAM_MAX);
		FUZZ_CHECK(tpl.params[i][0] != '\0');
	}
	alert_template_release(&tpl);
}

static void check_item(const struct event_item *it)
{
	if (!it->ok) {
		FUZZ_CHECK(it->field != NULL && it->message != NULL);
		FUZZ_CHECK(strncmp(it->message, it->field, strlen(it->field)) == 0);
		FUZZ_CHECK(it->ev.id == NULL && it->ev.tenant == NULL && it->ev.data == NULL);
		return;
	}
	const struct event *e = &it->ev;
	char *tenant = NULL, *path = NULL;
	const char *why = NULL;
	FUZZ_CHECK(it->field == NULL && it->message == NULL);
	FUZZ_CHECK(e->id && *e->id && strlen(e->id) <= EVENT_ID_MAX);
	FUZZ_CHECK(strspn(e->id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	                         "._:@-") == strlen(e->id));
	FUZZ_CHECK(e->type != NULL && alert_type_find(e->type->name) == e->type);
	FUZZ_CHECK(tenant_check_field(TF_EXTERNAL_ID, e->tenant, &tenant, &why) == 0);
	FUZZ_CHECK(strcmp(tenant, e->tenant) == 0);
	free(tenant);
	FUZZ_CHECK(alert_type_check_data(e->type, e->data, &path, &why) == 0 && path == NULL);
	check_texts(e);
}

static void check_body(const uint8_t *data, size_t size)
{
	struct event_body b;
	char *field = NULL, *err = NULL;
	int rc = event_parse_body((const char *)data, size, &b, &field, &err);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2);
	if (rc < 0) {
		FUZZ_CHECK(field != NULL && err != NULL && *err != '\0');
		FUZZ_CHECK(b.n == 0 && b.items == NULL);
		free(field);
		free(err);
		return;
	}
	FUZZ_CHECK(field == NULL && err == NULL);
	FUZZ_CHECK(b.n >= 1 && b.n <= EVENT_BATCH_MAX && (b.batch || b.n == 1));
	size_t refused = 0;
	for (size_t i = 0; i < b.n; i++) {
		check_item(&b.items[i]);
		refused += !b.items[i].ok;
	}
	FUZZ_CHECK(refused == b.refused);
	event_body_release(&b);
}

static void check_clean(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	size_t max = 4 + size % 64;
	char *out = alert_clean(in, max, ALERT_WHATSAPP);
	check_line(out, max);
	for (size_t i = 0; out[i]; i++)
		if (strchr("*_~`", out[i]))
			FUZZ_CHECK(i > 0 && is_alnum_ascii(out[i - 1]) &&
			           is_alnum_ascii(out[i + 1]));
	free(out);
	out = alert_clean(in, max, ALERT_SMS);
	check_line(out, max);
	free(out);
	free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_body(data, size);
	check_clean(data, size);
	return 0;
}
