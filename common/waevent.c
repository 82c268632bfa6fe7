#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonutil.h"
#include "waevent.h"
#include "util.h"

#define WA_OBJECT "whatsapp_business_account"

/* The member key of o when o is an object and the member has type t; else NULL. */
static struct json_object *member(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v = NULL;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* 1 when o has the member key and it is neither absent nor JSON null. */
static int present(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_is_type(o, json_type_object) &&
	       json_object_object_get_ex(o, key, &v) && v != NULL;
}

/*
 * An identifier: *out is a copy, or NULL when the member is absent or null.
 * -1 when it is present but not a non-empty string of at most WA_ID_MAX
 * bytes of UTF-8 without NUL.
 */
static int get_id(struct json_object *o, const char *key, char **out)
{
	*out = NULL;
	if (!present(o, key))
		return 0;
	struct json_object *v = member(o, key, json_type_string);
	if (!v)
		return -1;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > WA_ID_MAX || strlen(s) != n || !str_is_utf8(s, n))
		return -1;
	*out = xstrndup(s, n);
	return 0;
}

/*
 * A free text: a copy cut at the first NUL and then to at most max bytes,
 * at a UTF-8 boundary. NULL when absent, not a string or not UTF-8.
 */
static char *get_text(struct json_object *o, const char *key, size_t max)
{
	struct json_object *v = member(o, key, json_type_string);
	if (!v)
		return NULL;
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (!str_is_utf8(s, n))
		return NULL;
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/* A value that must not be cut (a payload): NULL when longer than max. */
static char *get_whole(struct json_object *o, const char *key, size_t max)
{
	struct json_object *v = member(o, key, json_type_string);
	if (!v || (size_t)json_object_get_string_len(v) > max)
		return NULL;
	return get_text(o, key, max);
}

/* A non-negative integer sent as a JSON integer or a string of digits; -1 otherwise. */
static long long get_uint(struct json_object *o, const char *key, long long max)
{
	struct json_object *v = NULL;
	long long n = -1;
	if ((v = member(o, key, json_type_int))) {
		errno = 0;
		n = (long long)json_object_get_int64(v);
		if (errno != 0)
			n = -1;
	} else if ((v = member(o, key, json_type_string))) {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v);
		if (len == 0 || len > 19 || strspn(s, "0123456789") != len ||
		    parse_int(s, 0, LLONG_MAX, &n, NULL) < 0)
			n = -1;
	}
	return n >= 0 && n <= max ? n : -1;
}

/* 9999-12-31T23:59:59Z: anything later is not a timestamp. */
#define WA_TIMESTAMP_MAX 253402300799LL

static long long get_timestamp(struct json_object *o)
{
	long long t = get_uint(o, "timestamp", WA_TIMESTAMP_MAX);
	return t > 0 ? t : 0;
}

static void message_release(struct wa_message *m)
{
	free(m->id);
	free(m->from);
	free(m->from_user_id);
	free(m->wa_id);
	free(m->profile_name);
	free(m->type);
	free(m->text);
	free(m->button_payload);
	free(m->context_id);
	free(m->phone_number_id);
	memset(m, 0, sizeof(*m));
}

static void status_release(struct wa_status *s)
{
	free(s->id);
	free(s->status);
	free(s->recipient_id);
	free(s->callback_data);
	free(s->phone_number_id);
	free(s->error_title);
	free(s->error_details);
	memset(s, 0, sizeof(*s));
}

/* 1 when member key of o is a string equal to s. */
static int member_is(struct json_object *o, const char *key, const char *s)
{
	struct json_object *v = member(o, key, json_type_string);
	return v && s && (size_t)json_object_get_string_len(v) == strlen(s) &&
	       strcmp(json_object_get_string(v), s) == 0;
}

/*
 * The contacts[] element that describes the sender: the one whose wa_id is
 * from, else the one whose user_id is from_user_id (a business-scoped user
 * ID, sent instead of a phone number to users with a username), else, when
 * the message has no from, the only contact. NULL when none fits.
 */
