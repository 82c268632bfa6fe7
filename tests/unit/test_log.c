/* Unit tests of common/core/log.c: JSON string escaping, levels and the log line. */
#include "testutil.h"

#include <fcntl.h>
#include <json-c/json.h>

#include "core/buf.h"
#include "core/log.h"

/* json_escape_into s into a fresh buffer; returns the text (caller frees). */
static char *escape(const char *s)
{
	struct buf b = BUF_INIT(4096);
	assert_int_equal(json_escape_into(&b, s), 0);
	return buf_detach(&b);
}

static void assert_escapes(const char *in, const char *want)
{
	char *out = escape(in);
	assert_string_equal(out, want);
	free(out);
}

/* ---------------------------------------------------------------- json_escape_into */

static void test_json_escape_quotes_plain_text(void **state)
{
	(void)state;
	assert_escapes("hello", "\"hello\"");
	assert_escapes("", "\"\"");
}

static void test_json_escape_escapes_quotes(void **state)
{
	(void)state;
	assert_escapes("say \"hi\"", "\"say \\\"hi\\\"\"");
}

static void test_json_escape_escapes_backslashes(void **state)
{
	(void)state;
	assert_escapes("C:\\path\\", "\"C:\\\\path\\\\\"");
	assert_escapes("\\\"", "\"\\\\\\\"\"");
}

static void test_json_escape_escapes_newline_return_and_tab(void **state)
{
	(void)state;
	assert_escapes("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
}

static void test_json_escape_escapes_other_control_chars_as_unicode(void **state)
{
	(void)state;
	assert_escapes("\x01", "\"\\u0001\"");
	assert_escapes("\x08\x0c", "\"\\u0008\\u000c\"");
	assert_escapes("\x1b[31m", "\"\\u001b[31m\"");
	assert_escapes("\x1f", "\"\\u001f\"");
	assert_escapes("\x7f", "\"\\u007f\"");
}

static void test_json_escape_passes_utf8_and_slash_through(void **state)
{
	(void)state;
	assert_escapes("caf\xc3\xa9 \xe2\x82\xac /", "\"caf\xc3\xa9 \xe2\x82\xac /\"");
}

static void test_json_escape_appends_to_existing_content(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(64);
	assert_int_equal(buf_puts(&b, "{\"k\":"), 0);
	assert_int_equal(json_escape_into(&b, "v"), 0);
	assert_string_equal(buf_str(&b), "{\"k\":\"v\"");
	buf_release(&b);
}

static void test_json_escape_fails_when_buffer_limit_is_reached(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(8);
	assert_int_equal(json_escape_into(&b, "this is far too long"), -1);
	assert_true(b.len <= 8);
	buf_release(&b);
}

static void test_json_escape_output_is_valid_utf8_for_invalid_input(void **state)
{
	(void)state;
	/* Log lines carry untrusted text (config values, libpq errors); JSON must be UTF-8. */
	const char *in[] = {"bad \xff byte", "latin-1 caf\xe9", "cut \xe2\x82", "\xed\xa0\x80"};
	for (size_t i = 0; i < ARRAY_LEN(in); i++) {
		char *out = escape(in[i]);
		int ok = str_is_utf8(out, strlen(out));
		if (!ok)
			print_error("escape of input %zu is not valid UTF-8: %s\n", i, out);
		free(out);
		assert_true(ok);
	}
}

static void test_json_escape_round_trips_every_ascii_byte(void **state)
{
	(void)state;
	char in[128];
	for (int i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	in[127] = '\0';
	char *out = escape(in);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_string));
	assert_int_equal(json_object_get_string_len(o), 127);
	assert_memory_equal(json_object_get_string(o), in, 127);
	/* No raw control characters survive in the output. */
	for (const char *p = out; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	json_object_put(o);
	free(out);
}

/* ---------------------------------------------------------------- levels */

static void test_log_parse_level_accepts_names_in_any_case(void **state)
{
	(void)state;
	enum log_level l;
	assert_int_equal(log_parse_level("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_parse_level("INFO", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_parse_level("Warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("error", &l), 0);
	assert_int_equal(l, LOG_ERROR);
}

static void test_log_parse_level_rejects_other_words(void **state)
{
	(void)state;
	enum log_level l = LOG_INFO;
	assert_int_equal(log_parse_level("warning", &l), -1);
	assert_int_equal(log_parse_level("", &l), -1);
	assert_int_equal(log_parse_level("fatal", &l), -1);
	assert_int_equal(log_parse_level("info ", &l), -1);
	assert_int_equal(l, LOG_INFO);
}

/* ---------------------------------------------------------------- the log line */

/* Run fn with stderr redirected to a temporary file; returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
	char *path = tu_write_temp_file("");
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	int fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_true(dup2(fd, 2) >= 0);
	close(fd);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	struct buf b = BUF_INIT(1 << 20);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(buf_append(&b, tmp, n), 0);
	fclose(f);
	tu_remove_temp_file(path);
	return buf_detach(&b);
}

static void log_some_lines(void)
{
	log_init("unit", LOG_INFO);
	log_debug("hidden_event", "below the level");
	log_warnx("disk_\"full\"", "line1\nline2 %d \"quoted\"", 42);
}

static void test_log_writes_one_json_object_per_line_above_level(void **state)
{
	(void)state;
	char *out = capture_stderr(log_some_lines);
	assert_not_contains(out, "hidden_event");
	size_t len = strlen(out);
	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1)); /* exactly one line */
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	struct json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, "level", &v));
	assert_string_equal(json_object_get_string(v), "warn");
	assert_true(json_object_object_get_ex(o, "prog", &v));
	assert_string_equal(json_object_get_string(v), "unit");
	assert_true(json_object_object_get_ex(o, "event", &v));
	assert_string_equal(json_object_get_string(v), "disk_\"full\"");
	assert_true(json_object_object_get_ex(o, "msg", &v));
	assert_string_equal(json_object_get_string(v), "line1\nline2 42 \"quoted\"");
	assert_true(json_object_object_get_ex(o, "ts", &v));
	const char *ts = json_object_get_string(v);
	assert_int_equal(strlen(ts), strlen("2026-11-23T10:00:00.123Z"));
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[23], 'Z');
	json_object_put(o);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_escape_quotes_plain_text),
	    cmocka_unit_test(test_json_escape_escapes_quotes),
	    cmocka_unit_test(test_json_escape_escapes_backslashes),
	    cmocka_unit_test(test_json_escape_escapes_newline_return_and_tab),
	    cmocka_unit_test(test_json_escape_escapes_other_control_chars_as_unicode),
	    cmocka_unit_test(test_json_escape_passes_utf8_and_slash_through),
	    cmocka_unit_test(test_json_escape_appends_to_existing_content),
	    cmocka_unit_test(test_json_escape_fails_when_buffer_limit_is_reached),
	    cmocka_unit_test(test_json_escape_output_is_valid_utf8_for_invalid_input),
	    cmocka_unit_test(test_json_escape_round_trips_every_ascii_byte),
	    cmocka_unit_test(test_log_parse_level_accepts_names_in_any_case),
	    cmocka_unit_test(test_log_parse_level_rejects_other_words),
	    cmocka_unit_test(test_log_writes_one_json_object_per_line_above_level),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
