/*
 * fuzz_waevent.c: wa_batch_parse(), the walk over a Meta WhatsApp Cloud API
 * webhook body.
 *
 * Invariants:
 *  - it fails with -1 (a message, an empty batch) exactly when
 *    json_parse_object() refuses the body; a JSON object is an error only
 *    when over a limit (WA_TOO_MANY, an empty batch, a message naming a
 *    WA_MAX_* limit), and then so is json-c's spelling of it;
 *  - every message and status has an id (1..WA_ID_MAX bytes) and a status
 *    has a non-empty status; every string is valid UTF-8 without NUL and
 *    within its WA_* limit (ids WA_ID_MAX, text and details WA_TEXT_MAX,
 *    type/status/name/title WA_SHORT_MAX, payloads WA_PAYLOAD_MAX);
 *    a message with from has a wa_id; timestamps are within
 *    0..9999-12-31; error codes are >= 0; at most WA_MAX_MESSAGES
 *    messages and WA_MAX_STATUSES statuses; from, wa_id and recipient_id
 *    are 1..15 ASCII digits when set; an "object" of another kind yields
 *    nothing;
 *  - the first account-level error has a title or details only when it has
 *    a code, and is counted;
 *  - the batch depends on the JSON value, not its spelling: json-c's
 *    serialisation of the body gives the same batch;
 *  - wa_batch_release() leaves an empty batch (and no leaks).
 */
#include "fuzz.h"
#include "core/jsonutil.h"
#include "webhook/waevent.h"

#define TS_MAX 253402300799LL

/* NULL, or valid UTF-8 of 1..max bytes (0..max when empty is allowed). */
static void check_str(const char *s, size_t max, int may_be_empty)
{
	if (!s)
		return;
	size_t n = strlen(s);
	FUZZ_CHECK(n <= max);
	FUZZ_CHECK(may_be_empty || n > 0);
	FUZZ_CHECK(str_is_utf8(s, n));
}

