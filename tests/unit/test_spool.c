/*
 * Unit tests of common/delivery/spool.c: the file itself, with no database. spool.c is
 * included with a small piece size (SPOOL_PIECE_BYTES, SPOOL_PIECE_LINES), so
 * a spool of a few KB is read and replayed in many pieces; the replay runs
 * through a fake of the state database (struct replay_ops) that keeps what a
 * committed transaction wrote and forgets what a rolled-back one did.
 *
 * Covered: a failed append (the file size limit, RLIMIT_FSIZE, in a child)
 * is taken back and reported; a torn tail is cut off, quarantined, and no
 * longer taken for a spooled key; de-duplication past 64 MiB; a replay in
 * pieces; bad lines quarantined while the rest is replayed.
 */
#define SPOOL_PIECE_BYTES 512
#define SPOOL_PIECE_LINES 7
#include "../../common/delivery/spool.c"

#include "testutil.h"

#include <signal.h>
#include <sys/resource.h>

static struct config cfg;

static int setup(void **state)
{
	(void)state;
	if (tu_enter_tmpdir("spool") < 0)
		return -1;
	config_init(&cfg);
	tu_config_set(&cfg.spool_dir, tu_tmpdir);
	tu_config_set(&cfg.provider, "sandbox");
	log_init("test_spool", LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(SPOOL_FILE);
	unlink(SPOOL_QUARANTINE_FILE);
	config_release(&cfg);
	return tu_leave_tmpdir();
}

static int each_setup(void **state)
{
	(void)state;
	unlink(SPOOL_FILE);
	unlink(SPOOL_QUARANTINE_FILE);
	return 0;
}

/* The whole of a file ("" when missing). Caller frees. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096;
	char *data = xmalloc(cap);
	if (f) {
		size_t got;
		while ((got = fread(data + n, 1, cap - n - 1, f)) > 0) {
			n += got;
			if (cap - n < 2)
				data = xrealloc(data, cap *= 2);
		}
		fclose(f);
	}
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

static void write_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0600);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Every line of the spool is a JSON object with a type; how many there are. */
static int assert_all_lines_whole(void)
{
	char *data = slurp(SPOOL_FILE, NULL);
	int n = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = NULL;
		char *err = NULL;
		if (json_parse_object(line, strlen(line), &o, &err) < 0) {
			print_error("a spool line is not whole (%s): %s\n", err, line);
			free(err);
			fail();
		}
		assert_non_null(json_get_string(o, "type"));
		json_object_put(o);
		n++;
	}
	free(data);
	return n;
}

static struct send_result failed_result(const char *error)
{
	struct send_result rs;
	memset(&rs, 0, sizeof(rs));
	rs.outcome = SEND_PERMANENT;
	snprintf(rs.error_code, sizeof(rs.error_code), "131026");
	snprintf(rs.error, sizeof(rs.error), "%s", error);
	return rs;
}

/* ---- a failed append ---- */

static off_t limit_at;

/* In a child: the file may grow 40 bytes more; a result line is longer. */
static int append_past_the_limit(void)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {(rlim_t)limit_at + 40, (rlim_t)limit_at + 40};
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 2;
	struct send_result rs = failed_result("the number is not on WhatsApp, a long reason");
	return spool_result(&cfg, "41", "7", "meta", 0, &rs) == -1 ? 0 : 1;
}

static void test_failed_append_is_taken_back_and_reported(void **state)
{
	(void)state;
	struct send_result rs = failed_result("first");
	assert_int_equal(spool_result(&cfg, "40", "7", "meta", 0, &rs), 0);
	struct stat st;
	assert_int_equal(stat(SPOOL_FILE, &st), 0);
	limit_at = st.st_size;

	/* A partial write (the size limit cuts it) is reported as a failure... */
	assert_child_ok(tu_run_in_child(append_past_the_limit));
	/* ...and leaves nothing of itself behind. */
	assert_int_equal(stat(SPOOL_FILE, &st), 0);
	assert_int_equal(st.st_size, limit_at);

	rs = failed_result("third");
	assert_int_equal(spool_result(&cfg, "42", "7", "meta", 0, &rs), 0);
	assert_int_equal(assert_all_lines_whole(), 2);
	char *data = slurp(SPOOL_FILE, NULL);
	assert_contains(data, "\"id\":\"42\"");
	assert_null(strstr(data, "\"id\":\"41\""));
	free(data);
}

