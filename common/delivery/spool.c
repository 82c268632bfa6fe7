#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/chain.h"
#include "core/phone.h"
#include "core/sms.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "delivery/account.h"
#include "delivery/sender.h"
#include "delivery/spool.h"
#include "core/util.h"
#include "db/pgarray.h"

#define SPOOL_FILE "outbox.spool"
#define SPOOL_QUARANTINE_FILE "outbox.spool.quarantine"
/*
 * Bytes read at a time: the memory a scan or a replay holds whatever the
 * spool's size, and the longest line it keeps (ours are a few KB; a longer
 * one is quarantined). A test may define it smaller before including this.
 */
#ifndef SPOOL_PIECE_BYTES
#define SPOOL_PIECE_BYTES (1024 * 1024)
#endif
/* Lines written into the state database per transaction. */
#ifndef SPOOL_PIECE_LINES
#define SPOOL_PIECE_LINES 1000
#endif
/* The message line's format: "v" (absent: 1, WhatsApp only). */
#define SPOOL_LINE_VERSION 2
/* What one spool_send() appends at most. */
#define SPOOL_BATCH_BYTES (16 * 1024 * 1024)

char *spool_path(const struct config *cfg)
{
	return xasprintf("%s/%s", cfg->spool_dir, SPOOL_FILE);
}

char *spool_quarantine_path(const struct config *cfg)
{
	return xasprintf("%s/%s", cfg->spool_dir, SPOOL_QUARANTINE_FILE);
}

/* fsync a directory, so the entries created in it survive a crash. 0, or -1 (errno). */
static int sync_dir(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	int r = fsync(d);
	int e = errno;
	close(d);
	errno = e;
	return r;
}

/* mkdir SPOOL_DIR when missing, its parent's entry fsync'd. */
static void make_spool_dir(const char *dir)
{
	if (mkdir(dir, 0700) < 0)
		return; /* EEXIST is fine; open() reports the rest */
	char *parent = xstrdup(dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, strlen(parent) + 1, ".");
	else if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (sync_dir(parent) < 0)
		log_warn("spool_dir_sync", "the directory %s could not be synced", parent);
	free(parent);
}

/*
 * Open path for appending, creating it when asked. A file created here has
 * its directory fsync'd before anything is written to it: lines fsync'd into
 * a file whose directory entry is lost would be lost too. fd, or -1 (errno).
 */
