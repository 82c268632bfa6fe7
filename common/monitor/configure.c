#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/configure.h"
#include "core/jsonutil.h"
#include "core/util.h"

static struct json_object *jnum(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

static char *lower(const char *s)
{
	char *l = xstrdup(s);
	for (char *p = l; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

struct json_object *config_to_json(const struct config *cfg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *th = json_object_new_object();
	for (int m = 0; m < M_COUNT; m++) {
		if (!metric_has_thresholds((enum metric_id)m))
			continue;
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, "warning", jnum(cfg->thresholds.warning[m]));
		json_object_object_add(t, "critical", jnum(cfg->thresholds.critical[m]));
		json_object_object_add(
		    t, "direction",
		    json_object_new_string(metric_defs[m].dir == DIR_HIGHER_IS_WORSE ? "above"
		                                                                     : "below"));
		json_object_object_add(t, "unit", json_object_new_string(metric_defs[m].unit));
		json_object_object_add(th, metric_defs[m].name, t);
	}
	json_object_object_add(o, "thresholds", th);
	struct json_object *sched = json_object_new_object(), *all = json_object_new_object();
	for (size_t i = 0; i < config_var_count; i++) {
		const struct cfg_var *v = config_var_at(i);
		char *val = config_value_text(cfg, v->name, 1);
		char *key = lower(v->name);
		if (v->runtime)
			json_object_object_add(sched, key, json_object_new_string(val ? val : ""));
		json_object_object_add(all, v->name, json_object_new_string(val ? val : ""));
		free(key);
		free(val);
	}
	json_object_object_add(sched, "timezone", json_object_new_string(cfg->timezone));
	json_object_object_add(o, "settings", sched);
	json_object_object_add(o, "configuration", all);
	return o;
}

void setting_changes_release(struct setting_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void change_add(struct setting_changes *c, const char *key, const char *value)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].key = xstrdup(key);
	c->v[c->n].value = xstrdup(value);
	c->n++;
}

static int parse_thresholds(struct config *cfg, struct json_object *th, struct setting_changes *out,
                            char **field, char **err)
{
	if (!json_object_is_type(th, json_type_object)) {
		*field = xstrdup("thresholds");
		*err = xasprintf("thresholds must be an object, got %s", json_type_label(th));
		return -1;
	}
	json_object_object_foreach(th, metric, levels)
	{
		int m = metric_by_name(metric);
		if (m < 0 || !metric_has_thresholds((enum metric_id)m)) {
			*field = xasprintf("thresholds.%s", metric);
			*err = xasprintf(
			    "unknown metric '%s' (GET /monitoring/configure lists them)", metric);
			return -1;
		}
		if (!json_object_is_type(levels, json_type_object)) {
			*field = xasprintf("thresholds.%s", metric);
			*err = xasprintf("must be an object with warning and/or critical, got %s",
			                 json_type_label(levels));
			return -1;
		}
		json_object_object_foreach(levels, level, val)
		{
			int crit;
			if (strcmp(level, "warning") == 0)
				crit = 0;
			else if (strcmp(level, "critical") == 0)
				crit = 1;
			else {
				*field = xasprintf("thresholds.%s.%s", metric, level);
				*err = xstrdup("unknown field (allowed: warning, critical)");
				return -1;
			}
			char *text;
			if (json_object_is_type(val, json_type_null)) {
				text = xstrdup("none");
			} else if (json_object_is_type(val, json_type_int) ||
			           json_object_is_type(val, json_type_double)) {
				double d = json_object_get_double(val);
				if (!isfinite(d) || fabs(d) > 1e15) {
					*field = xasprintf("thresholds.%s.%s", metric, level);
					*err = xstrdup("is out of range");
					return -1;
				}
				text = xasprintf("%.15g", d);
			} else {
				*field = xasprintf("thresholds.%s.%s", metric, level);
				*err = xasprintf("must be a number or null, got %s",
				                 json_type_label(val));
				return -1;
			}
			char *name = threshold_var_name((enum metric_id)m, crit);
			char *why = NULL;
			int r = config_apply_setting(cfg, name, text, &why);
			if (r == 0)
				change_add(out, name, text);
			free(name);
			free(text);
			if (r < 0) {
				*field = xasprintf("thresholds.%s.%s", metric, level);
				*err = why;
				return -1;
			}
		}
	}
	return 0;
}

static int parse_settings(struct config *cfg, struct json_object *st, struct setting_changes *out,
                          char **field, char **err)
{
	if (!json_object_is_type(st, json_type_object)) {
		*field = xstrdup("settings");
		*err = xasprintf("settings must be an object, got %s", json_type_label(st));
		return -1;
	}
	json_object_object_foreach(st, key, val)
	{
		const struct cfg_var *v = NULL;
		for (size_t i = 0; i < config_var_count; i++) {
			char *l = lower(config_var_at(i)->name);
			if (strcmp(l, key) == 0 && config_var_at(i)->runtime)
				v = config_var_at(i);
			free(l);
		}
		if (!v) {
			*field = xasprintf("settings.%s", key);
			*err =
			    xstrdup("unknown or read-only setting (GET /monitoring/configure lists "
			            "them)");
			return -1;
		}
		char *text;
		if (v->type == CFG_INT && json_object_is_type(val, json_type_int)) {
			text = xasprintf("%lld", (long long)json_object_get_int64(val));
		} else if ((v->type == CFG_HHMM || v->type == CFG_WEEKDAY) &&
		           json_object_is_type(val, json_type_string)) {
			text = xstrdup(json_object_get_string(val));
		} else {
			*field = xasprintf("settings.%s", key);
			*err = xasprintf("must be %s, got %s",
			                 v->type == CFG_INT    ? "an integer"
			                 : v->type == CFG_HHMM ? "a string \"HH:MM\""
			                                       : "a day of the week",
			                 json_type_label(val));
			return -1;
		}
		char *why = NULL;
		if (config_apply_setting(cfg, v->name, text, &why) < 0) {
			free(text);
			*field = xasprintf("settings.%s", key);
			*err = why;
			return -1;
		}
		change_add(out, v->name, text);
		free(text);
	}
	return 0;
}

/*
 * config_check's messages start with the variable at fault: name the request
 * field that set it ("thresholds.deadlocks", "settings.business_hours_end").
 */
static char *cross_check_field(const char *why, const struct setting_changes *changes)
{
	if (strncmp(why, "BUSINESS_HOURS_", 15) == 0) {
		const char *key = "BUSINESS_HOURS_END";
		for (size_t i = 0; i < changes->n; i++)
			if (strncmp(changes->v[i].key, "BUSINESS_HOURS_", 15) == 0)
				key = changes->v[i].key;
		char *l = lower(key), *f = xasprintf("settings.%s", l);
		free(l);
		return f;
	}
	for (int m = 0; m < M_COUNT; m++) {
		if (!metric_has_thresholds((enum metric_id)m))
			continue;
		char *n = threshold_var_name((enum metric_id)m, 0);
		size_t len = strlen(n) - strlen("WARNING");
		int hit = strncmp(why, n, len) == 0;
		free(n);
		if (hit)
			return xasprintf("thresholds.%s", metric_defs[m].name);
	}
	return xstrdup("thresholds");
}

int configure_parse(struct config *cfg, struct json_object *body, struct setting_changes *out,
                    char **field, char **err)
{
	int any = 0;
	json_object_object_foreach(body, key, val)
	{
		int r;
		if (strcmp(key, "thresholds") == 0)
			r = parse_thresholds(cfg, val, out, field, err);
		else if (strcmp(key, "settings") == 0)
			r = parse_settings(cfg, val, out, field, err);
		else {
			*field = xstrdup(key);
			*err = xasprintf("unknown field '%s' (allowed: thresholds, settings)", key);
			r = -1;
		}
		if (r < 0)
			goto fail;
		any = 1;
	}
	if (!any || out->n == 0) {
		*field = xstrdup("");
		*err = xstrdup("nothing to change: give thresholds and/or settings");
		goto fail;
	}
	char *why = NULL;
	if (config_check(cfg, &why) < 0) {
		*field = cross_check_field(why, out);
		*err = why;
		goto fail;
	}
	return 0;
fail:
	setting_changes_release(out);
	return -1;
}
