#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonutil.h"
#include "core/log.h"
#include "monitor/alertmanager.h"
#include "monitor/lifecycle.h"
#include "monitor/notify.h"
#include "core/util.h"

/* ---- parsing ---- */

/* Control characters (a newline in a label) become spaces: a line of a message stays one line. */
static char *one_line(char *s)
{
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

/* o's member key is an object whose values are all strings (labels, annotations). */
static int string_map(struct json_object *o, const char *key, const char *where,
                      struct json_object **out, char **err)
{
	*out = json_member(o, key, json_type_object);
	if (!*out) {
		*err = xasprintf("%s%s must be an object of strings", where, key);
		return -1;
	}
	json_object_object_foreach(*out, name, val)
	{
		if (!json_object_is_type(val, json_type_string)) {
			*err = xasprintf("%s%s.%s must be a string", where, key, name);
			return -1;
		}
	}
	return 0;
}

/* "firing" 1, "resolved" 0, -1 otherwise. */
static int parse_status(struct json_object *o)
{
	const char *s = json_get_string(o, "status");
	if (!s)
		return -1;
	return strcmp(s, "firing") == 0 ? 1 : strcmp(s, "resolved") == 0 ? 0 : -1;
}

static int is_fingerprint(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > AM_MAX_FINGERPRINT)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return 1;
}

/*
 * The alert's line: "HighLatency on web-1:9100: p99 over 2s" while it fires,
 * "HighLatency on web-1:9100 (p99 over 2s)" for its recovery ("... after 5m").
 */
static char *alert_text(const struct am_alert *a, struct json_object *labels,
                        struct json_object *annotations)
{
	char *instance = json_get_text(labels, "instance", AM_MAX_NAME);
	char *what = json_get_text(annotations, "summary", AM_MAX_TEXT);
	if (!what || !*what) {
		free(what);
		what = json_get_text(annotations, "description", AM_MAX_TEXT);
	}
	int has_inst = instance && *instance, has_what = what && *what;
	char *t = xasprintf("%s%s%s%s%s%s", a->alertname, has_inst ? " on " : "",
	                    has_inst ? instance : "", has_what ? (a->firing ? ": " : " (") : "",
	                    has_what ? what : "", has_what && !a->firing ? ")" : "");
	free(instance);
	free(what);
	return one_line(t);
}

/* alerts[i] into a; where is "alerts[i].". 0, or -1 and *err. */
static int parse_alert(struct json_object *o, const char *where, struct am_alert *a, char **err)
{
	struct json_object *labels, *annotations;
	if (!json_object_is_type(o, json_type_object)) {
		*err = xasprintf("%.*s must be an object", (int)strlen(where) - 1, where);
		return -1;
	}
	if ((a->firing = parse_status(o)) < 0) {
		*err = xasprintf("%sstatus must be \"firing\" or \"resolved\"", where);
		return -1;
	}
	if (string_map(o, "labels", where, &labels, err) < 0 ||
	    string_map(o, "annotations", where, &annotations, err) < 0)
		return -1;
	const char *fp = json_get_string(o, "fingerprint");
	if (!is_fingerprint(fp)) {
		*err = xasprintf("%sfingerprint must be 1 to %d hex digits", where,
		                 AM_MAX_FINGERPRINT);
		return -1;
	}
	if (!json_member(o, "startsAt", json_type_string) ||
	    !json_member(o, "endsAt", json_type_string)) {
		*err = xasprintf("%sstartsAt and endsAt must be strings", where);
		return -1;
	}
	a->alertname = one_line(json_get_text(labels, "alertname", AM_MAX_NAME));
	if (!a->alertname || !*a->alertname) {
		*err = xasprintf("%slabels.alertname must be a non-empty string", where);
		return -1;
	}
	a->fingerprint = xstrdup(fp);
	const char *sev = json_get_string(labels, "severity");
	a->severity = sev && strcasecmp(sev, "critical") == 0 ? "critical" : AM_DEFAULT_SEVERITY;
	a->text = alert_text(a, labels, annotations);
	a->tenant = one_line(json_get_text(labels, "tenant", AM_MAX_NAME));
	if (a->tenant && !*a->tenant) {
		free(a->tenant);
		a->tenant = NULL;
	}
	a->starts_at = json_get_text(o, "startsAt", AM_MAX_STARTS);
	if (!a->starts_at) {
		*err = xasprintf("%sstartsAt must be UTF-8", where);
		return -1;
	}
	return 0;
}

static int parse_alerts(struct json_object *body, struct am_notice *n, char **err)
{
	struct json_object *arr = json_member(body, "alerts", json_type_array);
	size_t len = arr ? json_object_array_length(arr) : 0;
	if (len == 0 || len > AM_MAX_ALERTS) {
		*err = xasprintf("alerts must be an array of 1 to %d alerts", AM_MAX_ALERTS);
		return -1;
	}
	n->v = xcalloc(len, sizeof(*n->v));
	for (size_t i = 0; i < len; i++) {
		char where[40];
		snprintf(where, sizeof(where), "alerts[%zu].", i);
		n->n = i + 1; /* released with n, whatever parse_alert filled */
		if (parse_alert(json_object_array_get_idx(arr, i), where, &n->v[i], err) < 0)
			return -1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(n->v[k].fingerprint, n->v[i].fingerprint) == 0) {
				*err = xasprintf("%sfingerprint %s is also alerts[%zu]'s", where,
				                 n->v[i].fingerprint, k);
				return -1;
			}
	}
	return 0;
}