static int open_synced(const char *dir, const char *path, int create)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	make_spool_dir(dir);
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
	if (fd < 0 && errno == EEXIST) /* created meanwhile by another process, which syncs it */
		return open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (sync_dir(dir) < 0) {
		int e = errno;
		log_warn("spool_dir_sync", "the directory %s could not be synced", dir);
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Open and lock the spool. fd, or -1 (errno). */
static int spool_open(const struct config *cfg, int create)
{
	char *path = spool_path(cfg);
	int fd = open_synced(cfg->spool_dir, path, create);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void spool_close(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

/*
 * Append whole lines and fsync. A failed or partial write (ENOSPC, EIO, the
 * file size limit) or a failed fsync cuts the file back to where it was: no
 * half line is left for the next record to run into. 0, or -1 (errno).
 */
static int append(int fd, const char *text, size_t len)
{
	struct stat st;
	int e;
	if (fstat(fd, &st) < 0)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) == 0)
		return 0;
fail:
	e = errno;
	if (done && (ftruncate(fd, st.st_size) < 0 || fsync(fd) < 0))
		log_warn("spool_cut_failed", "a failed append could not be taken back");
	errno = e;
	return -1;
}

/*
 * Copy len bytes at off of the spool (a line that cannot be replayed, or a
 * torn one) to the quarantine file beside it, as one line, fsync'd. Called
 * with the spool locked, which serialises the quarantine's writers too.
 * 0, or -1 (logged).
 */
static int quarantine(const struct config *cfg, int fd, off_t off, size_t len)
{
	char *path = spool_quarantine_path(cfg);
	char *chunk = xmalloc(64 * 1024);
	int ret = -1;
	int q = open_synced(cfg->spool_dir, path, 1);
	if (q < 0)
		goto out;
	size_t done = 0;
	char last = '\n';
	while (done < len) {
		size_t want = len - done < 64 * 1024 ? len - done : 64 * 1024;
		ssize_t r = pread(fd, chunk, want, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		if (append(q, chunk, (size_t)r) < 0)
			goto out;
		last = chunk[r - 1];
		done += (size_t)r;
	}
	if (last != '\n' && append(q, "\n", 1) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		log_warn("spool_quarantine_failed",
		         "%zu byte(s) of the spool could not be copied to %s", len, path);
	if (q >= 0)
		close(q);
	free(chunk);
	free(path);
	return ret;
}

/*
 * A spool that does not end in '\n' ends in a torn line: a writer died in the
 * middle of an append (a failed append takes its bytes back itself). Its
 * bytes go to the quarantine and the spool is cut back to its last newline,
 * so the next record starts a line of its own, and the half-written record
 * (never sent: messages are spooled before they are sent) is not taken for a
 * spooled key. With the spool locked. 0, or -1 (errno; then do not append).
 */
static int repair_tail(const struct config *cfg, int fd)
{
	struct stat st;
	char c[4096];
	if (fstat(fd, &st) < 0)
		return -1;
	off_t cut = st.st_size;
	while (cut > 0) {
		size_t want = cut < (off_t)sizeof(c) ? (size_t)cut : sizeof(c);
		ssize_t r = pread(fd, c, want, cut - (off_t)want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)want) {
			if (r >= 0)
				errno = EIO;
			return -1;
		}
		size_t i = want;
		while (i > 0 && c[i - 1] != '\n')
			i--;
		cut -= (off_t)(want - i);
		if (i > 0)
			break;
	}
	if (cut == st.st_size)
		return 0;
	quarantine(cfg, fd, cut, (size_t)(st.st_size - cut));
	if (ftruncate(fd, cut) < 0 || fsync(fd) < 0)
		return -1;
	log_warnx("spool_torn_tail",
	          "the spool ended in %lld byte(s) of a half-written line (a writer died"
	          " mid-append): moved to the quarantine, %s",
	          (long long)(st.st_size - cut), SPOOL_QUARANTINE_FILE);
	return 0;
}

/*
 * Reads a spool line by line in pieces of SPOOL_PIECE_BYTES, whatever its
 * size. A line longer than that is returned as NULL (its extent still given);
 * bytes after the last '\n' (a torn tail) are not a line.
 */
struct reader {
	int fd;
	char *buf;         /* SPOOL_PIECE_BYTES */
	size_t start, len; /* unread bytes: buf[start, len) */
	off_t base;        /* file offset of buf[0] */
	int eof;
};

static void reader_init(struct reader *r, int fd)
{
	*r = (struct reader){.fd = fd, .buf = xmalloc(SPOOL_PIECE_BYTES)};
}

static void reader_release(struct reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read from offset off on. */
static void reader_seek(struct reader *r, off_t off)
{
	r->start = r->len = 0;
	r->base = off;
	r->eof = 0;
}

/* Offset of the first byte not returned yet. */
static off_t reader_pos(const struct reader *r)
{
	return r->base + (off_t)r->start;
}

/* Fill buf[len, SPOOL_PIECE_BYTES). Bytes read, 0 at the end, -1 (errno). */
static ssize_t reader_fill(struct reader *r)
{
	for (;;) {
		ssize_t got = pread(r->fd, r->buf + r->len, SPOOL_PIECE_BYTES - r->len,
		                    r->base + (off_t)r->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got > 0)
			r->len += (size_t)got;
		return got;
	}
}

/* Past a line longer than a piece that starts at off. 1 (with *size), 0 torn, -1 (errno). */
static int reader_skip_long(struct reader *r, off_t off, size_t *size)
{
	for (;;) {
		r->base += (off_t)r->len;
		r->start = r->len = 0;
		ssize_t got = reader_fill(r);
		if (got <= 0) {
			r->eof = got == 0;
			return got < 0 ? -1 : 0;
		}
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			r->start = (size_t)(nl - r->buf) + 1;
			*size = (size_t)(reader_pos(r) - off);
			return 1;
		}
	}
}

/*
 * The next line: 1 with *line (NUL-terminated, without its '\n'; NULL when
 * longer than SPOOL_PIECE_BYTES), its offset *off and its size in the file
 * *size ('\n' included); 0 at the end, *off then saying where the complete
 * lines end (the file's size, or where a torn tail starts); -1 (errno).
 */
static int reader_next(struct reader *r, char **line, off_t *off, size_t *size)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->len - r->start);
		if (nl) {
			*line = r->buf + r->start;
			*off = reader_pos(r);
			*nl = '\0';
			*size = (size_t)(nl - *line) + 1;
			r->start += *size;
			return 1;
		}
		if (r->eof) {
			*off = reader_pos(r);
			return 0;
		}
		if (r->start == 0 && r->len == SPOOL_PIECE_BYTES) {
			*off = r->base;
			*line = NULL;
			int k = reader_skip_long(r, *off, size);
			if (k == 0) { /* a torn tail, and a long one */
				r->start = r->len = 0;
				r->base = *off;
			}
			return k;
		}
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->base += (off_t)r->start;
		r->len -= r->start;
		r->start = 0;
		ssize_t got = reader_fill(r);
		if (got < 0)
			return -1;
		r->eof = got == 0;
	}
}

/* The text a spooled line of key holds: "key":"<key>", */
static char *key_needle(const char *key)
{
	struct json_object *k = json_object_new_string(key);
	char *needle = xasprintf("\"key\":%s,",
	                         json_object_to_json_string_ext(
	                             k, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(k);
	return needle;
}

/*
 * Which of keys[0..n) the locked spool holds (found[i] set), read in pieces
 * whatever its size. 0, or -1 (errno).
 */
static int find_keys(int fd, const char *const *keys, size_t n, int *found)
{
	char **needles = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		needles[i] = key_needle(keys[i]);
	struct reader r;
	reader_init(&r, fd);
	char *line;
	off_t off;
	size_t size;
	int k;
	while ((k = reader_next(&r, &line, &off, &size)) == 1)
		for (size_t i = 0; line && i < n; i++)
			if (!found[i] && strstr(line, needles[i]))
				found[i] = 1;
	reader_release(&r);
	for (size_t i = 0; i < n; i++)
		free(needles[i]);
	free(needles);
	return k < 0 ? -1 : 0;
}

static void add_str(struct json_object *o, const char *name, const char *v)
{
	json_object_object_add(o, name, v && *v ? json_object_new_string(v) : NULL);
}

static const char *outcome_status(enum send_outcome o)
{
	return o == SEND_SENT ? "sent" : o == SEND_PERMANENT ? "failed" : "queued";
}

static struct json_object *result_json(const char *key, const char *row_id, const char *lease_id,
                                       const char *provider, int as_template,
                                       const struct send_result *rs)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("result"));
	if (key)
		add_str(o, "key", key);
	else
		add_str(o, "id", row_id);
	if (lease_id)
		add_str(o, "lease", lease_id);
	json_object_object_add(o, "status", json_object_new_string(outcome_status(rs->outcome)));
	json_object_object_add(
	    o, "as_template",
	    json_object_new_boolean(as_template || rs->outcome == SEND_AS_TEMPLATE));
	add_str(o, "provider", provider);
	add_str(o, "message_id", rs->message_id);
	add_str(o, "wa_id", rs->wa_id);
	add_str(o, "error_code", rs->error_code);
	add_str(o, "error", rs->error);
	json_object_object_add(o, "at", json_object_new_int64((int64_t)time(NULL)));
	return o;
}