/* ---- a torn tail ---- */

#define TORN "{\"type\":\"message\",\"key\":\"torn:1\",\"phone\":\"+155500"

static void test_torn_tail_is_cut_off_and_quarantined(void **state)
{
	(void)state;
	write_file(SPOOL_FILE, "{\"type\":\"result\",\"id\":\"7\",\"status\":\"sent\"}\n" TORN, 0);
	/* The half-written message was never sent: its key is not spooled. */
	assert_int_equal(spool_has_key(&cfg, "torn:1"), 0);

	struct spool_msg m = {.key = "torn:1",
	                      .phone = "+15550000001",
	                      .content = "CRITICAL database_up",
	                      .priority = "critical",
	                      .kind = "alert"};
	int spooled = 0;
	assert_int_equal(spool_send(&cfg, &m, 1, &spooled), 1);
	assert_int_equal(spooled, 1);
	/* The next record starts a line of its own: message and result, both whole. */
	assert_int_equal(assert_all_lines_whole(), 3);
	assert_int_equal(spool_has_key(&cfg, "torn:1"), 1);
	/* The torn bytes are kept, as one line, in the quarantine. */
	char *q = slurp(SPOOL_QUARANTINE_FILE, NULL);
	assert_string_equal(q, TORN "\n");
	free(q);
	assert_int_equal(spool_quarantine_count(&cfg), 1);
}

static void test_held_message_that_cannot_be_spooled_is_sent_now(void **state)
{
	(void)state;
	/* The spool cannot be written: its directory is not there and cannot be made. */
	char *saved = xstrdup(cfg.spool_dir);
	tu_config_set(&cfg.spool_dir, "/proc/no-such-dir/spool");
	struct spool_msg m = {.key = "held:1",
	                      .phone = "+15550000002",
	                      .content = "WARNING deadlocks",
	                      .priority = "warning",
	                      .kind = "alert",
	                      .not_before = (long long)time(NULL) + 3600};
	int spooled = 1;
	int sent = spool_send(&cfg, &m, 1, &spooled);
	tu_config_set(&cfg.spool_dir, saved);
	free(saved);
	assert_int_equal(spooled, 0);
	assert_int_equal(sent, 1);
}

/* ---- the message line's format ---- */

/* m as the spool writes it, read back as the replay reads it: LINE_OK or LINE_BAD. */
static int round_trip(const struct spool_msg *m, struct spooled *out, struct json_object **o)
{
	struct buf b = BUF_INIT(1 << 20);
	line_of(&b, message_json(m, 1764000000));
	/* one line: whatever the text holds, the only newline is the last byte */
	assert_ptr_equal(memchr(b.data, '\n', b.len), b.data + b.len - 1);
	char *err = NULL;
	*o = NULL;
	assert_int_equal(json_parse_object(b.data, b.len - 1, o, &err), 0);
	buf_release(&b);
	return spooled_parse(*o, out);
}

