/*
 * eventstore.h: the business events of POST /events stored, idempotently: each delivery (a
 * Standard Webhooks message, by its webhook-id) is judged once, its events stored and its
 * answer kept with it; a delivery seen before stores nothing and gets the answer the first one
 * got. An event already stored (by its id, from any delivery) is not stored again and counts
 * as accepted, as it did the first time.
 *
 * Judging an item: event.h has checked its shape; here its tenant must be a seller of ours
 * (tenants.external_id) and active. A refused item is named by its index in the body, its id
 * when it has one, a code (invalid_field, unknown_tenant, tenant_suspended), the field and a
 * message starting with the field.
 *
 * The answer (event_answer, pure): a body with at least one event stored is 200
 * {"accepted": n, "refused": [...]} (refused empty when all were); a single event refused is
 * its error, {"error": {"code", "message", "field", "id"}}: 400 for invalid_field, 422 for a
 * tenant it cannot be for; a batch with every item refused is 422 {"error": {"code":
 * "all_refused", ...}, "accepted": 0, "refused": [...]}.
 *
 * Memory: struct event_delivery is the caller's; event_store_many fills status and answer (a
 * new string, the caller frees) and replayed. Nothing is stored unless the whole group is.
 */
#ifndef EVENTSTORE_H
#define EVENTSTORE_H

#include <stddef.h>

#include "db/db.h"
#include "tenants/event.h"

/* What became of one item of a body. */
enum event_verdict {
	EVENT_ACCEPTED,         /* stored, or stored before */
	EVENT_INVALID,          /* refused by event_parse: the item's field and message say why */
	EVENT_UNKNOWN_TENANT,   /* no tenant has that external_id */
	EVENT_TENANT_SUSPENDED, /* the tenant is suspended */
};

/* One delivery: what the request brought, and once stored, its answer. */
struct event_delivery {
	const char *webhook_id;        /* verified (core/stdwebhook.h) */
	const struct event_body *body; /* judged by event_parse_body */
	int status;                    /* out: the HTTP status of the answer */
	char *answer;                  /* out: its JSON text, a new string */
	int replayed;                  /* out: 1 when the webhook-id had been answered before */
};

/*
 * The answer to body given each item's verdict (v[i] for body->items[i]; an item not ok must
 * be EVENT_INVALID). A new JSON string, and *status.
 */
char *event_answer(const struct event_body *body, const enum event_verdict *v, int *status);

/*
 * Store n deliveries in one transaction (begun and committed here): for each, in order, its
 * verdicts, its answer recorded under its webhook-id and its accepted events inserted; or,
 * when the webhook-id is known (stored before, or earlier in this group), the recorded answer.
 * 0, every d[i] filled; -1 (db->err), rolled back, nothing stored and no d[i] filled.
 */
int event_store_many(struct db *db, size_t n, struct event_delivery *const *d);

/*
 * event_store_many; and when that fails with the connection still up (the database refused
 * one delivery: a deadlock, a value it will not take), each delivery again in a transaction of
 * its own, so that one cannot fail the others every time they are retried together. 0: some
 * or all stored, those with an answer (the others have none: db->err says why the group
 * failed); -1: none (db->err).
 */
int event_store_group(struct db *db, size_t n, struct event_delivery *const *d);

#endif
