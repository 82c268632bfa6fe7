/*
 * Unit tests of common/tenants/alerttype.c: the table of business alert types, the check of an
 * event's data, the texts for WhatsApp, SMS and email, the template parameters, and the
 * cleaning of what an event says.
 */
#include "testutil.h"

#include <json-c/json.h>

#include "core/buf.h"
#include "tenants/alerttype.h"

static const char *const order_doc =
    "{\"order_id\":\"1001\",\"total\":{\"amount\":1250000,\"currency\":\"NGN\"},\"items\":3,"
    "\"customer\":{\"name\":\"Ada\",\"phone\":\"+2349012345678\"},\"coupon\":\"X\"}";

static struct json_object *parse(const char *doc)
{
	struct json_object *o = json_tokener_parse(doc);
	if (!o) {
		print_error("bad JSON in the test: %s\n", doc);
		fail();
	}
	return o;
}

static const struct alert_type *type(const char *name)
{
	const struct alert_type *t = alert_type_find(name);
	if (!t) {
		print_error("no type %s\n", name);
		fail();
	}
	return t;
}

/* Assert type name accepts doc. */
static void data_ok(const char *name, const char *doc)
{
	struct json_object *o = parse(doc);
	char *path = NULL;
	const char *why = NULL;
	if (alert_type_check_data(type(name), o, &path, &why) != 0) {
		print_error("%s refused %s: %s %s\n", name, doc, path, why);
		fail();
	}
	assert_null(path);
	json_object_put(o);
}

/* Assert type name refuses doc naming want_path. */
static void data_refused(const char *name, const char *doc, const char *want_path)
{
	struct json_object *o = parse(doc);
	char *path = NULL;
	const char *why = NULL;
	if (alert_type_check_data(type(name), o, &path, &why) == 0) {
		print_error("%s accepted %s\n", name, doc);
		fail();
	}
	assert_string_equal(path, want_path);
	assert_non_null(why);
	free(path);
	json_object_put(o);
}

/* Assert the WhatsApp text of type name for doc is want. */
static void text_is(const char *name, const char *doc, const char *want)
{
	struct json_object *o = parse(doc);
	char *s = alert_text(type(name), o);
	assert_string_equal(s, want);
	free(s);
	json_object_put(o);
}

static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void test_alerttype_table_holds_the_issue_types(void **state)
{
	(void)state;
	static const char *const names[] = {"conversation.started", "order.placed",
	                                    "payment.confirmed",    "payment.failed",
	                                    "inventory.low",        "inventory.out_of_stock",
	                                    "security.login",       "security.password_changed",
	                                    "system.notice",        "cart.item_added",
	                                    "cart.item_removed",    "cart.checked_out",
	                                    "cart.abandoned"};
	assert_int_equal(alert_type_count(), ARRAY_LEN(names));
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const struct alert_type *t = alert_type_at(i);
		assert_non_null(t);
		assert_string_equal(t->name, names[i]);
		assert_ptr_equal(alert_type_find(names[i]), t);
		assert_non_null(t->template_name);
		assert_non_null(t->params[0]);
		assert_non_null(t->fields[0].name);
	}
	assert_null(alert_type_at(ARRAY_LEN(names)));
	assert_null(alert_type_find("order.Placed"));
	assert_null(alert_type_find("order"));
	assert_null(alert_type_find(""));
	assert_null(alert_type_find(NULL));
}

static void test_alerttype_defaults(void **state)
{
	(void)state;
	for (size_t i = 0; i < alert_type_count(); i++) {
		const struct alert_type *t = alert_type_at(i);
		int locked =
		    strncmp(t->name, "security.", 9) == 0 || strcmp(t->name, "payment.failed") == 0;
		int cart = strncmp(t->name, "cart.", 5) == 0;
		assert_int_equal(t->can_switch_off, !locked);
		assert_int_equal(t->delivery, cart ? ALERT_DIGEST : ALERT_IMMEDIATE);
		if (locked)
			assert_int_equal(t->urgency, ALERT_URGENT);
	}
	assert_string_equal(alert_urgency_name(type("payment.failed")->urgency), "urgent");
	assert_string_equal(alert_urgency_name(type("order.placed")->urgency), "normal");
	assert_string_equal(alert_urgency_name(type("cart.abandoned")->urgency), "low");
	assert_string_equal(alert_delivery_name(type("cart.abandoned")->delivery), "digest");
	assert_string_equal(alert_delivery_name(type("order.placed")->delivery), "immediate");
}