static void test_a_message_line_round_trips_every_field(void **state)
{
	(void)state;
	long long ids[3] = {11, 12, 9007199254740993LL};
	const char *hostile = "disk\nfull\r\n\ttabbed \"quoted\" \\back\\ \x01\x1f caf\xc3\xa9 "
	                      "{\"type\":\"result\"}\n";
	struct spool_msg m = {.key = "k:\"1\"\n",
	                      .phone = "ops@example.com",
	                      .content = hostile,
	                      .priority = "critical",
	                      .kind = "alert",
	                      .alert_ids = ids,
	                      .n_alert_ids = 3,
	                      .emergency = 1,
	                      .not_before = 1764000100,
	                      .channel = "email",
	                      .account_id = 2,
	                      .tenant_id = 42,
	                      .fallback_chain = "{sms,email}",
	                      .fallback_after_s = 300,
	                      .follows_id = 77,
	                      .follows_key = "test-critical:\"x\"",
	                      .reply_id = "MUTE:order.placed",
	                      .reply_title = "Mute this type"};
	struct spooled r;
	struct json_object *o;
	assert_int_equal(round_trip(&m, &r, &o), LINE_OK);
	assert_int_equal(r.version, SPOOL_LINE_VERSION);
	assert_string_equal(r.key, m.key);
	assert_string_equal(r.channel, "email");
	assert_string_equal(r.phone, "ops@example.com");
	assert_string_equal(r.content, hostile);
	assert_string_equal(r.priority, "critical");
	assert_string_equal(r.kind, "alert");
	assert_int_equal(r.n_alert_ids, 3);
	assert_int_equal(r.alert_ids[2], 9007199254740993LL);
	assert_int_equal(r.emergency, 1);
	assert_int_equal(r.not_before, 1764000100);
	assert_int_equal(r.created_at, 1764000000);
	assert_int_equal(r.account_id, 2);
	assert_int_equal(r.tenant_id, 42);
	assert_string_equal(r.fallback_chain, "{sms,email}");
	assert_int_equal(r.fallback_after_s, 300);
	assert_int_equal(r.follows_id, 77);
	assert_string_equal(r.follows_key, "test-critical:\"x\"");
	assert_string_equal(r.reply_id, "MUTE:order.placed");
	assert_string_equal(r.reply_title, "Mute this type");
	free(r.alert_ids);
	json_object_put(o);

	/* The fewest fields: WhatsApp, no account, tenant, chain or button. */
	struct spool_msg bare = {.key = "k2",
	                         .phone = "+15550000001",
	                         .content = "x",
	                         .priority = "info",
	                         .kind = "test"};
	assert_int_equal(round_trip(&bare, &r, &o), LINE_OK);
	assert_string_equal(r.channel, "whatsapp");
	assert_int_equal(r.account_id, 0);
	assert_int_equal(r.tenant_id, 0);
	assert_null(r.fallback_chain);
	assert_null(r.reply_id);
	assert_null(r.follows_key);
	assert_int_equal(r.n_alert_ids, 0);
	free(r.alert_ids);
	json_object_put(o);
}

/* One line of text read as the replay reads it: not JSON to us (a NUL in a text is refused by
 * the parser) is LINE_BAD, as in replay_line(); then spooled_parse. */
static int parse_text(const char *line, struct spooled *r)
{
	struct json_object *o = NULL;
	char *err = NULL;
	if (json_parse_object(line, strlen(line), &o, &err) < 0) {
		free(err);
		return LINE_BAD;
	}
	int k = spooled_parse(o, r);
	/* strings borrowed from o: the caller only looks at what it needs while o lives */
	json_object_put(o);
	free(r->alert_ids);
	r->alert_ids = NULL;
	return k;
}

static void test_an_old_format_line_still_reads(void **state)
{
	(void)state;
	struct spooled r;
	/* As the first format wrote it (no "v", no channel, account, tenant, chain, button). */
	struct json_object *o = NULL;
	char *err = NULL;
	const char *old = "{\"type\":\"message\",\"key\":\"nodb:abc\",\"phone\":\"+15550000001\","
	                  "\"content\":\"CRITICAL database_up\",\"priority\":\"critical\","
	                  "\"kind\":\"alert\",\"alert_ids\":[5],\"emergency\":false,"
	                  "\"not_before\":0,\"created_at\":1764000000}";
	assert_int_equal(json_parse_object(old, strlen(old), &o, &err), 0);
	assert_int_equal(spooled_parse(o, &r), LINE_OK);
	assert_int_equal(r.version, 1);
	assert_string_equal(r.channel, "whatsapp");
	assert_string_equal(r.key, "nodb:abc");
	assert_int_equal(r.n_alert_ids, 1);
	assert_int_equal(r.alert_ids[0], 5);
	assert_int_equal(r.account_id, 0);
	assert_null(r.fallback_chain);
	free(r.alert_ids);
	json_object_put(o);
	/* A first-format line's version-2 fields are not read: it was WhatsApp only. */
	assert_int_equal(
	    parse_text("{\"key\":\"k\",\"phone\":\"+15550000001\",\"content\":\"c\","
	               "\"priority\":\"info\",\"kind\":\"test\",\"channel\":\"email\"}",
	               &r),
	    LINE_OK);
}

#define V2 "{\"type\":\"message\",\"v\":2,\"key\":\"k\",\"priority\":\"info\",\"kind\":\"test\","

