/*
 * Unit tests of common/delivery/submit.c: the batch owns copies of what a
 * producer gives it; with the state database down (no database given, or one
 * that cannot be reached) the whole batch is spooled and sent (the sandbox
 * provider), each message marked spooled; a batch submitted again while the
 * database stays down sends nothing new. No database server is needed.
 */
#include "testutil.h"

#include "core/log.h"
#include "db/db.h"
#include "delivery/spool.h"
#include "delivery/submit.h"

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	if (tu_enter_tmpdir("submit") < 0)
		return -1;
	config_init(&cfg);
	tu_config_set(&cfg.spool_dir, tu_tmpdir);
	tu_config_set(&cfg.provider, "sandbox");
	log_init("test_submit", LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *p = spool_path(&cfg);
	unlink(p);
	free(p);
	config_release(&cfg);
	return tu_leave_tmpdir();
}

static int each_setup(void **state)
{
	(void)state;
	char *p = spool_path(&cfg);
	unlink(p);
	free(p);
	return 0;
}

/* Two messages for two numbers, from buffers that are gone once added. */
static void two_messages(struct delivery_batch *b, const char *tag)
{
	const char *phones[2] = {"+15550000001", "+15550000002"};
	long long ids[2] = {7, 9};
	for (int i = 0; i < 2; i++) {
		char *key = xasprintf("unit:%s:%d", tag, i);
		char *content = xasprintf("message %d", i);
		struct outbox_msg m = {
		    .phone = phones[i],
		    .content = content,
		    .priority = "critical",
		    .kind = "test",
		    .key = key,
		    .alert_ids = ids,
		    .n_alert_ids = 2,
		    .emergency = 1,
		};
		delivery_batch_add(b, &m);
		memset(key, 'x', strlen(key)); /* the batch must not look at the producer's */
		memset(content, 'x', strlen(content));
		free(key);
		free(content);
	}
	ids[0] = ids[1] = 0;
}

static void test_batch_keeps_its_own_copies(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	for (int round = 0; round < 5; round++) /* grows past its first allocation */
		two_messages(&b, "copies");
	assert_int_equal(b.n, 10);
	assert_string_equal(b.v[9].msg.content, "message 1");
	assert_string_equal(b.v[9].msg.key, "unit:copies:1");
	assert_string_equal(b.v[0].msg.phone, "+15550000001");
	assert_int_equal(b.v[0].msg.n_alert_ids, 2);
	assert_int_equal(b.v[0].msg.alert_ids[1], 9);
	assert_int_equal(b.v[0].msg.emergency, 1);
	assert_int_equal(b.v[0].status, DELIVERY_PENDING);
	delivery_batch_release(&b);
	assert_null(b.v);
	assert_int_equal(b.n, 0);
}

static void assert_all(const struct delivery_batch *b, enum delivery_status st)
{
	for (size_t i = 0; i < b->n; i++)
		assert_int_equal(b->v[i].status, st);
}

static void test_without_a_database_the_batch_is_spooled_and_sent(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	two_messages(&b, "nodb");
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), 0);
	assert_int_equal(r.spooled, 1);
	assert_int_equal(r.spool_written, 1);
	assert_int_equal(r.sent_while_down, 2);
	assert_int_equal(r.queued + r.duplicate + r.suppressed, 0);
	assert_all(&b, DELIVERY_SPOOLED);
	assert_int_equal(spool_has_key(&cfg, "unit:nodb:0"), 1);
	assert_int_equal(spool_has_key(&cfg, "unit:nodb:1"), 1);
	/* The same batch again while the database stays down: nothing new goes. */
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), 0);
	assert_int_equal(r.spooled, 1);
	assert_int_equal(r.sent_while_down, 0);
	delivery_batch_release(&b);
}

static void test_an_unreachable_database_spools_the_batch(void **state)
{
	(void)state;
	struct db db;
	char *conninfo = xasprintf("host=%s/no-such-dir dbname=none connect_timeout=1", tu_tmpdir);
	db_init(&db, conninfo, POOLING_SESSION);
	free(conninfo);
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	two_messages(&b, "down");
	assert_int_equal(delivery_submit(&db, &cfg, &b, &r), 0);
	assert_int_equal(r.spooled, 1);
	assert_int_equal(r.sent_while_down, 2);
	assert_all(&b, DELIVERY_SPOOLED);
	assert_true(db.err[0] != '\0'); /* why, for the producer's answer */
	delivery_batch_release(&b);
	db_release(&db);
}

static void test_an_empty_batch_without_a_database_sends_nothing(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), 0);
	assert_int_equal(r.sent_while_down, 0);
	delivery_batch_release(&b);
}

/* One email message to address, channel email. */
static void one_email(struct delivery_batch *b, const char *key, const char *address)
{
	struct outbox_msg m = {
	    .phone = address,
	    .content = "disk full",
	    .priority = "critical",
	    .kind = "test",
	    .key = key,
	    .channel = "email",
	    .account_id = 2,
	};
	delivery_batch_add(b, &m);
}

