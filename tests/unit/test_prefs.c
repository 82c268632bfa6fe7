/*
 * Unit tests of common/tenants/prefs.c, the parts without a database: defaults, locked
 * types, the effective preference from a stored row, the seller's change checked whole, and
 * the JSON answer.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "tenants/prefs.h"

/* Parse text as a change: 0 or -1, with code, field and err kept for the assertions. */
struct parsed {
	struct pref_change *c;
	size_t n;
	const char *code;
	char *field, *err;
};

static int parse(const char *text, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	struct json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	int rc = pref_parse_change(o, &p->c, &p->n, &p->code, &p->field, &p->err);
	json_object_put(o);
	return rc;
}

static void parsed_release(struct parsed *p)
{
	free(p->c);
	free(p->field);
	free(p->err);
}

static void cart_types_default_to_the_hourly_digest_the_rest_immediate(void **state)
{
	(void)state;
	for (size_t i = 0; i < alert_type_count(); i++) {
		const struct alert_type *t = alert_type_at(i);
		struct alert_pref p;
		pref_default(t, &p);
		assert_int_equal(p.enabled, 1);
		if (strncmp(t->name, "cart.", 5) == 0)
			assert_int_equal(p.delivery, PREF_HOURLY);
		else
			assert_int_equal(p.delivery, PREF_IMMEDIATE);
	}
}

static void security_and_failed_payments_are_locked_and_stay_on(void **state)
{
	(void)state;
	const char *locked[] = {"security.login", "security.password_changed", "payment.failed"};
	for (size_t i = 0; i < 3; i++) {
		const struct alert_type *t = alert_type_find(locked[i]);
		assert_true(pref_locked(t));
		struct alert_pref p;
		pref_effective(t, "f", "daily", &p);
		assert_int_equal(p.enabled, 1);
		assert_int_equal(p.delivery, PREF_DAILY);
	}
	assert_false(pref_locked(alert_type_find("order.placed")));
	struct alert_pref p;
	pref_effective(alert_type_find("order.placed"), "f", NULL, &p);
	assert_int_equal(p.enabled, 0);
	assert_int_equal(p.delivery, PREF_IMMEDIATE);
	pref_effective(alert_type_find("cart.abandoned"), NULL, NULL, &p);
	assert_int_equal(p.enabled, 1);
	assert_int_equal(p.delivery, PREF_HOURLY);
}

static void a_change_sets_only_what_it_names(void **state)
{
	(void)state;
	struct parsed p;
	assert_int_equal(
	    parse("{\"preferences\":{\"order.placed\":{\"enabled\":false},"
	          "\"cart.abandoned\":{\"delivery\":\"daily\",\"channels\":[\"whatsapp\"]},"
	          "\"security.login\":{\"enabled\":true}}}",
	          &p),
	    0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.c[0].type->name, "order.placed");
	assert_true(p.c[0].set_enabled && !p.c[0].enabled && !p.c[0].set_delivery);
	assert_string_equal(p.c[1].type->name, "cart.abandoned");
	assert_true(!p.c[1].set_enabled && p.c[1].set_delivery && p.c[1].delivery == PREF_DAILY);
	assert_true(p.c[2].set_enabled && p.c[2].enabled);
	assert_true(p.c[1].set_channels && p.c[1].channels.n == 1);
	assert_false(p.c[0].set_channels);
	parsed_release(&p);
}

static void channels_are_a_chain_whatsapp_first(void **state)
{
	(void)state;
	struct parsed p;
	assert_int_equal(parse("{\"preferences\":{\"order.placed\":{\"channels\":"
	                       "[\"whatsapp\",\"sms\",\"email\"]},"
	                       "\"payment.failed\":{\"channels\":[\"whatsapp\"]}}}",
	                       &p),
	                 0);
	assert_true(p.c[0].set_channels);
	assert_int_equal(p.c[0].channels.n, 3);
	assert_string_equal(p.c[0].channels.step[2], "email");
	assert_int_equal(p.c[1].channels.n, 1);
	parsed_release(&p);
}

static void stored_channels_replace_the_urgency_default(void **state)
{
	(void)state;
	struct alert_pref p;
	const struct alert_type *urgent = alert_type_find("payment.failed");
	const struct alert_type *normal = alert_type_find("order.placed");
	const struct alert_type *low = alert_type_find("inventory.low");
	pref_effective(urgent, NULL, NULL, &p);
	assert_int_equal(p.channels.n, 3);
	pref_effective(normal, NULL, NULL, &p);
	assert_int_equal(p.channels.n, 2);
	assert_string_equal(p.channels.step[1], "email");
	pref_effective(low, NULL, NULL, &p);
	assert_int_equal(p.channels.n, 1);
	pref_set_channels(&p, "{whatsapp,sms}");
	assert_int_equal(p.channels.n, 2);
	assert_string_equal(p.channels.step[1], "sms");
	/* NULL and anything that is not a chain leave what is there. */
	pref_effective(urgent, NULL, NULL, &p);
	pref_set_channels(&p, NULL);
	assert_int_equal(p.channels.n, 3);
	pref_set_channels(&p, "{sms}");
	pref_set_channels(&p, "whatsapp");
	pref_set_channels(&p, "{}");
	assert_int_equal(p.channels.n, 3);
	pref_set_channels(&p, "{whatsapp}");
	assert_int_equal(p.channels.n, 1);
}

