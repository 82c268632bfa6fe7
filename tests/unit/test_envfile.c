/*
 * Unit tests of common/core/envfile.c: the env file syntax (envfile_parse) and reading the
 * file (envfile_read: its mode, its size limit, NUL bytes, a missing file).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "core/envfile.h"

/* ---------------------------------------------------------------- envfile_parse */

struct pairs {
	int n;
	char key[16][64];
	char val[16][256];
};

static int collect(const char *key, const char *value, void *arg)
{
	struct pairs *p = arg;
	if (p->n >= 16)
		return -1;
	snprintf(p->key[p->n], sizeof(p->key[0]), "%s", key);
	snprintf(p->val[p->n], sizeof(p->val[0]), "%s", value);
	p->n++;
	return 0;
}

static int parse(const char *text, struct pairs *p, char **err)
{
	memset(p, 0, sizeof(*p));
	*err = NULL;
	return envfile_parse(text, strlen(text), collect, p, err);
}

static void test_envfile_skips_comments_and_blank_lines(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("# heading\n\n   \n  # indented comment\nA=1\n\nB=2", &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.key[0], "A");
	assert_string_equal(p.val[0], "1");
	assert_string_equal(p.key[1], "B");
	assert_string_equal(p.val[1], "2");
}

static void test_envfile_accepts_export_prefix(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("export A=1\nexport   B = two \n", &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.key[0], "A");
	assert_string_equal(p.val[0], "1");
	assert_string_equal(p.key[1], "B");
	assert_string_equal(p.val[1], "two");
}

static void test_envfile_strips_matching_quotes_and_keeps_their_content(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=\"a b # not a comment\"\nB='single  quoted'\nC=\"\"\n", &p, &err),
	                 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.val[0], "a b # not a comment");
	assert_string_equal(p.val[1], "single  quoted");
	assert_string_equal(p.val[2], "");
}

static void test_envfile_space_hash_starts_a_comment_after_unquoted_value(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=value # trailing comment\nB=a#b\nC=x\t#y\n", &p, &err), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.val[0], "value");
	assert_string_equal(p.val[1], "a#b"); /* no space before '#': part of the value */
	assert_string_equal(p.val[2], "x\t#y");
}

static void test_envfile_comment_after_empty_value_leaves_value_empty(void **state)
{
	(void)state;
	/* "KEY= # note": the " #" comes right after '=', the value is empty. */
	struct pairs p;
	char *err;
	assert_int_equal(parse("MONITORED_DATABASE_URL= # empty = DATABASE_URL\n", &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.key[0], "MONITORED_DATABASE_URL");
	assert_string_equal(p.val[0], "");
}

static void test_envfile_line_without_equals_names_line_number(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=1\n# c\nbroken line\nB=2\n", &p, &err), -1);
	assert_contains(err, "line 3");
	assert_contains(err, "KEY=VALUE");
	free(err);
}

static void test_envfile_rejects_bad_variable_name(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=1\n1ABC=2\n", &p, &err), -1);
	assert_contains(err, "line 2");
	free(err);
	assert_int_equal(parse("=value\n", &p, &err), -1);
	assert_contains(err, "line 1");
	free(err);
	assert_int_equal(parse("MY-VAR=1\n", &p, &err), -1);
	free(err);
}

static void test_envfile_rejects_unterminated_quote(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=\"open\n", &p, &err), -1);
	assert_contains(err, "line 1");
	assert_contains(err, "quote");
	free(err);
	assert_int_equal(parse("A='\n", &p, &err), -1);
	free(err);
	assert_int_equal(parse("A=\"mixed'\n", &p, &err), -1);
	free(err);
}

static void test_envfile_handles_crlf_line_endings(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("A=1\r\nB=\"two\"\r\n", &p, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.val[0], "1");
	assert_string_equal(p.val[1], "two");
}

static void test_envfile_value_may_contain_equals(void **state)
{
	(void)state;
	struct pairs p;
	char *err;
	assert_int_equal(parse("DATABASE_URL=host=db port=5432\n", &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.key[0], "DATABASE_URL");
	assert_string_equal(p.val[0], "host=db port=5432");
}

static int reject_b(const char *key, const char *value, void *arg)
{
	(void)value;
	(void)arg;
	return strcmp(key, "B") == 0 ? -1 : 0;
}

static void test_envfile_callback_rejection_names_line(void **state)
{
	(void)state;
	char *err = NULL;
	const char *text = "A=1\n\nB=2\n";
	assert_int_equal(envfile_parse(text, strlen(text), reject_b, NULL, &err), -1);
	assert_contains(err, "line 3");
	free(err);
}

static void test_envfile_respects_length_not_nul(void **state)
{
	(void)state;
	struct pairs p;
	char *err = NULL;
	memset(&p, 0, sizeof(p));
	const char *text = "A=1\nB=2\n";
	assert_int_equal(envfile_parse(text, 4, collect, &p, &err), 0);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.key[0], "A");
}