static void test_alerttype_order_data(void **state)
{
	(void)state;
	data_ok("order.placed", order_doc);
	data_ok("order.placed",
	        "{\"order_id\":\"A-1\",\"total\":{\"amount\":0,\"currency\":\"USD\"},"
	        "\"items\":[{\"sku\":\"a\"},{\"sku\":\"b\"}],"
	        "\"customer\":{\"name\":\"Bo\"}}");
	data_refused("order.placed", "[]", "");
	data_refused("order.placed", "{}", "order_id");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":\"ngn\"},\"items\":1,"
	    "\"customer\":{\"name\":\"A\"}}",
	    "total.currency");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1.5,\"currency\":\"NGN\"},\"items\":1,"
	    "\"customer\":{\"name\":\"A\"}}",
	    "total.amount");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":\"NGN 5\",\"items\":1,\"customer\":{\"name\":\"A\"}}",
	    "total");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":-1,"
	    "\"customer\":{\"name\":\"A\"}}",
	    "items");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,"
	    "\"customer\":{\"phone\":\"+2349012345678\"}}",
	    "customer.name");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,"
	    "\"customer\":{\"name\":\"A\",\"phone\":\"09012345678\"}}",
	    "customer.phone");
	data_refused(
	    "order.placed",
	    "{\"order_id\":\"1\",\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,"
	    "\"customer\":{\"name\":\"  \"}}",
	    "customer.name");
	data_refused("order.placed",
	             "{\"order_id\":\"a\\nb\",\"total\":{\"amount\":1,\"currency\":\"NGN\"},"
	             "\"items\":1,\"customer\":{\"name\":\"A\"}}",
	             "order_id");
	data_refused("order.placed",
	             "{\"order_id\":1001,\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,"
	             "\"customer\":{\"name\":\"A\"}}",
	             "order_id");
	data_refused("order.placed",
	             "{\"order_id\":null,\"total\":{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,"
	             "\"customer\":{\"name\":\"A\"}}",
	             "order_id");
}

static void test_alerttype_every_type_has_its_required_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < alert_type_count(); i++) {
		const struct alert_type *t = alert_type_at(i);
		struct json_object *empty = json_object_new_object();
		char *path = NULL;
		const char *why = NULL;
		/* Every type requires something, and names the first field it misses. */
		assert_int_equal(alert_type_check_data(t, empty, &path, &why), -1);
		assert_string_equal(path, t->fields[0].name);
		assert_true(t->fields[0].required);
		assert_string_equal(why, "is required");
		free(path);
		json_object_put(empty);
	}
	data_ok("conversation.started", "{\"customer\":{\"phone\":\"+2349012345678\"}}");
	data_refused("conversation.started", "{\"customer\":{\"name\":\"Ada\"}}", "customer.phone");
	data_ok("payment.failed",
	        "{\"order_id\":\"9\",\"amount\":{\"amount\":500,\"currency\":\"GHS\"}}");
	data_ok("inventory.low", "{\"sku\":\"RD-1\",\"product\":\"Red dress\",\"quantity\":0}");
	data_refused("inventory.low", "{\"sku\":\"RD-1\",\"product\":\"Red dress\"}", "quantity");
	data_ok("inventory.out_of_stock", "{\"sku\":\"RD-1\",\"product\":\"Red dress\"}");
	data_ok("security.login", "{\"user\":\"ada@example.com\",\"ip\":\"203.0.113.9\"}");
	data_ok("system.notice", "{\"title\":\"Maintenance\",\"message\":\"Tonight 2-3am\"}");
	data_refused("system.notice", "{\"title\":\"Maintenance\",\"message\":\"\"}", "message");
	data_ok("cart.item_added", "{\"cart_id\":\"c1\",\"product\":\"Rice 5kg\",\"quantity\":2}");
	data_refused("cart.item_added",
	             "{\"cart_id\":\"c1\",\"product\":\"Rice\",\"quantity\":2,\"price\":{}}",
	             "price.amount");
	data_ok(
	    "cart.abandoned",
	    "{\"cart_id\":\"c1\",\"total\":{\"amount\":1000,\"currency\":\"KES\"},\"items\":[]}");
}

