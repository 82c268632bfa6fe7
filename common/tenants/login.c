#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "delivery/submit.h"
#include "tenants/login.h"

/* ------------------------------------------------------------------ rate limits */

/*
 * Seconds to wait before a request of kind ($6, 'code' or 'session') for number $1 from address
 * $2 is allowed: the longest of the waits of each limit ($3 resend seconds, $4 code requests per
 * hour per number, $5 requests per hour per address); 0 or less: allowed. An hourly limit of N
 * frees a place when the oldest of the latest N requests is an hour old.
 */
static const char wait_sql[] =
    "SELECT ceil(greatest(0,"
    " (SELECT extract(epoch FROM max(at) + make_interval(secs => $3::int) - now())"
    "   FROM tenant_auth_requests WHERE $6 = 'code' AND kind = 'code' AND number = $1"
    "   AND at > now() - make_interval(secs => $3::int)),"
    " (SELECT CASE WHEN count(*) >= $4::int THEN"
    "   extract(epoch FROM min(at) + interval '1 hour' - now()) END"
    "   FROM (SELECT at FROM tenant_auth_requests WHERE $6 = 'code' AND kind = 'code'"
    "   AND number = $1 AND at > now() - interval '1 hour' ORDER BY at DESC LIMIT $4::int) n),"
    " (SELECT CASE WHEN count(*) >= $5::int THEN"
    "   extract(epoch FROM min(at) + interval '1 hour' - now()) END"
    "   FROM (SELECT at FROM tenant_auth_requests WHERE client_address = $2"
    "   AND at > now() - interval '1 hour' ORDER BY at DESC LIMIT $5::int) a)))::bigint";

/*
 * Inside the caller's transaction: take the number's lock (two requests for one number are
 * counted one after the other), check the limits, record the request when allowed. 0 allowed,
 * LOGIN_LIMITED (*retry_after), -1.
 */
static int take_slot(struct db *db, const struct config *cfg, const char *kind, const char *number,
                     const char *addr, long long *retry_after)
{
	char resend[24], per_hour[24], per_addr[24];
	snprintf(resend, sizeof(resend), "%lld", cfg->login_code_resend_s);
	snprintf(per_hour, sizeof(per_hour), "%lld", cfg->login_codes_per_hour);
	snprintf(per_addr, sizeof(per_addr), "%lld", cfg->login_requests_per_address_hour);
	const char *lock[] = {number};
	const char *p[] = {number, addr, resend, per_hour, per_addr, kind};
	if (db_exec(db, "SELECT pg_advisory_xact_lock(hashtext('tenant_auth ' || $1))", 1, lock) <
	    0)
		return -1;
	PGresult *r = db_query(db, wait_sql, 6, p);
	if (!r)
		return -1;
	*retry_after = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (*retry_after > 0)
		return LOGIN_LIMITED;
	const char *ins[] = {kind, number, addr};
	return db_exec(db,
	               "INSERT INTO tenant_auth_requests (kind, number, client_address)"
	               " VALUES ($1, $2, $3)",
	               3, ins);
}

/* ------------------------------------------------------------------ codes */

static const char *purpose_text(const char *purpose, const char *code, long long minutes, char *out,
                                size_t n)
{
	if (strcmp(purpose, "login") == 0)
		snprintf(out, n,
		         "Your login code is %s. It expires in %lld minutes. Never share it.", code,
		         minutes);
	else
		snprintf(out, n,
		         "Your code to confirm this number for alerts is %s. It expires in %lld "
		         "minutes.",
		         code, minutes);
	return out;
}

/* The HMAC of code for purpose and number (the context binds it to both). 0 / -1. */
static int code_hash(const struct config *cfg, const char *purpose, const char *number,
                     const char *code, char out[SHA256_HEX_SIZE])
{
	char context[64];
	snprintf(context, sizeof(context), "%s %s", purpose, number);
	return login_code_hash(cfg->tenant_code_secret, strlen(cfg->tenant_code_secret), context,
	                       code, out);
}

/*
 * A new code for purpose ("login", "verify") to number for tenant_id, stored and queued in the
 * caller's transaction. 0 / -1.
 */
