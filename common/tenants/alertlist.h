/*
 * alertlist.h: what GET /tenants/me/alerts shows a seller: the alerts sent to the seller
 * (whatsapp_logs rows of kind seller_alert or seller_digest with the seller's tenant_id,
 * outbound; never another tenant's, the operator's or a login/verify code message), newest
 * first, a page at a time, each with the alert types and events it carried (a fallback step,
 * on SMS or email: those of the message it follows) and its delivery state; and the figures of the
 * last 7 and 30 days (sent, delivered, read, their rates and the median time from sent to read).
 *
 * The answer is a new JSON object the caller puts. Results: 0, or -1 (db->err).
 */
#ifndef ALERTLIST_H
#define ALERTLIST_H

#include <json-c/json.h>

#include "db/db.h"

#define ALERTLIST_LIMIT_DEFAULT 50
#define ALERTLIST_LIMIT_MAX 200

/* A page: at most limit alerts, those with a message id below before (0: the newest). */
struct alertlist_query {
	int limit;
	long long before;
};

/*
 * The query parameters as given (NULL: absent). 0 and *q; or -1 with *param the name of the
 * bad parameter and *why what is wrong with it (both static).
 */
int alertlist_parse(const char *limit, const char *before, struct alertlist_query *q,
                    const char **param, const char **why);

/* num/den to three decimals (rounded down), or -1 when den is 0 (no rate). */
double alertlist_rate(long long num, long long den);

/* The seller's page and figures (see the top) into *out. */
int alertlist_build(struct db *db, long long tenant_id, const struct alertlist_query *q,
                    struct json_object **out);

#endif
