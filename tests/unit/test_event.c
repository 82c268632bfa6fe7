/*
 * Unit tests of common/tenants/event.c: one business event checked member by member, and a
 * body (one event or {"events": [...]}) whose items are judged each on its own.
 */
#include "testutil.h"

#include <json-c/json.h>

#include "core/buf.h"
#include "tenants/event.h"

#define ORDER_DATA                                                                                 \
	"{\"order_id\":\"1001\",\"total\":{\"amount\":1250000,\"currency\":\"NGN\"},\"items\":3,"  \
	"\"customer\":{\"name\":\"Ada\",\"phone\":\"+2349012345678\"}}"

/* An order.placed event with id and the rest fixed. */
#define ORDER_EVENT(id)                                                                            \
	"{\"id\":\"" id "\",\"type\":\"order.placed\",\"tenant\":\"shop-42\","                     \
	"\"occurred_at\":\"2026-12-02T14:05:00+01:00\",\"data\":" ORDER_DATA "}"

/* event_parse of doc: assert refused naming want_field, the message starting with it. */
static void refused(const char *doc, const char *want_field)
{
	struct json_object *o = json_tokener_parse(doc);
	struct event e;
	char *field = NULL, *err = NULL;
	assert_non_null(o);
	if (event_parse(o, &e, &field, &err) == 0) {
		print_error("event_parse(%s) accepted it\n", doc);
		fail();
	}
	assert_string_equal(field, want_field);
	assert_non_null(err);
	if (*want_field)
		assert_int_equal(strncmp(err, want_field, strlen(want_field)), 0);
	assert_null(e.id);
	assert_null(e.tenant);
	assert_null(e.data);
	free(field);
	free(err);
	json_object_put(o);
}

/* An event doc with one member replaced by member:value ("" value: left out). */
static char *with_member(const char *member, const char *value)
{
	static const char *const names[] = {"id", "type", "tenant", "occurred_at", "data"};
	static const char *const values[] = {"\"e-1\"", "\"order.placed\"", "\"shop-42\"",
	                                     "\"2026-12-02T14:05:00Z\"", ORDER_DATA};
	struct buf b = BUF_INIT(4096);
	buf_puts(&b, "{");
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const char *v = strcmp(names[i], member) == 0 ? value : values[i];
		if (*v)
			buf_printf(&b, "%s\"%s\":%s", b.len > 1 ? "," : "", names[i], v);
	}
	buf_puts(&b, "}");
	return buf_detach(&b);
}

static void member_refused(const char *member, const char *value, const char *want_field)
{
	char *doc = with_member(member, value);
	refused(doc, want_field);
	free(doc);
}

static void test_event_good_order(void **state)
{
	(void)state;
	struct json_object *o = json_tokener_parse(ORDER_EVENT("evt_01:A@b.c-9"));
	struct event e;
	char *field = NULL, *err = NULL;
	assert_int_equal(event_parse(o, &e, &field, &err), 0);
	assert_null(field);
	assert_null(err);
	json_object_put(o); /* the event keeps its data */
	assert_string_equal(e.id, "evt_01:A@b.c-9");
	assert_string_equal(e.type->name, "order.placed");
	assert_string_equal(e.tenant, "shop-42");
	assert_int_equal(e.occurred_at, tu_utc(2026, 12, 2, 13, 5, 0));
	char *text = alert_text(e.type, e.data);
	assert_string_equal(text, "New order #1001: NGN 12,500, 3 items, Ada +234...5678");
	free(text);
	event_release(&e);
	event_release(&e);
}

static void test_event_each_member_is_named(void **state)
{
	(void)state;
	member_refused("id", "", "id");
	member_refused("id", "\"\"", "id");
	member_refused("id", "42", "id");
	member_refused("id", "\"has space\"", "id");
	member_refused("id", "\"a/b\"", "id");
	member_refused("id", "null", "id");
	char *long_id = xasprintf("\"%0129d\"", 0);
	member_refused("id", long_id, "id");
	free(long_id);
	member_refused("type", "", "type");
	member_refused("type", "\"order.shipped\"", "type");
	member_refused("type", "\"ORDER.PLACED\"", "type");
	member_refused("tenant", "", "tenant");
	member_refused("tenant", "\"me\"", "tenant");
	member_refused("tenant", "\"shop 42\"", "tenant");
	member_refused("tenant", "7", "tenant");
	member_refused("occurred_at", "", "occurred_at");
	member_refused("occurred_at", "\"2026-12-02T14:05:00\"", "occurred_at");
	member_refused("occurred_at", "\"2026-12-02\"", "occurred_at");
	member_refused("occurred_at", "\"2026-02-30T10:00:00Z\"", "occurred_at");
	member_refused("occurred_at", "1764684300", "occurred_at");
	member_refused("data", "", "data");
	member_refused("data", "[]", "data");
	member_refused("data", "\"x\"", "data");
	member_refused("data", "{\"order_id\":\"1\"}", "data.total");
	member_refused("data",
	               "{\"order_id\":\"1\",\"total\":{\"amount\":5,\"currency\":\"XYZ\"},"
	               "\"items\":1,\"customer\":{\"name\":\"A\"}}",
	               "data.total.currency");
	refused("[]", "");
	refused("\"event\"", "");
	refused("{\"id\":\"e-1\",\"type\":\"order.placed\",\"tenant\":\"shop-42\","
	        "\"occurred_at\":\"2026-12-02T14:05:00Z\",\"data\":" ORDER_DATA ",\"extra\":1}",
	        "extra");
}

