/*
 * fuzz_configure.c: configure_parse(), the validation of a POST
 * /monitoring/configure body, after json_parse_object() as the endpoint
 * does it. The configuration is loaded once from the built-in defaults
 * (config variables cleared from the environment, MONITORING_ENV_FILE
 * /dev/null) and its runtime settings are restored after each input.
 *
 * Invariants:
 *  - failure: *field and *err are set, no change is returned;
 *  - success: *field and *err untouched, at least one change, each a
 *    runtime variable or a THRESHOLD_* with a value; the configuration
 *    passes config_check();
 *  - the changes are what settings_store() keeps and settings_apply()
 *    applies later: applied one by one with config_apply_setting() to a
 *    fresh copy of the configuration, each is accepted, the result passes
 *    config_check() and shows the same values as the validated one;
 *  - the same body validated again on the changed configuration gives the
 *    same changes (idempotence).
 */
#include <stdio.h> /* before configenv.h's core/util.h, whose banned names stdio2.h defines */

#include "../unit/configenv.h"
#include "core/config.h"
#include "monitor/configure.h"
#include "fuzz.h"
#include "core/jsonutil.h"

static struct config base, work, replay;
static int loaded;

static void load(struct config *cfg)
{
	char *err = NULL;
	config_init(cfg);
	if (config_load(cfg, &err) < 0) {
		fprintf(stderr, "fuzz_configure: config_load: %s\n", err ? err : "?");
		abort();
	}
}

static void release_all(void)
{
	config_release(&base);
	config_release(&work);
	config_release(&replay);
}

static void setup(void)
{
	clear_config_env();
	setenv("MONITORING_ENV_FILE", "/dev/null", 1);
	load(&base);
	load(&work);
	load(&replay);
	atexit(release_all);
	loaded = 1;
}

static int is_setting(const char *key)
{
	if (strncmp(key, "THRESHOLD_", 10) == 0)
		return 1;
	for (size_t i = 0; i < config_var_count; i++)
		if (strcmp(config_var_at(i)->name, key) == 0)
			return config_var_at(i)->runtime;
	return 0;
}

static void same_text(const struct config *a, const struct config *b, const char *key)
{
	char *x = config_value_text(a, key, 0), *y = config_value_text(b, key, 0);
	FUZZ_CHECK(x != NULL && y != NULL && strcmp(x, y) == 0);
	free(x);
	free(y);
}

static void check_changes(const struct setting_changes *ch)
{
	char *why = NULL;

	FUZZ_CHECK(ch->n >= 1 && ch->v != NULL);
	FUZZ_CHECK(config_check(&work, &why) == 0);
	for (size_t i = 0; i < ch->n; i++) {
		FUZZ_CHECK(ch->v[i].key != NULL && ch->v[i].value != NULL);
		FUZZ_CHECK(is_setting(ch->v[i].key));
		if (config_apply_setting(&replay, ch->v[i].key, ch->v[i].value, &why) != 0) {
			fprintf(stderr, "stored %s=%s does not apply: %s\n", ch->v[i].key,
			        ch->v[i].value, why);
			FUZZ_CHECK(!"a validated change applies again");
		}
	}
	if (config_check(&replay, &why) != 0) {
		fprintf(stderr, "stored changes fail config_check: %s\n", why);
		FUZZ_CHECK(!"validated changes pass config_check again");
	}
	for (size_t i = 0; i < ch->n; i++)
		same_text(&replay, &work, ch->v[i].key);
	config_copy_runtime(&replay, &base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *body = NULL;
	char *jerr = NULL;

	if (!loaded)
		setup();
	if (json_parse_object((const char *)data, size, &body, &jerr) < 0) {
		free(jerr);
		return 0;
	}

	struct setting_changes ch = {0};
	char *field = NULL, *err = NULL;
	int rc = configure_parse(&work, body, &ch, &field, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(field != NULL && err != NULL && *err != '\0');
		FUZZ_CHECK(ch.n == 0 && ch.v == NULL);
	} else {
		FUZZ_CHECK(field == NULL && err == NULL);
		check_changes(&ch);

		struct setting_changes again = {0};
		FUZZ_CHECK(configure_parse(&work, body, &again, &field, &err) == 0);
		FUZZ_CHECK(again.n == ch.n);
		for (size_t i = 0; i < ch.n; i++)
			FUZZ_CHECK(strcmp(again.v[i].key, ch.v[i].key) == 0 &&
			           strcmp(again.v[i].value, ch.v[i].value) == 0);
		setting_changes_release(&again);
	}
	setting_changes_release(&ch);
	free(field);
	free(err);
	json_object_put(body);

	config_copy_runtime(&work, &base);
	return 0;
}