static void test_an_email_address_with_cr_lf_refuses_the_batch(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	two_messages(&b, "inj");
	one_email(&b, "unit:inj:mail", "ops@example.com\r\nBcc: victim@evil.test");
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), -1);
	assert_all(&b, DELIVERY_PENDING);
	assert_int_equal(r.sent_while_down, 0);
	assert_int_equal(spool_has_key(&cfg, "unit:inj:0"), 0);
	assert_int_equal(spool_has_key(&cfg, "unit:inj:mail"), 0);
	delivery_batch_release(&b);
}

/* The spool's text, "" when there is none. Caller frees. */
static char *spool_text(void)
{
	char *p = spool_path(&cfg);
	FILE *f = fopen(p, "rb");
	free(p);
	char *data = xcalloc(1, 65536);
	if (f) {
		size_t n = fread(data, 1, 65535, f);
		data[n] = '\0';
		fclose(f);
	}
	return data;
}

/*
 * An email in a spooled batch is spooled with its channel and account; this process has no
 * SMTP_URL, so it is not sent (the WhatsApp ones are): a drainer that can sends it once replayed.
 */
static void test_the_spool_keeps_an_email_it_cannot_send(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	two_messages(&b, "mix");
	one_email(&b, "unit:mix:mail", "ops@example.com");
	assert_string_equal(b.v[2].msg.channel, "email"); /* the batch's own copy */
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), 0);
	assert_int_equal(r.sent_while_down, 2);
	assert_int_equal(b.v[0].status, DELIVERY_SPOOLED);
	assert_int_equal(b.v[2].status, DELIVERY_SPOOLED);
	assert_int_equal(spool_has_key(&cfg, "unit:mix:mail"), 1);
	char *text = spool_text();
	assert_contains(text, "\"key\":\"unit:mix:mail\",\"channel\":\"email\",\"phone\":"
	                      "\"ops@example.com\"");
	assert_contains(text, "\"account_id\":2");
	/* two results (the WhatsApp ones), none for the email */
	assert_null(strstr(text, "\"type\":\"result\",\"key\":\"unit:mix:mail\""));
	free(text);
	delivery_batch_release(&b);
}

/* One SMS to number, channel sms. */
static void one_sms(struct delivery_batch *b, const char *key, const char *number)
{
	struct outbox_msg m = {
	    .phone = number,
	    .content = "disk full",
	    .priority = "critical",
	    .kind = "test",
	    .key = key,
	    .channel = "sms",
	    .account_id = 3,
	};
	delivery_batch_add(b, &m);
}

static void test_an_sms_number_that_is_not_one_refuses_the_batch(void **state)
{
	(void)state;
	const char *bad[] = {"not-a-number", "+15552229999\nBody=x", "", "+1"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct delivery_batch b = DELIVERY_BATCH_INIT;
		struct delivery_result r;
		two_messages(&b, "smsinj");
		one_sms(&b, "unit:smsinj:sms", bad[i]);
		assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), -1);
		assert_all(&b, DELIVERY_PENDING);
		assert_int_equal(spool_has_key(&cfg, "unit:smsinj:0"), 0);
		delivery_batch_release(&b);
	}
}

static void test_the_spool_keeps_an_sms_it_cannot_send(void **state)
{
	(void)state;
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	two_messages(&b, "smsmix");
	one_sms(&b, "unit:smsmix:sms", "+15552229999");
	assert_int_equal(delivery_submit(NULL, &cfg, &b, &r), 0);
	assert_int_equal(r.sent_while_down, 2);
	assert_int_equal(b.v[2].status, DELIVERY_SPOOLED);
	assert_int_equal(spool_has_key(&cfg, "unit:smsmix:sms"), 1);
	char *text = spool_text();
	assert_contains(text, "\"channel\":\"sms\",\"phone\":\"+15552229999\"");
	assert_null(strstr(text, "\"type\":\"result\",\"key\":\"unit:smsmix:sms\""));
	free(text);
	delivery_batch_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_keeps_its_own_copies),
	    cmocka_unit_test_setup(test_without_a_database_the_batch_is_spooled_and_sent,
	                           each_setup),
	    cmocka_unit_test_setup(test_an_unreachable_database_spools_the_batch, each_setup),
	    cmocka_unit_test_setup(test_an_empty_batch_without_a_database_sends_nothing,
	                           each_setup),
	    cmocka_unit_test_setup(test_an_email_address_with_cr_lf_refuses_the_batch, each_setup),
	    cmocka_unit_test_setup(test_the_spool_keeps_an_email_it_cannot_send, each_setup),
	    cmocka_unit_test_setup(test_an_sms_number_that_is_not_one_refuses_the_batch,
	                           each_setup),
	    cmocka_unit_test_setup(test_the_spool_keeps_an_sms_it_cannot_send, each_setup),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
