#include <errno.h>
#include <limits.h>
#include <string.h>

#include <json-c/json.h>

#include "core/jsonutil.h"
#include "webhook/waevent.h"
#include "core/util.h"

#define WA_OBJECT "whatsapp_business_account"

/* 9999-12-31T23:59:59Z: anything later is not a timestamp. */
#define WA_TIMESTAMP_MAX 253402300799LL

static long long get_timestamp(struct json_object *o)
{
	long long t = json_get_uint(o, "timestamp", WA_TIMESTAMP_MAX);
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

int wa_number_valid(const char *s)
{
	size_t n = s ? strspn(s, "0123456789") : 0;
	return n >= 1 && n <= WA_NUMBER_MAX && s[n] == '\0';
}

/* One contact under one key (its wa_id or user_id), and its place in contacts[]. */
struct contact_key {
	const char *key;
	size_t len, idx;
	struct json_object *contact;
};

/*
 * The contacts[] of one value, sorted by wa_id and by user_id once, so each
 * message finds its sender in O(log n): a body of m messages and n contacts
 * costs (m + n) log n, not m x n.
 */
struct contact_index {
	struct contact_key *by_wa_id, *by_user_id;
	size_t n_wa_id, n_user_id;
	struct json_object *only; /* the element when there is exactly one */
};

static int key_cmp(const void *a, const void *b)
{
	const struct contact_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	if (c == 0)
		c = x->len < y->len ? -1 : x->len > y->len;
	/* Equal keys keep their order in contacts[]: the first one is found. */
	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first element of keys[n] whose key is key (len bytes), or NULL. */
static struct json_object *key_find(const struct contact_key *keys, size_t n, const char *key)
{
	struct contact_key want = {key, strlen(key), 0, NULL};
	size_t lo = 0, hi = n;
	while (lo < hi) { /* the first element not below (key, index 0) */
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&keys[mid], &want) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && keys[lo].len == want.len && memcmp(keys[lo].key, key, want.len) == 0)
		return keys[lo].contact;
	return NULL;
}

/* Add contact c (at idx) to keys under its member name when that is a string. */
static void key_add(struct contact_key *keys, size_t *n, struct json_object *c, const char *name,
                    size_t idx)
{
	struct json_object *v = json_member(c, name, json_type_string);
	if (!v)
		return;
	keys[*n] = (struct contact_key){json_object_get_string(v),
	                                (size_t)json_object_get_string_len(v), idx, c};
	(*n)++;
}

/* Index contacts (NULL or an array); the index points into it and lives no longer. */
static void contact_index_init(struct contact_index *ix, struct json_object *contacts)
{
	memset(ix, 0, sizeof(*ix));
	size_t n = contacts ? json_object_array_length(contacts) : 0;
	if (n == 0)
		return;
	ix->by_wa_id = xcalloc(n, sizeof(*ix->by_wa_id));
	ix->by_user_id = xcalloc(n, sizeof(*ix->by_user_id));
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(contacts, i);
		key_add(ix->by_wa_id, &ix->n_wa_id, c, "wa_id", i);
		key_add(ix->by_user_id, &ix->n_user_id, c, "user_id", i);
	}
	qsort(ix->by_wa_id, ix->n_wa_id, sizeof(*ix->by_wa_id), key_cmp);
	qsort(ix->by_user_id, ix->n_user_id, sizeof(*ix->by_user_id), key_cmp);
	if (n == 1)
		ix->only = json_object_array_get_idx(contacts, 0);
}

static void contact_index_release(struct contact_index *ix)
{
	free(ix->by_wa_id);
	free(ix->by_user_id);
	memset(ix, 0, sizeof(*ix));
}

/*
 * The contacts[] element that describes the sender: the first whose wa_id is
 * from, else the first whose user_id is from_user_id (a business-scoped user
 * ID, sent instead of a phone number to users with a username), else, when
 * the message has no from, the only contact. NULL when none fits.
 */
