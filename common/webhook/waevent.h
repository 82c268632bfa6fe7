/*
 * waevent.h: the inbound messages and delivery statuses in one Meta
 * WhatsApp Cloud API webhook body.
 *
 * The body is {"object":"whatsapp_business_account","entry":[{"changes":
 * [{"value":{"metadata":{...},"contacts":[...],"messages":[...],
 * "statuses":[...],"errors":[...]}}]}]}. Any field may be missing or of the
 * wrong type: such an item is skipped and counted, never fatal. Only a body
 * that is not a JSON object is an error.
 *
 * wa_batch_parse() fills a caller-owned struct wa_batch; every string in it
 * belongs to the batch until wa_batch_release(). Strings are valid UTF-8
 * without NUL bytes. Optional strings are NULL when absent, of the wrong
 * type or unusable; numbers are 0 then.
 *
 * The work one body can ask for is bounded: a body over any WA_MAX_* limit
 * below is refused whole (WA_TOO_MANY), never cut, so nothing of it is
 * applied and the refusal names the limit. Meta sends at most 1,000 updates
 * (messages and statuses) in one request; the limits leave room for that
 * and no more than a few times it. Contacts are looked up through an index
 * built once per value, so matching messages to contacts is not quadratic.
 */
#ifndef WAEVENT_H
#define WAEVENT_H

#include <stddef.h>

/*
 * An identifier of an item (message or status id, from, from_user_id,
 * recipient_id, context.id) longer than this, empty, holding a NUL or of
 * the wrong type makes the item skipped. An unusable phone_number_id or
 * contact wa_id is treated as absent.
 *
 * Phone numbers (a message's from, a status's recipient_id, a contact's
 * wa_id) are 1 to WA_NUMBER_MAX ASCII digits (wa_number_valid()). A message
 * whose from, or a status whose recipient_id, is present and anything else
 * (fullwidth digits, a '+', a newline...) is dropped and counted in
 * n_bad_numbers, never kept: it can be neither stored as a phone number nor
 * fail later. A contact wa_id that is not a number is treated as absent.
 *
 * The sender's contact is the contacts[] element whose wa_id is from, else
 * whose user_id is from_user_id, else (no from) the only element.
 */
#define WA_ID_MAX 256
#define WA_NUMBER_MAX 15
/* Message text and error details are cut to this many bytes (at a UTF-8 boundary). */
#define WA_TEXT_MAX 4096
/* Type, status, profile name, error title: cut to this many bytes. */
#define WA_SHORT_MAX 256
/* A button payload or biz_opaque_callback_data longer than this is dropped (NULL), not cut. */
#define WA_PAYLOAD_MAX 1024

/* Limits of one body, each counted over the whole body (every entry, change, value). */
#define WA_MAX_VALUES 100000 /* JSON values, counted before the body is built (jsonutil.h) */
#define WA_MAX_ENTRIES 1000  /* entry[] elements */
#define WA_MAX_CHANGES 1000  /* changes[] elements */
#define WA_MAX_MESSAGES 5000 /* value.messages[] elements */
#define WA_MAX_STATUSES 5000 /* value.statuses[] elements */
#define WA_MAX_CONTACTS 5000 /* value.contacts[] elements */
#define WA_MAX_ERRORS 1000   /* value.errors[] and statuses[].errors[] elements */

/* wa_batch_parse()'s answer for a body over one of the limits. */
#define WA_TOO_MANY (-2)

struct wa_message {
	char *id;              /* "wamid...."; never NULL */
	char *from;            /* sender's digits as sent, no '+' */
	char *from_user_id;    /* business-scoped user ID, e.g. "US.1349...", when sent */
	char *wa_id;           /* the sender's contacts[].wa_id, else a copy of from */
	char *profile_name;    /* the sender's contacts[].profile.name */
	long long timestamp;   /* Unix seconds */
	char *type;            /* "text", "button", "interactive", "image", ... */
	char *text;            /* text.body, button.text or the reply's title */
	char *button_payload;  /* button.payload or the reply's id */
	char *context_id;      /* context.id: the wamid this message answers */
	char *phone_number_id; /* value.metadata.phone_number_id: our number */
	int sms;               /* 1: an SMS to our Twilio number (From without "whatsapp:") */
};

struct wa_status {
	char *id;              /* wamid of our message; never NULL */
	char *status;          /* "sent", "delivered", "read", "failed", ...; never NULL */
	long long timestamp;   /* Unix seconds */
	char *recipient_id;    /* digits, no '+' */
	char *callback_data;   /* biz_opaque_callback_data */
	char *phone_number_id; /* value.metadata.phone_number_id */
	int error_code;        /* errors[0].code; 0 when none */
	char *error_title;     /* errors[0].title */
	char *error_details;   /* errors[0].error_data.details, else errors[0].message */
};

struct wa_batch {
	struct wa_message *messages;
	size_t n_messages;
	struct wa_status *statuses;
	size_t n_statuses;
	size_t n_errors;           /* elements of every value.errors[] (account-level errors) */
	int first_error_code;      /* code of the first of them that has one; 0 when none */
	char *first_error_title;   /* its title */
	char *first_error_details; /* its error_data.details, else its message */
	size_t n_skipped;          /* malformed entries, changes, messages and statuses */
	size_t n_bad_numbers; /* messages and statuses dropped: from, recipient_id not a number */
	int other_object;     /* "object" named something else: nothing was read */
};

/*
 * Read len bytes of body with the strict parser of jsonutil.h. 0 and a
 * filled batch (possibly empty: an object without "entry" is valid); -1
 * when the body is not one valid JSON object; WA_TOO_MANY when it is one
 * but over a WA_MAX_* limit. On failure *err (if err is not NULL) is a
 * message the caller frees (for WA_TOO_MANY it names the array and the
 * limit, e.g. "value.contacts: more than 5000 in the body (WA_MAX_CONTACTS)")
 * and the batch is empty.
 */
int wa_batch_parse(const char *body, size_t len, struct wa_batch *b, char **err);

/* 1 when s is 1 to WA_NUMBER_MAX ASCII digits (a WhatsApp number without '+'), else 0. */
int wa_number_valid(const char *s);

/* Free everything the batch holds; it is empty afterwards. */
void wa_batch_release(struct wa_batch *b);

#endif