static int send_code(struct db *db, const struct config *cfg, long long tenant_id,
                     const char *purpose, const char *number)
{
	char code[LOGIN_CODE_SIZE], hash[SHA256_HEX_SIZE], tid[24], ttl[24], key[48], text[160];
	if (login_code_new(code) < 0 || code_hash(cfg, purpose, number, code, hash) < 0) {
		snprintf(db->err, sizeof(db->err), "no code could be made (random source)");
		return -1;
	}
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	snprintf(ttl, sizeof(ttl), "%lld", cfg->login_code_ttl_s);
	const char *p[] = {tid, purpose, number, hash, ttl};
	PGresult *r = db_query(db,
	                       "INSERT INTO tenant_codes (tenant_id, purpose, number, code_hash,"
	                       " expires_at) VALUES ($1, $2, $3, $4,"
	                       " now() + make_interval(secs => $5::int)) RETURNING id",
	                       5, p);
	if (!r)
		return -1;
	snprintf(key, sizeof(key), "code:%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	struct outbox_msg m = {
	    .phone = number,
	    .content =
	        purpose_text(purpose, code, (cfg->login_code_ttl_s + 59) / 60, text, sizeof(text)),
	    .priority = "critical",
	    .kind = strcmp(purpose, "login") == 0 ? "login_code" : "verify_code",
	    .key = key,
	    .tenant_id = tenant_id,
	};
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result res;
	delivery_batch_add(&b, &m);
	int rc = delivery_submit(db, cfg, &b, &res);
	delivery_batch_release(&b);
	return rc;
}

/* The newest code of a number (login: $1 the number) or of a tenant's number (verify: $1 the
 * tenant, $3 the number), locked: id, tenant_id, code_hash, attempts, live (not expired),
 * used. */
static const char newest_login_sql[] =
    "SELECT id, tenant_id, code_hash, attempts, expires_at > now(), used_at IS NOT NULL"
    " FROM tenant_codes WHERE number = $1 AND purpose = 'login' ORDER BY id DESC LIMIT 1"
    " FOR UPDATE";
static const char newest_verify_sql[] =
    "SELECT id, tenant_id, code_hash, attempts, expires_at > now(), used_at IS NOT NULL"
    " FROM tenant_codes WHERE tenant_id = $1 AND purpose = 'verify' AND number = $2"
    " ORDER BY id DESC LIMIT 1 FOR UPDATE";

struct code_row {
	char id[24];
	long long tenant_id;
	char hash[SHA256_HEX_SIZE];
	long long attempts;
	int live, used;
};

/* Count one try on the row and judge it. 0 right, LOGIN_REFUSED (*why), -1. */
static int try_code(struct db *db, const struct config *cfg, const char *purpose,
                    const char *number, const struct code_row *c, const char *code,
                    const char **why)
{
	const char *p[] = {c->id};
	if (c->used) {
		*why = LOGIN_E_INVALID_CODE;
		return LOGIN_REFUSED;
	}
	if (c->attempts >= cfg->login_code_max_attempts) {
		*why = LOGIN_E_ATTEMPTS;
		return LOGIN_REFUSED;
	}
	if (!c->live) {
		*why = LOGIN_E_EXPIRED;
		return LOGIN_REFUSED;
	}
	/* Counted before the comparison, under the row's lock. */
	if (db_exec(db, "UPDATE tenant_codes SET attempts = attempts + 1 WHERE id = $1", 1, p) < 0)
		return -1;
	char context[64];
	snprintf(context, sizeof(context), "%s %s", purpose, number);
	if (!login_code_matches(cfg->tenant_code_secret, strlen(cfg->tenant_code_secret), context,
	                        code, c->hash)) {
		*why = LOGIN_E_INVALID_CODE;
		return LOGIN_REFUSED;
	}
	if (db_exec(db, "UPDATE tenant_codes SET used_at = now() WHERE id = $1", 1, p) < 0)
		return -1;
	/* Spent: the audit log keeps the message, not the code. */
	return db_exec(db,
	               "UPDATE whatsapp_logs SET message_content = regexp_replace(message_content,"
	               " '[0-9]{6}', '******') WHERE idempotency_key = 'code:' || $1",
	               1, p);
}

/* The newest code by sql with params p (2). 0 and *c, 1 none, -1. */
static int newest_code(struct db *db, const char *sql, const char *const *p, struct code_row *c)
{
	PGresult *r = db_query(db, sql, 2, p);
	if (!r)
		return -1;
	int n = PQntuples(r);
	if (n == 1) {
		snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(r, 0, 0));
		c->tenant_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
		snprintf(c->hash, sizeof(c->hash), "%s", PQgetvalue(r, 0, 2));
		c->attempts = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
		c->live = PQgetvalue(r, 0, 4)[0] == 't';
		c->used = PQgetvalue(r, 0, 5)[0] == 't';
	}
	PQclear(r);
	return n == 1 ? 0 : 1;
}