static void line_of(struct buf *b, struct json_object *o)
{
	buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_puts(b, "\n");
	json_object_put(o);
}

int spool_result(const struct config *cfg, const char *row_id, const char *lease_id,
                 const char *provider, int as_template, const struct send_result *rs)
{
	struct buf b = BUF_INIT(1 << 20);
	line_of(&b, result_json(NULL, row_id, lease_id, provider, as_template, rs));
	int fd = spool_open(cfg, 1);
	int r = fd < 0 || repair_tail(cfg, fd) < 0 ? -1 : append(fd, b.data, b.len);
	if (r < 0)
		log_warn("spool_failed", "result of message %s (%s) could not be spooled", row_id,
		         outcome_status(rs->outcome));
	else
		log_warnx("spooled",
		          "result of message %s (%s) spooled: state database unavailable", row_id,
		          outcome_status(rs->outcome));
	if (fd >= 0)
		spool_close(fd);
	buf_release(&b);
	return r;
}

int spool_has_key(const struct config *cfg, const char *key)
{
	int fd = spool_open(cfg, 0);
	if (fd < 0)
		return 0;
	int found = 0;
	if (find_keys(fd, &key, 1, &found) < 0)
		log_warn("spool_unreadable", "the spool cannot be read");
	spool_close(fd);
	return found;
}

/* What a line is, and what applying it did. */
enum { LINE_OK = 0, LINE_BAD = 1, LINE_REFUSED = 2 };

static void add_id(struct json_object *o, const char *name, long long v)
{
	if (v)
		json_object_object_add(o, name, json_object_new_int64(v));
}

static struct json_object *message_json(const struct spool_msg *m, time_t now)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("message"));
	json_object_object_add(o, "v", json_object_new_int(SPOOL_LINE_VERSION));
	add_str(o, "key", m->key); /* not last: key_needle() looks for "key":"...", */
	add_str(o, "channel", m->channel ? m->channel : channel_name(CHANNEL_WHATSAPP));
	add_str(o, "phone", m->phone);
	add_str(o, "content", m->content);
	add_str(o, "priority", m->priority);
	add_str(o, "kind", m->kind);
	struct json_object *ids = json_object_new_array();
	for (size_t k = 0; k < m->n_alert_ids; k++)
		json_object_array_add(ids, json_object_new_int64(m->alert_ids[k]));
	json_object_object_add(o, "alert_ids", ids);
	json_object_object_add(o, "emergency", json_object_new_boolean(m->emergency));
	json_object_object_add(o, "not_before", json_object_new_int64(m->not_before));
	json_object_object_add(o, "created_at", json_object_new_int64((int64_t)now));
	add_id(o, "account_id", m->account_id);
	add_id(o, "tenant_id", m->tenant_id);
	if (m->fallback_chain) {
		add_str(o, "fallback_chain", m->fallback_chain);
		add_id(o, "fallback_after_s", m->fallback_after_s);
	}
	add_id(o, "follows_id", m->follows_id);
	add_str(o, "follows_key", m->follows_key);
	add_str(o, "reply_id", m->reply_id);
	add_str(o, "reply_title", m->reply_title);
	return o;
}

/* A spooled message line read back (replay_message): strings borrowed from the JSON. */
struct spooled {
	int version;
	const char *key, *channel, *phone, *content, *priority, *kind;
	const char *fallback_chain, *reply_id, *reply_title, *follows_key;
	long long *alert_ids;
	size_t n_alert_ids;
	int emergency;
	long long not_before, created_at, account_id, tenant_id, fallback_after_s, follows_id;
};

/*
 * The string member name of o into *out: 0 (absent: NULL), or -1 when it is
 * not a string or holds a NUL (text the database cannot take, and a C string
 * would cut short).
 */
static int text_member(struct json_object *o, const char *name, const char **out)
{
	struct json_object *v = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return -1;
	*out = s;
	return 0;
}

/* The integer member name of o (absent: 0) into *out, at least min. 0, or -1. */
static int int_member(struct json_object *o, const char *name, long long min, long long *out)
{
	struct json_object *v = NULL;
	*out = 0;
	if (!json_object_object_get_ex(o, name, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = (long long)json_object_get_int64(v);
	return *out >= min ? 0 : -1;
}

/* A fallback chain's rest as spooled: "{}" or "{sms,email}", each a known channel. */
static int chain_literal_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || s[0] != '{' || s[n - 1] != '}' || n > 2 + CHAIN_MAX * CHAIN_NAME_MAX)
		return 0;
	if (n == 2)
		return 1;
	char buf[2 + CHAIN_MAX * CHAIN_NAME_MAX + 1];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n - 2), s + 1);
	struct chain c;
	const char *why;
	/* chain_parse wants whatsapp first: check the rest as the steps after it. */
	char *full = xasprintf("whatsapp,%s", buf);
	int ok = chain_parse(full, &c, &why) == 0 && strchr(buf, ' ') == NULL;
	free(full);
	return ok;
}

/*
 * A message line (either version) into *m: LINE_OK, or LINE_BAD (a field
 * missing or of the wrong type, a NUL in a text, an address its channel
 * refuses, an unknown channel or chain, a version this code does not know).
 * Caller frees m->alert_ids.
 */