static void test_hostile_message_lines_are_refused(void **state)
{
	(void)state;
	struct spooled r;
	/* A NUL inside a text (the database cannot take it, C would cut it short). */
	assert_int_equal(parse_text(V2 "\"channel\":\"whatsapp\",\"phone\":\"+15550000001\","
	                               "\"content\":\"before\\u0000after\"}",
	                            &r),
	                 LINE_BAD);
	assert_int_equal(parse_text(V2 "\"channel\":\"email\",\"phone\":\"ops@example.com\","
	                               "\"content\":\"c\",\"reply_id\":\"MUTE\\u0000x\"}",
	                            &r),
	                 LINE_BAD);
	/* An email address with CR/LF, a newline, a tab: a header smuggled in. */
	const char *addresses[] = {"ops@example.com\\r\\nBcc: victim@evil.test",
	                           "ops@example.com\\nBcc: victim@evil.test", "ops@exa\\tmple.com",
	                           "ops@example.com\\r"};
	for (size_t i = 0; i < ARRAY_LEN(addresses); i++) {
		char *line = xasprintf(
		    V2 "\"channel\":\"email\",\"phone\":\"%s\",\"content\":\"c\"}", addresses[i]);
		assert_int_equal(parse_text(line, &r), LINE_BAD);
		free(line);
	}
	/* An SMS number that is not one. */
	assert_int_equal(parse_text(V2 "\"channel\":\"sms\",\"phone\":\"+15552229999\\nBody=x\","
	                               "\"content\":\"c\"}",
	                            &r),
	                 LINE_BAD);
	/* An unknown channel, a chain naming one, a version this code does not know. */
	assert_int_equal(parse_text(V2 "\"channel\":\"pigeon\",\"phone\":\"+15550000001\","
	                               "\"content\":\"c\"}",
	                            &r),
	                 LINE_BAD);
	assert_int_equal(parse_text(V2 "\"phone\":\"+15550000001\",\"content\":\"c\","
	                               "\"fallback_chain\":\"{sms,pigeon}\"}",
	                            &r),
	                 LINE_BAD);
	assert_int_equal(parse_text(V2 "\"phone\":\"+15550000001\",\"content\":\"c\","
	                               "\"fallback_chain\":\"{sms\\\"}\"}",
	                            &r),
	                 LINE_BAD);
	assert_int_equal(parse_text("{\"v\":3,\"key\":\"k\",\"phone\":\"+15550000001\","
	                            "\"content\":\"c\",\"priority\":\"info\",\"kind\":\"test\"}",
	                            &r),
	                 LINE_BAD);
	/* Numbers of the wrong type or sign. */
	assert_int_equal(parse_text(V2 "\"phone\":\"+15550000001\",\"content\":\"c\","
	                               "\"tenant_id\":\"7\"}",
	                            &r),
	                 LINE_BAD);
	assert_int_equal(parse_text(V2 "\"phone\":\"+15550000001\",\"content\":\"c\","
	                               "\"account_id\":-1}",
	                            &r),
	                 LINE_BAD);
	/* And the good one they are variations of. */
	assert_int_equal(parse_text(V2 "\"channel\":\"email\",\"phone\":\"ops@example.com\","
	                               "\"content\":\"c\",\"fallback_chain\":\"{sms}\"}",
	                            &r),
	                 LINE_OK);
}

/* The spool refuses to write, or send, what its replay would refuse. */
static void test_a_hostile_address_is_neither_spooled_nor_sent(void **state)
{
	(void)state;
	struct spool_msg m[2] = {{.key = "inj:1",
	                          .phone = "ops@example.com\r\nBcc: victim@evil.test",
	                          .content = "c",
	                          .priority = "critical",
	                          .kind = "alert",
	                          .channel = "email"},
	                         {.key = "inj:2",
	                          .phone = "+15550000001",
	                          .content = "c",
	                          .priority = "critical",
	                          .kind = "alert"}};
	int spooled = 0;
	assert_int_equal(spool_send(&cfg, m, 2, &spooled), 1);
	assert_int_equal(spooled, 1);
	assert_int_equal(spool_has_key(&cfg, "inj:1"), 0);
	assert_int_equal(spool_has_key(&cfg, "inj:2"), 1);
	char *data = slurp(SPOOL_FILE, NULL);
	assert_null(strstr(data, "victim"));
	free(data);
}