static void check_batch(const struct wa_batch *b)
{
	FUZZ_CHECK(b->n_messages <= WA_MAX_MESSAGES && b->n_statuses <= WA_MAX_STATUSES);
	FUZZ_CHECK((b->messages != NULL) == (b->n_messages > 0));
	FUZZ_CHECK((b->statuses != NULL) == (b->n_statuses > 0));
	for (size_t i = 0; i < b->n_messages; i++) {
		const struct wa_message *m = &b->messages[i];
		FUZZ_CHECK(m->id != NULL);
		check_str(m->id, WA_ID_MAX, 0);
		check_str(m->from, WA_ID_MAX, 0);
		check_str(m->from_user_id, WA_ID_MAX, 0);
		check_str(m->wa_id, WA_ID_MAX, 0);
		check_str(m->context_id, WA_ID_MAX, 0);
		check_str(m->phone_number_id, WA_ID_MAX, 0);
		check_str(m->profile_name, WA_SHORT_MAX, 1);
		check_str(m->type, WA_SHORT_MAX, 1);
		check_str(m->text, WA_TEXT_MAX, 1);
		check_str(m->button_payload, WA_PAYLOAD_MAX, 1);
		if (m->from)
			FUZZ_CHECK(m->wa_id != NULL && wa_number_valid(m->from));
		if (m->wa_id)
			FUZZ_CHECK(wa_number_valid(m->wa_id));
		FUZZ_CHECK(m->timestamp >= 0 && m->timestamp <= TS_MAX);
	}
	for (size_t i = 0; i < b->n_statuses; i++) {
		const struct wa_status *s = &b->statuses[i];
		FUZZ_CHECK(s->id != NULL && s->status != NULL);
		check_str(s->id, WA_ID_MAX, 0);
		check_str(s->status, WA_SHORT_MAX, 0);
		check_str(s->recipient_id, WA_ID_MAX, 0);
		if (s->recipient_id)
			FUZZ_CHECK(wa_number_valid(s->recipient_id));
		check_str(s->phone_number_id, WA_ID_MAX, 0);
		check_str(s->callback_data, WA_PAYLOAD_MAX, 1);
		check_str(s->error_title, WA_SHORT_MAX, 1);
		check_str(s->error_details, WA_TEXT_MAX, 1);
		FUZZ_CHECK(s->error_code >= 0);
		FUZZ_CHECK(s->timestamp >= 0 && s->timestamp <= TS_MAX);
	}
	FUZZ_CHECK(b->first_error_code >= 0);
	check_str(b->first_error_title, WA_SHORT_MAX, 1);
	check_str(b->first_error_details, WA_TEXT_MAX, 1);
	if (b->first_error_code == 0)
		FUZZ_CHECK(!b->first_error_title && !b->first_error_details);
	else
		FUZZ_CHECK(b->n_errors >= 1);
	if (b->other_object)
		FUZZ_CHECK(b->n_messages == 0 && b->n_statuses == 0 && b->n_errors == 0 &&
		           b->n_skipped == 0 && b->n_bad_numbers == 0);
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_same_batch(const struct wa_batch *a, const struct wa_batch *b)
{
	FUZZ_CHECK(a->n_messages == b->n_messages && a->n_statuses == b->n_statuses);
	FUZZ_CHECK(a->n_errors == b->n_errors && a->n_skipped == b->n_skipped);
	FUZZ_CHECK(a->n_bad_numbers == b->n_bad_numbers);
	FUZZ_CHECK(a->other_object == b->other_object);
	FUZZ_CHECK(a->first_error_code == b->first_error_code);
	FUZZ_CHECK(str_same(a->first_error_title, b->first_error_title));
	FUZZ_CHECK(str_same(a->first_error_details, b->first_error_details));
	for (size_t i = 0; i < a->n_messages; i++) {
		const struct wa_message *x = &a->messages[i], *y = &b->messages[i];
		FUZZ_CHECK(str_same(x->id, y->id) && str_same(x->from, y->from));
		FUZZ_CHECK(str_same(x->from_user_id, y->from_user_id));
		FUZZ_CHECK(str_same(x->wa_id, y->wa_id) &&
		           str_same(x->profile_name, y->profile_name));
		FUZZ_CHECK(x->timestamp == y->timestamp && str_same(x->type, y->type));
		FUZZ_CHECK(str_same(x->text, y->text));
		FUZZ_CHECK(str_same(x->button_payload, y->button_payload));
		FUZZ_CHECK(str_same(x->context_id, y->context_id));
		FUZZ_CHECK(str_same(x->phone_number_id, y->phone_number_id));
	}
	for (size_t i = 0; i < a->n_statuses; i++) {
		const struct wa_status *x = &a->statuses[i], *y = &b->statuses[i];
		FUZZ_CHECK(str_same(x->id, y->id) && str_same(x->status, y->status));
		FUZZ_CHECK(x->timestamp == y->timestamp &&
		           str_same(x->recipient_id, y->recipient_id));
		FUZZ_CHECK(str_same(x->callback_data, y->callback_data));
		FUZZ_CHECK(str_same(x->phone_number_id, y->phone_number_id));
		FUZZ_CHECK(x->error_code == y->error_code);
		FUZZ_CHECK(str_same(x->error_title, y->error_title));
		FUZZ_CHECK(str_same(x->error_details, y->error_details));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct wa_batch b;
	char *err = NULL;
	struct json_object *root = NULL;
	char *jerr = NULL;

	int rc = wa_batch_parse(body, size, &b, &err);
	int jrc = json_parse_object_flags(body, size, JSON_NUL_IN_VALUES, &root, &jerr);
	free(jerr);
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == WA_TOO_MANY);
	if (rc != WA_TOO_MANY)
		FUZZ_CHECK(rc == jrc);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && *err != '\0');
		if (rc == WA_TOO_MANY)
			FUZZ_CHECK(strstr(err, "(WA_MAX_") != NULL);
		FUZZ_CHECK(b.messages == NULL && b.n_messages == 0 && b.statuses == NULL &&
		           b.n_statuses == 0 && b.n_errors == 0 && b.n_skipped == 0 &&
		           b.n_bad_numbers == 0 && b.first_error_title == NULL &&
		           b.first_error_details == NULL);
		free(err);
		wa_batch_release(&b);
		struct wa_batch c;
		FUZZ_CHECK(wa_batch_parse(body, size, &c, NULL) == rc);
		if (rc == WA_TOO_MANY && jrc == 0) { /* the same value, spelled by json-c */
			size_t n = 0;
			const char *s =
			    json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &n);
			FUZZ_CHECK(s != NULL && wa_batch_parse(s, n, &c, NULL) == WA_TOO_MANY);
		}
		json_object_put(root);
		return 0;
	}
	FUZZ_CHECK(err == NULL);
	check_batch(&b);

	/* The same JSON value spelled by json-c gives the same batch. */
	size_t n = 0;
	const char *s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN, &n);
	struct wa_batch c;
	FUZZ_CHECK(s != NULL);
	if (wa_batch_parse(s, n, &c, NULL) == 0) {
		check_same_batch(&b, &c);
		wa_batch_release(&c);
	}
	json_object_put(root);

	wa_batch_release(&b);
	FUZZ_CHECK(b.messages == NULL && b.n_messages == 0 && b.statuses == NULL &&
	           b.n_statuses == 0 && b.first_error_title == NULL);
	wa_batch_release(&b);
	return 0;
}