static int spooled_parse(struct json_object *o, struct spooled *m)
{
	memset(m, 0, sizeof(*m));
	long long v = 0;
	if (int_member(o, "v", 1, &v) < 0 || v > SPOOL_LINE_VERSION)
		return LINE_BAD;
	m->version = v ? (int)v : 1;
	if (text_member(o, "key", &m->key) < 0 || text_member(o, "phone", &m->phone) < 0 ||
	    text_member(o, "content", &m->content) < 0 ||
	    text_member(o, "priority", &m->priority) < 0 || text_member(o, "kind", &m->kind) < 0 ||
	    !m->key || !m->phone || !m->content || !m->priority || !m->kind)
		return LINE_BAD;
	if (int_member(o, "not_before", 0, &m->not_before) < 0 ||
	    int_member(o, "created_at", 0, &m->created_at) < 0)
		return LINE_BAD;
	struct json_object *e = NULL;
	json_object_object_get_ex(o, "emergency", &e);
	m->emergency = json_object_get_boolean(e);
	if (m->version >= 2 && (text_member(o, "channel", &m->channel) < 0 ||
	                        text_member(o, "fallback_chain", &m->fallback_chain) < 0 ||
	                        text_member(o, "reply_id", &m->reply_id) < 0 ||
	                        text_member(o, "reply_title", &m->reply_title) < 0 ||
	                        text_member(o, "follows_key", &m->follows_key) < 0 ||
	                        int_member(o, "account_id", 1, &m->account_id) < 0 ||
	                        int_member(o, "tenant_id", 1, &m->tenant_id) < 0 ||
	                        int_member(o, "fallback_after_s", 0, &m->fallback_after_s) < 0 ||
	                        int_member(o, "follows_id", 1, &m->follows_id) < 0))
		return LINE_BAD;
	if (!m->channel)
		m->channel = channel_name(CHANNEL_WHATSAPP);
	if (m->fallback_chain && !chain_literal_ok(m->fallback_chain))
		return LINE_BAD;
	const char *why;
	if (channel_address_check(m->channel, m->phone, &why) < 0)
		return LINE_BAD;
	struct json_object *ids = json_member(o, "alert_ids", json_type_array);
	m->n_alert_ids = ids ? json_object_array_length(ids) : 0;
	m->alert_ids = xcalloc(m->n_alert_ids + 1, sizeof(*m->alert_ids));
	for (size_t i = 0; i < m->n_alert_ids; i++) {
		struct json_object *id = json_object_array_get_idx(ids, i);
		if (!json_object_is_type(id, json_type_int))
			return LINE_BAD;
		m->alert_ids[i] = (long long)json_object_get_int64(id);
	}
	return LINE_OK;
}

/*
 * Under the spool's lock: the torn tail repaired, the keys already spooled
 * marked in take[] (0), the others' lines appended. 1 spooled, 0 nothing new
 * to spool, -1 the spool cannot be written (logged).
 */
static int spool_messages(const struct config *cfg, const struct spool_msg *m, size_t n, int *take,
                          time_t now)
{
	int fd = spool_open(cfg, 1), ret = -1;
	struct buf b = BUF_INIT(SPOOL_BATCH_BYTES);
	int *found = xcalloc(n + 1, sizeof(int));
	const char **keys = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		keys[i] = m[i].key;
	if (fd < 0 || repair_tail(cfg, fd) < 0 || find_keys(fd, keys, n, found) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		take[i] = !found[i];
		if (take[i])
			line_of(&b, message_json(&m[i], now));
	}
	if (b.len && append(fd, b.data, b.len) < 0)
		goto out;
	ret = b.len ? 1 : 0;
out:
	if (ret < 0) {
		for (size_t i = 0; i < n; i++)
			take[i] = 1; /* nothing to compare with: send them all */
		log_warn("spool_failed", "the spool %s/%s cannot be written; sending anyway",
		         cfg->spool_dir, SPOOL_FILE);
	}
	if (fd >= 0)
		spool_close(fd); /* not held while sending */
	buf_release(&b);
	free(found);
	free(keys);
	return ret;
}

/* 1 when m may be spooled: channel_address_check() accepts its channel and address (else logged).
 */
static int spool_msg_ok(const struct spool_msg *m)
{
	const char *why = "", *what = "a field is missing";
	if (m->key && m->phone && m->content && m->priority && m->kind) {
		what = "its address ";
		if (channel_address_check(m->channel, m->phone, &why) == 0) {
			if (!m->fallback_chain || chain_literal_ok(m->fallback_chain))
				return 1;
			what = "its fallback chain names an unknown channel";
			why = "";
		}
	}
	/* The address is not repeated: it may hold the control characters refused. */
	log_error("spool_refused", "message %s neither spooled nor sent: %s%s",
	          m->key ? m->key : "(no key)", what, why);
	return 0;
}

/* Messages a round of spool_send() sends. */
struct round {
	struct spool_msg *m;
	const char **root; /* the chain's WhatsApp number (its operator contact), or NULL */
	size_t n, cap;
};

/* The strings of the steps the spool makes itself, freed when spool_send() returns. */
struct pool {
	char **v;
	size_t n, cap;
};

static void round_add(struct round *r, const struct spool_msg *m, const char *root)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->m = xrealloc(r->m, r->cap * sizeof(*r->m));
		r->root = xrealloc(r->root, r->cap * sizeof(*r->root));
	}
	r->m[r->n] = *m;
	r->root[r->n++] = root;
}

static char *pool_own(struct pool *p, char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	return p->v[p->n++] = s;
}

