/*
 * Unit tests of `cron tenant-token EXTERNAL_ID [SECONDS]` (cron/cron.c): the token it prints
 * is one jwt_verify_hs256() accepts with the programs' own settings (TENANT_JWT_SECRET,
 * TENANT_JWT_AUDIENCE), for that tenant and that long; bad arguments exit 2, an empty secret
 * exits 1, and neither prints a token.
 *
 * cron.c is included with its main() renamed, and each run happens in a child process (its
 * usage() exits, and config_load() reads the environment the child was given), with stdout
 * read through a pipe. The group runs in an empty temporary directory (no .env.monitoring).
 */
#include "testutil.h"

#include "core/jwt.h"

#define main cron_main
#include "../../cron/cron.c"
#undef main

#define SECRET "unit-tenant-jwt-secret-0123456789abcdef"

struct run {
	int status; /* the exit status, or -1 when the child did not exit */
	char out[JWT_MAX_LEN + 64];
};

/* The child: the environment given (pairs of name, value; NULL ends), then cron_main(). */
static void child(int fd, char **argv, const char *const *env)
{
	clear_config_env();
	for (; env && env[0]; env += 2)
		setenv(env[0], env[1], 1);
	if (dup2(fd, STDOUT_FILENO) < 0)
		_exit(99);
	/* Kept in the group's directory: shown when the command dies of a signal (a sanitizer). */
	if (!freopen("child.err", "w", stderr))
		_exit(98);
	int argc = 0;
	while (argv[argc])
		argc++;
	int rc = cron_main(argc, argv);
	fflush(stdout);
	exit(rc); /* exit, not _exit: LeakSanitizer checks the command's run */
}

/* cron tenant-token ARGS... (up to two) with env; its exit status and stdout into *r. */
static void run_cron(struct run *r, const char *const *env, const char *a1, const char *a2,
                     const char *a3)
{
	char *argv[] = {"cron", "tenant-token", (char *)a1, (char *)a2, (char *)a3, NULL};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], argv, env);
	}
	close(fds[1]);
	size_t n = 0;
	for (ssize_t k; (k = read(fds[0], r->out + n, sizeof(r->out) - 1 - n)) != 0;) {
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k > 0);
		n += (size_t)k;
		assert_true(n < sizeof(r->out) - 1);
	}
	r->out[n] = '\0';
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (WIFSIGNALED(st)) {
		print_error("cron tenant-token died of signal %d; its stderr:\n", WTERMSIG(st));
		FILE *f = fopen("child.err", "r");
		for (int ch; f && (ch = fgetc(f)) != EOF;)
			fputc(ch, stderr);
		if (f)
			fclose(f);
	}
}

static const char *const with_secret[] = {"TENANT_JWT_SECRET", SECRET, NULL};

/* r printed one line, a token that verifies with check (key SECRET); its claims into *c. */
static void assert_token(const struct run *r, const char *audience, struct jwt_claims *c)
{
	assert_int_equal(r->status, 0);
	size_t n = strlen(r->out);
	assert_true(n > 1 && r->out[n - 1] == '\n');
	assert_null(memchr(r->out, '\n', n - 1));
	char *token = xstrndup(r->out, n - 1);
	struct jwt_check check = {SECRET, strlen(SECRET), audience, (long long)time(NULL), 0};
	const char *code = NULL;
	int rc = jwt_verify_hs256(token, &check, c, &code);
	if (rc < 0)
		print_error("token %s refused: %s\n", token, code);
	assert_int_equal(rc, 0);
	free(token);
}

static void test_token_verifies_for_the_tenant(void **state)
{
	(void)state;
	struct run r;
	struct jwt_claims c;
	long long before = (long long)time(NULL);
	run_cron(&r, with_secret, "demo-shop", NULL, NULL);
	assert_token(&r, NULL, &c);
	assert_string_equal(c.sub, "demo-shop");
	assert_true(c.has_iat && c.iat >= before && c.iat <= (long long)time(NULL));
	assert_int_equal(c.exp - c.iat, 3600); /* the default */
	assert_false(c.has_nbf);
}

static void test_seconds_set_the_lifetime(void **state)
{
	(void)state;
	struct run r;
	struct jwt_claims c;
	run_cron(&r, with_secret, "shop-42@platform.example", "86400", NULL);
	assert_token(&r, NULL, &c);
	assert_string_equal(c.sub, "shop-42@platform.example");
	assert_int_equal(c.exp - c.iat, 86400);
	run_cron(&r, with_secret, "a", "1", NULL);
	assert_token(&r, NULL, &c);
	assert_int_equal(c.exp - c.iat, 1);
	run_cron(&r, with_secret, "a", "31536000", NULL);
	assert_token(&r, NULL, &c);
	assert_int_equal(c.exp - c.iat, 31536000);
}

