/*
 * Unit tests of common/delivery/sender.c's choice of what a message goes as (build_one): text
 * inside the 24-hour window; outside it a seller alert's own template (SELLER_TEMPLATES=on,
 * Meta), else the generic template (priority, summary), else text. The calls are built, never
 * run.
 */
#include "testutil.h"

#include "delivery/sender.c"

static struct config cfg;
static struct account op_acct;

static const char *const order_params[] = {"1001", "NGN 12,500", "3 items", "Ada"};

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	tu_config_set(&cfg.provider, "meta");
	tu_config_set(&cfg.meta_token, "EAAGm0PX4ZCpsBAtestTOKENabcdefghijklmnop");
	tu_config_set(&cfg.meta_phone_number_id, "106540352242922");
	tu_config_set(&cfg.meta_graph_url, "https://graph.facebook.com/v25.0");
	tu_config_set(&cfg.template_language, "en_US");
	tu_config_set(&cfg.alert_template, "");
	cfg.seller_templates_on = 1;
	account_operator(&op_acct, &cfg, &provider_meta);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

/* A seller's alert of one event, outside the window. */
static struct sender_msg seller_msg(void)
{
	struct sender_msg m = {.acct = &op_acct,
	                       .phone = "+2349020000001",
	                       .content = "New order #1001: NGN 12,500, 3 items, Ada +234...5678",
	                       .priority = "warning",
	                       .alert_id = "",
	                       .template_name = "order_placed",
	                       .template_params = order_params,
	                       .n_template_params = 4};
	return m;
}

/* Build m's call; its JSON body (caller puts). */
static struct json_object *built(struct sender_msg *m)
{
	struct http_call call;
	memset(&call, 0, sizeof(call));
	if (build_one(m, &call) != 0) {
		print_error("build_one answered itself: %s %s\n", m->rs.error_code, m->rs.error);
		fail();
	}
	struct json_object *root = json_tokener_parse(call.body);
	assert_non_null(root);
	http_call_release(&call);
	return root;
}

static void outside_the_window_a_seller_alert_goes_as_its_own_template(void **state)
{
	(void)state;
	struct sender_msg m = seller_msg();
	struct json_object *root = built(&m);
	assert_int_equal(m.as_template, 1);
	assert_string_equal(tu_json_string(root, "type"), "template");
	assert_string_equal(tu_json_string(root, "template.name"), "order_placed");
	assert_string_equal(tu_json_string(root, "template.language.code"), "en_US");
	struct json_object *ps = tu_json_at(root, "template.components.0.parameters");
	assert_int_equal(json_object_array_length(ps), 4);
	for (int i = 0; i < 4; i++) {
		char path[64];
		snprintf(path, sizeof(path), "template.components.0.parameters.%d.text", i);
		assert_string_equal(tu_json_string(root, path), order_params[i]);
	}
	/* No ACK button: the registered templates have none. */
	assert_int_equal(json_object_array_length(tu_json_at(root, "template.components")), 1);
	json_object_put(root);
}

static void queued_again_as_a_template_it_goes_as_its_own_even_in_the_window(void **state)
{
	(void)state;
	struct sender_msg m = seller_msg();
	m.in_window = 1;
	m.as_template = 1; /* a 131047 refused its text */
	struct json_object *root = built(&m);
	assert_string_equal(tu_json_string(root, "template.name"), "order_placed");
	json_object_put(root);
}

static void inside_the_window_it_goes_as_text(void **state)
{
	(void)state;
	struct sender_msg m = seller_msg();
	m.in_window = 1;
	struct json_object *root = built(&m);
	assert_int_equal(m.as_template, 0);
	assert_string_equal(tu_json_string(root, "type"), "text");
	assert_string_equal(tu_json_string(root, "text.body"), m.content);
	json_object_put(root);
}

