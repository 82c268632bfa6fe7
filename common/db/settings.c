#include <stdlib.h>

#include "core/log.h"
#include "db/settings.h"
#include "core/util.h"

int settings_apply(struct db *db, struct config *cfg, char **err)
{
	PGresult *res = db_query_idem(db, "SELECT key, value FROM settings ORDER BY key", 0, NULL);
	if (!res) {
		*err = xstrdup(db->err);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		char *why = NULL;
		const char *k = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 1);
		if (config_apply_setting(cfg, k, v, &why) < 0) {
			log_warnx("setting_invalid", "stored setting %s ignored: %s", k, why);
			free(why);
		}
	}
	PQclear(res);
	char *why = NULL;
	if (config_check(cfg, &why) < 0) {
		log_warnx("setting_invalid", "stored settings conflict: %s", why);
		free(why);
	}
	return 0;
}

int settings_store(struct db *db, const struct setting_change *changes, size_t n, const char *who,
                   char **err)
{
	if (db_begin(db) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const char *p[3] = {changes[i].key, changes[i].value, who};
		if (db_exec(db,
		            "INSERT INTO settings_history (key, old_value, new_value, changed_by) "
		            "SELECT $1, (SELECT value FROM settings WHERE key = $1), $2, $3",
		            3, p) < 0)
			goto fail;
		if (db_exec(db,
		            "INSERT INTO settings (key, value, updated_by) VALUES ($1, $2, $3) "
		            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
		            "updated_by = EXCLUDED.updated_by, updated_at = now()",
		            3, p) < 0)
			goto fail;
	}
	if (db_commit(db) < 0)
		goto fail;
	return 0;
fail:
	*err = xstrdup(db->err);
	db_rollback(db);
	return -1;
}
