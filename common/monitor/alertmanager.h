/*
 * alertmanager.h: Alertmanager's webhook (payload version 4) into the alert
 * lifecycle (lifecycle.h).
 *
 * am_parse() reads one notification strictly into a struct am_notice that
 * owns copies of what it keeps; it touches no database, so a test feeds it
 * any JSON. am_apply() makes the lifecycle's decisions for it in one
 * transaction of its own, and answers only once that transaction committed.
 *
 * Identity: each alert of the notification is ("alertmanager", alertname,
 * fingerprint): stored as rule "alertmanager:<alertname>", target the
 * fingerprint. A firing alert opens or updates its alert; a resolved one
 * resolves it (with a recovery to those who were told); the same
 * notification sent again changes nothing and sends nothing.
 *
 * Texts: the title, each alertname and each alert's line are one line: a
 * control character (a newline in a label) becomes a space.
 *
 * Severity: the `severity` label "critical" (any case) is critical; any other
 * value, or none, is a warning (AM_DEFAULT_SEVERITY).
 *
 * Sellers: the `tenant` label (a seller's external id) is kept on the alert;
 * routing it to that seller instead of the operators is tenants/amroute.h's
 * job (the tenants layer comes after this one). am_apply() itself sends every
 * alert it is given to the operators.
 *
 * What the parser refuses (-1, *err says which field): anything but one JSON
 * object; version other than "4"; status other than "firing"/"resolved";
 * groupLabels, commonLabels, commonAnnotations not objects of strings;
 * receiver, groupKey, externalURL not strings; truncatedAlerts not a
 * non-negative integer; alerts missing, empty or past AM_MAX_ALERTS; an alert
 * without a status, labels (with a non-empty alertname), annotations,
 * startsAt or a fingerprint (1..64 hex digits), or a fingerprint twice. A
 * member this version does not know is ignored (Alertmanager adds some over
 * time, e.g. each alert's generatorURL).
 */
#ifndef ALERTMANAGER_H
#define ALERTMANAGER_H

#include <json-c/json.h>
#include <stddef.h>
#include <time.h>

#include "core/config.h"
#include "db/db.h"

#define AM_SOURCE "alertmanager"
#define AM_DEFAULT_SEVERITY "warning"
#define AM_MAX_ALERTS 1000
#define AM_MAX_FINGERPRINT 64
#define AM_MAX_NAME 200     /* alertname, instance: cut past it */
#define AM_MAX_TEXT 300     /* summary or description: cut past it */
#define AM_MAX_STARTS 40    /* startsAt ("2026-12-03T01:00:00.123456789+01:00"): cut past it */
#define AM_MAX_BODY 1048576 /* a notification's body (nginx's client_max_body_size too) */
/* JSON values in a body (json_parse_object_max): AM_MAX_ALERTS alerts and room to spare. */
#define AM_MAX_VALUES 200000

struct am_alert {
	int firing;                    /* 1 firing, 0 resolved */
	char *alertname, *fingerprint; /* never NULL */
	const char *severity;          /* "critical" or "warning" (static) */
	char *text;                    /* "HighLatency: p99 over 2s (instance web-1:9100)" */
	char *tenant;    /* the `tenant` label, one line, at most AM_MAX_NAME bytes; NULL: none */
	char *starts_at; /* startsAt as sent, at most AM_MAX_STARTS bytes (an episode's mark) */
};

struct am_notice {
	int firing;          /* the group's status */
	char *receiver;      /* "" when empty */
	char *title;         /* "Alertmanager (alertname=HighLatency)": starts each message */
	long long truncated; /* truncatedAlerts */
	struct am_alert *v;
	size_t n;
};

/* Parse one webhook body (not NULL). 0, or -1 and *err (caller frees); n always released. */
int am_parse(struct json_object *body, struct am_notice *n, char **err);
void am_notice_release(struct am_notice *n);

/*
 * Apply n: one transaction (alert_lock, the round, the messages), committed
 * before it returns 0 with *out ({"alerts":{"opened":[...],"changed":[...],
 * "resolved":[...]},"messages_queued":N,"messages_suppressed":N}; caller
 * puts it). -1 (db->err): nothing changed; the caller answers 503.
 */
int am_apply(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
             struct json_object **out);

/*
 * am_apply's decisions inside the caller's transaction (begun, not
 * committed: the caller commits, or rolls back on -1). An n without alerts
 * touches nothing and answers empty lists and zero messages.
 */
int am_apply_in(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
                struct json_object **out);

#endif
