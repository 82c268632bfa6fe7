/*
 * check.h: one monitoring check, end to end: collect from the monitored
 * database, derive interval figures from the previous check, evaluate every
 * sample against the thresholds, then in one state-database transaction
 * store the run and its samples, tell the alert lifecycle (lifecycle.h) what
 * fires now (it opens, changes and resolves alerts), and queue one message per
 * recipient for what changed.
 *
 * The result is a JSON object owned by the caller (json_object_put).
 */
#ifndef CHECK_H
#define CHECK_H

#include <json-c/json.h>

#include "core/config.h"
#include "db/db.h"

struct check_opts {
	int emergency;       /* alerts go to the critical contacts at once */
	const char *trigger; /* "api", "cron", "cli": recorded with the run */
};

/*
 * 0 with *out set; -1 when the state database failed (the check's findings
 * could not be stored): *err says why and *out, when not NULL, still holds
 * what was measured. Without the state database the findings are submitted
 * with no database (delivery/submit.h: spooled and sent), keyed by which
 * findings they are, so a check repeated while it stays down sends nothing
 * new; *out then has "spooled" and "sent_while_database_down" (absent when
 * there was nothing to send).
 */
int check_run(struct db *state, const struct config *cfg, const struct check_opts *opts,
              struct json_object **out, char **err);

/* "12.5" / "3" : a value as people read it (integers without decimals). */
void check_format_value(char *buf, size_t len, double v);

#endif