static void test_alerttype_texts_are_numbers_not_prose(void **state)
{
	(void)state;
	text_is("order.placed", order_doc, "New order #1001: NGN 12,500, 3 items, Ada +234...5678");
	text_is("order.placed",
	        "{\"order_id\":\"7\",\"total\":{\"amount\":99,\"currency\":\"USD\"},\"items\":[1],"
	        "\"customer\":{\"name\":\"Bo\"}}",
	        "New order #7: USD 0.99, 1 item, Bo");
	text_is("payment.failed",
	        "{\"order_id\":\"9\",\"amount\":{\"amount\":1250,\"currency\":\"KWD\"},"
	        "\"reason\":\"card declined\"}",
	        "Payment FAILED #9: KWD 1.250: card declined");
	text_is("payment.failed",
	        "{\"order_id\":\"9\",\"amount\":{\"amount\":-50000,\"currency\":\"NGN\"}}",
	        "Payment FAILED #9: -NGN 500");
	text_is("inventory.low",
	        "{\"sku\":\"RD-1\",\"product\":\"Red dress\",\"quantity\":2,\"threshold\":5}",
	        "Low stock: Red dress (RD-1): 2 left, alert at 5");
	text_is(
	    "conversation.started",
	    "{\"customer\":{\"phone\":\"+2349012345678\"},\"message\":\"Hi\\nis it in stock?\"}",
	    "New chat: +234...5678: \"Hi is it in stock?\"");
	text_is("cart.abandoned",
	        "{\"cart_id\":\"c1\",\"total\":{\"amount\":300000,\"currency\":\"JPY\"},"
	        "\"items\":2,\"idle_minutes\":45}",
	        "Cart c1 abandoned: JPY 300,000, 2 items, idle 45 min");
	/* A required field missing anyway reads "-"; an optional part disappears. */
	text_is("security.login", "{}", "New login: -");
}

static void test_alerttype_text_is_capped(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(20000);
	buf_puts(&b, "{\"title\":\"");
	for (int i = 0; i < 300; i++)
		buf_puts(&b, "é");
	buf_puts(&b, "\",\"message\":\"");
	for (int i = 0; i < 900; i++)
		buf_puts(&b, "x ");
	buf_puts(&b, "\"}");
	struct json_object *o = parse(buf_str(&b));
	char *s = alert_text(type("system.notice"), o);
	assert_true(chars(s) <= ALERT_TEXT_MAX);
	assert_true(str_is_utf8(s, strlen(s)));
	assert_contains(s, "éé...: x x");
	char *sms = alert_sms(type("system.notice"), o);
	assert_true(chars(sms) <= ALERT_SMS_MAX);
	assert_true(strlen(sms) > 100);
	free(sms);
	free(s);
	json_object_put(o);
	buf_release(&b);
}