/* "Alertmanager (alertname=HighLatency, job=api)": the group, as its messages start. */
static char *group_title(struct json_object *group_labels, long long truncated)
{
	struct buf b = BUF_INIT(400);
	buf_puts(&b, "Alertmanager");
	const char *sep = " (";
	json_object_object_foreach(group_labels, name, val)
	{
		if (buf_printf(&b, "%s%s=%s", sep, name, json_object_get_string(val)) < 0)
			break;
		sep = ", ";
	}
	if (*sep == ',')
		buf_puts(&b, ")");
	if (truncated > 0)
		buf_printf(&b, "; %lld more alerts left out by Alertmanager", truncated);
	char *t = one_line(xstrdup(buf_str(&b)));
	buf_release(&b);
	return t;
}

/* The group's members: version, status, receiver, the label sets, groupKey, ... */
static int parse_group(struct json_object *body, struct am_notice *n, struct json_object **glabels,
                       char **err)
{
	struct json_object *unused;
	const char *version = json_get_string(body, "version");
	if (!version || strcmp(version, "4") != 0) {
		*err = xstrdup("version must be \"4\" (Alertmanager's webhook payload version)");
		return -1;
	}
	if ((n->firing = parse_status(body)) < 0) {
		*err = xstrdup("status must be \"firing\" or \"resolved\"");
		return -1;
	}
	static const char *const strings[] = {"receiver", "groupKey", "externalURL"};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (!json_member(body, strings[i], json_type_string)) {
			*err = xasprintf("%s must be a string", strings[i]);
			return -1;
		}
	if (string_map(body, "groupLabels", "", glabels, err) < 0 ||
	    string_map(body, "commonLabels", "", &unused, err) < 0 ||
	    string_map(body, "commonAnnotations", "", &unused, err) < 0)
		return -1;
	n->truncated = 0;
	if (json_present(body, "truncatedAlerts") &&
	    (json_get_int64(body, "truncatedAlerts", &n->truncated) < 0 || n->truncated < 0)) {
		*err = xstrdup("truncatedAlerts must be a non-negative integer");
		return -1;
	}
	n->receiver = xstrdup(json_get_string(body, "receiver"));
	return 0;
}

int am_parse(struct json_object *body, struct am_notice *n, char **err)
{
	struct json_object *glabels = NULL;
	memset(n, 0, sizeof(*n));
	*err = NULL;
	if (!json_object_is_type(body, json_type_object)) {
		*err = xstrdup("the body must be a JSON object");
		return -1;
	}
	if (parse_group(body, n, &glabels, err) < 0 || parse_alerts(body, n, err) < 0) {
		am_notice_release(n);
		return -1;
	}
	n->title = group_title(glabels, n->truncated);
	return 0;
}

void am_notice_release(struct am_notice *n)
{
	for (size_t i = 0; i < n->n; i++) {
		free(n->v[i].alertname);
		free(n->v[i].fingerprint);
		free(n->v[i].text);
		free(n->v[i].tenant);
		free(n->v[i].starts_at);
	}
	free(n->v);
	free(n->receiver);
	free(n->title);
	memset(n, 0, sizeof(*n));
}

/* ---- applying ---- */

static int decide(struct alert_round *r, const struct am_notice *n)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct am_alert *a = &n->v[i];
		struct alert_ident id = {AM_SOURCE, a->alertname, a->fingerprint};
		int ret;
		if (a->firing) {
			struct alert_firing f = {
			    .id = id,
			    .severity = a->severity,
			    .value = NAN,
			    .threshold = NAN,
			    .text = a->text,
			};
			ret = alert_round_firing(r, &f);
		} else {
			ret = alert_round_resolved(r, &id, a->text);
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

static struct json_object *answer(struct alert_round *r, const struct notify_stats *nst)
{
	struct json_object *out = json_object_new_object(), *alerts = json_object_new_object();
	json_object_object_add(alerts, "opened", json_object_get(r->opened));
	json_object_object_add(alerts, "changed", json_object_get(r->changed));
	json_object_object_add(alerts, "resolved", json_object_get(r->resolved));
	json_object_object_add(out, "alerts", alerts);
	json_object_object_add(out, "messages_queued", json_object_new_int(nst->queued));
	json_object_object_add(out, "messages_suppressed", json_object_new_int(nst->suppressed));
	return out;
}

int am_apply_in(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
                struct json_object **out)
{
	struct alert_round r = {0};
	struct notify_stats nst = {0};
	*out = NULL;
	if (n->n == 0) {
		r.opened = json_object_new_array();
		r.changed = json_object_new_array();
		r.resolved = json_object_new_array();
		*out = answer(&r, &nst);
		alert_round_release(&r);
		return 0;
	}
	/* Messages keyed by their first notice (kind, alert, step): a repeat queues nothing. */
	if (alert_lock(db) < 0 || alert_round_begin(&r, db, cfg, AM_SOURCE, 0, 0, now) < 0 ||
	    decide(&r, n) < 0 || alert_round_finish(&r, n->title, NULL, &nst) < 0) {
		alert_round_release(&r);
		return -1;
	}
	*out = answer(&r, &nst);
	log_info("alertmanager_applied",
	         "receiver %s: %zu alert(s), %zu opened, %zu changed, %zu resolved, %d queued",
	         n->receiver, n->n, json_object_array_length(r.opened),
	         json_object_array_length(r.changed), json_object_array_length(r.resolved),
	         nst.queued);
	alert_round_release(&r);
	return 0;
}

int am_apply(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
             struct json_object **out)
{
	*out = NULL;
	if (db_begin(db) < 0 || am_apply_in(db, cfg, n, now, out) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