static struct json_object *find_contact(struct json_object *contacts, const char *from,
                                        const char *from_user_id)
{
	if (!contacts)
		return NULL;
	size_t n = json_object_array_length(contacts);
	for (size_t i = 0; i < n && from; i++) {
		struct json_object *c = json_object_array_get_idx(contacts, i);
		if (member_is(c, "wa_id", from))
			return c;
	}
	for (size_t i = 0; i < n && from_user_id; i++) {
		struct json_object *c = json_object_array_get_idx(contacts, i);
		if (member_is(c, "user_id", from_user_id))
			return c;
	}
	if (!from && n == 1)
		return json_object_array_get_idx(contacts, 0);
	return NULL;
}

/* Fill m from one element of messages[]; -1 when it is malformed. */
static int parse_message(struct json_object *o, struct json_object *contacts,
                         const char *phone_number_id, struct wa_message *m)
{
	memset(m, 0, sizeof(*m));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	struct json_object *ctx = member(o, "context", json_type_object);
	if (get_id(o, "id", &m->id) < 0 || !m->id || get_id(o, "from", &m->from) < 0 ||
	    get_id(o, "from_user_id", &m->from_user_id) < 0 ||
	    get_id(ctx, "id", &m->context_id) < 0)
		goto bad;
	m->timestamp = get_timestamp(o);
	m->type = get_text(o, "type", WA_SHORT_MAX);
	const char *type = m->type ? m->type : "";
	if (strcmp(type, "text") == 0) {
		m->text = get_text(member(o, "text", json_type_object), "body", WA_TEXT_MAX);
	} else if (strcmp(type, "button") == 0) {
		struct json_object *btn = member(o, "button", json_type_object);
		m->text = get_text(btn, "text", WA_TEXT_MAX);
		m->button_payload = get_whole(btn, "payload", WA_PAYLOAD_MAX);
	} else if (strcmp(type, "interactive") == 0) {
		struct json_object *in = member(o, "interactive", json_type_object);
		struct json_object *reply = member(in, "button_reply", json_type_object);
		if (!reply)
			reply = member(in, "list_reply", json_type_object);
		m->text = get_text(reply, "title", WA_TEXT_MAX);
		m->button_payload = get_whole(reply, "id", WA_PAYLOAD_MAX);
	}
	struct json_object *contact = find_contact(contacts, m->from, m->from_user_id);
	if (contact) {
		m->profile_name =
		    get_text(member(contact, "profile", json_type_object), "name", WA_SHORT_MAX);
		if (get_id(contact, "wa_id", &m->wa_id) < 0)
			m->wa_id = NULL; /* unusable: fall back to from */
	}
	if (!m->wa_id && m->from)
		m->wa_id = xstrdup(m->from);
	if (phone_number_id)
		m->phone_number_id = xstrdup(phone_number_id);
	return 0;
bad:
	message_release(m);
	return -1;
}

/* Title and details of one element of an errors[] array. */
static void error_texts(struct json_object *e, char **title, char **details)
{
	*title = get_text(e, "title", WA_SHORT_MAX);
	*details = get_text(member(e, "error_data", json_type_object), "details", WA_TEXT_MAX);
	if (!*details)
		*details = get_text(e, "message", WA_TEXT_MAX);
}

static int error_code(struct json_object *e)
{
	long long c = get_uint(e, "code", INT_MAX);
	return c > 0 ? (int)c : 0;
}

/* Fill s from one element of statuses[]; -1 when it is malformed. */
static int parse_status(struct json_object *o, const char *phone_number_id, struct wa_status *s)
{
	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	if (get_id(o, "id", &s->id) < 0 || !s->id ||
	    get_id(o, "recipient_id", &s->recipient_id) < 0)
		goto bad;
	s->status = get_text(o, "status", WA_SHORT_MAX);
	if (!s->status || !*s->status)
		goto bad;
	s->timestamp = get_timestamp(o);
	s->callback_data = get_whole(o, "biz_opaque_callback_data", WA_PAYLOAD_MAX);
	struct json_object *errs = member(o, "errors", json_type_array);
	if (errs && json_object_array_length(errs) > 0) {
		struct json_object *e = json_object_array_get_idx(errs, 0);
		s->error_code = error_code(e);
		error_texts(e, &s->error_title, &s->error_details);
	}
	if (phone_number_id)
		s->phone_number_id = xstrdup(phone_number_id);
	return 0;
bad:
	status_release(s);
	return -1;
}