static void pool_release(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static void round_release(struct round *r)
{
	free(r->m);
	free(r->root);
}

/*
 * The next step of an operator's message m (tenant-less, its chain's WhatsApp number root) that
 * failed for good while the state database is down, as jobs/fallback.c would queue it (the
 * contact's CRITICAL_SMS_n / CRITICAL_EMAIL_n, its channel's text, the rest of the chain, a
 * deadline but on email), made here because neither the step nor its failure can wait for the
 * database: key "fallback:<m's key>", follows_key m's key (its row has no id yet). A seller's
 * addresses are in the database: its chain resumes after the replay. 1 with *out (its strings
 * in pool), 0 none: no channel left that this process can send on and has an address for.
 */
static int next_step(const struct config *cfg, const struct spool_msg *m, const char *root,
                     const int *can, struct pool *into, struct spool_msg *out)
{
	if (!root || m->tenant_id || !m->fallback_chain || !chain_literal_ok(m->fallback_chain))
		return 0;
	char rest[2 + CHAIN_MAX * CHAIN_NAME_MAX + 1];
	snprintf(rest, sizeof(rest), "%.*s", (int)strlen(m->fallback_chain) - 2,
	         m->fallback_chain + 1);
	const char *names[CHAIN_MAX];
	size_t n = 0;
	for (char *p = rest, *e; *p && n < CHAIN_MAX; p = e + 1) {
		names[n++] = p;
		if (!(e = strchr(p, ',')))
			break;
		*e = '\0';
	}
	for (size_t k = 0; k < n; k++) {
		enum channel c;
		char sms[PHONE_MAX];
		const char *address = NULL, *why;
		if (channel_parse(names[k], &c) < 0 || !can[c])
			continue;
		if (c == CHANNEL_SMS && config_contact_sms(cfg, root, sms))
			address = sms;
		else if (c == CHANNEL_EMAIL)
			address = config_contact_email(cfg, root);
		if (!address || channel_address_check(names[k], address, &why) < 0)
			continue;
		struct buf chain = BUF_INIT(64);
		buf_puts(&chain, "{");
		for (size_t j = k + 1; j < n; j++)
			buf_printf(&chain, "%s%s", j > k + 1 ? "," : "", names[j]);
		buf_puts(&chain, "}");
		int critical = strcmp(m->priority, "critical") == 0;
		*out = (struct spool_msg){
		    .key = pool_own(into, xasprintf("fallback:%s", m->key)),
		    .phone = pool_own(into, xstrdup(address)),
		    .content = pool_own(
		        into, c == CHANNEL_SMS
		                  ? sms_fit(m->content, (size_t)cfg->sms_max_segments, NULL)
		                  : xstrdup(m->content)),
		    .priority = m->priority,
		    .kind = m->kind,
		    .alert_ids = m->alert_ids,
		    .n_alert_ids = m->n_alert_ids,
		    .emergency = m->emergency,
		    .channel = channel_name(c),
		    .fallback_chain = pool_own(into, xstrdup(buf_str(&chain))),
		    /* Email sends no receipt: its step falls back on failure only. */
		    .fallback_after_s = c == CHANNEL_EMAIL ? 0
		                        : critical         ? cfg->fallback_after_s
		                                           : cfg->fallback_normal_after_s,
		    .follows_key = m->key,
		};
		buf_release(&chain);
		return 1;
	}
	return 0;
}

/*
 * One round: spool r's messages, send those due, spool their results; the next steps of those
 * that failed for good into *next. Messages sent; *sp: spool_messages()'s answer.
 */
static int send_round(const struct config *cfg, struct round *r, time_t now, int *sp,
                      struct round *next, struct pool *pool)
{
	struct spool_msg *m = r->m;
	size_t n = r->n;
	int *take = xcalloc(n + 1, sizeof(int));
	*sp = spool_messages(cfg, m, n, take, now);

	/*
	 * Send what is due now. Held warnings wait in the spool for the replay;
	 * one that could not be spooled cannot wait anywhere: it goes now.
	 */
	struct sender_msg *v = xcalloc(n + 1, sizeof(*v));
	size_t *map = xcalloc(n + 1, sizeof(size_t));
	/* The accounts it sends as, one per channel, each paced at its own rate. */
	struct account acct[CHANNEL_COUNT];
	int can[CHANNEL_COUNT];
	long long next_slot[CHANNEL_COUNT] = {0};
	const struct provider *p = provider_for(cfg);
	for (int c = 0; c < CHANNEL_COUNT; c++)
		can[c] = account_of_process(&acct[c], cfg, p, (enum channel)c, 0);
	int nv = 0;
	for (size_t i = 0; i < n; i++) {
		if (!take[i] || (*sp >= 0 && m[i].not_before && m[i].not_before > (long long)now))
			continue;
		enum channel c = CHANNEL_WHATSAPP;
		if (m[i].channel && channel_parse(m[i].channel, &c) < 0)
			continue; /* spool_msg_ok() refused it: never here */
		if (!can[c]) {
			log_warnx("spool_channel",
			          "message %s on channel %s spooled, not sent: this process cannot"
			          " send on it (%s); a drainer that can sends it after the replay",
			          m[i].key, channel_name(c),
			          c == CHANNEL_EMAIL ? "SMTP_URL is not set" : "no SMS sender");
			continue;
		}
		if (m[i].not_before > (long long)now)
			log_warnx("spool_held_sent",
			          "a held message to %s is sent now: it could not be spooled",
			          m[i].phone);
		v[nv].acct = &acct[c];
		v[nv].start_s = (double)next_slot[c]++ / (double)acct[c].rate_per_second;
		v[nv].phone = m[i].phone;
		v[nv].content = m[i].content;
		v[nv].priority = m[i].priority;
		/* The 24-hour window is not known here: a button goes when the text does. */
		v[nv].in_window = !acct[c].provider->has_template(cfg);
		v[nv].reply_id = m[i].reply_id;
		v[nv].reply_title = m[i].reply_title;
		map[nv++] = i;
	}
	int sent = 0;
	struct buf b = BUF_INIT(SPOOL_BATCH_BYTES);
	if (nv)
		sender_send(cfg, v, nv);
	for (int k = 0; k < nv; k++) {
		const struct spool_msg *mk = &m[map[k]];
		struct spool_msg step;
		int failed = v[k].rs.outcome == SEND_PERMANENT || v[k].rs.outcome == SEND_STOP_ALL;
		int stepped = failed && next_step(cfg, mk, r->root[map[k]], can, pool, &step);
		sent += v[k].rs.outcome == SEND_SENT;
		struct json_object *o = result_json(mk->key, NULL, NULL, v[k].acct->provider->name,
		                                    v[k].as_template, &v[k].rs);
		if (stepped) { /* the replay marks it as the fallback step would */
			json_object_object_add(
			    o, "fallback",
			    json_object_new_string(v[k].rs.outcome == SEND_STOP_ALL ? "stopped"
			                                                            : "failed"));
			round_add(next, &step, r->root[map[k]]);
			log_warnx(
			    "spool_fallback",
			    "message %s failed for good while the state database is down (%s):"
			    " its next step, on %s, goes from the spool",
			    mk->key, v[k].rs.error_code, step.channel);
		}
		line_of(&b, o);
		log_warnx("spooled_send", "%s to %s while the state database is down: %s %s",
		          channel_name(v[k].acct->channel), v[k].phone,
		          send_outcome_name(v[k].rs.outcome), v[k].rs.error_code);
	}
	if (b.len && *sp >= 0) {
		int fd = spool_open(cfg, 1);
		if (fd < 0 || repair_tail(cfg, fd) < 0 || append(fd, b.data, b.len) < 0)
			log_warn("spool_failed", "send results could not be spooled");
		if (fd >= 0)
			spool_close(fd);
	}
	buf_release(&b);
	free(v);
	free(map);
	free(take);
	return sent;
}

int spool_send(const struct config *cfg, const struct spool_msg *all, size_t n_all, int *spooled)
{
	time_t now = time(NULL);
	/* What the replay would refuse is not spooled, nor sent: a hostile address goes nowhere. */
	struct round r = {0};
	for (size_t i = 0; i < n_all; i++)
		if (spool_msg_ok(&all[i]))
			round_add(&r, &all[i],
			          !all[i].channel || strcmp(all[i].channel, "whatsapp") == 0
			              ? all[i].phone
			              : NULL);
	struct pool pool = {0};
	int sent = 0, sp;
	*spooled = 1;
	/* A chain has at most CHAIN_MAX steps: as many rounds. */
	for (int k = 0; k < CHAIN_MAX && (k == 0 || r.n); k++) {
		struct round next = {0};
		sent += send_round(cfg, &r, now, &sp, &next, &pool);
		*spooled = *spooled && sp >= 0;
		round_release(&r);
		r = next;
	}
	round_release(&r);
	pool_release(&pool);
	return sent;
}

static char *jnum_text(struct json_object *o, const char *name)
{
	long long n;
	return json_get_int64(o, name, &n) == 0 ? xasprintf("%lld", n) : NULL;
}

static char *num_text(long long v)
{
	return v ? xasprintf("%lld", v) : NULL;
}

/*
 * A spooled message into whatsapp_logs, as outbox_queue() would have queued it. LINE_OK,
 * LINE_BAD (spooled_parse), -1 (db->err).
 */
static int replay_message(struct db *db, struct json_object *o)
{
	struct spooled m;
	int r = spooled_parse(o, &m);
	if (r != LINE_OK) {
		free(m.alert_ids);
		return r;
	}
	char *arr = pg_bigint_array(m.alert_ids, m.n_alert_ids);
	char *nb = num_text(m.not_before), *created = num_text(m.created_at);
	char *acct = num_text(m.account_id), *tenant = num_text(m.tenant_id);
	char *after = num_text(m.fallback_after_s), *follows = num_text(m.follows_id);
	const char *p[18] = {m.phone,
	                     m.content,
	                     m.priority,
	                     m.kind,
	                     m.key,
	                     arr,
	                     m.emergency ? "t" : "f",
	                     nb ? nb : created,
	                     created,
	                     m.channel,
	                     acct,
	                     tenant,
	                     m.fallback_chain,
	                     m.fallback_chain ? after : NULL,
	                     follows,
	                     m.reply_id,
	                     m.reply_title,
	                     m.follows_key};
	/*
	 * Account 0 (not known when spooled): the channel's tenant-less account, as
	 * account_for_channel() finds it; the operator's for WhatsApp.
	 */
	r = db_exec(db,
	            "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind,"
	            " idempotency_key, alert_ids, emergency, not_before, next_attempt_at,"
	            " created_at, channel, account_id, tenant_id, fallback_chain, fallback_at,"
	            " follows_id, reply_id, reply_title)"
	            " VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::boolean,"
	            " coalesce(to_timestamp($8::float8), now()), now(),"
	            " coalesce(to_timestamp($9::float8), now()), $10,"
	            " coalesce($11::bigint, CASE WHEN $10 = 'whatsapp' THEN 1 ELSE"
	            "   (SELECT id FROM accounts WHERE channel = $10 AND tenant_id IS NULL"
	            "    AND provider IS NOT NULL AND provider <> 'sandbox' ORDER BY id LIMIT 1)"
	            " END), $12::bigint, $13::text[],"
	            " coalesce(to_timestamp($8::float8), to_timestamp($9::float8), now())"
	            "   + make_interval(secs => $14::int),"
	            /* a step the spool made: the message it follows by its key */
	            " coalesce($15::bigint,"
	            "   (SELECT id FROM whatsapp_logs WHERE idempotency_key = $18)), $16, $17)"
	            " ON CONFLICT (idempotency_key) DO NOTHING",
	            18, p);
	free(nb);
	free(created);
	free(acct);
	free(tenant);
	free(after);
	free(follows);
	free(arr);
	free(m.alert_ids);
	return r;
}

/* A spooled send result onto its row. LINE_OK, LINE_BAD (a field missing), -1 (db->err). */
static int replay_result(struct db *db, struct json_object *o)
{
	struct json_object *t = NULL;
	json_object_object_get_ex(o, "as_template", &t);
	char *at = jnum_text(o, "at");
	const char *key = json_get_string(o, "key"), *id = json_get_string(o, "id"),
	           *lease = json_get_string(o, "lease");
	const char *p[11] = {key ? key : id,
	                     json_get_string(o, "status"),
	                     json_get_string(o, "provider"),
	                     json_get_string(o, "message_id"),
	                     json_get_string(o, "wa_id"),
	                     json_object_get_boolean(t) ? "t" : "f",
	                     json_get_string(o, "error_code"),
	                     json_get_string(o, "error"),
	                     at,
	                     lease,
	                     json_get_string(o, "fallback")};
	int r = LINE_BAD;
	char *sql =
	    xasprintf("UPDATE whatsapp_logs SET status = $2, provider = coalesce($3, provider),"
	              " provider_message_id = coalesce($4, provider_message_id),"
	              " wa_id = coalesce($5, wa_id), as_template = $6::boolean,"
	              " last_error_code = $7, last_error = $8,"
	              " attempts = attempts + CASE WHEN status = 'sending' THEN 0 ELSE 1 END,"
	              " sent_at = CASE WHEN $2 = 'sent' THEN to_timestamp($9::float8) END,"
	              " failed_at = CASE WHEN $2 = 'failed' THEN to_timestamp($9::float8) END,"
	              " claimed_at = NULL, lease_until = NULL, next_attempt_at = now(),"
	              /* the spool sent its next step already: as the fallback step marks it */
	              " fallback_state = CASE WHEN $11 IN ('failed', 'stopped')"
	              "   AND fallback_chain IS NOT NULL THEN 'queued' ELSE fallback_state END,"
	              " fallback_reason = CASE WHEN $11 IN ('failed', 'stopped')"
	              "   AND fallback_chain IS NOT NULL THEN $11 ELSE fallback_reason END"
	              " WHERE status IN ('queued', 'sending') AND %s"
	              /* a drainer's result: only onto the row its claim still holds */
	              " AND ($10::bigint IS NULL OR lease_id = $10::bigint)",
	              key ? "idempotency_key = $1" : "id = $1::bigint");
	if (p[0] && p[1] &&
	    (!strcmp(p[1], "sent") || !strcmp(p[1], "failed") || !strcmp(p[1], "queued")) &&
	    (key || parse_int(id, 1, INT64_MAX, &(long long){0}, &(const char *){NULL}) == 0))
		r = db_exec(db, sql, 11, p);
	free(sql);
	free(at);
	return r;
}

/*
 * How a replay writes records: into the state database (below), or, in a
 * unit test, somewhere it can look. apply() returns LINE_OK, LINE_BAD (the
 * record lacks a field), LINE_REFUSED (the database refuses this record:
 * with careful set the record ran in a savepoint and the transaction goes
 * on; without, it is spoilt and the piece is redone carefully) or -1 (the
 * database failed: stop, keep the spool).
 */
struct replay_ops {
	int (*begin)(void *arg);
	int (*commit)(void *arg);
	void (*rollback)(void *arg);
	int (*apply)(void *arg, struct json_object *o, const char *type, int careful);
	void *arg;
};

/* Did the statement fail because of the database (down, busy, cancelled), not the record? */
static int db_failed(const struct db *db)
{
	static const char *const classes[] = {"08", "40", "53", "55", "57", "58", "XX"};
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK || strlen(db->sqlstate) != 5)
		return 1;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(db->sqlstate, classes[i], 2) == 0)
			return 1;
	return 0;
}