static struct json_object *contact_index_find(const struct contact_index *ix, const char *from,
                                              const char *from_user_id)
{
	struct json_object *c = NULL;
	if (from)
		c = key_find(ix->by_wa_id, ix->n_wa_id, from);
	if (!c && from_user_id)
		c = key_find(ix->by_user_id, ix->n_user_id, from_user_id);
	if (!c && !from)
		c = ix->only;
	return c;
}

/* An item dropped because a phone number in it is not one (n_bad_numbers). */
#define BAD_NUMBER (-2)

/* Fill m from one element of messages[]; -1 when it is malformed, BAD_NUMBER. */
static int parse_message(struct json_object *o, const struct contact_index *contacts,
                         const char *phone_number_id, struct wa_message *m)
{
	int ret = -1;
	memset(m, 0, sizeof(*m));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	struct json_object *ctx = json_member(o, "context", json_type_object);
	if (json_get_id(o, "id", WA_ID_MAX, &m->id) < 0 || !m->id ||
	    json_get_id(o, "from", WA_ID_MAX, &m->from) < 0 ||
	    json_get_id(o, "from_user_id", WA_ID_MAX, &m->from_user_id) < 0 ||
	    json_get_id(ctx, "id", WA_ID_MAX, &m->context_id) < 0)
		goto bad;
	if (m->from && !wa_number_valid(m->from)) {
		ret = BAD_NUMBER;
		goto bad;
	}
	m->timestamp = get_timestamp(o);
	m->type = json_get_text(o, "type", WA_SHORT_MAX);
	const char *type = m->type ? m->type : "";
	if (strcmp(type, "text") == 0) {
		m->text =
		    json_get_text(json_member(o, "text", json_type_object), "body", WA_TEXT_MAX);
	} else if (strcmp(type, "button") == 0) {
		struct json_object *btn = json_member(o, "button", json_type_object);
		m->text = json_get_text(btn, "text", WA_TEXT_MAX);
		m->button_payload = json_get_whole(btn, "payload", WA_PAYLOAD_MAX);
	} else if (strcmp(type, "interactive") == 0) {
		struct json_object *in = json_member(o, "interactive", json_type_object);
		struct json_object *reply = json_member(in, "button_reply", json_type_object);
		if (!reply)
			reply = json_member(in, "list_reply", json_type_object);
		m->text = json_get_text(reply, "title", WA_TEXT_MAX);
		m->button_payload = json_get_whole(reply, "id", WA_PAYLOAD_MAX);
	}
	struct json_object *contact = contact_index_find(contacts, m->from, m->from_user_id);
	if (contact) {
		m->profile_name = json_get_text(json_member(contact, "profile", json_type_object),
		                                "name", WA_SHORT_MAX);
		if (json_get_id(contact, "wa_id", WA_ID_MAX, &m->wa_id) < 0 ||
		    !wa_number_valid(m->wa_id)) {
			free(m->wa_id); /* unusable: fall back to from */
			m->wa_id = NULL;
		}
	}
	if (!m->wa_id && m->from)
		m->wa_id = xstrdup(m->from);
	if (phone_number_id)
		m->phone_number_id = xstrdup(phone_number_id);
	return 0;
bad:
	message_release(m);
	return ret;
}

/* Title and details of one element of an errors[] array. */
static void error_texts(struct json_object *e, char **title, char **details)
{
	*title = json_get_text(e, "title", WA_SHORT_MAX);
	*details =
	    json_get_text(json_member(e, "error_data", json_type_object), "details", WA_TEXT_MAX);
	if (!*details)
		*details = json_get_text(e, "message", WA_TEXT_MAX);
}

static int error_code(struct json_object *e)
{
	long long c = json_get_uint(e, "code", INT_MAX);
	return c > 0 ? (int)c : 0;
}

