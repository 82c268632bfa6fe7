/*
 * Unit tests of common/monitor/notify.c's grouping (notify_batch): one message
 * per (recipient, time) listing every notice it gets, its wording, key, alert
 * ids and priority. No database: the notices are given.
 */
#include "testutil.h"

#include "delivery/submit.h"
#include "monitor/notify.h"

#define A "+15550000001"
#define B "+15550000002"

static struct notice *notice(struct notices *ns, long long id, const char *sev,
                             enum notice_kind kind, const char *line, time_t nb)
{
	struct notice *n = notices_add(ns, id, sev, kind, xstrdup(line));
	n->not_before = nb;
	return n;
}

static const struct delivery_item *for_phone(const struct delivery_batch *b, const char *phone,
                                             size_t nth)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].msg.phone, phone) == 0 && nth-- == 0)
			return &b->v[i];
	return NULL;
}

static void test_one_message_per_recipient_lists_all_its_news(void **state)
{
	(void)state;
	time_t now = 1700000000;
	struct notices ns = {0};
	struct notice *n = notice(&ns, 12, "critical", NOTICE_ALERT, "CRITICAL deadlocks", now);
	phone_list_add(&n->to, A);
	phone_list_add(&n->to, B);
	n = notice(&ns, 14, "warning", NOTICE_ALERT, "WARNING dead_tuples", now);
	phone_list_add(&n->to, A);
	n = notice(&ns, 9, "warning", NOTICE_RECOVERY, "RESOLVED restarted after 5m", now);
	phone_list_add(&n->to, A);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	notify_batch("Monitoring shop", "check:42", 42, 0, &ns, now, &b);
	assert_int_equal(b.n, 2);
	const struct delivery_item *a = for_phone(&b, A, 0), *bb = for_phone(&b, B, 0);
	assert_non_null(a);
	assert_non_null(bb);
	assert_string_equal(a->msg.content, "Monitoring shop: 1 critical, 1 warning, 1 resolved\n"
	                                    "CRITICAL deadlocks [#12]\n"
	                                    "WARNING dead_tuples [#14]\n"
	                                    "RESOLVED restarted after 5m [#9]\n"
	                                    "Reply \"ack\" to acknowledge them all.");
	assert_string_equal(a->msg.key, "check:42:" A);
	assert_string_equal(a->msg.priority, "critical");
	assert_string_equal(a->msg.kind, "alert");
	assert_int_equal(a->msg.n_alert_ids, 3);
	assert_int_equal(a->msg.check_run_id, 42);
	assert_int_equal(a->msg.suppressible, 1);
	assert_int_equal(a->msg.not_before, 0);
	assert_string_equal(bb->msg.content, "Monitoring shop: 1 critical\n"
	                                     "CRITICAL deadlocks [#12]\n"
	                                     "Reply \"ack 12\" to acknowledge.");
	delivery_batch_release(&b);
	notices_release(&ns);
}

static void test_held_news_goes_in_a_message_of_its_own(void **state)
{
	(void)state;
	time_t now = 1700000000, later = now + 3600;
	struct notices ns = {0};
	phone_list_add(&notice(&ns, 1, "critical", NOTICE_ALERT, "now", now)->to, A);
	phone_list_add(&notice(&ns, 2, "warning", NOTICE_ALERT, "later", later)->to, A);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	notify_batch("M", NULL, 0, 1, &ns, now, &b);
	assert_int_equal(b.n, 2);
	const struct delivery_item *first = for_phone(&b, A, 0), *second = for_phone(&b, A, 1);
	assert_string_equal(first->msg.key, "alert:1:0:" A); /* no prefix: by the first notice */
	assert_int_equal(first->msg.not_before, 0);
	assert_int_equal(first->msg.emergency, 1);
	assert_int_equal(first->msg.suppressible, 0); /* an emergency goes through a pause */
	assert_string_equal(second->msg.key, "alert:2:0:" A ":held");
	assert_int_equal(second->msg.not_before, later);
	assert_non_null(strstr(first->msg.content, "EMERGENCY CHECK. M: 1 critical\n"));
	delivery_batch_release(&b);
	notices_release(&ns);
}

static void test_news_without_an_alert_names_no_alert(void **state)
{
	(void)state;
	time_t now = 1700000000;
	struct notices ns = {0};
	phone_list_add(&notice(&ns, 0, "critical", NOTICE_ALERT, "CRITICAL x", now)->to, A);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	notify_batch("M (state database down)", "nodb:00ff", 0, 0, &ns, now, &b);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.v[0].msg.n_alert_ids, 0);
	assert_null(b.v[0].msg.alert_ids);
	assert_string_equal(b.v[0].msg.content, "M (state database down): 1 critical\n"
	                                        "CRITICAL x\n");
	delivery_batch_release(&b);
	notices_release(&ns);
}

static void test_a_recovery_alone_is_information(void **state)
{
	(void)state;
	time_t now = 1700000000;
	struct notices ns = {0};
	phone_list_add(&notice(&ns, 5, "critical", NOTICE_RECOVERY, "RESOLVED y", now)->to, B);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	notify_batch("M", "check:1", 1, 0, &ns, now, &b);
	assert_int_equal(b.n, 1);
	assert_string_equal(b.v[0].msg.priority, "info");
	assert_string_equal(b.v[0].msg.kind, "recovery");
	assert_string_equal(b.v[0].msg.content, "M: 1 resolved\nRESOLVED y [#5]\n");
	delivery_batch_release(&b);
	notices_release(&ns);
}

static void test_durations_as_people_read_them(void **state)
{
	(void)state;
	char b[32];
	notify_format_duration(b, sizeof(b), -5);
	assert_string_equal(b, "0s");
	notify_format_duration(b, sizeof(b), 45);
	assert_string_equal(b, "45s");
	notify_format_duration(b, sizeof(b), 125);
	assert_string_equal(b, "2m");
	notify_format_duration(b, sizeof(b), 7500);
	assert_string_equal(b, "2h 5m");
	notify_format_duration(b, sizeof(b), 90000);
	assert_string_equal(b, "1d 1h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_message_per_recipient_lists_all_its_news),
	    cmocka_unit_test(test_held_news_goes_in_a_message_of_its_own),
	    cmocka_unit_test(test_news_without_an_alert_names_no_alert),
	    cmocka_unit_test(test_a_recovery_alone_is_information),
	    cmocka_unit_test(test_durations_as_people_read_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