static int db_apply(void *arg, struct json_object *o, const char *type, int careful)
{
	struct db *db = arg;
	if (careful && db_exec(db, "SAVEPOINT spool_line", 0, NULL) < 0)
		return -1;
	int r = strcmp(type, "message") == 0 ? replay_message(db, o) : replay_result(db, o);
	if (r < 0 && db_failed(db))
		return -1;
	if (r < 0 && !careful)
		return LINE_REFUSED;
	if (r < 0)
		log_warnx("spool_refused", "the state database refused a spooled %s: %s", type,
		          db->err);
	if (careful &&
	    db_exec(db, r < 0 ? "ROLLBACK TO SAVEPOINT spool_line" : "RELEASE SAVEPOINT spool_line",
	            0, NULL) < 0)
		return -1;
	return r < 0 ? LINE_REFUSED : r;
}

static int db_begin_op(void *arg)
{
	return db_begin(arg);
}

static int db_commit_op(void *arg)
{
	return db_commit(arg);
}

static void db_rollback_op(void *arg)
{
	db_rollback(arg);
}

/* One line through ops: LINE_OK, LINE_BAD (unreadable: quarantine it), LINE_REFUSED, -1. */
static int replay_line(const struct replay_ops *ops, const char *line, size_t len, int careful)
{
	struct json_object *o = NULL;
	char *err = NULL;
	if (!line || json_parse_object(line, len, &o, &err) < 0) {
		free(err);
		return LINE_BAD;
	}
	const char *type = json_get_string(o, "type");
	int r = LINE_BAD;
	if (type && (strcmp(type, "message") == 0 || strcmp(type, "result") == 0))
		r = ops->apply(ops->arg, o, type, careful);
	json_object_put(o);
	return r;
}