static void a_locked_type_cannot_be_switched_off(void **state)
{
	(void)state;
	struct parsed p;
	assert_int_equal(parse("{\"preferences\":{\"order.placed\":{\"enabled\":false},"
	                       "\"payment.failed\":{\"enabled\":false}}}",
	                       &p),
	                 -1);
	assert_string_equal(p.code, PREF_E_LOCKED);
	assert_string_equal(p.field, "preferences.payment.failed.enabled");
	assert_contains(p.err, "preferences.payment.failed.enabled cannot be false");
	assert_null(p.c);
	parsed_release(&p);
}

static void refusals_name_the_member_at_fault(void **state)
{
	(void)state;
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {"{\"preferences\":{\"order.shipped\":{\"enabled\":true}}}",
	     "preferences.order.shipped"},
	    {"{\"preferences\":{\"order.placed\":{\"enabled\":1}}}",
	     "preferences.order.placed.enabled"},
	    {"{\"preferences\":{\"order.placed\":{\"delivery\":\"weekly\"}}}",
	     "preferences.order.placed.delivery"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[\"sms\",\"whatsapp\"]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[\"whatsapp\",\"sms\",\"sms\"]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[\"whatsapp\",\"fax\"]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[\"whatsapp\",1]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":\"whatsapp\"}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[\"whatsapp\",\"sms\","
	     "\"email\",\"whatsapp\"]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"channels\":[]}}}",
	     "preferences.order.placed.channels"},
	    {"{\"preferences\":{\"order.placed\":{\"locked\":false}}}",
	     "preferences.order.placed.locked"},
	    {"{\"preferences\":{\"order.placed\":{}}}", "preferences.order.placed"},
	    {"{\"preferences\":{\"order.placed\":true}}", "preferences.order.placed"},
	    {"{\"preferences\":{}}", "preferences"},
	    {"{\"preferences\":[]}", "preferences"},
	    {"{}", ""},
	    {"{\"preferences\":{\"order.placed\":{\"enabled\":true}},\"x\":1}", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p;
		assert_int_equal(parse(cases[i].body, &p), -1);
		assert_string_equal(p.code, "invalid_field");
		assert_string_equal(p.field, cases[i].field);
		assert_true(strncmp(p.err, p.field, strlen(p.field)) == 0);
		parsed_release(&p);
	}
}

static void the_answer_lists_every_type_with_its_setting(void **state)
{
	(void)state;
	size_t n = alert_type_count();
	struct alert_pref *p = calloc(n, sizeof(*p));
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		pref_effective(alert_type_at(i), NULL, NULL, &p[i]);
	p[1].enabled = 0; /* order.placed */
	struct json_object *o = pref_to_json(p, n);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_contains(s, "\"order.placed\":{\"enabled\":false,\"delivery\":\"immediate\","
	                   "\"channels\":[\"whatsapp\",\"email\"],\"locked\":false,"
	                   "\"urgency\":\"normal\",\"default\":{\"enabled\":true,"
	                   "\"delivery\":\"immediate\",\"channels\":[\"whatsapp\",\"email\"]}}");
	assert_contains(s, "\"security.login\":{\"enabled\":true,\"delivery\":\"immediate\","
	                   "\"channels\":[\"whatsapp\",\"sms\",\"email\"],\"locked\":true,"
	                   "\"urgency\":\"urgent\"");
	assert_int_equal(json_object_object_length(json_object_object_get(o, "preferences")),
	                 (int)n);
	json_object_put(o);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cart_types_default_to_the_hourly_digest_the_rest_immediate),
	    cmocka_unit_test(security_and_failed_payments_are_locked_and_stay_on),
	    cmocka_unit_test(a_change_sets_only_what_it_names),
	    cmocka_unit_test(a_locked_type_cannot_be_switched_off),
	    cmocka_unit_test(refusals_name_the_member_at_fault),
	    cmocka_unit_test(the_answer_lists_every_type_with_its_setting),
	    cmocka_unit_test(channels_are_a_chain_whatsapp_first),
	    cmocka_unit_test(stored_channels_replace_the_urgency_default),
	};
	return cmocka_run_group_tests_name("prefs", tests, NULL, NULL);
}
