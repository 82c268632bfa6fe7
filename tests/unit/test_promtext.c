/* Unit tests of common/core/promtext.c (the exposition writer) and of the catalogue's family
 * names in common/monitor/exposition.c. */
#include "testutil.h"

#include "core/metrics.h"
#include "core/promtext.h"
#include "monitor/exposition.h"

/* ---------------------------------------------------------------- escaping */

static void test_label_value_escapes_backslash_quote_and_newline(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_int_equal(promtext_label_escape(&b, "a\\b\"c\nd"), 0);
	assert_string_equal(buf_str(&b), "a\\\\b\\\"c\\nd");
	buf_release(&b);
}

static void test_help_escapes_backslash_and_newline_but_not_quote(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_int_equal(promtext_help_escape(&b, "say \"hi\"\\\nbye"), 0);
	assert_string_equal(buf_str(&b), "say \"hi\"\\\\\\nbye");
	buf_release(&b);
}

static void test_plain_text_is_unchanged_and_utf8_passes_through(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_int_equal(promtext_label_escape(&b, "S\xc3\xa3o Paulo"), 0);
	assert_string_equal(buf_str(&b), "S\xc3\xa3o Paulo");
	buf_release(&b);
}

/* ---------------------------------------------------------------- values */

static const char *value(struct buf *b, double v)
{
	buf_reset(b);
	assert_int_equal(promtext_value(b, v), 0);
	return buf_str(b);
}

static void test_values_integers_without_fraction(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_string_equal(value(&b, 0), "0");
	assert_string_equal(value(&b, 42), "42");
	assert_string_equal(value(&b, -3), "-3");
	assert_string_equal(value(&b, 1764729600), "1764729600");
	buf_release(&b);
}

static void test_values_fractions_round_trip(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_float_equal(strtod(value(&b, 0.1), NULL), 0.1, 0);
	assert_float_equal(strtod(value(&b, 1764729600.123), NULL), 1764729600.123, 0);
	assert_float_equal(strtod(value(&b, 1e300), NULL), 1e300, 0);
	buf_release(&b);
}

static void test_values_nan_and_infinities_in_the_formats_spelling(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_string_equal(value(&b, NAN), "NaN");
	assert_string_equal(value(&b, INFINITY), "+Inf");
	assert_string_equal(value(&b, -INFINITY), "-Inf");
	buf_release(&b);
}

/* ---------------------------------------------------------------- lines */

static void test_family_writes_help_and_type(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_int_equal(promtext_family(&b, "x_total", PROMTEXT_COUNTER, "Things\ncounted"), 0);
	assert_int_equal(promtext_family(&b, "y", PROMTEXT_GAUGE, "Level"), 0);
	assert_string_equal(buf_str(&b), "# HELP x_total Things\\ncounted\n# TYPE x_total counter\n"
	                                 "# HELP y Level\n# TYPE y gauge\n");
	buf_release(&b);
}

static void test_sample_without_labels(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	assert_int_equal(promtext_sample(&b, "up", NULL, 1), 0);
	struct promtext_label none[] = {{NULL, NULL}};
	assert_int_equal(promtext_sample(&b, "up", none, 0), 0);
	assert_string_equal(buf_str(&b), "up 1\nup 0\n");
	buf_release(&b);
}

static void test_sample_with_labels_in_order_and_escaped(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1024);
	struct promtext_label l[] = {{"channel", "whatsapp"}, {"target", "a\"b"}, {NULL, NULL}};
	assert_int_equal(promtext_sample(&b, "m_total", l, 2.5), 0);
	assert_string_equal(buf_str(&b), "m_total{channel=\"whatsapp\",target=\"a\\\"b\"} 2.5\n");
	buf_release(&b);
}

static void test_sample_past_the_limit_leaves_nothing_half_written(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(40);
	assert_int_equal(promtext_sample(&b, "up", NULL, 1), 0);
	struct promtext_label l[] = {{"target", "a very long label value indeed"}, {NULL, NULL}};
	assert_int_equal(promtext_sample(&b, "m", l, 1), -1);
	assert_string_equal(buf_str(&b), "up 1\n");
	assert_int_equal(promtext_family(&b, "a_rather_long_family_name", PROMTEXT_GAUGE, "h"), -1);
	assert_string_equal(buf_str(&b), "up 1\n");
	buf_release(&b);
}

static void test_name_ok(void **state)
{
	(void)state;
	assert_true(promtext_name_ok("whatsapp_monitor_messages_total"));
	assert_true(promtext_name_ok("_x:y9"));
	assert_false(promtext_name_ok(""));
	assert_false(promtext_name_ok("9x"));
	assert_false(promtext_name_ok("a-b"));
	assert_false(promtext_name_ok("a b"));
}

/* ---------------------------------------------------------------- the catalogue's families */

static void test_every_catalogue_family_is_a_valid_name_with_the_prefix(void **state)
{
	(void)state;
	for (int m = 0; m < M_COUNT; m++) {
		char name[EXPOSITION_NAME_MAX];
		double scale;
		assert_int_equal(exposition_check_family(m, name, &scale), 0);
		assert_true(promtext_name_ok(name));
		assert_int_equal(strncmp(name, "whatsapp_monitor_", 17), 0);
		/* Prometheus' linter: no abbreviated or non-base units. */
		assert_null(strstr(name, "_ms"));
		assert_null(strstr(name, "_days"));
	}
	char name[EXPOSITION_NAME_MAX];
	double scale;
	assert_int_equal(exposition_check_family(M_COUNT, name, &scale), -1);
}

static void test_ms_and_days_become_seconds(void **state)
{
	(void)state;
	char name[EXPOSITION_NAME_MAX];
	double scale;
	exposition_check_family(M_SLOWEST_QUERY_MEAN_MS, name, &scale);
	assert_string_equal(name, "whatsapp_monitor_slowest_query_mean_seconds");
	assert_float_equal(scale, 0.001, 0);
	exposition_check_family(M_DATABASE_DAYS_UNTIL_FULL, name, &scale);
	assert_string_equal(name, "whatsapp_monitor_database_seconds_until_full");
	assert_float_equal(scale, 86400, 0);
	exposition_check_family(M_CONNECTIONS_USED_PCT, name, &scale);
	assert_string_equal(name, "whatsapp_monitor_connections_used_pct");
	assert_float_equal(scale, 1, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_value_escapes_backslash_quote_and_newline),
	    cmocka_unit_test(test_help_escapes_backslash_and_newline_but_not_quote),
	    cmocka_unit_test(test_plain_text_is_unchanged_and_utf8_passes_through),
	    cmocka_unit_test(test_values_integers_without_fraction),
	    cmocka_unit_test(test_values_fractions_round_trip),
	    cmocka_unit_test(test_values_nan_and_infinities_in_the_formats_spelling),
	    cmocka_unit_test(test_family_writes_help_and_type),
	    cmocka_unit_test(test_sample_without_labels),
	    cmocka_unit_test(test_sample_with_labels_in_order_and_escaped),
	    cmocka_unit_test(test_sample_past_the_limit_leaves_nothing_half_written),
	    cmocka_unit_test(test_name_ok),
	    cmocka_unit_test(test_every_catalogue_family_is_a_valid_name_with_the_prefix),
	    cmocka_unit_test(test_ms_and_days_become_seconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