/* The spool takes an operator's next step itself; never a seller's, nor one it cannot send. */
static void test_no_spool_step_without_what_it_needs(void **state)
{
	(void)state;
	struct spool_msg m = {.key = "k",
	                      .phone = "+15550000001",
	                      .content = "c",
	                      .priority = "critical",
	                      .kind = "alert",
	                      .fallback_chain = "{sms,email}"};
	int can[CHANNEL_COUNT] = {1, 1, 1};
	int none[CHANNEL_COUNT] = {1, 0, 0};
	struct pool pool = {0};
	struct spool_msg out;
	/* No contact configured: SMS to the WhatsApp number itself (as jobs/fallback.c does). */
	assert_int_equal(next_step(&cfg, &m, m.phone, can, &pool, &out), 1);
	assert_string_equal(out.channel, "sms");
	assert_string_equal(out.phone, "+15550000001");
	assert_string_equal(out.key, "fallback:k");
	assert_string_equal(out.follows_key, "k");
	assert_string_equal(out.fallback_chain, "{email}");
	assert_int_equal(out.fallback_after_s, cfg.fallback_after_s);
	size_t owned = pool.n;
	/* SMS not possible here, and no email address for the number: nothing. */
	int wa_email[CHANNEL_COUNT] = {1, 0, 1};
	assert_int_equal(next_step(&cfg, &m, m.phone, wa_email, &pool, &out), 0);
	/* A seller's: its addresses are in the database. */
	m.tenant_id = 5;
	assert_int_equal(next_step(&cfg, &m, m.phone, can, &pool, &out), 0);
	m.tenant_id = 0;
	/* Not the first step (no WhatsApp number to find the contact by). */
	assert_int_equal(next_step(&cfg, &m, NULL, can, &pool, &out), 0);
	/* No channel this process can send on. */
	assert_int_equal(next_step(&cfg, &m, m.phone, none, &pool, &out), 0);
	/* No chain, or an empty one. */
	m.fallback_chain = NULL;
	assert_int_equal(next_step(&cfg, &m, m.phone, can, &pool, &out), 0);
	m.fallback_chain = "{}";
	assert_int_equal(next_step(&cfg, &m, m.phone, can, &pool, &out), 0);
	assert_int_equal(pool.n, owned);
	pool_release(&pool);
}

/* ---- size ---- */

