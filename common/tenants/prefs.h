/*
 * prefs.h: a seller's alert preferences (table alert_preferences, sql/013), per alert type:
 * on or off, immediate or in a digest (hourly or daily, in the seller's zone), and the
 * channels in order, whatsapp first (the fallback chain, jobs/fallback.h: urgent types
 * default to ["whatsapp", "sms", "email"], normal ones to ["whatsapp", "email"], low ones to
 * ["whatsapp"]).
 *
 * A type without a row has its defaults: on, and the alerttype.h table's delivery: a type
 * marked ALERT_DIGEST (the cart operations) in the hourly digest, the rest immediate. A type
 * the seller may not switch off (security.*, payment.failed: "locked") is always on, whatever
 * a row says.
 *
 * The seller's change (PATCH /tenants/me/preferences) is checked whole before anything is
 * written (pref_parse_change, pure): an error names the member at fault and nothing changes.
 *
 * Memory: pref_parse_change's *out is the caller's to free (free()); strings it returns are new.
 * Results of the database functions: 0 success, -1 failure (db->err).
 */
#ifndef PREFS_H
#define PREFS_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/chain.h"
#include "db/db.h"
#include "tenants/alerttype.h"

enum pref_delivery { PREF_IMMEDIATE, PREF_HOURLY, PREF_DAILY };

/* The code of a 400 for switching off a locked type. */
#define PREF_E_LOCKED "locked_type"

struct alert_pref {
	const struct alert_type *type;
	int enabled;
	enum pref_delivery delivery;
	struct chain channels; /* in order, whatsapp first */
};

/* "immediate", "hourly", "daily". */
const char *pref_delivery_name(enum pref_delivery d);
/* 0 and *d for one of those names, -1 otherwise. */
int pref_delivery_parse(const char *s, enum pref_delivery *d);

/* 1 when the seller may not switch type t off. */
int pref_locked(const struct alert_type *t);

/* t's defaults (the channels by its urgency). */
void pref_default(const struct alert_type *t, struct alert_pref *p);

/* The channels of t's default chain, by its urgency. */
void pref_default_channels(const struct alert_type *t, struct chain *c);

/*
 * p's channels from a stored text[] ("{whatsapp,sms}"); NULL (or a value chain_from_names
 * refuses): the defaults stay.
 */
void pref_set_channels(struct alert_pref *p, const char *stored);

/*
 * t's effective preference from a stored row's values (enabled: "t"/"f", delivery: a name),
 * either NULL for no row: what is stored, the defaults for what is not, on when locked.
 */
void pref_effective(const struct alert_type *t, const char *enabled, const char *delivery,
                    struct alert_pref *p);

/* One type's part of a change: what it sets. */
struct pref_change {
	const struct alert_type *type;
	int set_enabled, enabled;
	int set_delivery;
	enum pref_delivery delivery;
	int set_channels;
	struct chain channels;
};

/*
 * A change: {"preferences": {"<type>": {"enabled": bool, "delivery": "immediate" | "hourly" |
 * "daily", "channels": ["whatsapp", "sms", "email"]}, ...}} (channels: 1 to 3 of whatsapp, sms
 * and email, each once, whatsapp first) with at least one type, each setting at least one
 * member; nothing else. 0 with *out (n entries, one per type); or -1 with *code ("invalid_field",
 * or PREF_E_LOCKED when a locked type would be switched off), *field (the member at fault,
 * "preferences.security.login.enabled") and *err (a sentence starting with it), both new.
 */
int pref_parse_change(struct json_object *body, struct pref_change **out, size_t *n,
                      const char **code, char **field, char **err);

/* Every type's effective preference for tenant_id, in alert_type_at order (out has
 * alert_type_count() entries). */
int pref_load(struct db *db, long long tenant_id, struct alert_pref *out);

/* Store a change for tenant_id, in one transaction (the caller's if one is open). */
int pref_apply(struct db *db, long long tenant_id, const struct pref_change *c, size_t n);

/* {"preferences": {"<type>": {enabled, delivery, channels, locked, urgency, default:
 * {enabled, delivery, channels}}, ...}} for n preferences (caller puts it). */
struct json_object *pref_to_json(const struct alert_pref *p, size_t n);

#endif
