/*
 * auth.h: who a seller is, from the Authorization header alone (issue 16).
 *
 * "Bearer <token>": a token with dots is the platform's JWT (core/jwt.h, HS256 with
 * TENANT_JWT_SECRET, sub = the tenant's external_id); any other is a session token from a
 * WhatsApp login (tenants/login.h), looked up by its SHA-256. Either way the tenant is loaded
 * and must be active, on every request: suspending a tenant ends its sessions and tokens at
 * once. The identity is the tenant's row id; a seller route scopes every query by it and takes
 * no tenant from the request.
 *
 * A refusal is a short code (static, one of TENANT_AUTH_E_* or core/jwt.h's JWT_E_*), all a
 * 401 tells: never the secret, never the token.
 */
#ifndef TENANT_AUTH_H
#define TENANT_AUTH_H

#include "core/config.h"
#include "core/hmac.h"
#include "db/db.h"
#include "tenants/tenant.h"

#define TENANT_AUTH_E_MISSING "missing_token"
#define TENANT_AUTH_E_NO_JWT "jwt_not_configured"
#define TENANT_AUTH_E_UNKNOWN "unknown_tenant"
#define TENANT_AUTH_E_SUSPENDED "tenant_suspended"
#define TENANT_AUTH_E_SESSION "invalid_session"

struct tenant_identity {
	long long tenant_id;
	int session;                        /* 1: a session token, 0: a platform JWT */
	char session_hash[SHA256_HEX_SIZE]; /* with session: the token's SHA-256 ("" otherwise) */
};

/*
 * Authenticate the value of an Authorization header (NULL when absent) at time now (epoch
 * seconds). 0 with *id and *t (the tenant, active; release it); 1 refused, with *code; -1 the
 * state database failed (db->err).
 */
int tenant_authenticate(struct db *db, const struct config *cfg, const char *authorization,
                        long long now, struct tenant_identity *id, struct tenant *t,
                        const char **code);

/* A sentence for a refusal's code, for the 401's message. */
const char *tenant_auth_message(const char *code);

#endif
