/*
 * tenant.h: the sellers of the commerce platform (table tenants, sql/008).
 *
 * A tenant is named two ways: by its row id (what messages, accounts and the seller's own
 * authentication carry) and by the platform's id for it, external_id (what every platform
 * request names). The platform creates and updates tenants by external_id (tenant_upsert);
 * the seller's routes will load their tenant by id from the identity their token proves, and
 * every query here is scoped by exactly one of the two.
 *
 * Input is checked field by field before anything is written (tenant_parse): an error names
 * the field and says what it must be, and nothing changes. The database's CHECKs repeat the
 * formats as a last line of defence.
 *
 * Memory: struct tenant and struct tenant_input own their strings; release them with
 * tenant_release / tenant_input_release (both safe on a zeroed struct, and twice).
 * Results: 0 success, 1 no such tenant (loads, status changes), -1 failure (logged; the
 * database error in db->err).
 */
#ifndef TENANT_H
#define TENANT_H

#include <json-c/json.h>

#include "db/db.h"

#define TENANT_EXTERNAL_ID_MAX 128
#define TENANT_NAME_MAX 200
#define TENANT_EMAIL_MAX 254
#define TENANT_LANGUAGE_MAX 35
#define TENANT_LIST_DEFAULT 50
#define TENANT_LIST_MAX 200

/* A tenant as stored. Strings never NULL except where said; times are UTC ISO 8601 ("...Z"). */
struct tenant {
	long long id;
	char *external_id;
	char *display_name;
	char *whatsapp_number;      /* E.164, or NULL: none yet */
	char *whatsapp_verified_at; /* NULL: not verified */
	char *sms_number;           /* NULL: the WhatsApp number */
	char *email;                /* NULL: none */
	char *time_zone;            /* IANA */
	char *quiet_start;          /* "HH:MM", or NULL (then quiet_end too): no quiet hours */
	char *quiet_end;
	char *language; /* BCP 47 tag */
	char *status;   /* "active" or "suspended" */
	char *created_at;
	char *updated_at;
	char *pending_whatsapp_number; /* set by the seller, not yet confirmed; NULL: none */
};

void tenant_release(struct tenant *t);

/* t as the JSON object the endpoints answer with (caller puts it). */
struct json_object *tenant_to_json(const struct tenant *t);

/* The fields a request may set, validated; a member absent from the request is not set. */
enum tenant_field {
	TF_EXTERNAL_ID,
	TF_DISPLAY_NAME,
	TF_WHATSAPP_NUMBER,
	TF_SMS_NUMBER,
	TF_EMAIL,
	TF_TIME_ZONE,
	TF_QUIET_START,
	TF_QUIET_END,
	TF_LANGUAGE,
	TF_COUNT
};

struct tenant_input {
	unsigned present;      /* bit (1u << field): the request has the member (maybe null) */
	char *value[TF_COUNT]; /* normalised value; NULL: JSON null (clear it) or absent */
};

void tenant_input_release(struct tenant_input *in);

/* The JSON member name of field f ("whatsapp_number"). */
const char *tenant_field_name(enum tenant_field f);

/*
 * Validate one value of field f (s not NULL). 0 and *out (a new string, normalised: a phone
 * number in E.164), or -1 and *why, a sentence for the seller or the platform saying what it
 * must be (static).
 */
int tenant_check_field(enum tenant_field f, const char *s, char **out, const char **why);

/*
 * The platform's tenant document: a JSON object with external_id and display_name (both
 * required, never null) and any of whatsapp_number, sms_number, email, time_zone, quiet_start
 * and quiet_end (together), language; null clears an optional one (a required one refuses
 * null). Members not listed are refused. 0 and *in; or -1, *field (the member at fault, a new
 * string, "" for the body as a whole) and *err (a new string); caller frees both.
 */
int tenant_parse(struct json_object *body, struct tenant_input *in, char **field, char **err);

/*
 * The seller's change (PATCH /tenants/me): as tenant_parse(), but no member is required,
 * external_id is refused (it cannot be changed) and so is a null whatsapp_number.
 */
int tenant_parse_change(struct json_object *body, struct tenant_input *in, char **field,
                        char **err);

/* What tenant_upsert answers when the WhatsApp number is another tenant's. */
#define TENANT_NUMBER_IN_USE 2

/* 1 when the statement that just failed on db broke "one number, one tenant" (sql/009). */
int tenant_number_taken(const struct db *db);

/*
 * Create the tenant in->value[TF_EXTERNAL_ID] or update it with the members in->present,
 * in one statement (two platform requests at once for one new tenant make one row). A
 * member absent leaves the stored value (on a new tenant: the default: no numbers, no email,
 * UTC, no quiet hours, "en"). A WhatsApp number set this way is verified now (the platform
 * vouches for its seller) unless it is the one stored. updated_at moves only when a value
 * changed. 0 and *t (and *created: 1 new row, 0 existing), TENANT_NUMBER_IN_USE (the number
 * is another tenant's: nothing changed), or -1.
 */
int tenant_upsert(struct db *db, const struct tenant_input *in, struct tenant *t, int *created);

/* Load by the platform's id / by row id. 0 and *t, 1 no such tenant, -1. */
int tenant_load_external(struct db *db, const char *external_id, struct tenant *t);
int tenant_load_id(struct db *db, long long id, struct tenant *t);

/*
 * A page of tenants in id order: those with id > after (0: from the first), at most limit
 * (1..TENANT_LIST_MAX). 0 with *list (caller frees with tenant_list_free), *n, and
 * *next_after: the id to pass as after for the next page, 0 when this is the last; or -1.
 */
int tenant_list(struct db *db, long long after, int limit, struct tenant **list, int *n,
                long long *next_after);
void tenant_list_free(struct tenant *list, int n);

/*
 * Set the status of tenant external_id to "active" or "suspended" (idempotent: suspending a
 * suspended tenant changes nothing, updated_at included). 0 and *t as it is now, 1 no such
 * tenant, -1.
 */
int tenant_set_status(struct db *db, const char *external_id, const char *status, struct tenant *t);

/*
 * Apply a seller's change (from tenant_parse_change) to tenant id: the members in->present
 * except whatsapp_number (verified first: tenants/login.h) and external_id. In the caller's
 * transaction if one is open. 0 and *t as it is now, 1 no such tenant, -1.
 */
int tenant_update(struct db *db, long long id, const struct tenant_input *in, struct tenant *t);

#endif