/* Fill s from one element of statuses[]; -1 when it is malformed, BAD_NUMBER. */
static int parse_status(struct json_object *o, const char *phone_number_id, struct wa_status *s)
{
	int ret = -1;
	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	if (json_get_id(o, "id", WA_ID_MAX, &s->id) < 0 || !s->id ||
	    json_get_id(o, "recipient_id", WA_ID_MAX, &s->recipient_id) < 0)
		goto bad;
	s->status = json_get_text(o, "status", WA_SHORT_MAX);
	if (!s->status || !*s->status)
		goto bad;
	if (s->recipient_id && !wa_number_valid(s->recipient_id)) {
		ret = BAD_NUMBER;
		goto bad;
	}
	s->timestamp = get_timestamp(o);
	s->callback_data = json_get_whole(o, "biz_opaque_callback_data", WA_PAYLOAD_MAX);
	struct json_object *errs = json_member(o, "errors", json_type_array);
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
	return ret;
}

/* Append one element of a growing array of items of size sz. */
static void *grow(void *v, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(v, *cap * sz);
}

/* One body's walk: the batch it fills and the arrays counted against their limits. */
struct walk {
	struct wa_batch *b;
	size_t cap_messages, cap_statuses; /* allocated */
	size_t entries, changes, messages, statuses, contacts, errors;
	char *err; /* set: the body is over a limit */
};

/*
 * Count the n elements of an array (named what) against max, the limit
 * called name. 0, or -1 with w->err set the first time one is over.
 */
static int count(struct walk *w, size_t *seen, size_t n, size_t max, const char *what,
                 const char *name)
{
	if (w->err)
		return -1;
	if (n > max - *seen) {
		w->err = xasprintf("%s: more than %zu in the body (%s)", what, max, name);
		return -1;
	}
	*seen += n;
	return 0;
}

/* The elements of array arr (NULL: none) counted against its limit; -1 when over. */
static int count_array(struct walk *w, struct json_object *arr, size_t *seen, size_t max,
                       const char *what, const char *name)
{
	return arr ? count(w, seen, json_object_array_length(arr), max, what, name) : 0;
}

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

/* Count an item parse_message() or parse_status() dropped (r < 0): a bad number, or skipped. */
static void count_dropped(struct wa_batch *b, int r)
{
	if (r == BAD_NUMBER)
		b->n_bad_numbers++;
	else
		b->n_skipped++;
}
/* The messages[] of one value; -1 when over a limit. */
static int read_messages(struct walk *w, struct json_object *arr, struct json_object *contacts,
                         const char *pnid)
{
	struct wa_batch *b = w->b;
	if (count_array(w, arr, &w->messages, WA_MAX_MESSAGES, "value.messages",
	                "WA_MAX_MESSAGES") < 0 ||
	    count_array(w, contacts, &w->contacts, WA_MAX_CONTACTS, "value.contacts",
	                "WA_MAX_CONTACTS") < 0)
		return -1;
	struct contact_index ix;
	contact_index_init(&ix, contacts);
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct wa_message m;
		int r = parse_message(json_object_array_get_idx(arr, i), &ix, pnid, &m);
		if (r < 0) {
			count_dropped(b, r);
			continue;
		}
		b->messages =
		    grow(b->messages, b->n_messages, &w->cap_messages, sizeof(*b->messages));
		b->messages[b->n_messages++] = m;
	}
	contact_index_release(&ix);
	return 0;
}

/* The statuses[] of one value; -1 when over a limit. */
static int read_statuses(struct walk *w, struct json_object *arr, const char *pnid)
{
	struct wa_batch *b = w->b;
	size_t n = json_object_array_length(arr);
	if (count(w, &w->statuses, n, WA_MAX_STATUSES, "value.statuses", "WA_MAX_STATUSES") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		if (count_array(w, json_member(o, "errors", json_type_array), &w->errors,
		                WA_MAX_ERRORS, "statuses.errors", "WA_MAX_ERRORS") < 0)
			return -1;
		struct wa_status st;
		int r = parse_status(o, pnid, &st);
		if (r < 0) {
			count_dropped(b, r);
			continue;
		}
		b->statuses =
		    grow(b->statuses, b->n_statuses, &w->cap_statuses, sizeof(*b->statuses));
		b->statuses[b->n_statuses++] = st;
	}
	return 0;
}