/* Append one element of a growing array of items of size sz. */
static void *grow(void *v, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(v, *cap * sz);
}

struct caps {
	size_t messages, statuses;
};

/* The account-level errors of one value. */
static void read_errors(struct wa_batch *b, struct json_object *errs)
{
	size_t n = json_object_array_length(errs);
	b->n_errors += n;
	for (size_t i = 0; i < n && !b->first_error_code; i++) {
		struct json_object *e = json_object_array_get_idx(errs, i);
		int code = error_code(e);
		if (code) {
			b->first_error_code = code;
			error_texts(e, &b->first_error_title, &b->first_error_details);
		}
	}
}

/* One changes[].value. */
static void read_value(struct wa_batch *b, struct caps *caps, struct json_object *value)
{
	char *pnid = NULL;
	if (get_id(member(value, "metadata", json_type_object), "phone_number_id", &pnid) < 0)
		pnid = NULL; /* unusable: as if absent */
	struct json_object *contacts = member(value, "contacts", json_type_array);
	struct json_object *arr;

	if ((arr = member(value, "messages", json_type_array))) {
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n; i++) {
			struct wa_message m;
			if (b->n_messages >= WA_BATCH_MAX_ITEMS ||
			    parse_message(json_object_array_get_idx(arr, i), contacts, pnid, &m) <
			        0) {
				b->n_skipped++;
				continue;
			}
			b->messages =
			    grow(b->messages, b->n_messages, &caps->messages, sizeof(*b->messages));
			b->messages[b->n_messages++] = m;
		}
	} else if (present(value, "messages")) {
		b->n_skipped++;
	}
	if ((arr = member(value, "statuses", json_type_array))) {
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n; i++) {
			struct wa_status s;
			if (b->n_statuses >= WA_BATCH_MAX_ITEMS ||
			    parse_status(json_object_array_get_idx(arr, i), pnid, &s) < 0) {
				b->n_skipped++;
				continue;
			}
			b->statuses =
			    grow(b->statuses, b->n_statuses, &caps->statuses, sizeof(*b->statuses));
			b->statuses[b->n_statuses++] = s;
		}
	} else if (present(value, "statuses")) {
		b->n_skipped++;
	}
	if ((arr = member(value, "errors", json_type_array)))
		read_errors(b, arr);
	else if (present(value, "errors"))
		b->n_skipped++;
	free(pnid);
}

int wa_batch_parse(const char *body, size_t len, struct wa_batch *b, char **err)
{
	struct json_object *root = NULL;
	char *e = NULL;
	struct caps caps = {0, 0};

	memset(b, 0, sizeof(*b));
	if (err)
		*err = NULL;
	if (!body || json_parse_object_flags(body, len, JSON_NUL_IN_VALUES, &root, &e) < 0) {
		if (err)
			*err = e ? e : xstrdup("no body");
		else
			free(e);
		return -1;
	}
	struct json_object *obj = member(root, "object", json_type_string);
	if (obj && strcmp(json_object_get_string(obj), WA_OBJECT) != 0) {
		b->other_object = 1;
		goto out;
	}
	struct json_object *entries = member(root, "entry", json_type_array);
	if (!entries) {
		if (present(root, "entry"))
			b->n_skipped++;
		goto out;
	}
	size_t ne = json_object_array_length(entries);
	for (size_t i = 0; i < ne; i++) {
		struct json_object *entry = json_object_array_get_idx(entries, i);
		struct json_object *changes = member(entry, "changes", json_type_array);
		if (!changes) {
			b->n_skipped++;
			continue;
		}
		size_t nc = json_object_array_length(changes);
		for (size_t k = 0; k < nc; k++) {
			struct json_object *value = member(json_object_array_get_idx(changes, k),
			                                   "value", json_type_object);
			if (value)
				read_value(b, &caps, value);
			else
				b->n_skipped++;
		}
	}
out:
	json_object_put(root);
	return 0;
}

void wa_batch_release(struct wa_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_messages; i++)
		message_release(&b->messages[i]);
	for (size_t i = 0; i < b->n_statuses; i++)
		status_release(&b->statuses[i]);
	free(b->messages);
	free(b->statuses);
	free(b->first_error_title);
	free(b->first_error_details);
	memset(b, 0, sizeof(*b));
}
