/*
 * settings.h: thresholds and schedule settings stored in the state database
 * (table settings, history in settings_history). Keys are the configuration
 * variable names ("THRESHOLD_DEADLOCKS_WARNING", "BUSINESS_HOURS_START").
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include "core/config.h"
#include "db/db.h"

struct setting_change {
	char *key;
	char *value;
};

/*
 * Apply the stored settings on top of cfg. A stored value that no longer
 * validates is logged and skipped. 0, or -1 with *err when the database
 * cannot be read.
 */
int settings_apply(struct db *db, struct config *cfg, char **err);

/*
 * Store changes (already validated by the caller) with who made them, in one
 * transaction, with a history row each. 0, or -1 with *err.
 */
int settings_store(struct db *db, const struct setting_change *changes, size_t n, const char *who,
                   char **err);

#endif