static void test_keys_are_found_past_64_mib(void **state)
{
	(void)state;
	/* 65 MiB of other lines, then the key. */
	const char *filler =
	    "{\"type\":\"result\",\"key\":\"fill\",\"status\":\"failed\",\"at\":0}\n";
	size_t flen = strlen(filler), chunk_lines = 4096;
	char *chunk = xmalloc(flen * chunk_lines);
	for (size_t i = 0; i < chunk_lines; i++)
		memcpy(chunk + i * flen, filler, flen);
	int fd = open(SPOOL_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	size_t total = 0;
	while (total < (size_t)65 * 1024 * 1024) {
		assert_int_equal(write(fd, chunk, flen * chunk_lines),
		                 (ssize_t)(flen * chunk_lines));
		total += flen * chunk_lines;
	}
	close(fd);
	free(chunk);
	struct spool_msg m = {.key = "big:1",
	                      .phone = "+15550000001",
	                      .content = "CRITICAL database_up",
	                      .priority = "critical",
	                      .kind = "alert"};
	int spooled = 0;
	assert_int_equal(spool_has_key(&cfg, "big:1"), 0);
	assert_int_equal(spool_send(&cfg, &m, 1, &spooled), 1);
	assert_int_equal(spooled, 1);
	assert_int_equal(spool_has_key(&cfg, "big:1"), 1);
	/* The same message again: de-duplicated, not sent twice. */
	assert_int_equal(spool_send(&cfg, &m, 1, &spooled), 0);
	assert_int_equal(spool_has_key(&cfg, "big:2"), 0);
}

/* ---- replay through a fake database ---- */

struct fake {
	char *committed[512], *pending[512];
	int ncommitted, npending;
	int begins, commits, rollbacks, careful_applies;
	const char *fail_key; /* the database "goes down" at this record */
};

static int fake_begin(void *arg)
{
	struct fake *f = arg;
	f->begins++;
	f->npending = 0;
	return 0;
}

static int fake_commit(void *arg)
{
	struct fake *f = arg;
	f->commits++;
	for (int i = 0; i < f->npending; i++)
		f->committed[f->ncommitted++] = f->pending[i];
	f->npending = 0;
	return 0;
}

static void fake_rollback(void *arg)
{
	struct fake *f = arg;
	f->rollbacks++;
	for (int i = 0; i < f->npending; i++)
		free(f->pending[i]);
	f->npending = 0;
}

/* Like the database: a field missing is LINE_BAD; content "refuse" is refused. */
static int fake_apply(void *arg, struct json_object *o, const char *type, int careful)
{
	struct fake *f = arg;
	const char *key = json_get_string(o, "key");
	f->careful_applies += careful;
	if (key && f->fail_key && strcmp(key, f->fail_key) == 0)
		return -1;
	if (!key || (strcmp(type, "message") == 0 && !json_get_string(o, "phone")))
		return LINE_BAD;
	const char *content = json_get_string(o, "content");
	if (content && strcmp(content, "refuse") == 0)
		return LINE_REFUSED;
	f->pending[f->npending++] = xasprintf("%s:%s", type, key);
	return LINE_OK;
}

static void fake_release(struct fake *f)
{
	for (int i = 0; i < f->ncommitted; i++)
		free(f->committed[i]);
	fake_rollback(f);
}

static int replay_fake(struct fake *f, int *quarantined)
{
	struct replay_ops ops = {fake_begin, fake_commit, fake_rollback, fake_apply, f};
	int fd = spool_open(&cfg, 0);
	assert_true(fd >= 0);
	int n = replay_with(&cfg, fd, &ops, quarantined);
	spool_close(fd);
	return n;
}

static void test_replay_goes_piece_by_piece(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(1 << 20);
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "{\"type\":\"message\",\"key\":\"k%03d\",\"phone\":\"+1555%07d\"}\n",
		           i, i);
	write_file(SPOOL_FILE, buf_str(&b), 0);
	assert_true(b.len > 10 * SPOOL_PIECE_BYTES);
	buf_release(&b);

	struct fake f = {0};
	int q = -1;
	assert_int_equal(replay_fake(&f, &q), 100);
	assert_int_equal(q, 0);
	/* In pieces of SPOOL_PIECE_LINES lines, each its own transaction. */
	assert_int_equal(f.begins, (100 + SPOOL_PIECE_LINES - 1) / SPOOL_PIECE_LINES);
	assert_int_equal(f.commits, f.begins);
	assert_int_equal(f.ncommitted, 100);
	for (int i = 0; i < 100; i++) {
		char want[32];
		snprintf(want, sizeof(want), "message:k%03d", i);
		assert_string_equal(f.committed[i], want);
	}
	/* Emptied. */
	struct stat st;
	assert_int_equal(stat(SPOOL_FILE, &st), 0);
	assert_int_equal(st.st_size, 0);
	fake_release(&f);
}

