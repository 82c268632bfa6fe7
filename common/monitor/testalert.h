/*
 * testalert.h: a test alert through the real routing and the outbox, for
 * POST /monitoring/test-alert and `cron test-alert`.
 */
#ifndef TESTALERT_H
#define TESTALERT_H

#include <json-c/json.h>

#include "core/config.h"
#include "db/db.h"

#define TESTALERT_MAX_MESSAGE 1000

/*
 * Queue one message per routed recipient (one transaction). 0 with *out
 * ({"messages":[{"id","phone_number","not_before"}], "severity", "held_until"}),
 * or -1 with *err. severity: "critical" or "warning"; message: UTF-8, at most
 * TESTALERT_MAX_MESSAGE bytes (validated by the caller).
 */
int testalert_queue(struct db *db, const struct config *cfg, const char *severity,
                    const char *message, struct json_object **out, char **err);

#endif