/* A carrier of several events (coalesced, a digest) has no template of its own: the generic. */
static void a_message_of_several_events_keeps_the_generic_template(void **state)
{
	(void)state;
	tu_config_set(&cfg.alert_template, "seller_alert");
	struct sender_msg m = seller_msg();
	m.content = "2 alerts:\n- New order #1001\n- New order #1002";
	m.template_name = NULL;
	m.template_params = NULL;
	m.n_template_params = 0;
	struct json_object *root = built(&m);
	assert_string_equal(tu_json_string(root, "template.name"), "seller_alert");
	assert_string_equal(tu_json_string(root, "template.components.0.parameters.0.text"),
	                    "warning");
	assert_string_equal(tu_json_string(root, "template.components.0.parameters.1.text"),
	                    "2 alerts: - New order #1001 - New order #1002");
	json_object_put(root);
	/* Without a generic template it is text: the provider's refusal decides. */
	tu_config_set(&cfg.alert_template, "");
	m.as_template = 0; /* build_one wrote what it sent */
	root = built(&m);
	assert_string_equal(tu_json_string(root, "type"), "text");
	json_object_put(root);
}

static void with_seller_templates_off_nothing_changes(void **state)
{
	(void)state;
	cfg.seller_templates_on = 0;
	struct sender_msg m = seller_msg();
	struct json_object *root = built(&m);
	assert_string_equal(tu_json_string(root, "type"), "text");
	json_object_put(root);
	tu_config_set(&cfg.alert_template, "seller_alert");
	m = seller_msg();
	root = built(&m);
	assert_string_equal(tu_json_string(root, "template.name"), "seller_alert");
	assert_string_equal(tu_json_string(root, "template.components.0.parameters.0.text"),
	                    "warning");
	json_object_put(root);
}

/* Twilio takes Content SIDs, not names: its generic Content template, priority and summary. */
static void twilio_keeps_its_content_template(void **state)
{
	(void)state;
	tu_config_set(&cfg.provider, "twilio");
	tu_config_set(&cfg.twilio_account_sid, "AC00000000000000000000000000000000");
	tu_config_set(&cfg.twilio_auth_token, "0123456789abcdef0123456789abcdef");
	tu_config_set(&cfg.twilio_whatsapp_number, "+15550001111");
	tu_config_set(&cfg.twilio_content_sid, "HX00000000000000000000000000000000");
	account_operator(&op_acct, &cfg, &provider_twilio);
	struct sender_msg m = seller_msg();
	struct http_call call;
	memset(&call, 0, sizeof(call));
	assert_int_equal(build_one(&m, &call), 0);
	assert_int_equal(m.as_template, 1);
	assert_contains(call.body, "ContentSid=HX00000000000000000000000000000000");
	assert_contains(call.body, "warning");
	assert_not_contains(call.body, "order_placed");
	http_call_release(&call);
	assert_int_equal(provider_template_choice(&provider_twilio, &cfg, "order_placed"),
	                 TEMPLATE_GENERIC);
	tu_config_set(&cfg.twilio_content_sid, "");
	assert_int_equal(provider_template_choice(&provider_twilio, &cfg, "order_placed"),
	                 TEMPLATE_NONE);
}

/* Meta without a template language cannot send one: the own template is not chosen. */
static void no_language_no_own_template(void **state)
{
	(void)state;
	assert_int_equal(provider_template_choice(&provider_meta, &cfg, "order_placed"),
	                 TEMPLATE_OWN);
	assert_int_equal(provider_template_choice(&provider_meta, &cfg, NULL), TEMPLATE_NONE);
	tu_config_set(&cfg.template_language, "");
	assert_int_equal(provider_template_choice(&provider_meta, &cfg, "order_placed"),
	                 TEMPLATE_NONE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(outside_the_window_a_seller_alert_goes_as_its_own_template),
	    T(queued_again_as_a_template_it_goes_as_its_own_even_in_the_window),
	    T(inside_the_window_it_goes_as_text),
	    T(a_message_of_several_events_keeps_the_generic_template),
	    T(with_seller_templates_off_nothing_changes),
	    T(twilio_keeps_its_content_template),
	    T(no_language_no_own_template),
	};
	return cmocka_run_group_tests_name("sender", tests, NULL, NULL);
}