/* One changes[].value; -1 when over a limit. */
static int read_value(struct walk *w, struct json_object *value)
{
	struct wa_batch *b = w->b;
	char *pnid = NULL;
	int ret = -1;
	if (json_get_id(json_member(value, "metadata", json_type_object), "phone_number_id",
	                WA_ID_MAX, &pnid) < 0)
		pnid = NULL; /* unusable: as if absent */
	struct json_object *contacts = json_member(value, "contacts", json_type_array);
	struct json_object *arr;

	if ((arr = json_member(value, "messages", json_type_array))) {
		if (read_messages(w, arr, contacts, pnid) < 0)
			goto out;
	} else {
		if (count_array(w, contacts, &w->contacts, WA_MAX_CONTACTS, "value.contacts",
		                "WA_MAX_CONTACTS") < 0)
			goto out;
		if (json_present(value, "messages"))
			b->n_skipped++;
	}
	if ((arr = json_member(value, "statuses", json_type_array))) {
		if (read_statuses(w, arr, pnid) < 0)
			goto out;
	} else if (json_present(value, "statuses")) {
		b->n_skipped++;
	}
	if ((arr = json_member(value, "errors", json_type_array))) {
		if (count_array(w, arr, &w->errors, WA_MAX_ERRORS, "value.errors",
		                "WA_MAX_ERRORS") < 0)
			goto out;
		read_errors(b, arr);
	} else if (json_present(value, "errors")) {
		b->n_skipped++;
	}
	ret = 0;
out:
	free(pnid);
	return ret;
}

/* Every entry[].changes[].value of root; -1 when over a limit (w->err). */
static int read_entries(struct walk *w, struct json_object *entries)
{
	struct wa_batch *b = w->b;
	size_t ne = json_object_array_length(entries);
	if (count(w, &w->entries, ne, WA_MAX_ENTRIES, "entry", "WA_MAX_ENTRIES") < 0)
		return -1;
	for (size_t i = 0; i < ne; i++) {
		struct json_object *entry = json_object_array_get_idx(entries, i);
		struct json_object *changes = json_member(entry, "changes", json_type_array);
		if (!changes) {
			b->n_skipped++;
			continue;
		}
		size_t nc = json_object_array_length(changes);
		if (count(w, &w->changes, nc, WA_MAX_CHANGES, "changes", "WA_MAX_CHANGES") < 0)
			return -1;
		for (size_t k = 0; k < nc; k++) {
			struct json_object *value = json_member(
			    json_object_array_get_idx(changes, k), "value", json_type_object);
			if (!value)
				b->n_skipped++;
			else if (read_value(w, value) < 0)
				return -1;
		}
	}
	return 0;
}

int wa_batch_parse(const char *body, size_t len, struct wa_batch *b, char **err)
{
	struct json_object *root = NULL;
	char *e = NULL;
	struct walk w = {.b = b};
	int ret = -1;

	memset(b, 0, sizeof(*b));
	if (err)
		*err = NULL;
	int jr =
	    body ? json_parse_object_max(body, len, JSON_NUL_IN_VALUES, WA_MAX_VALUES, &root, &e)
	         : -1;
	if (jr == -2) {
		w.err =
		    xasprintf("the body: more than %d JSON values (WA_MAX_VALUES)", WA_MAX_VALUES);
		ret = WA_TOO_MANY;
		goto out;
	}
	if (jr < 0) {
		w.err = xstrdup(e ? e : "no body");
		goto out;
	}
	ret = 0;
	struct json_object *obj = json_member(root, "object", json_type_string);
	if (obj && strcmp(json_object_get_string(obj), WA_OBJECT) != 0) {
		b->other_object = 1;
		goto out;
	}
	struct json_object *entries = json_member(root, "entry", json_type_array);
	if (!entries) {
		if (json_present(root, "entry"))
			b->n_skipped++;
		goto out;
	}
	if (read_entries(&w, entries) < 0) {
		wa_batch_release(b);
		ret = WA_TOO_MANY;
	}
out:
	json_object_put(root);
	free(e);
	if (err)
		*err = w.err;
	else
		free(w.err);
	return ret;
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
