#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwt.h"
#include "core/log.h"
#include "core/secret.h"
#include "tenants/auth.h"

static const struct {
	const char *code, *message;
} messages[] = {
    {TENANT_AUTH_E_MISSING, "Authorization: Bearer <token> is required"},
    {TENANT_AUTH_E_NO_JWT, "platform tokens are not accepted here (TENANT_JWT_SECRET is not set)"},
    {TENANT_AUTH_E_UNKNOWN, "the token names no tenant"},
    {TENANT_AUTH_E_SUSPENDED, "this tenant is suspended"},
    {TENANT_AUTH_E_SESSION, "the session is unknown, expired or ended: sign in again"},
    {JWT_E_EXPIRED, "the token has expired"},
    {JWT_E_NOT_YET_VALID, "the token is not valid yet"},
    {JWT_E_BAD_AUDIENCE, "the token is for another audience"},
    {JWT_E_MISSING_CLAIM, "the token lacks sub or exp"},
    {JWT_E_BAD_ALG, "the token's algorithm must be HS256"},
    {JWT_E_BAD_SIGNATURE, "the token's signature is wrong"},
};

const char *tenant_auth_message(const char *code)
{
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (strcmp(messages[i].code, code) == 0)
			return messages[i].message;
	return "the token is malformed";
}

/* The tenant a verified token names, active. 0, 1 refused (*code), -1. */
static int by_jwt(struct db *db, const struct config *cfg, const char *token, long long now,
                  struct tenant *t, const char **code)
{
	struct jwt_claims claims;
	struct jwt_check check = {cfg->tenant_jwt_secret, strlen(cfg->tenant_jwt_secret),
	                          cfg->tenant_jwt_audience, now, cfg->tenant_jwt_leeway_s};
	if (!*cfg->tenant_jwt_secret) {
		*code = TENANT_AUTH_E_NO_JWT;
		return 1;
	}
	if (jwt_verify_hs256(token, &check, &claims, code) < 0)
		return 1;
	int rc = tenant_load_external(db, claims.sub, t);
	if (rc > 0)
		*code = TENANT_AUTH_E_UNKNOWN;
	return rc;
}

/* The tenant of a live session. 0, 1 refused (*code), -1. */
static int by_session(struct db *db, const char *token, struct tenant_identity *id,
                      struct tenant *t, const char **code)
{
	char idbuf[24];
	*code = TENANT_AUTH_E_SESSION;
	if (session_token_hash(token, id->session_hash) < 0)
		return 1;
	const char *p[] = {id->session_hash};
	PGresult *r = db_query_idem(db,
	                            "SELECT tenant_id FROM tenant_sessions WHERE token_hash = $1"
	                            " AND revoked_at IS NULL AND expires_at > now()",
	                            1, p);
	if (!r) {
		log_warnx("session_lookup_failed", "%s", db->err);
		return -1;
	}
	int found = PQntuples(r) == 1;
	snprintf(idbuf, sizeof(idbuf), "%s", found ? PQgetvalue(r, 0, 0) : "0");
	PQclear(r);
	if (!found)
		return 1;
	id->session = 1;
	return tenant_load_id(db, strtoll(idbuf, NULL, 10), t);
}

int tenant_authenticate(struct db *db, const struct config *cfg, const char *authorization,
                        long long now, struct tenant_identity *id, struct tenant *t,
                        const char **code)
{
	memset(id, 0, sizeof(*id));
	memset(t, 0, sizeof(*t));
	*code = TENANT_AUTH_E_MISSING;
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
		return 1;
	const char *token = authorization + 7;
	while (*token == ' ')
		token++;
	if (!*token)
		return 1;
	int rc = strchr(token, '.') ? by_jwt(db, cfg, token, now, t, code)
	                            : by_session(db, token, id, t, code);
	if (rc == 0 && strcmp(t->status, "active") != 0) {
		*code = TENANT_AUTH_E_SUSPENDED;
		rc = 1;
	}
	if (rc != 0) {
		tenant_release(t);
		memset(id, 0, sizeof(*id));
		return rc;
	}
	id->tenant_id = t->id;
	*code = NULL;
	return 0;
}
