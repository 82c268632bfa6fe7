/*
 * Unit tests of common/delivery/coalesce.c's pure part: which claimed rows may carry the other
 * alerts waiting for their recipient (seller alerts going as text only). The merge itself runs
 * against PostgreSQL: tests/integration/test_coalesce.sh.
 */
#include "testutil.h"

#include "delivery/coalesce.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

/* Set a string setting of cfg (what config_release frees). */
static void set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

static struct coalesce_row seller_row(void)
{
	struct coalesce_row r = {.id = 10,
	                         .tenant_id = 7,
	                         .phone = "+2349020000001",
	                         .kind = "seller_alert",
	                         .channel = "whatsapp",
	                         .in_window = 1};
	return r;
}

static void a_seller_alert_in_the_window_may_carry(void **state)
{
	(void)state;
	struct account a;
	account_operator(&a, &cfg, &provider_meta);
	struct coalesce_row r = seller_row();
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
	r.kind = "seller_digest";
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
}

static void operator_messages_codes_and_replies_never_carry(void **state)
{
	(void)state;
	struct account a;
	account_operator(&a, &cfg, &provider_meta);
	const char *kinds[] = {"alert", "recovery", "login_code", "verify_code", "seller_reply"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct coalesce_row r = seller_row();
		r.kind = kinds[i];
		assert_int_equal(coalesce_may_carry(&a, &r), 0);
	}
	struct coalesce_row r = seller_row();
	r.tenant_id = 0;
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
}

static void other_channels_do_not_carry(void **state)
{
	(void)state;
	struct account a;
	account_operator(&a, &cfg, &provider_meta);
	struct coalesce_row r = seller_row();
	r.channel = "sms";
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
	r.channel = "email";
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
}

static void a_template_never_carries(void **state)
{
	(void)state;
	struct account a;
	set(&cfg.alert_template, "seller_alert");
	set(&cfg.template_language, "en_US");
	account_operator(&a, &cfg, &provider_meta);
	struct coalesce_row r = seller_row();
	r.as_template = 1;
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
	/* Outside the window with a template to send: it goes as a template, alone. */
	r.as_template = 0;
	r.in_window = 0;
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
	/* No template: the text is tried, and carries. */
	set(&cfg.alert_template, NULL);
	account_operator(&a, &cfg, &provider_meta);
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
}

/* A seller alert with its own template: outside the window it goes as that, alone (on). */
static void an_own_template_outside_the_window_does_not_carry(void **state)
{
	(void)state;
	struct account a;
	set(&cfg.template_language, "en_US");
	account_operator(&a, &cfg, &provider_meta);
	struct coalesce_row r = seller_row();
	r.in_window = 0;
	r.template_name = "order_placed";
	/* Off (the default): no template to send, the text is tried and carries, as before. */
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
	cfg.seller_templates_on = 1;
	assert_int_equal(coalesce_may_carry(&a, &r), 0);
	/* Inside the window it is text, and carries. */
	r.in_window = 1;
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
	/* Several events (no own template) outside the window: text when there is no generic. */
	r.in_window = 0;
	r.template_name = NULL;
	assert_int_equal(coalesce_may_carry(&a, &r), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_seller_alert_in_the_window_may_carry, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(operator_messages_codes_and_replies_never_carry, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(other_channels_do_not_carry, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_template_never_carries, setup, teardown),
	    cmocka_unit_test_setup_teardown(an_own_template_outside_the_window_does_not_carry,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests_name("coalesce", tests, NULL, NULL);
}