static void test_alerttype_clean_neutralises_formatting(void **state)
{
	(void)state;
	char *s = alert_clean("*FREE* _money_ ~now~ ```x``` ord_123 a*b", 100, ALERT_WHATSAPP);
	assert_string_equal(s, "∗FREE∗ ＿money＿ ∼now∼ ˋˋˋxˋˋˋ ord_123 a*b");
	free(s);
	s = alert_clean("*FREE*", 100, ALERT_EMAIL);
	assert_string_equal(s, "*FREE*");
	free(s);
	s = alert_clean("a\r\nb\tc\x01\x7f"
	                "d\xc2\x85"
	                "e\xe2\x80\xae"
	                "f\xe2\x80\x8bg  \n ",
	                100, ALERT_WHATSAPP);
	assert_string_equal(s, "a b cd efg");
	free(s);
	s = alert_clean("\xff\xfe ok \xc3", 100, ALERT_WHATSAPP);
	assert_string_equal(s, "ok");
	free(s);
	s = alert_clean("“Quoted” – it’s…", 100, ALERT_SMS);
	assert_string_equal(s, "\"Quoted\" - it's...");
	free(s);
	s = alert_clean("Rice 🍚 5kg ✅️ – محمد", 100, ALERT_SMS);
	assert_string_equal(s, "Rice 5kg - محمد");
	free(s);
	s = alert_clean("Rice 🍚", 100, ALERT_WHATSAPP);
	assert_string_equal(s, "Rice 🍚");
	free(s);
	s = alert_clean("ééééé", 4, ALERT_WHATSAPP);
	assert_string_equal(s, "é...");
	free(s);
	/* A cut never leaves a marker before the "...": it would no longer sit between letters. */
	s = alert_clean("a_bcdefg", 5, ALERT_WHATSAPP);
	assert_string_equal(s, "a...");
	free(s);
	s = alert_clean("abcd", 4, ALERT_WHATSAPP);
	assert_string_equal(s, "abcd");
	free(s);
}

static void test_alerttype_event_text_cannot_format_the_message(void **state)
{
	(void)state;
	text_is("order.placed",
	        "{\"order_id\":\"ord_1\",\"total\":{\"amount\":100,\"currency\":\"NGN\"},"
	        "\"items\":1,\"customer\":{\"name\":\"*Ada*\\n\\nFAKE: refund ~now~\"}}",
	        "New order #ord_1: NGN 1, 1 item, ∗Ada∗ FAKE: refund ∼now∼");
}

static void test_alerttype_template_parameters(void **state)
{
	(void)state;
	struct json_object *o = parse(order_doc);
	struct alert_template tpl;
	alert_template_build(type("order.placed"), o, &tpl);
	assert_string_equal(tpl.name, "order_placed");
	assert_int_equal(tpl.n, 4);
	assert_string_equal(tpl.params[0], "1001");
	assert_string_equal(tpl.params[1], "NGN 12,500");
	assert_string_equal(tpl.params[2], "3 items");
	assert_string_equal(tpl.params[3], "Ada");
	alert_template_release(&tpl);
	alert_template_release(&tpl);
	json_object_put(o);
	/* An absent optional field is "-", never an empty parameter (WhatsApp refuses those). */
	o = parse("{\"order_id\":\"9\",\"amount\":{\"amount\":500,\"currency\":\"GHS\"}}");
	alert_template_build(type("payment.failed"), o, &tpl);
	assert_string_equal(tpl.name, "payment_failed");
	assert_int_equal(tpl.n, 3);
	assert_string_equal(tpl.params[1], "GHS 5");
	assert_string_equal(tpl.params[2], "-");
	alert_template_release(&tpl);
	json_object_put(o);
	for (size_t i = 0; i < alert_type_count(); i++) {
		struct json_object *empty = json_object_new_object();
		alert_template_build(alert_type_at(i), empty, &tpl);
		for (size_t k = 0; k < tpl.n; k++)
			assert_true(tpl.params[k][0] != '\0');
		alert_template_release(&tpl);
		json_object_put(empty);
	}
}

/* Count "{{k}}" placeholders in body; 0 when they are not exactly {{1}}..{{n}} each once. */
static size_t placeholders(const char *body)
{
	size_t n = 0;
	for (;;) {
		char want[16];
		snprintf(want, sizeof(want), "{{%zu}}", n + 1);
		const char *at = strstr(body, want);
		if (!at)
			break;
		if (strstr(at + 1, want))
			return 0;
		n++;
	}
	size_t all = 0;
	for (const char *p = strstr(body, "{{"); p; p = strstr(p + 2, "{{"))
		all++;
	return all == n ? n : 0;
}

/*
 * What cron seller-templates prints: for each of the 13 types a creation request Meta takes,
 * its body with {{1}}..{{n}} for exactly the type's n parameters, never first or last (Meta
 * refuses those), and an example per parameter, none empty.
 */
