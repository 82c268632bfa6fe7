/* Unit tests of common/core/chain.c: the fallback chain as FALLBACK_CHAIN_CRITICAL writes it. */
#include "testutil.h"

#include "core/chain.h"

static void test_chain_parse_reads_names_in_order(void **state)
{
	(void)state;
	struct chain c;
	const char *why = NULL;
	assert_int_equal(chain_parse("whatsapp,sms,email", &c, &why), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.step[0], "whatsapp");
	assert_string_equal(c.step[1], "sms");
	assert_string_equal(c.step[2], "email");
	assert_int_equal(chain_parse(" whatsapp , email ", &c, &why), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.step[1], "email");
	assert_int_equal(chain_parse("whatsapp", &c, &why), 0);
	assert_int_equal(c.n, 1);
}

static void test_chain_parse_refuses_what_is_not_a_chain(void **state)
{
	(void)state;
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "separated by commas"},
	    {"whatsapp,,email", "separated by commas"},
	    {"whatsapp,", "separated by commas"},
	    {"sms,whatsapp", "start with whatsapp"},
	    {"email", "start with whatsapp"},
	    {"whatsapp,fax", "only whatsapp, sms and email"},
	    {"whatsapp,SMS", "only whatsapp, sms and email"},
	    {"whatsapp,sms,sms", "twice"},
	    {"whatsapp,sms,email,sms", "at most 3"},
	    {"whatsapp,s ms", "only whatsapp"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct chain c;
		const char *why = NULL;
		if (chain_parse(bad[i].in, &c, &why) == 0) {
			print_error("accepted '%s'\n", bad[i].in);
			fail();
		}
		assert_non_null(why);
		assert_contains(why, bad[i].why);
		assert_int_equal(c.n, 0);
	}
	struct chain c;
	const char *why = NULL;
	char longer[200];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(chain_parse(longer, &c, &why), -1);
	assert_int_equal(chain_parse(NULL, &c, &why), -1);
}

static void test_chain_defaults_by_urgency(void **state)
{
	(void)state;
	struct chain c;
	char out[64];
	chain_urgent(&c);
	chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "whatsapp,sms,email");
	chain_normal(&c);
	chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "whatsapp,email");
	chain_whatsapp_only(&c);
	chain_format(&c, out, sizeof(out));
	assert_string_equal(out, "whatsapp");
}

static void test_chain_pg_rest_is_the_part_after_a_step(void **state)
{
	(void)state;
	struct chain c;
	chain_urgent(&c);
	char *s = chain_pg_rest(&c, 1);
	assert_string_equal(s, "{sms,email}");
	free(s);
	s = chain_pg_rest(&c, 2);
	assert_string_equal(s, "{email}");
	free(s);
	s = chain_pg_rest(&c, 3);
	assert_string_equal(s, "{}");
	free(s);
	s = chain_pg_rest(&c, 0);
	assert_string_equal(s, "{whatsapp,sms,email}");
	free(s);
}

static void test_chain_from_names_checks_like_parse(void **state)
{
	(void)state;
	struct chain c;
	const char *why;
	const char *ok[] = {"whatsapp", "email"};
	assert_int_equal(chain_from_names(ok, 2, &c, &why), 0);
	assert_int_equal(c.n, 2);
	const char *dup[] = {"whatsapp", "email", "email"};
	assert_int_equal(chain_from_names(dup, 3, &c, &why), -1);
	assert_int_equal(chain_from_names(ok, 0, &c, &why), -1);
	assert_true(chain_channel_known("sms"));
	assert_false(chain_channel_known("Sms"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_parse_reads_names_in_order),
	    cmocka_unit_test(test_chain_parse_refuses_what_is_not_a_chain),
	    cmocka_unit_test(test_chain_defaults_by_urgency),
	    cmocka_unit_test(test_chain_pg_rest_is_the_part_after_a_step),
	    cmocka_unit_test(test_chain_from_names_checks_like_parse),
	};
	return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