static void test_event_offsets_and_extra_data(void **state)
{
	(void)state;
	struct event e;
	char *field = NULL, *err = NULL;
	char *doc = with_member("occurred_at", "\"2026-12-02T08:05:00.123-05:00\"");
	struct json_object *o = json_tokener_parse(doc);
	assert_int_equal(event_parse(o, &e, &field, &err), 0);
	assert_int_equal(e.occurred_at, tu_utc(2026, 12, 2, 13, 5, 0));
	event_release(&e);
	json_object_put(o);
	free(doc);
	/* Members of data the type does not name are kept and ignored. */
	doc = with_member("data", "{\"order_id\":\"1\",\"total\":{\"amount\":5,\"currency\":"
	                          "\"NGN\"},\"items\":[],\"customer\":{\"name\":\"A\"},"
	                          "\"channel\":\"whatsapp-bot\",\"lines\":[{\"sku\":\"x\"}]}");
	o = json_tokener_parse(doc);
	assert_int_equal(event_parse(o, &e, &field, &err), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e.data, "channel")),
	                    "whatsapp-bot");
	event_release(&e);
	json_object_put(o);
	free(doc);
}

/* Extra members of data are stored as jsonb: a number no double holds is refused by its path,
 * and the others are written plainly, not as sent (1.5e-999999 would overflow a numeric). */
static void test_event_data_numbers_are_storable(void **state)
{
	(void)state;
	static const char *const refused_docs[][2] = {
	    {"1e999999", "data.x"},
	    {"[1,{\"y\":-1e999999}]", "data.x[1].y"},
	    {"[[2e400]]", "data.x[0][0]"},
	    {"123456789012345678901234567890", "data.x"},
	    {"{\"y\":-99999999999999999999999}", "data.x.y"},
	};
	for (size_t i = 0; i < ARRAY_LEN(refused_docs); i++) {
		char *data =
		    xasprintf("{\"title\":\"t\",\"message\":\"m\",\"x\":%s}", refused_docs[i][0]);
		char *doc =
		    xasprintf("{\"id\":\"e-1\",\"type\":\"system.notice\",\"tenant\":"
		              "\"shop-42\",\"occurred_at\":\"2026-12-02T14:05:00Z\",\"data\":%s}",
		              data);
		struct event_body b;
		char *field = NULL, *err = NULL;
		assert_int_equal(event_parse_body(doc, strlen(doc), &b, &field, &err), 0);
		assert_false(b.items[0].ok);
		assert_string_equal(b.items[0].field, refused_docs[i][1]);
		event_body_release(&b);
		free(doc);
		free(data);
	}
	const char *doc = "{\"id\":\"e-1\",\"type\":\"system.notice\",\"tenant\":\"shop-42\","
	                  "\"occurred_at\":\"2026-12-02T14:05:00Z\",\"data\":{\"title\":\"t\","
	                  "\"message\":\"m\",\"x\":1.5e-999999,\"y\":[2.50],"
	                  "\"z\":[9223372036854775807,18446744073709551614,-9223372036854775807]}}";
	struct event_body b;
	char *field = NULL, *err = NULL;
	assert_int_equal(event_parse_body(doc, strlen(doc), &b, &field, &err), 0);
	assert_true(b.items[0].ok);
	const char *out =
	    json_object_to_json_string_ext(b.items[0].ev.data, JSON_C_TO_STRING_PLAIN);
	assert_null(strstr(out, "e-999999"));
	assert_non_null(strstr(out, "\"y\":[2.5]"));
	assert_non_null(
	    strstr(out, "[9223372036854775807,18446744073709551614,-9223372036854775807]"));
	event_body_release(&b);
}

/* event_parse_body of the text doc: assert rc, and on failure the field. */
static int body(const char *doc, struct event_body *b, const char *want_field)
{
	char *field = NULL, *err = NULL;
	int rc = event_parse_body(doc, strlen(doc), b, &field, &err);
	if (rc < 0) {
		assert_non_null(err);
		if (want_field)
			assert_string_equal(field, want_field);
		assert_null(b->items);
		assert_int_equal(b->n, 0);
	} else {
		assert_null(field);
		assert_null(err);
	}
	free(field);
	free(err);
	return rc;
}