/* Offsets and sizes of a piece's lines to quarantine once it is committed. */
struct bad_lines {
	off_t off[SPOOL_PIECE_LINES];
	size_t size[SPOOL_PIECE_LINES];
	int n;
};

struct replay {
	const struct config *cfg;
	const struct replay_ops *ops;
	struct reader r;
	struct bad_lines *bad;
	int replayed, quarantined;
	int kept; /* a bad line could not be quarantined: keep the spool */
};

/*
 * Up to SPOOL_PIECE_LINES lines from the reader's position, in one
 * transaction; carefully (a savepoint per line) after a refusal spoilt the
 * first try. 1 more to come, 0 the end (*tail: where complete lines end),
 * -1 the database failed or the spool cannot be read.
 */
static int replay_piece(struct replay *rp, off_t *tail)
{
	off_t at = reader_pos(&rp->r);
	for (int careful = 0;; careful = 1) {
		int lines = 0, applied = 0, k = 1, v = 0;
		rp->bad->n = 0;
		reader_seek(&rp->r, at);
		if (rp->ops->begin(rp->ops->arg) < 0)
			return -1;
		while (lines < SPOOL_PIECE_LINES) {
			char *line;
			off_t off;
			size_t size;
			k = reader_next(&rp->r, &line, &off, &size);
			if (k <= 0) {
				*tail = off;
				break;
			}
			lines++;
			if (line && !*line)
				continue; /* an empty line */
			v = replay_line(rp->ops, line, line ? size - 1 : 0, careful);
			if (v < 0 || (v == LINE_REFUSED && !careful))
				break;
			if (v == LINE_OK) {
				applied++;
				continue;
			}
			rp->bad->off[rp->bad->n] = off;
			rp->bad->size[rp->bad->n++] = size;
		}
		if (k < 0)
			log_warn("spool_unreadable", "the spool cannot be read");
		if (k < 0 || v < 0 || (v == LINE_REFUSED && !careful)) {
			rp->ops->rollback(rp->ops->arg);
			if (k < 0 || v < 0)
				return -1;
			continue; /* again, a savepoint per line */
		}
		if (rp->ops->commit(rp->ops->arg) < 0)
			return -1;
		for (int i = 0; i < rp->bad->n; i++)
			if (quarantine(rp->cfg, rp->r.fd, rp->bad->off[i], rp->bad->size[i]) < 0)
				rp->kept = 1;
		rp->replayed += applied;
		rp->quarantined += rp->bad->n;
		return k > 0;
	}
}