/* ---------------------------------------------------------------- envfile_read */

/* Write len bytes of text to a new file "env" in the test's directory with mode. */
static void write_env(const char *text, size_t len, mode_t mode)
{
	unlink("env");
	int fd = open("env", O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_envfile_read_gives_the_bytes_and_the_mode(void **state)
{
	(void)state;
	write_env("A=1\nB=2\n", 8, 0640);
	struct buf b = BUF_INIT(ENVFILE_MAX);
	int mode = 0;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), 0);
	assert_null(err);
	assert_int_equal(b.len, 8);
	assert_string_equal(buf_str(&b), "A=1\nB=2\n");
	assert_int_equal(mode, 0640);
	buf_release(&b);
}

static void test_envfile_read_of_empty_file_is_empty(void **state)
{
	(void)state;
	write_env("", 0, 0600);
	struct buf b = BUF_INIT(ENVFILE_MAX);
	int mode = -1;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(mode, 0600);
	buf_release(&b);
}

static void test_envfile_read_of_missing_file_names_the_variable_and_path(void **state)
{
	(void)state;
	unlink("env");
	struct buf b = BUF_INIT(ENVFILE_MAX);
	int mode = -1;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), -1);
	assert_contains(err, "MONITORING_ENV_FILE");
	assert_contains(err, "cannot open 'env'");
	free(err);
	buf_release(&b);
}

static void test_envfile_read_refuses_a_file_past_the_limit(void **state)
{
	(void)state;
	/* 5000 bytes: more than one read() chunk, past a 4096-byte limit. */
	char text[5000];
	memset(text, 'x', sizeof(text));
	write_env(text, sizeof(text), 0600);
	struct buf b = BUF_INIT(4096);
	int mode = -1;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), -1);
	assert_contains(err, "larger than 4096 bytes");
	free(err);
	buf_release(&b);
	/* Exactly at the limit is fine. */
	write_env(text, 4096, 0600);
	struct buf c = BUF_INIT(4096);
	assert_int_equal(envfile_read("env", &c, &mode, &err), 0);
	assert_int_equal(c.len, 4096);
	buf_release(&c);
}

static void test_envfile_read_refuses_nul_bytes(void **state)
{
	(void)state;
	write_env("A=1\0B=2\n", 8, 0600);
	struct buf b = BUF_INIT(ENVFILE_MAX);
	int mode = -1;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), -1);
	assert_contains(err, "contains NUL bytes");
	free(err);
	buf_release(&b);
}

static void test_envfile_read_never_puts_a_value_in_its_message(void **state)
{
	(void)state;
	write_env("SECRET=hunter2\0", 15, 0600);
	struct buf b = BUF_INIT(ENVFILE_MAX);
	int mode = -1;
	char *err = NULL;
	assert_int_equal(envfile_read("env", &b, &mode, &err), -1);
	assert_null(strstr(err, "hunter2"));
	free(err);
	buf_release(&b);
}

static int setup(void **state)
{
	(void)state;
	return tu_enter_tmpdir("envfile");
}

static int teardown(void **state)
{
	(void)state;
	unlink("env");
	return tu_leave_tmpdir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_envfile_skips_comments_and_blank_lines),
	    cmocka_unit_test(test_envfile_accepts_export_prefix),
	    cmocka_unit_test(test_envfile_strips_matching_quotes_and_keeps_their_content),
	    cmocka_unit_test(test_envfile_space_hash_starts_a_comment_after_unquoted_value),
	    cmocka_unit_test(test_envfile_comment_after_empty_value_leaves_value_empty),
	    cmocka_unit_test(test_envfile_line_without_equals_names_line_number),
	    cmocka_unit_test(test_envfile_rejects_bad_variable_name),
	    cmocka_unit_test(test_envfile_rejects_unterminated_quote),
	    cmocka_unit_test(test_envfile_handles_crlf_line_endings),
	    cmocka_unit_test(test_envfile_value_may_contain_equals),
	    cmocka_unit_test(test_envfile_callback_rejection_names_line),
	    cmocka_unit_test(test_envfile_respects_length_not_nul),
	    cmocka_unit_test(test_envfile_read_gives_the_bytes_and_the_mode),
	    cmocka_unit_test(test_envfile_read_of_empty_file_is_empty),
	    cmocka_unit_test(test_envfile_read_of_missing_file_names_the_variable_and_path),
	    cmocka_unit_test(test_envfile_read_refuses_a_file_past_the_limit),
	    cmocka_unit_test(test_envfile_read_refuses_nul_bytes),
	    cmocka_unit_test(test_envfile_read_never_puts_a_value_in_its_message),
	};
	return cmocka_run_group_tests_name("envfile", tests, setup, teardown);
}
