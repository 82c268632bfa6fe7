/* Unit tests of common/tenants/sellercmd.c: parsing what a seller answers on WhatsApp. */
#include "testutil.h"

#include "tenants/prefs.h"
#include "tenants/sellercmd.h"

/* Parse text that must be understood as kind; returns the command. */
static struct seller_command ok(const char *text, enum seller_cmd_kind kind)
{
	struct seller_command c;
	int r = seller_command_parse(text, &c);
	if (r != 0 || c.kind != kind) {
		print_error("\"%s\": r=%d kind=%d (want %d) error=\"%s\"\n", text ? text : "(null)",
		            r, (int)c.kind, (int)kind, c.error);
		fail();
	}
	return c;
}

/* Parse text that must be refused with kind and an error containing word. */
static void bad(const char *text, enum seller_cmd_kind kind, const char *word)
{
	struct seller_command c;
	int r = seller_command_parse(text, &c);
	if (r != -1 || c.kind != kind) {
		print_error("\"%s\": r=%d kind=%d (want -1, %d)\n", text ? text : "(null)", r,
		            (int)c.kind, (int)kind);
		fail();
	}
	assert_true(strlen(c.error) > 0);
	if (word)
		assert_contains(c.error, word);
}

static void test_simple_words_any_case(void **state)
{
	(void)state;
	ok("help", SCMD_HELP);
	ok("  STATUS \n", SCMD_STATUS);
	ok("Stop", SCMD_STOP);
	ok("start", SCMD_START);
	bad("stop now", SCMD_STOP, "takes nothing");
	bad("status please", SCMD_STATUS, "help");
}

static void test_mute_type_and_durations(void **state)
{
	(void)state;
	struct seller_command c = ok("mute order.placed 2h", SCMD_MUTE);
	assert_string_equal(c.type->name, "order.placed");
	assert_int_equal(c.secs, 7200);
	assert_false(c.all);
	c = ok("MUTE Order.Placed", SCMD_MUTE);
	assert_int_equal(c.secs, SELLER_MUTE_DEFAULT);
	c = ok("mute all 30m", SCMD_MUTE);
	assert_true(c.all);
	assert_null(c.type);
	assert_int_equal(c.secs, 1800);
	c = ok("mute cart.abandoned 1d", SCMD_MUTE);
	assert_int_equal(c.secs, 86400);
	c = ok("mute all 30d", SCMD_MUTE);
	assert_int_equal(c.secs, 30 * 86400LL);
}

static void test_mute_bad_input_is_helpful(void **state)
{
	(void)state;
	bad("mute order.shipped", SCMD_MUTE, "no alert type");
	bad("mute order.placed 5x", SCMD_MUTE, "30m, 2h or 1d");
	bad("mute order.placed 0m", SCMD_MUTE, "30m, 2h or 1d");
	bad("mute order.placed 30s", SCMD_MUTE, "30m, 2h or 1d");
	bad("mute order.placed 31d", SCMD_MUTE, "at most 30d");
	bad("mute order.placed -2h", SCMD_MUTE, "30m, 2h or 1d");
	bad("mute order.placed 2h now", SCMD_MUTE, "Too many words");
	bad("mute all 99999999999999999999d", SCMD_MUTE, NULL);
}

static void test_locked_types_cannot_be_muted(void **state)
{
	(void)state;
	bad("mute security.login", SCMD_MUTE, "cannot be muted");
	bad("mute security.password_changed 1d", SCMD_MUTE, "cannot be muted");
	bad("mute payment.failed", SCMD_MUTE, "cannot be muted");
	/* Unmuting one is harmless (nothing to end). */
	ok("unmute security.login", SCMD_UNMUTE);
}

static void test_bare_mute_is_the_replied_alert(void **state)
{
	(void)state;
	struct seller_command c = ok("mute", SCMD_MUTE);
	assert_true(c.bare);
	assert_false(c.all);
	assert_int_equal(c.secs, SELLER_MUTE_DEFAULT);
}

static void test_unmute(void **state)
{
	(void)state;
	struct seller_command c = ok("unmute", SCMD_UNMUTE);
	assert_true(c.all);
	c = ok("unmute all", SCMD_UNMUTE);
	assert_true(c.all);
	c = ok("unmute inventory.low", SCMD_UNMUTE);
	assert_string_equal(c.type->name, "inventory.low");
	bad("unmute inventory.low 2h", SCMD_UNMUTE, "nothing more");
	bad("unmute nothing.here", SCMD_UNMUTE, "no alert type");
}

static void test_unknown_text(void **state)
{
	(void)state;
	bad(NULL, SCMD_UNKNOWN, "help");
	bad("", SCMD_UNKNOWN, "help");
	bad("   ", SCMD_UNKNOWN, "help");
	bad("pause 2h", SCMD_UNKNOWN, "help");
	bad("hello there", SCMD_UNKNOWN, "help");
	char big[300];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big, SCMD_UNKNOWN, "help");
}

static void test_help_fits_a_phone_and_lists_every_command(void **state)
{
	(void)state;
	const char *h = seller_command_help();
	assert_true(strlen(h) < 400);
	assert_contains(h, "status");
	assert_contains(h, "mute <type|all>");
	assert_contains(h, "unmute");
	assert_contains(h, "stop");
	assert_contains(h, "start");
	ok("mute order.placed 2h", SCMD_MUTE); /* the example in the help parses */
}

/* A tapped "Mute this type" (its id "MUTE:<type>") is "mute <type>"; anything else is no command.
 */
static void a_mute_button_is_the_mute_command(void **state)
{
	(void)state;
	char *c = seller_button_command("MUTE:order.placed");
	assert_string_equal(c, "mute order.placed");
	free(c);
	assert_null(seller_button_command("MUTE:order.shipped"));
	assert_null(seller_button_command("MUTE:"));
	assert_null(seller_button_command("ACK:12"));
	assert_null(seller_button_command("mute:order.placed"));
	assert_null(seller_button_command(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_words_any_case),
	    cmocka_unit_test(a_mute_button_is_the_mute_command),
	    cmocka_unit_test(test_mute_type_and_durations),
	    cmocka_unit_test(test_mute_bad_input_is_helpful),
	    cmocka_unit_test(test_locked_types_cannot_be_muted),
	    cmocka_unit_test(test_bare_mute_is_the_replied_alert),
	    cmocka_unit_test(test_unmute),
	    cmocka_unit_test(test_unknown_text),
	    cmocka_unit_test(test_help_fits_a_phone_and_lists_every_command),
	};
	return cmocka_run_group_tests_name("sellercmd", tests, NULL, NULL);
}
