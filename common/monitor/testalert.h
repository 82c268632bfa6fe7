/*
 * testalert.h: a test alert through the real routing and the outbox, for
 * POST /monitoring/test-alert and `cron test-alert`; a test email, for
 * `cron test-email`; a test SMS, for `cron test-sms`.
 */
#ifndef TESTALERT_H
#define TESTALERT_H

#include <json-c/json.h>

#include "core/config.h"
#include "db/db.h"

#define TESTALERT_MAX_MESSAGE 1000

/*
 * Submit one message per routed recipient (delivery/submit.h: one transaction
 * of its own). 0 with *out ({"spooled": false, "severity", "messages":
 * [{"phone_number", "id"}], "held_until"[, "note"]}), or -1 with *err. With the
 * state database down the messages are spooled and sent: *out then has
 * "spooled" (whether the spool could be written), "sent_while_database_down",
 * "state_database" (why) and each message's "id" is null. severity:
 * "critical" or "warning"; message: UTF-8, at most TESTALERT_MAX_MESSAGE bytes
 * (validated by the caller).
 */
int testalert_queue(struct db *db, const struct config *cfg, const char *severity,
                    const char *message, struct json_object **out, char **err);

/*
 * Queue one test email to address through the outbox (channel 'email', the
 * email account: delivery/account.h account_for_channel), priority "info",
 * one transaction of its own; the caller drains. 0 with *out ({"channel":
 * "email", "address", "id"[, "note"]}), or -1 with *err: no email account,
 * an address the outbox refuses (a CR or LF in it, not local@domain: nothing
 * is queued or spooled). With the state database down it is spooled and sent
 * through the spool (spool.h): *out then has "id" null, "key", "spooled",
 * "sent_while_database_down" and "state_database" (the error); the caller
 * does not drain. message:
 * UTF-8, at most TESTALERT_MAX_MESSAGE bytes (validated by the caller).
 */
int testalert_email(struct db *db, const struct config *cfg, const char *address,
                    const char *message, struct json_object **out, char **err);

/*
 * The same for one test SMS to number (channel 'sms', the sms account of
 * sql/014_sms.sql): 0 with *out ({"channel": "sms", "address", "id"[,
 * "note"]}), or -1 with *err: no sms account, a number the outbox refuses
 * (not a phone number: nothing is queued). The state database down: spooled
 * and sent, as an email is. The text is cut to SMS_MAX_SEGMENTS when it is sent.
 */
int testalert_sms(struct db *db, const struct config *cfg, const char *number, const char *message,
                  struct json_object **out, char **err);

#endif
