/*
 * configenv.h: start from a clean environment for config_load(), which scans
 * environ: unset every variable it reads (config_var_known). Shared by the unit
 * tests (testutil.h) and the fuzz harnesses; needs no cmocka.
 */
#ifndef CONFIGENV_H
#define CONFIGENV_H

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

static inline void clear_config_env(void)
{
	extern char **environ;
	for (;;) {
		char *victim = NULL;
		for (char **e = environ; e && *e && !victim; e++) {
			const char *eq = strchr(*e, '=');
			if (!eq)
				continue;
			char *name = xstrndup(*e, (size_t)(eq - *e));
			if (config_var_known(name))
				victim = name;
			else
				free(name);
		}
		if (!victim)
			break;
		unsetenv(victim);
		free(victim);
	}
}

#endif
