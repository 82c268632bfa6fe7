/* Unit tests of common/monitor/command.c: the commands people send on WhatsApp. */
#include "testutil.h"

#include <limits.h>

#include "monitor/command.h"

#define DAY 86400LL

/* Parse text that must be understood as kind; returns the command. */
static struct command ok(const char *text, long long max, enum command_kind kind)
{
	struct command c;
	int r = command_parse(text, max, &c);
	if (r != 0 || c.kind != kind) {
		print_error("\"%s\": r=%d kind=%d (want %d) error=\"%s\"\n", text ? text : "(null)",
		            r, (int)c.kind, (int)kind, c.error);
		fail();
	}
	return c;
}

/* Parse text that must be refused with kind and an error containing word. */
static void bad(const char *text, long long max, enum command_kind kind, const char *word)
{
	struct command c;
	memset(&c, 0x5a, sizeof(c));
	int r = command_parse(text, max, &c);
	if (r != -1 || c.kind != kind) {
		print_error("\"%s\": r=%d kind=%d (want -1, %d)\n", text ? text : "(null)", r,
		            (int)c.kind, (int)kind);
		fail();
	}
	assert_non_null(memchr(c.error, '\0', sizeof(c.error)));
	assert_true(strlen(c.error) > 0);
	if (word)
		assert_contains(c.error, word);
}

static void test_status(void **state)
{
	(void)state;
	const char *texts[] = {"status",     "STATUS",     "Status",         "sTaTuS",
	                       "  status  ", "\tstatus\n", "\r\nstatus\r\n", "status\n\n"};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct command c = ok(texts[i], DAY, CMD_STATUS);
		assert_int_equal(c.error[0], '\0');
		assert_true(c.pause_s == 0 && c.alert_id == 0);
	}
}

static void test_resume_and_help(void **state)
{
	(void)state;
	ok("resume", DAY, CMD_RESUME);
	ok(" Resume\n", DAY, CMD_RESUME);
	ok("RESUME", DAY, CMD_RESUME);
	ok("help", DAY, CMD_HELP);
	ok("HELP ", DAY, CMD_HELP);
	ok("\tHelp", DAY, CMD_HELP);
	/* help with words after it is still help. */
	ok("help pause", DAY, CMD_HELP);
}

static void test_pause_default_is_one_hour(void **state)
{
	(void)state;
	const char *texts[] = {"pause", "PAUSE", " Pause ", "\npause\t\n"};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct command c = ok(texts[i], DAY, CMD_PAUSE);
		assert_true(c.pause_s == 3600);
	}
	/* A maximum under an hour caps the default. */
	struct command c = ok("pause", 1800, CMD_PAUSE);
	assert_true(c.pause_s == 1800);
	/* No maximum given: the default still applies. */
	c = ok("pause", 0, CMD_PAUSE);
	assert_true(c.pause_s == 3600);
}

static void test_pause_durations(void **state)
{
	(void)state;
	const struct {
		const char *text;
		long long seconds;
	} cases[] = {
	    {"pause 30m", 1800},    {"pause 2h", 7200},      {"pause 90s", 90},
	    {"pause 1d", 86400},    {"PAUSE 2H", 7200},      {"Pause 45M", 2700},
	    {"pause    10m", 600},  {"pause\t10m", 600},     {"  pause 1s  ", 1},
	    {"pause\n15m\n", 900},  {"pause 0090s", 90},     {"pause 24h", 86400},
	    {"pause 1440m", 86400}, {"pause 86400s", 86400},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct command c = ok(cases[i].text, DAY, CMD_PAUSE);
		if (c.pause_s != cases[i].seconds) {
			print_error("\"%s\": %lld s, want %lld\n", cases[i].text, c.pause_s,
			            cases[i].seconds);
			fail();
		}
	}
}

