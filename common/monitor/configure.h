/*
 * configure.h: the JSON view of the configuration (GET /monitoring/configure,
 * `cron config`) and the validation of a change request (POST).
 *
 * A change request is {"thresholds": {"<metric>": {"warning": n|null,
 * "critical": n|null}}, "settings": {"<runtime setting, lower case>": value}}.
 * null clears a threshold level. Everything is validated before anything is
 * stored: one bad field rejects the whole request.
 */
#ifndef CONFIGURE_H
#define CONFIGURE_H

#include <json-c/json.h>

#include "core/config.h"
#include "db/settings.h"

/* Effective configuration, secrets redacted. Caller puts. */
struct json_object *config_to_json(const struct config *cfg);

struct setting_changes {
	struct setting_change *v;
	size_t n, cap;
};

void setting_changes_release(struct setting_changes *c);

/*
 * Validate body against cfg (which is modified: the caller passes a scratch
 * copy or reloads it afterwards). 0 with the changes, or -1 with *field (the
 * offending field, e.g. "thresholds.deadlocks.warning") and *err, both
 * allocated.
 */
int configure_parse(struct config *cfg, struct json_object *body, struct setting_changes *out,
                    char **field, char **err);

#endif