static void test_event_body_one_event(void **state)
{
	(void)state;
	struct event_body b;
	assert_int_equal(body(ORDER_EVENT("e-1"), &b, NULL), 0);
	assert_int_equal(b.batch, 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.refused, 0);
	assert_true(b.items[0].ok);
	assert_string_equal(b.items[0].ev.id, "e-1");
	event_body_release(&b);
	event_body_release(&b);
	assert_int_equal(body("{\"id\":\"e-1\"}", &b, NULL), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.refused, 1);
	assert_false(b.items[0].ok);
	assert_string_equal(b.items[0].field, "type");
	event_body_release(&b);
}

static void test_event_batch_judges_each_item(void **state)
{
	(void)state;
	struct event_body b;
	const char *doc = "{\"events\":[" ORDER_EVENT(
	    "e-1") ",{\"id\":\"e-2\",\"type\":\"x.y\"},"
	           "7," ORDER_EVENT(
	               "e-4") ",{\"id\":\"e-5\",\"type\":\"order.placed\","
	                      "\"tenant\":\"shop-42\",\"occurred_at\":\"2026-12-02T14:05:00Z\","
	                      "\"data\":{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":"
	                      "\"NGN\"},\"items\":1,\"customer\":{\"name\":\"A\",\"phone\":\"123\"}"
	                      "}}]}";
	assert_int_equal(body(doc, &b, NULL), 0);
	assert_int_equal(b.batch, 1);
	assert_int_equal(b.n, 5);
	assert_int_equal(b.refused, 3);
	assert_true(b.items[0].ok);
	assert_string_equal(b.items[0].ev.id, "e-1");
	assert_false(b.items[1].ok);
	assert_string_equal(b.items[1].field, "type");
	assert_contains(b.items[1].message, "type is not a known alert type");
	assert_false(b.items[2].ok);
	assert_string_equal(b.items[2].field, "");
	assert_true(b.items[3].ok);
	assert_string_equal(b.items[3].ev.id, "e-4");
	assert_false(b.items[4].ok);
	assert_string_equal(b.items[4].field, "data.customer.phone");
	assert_contains(b.items[4].message, "data.customer.phone must be in international format");
	assert_null(b.items[4].ev.id);
	event_body_release(&b);
}

static void test_event_batch_shape_and_cap(void **state)
{
	(void)state;
	struct event_body b;
	assert_int_equal(body("{\"events\":[]}", &b, "events"), -1);
	assert_int_equal(body("{\"events\":null}", &b, "events"), -1);
	assert_int_equal(body("{\"events\":{}}", &b, "events"), -1);
	assert_int_equal(body("{\"events\":[" ORDER_EVENT("e-1") "],\"x\":1}", &b, "x"), -1);
	assert_int_equal(body("[" ORDER_EVENT("e-1") "]", &b, ""), -1);
	assert_int_equal(body("not json", &b, ""), -1);
	assert_int_equal(body("{\"id\":\"a\\u0000b\"}", &b, ""), -1);
	assert_int_equal(body(ORDER_EVENT("e-1") " {}", &b, ""), -1);

	struct buf doc = BUF_INIT(1 << 20);
	buf_puts(&doc, "{\"events\":[");
	for (int i = 0; i < EVENT_BATCH_MAX; i++)
		buf_printf(&doc,
		           "%s{\"id\":\"e-%d\",\"type\":\"inventory.out_of_stock\","
		           "\"tenant\":\"t%d\",\"occurred_at\":\"2026-12-02T14:05:00Z\","
		           "\"data\":{\"sku\":\"s\",\"product\":\"p\"}}",
		           i ? "," : "", i, i % 3);
	buf_puts(&doc, "]}");
	assert_int_equal(body(buf_str(&doc), &b, NULL), 0);
	assert_int_equal(b.n, EVENT_BATCH_MAX);
	assert_int_equal(b.refused, 0);
	assert_string_equal(b.items[EVENT_BATCH_MAX - 1].ev.tenant, "t0");
	event_body_release(&b);
	doc.len -= 2; /* one more */
	buf_puts(&doc, ",{}]}");
	assert_int_equal(body(buf_str(&doc), &b, "events"), -2);
	buf_release(&doc);
}

static void test_event_body_values_are_capped(void **state)
{
	(void)state;
	struct event_body b;
	struct buf doc = BUF_INIT(1 << 21);
	buf_puts(&doc, "{\"id\":\"e-1\",\"data\":{\"lines\":[");
	for (int i = 0; i < EVENT_BODY_MAX_VALUES; i++)
		buf_puts(&doc, i ? ",0" : "0");
	buf_puts(&doc, "]}}");
	assert_int_equal(body(buf_str(&doc), &b, ""), -2);
	buf_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_good_order),
	    cmocka_unit_test(test_event_each_member_is_named),
	    cmocka_unit_test(test_event_offsets_and_extra_data),
	    cmocka_unit_test(test_event_data_numbers_are_storable),
	    cmocka_unit_test(test_event_body_one_event),
	    cmocka_unit_test(test_event_batch_judges_each_item),
	    cmocka_unit_test(test_event_batch_shape_and_cap),
	    cmocka_unit_test(test_event_body_values_are_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