/* With TENANT_JWT_AUDIENCE the token names it: accepted there, refused without it. */
static void test_audience_is_named(void **state)
{
	(void)state;
	const char *const env[] = {"TENANT_JWT_SECRET", SECRET, "TENANT_JWT_AUDIENCE",
	                           "alerts.example", NULL};
	struct run r;
	struct jwt_claims c;
	run_cron(&r, env, "demo-shop", NULL, NULL);
	assert_token(&r, "alerts.example", &c);
	r.out[strlen(r.out) - 1] = '\0';
	struct jwt_check other = {SECRET, strlen(SECRET), "other.example", (long long)time(NULL),
	                          0};
	const char *code = NULL;
	assert_int_equal(jwt_verify_hs256(r.out, &other, &c, &code), -1);
	assert_string_equal(code, JWT_E_BAD_AUDIENCE);
	struct jwt_check none = {SECRET, strlen(SECRET), NULL, (long long)time(NULL), 0};
	assert_int_equal(jwt_verify_hs256(r.out, &none, &c, &code), -1);
	assert_string_equal(code, JWT_E_BAD_AUDIENCE);
}

/* Signed with the secret, not with anything else. */
static void test_other_key_refuses_it(void **state)
{
	(void)state;
	struct run r;
	run_cron(&r, with_secret, "demo-shop", NULL, NULL);
	assert_int_equal(r.status, 0);
	r.out[strlen(r.out) - 1] = '\0';
	const char *key = "another-key-of-at-least-32-bytes-long";
	struct jwt_check check = {key, strlen(key), NULL, (long long)time(NULL), 0};
	struct jwt_claims c;
	const char *code = NULL;
	assert_int_equal(jwt_verify_hs256(r.out, &check, &c, &code), -1);
	assert_string_equal(code, JWT_E_BAD_SIGNATURE);
}

static void assert_exit(const char *const *env, const char *a1, const char *a2, const char *a3,
                        int want)
{
	struct run r;
	run_cron(&r, env, a1, a2, a3);
	if (r.status != want)
		print_error("tenant-token %s %s %s: exit %d, want %d\n", a1 ? a1 : "", a2 ? a2 : "",
		            a3 ? a3 : "", r.status, want);
	assert_int_equal(r.status, want);
	assert_string_equal(r.out, "");
}

static void test_bad_arguments_exit_2(void **state)
{
	(void)state;
	assert_exit(with_secret, NULL, NULL, NULL, 2);                          /* no external id */
	assert_exit(with_secret, "demo-shop", "3600", "more", 2);               /* too many */
	assert_exit(with_secret, "demo-shop", "0", NULL, 2);                    /* under 1 */
	assert_exit(with_secret, "demo-shop", "31536001", NULL, 2);             /* over a year */
	assert_exit(with_secret, "demo-shop", "-5", NULL, 2);                   /* negative */
	assert_exit(with_secret, "demo-shop", "60s", NULL, 2);                  /* trailing junk */
	assert_exit(with_secret, "demo-shop", "", NULL, 2);                     /* empty */
	assert_exit(with_secret, "demo-shop", "99999999999999999999", NULL, 2); /* overflow */
	assert_exit(with_secret, "", NULL, NULL, 2);                            /* empty id */
	assert_exit(with_secret, "shop/42", NULL, NULL, 2); /* not an external id */
	assert_exit(with_secret, "me", NULL, NULL, 2);      /* reserved */
	char *long_id = xmalloc(TENANT_EXTERNAL_ID_MAX + 2);
	memset(long_id, 'a', TENANT_EXTERNAL_ID_MAX + 1);
	long_id[TENANT_EXTERNAL_ID_MAX + 1] = '\0';
	assert_exit(with_secret, long_id, NULL, NULL, 2);
	free(long_id);
	/* Bad arguments are reported before the missing secret. */
	assert_exit(NULL, "demo-shop", "0", NULL, 2);
}

static void test_empty_secret_exits_1(void **state)
{
	(void)state;
	assert_exit(NULL, "demo-shop", NULL, NULL, 1);
	const char *const empty[] = {"TENANT_JWT_SECRET", "", NULL};
	assert_exit(empty, "demo-shop", "60", NULL, 1);
	/* A secret too short for HS256 is a configuration error, caught at start. */
	const char *const shortkey[] = {"TENANT_JWT_SECRET", "too-short", NULL};
	assert_exit(shortkey, "demo-shop", NULL, NULL, 2);
}

/* It needs no database: a DATABASE_URL that leads nowhere changes nothing. */
static void test_no_database_needed(void **state)
{
	(void)state;
	const char *const env[] = {"TENANT_JWT_SECRET", SECRET, "DATABASE_URL",
	                           "host=/nonexistent dbname=none connect_timeout=1", NULL};
	struct run r;
	struct jwt_claims c;
	run_cron(&r, env, "demo-shop", "120", NULL);
	assert_token(&r, NULL, &c);
	assert_int_equal(c.exp - c.iat, 120);
}

static int group_setup(void **state)
{
	(void)state;
	return tu_enter_tmpdir("cron-token");
}

static int group_teardown(void **state)
{
	(void)state;
	unlink("child.err");
	return tu_leave_tmpdir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_verifies_for_the_tenant),
	    cmocka_unit_test(test_seconds_set_the_lifetime),
	    cmocka_unit_test(test_audience_is_named),
	    cmocka_unit_test(test_other_key_refuses_it),
	    cmocka_unit_test(test_bad_arguments_exit_2),
	    cmocka_unit_test(test_empty_secret_exits_1),
	    cmocka_unit_test(test_no_database_needed),
	};
	return cmocka_run_group_tests_name("cron_token", tests, group_setup, group_teardown);
}