static void test_alerttype_template_spec_for_every_type(void **state)
{
	(void)state;
	assert_int_equal(alert_type_count(), 13);
	for (size_t i = 0; i < alert_type_count(); i++) {
		const struct alert_type *t = alert_type_at(i);
		struct json_object *spec = alert_template_spec(t, "en_GB");
		assert_string_equal(tu_json_string(spec, "name"), t->template_name);
		assert_string_equal(tu_json_string(spec, "language"), "en_GB");
		assert_string_equal(tu_json_string(spec, "category"), "UTILITY");
		assert_string_equal(tu_json_string(spec, "components.0.type"), "BODY");
		const char *body = tu_json_string(spec, "components.0.text");
		size_t n = 0;
		while (n < ALERT_TEMPLATE_PARAMS && t->params[n])
			n++;
		if (placeholders(body) != n) {
			print_error("%s: body \"%s\" has not {{1}}..{{%zu}}\n", t->name, body, n);
			fail();
		}
		assert_true(strncmp(body, "{{", 2) != 0);
		assert_true(body[strlen(body) - 1] != '}');
		struct json_object *ex = tu_json_at(spec, "components.0.example.body_text.0");
		assert_int_equal(json_object_array_length(ex), n);
		for (size_t k = 0; k < n; k++) {
			const char *v = json_object_get_string(json_object_array_get_idx(ex, k));
			assert_true(v && *v && strcmp(v, "-") != 0);
		}
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(alert_type_at(j)->template_name, t->template_name);
		json_object_put(spec);
	}
}

/* A customer name with line breaks and tabs is one clean parameter. */
static void test_alerttype_template_parameter_is_one_clean_line(void **state)
{
	(void)state;
	struct json_object *o =
	    parse("{\"order_id\":\"7\",\"total\":{\"amount\":100,\"currency\":\"NGN\"},\"items\":1,"
	          "\"customer\":{\"name\":\"Ada\\n\\tObi\\r\\nFAKE:   refund\"}}");
	struct alert_template tpl;
	alert_template_build(type("order.placed"), o, &tpl);
	assert_string_equal(tpl.params[3], "Ada Obi FAKE: refund");
	alert_template_release(&tpl);
	json_object_put(o);
}

static void test_alerttype_sms_and_email(void **state)
{
	(void)state;
	struct json_object *o = parse(order_doc);
	char *sms = alert_sms(type("order.placed"), o);
	assert_string_equal(sms, "New order #1001: NGN 12,500, 3 items, Ada");
	free(sms);
	char *subject = NULL, *body = NULL;
	alert_email(type("order.placed"), o, &subject, &body);
	assert_string_equal(subject, "New order #1001: NGN 12,500");
	assert_string_equal(body, "New order #1001: NGN 12,500, 3 items, Ada +2349012345678\n"
	                          "\nOrder: 1001\nTotal: NGN 12,500\nItems: 3 items"
	                          "\nCustomer: Ada +2349012345678\n");
	free(subject);
	free(body);
	json_object_put(o);
	o = parse("{\"title\":\"Line\\r\\nBcc: x@example.com\",\"message\":\"m\"}");
	alert_email(type("system.notice"), o, &subject, &body);
	assert_string_equal(subject, "Notice: Line Bcc: x@example.com");
	free(subject);
	free(body);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alerttype_table_holds_the_issue_types),
	    cmocka_unit_test(test_alerttype_template_spec_for_every_type),
	    cmocka_unit_test(test_alerttype_template_parameter_is_one_clean_line),
	    cmocka_unit_test(test_alerttype_defaults),
	    cmocka_unit_test(test_alerttype_order_data),
	    cmocka_unit_test(test_alerttype_every_type_has_its_required_fields),
	    cmocka_unit_test(test_alerttype_texts_are_numbers_not_prose),
	    cmocka_unit_test(test_alerttype_text_is_capped),
	    cmocka_unit_test(test_alerttype_clean_neutralises_formatting),
	    cmocka_unit_test(test_alerttype_event_text_cannot_format_the_message),
	    cmocka_unit_test(test_alerttype_template_parameters),
	    cmocka_unit_test(test_alerttype_sms_and_email),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
