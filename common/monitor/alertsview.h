/*
 * alertsview.h: what GET /monitoring/alerts shows: alert and message counts
 * for the last 24 hours, 7 and 30 days (by severity / priority and status),
 * delivery, delivered and read rates, open alerts with their escalation
 * state, the pause and delivery state, and the most recent messages.
 */
#ifndef ALERTSVIEW_H
#define ALERTSVIEW_H

#include <json-c/json.h>

#include "db/db.h"

#define ALERTSVIEW_LIMIT_DEFAULT 20
#define ALERTSVIEW_LIMIT_MAX 500

/*
 * limit: recent messages to list (1..ALERTSVIEW_LIMIT_MAX); since: only
 * messages created at or after this epoch second (0: no bound). 0 with *out,
 * or -1 (db->err).
 */
int alertsview_build(struct db *db, int limit, long long since, struct json_object **out);

#endif
