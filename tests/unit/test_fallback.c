/*
 * Unit tests of common/jobs/fallback.c's pure part: which messages of a chain failed for good,
 * wait on a stopped account, or went without a receipt too long, and which are left alone.
 */
#include "testutil.h"

#include "jobs/fallback.h"

static void test_fallback_failed_for_good_whatever_the_clock(void **state)
{
	(void)state;
	/* 'failed' is what the drain and the webhook write for a permanent code, 131047/63016
	 * with no template to try, a failed receipt, a message too old to retry. */
	assert_int_equal(fallback_classify("failed", 0, 0, 1), FALLBACK_FAILED);
	assert_int_equal(fallback_classify("failed", 0, 1, 0), FALLBACK_FAILED);
	assert_int_equal(fallback_classify("failed", 1, 0, 1), FALLBACK_FAILED);
}

static void test_fallback_stopped_account_is_failure_at_once(void **state)
{
	(void)state;
	/* 190 or 131031: the row waits queued while the account is stopped. */
	assert_int_equal(fallback_classify("queued", 1, 0, 1), FALLBACK_STOPPED);
	assert_int_equal(fallback_classify("sending", 1, 0, 1), FALLBACK_STOPPED);
	/* Sent before the stop: its receipt may still come; only the timer applies. */
	assert_int_equal(fallback_classify("sent", 1, 0, 1), FALLBACK_NONE);
	assert_int_equal(fallback_classify("sent", 1, 1, 1), FALLBACK_LATE);
}

static void test_fallback_late_without_receipt(void **state)
{
	(void)state;
	assert_int_equal(fallback_classify("sent", 0, 1, 1), FALLBACK_LATE);
	/* Still retrying (5xx, 130429) past the deadline: as late as one never delivered. */
	assert_int_equal(fallback_classify("queued", 0, 1, 1), FALLBACK_LATE);
	assert_int_equal(fallback_classify("sending", 0, 1, 1), FALLBACK_LATE);
	/* In time: wait. */
	assert_int_equal(fallback_classify("sent", 0, 0, 1), FALLBACK_NONE);
	assert_int_equal(fallback_classify("queued", 0, 0, 1), FALLBACK_NONE);
}

static void test_fallback_never_after_delivered_or_read(void **state)
{
	(void)state;
	const char *done[] = {"delivered", "read", "suppressed"};
	for (size_t i = 0; i < 3; i++)
		for (int stopped = 0; stopped < 2; stopped++)
			for (int late = 0; late < 2; late++)
				assert_int_equal(fallback_classify(done[i], stopped, late, 1),
				                 FALLBACK_NONE);
	assert_int_equal(fallback_classify(NULL, 1, 1, 1), FALLBACK_NONE);
}

static void test_fallback_no_timer_where_no_receipt_comes(void **state)
{
	(void)state;
	/* The sandbox (and email) never send "delivered": silence is no failure. */
	assert_int_equal(fallback_classify("sent", 0, 1, 0), FALLBACK_NONE);
	/* But a failure or a stop still is. */
	assert_int_equal(fallback_classify("failed", 0, 1, 0), FALLBACK_FAILED);
	assert_int_equal(fallback_classify("queued", 1, 0, 0), FALLBACK_STOPPED);
}

static void test_fallback_reason_names_match_the_column(void **state)
{
	(void)state;
	assert_string_equal(fallback_reason_name(FALLBACK_FAILED), "failed");
	assert_string_equal(fallback_reason_name(FALLBACK_STOPPED), "stopped");
	assert_string_equal(fallback_reason_name(FALLBACK_LATE), "late");
	assert_string_equal(fallback_reason_name(FALLBACK_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fallback_failed_for_good_whatever_the_clock),
	    cmocka_unit_test(test_fallback_stopped_account_is_failure_at_once),
	    cmocka_unit_test(test_fallback_late_without_receipt),
	    cmocka_unit_test(test_fallback_never_after_delivered_or_read),
	    cmocka_unit_test(test_fallback_no_timer_where_no_receipt_comes),
	    cmocka_unit_test(test_fallback_reason_names_match_the_column),
	};
	return cmocka_run_group_tests_name("fallback", tests, NULL, NULL);
}
