/*
 * alerttype.h: the types of business event a seller is alerted about (order.placed,
 * payment.failed, cart.abandoned...), one static table: each type's defaults (urgency, whether
 * the seller may switch it off, immediate or in a digest), the fields its event's `data` must
 * have, and how an event of the type reads on each medium: the short WhatsApp text, the
 * WhatsApp template and its parameters (outside the 24-hour window), the SMS text and an
 * email.
 *
 * Every text is built from the type's formats and the event's data, never from prose the
 * platform sends: what the event says (names, products, reasons) is cleaned on the way in
 * (alert_clean: control characters out, length capped on a UTF-8 boundary, WhatsApp's
 * *bold* _italic_ ~strike~ `code` markers neutralised), so an event cannot format, forge
 * lines in or overflow a message.
 *
 * The table is static and read-only: struct alert_type pointers live for the program. The
 * renderers take data that alert_type_check_data accepted (a required field missing anyway
 * reads "-"); what they return is the caller's to free. Nothing here touches the network or
 * the database.
 */
#ifndef ALERTTYPE_H
#define ALERTTYPE_H

#include <json-c/json.h>
#include <stddef.h>

#define ALERT_TEXT_MAX 300        /* characters of the WhatsApp text */
#define ALERT_SMS_MAX 160         /* characters of the SMS text */
#define ALERT_SUBJECT_MAX 120     /* characters of the email subject */
#define ALERT_PARAM_MAX 100       /* characters of one template parameter */
#define ALERT_TEMPLATE_PARAMS 4   /* parameters of a template, at most */
#define ALERT_FIELD_TEXT_MAX 1000 /* bytes of a text field in data */
#define ALERT_FIELD_ID_MAX 128    /* bytes of an id field in data */
#define ALERT_FIELD_INT_MAX 1000000000LL

enum alert_urgency { ALERT_URGENT, ALERT_NORMAL, ALERT_LOW };
enum alert_delivery { ALERT_IMMEDIATE, ALERT_DIGEST };
enum alert_medium { ALERT_WHATSAPP, ALERT_SMS, ALERT_EMAIL };

/* What a member of data holds. */
enum alert_field_kind {
	AF_ID,       /* a string of 1..ALERT_FIELD_ID_MAX bytes without control characters */
	AF_TEXT,     /* a string of 1..ALERT_FIELD_TEXT_MAX bytes, not blank */
	AF_MONEY,    /* {amount, currency}: core/money.h */
	AF_INT,      /* an integer 0..ALERT_FIELD_INT_MAX */
	AF_COUNT,    /* an integer 0..ALERT_FIELD_INT_MAX, or an array (its length counts) */
	AF_CUSTOMER, /* {name (AF_TEXT, at most 200 bytes), phone (optional)} */
	AF_CONTACT,  /* {phone, name (optional)}: phone international, "+" and 8-15 digits */
};

struct alert_field {
	const char *name; /* the member of data */
	enum alert_field_kind kind;
	int required;
	const char *label; /* for the email ("Order") */
	const char *unit;  /* AF_COUNT: the thing counted ("item": "1 item", "3 items") */
	int show;          /* characters of its text in a WhatsApp text (0: the kind's default) */
};

struct alert_type {
	const char *name; /* "order.placed" */
	enum alert_urgency urgency;
	int can_switch_off; /* 0: security.* and payment.failed */
	enum alert_delivery delivery;
	const struct alert_field *fields; /* ends with a NULL name */
	/*
	 * Formats: text, with {field} for a field's value ({customer.name}, {customer.phone}
	 * for one part of a person) and [...] around a part that is left out when a field it
	 * names is absent.
	 */
	const char *text;    /* the WhatsApp text */
	const char *sms;     /* the SMS text */
	const char *subject; /* the email subject; the body is the text and every field */
	const char *template_name;
	const char *params[ALERT_TEMPLATE_PARAMS]; /* formats, in order; NULL after the last */
	/*
	 * The template's body as registered with Meta, {{1}}..{{n}} standing for params in
	 * order (never first or last: Meta refuses that), and an event's data (JSON) whose
	 * parameters are the example Meta asks for (alert_template_spec).
	 */
	const char *template_body;
	const char *template_example;
};

/* The type called name, or NULL. */
const struct alert_type *alert_type_find(const char *name);

/* The table in a fixed order (the preferences page lists it): i < alert_type_count(). */
size_t alert_type_count(void);
const struct alert_type *alert_type_at(size_t i);

/* "urgent", "normal", "low"; "immediate", "digest". */
const char *alert_urgency_name(enum alert_urgency u);
const char *alert_delivery_name(enum alert_delivery d);

/*
 * Check data (an event's "data") against t's fields: an object holding every required field,
 * each present one of its kind (JSON null counts as absent). Members not in the table are
 * accepted and ignored. 0, or -1 with *path (a new string: the member at fault relative to
 * data, "total.currency", "" for data itself) and *why (static).
 */
int alert_type_check_data(const struct alert_type *t, struct json_object *data, char **path,
                          const char **why);

/* The WhatsApp text: at most ALERT_TEXT_MAX characters ("New order #1001: NGN 12,500, ..."). */
char *alert_text(const struct alert_type *t, struct json_object *data);

/* The SMS text: ASCII punctuation, at most ALERT_SMS_MAX characters. */
char *alert_sms(const struct alert_type *t, struct json_object *data);

/* The email: *subject (one line, at most ALERT_SUBJECT_MAX characters) and *body (lines). */
void alert_email(const struct alert_type *t, struct json_object *data, char **subject, char **body);

/*
 * The WhatsApp template: its name (static) and its parameters in order, each one line of at
 * most ALERT_PARAM_MAX characters, never empty ("-" for a field that is absent).
 */
struct alert_template {
	const char *name;
	size_t n;
	char *params[ALERT_TEMPLATE_PARAMS];
};
void alert_template_build(const struct alert_type *t, struct json_object *data,
                          struct alert_template *out);
void alert_template_release(struct alert_template *tpl);

/*
 * Meta's template creation request of t, in language (a new object, json_object_put):
 * {"name", "language", "category": "UTILITY", "parameter_format": "POSITIONAL",
 *  "components": [{"type": "BODY", "text": template_body, "example": {"body_text":
 *  [[the parameters of template_example, in order]]}}]}. What `cron seller-templates` prints
 * for the operator to register (POST /<WABA id>/message_templates).
 */
struct json_object *alert_template_spec(const struct alert_type *t, const char *language);

/*
 * Text from an event made safe for medium m, a new string: C0 and C1 control characters
 * removed (tabs and line breaks become spaces), bidirectional overrides and zero-width
 * spaces removed, runs of spaces made one, trimmed, cut to at most max characters (max >= 4)
 * on a UTF-8 boundary ending in "..." when cut (no space or marker left just before it);
 * invalid UTF-8 bytes are dropped. For
 * ALERT_WHATSAPP, a * _ ~ or ` that could open or close formatting (not between two letters
 * or digits, as in order_id "ord_123") becomes a look-alike that does not (∗ ＿ ∼ ˋ); for
 * ALERT_SMS, typographic quotes, dashes and the ellipsis become ASCII and emoji and other
 * pictographs are left out (GSM-7 has none of them; letters of any script stay).
 */
char *alert_clean(const char *s, size_t max, enum alert_medium m);

#endif
