/*
 * login.h: a seller's WhatsApp login and the check of a number a seller sets (issue 16).
 *
 * Both send a 6-digit code on WhatsApp (through the outbox, delivery/submit.h, tenant_id set,
 * never held by an operator's pause) and take it back:
 *   - login: POST /tenants/login names a number; a code goes to it only if it is an active
 *     tenant's verified number, and the caller answers the same either way. POST
 *     /tenants/session exchanges number and code for a session token (stored as its SHA-256,
 *     lasting TENANT_SESSION_HOURS, ended by DELETE /tenants/session).
 *   - verify: a seller's new number is kept aside (tenants.pending_whatsapp_number) and a code
 *     sent to it; POST /tenants/me/verify with the code makes it the number alerts go to.
 * Codes are stored keyed-hashed (core/secret.h), live LOGIN_CODE_TTL_SECONDS, are spent by the
 * first right try and used up by LOGIN_CODE_MAX_ATTEMPTS tries (each counted before the
 * comparison, under the row's lock). A spent code's digits are masked in its message's row
 * (whatsapp_logs keeps the message); until then the outbox row holds the text that was sent,
 * code included, as it must to send it. Only the newest code of a number (login) or of a tenant's
 * pending number (verify) is live.
 *
 * Rate limits (tenant_auth_requests, sql/009), counted alike for unknown numbers: a code
 * request for a number LOGIN_CODE_RESEND_SECONDS after the previous one at the soonest, at most
 * LOGIN_CODES_PER_HOUR an hour; login and session requests from one client address at most
 * LOGIN_REQUESTS_PER_ADDRESS_HOUR an hour. A refused request is not recorded (it does not
 * push the wait further).
 *
 * All need cfg->tenant_code_secret set (the caller refuses first when it is not).
 * Results: 0 done; LOGIN_LIMITED with *retry_after (seconds); LOGIN_REFUSED with *code (static,
 * below); -1 the state database failed (db->err; rolled back).
 */
#ifndef TENANT_LOGIN_H
#define TENANT_LOGIN_H

#include "core/config.h"
#include "core/secret.h"
#include "db/db.h"
#include "tenants/tenant.h"

enum { LOGIN_LIMITED = 1, LOGIN_REFUSED = 2 };

#define LOGIN_E_INVALID_CODE "invalid_code"
#define LOGIN_E_EXPIRED "code_expired"
#define LOGIN_E_ATTEMPTS "too_many_attempts"
#define LOGIN_E_NOTHING "nothing_to_verify"
#define LOGIN_E_IN_USE "whatsapp_number_in_use"

/* POST /tenants/login for number (E.164) from client address addr, in its own transaction.
 * 0 (a code was sent, or nobody has that number: the caller cannot tell), LOGIN_LIMITED, -1. */
int login_request(struct db *db, const struct config *cfg, const char *number, const char *addr,
                  long long *retry_after);

struct login_session {
	char token[SESSION_TOKEN_LEN + 1];
	char expires_at[32]; /* UTC, ISO 8601 */
	struct tenant tenant;
};

/* POST /tenants/session. 0 and *s (release s->tenant), LOGIN_LIMITED, LOGIN_REFUSED
 * (LOGIN_E_INVALID_CODE, whatever was wrong), -1. */
int login_exchange(struct db *db, const struct config *cfg, const char *number, const char *code,
                   const char *addr, long long *retry_after, struct login_session *s);

/* End the session whose token hashes to hash (DELETE /tenants/session). 0 / -1. */
int login_revoke(struct db *db, const char *hash);

/*
 * Start checking number for tenant tenant_id, inside the caller's transaction: record it as
 * pending and send it a code. 0, LOGIN_LIMITED, LOGIN_REFUSED (LOGIN_E_IN_USE: it is another
 * tenant's number), -1.
 */
int verify_start(struct db *db, const struct config *cfg, long long tenant_id, const char *number,
                 const char *addr, long long *retry_after, const char **code);

/*
 * POST /tenants/me/verify: in its own transaction. 0 and *t (the number is now the tenant's),
 * LOGIN_REFUSED with *code (nothing_to_verify, invalid_code, code_expired, too_many_attempts,
 * whatsapp_number_in_use), -1.
 */
int verify_confirm(struct db *db, const struct config *cfg, long long tenant_id,
                   const char *code_text, struct tenant *t, const char **code);

/*
 * What the daily prune (jobs/tick.c) removes: rate-limit records older than a day, codes a day
 * past their expiry, sessions a week after they ended. Counts in *n. 0 / -1.
 */
struct login_pruned {
	long long requests, codes, sessions;
};
int login_prune(struct db *db, struct login_pruned *n);

#endif
