/*
 * Unit tests of the pure steps of common/monitor/check.c, included so that its
 * static helpers are reachable (h2o's habit; libcommon.a's check.o is then
 * never pulled in: every symbol it defines is defined here first, so the
 * link has no duplicates). No database: a collection is built by hand.
 *
 * Covered: values as people read them; the line an alert's message gives a
 * finding (a number against its threshold, a state by its meaning); the key of
 * a set of findings sent while the state database is down (stable, changed by
 * a severity, blind to what is fine); which open alerts a check may resolve.
 */
#include "../../common/monitor/check.c"

#include "testutil.h"

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

static struct sample *add(struct collection *c, enum metric_id m, const char *target, double v,
                          enum verdict verdict, const char *detail)
{
	samples_add(&c->samples, m, target, v, detail);
	struct sample *s = &c->samples.v[c->samples.n - 1];
	s->verdict = verdict;
	return s;
}

static void test_values_read_as_people_write_them(void **state)
{
	(void)state;
	char b[48];
	check_format_value(b, sizeof(b), 3);
	assert_string_equal(b, "3");
	check_format_value(b, sizeof(b), 12.5);
	assert_string_equal(b, "12.50");
	check_format_value(b, sizeof(b), NAN);
	assert_string_equal(b, "n/a");
	check_format_value(b, sizeof(b), -0.25);
	assert_string_equal(b, "-0.25");
}

static void test_alert_text_states_value_and_threshold(void **state)
{
	(void)state;
	struct collection c;
	collection_init(&c);
	struct sample *s = add(&c, M_DEADLOCKS, "", 12, V_CRITICAL, "since the last check");
	double th = 0;
	char *t = alert_text(&cfg, s, &th);
	assert_double_near(th, cfg.thresholds.critical[M_DEADLOCKS], 1e-9);
	char *want = xasprintf("deadlocks: 12 count (threshold %.0f); since the last check", th);
	assert_string_equal(t, want);
	free(want);
	free(t);
	s = add(&c, M_SEQUENCE_USED_PCT, "public.orders_id_seq", 80, V_WARNING, NULL);
	t = alert_text(&cfg, s, &th);
	assert_double_near(th, cfg.thresholds.warning[M_SEQUENCE_USED_PCT], 1e-9);
	assert_non_null(strstr(t, "sequence_used_pct on public.orders_id_seq: 80 pct (threshold"));
	assert_null(strchr(t, ';')); /* no detail, no separator */
	free(t);
	collection_release(&c);
}

static void test_alert_text_of_a_state_says_what_it_means(void **state)
{
	(void)state;
	struct collection c;
	collection_init(&c);
	struct sample *s = add(&c, M_RESTARTED, "", 1, V_WARNING, NULL);
	double th;
	char *t = alert_text(&cfg, s, &th);
	char *want = xasprintf("restarted: %s", metric_defs[M_RESTARTED].help);
	assert_string_equal(t, want);
	free(want);
	free(t);
	collection_release(&c);
}

static void test_findings_hash_names_the_set_of_findings(void **state)
{
	(void)state;
	struct collection a, b;
	collection_init(&a);
	collection_init(&b);
	add(&a, M_DEADLOCKS, "", 12, V_CRITICAL, NULL);
	add(&a, M_SEQUENCE_USED_PCT, "s1", 80, V_WARNING, NULL);
	add(&b, M_DEADLOCKS, "", 30, V_CRITICAL, "another value, same finding");
	add(&b, M_SEQUENCE_USED_PCT, "s1", 85, V_WARNING, NULL);
	add(&b, M_CONNECTIONS_USED_PCT, "", 10, V_OK, NULL); /* fine: not a finding */
	assert_true(findings_hash(&a) == findings_hash(&b));
	b.samples.v[1].verdict = V_CRITICAL; /* a rise is news */
	assert_true(findings_hash(&a) != findings_hash(&b));
	struct collection none;
	collection_init(&none);
	add(&none, M_DEADLOCKS, "", 0, V_OK, NULL);
	assert_true(findings_hash(&none) == 1469598103934665603ULL); /* FNV offset: nothing */
	collection_release(&a);
	collection_release(&b);
	collection_release(&none);
}

static void test_a_check_resolves_only_what_it_judged(void **state)
{
	(void)state;
	struct collection c;
	collection_init(&c);
	add(&c, M_DEADLOCKS, "", 0, V_OK, NULL);
	c.evaluated[M_DEADLOCKS] = 1;
	assert_true(judged(&c, "deadlocks", ""));
	assert_false(judged(&c, "no_such_metric", ""));
	assert_false(judged(&c, "whatsapp_delivery", ""));         /* not the check's */
	assert_false(judged(&c, "dead_tuples_ratio", "public.t")); /* not read this time */
	/* Every sequence read: one with no sample is fine now. */
	add(&c, M_SEQUENCE_USED_PCT, "s1", 10, V_OK, NULL);
	c.evaluated[M_SEQUENCE_USED_PCT] = 1;
	assert_true(judged(&c, "sequence_used_pct", "s2"));
	/* Some unreadable: one with no sample of its own may be among them. */
	samples_unavailable(&c.samples, M_SEQUENCE_USED_PCT, "s3", "permission denied");
	assert_false(judged(&c, "sequence_used_pct", "s2"));
	assert_true(judged(&c, "sequence_used_pct", "s1"));
	collection_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_read_as_people_write_them),
	    cmocka_unit_test(test_alert_text_states_value_and_threshold),
	    cmocka_unit_test(test_alert_text_of_a_state_says_what_it_means),
	    cmocka_unit_test(test_findings_hash_names_the_set_of_findings),
	    cmocka_unit_test(test_a_check_resolves_only_what_it_judged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
