/*
 * amroute.h: an Alertmanager notification (monitor/alertmanager.h) routed by each alert's
 * `tenant` label: an alert labelled with a seller's external id goes to that seller, as a
 * business event, instead of to the operators.
 *
 * In one transaction (committed before it returns 0, so the receiver answers 2xx only then):
 *   - an alert without a `tenant` label goes to the operators' alert lifecycle as before
 *     (am_apply_in: routing, pause, acknowledgement, escalation, repeats);
 *   - an alert whose label names an active seller becomes a `system.notice` event of that
 *     seller (tenants/eventstore.h's table; the dispatch step of `cron tick` sends it as the
 *     seller's preferences, quiet hours, mutes and digests say, to that seller's verified
 *     number only): title "CRITICAL alert" / "Warning" while it fires, "Resolved" once it is,
 *     the message the alert's line (alertname, instance, summary). Its event id is
 *     "am:<fingerprint>:<firing|resolved>:<startsAt>" (characters an event id cannot hold
 *     become '-'): the same notification again stores nothing, a new episode of the same
 *     alert (a new startsAt) is a new event;
 *   - an alert whose label names no seller, a suspended one, or is no valid external id is
 *     not dropped: it goes to the operators, its line ending with "(tenant label "x": no such
 *     active seller)".
 * *out is am_apply's answer with one more member, "sellers": {"events_stored": N,
 * "events_repeated": N, "not_sellers": ["x", ...]}. -1 (db->err): nothing changed.
 */
#ifndef AMROUTE_H
#define AMROUTE_H

#include <json-c/json.h>
#include <time.h>

#include "core/config.h"
#include "db/db.h"
#include "monitor/alertmanager.h"

#define AMROUTE_WEBHOOK_ID "alertmanager" /* events.webhook_id of the events it stores */

int am_route_apply(struct db *db, const struct config *cfg, const struct am_notice *n, time_t now,
                   struct json_object **out);

/* The event id of alert a (buffer of at least AMROUTE_EVENT_ID_SIZE bytes); pure. */
#define AMROUTE_EVENT_ID_SIZE 129
void am_route_event_id(const struct am_alert *a, char *out, size_t size);

#endif