static void test_pause_bad_durations(void **state)
{
	(void)state;
	const char *texts[] = {
	    "pause 5x",      "pause x",
	    "pause 30",      "pause m",
	    "pause 1.5h",    "pause -5m",
	    "pause +5m",     "pause 5mm",
	    "pause 5 m",     "pause h2",
	    "pause 1e3s",    "pause 5m 10m",
	    "pause 0x10s",   "pause 99999999999999999999d",
	    "pause forever",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		bad(texts[i], DAY, CMD_PAUSE, "pause");
}

static void test_pause_zero_and_too_long(void **state)
{
	(void)state;
	bad("pause 0m", DAY, CMD_PAUSE, "at least");
	bad("pause 0s", DAY, CMD_PAUSE, "at least");
	bad("pause 00h", DAY, CMD_PAUSE, "at least");
	bad("pause 25h", DAY, CMD_PAUSE, "longest pause is 1d");
	bad("pause 2d", DAY, CMD_PAUSE, "longest pause is 1d");
	bad("pause 86401s", DAY, CMD_PAUSE, "longest");
	bad("pause 3h", 7200, CMD_PAUSE, "longest pause is 2h");
	bad("pause 91m", 5400, CMD_PAUSE, "longest pause is 90m");
	bad("pause 2m", 90, CMD_PAUSE, "longest pause is 90s");
	/* At the maximum exactly: fine. */
	struct command c = ok("pause 2h", 7200, CMD_PAUSE);
	assert_true(c.pause_s == 7200);
	/* No maximum given: bounded by COMMAND_PAUSE_LIMIT. */
	c = ok("pause 30d", 0, CMD_PAUSE);
	assert_true(c.pause_s == 30 * DAY);
	c = ok("pause 365d", -1, CMD_PAUSE);
	assert_true(c.pause_s == COMMAND_PAUSE_LIMIT);
	bad("pause 366d", 0, CMD_PAUSE, "longest pause is 365d");
	bad("pause 999999999d", 0, CMD_PAUSE, "longest");
	/* A maximum beyond the limit is the limit. */
	bad("pause 400d", 1000 * DAY, CMD_PAUSE, "longest pause is 365d");
}

static void test_ack(void **state)
{
	(void)state;
	struct command c = ok("ack", DAY, CMD_ACK);
	assert_true(c.alert_id == 0);
	c = ok("  ACK\n", DAY, CMD_ACK);
	assert_true(c.alert_id == 0);
	c = ok("ack 12", DAY, CMD_ACK);
	assert_true(c.alert_id == 12);
	c = ok("Ack #12", DAY, CMD_ACK);
	assert_true(c.alert_id == 12);
	c = ok("ACK    8812  ", DAY, CMD_ACK);
	assert_true(c.alert_id == 8812);
	c = ok("ack\t#7\n", DAY, CMD_ACK);
	assert_true(c.alert_id == 7);
	c = ok("ack 0012", DAY, CMD_ACK);
	assert_true(c.alert_id == 12);
	c = ok("ack 9223372036854775807", DAY, CMD_ACK);
	assert_true(c.alert_id == LLONG_MAX);
}

static void test_ack_bad_ids(void **state)
{
	(void)state;
	const char *texts[] = {
	    "ack abc",
	    "ack 0",
	    "ack #0",
	    "ack -3",
	    "ack +3",
	    "ack #",
	    "ack ##12",
	    "ack 1.5",
	    "ack 12a",
	    "ack a12",
	    "ack 0x1f",
	    "ack # 12",
	    "ack 1 2",
	    "ack 9223372036854775808",
	    "ack 99999999999999999999999",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		bad(texts[i], DAY, CMD_ACK, "ack");
}

static void test_status_and_resume_take_no_argument(void **state)
{
	(void)state;
	bad("status now", DAY, CMD_STATUS, "no argument");
	bad("resume 5m", DAY, CMD_RESUME, "no argument");
	bad("Resume  all ", DAY, CMD_RESUME, "no argument");
}

static void test_unknown_text(void **state)
{
	(void)state;
	const char *texts[] = {
	    "hello",   "statuss", "stat", "pauses 5m", "acknowledge",    "ack12",     "pause5m",
	    "#12",     "12",      "?",    "status.",   "/status",        "ok thanks", "\xc3\xa9tat",
	    "st atus", "",        "   ",  "\n\t\r",    "resume\xc2\xa0",
	};
	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		bad(texts[i], DAY, CMD_UNKNOWN, "unknown command");
	bad(NULL, DAY, CMD_UNKNOWN, "unknown command");
}

static void test_long_text_is_unknown(void **state)
{
	(void)state;
	char *s = xmalloc(100001);
	memset(s, 'a', 100000);
	s[100000] = '\0';
	bad(s, DAY, CMD_UNKNOWN, "unknown");
	memcpy(s, "ack ", 4);
	bad(s, DAY, CMD_ACK, "ack");
	memcpy(s, "pause ", 6);
	bad(s, DAY, CMD_PAUSE, "pause");
	free(s);
}

static void test_parse_payload(void **state)
{
	(void)state;
	struct command c;
	assert_int_equal(command_parse_payload("ACK:8812", &c), 0);
	assert_int_equal(c.kind, CMD_ACK);
	assert_true(c.alert_id == 8812);
	assert_int_equal(command_parse_payload("ack:#3", &c), 0);
	assert_true(c.alert_id == 3);
	assert_int_equal(command_parse_payload("ACK:", &c), -1);
	assert_int_equal(c.kind, CMD_ACK);
	assert_int_equal(command_parse_payload("ACK:alert-8812", &c), -1);
	assert_int_equal(c.kind, CMD_ACK);
	assert_int_equal(command_parse_payload("ACK:0", &c), -1);
	assert_int_equal(command_parse_payload("ACK: 12", &c), -1);
	const char *unknown[] = {"ack 12", "ACK", "AC", "", "silence:12", "ACKS:12"};
	for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
		assert_int_equal(command_parse_payload(unknown[i], &c), -1);
		assert_int_equal(c.kind, CMD_UNKNOWN);
		assert_true(strlen(c.error) > 0);
	}
	assert_int_equal(command_parse_payload(NULL, &c), -1);
	assert_int_equal(c.kind, CMD_UNKNOWN);
}

static void test_help_text_lists_every_command(void **state)
{
	(void)state;
	const char *h = command_help_text();
	assert_non_null(h);
	const char *words[] = {"status", "pause", "resume", "ack", "help", "30m", "1h"};
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		assert_contains(h, words[i]);
	/* One short message. */
	assert_true(strlen(h) < 400);
	assert_true(str_is_utf8(h, strlen(h)));
}

static void test_help_text_examples_parse(void **state)
{
	(void)state;
	/* The examples the help text gives must themselves be understood. */
	ok("pause 30m", DAY, CMD_PAUSE);
	ok("pause 2h", DAY, CMD_PAUSE);
	ok("pause 1d", DAY, CMD_PAUSE);
	ok("ack 12", DAY, CMD_ACK);
}

static void test_command_too_old(void **state)
{
	(void)state;
	const long long now = 1763900000;
	assert_false(command_too_old(now, now, 600));
	assert_false(command_too_old(now - 600, now, 600)); /* exactly the age: still obeyed */
	assert_true(command_too_old(now - 601, now, 600));
	assert_true(command_too_old(now - 3 * 86400, now, 600)); /* re-delivered days later */
	assert_false(command_too_old(now + 120, now, 600));      /* sender's clock ahead */
	assert_false(command_too_old(now - 3000, now, 3600));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_resume_and_help),
	    cmocka_unit_test(test_pause_default_is_one_hour),
	    cmocka_unit_test(test_pause_durations),
	    cmocka_unit_test(test_pause_bad_durations),
	    cmocka_unit_test(test_pause_zero_and_too_long),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_ack_bad_ids),
	    cmocka_unit_test(test_status_and_resume_take_no_argument),
	    cmocka_unit_test(test_unknown_text),
	    cmocka_unit_test(test_long_text_is_unknown),
	    cmocka_unit_test(test_parse_payload),
	    cmocka_unit_test(test_help_text_lists_every_command),
	    cmocka_unit_test(test_help_text_examples_parse),
	    cmocka_unit_test(test_command_too_old),
	};
	return cmocka_run_group_tests_name("command", tests, NULL, NULL);
}