static void test_bad_lines_are_quarantined_and_the_rest_replayed(void **state)
{
	(void)state;
	char longline[SPOOL_PIECE_BYTES * 3];
	memset(longline, 'x', sizeof(longline) - 2);
	const char *head = "{\"type\":\"message\",\"key\":\"long\",\"content\":\"";
	memcpy(longline, head, strlen(head));
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	struct buf b = BUF_INIT(1 << 20);
	buf_puts(&b, "{\"type\":\"message\",\"key\":\"a\",\"phone\":\"+1\"}\n"); /* good */
	buf_puts(&b, "not json at all\n");                                       /* bad */
	buf_puts(&b, "{\"type\":\"message\",\"key\":\"b\",\"phone\":\"+1\"}\n"); /* good */
	buf_puts(&b,
	         "{\"type\":\"message\",\"key\":\"r\",\"phone\":\"+1\",\"content\":\"refuse\"}\n");
	buf_puts(&b, "{\"type\":\"message\",\"key\":\"c\",\"phone\":\"+1\"}\n"); /* good */
	buf_puts(&b, "{\"type\":\"message\",\"key\":\"nophone\"}\n"); /* a field missing */
	buf_puts(&b, "{\"type\":\"surprise\",\"key\":\"s\"}\n");      /* unknown type */
	buf_puts(&b, longline);                                       /* too long */
	buf_puts(&b, "\n");                                           /* empty: ignored */
	for (int i = 0; i < 10; i++)                                  /* more pieces */
		buf_printf(&b, "{\"type\":\"result\",\"key\":\"z%d\",\"status\":\"sent\"}\n", i);
	buf_puts(&b, "{\"type\":\"result\",\"key\":\"torn"); /* a writer died here */
	write_file(SPOOL_FILE, buf_str(&b), 0);
	buf_release(&b);

	struct fake f = {0};
	int q = -1;
	assert_int_equal(replay_fake(&f, &q), 13);
	assert_int_equal(q, 6);
	assert_int_equal(f.ncommitted, 13);
	assert_string_equal(f.committed[0], "message:a");
	assert_string_equal(f.committed[1], "message:b");
	assert_string_equal(f.committed[2], "message:c");
	assert_string_equal(f.committed[12], "result:z9");
	/* The refusal spoilt the first try of its piece: redone with a savepoint per line. */
	assert_true(f.rollbacks >= 1);
	assert_true(f.careful_applies > 0);
	/* Every bad line kept as it was, one a line; the spool emptied. */
	char *qd = slurp(SPOOL_QUARANTINE_FILE, NULL);
	assert_contains(qd, "not json at all\n");
	assert_contains(qd, "\"content\":\"refuse\"}\n");
	assert_contains(qd, "{\"type\":\"message\",\"key\":\"nophone\"}\n");
	assert_contains(qd, "{\"type\":\"surprise\",\"key\":\"s\"}\n");
	assert_contains(qd, longline);
	assert_contains(qd, "{\"type\":\"result\",\"key\":\"torn\n");
	free(qd);
	assert_int_equal(spool_quarantine_count(&cfg), 6);
	struct stat st;
	assert_int_equal(stat(SPOOL_FILE, &st), 0);
	assert_int_equal(st.st_size, 0);
	fake_release(&f);
}

static void test_replay_keeps_the_spool_when_the_database_fails(void **state)
{
	(void)state;
	const char *text = "{\"type\":\"message\",\"key\":\"a\",\"phone\":\"+1\"}\n"
	                   "{\"type\":\"message\",\"key\":\"down\",\"phone\":\"+1\"}\n"
	                   "not json\n";
	write_file(SPOOL_FILE, text, 0);
	struct fake f = {.fail_key = "down"};
	int q = -1;
	assert_int_equal(replay_fake(&f, &q), -1);
	assert_int_equal(f.ncommitted, 0);
	/* Nothing lost, nothing quarantined: the next replay does it all. */
	char *data = slurp(SPOOL_FILE, NULL);
	assert_string_equal(data, text);
	free(data);
	assert_int_equal(spool_quarantine_count(&cfg), 0);
	fake_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_failed_append_is_taken_back_and_reported, each_setup),
	    cmocka_unit_test_setup(test_torn_tail_is_cut_off_and_quarantined, each_setup),
	    cmocka_unit_test_setup(test_held_message_that_cannot_be_spooled_is_sent_now,
	                           each_setup),
	    cmocka_unit_test(test_a_message_line_round_trips_every_field),
	    cmocka_unit_test(test_an_old_format_line_still_reads),
	    cmocka_unit_test(test_hostile_message_lines_are_refused),
	    cmocka_unit_test_setup(test_a_hostile_address_is_neither_spooled_nor_sent, each_setup),
	    cmocka_unit_test(test_no_spool_step_without_what_it_needs),
	    cmocka_unit_test_setup(test_keys_are_found_past_64_mib, each_setup),
	    cmocka_unit_test_setup(test_replay_goes_piece_by_piece, each_setup),
	    cmocka_unit_test_setup(test_bad_lines_are_quarantined_and_the_rest_replayed,
	                           each_setup),
	    cmocka_unit_test_setup(test_replay_keeps_the_spool_when_the_database_fails, each_setup),
	};
	return cmocka_run_group_tests_name("spool", tests, setup, teardown);
}