/*
 * The locked spool through ops, piece by piece; emptied when every line is in
 * (or quarantined). Lines replayed, or -1 (the rest is kept for next time;
 * replaying again changes nothing).
 */
static int replay_with(const struct config *cfg, int fd, const struct replay_ops *ops,
                       int *quarantined)
{
	struct replay rp = {.cfg = cfg, .ops = ops, .bad = xmalloc(sizeof(struct bad_lines))};
	struct stat st;
	off_t tail = 0;
	int k, ret = -1;
	reader_init(&rp.r, fd);
	while ((k = replay_piece(&rp, &tail)) > 0)
		;
	*quarantined = rp.quarantined;
	if (k < 0)
		goto out;
	if (fstat(fd, &st) == 0 && st.st_size > tail) { /* a writer died mid-append */
		if (quarantine(cfg, fd, tail, (size_t)(st.st_size - tail)) < 0)
			rp.kept = 1;
		*quarantined = ++rp.quarantined;
	}
	if (rp.kept)
		log_warnx("spool_kept", "the spool is kept until its bad lines can be quarantined");
	else if (ftruncate(fd, 0) < 0 || fsync(fd) < 0)
		log_warn("spool_truncate", "the replayed spool could not be emptied");
	log_info("spool_replayed", "%d spooled line(s) written to the state database", rp.replayed);
	if (rp.quarantined)
		log_warnx(
		    "spool_quarantined",
		    "%d spooled line(s) could not be replayed: kept in %s/%s (%lld line(s) there"
		    " in all)",
		    rp.quarantined, cfg->spool_dir, SPOOL_QUARANTINE_FILE,
		    spool_quarantine_count(cfg));
	ret = rp.replayed;
out:
	reader_release(&rp.r);
	free(rp.bad);
	return ret;
}

int spool_replay(struct db *db, const struct config *cfg, int *quarantined)
{
	*quarantined = 0;
	char *path = spool_path(cfg);
	struct stat st;
	int present = stat(path, &st) == 0 && st.st_size > 0;
	free(path);
	if (!present)
		return 0;
	int fd = spool_open(cfg, 0);
	if (fd < 0)
		return 0;
	struct replay_ops ops = {db_begin_op, db_commit_op, db_rollback_op, db_apply, db};
	int n = replay_with(cfg, fd, &ops, quarantined);
	spool_close(fd);
	return n;
}

long long spool_quarantine_count(const struct config *cfg)
{
	char *path = spool_quarantine_path(cfg);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	struct reader r;
	reader_init(&r, fd);
	char *line;
	off_t off;
	size_t size;
	long long n = 0;
	while (reader_next(&r, &line, &off, &size) == 1)
		n++;
	reader_release(&r);
	close(fd);
	return n;
}
