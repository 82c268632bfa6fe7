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

#include "buf.h"
#include "log.h"
#include "outbox.h"
#include "spool.h"
#include "util.h"

#define SPOOL_FILE "outbox.spool"
#define SPOOL_MAX_BYTES (64 * 1024 * 1024)

char *spool_path(const struct config *cfg)
{
	return xasprintf("%s/%s", cfg->spool_dir, SPOOL_FILE);
}

/* Open and lock the spool. fd, or -1 (errno). */
static int spool_open(const struct config *cfg, int create)
{
	char *path = spool_path(cfg);
	if (create)
		mkdir(cfg->spool_dir, 0700); /* EEXIST is fine; open() reports the rest */
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
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

/* The whole spool, read from a locked fd. Caller frees; NULL on error. */
static char *read_all(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > SPOOL_MAX_BYTES)
		return NULL;
	char *data = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, data + got, (size_t)st.st_size - got, (off_t)got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			free(data);
			return NULL;
		}
		got += (size_t)r;
	}
	data[got] = '\0';
	*len = got;
	return data;
}

/* Append lines (each ending in \n) and fsync. 0, or -1 (errno). */
static int append(int fd, const char *text, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return fsync(fd);
}

static int contains_key(const char *data, const char *key)
{
	struct json_object *k = json_object_new_string(key);
	char *needle = xasprintf("\"key\":%s,",
	                         json_object_to_json_string_ext(
	                             k, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(k);
	int found = strstr(data, needle) != NULL;
	free(needle);
	return found;
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
	int r = fd < 0 ? -1 : append(fd, b.data, b.len);
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
	size_t len;
	char *data = read_all(fd, &len);
	int found = data && contains_key(data, key);
	free(data);
	spool_close(fd);
	return found;
}

int spool_send(const struct config *cfg, const struct spool_msg *m, size_t n, int *spooled)
{
	*spooled = 0;
	int fd = spool_open(cfg, 1);
	char *existing = NULL;
	size_t len = 0;
	if (fd >= 0)
		existing = read_all(fd, &len);
	struct buf b = BUF_INIT(SPOOL_MAX_BYTES);
	int *take = xcalloc(n + 1, sizeof(int));
	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		if (existing && contains_key(existing, m[i].key))
			continue;
		take[i] = 1;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("message"));
		add_str(o, "key", m[i].key);
		add_str(o, "phone", m[i].phone);
		add_str(o, "content", m[i].content);
		add_str(o, "priority", m[i].priority);
		add_str(o, "kind", m[i].kind);
		struct json_object *ids = json_object_new_array();
		for (size_t k = 0; k < m[i].n_alert_ids; k++)
			json_object_array_add(ids, json_object_new_int64(m[i].alert_ids[k]));
		json_object_object_add(o, "alert_ids", ids);
		json_object_object_add(o, "emergency", json_object_new_boolean(m[i].emergency));
		json_object_object_add(o, "not_before", json_object_new_int64(m[i].not_before));
		json_object_object_add(o, "created_at", json_object_new_int64((int64_t)now));
		line_of(&b, o);
	}
	free(existing);
	if (fd >= 0 && b.len && append(fd, b.data, b.len) == 0)
		*spooled = 1;
	else if (b.len)
		log_warn("spool_failed", "the spool %s/%s cannot be written; sending anyway",
		         cfg->spool_dir, SPOOL_FILE);
	if (fd >= 0)
		spool_close(fd); /* not held while sending */
	buf_reset(&b);

	/* Send what is due now (held warnings wait in the spool for the replay). */
	struct outbox_send *v = xcalloc(n + 1, sizeof(*v));
	size_t *map = xcalloc(n + 1, sizeof(size_t));
	int nv = 0;
	for (size_t i = 0; i < n; i++) {
		if (!take[i] || (m[i].not_before && m[i].not_before > (long long)now))
			continue;
		v[nv].phone = m[i].phone;
		v[nv].content = m[i].content;
		v[nv].priority = m[i].priority;
		map[nv++] = i;
	}
	const struct provider *p = provider_for(cfg);
	int sent = 0;
	if (nv)
		outbox_send_batch(cfg, p, v, nv, 0);
	for (int k = 0; k < nv; k++) {
		sent += v[k].rs.outcome == SEND_SENT;
		line_of(&b, result_json(m[map[k]].key, NULL, NULL, p->name, v[k].as_template,
		                        &v[k].rs));
		log_warnx("spooled_send", "to %s while the state database is down: %s %s",
		          v[k].phone, send_outcome_name(v[k].rs.outcome), v[k].rs.error_code);
	}
	if (b.len) {
		fd = spool_open(cfg, 1);
		if (fd < 0 || append(fd, b.data, b.len) < 0)
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

static const char *jstr(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static char *jnum_text(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return NULL;
	return xasprintf("%lld", (long long)json_object_get_int64(v));
}

static int replay_message(struct db *db, struct json_object *o)
{
	struct json_object *ids = NULL, *e = NULL;
	struct buf arr = BUF_INIT(1 << 20);
	buf_puts(&arr, "{");
	if (json_object_object_get_ex(o, "alert_ids", &ids) &&
	    json_object_is_type(ids, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ids); i++)
			buf_printf(
			    &arr, "%s%lld", i ? "," : "",
			    (long long)json_object_get_int64(json_object_array_get_idx(ids, i)));
	buf_puts(&arr, "}");
	json_object_object_get_ex(o, "emergency", &e);
	char *nb = jnum_text(o, "not_before"), *created = jnum_text(o, "created_at");
	const char *p[9] = {jstr(o, "phone"),
	                    jstr(o, "content"),
	                    jstr(o, "priority"),
	                    jstr(o, "kind"),
	                    jstr(o, "key"),
	                    buf_str(&arr),
	                    json_object_get_boolean(e) ? "t" : "f",
	                    nb && strcmp(nb, "0") != 0 ? nb : created,
	                    created};
	int r = 0;
	if (p[0] && p[1] && p[2] && p[3] && p[4])
		r = db_exec(
		    db,
		    "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind,"
		    " idempotency_key, alert_ids, emergency, not_before, next_attempt_at,"
		    " created_at)"
		    " VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::boolean,"
		    " coalesce(to_timestamp($8::float8), now()), now(),"
		    " coalesce(to_timestamp($9::float8), now()))"
		    " ON CONFLICT (idempotency_key) DO NOTHING",
		    9, p);
	else
		log_warnx("spool_skipped", "a spooled message lacks a field; skipped");
	free(nb);
	free(created);
	buf_release(&arr);
	return r;
}

static int replay_result(struct db *db, struct json_object *o)
{
	struct json_object *t = NULL;
	json_object_object_get_ex(o, "as_template", &t);
	char *at = jnum_text(o, "at");
	const char *key = jstr(o, "key"), *id = jstr(o, "id"), *lease = jstr(o, "lease");
	const char *p[10] = {key ? key : id,
	                     jstr(o, "status"),
	                     jstr(o, "provider"),
	                     jstr(o, "message_id"),
	                     jstr(o, "wa_id"),
	                     json_object_get_boolean(t) ? "t" : "f",
	                     jstr(o, "error_code"),
	                     jstr(o, "error"),
	                     at,
	                     lease};
	int r = 0;
	char *sql =
	    xasprintf("UPDATE whatsapp_logs SET status = $2, provider = coalesce($3, provider),"
	              " provider_message_id = coalesce($4, provider_message_id),"
	              " wa_id = coalesce($5, wa_id), as_template = $6::boolean,"
	              " last_error_code = $7, last_error = $8,"
	              " attempts = attempts + CASE WHEN status = 'sending' THEN 0 ELSE 1 END,"
	              " sent_at = CASE WHEN $2 = 'sent' THEN to_timestamp($9::float8) END,"
	              " failed_at = CASE WHEN $2 = 'failed' THEN to_timestamp($9::float8) END,"
	              " claimed_at = NULL, lease_until = NULL, next_attempt_at = now()"
	              " WHERE status IN ('queued', 'sending') AND %s"
	              /* a drainer's result: only onto the row its claim still holds */
	              " AND ($10::bigint IS NULL OR lease_id = $10::bigint)",
	              key ? "idempotency_key = $1" : "id = $1::bigint");
	if (p[0] && p[1] &&
	    (!strcmp(p[1], "sent") || !strcmp(p[1], "failed") || !strcmp(p[1], "queued")) &&
	    (key || parse_int(id, 1, INT64_MAX, &(long long){0}, &(const char *){NULL}) == 0))
		r = db_exec(db, sql, 10, p);
	else
		log_warnx("spool_skipped", "a spooled result lacks a field; skipped");
	free(sql);
	free(at);
	return r;
}

int spool_replay(struct db *db, const struct config *cfg)
{
	char *path = spool_path(cfg);
	struct stat st;
	int present = stat(path, &st) == 0 && st.st_size > 0;
	free(path);
	if (!present)
		return 0;
	int fd = spool_open(cfg, 0);
	if (fd < 0)
		return 0;
	size_t len = 0;
	char *data = read_all(fd, &len);
	if (!data) {
		log_warn("spool_unreadable", "the spool cannot be read");
		spool_close(fd);
		return 0;
	}
	int n = 0, ret = 0;
	if (len && db_begin(db) < 0)
		ret = -1;
	for (char *line = data, *end; ret == 0 && line < data + len; line = end + 1) {
		end = strchr(line, '\n');
		if (!end) /* a torn last line: its message was never sent */
			break;
		*end = '\0';
		struct json_object *o = json_tokener_parse(line);
		const char *type = o ? jstr(o, "type") : NULL;
		if (type && strcmp(type, "message") == 0)
			ret = replay_message(db, o);
		else if (type && strcmp(type, "result") == 0)
			ret = replay_result(db, o);
		else if (*line)
			log_warnx("spool_skipped", "an unreadable spool line was skipped");
		json_object_put(o);
		n++;
	}
	if (len && ret == 0)
		ret = db_commit(db);
	if (ret == 0) {
		if (ftruncate(fd, 0) < 0 || fsync(fd) < 0)
			log_warn("spool_truncate", "the replayed spool could not be emptied");
		log_info("spool_replayed", "%d spooled line(s) written to the state database", n);
	} else {
		db_rollback(db);
	}
	free(data);
	spool_close(fd);
	return ret < 0 ? -1 : n;
}
