/*
 * fuzz_prefs.c: pref_parse_change(), the reading of a PATCH /tenants/me/preferences body, as
 * the program gets it (json_parse_object, then the change).
 *
 * Invariants:
 *  - the answer is 0 with 1 or more changes and no message, or -1 with a code
 *    ("invalid_field" or PREF_E_LOCKED), a field and a message starting with it, and nothing
 *    kept;
 *  - an accepted change names known types, each once, each setting enabled or delivery or
 *    neither (channels only), and never switches a locked type off;
 *  - PREF_E_LOCKED is only ever about a locked type's "enabled";
 *  - accepted channels are a chain: 1 to 3 known names, each once, whatsapp first.
 */
#include "fuzz.h"
#include "core/jsonutil.h"
#include "tenants/prefs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;
	char *perr = NULL;
	if (json_parse_object((const char *)data, size, &o, &perr) < 0) {
		free(perr);
		return 0;
	}
	struct pref_change *c = NULL;
	size_t n = 0;
	const char *code = NULL;
	char *field = NULL, *err = NULL;
	int rc = pref_parse_change(o, &c, &n, &code, &field, &err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(c == NULL && n == 0);
		FUZZ_CHECK(code != NULL && field != NULL && err != NULL);
		FUZZ_CHECK(strncmp(err, field, strlen(field)) == 0);
		FUZZ_CHECK(strcmp(code, "invalid_field") == 0 || strcmp(code, PREF_E_LOCKED) == 0);
		if (strcmp(code, PREF_E_LOCKED) == 0) {
			size_t len = strlen(field);
			FUZZ_CHECK(len > 8 && strcmp(field + len - 8, ".enabled") == 0);
		}
	} else {
		FUZZ_CHECK(c != NULL && n >= 1 && field == NULL && err == NULL);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(c[i].type != NULL &&
			           alert_type_find(c[i].type->name) == c[i].type);
			FUZZ_CHECK(!(c[i].set_enabled && !c[i].enabled && pref_locked(c[i].type)));
			FUZZ_CHECK(c[i].delivery == PREF_IMMEDIATE ||
			           c[i].delivery == PREF_HOURLY || c[i].delivery == PREF_DAILY);
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(c[j].type != c[i].type);
			if (c[i].set_channels) {
				const struct chain *ch = &c[i].channels;
				FUZZ_CHECK(ch->n >= 1 && ch->n <= CHAIN_MAX);
				FUZZ_CHECK(strcmp(ch->step[0], "whatsapp") == 0);
				for (int k = 0; k < ch->n; k++) {
					FUZZ_CHECK(chain_channel_known(ch->step[k]));
					for (int m = 0; m < k; m++)
						FUZZ_CHECK(strcmp(ch->step[m], ch->step[k]) != 0);
				}
			}
		}
	}
	free(c);
	free(field);
	free(err);
	json_object_put(o);
	return 0;
}