/* ------------------------------------------------------------------ login */

int login_request(struct db *db, const struct config *cfg, const char *number, const char *addr,
                  long long *retry_after)
{
	int rc;
	*retry_after = 0;
	if (db_begin(db) < 0)
		return -1;
	rc = take_slot(db, cfg, "code", number, addr, retry_after);
	if (rc != 0)
		goto done;
	const char *p[] = {number};
	PGresult *r = db_query(db,
	                       "SELECT id FROM tenants WHERE whatsapp_number = $1"
	                       " AND whatsapp_verified_at IS NOT NULL AND status = 'active'",
	                       1, p);
	if (!r) {
		rc = -1;
		goto done;
	}
	long long tid = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	if (tid)
		rc = send_code(db, cfg, tid, "login", number);
done:
	if (rc < 0 || db_commit(db) < 0) {
		log_warnx("login_request_failed", "%s", db->err);
		db_rollback(db);
		return -1;
	}
	return rc;
}

/* A session for tenant tid, in the caller's transaction. 0 and s->token, s->expires_at; -1. */
static int new_session(struct db *db, const struct config *cfg, long long tid,
                       struct login_session *s)
{
	char hash[SHA256_HEX_SIZE], t[24], hours[24];
	if (session_token_new(s->token) < 0 || session_token_hash(s->token, hash) < 0) {
		snprintf(db->err, sizeof(db->err),
		         "no session token could be made (random source)");
		return -1;
	}
	snprintf(t, sizeof(t), "%lld", tid);
	snprintf(hours, sizeof(hours), "%lld", cfg->tenant_session_hours);
	const char *p[] = {hash, t, hours};
	PGresult *r = db_query(
	    db,
	    "INSERT INTO tenant_sessions (token_hash, tenant_id, expires_at)"
	    " VALUES ($1, $2, now() + make_interval(hours => $3::int))"
	    " RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
	    3, p);
	if (!r)
		return -1;
	snprintf(s->expires_at, sizeof(s->expires_at), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* After the right code: the tenant must still be active and hold the number. 0, LOGIN_REFUSED, -1.
 */
static int open_session(struct db *db, const struct config *cfg, const char *number, long long tid,
                        struct login_session *s)
{
	int rc = tenant_load_id(db, tid, &s->tenant);
	if (rc != 0)
		return rc < 0 ? -1 : LOGIN_REFUSED;
	if (strcmp(s->tenant.status, "active") != 0 || !s->tenant.whatsapp_number ||
	    strcmp(s->tenant.whatsapp_number, number) != 0) {
		tenant_release(&s->tenant);
		return LOGIN_REFUSED;
	}
	return new_session(db, cfg, tid, s);
}

int login_exchange(struct db *db, const struct config *cfg, const char *number, const char *code,
                   const char *addr, long long *retry_after, struct login_session *s)
{
	struct code_row c;
	const char *why = NULL;
	memset(s, 0, sizeof(*s));
	*retry_after = 0;
	if (db_begin(db) < 0)
		return -1;
	int rc = take_slot(db, cfg, "session", number, addr, retry_after);
	if (rc == 0) {
		const char *p[] = {number, NULL};
		rc = newest_code(db, newest_login_sql, p, &c);
		if (rc == 1)
			rc = LOGIN_REFUSED;
	}
	if (rc == 0)
		rc = try_code(db, cfg, "login", number, &c, code, &why);
	if (rc == 0)
		rc = open_session(db, cfg, number, c.tenant_id, s);
	/* A refused try stays counted: commit it. */
	if (rc < 0 || db_commit(db) < 0) {
		log_warnx("login_exchange_failed", "%s", db->err);
		db_rollback(db);
		tenant_release(&s->tenant);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	if (rc != 0)
		tenant_release(&s->tenant);
	return rc;
}

int login_revoke(struct db *db, const char *hash)
{
	const char *p[] = {hash};
	if (db_exec(db,
	            "UPDATE tenant_sessions SET revoked_at = now() WHERE token_hash = $1"
	            " AND revoked_at IS NULL",
	            1, p) < 0) {
		log_warnx("session_revoke_failed", "%s", db->err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ verify */

int verify_start(struct db *db, const struct config *cfg, long long tenant_id, const char *number,
                 const char *addr, long long *retry_after, const char **code)
{
	char tid[24];
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	const char *p[] = {number, tid};
	*retry_after = 0;
	PGresult *r =
	    db_query(db, "SELECT 1 FROM tenants WHERE whatsapp_number = $1 AND id <> $2", 2, p);
	if (!r)
		return -1;
	int taken = PQntuples(r) > 0;
	PQclear(r);
	if (taken) {
		*code = LOGIN_E_IN_USE;
		return LOGIN_REFUSED;
	}
	int rc = take_slot(db, cfg, "code", number, addr, retry_after);
	if (rc != 0)
		return rc;
	if (db_exec(db, "UPDATE tenants SET pending_whatsapp_number = $1 WHERE id = $2", 2, p) < 0)
		return -1;
	return send_code(db, cfg, tenant_id, "verify", number);
}

/* Make the pending number the tenant's. 0, LOGIN_REFUSED (in use), -1. */
static int adopt_pending(struct db *db, const char *tid, struct tenant *t, const char **code)
{
	const char *p[] = {tid};
	int rc = db_exec(db,
	                 "UPDATE tenants SET whatsapp_number = pending_whatsapp_number,"
	                 " whatsapp_verified_at = now(), pending_whatsapp_number = NULL"
	                 " WHERE id = $1",
	                 1, p);
	if (rc < 0 && tenant_number_taken(db)) {
		*code = LOGIN_E_IN_USE;
		return LOGIN_REFUSED;
	}
	if (rc < 0)
		return -1;
	return tenant_load_id(db, strtoll(tid, NULL, 10), t) == 0 ? 0 : -1;
}

/* The verification in the open transaction. 0, LOGIN_REFUSED, -1. */
static int confirm(struct db *db, const struct config *cfg, const char *tid, const char *code_text,
                   struct tenant *t, const char **code)
{
	struct code_row c;
	const char *p[] = {tid};
	PGresult *r = db_query(
	    db, "SELECT pending_whatsapp_number FROM tenants WHERE id = $1 FOR UPDATE", 1, p);
	if (!r)
		return -1;
	char number[32] = "";
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		snprintf(number, sizeof(number), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!*number) {
		*code = LOGIN_E_NOTHING;
		return LOGIN_REFUSED;
	}
	const char *q[] = {tid, number};
	int rc = newest_code(db, newest_verify_sql, q, &c);
	if (rc == 1) {
		*code = LOGIN_E_EXPIRED;
		return LOGIN_REFUSED;
	}
	if (rc == 0)
		rc = try_code(db, cfg, "verify", number, &c, code_text, code);
	if (rc == 0)
		rc = adopt_pending(db, tid, t, code);
	return rc;
}

int verify_confirm(struct db *db, const struct config *cfg, long long tenant_id,
                   const char *code_text, struct tenant *t, const char **code)
{
	char tid[24];
	snprintf(tid, sizeof(tid), "%lld", tenant_id);
	memset(t, 0, sizeof(*t));
	if (db_begin(db) < 0)
		return -1;
	int rc = confirm(db, cfg, tid, code_text, t, code);
	if (rc == LOGIN_REFUSED && strcmp(*code, LOGIN_E_IN_USE) == 0) {
		/* The failed UPDATE spoilt the transaction; the try is not counted then. */
		db_rollback(db);
		return rc;
	}
	if (rc < 0 || db_commit(db) < 0) {
		log_warnx("verify_failed", "%s", db->err);
		db_rollback(db);
		tenant_release(t);
		return -1;
	}
	return rc;
}

int login_prune(struct db *db, struct login_pruned *n)
{
	static const char *const sql[] = {
	    "DELETE FROM tenant_auth_requests WHERE at < now() - interval '1 day'",
	    "DELETE FROM tenant_codes WHERE expires_at < now() - interval '1 day'",
	    "DELETE FROM tenant_sessions WHERE coalesce(revoked_at, expires_at)"
	    " < now() - interval '7 days'",
	};
	long long *out[] = {&n->requests, &n->codes, &n->sessions};
	memset(n, 0, sizeof(*n));
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		PGresult *r = db_query(db, sql[i], 0, NULL);
		if (!r) {
			log_warnx("login_prune_failed", "%s", db->err);
			return -1;
		}
		*out[i] = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
	return 0;
}
