/*
 * fuzz_twilio.c: webhook_parse("twilio", ...), a Twilio webhook's form body
 * (an incoming message or a status callback) turned into the same struct
 * wa_batch a Meta body gives (webhook.h), so that the rest of the pipeline
 * needs no second set of checks.
 *
 * Invariants:
 *  - it fails with -1 exactly when form_parse() refuses the body, and then
 *    the batch is empty and *err a message;
 *  - otherwise the batch holds at most one event: one message, one status,
 *    or nothing with the body counted as skipped (no usable MessageSid) or
 *    as a bad number (a From/To that is not a WhatsApp number);
 *  - every string keeps waevent.h's contract for a Meta batch: valid UTF-8
 *    without NUL, within its WA_* limit (ids WA_ID_MAX, text and error
 *    details WA_TEXT_MAX, status/type/profile name WA_SHORT_MAX, a button
 *    payload WA_PAYLOAD_MAX); a status is non-empty; from, wa_id and
 *    recipient_id are 1..15 ASCII digits when set and a message with from
 *    has a wa_id; error codes are >= 0; a message's type is "text" or
 *    "button", "button" whenever it has a payload;
 *  - the batch depends on the form's pairs, not their spelling: the pairs
 *    percent-encoded again (every byte escaped but unreserved ones) give the
 *    same batch;
 *  - wa_batch_release() leaves an empty batch (and no leaks).
 */
#include "fuzz.h"
#include "app/form.h"
#include "core/buf.h"
#include "webhook/waevent.h"
#include "webhook/webhook.h"

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

static void check_message(const struct wa_message *m)
{
	FUZZ_CHECK(m->id != NULL);
	check_str(m->id, WA_ID_MAX, 0);
	check_str(m->from, WA_ID_MAX, 0);
	check_str(m->wa_id, WA_ID_MAX, 0);
	check_str(m->context_id, WA_ID_MAX, 0);
	check_str(m->profile_name, WA_SHORT_MAX, 1);
	check_str(m->text, WA_TEXT_MAX, 1);
	check_str(m->button_payload, WA_PAYLOAD_MAX, 1);
	if (m->from)
		FUZZ_CHECK(m->wa_id != NULL && wa_number_valid(m->from));
	if (m->wa_id)
		FUZZ_CHECK(wa_number_valid(m->wa_id));
	FUZZ_CHECK(m->type != NULL);
	FUZZ_CHECK(strcmp(m->type, "text") == 0 || strcmp(m->type, "button") == 0);
	if (m->button_payload)
		FUZZ_CHECK(strcmp(m->type, "button") == 0);
	FUZZ_CHECK(m->timestamp == 0); /* Twilio sends none */
}

static void check_status(const struct wa_status *s)
{
	FUZZ_CHECK(s->id != NULL && s->status != NULL);
	check_str(s->id, WA_ID_MAX, 0);
	check_str(s->status, WA_SHORT_MAX, 0);
	check_str(s->recipient_id, WA_ID_MAX, 0);
	if (s->recipient_id)
		FUZZ_CHECK(wa_number_valid(s->recipient_id));
	check_str(s->error_title, WA_SHORT_MAX, 1);
	check_str(s->error_details, WA_TEXT_MAX, 1);
	FUZZ_CHECK(s->error_code >= 0);
	FUZZ_CHECK(s->timestamp >= 0);
}

static void check_batch(const struct wa_batch *b)
{
	FUZZ_CHECK(b->n_messages + b->n_statuses + b->n_skipped + b->n_bad_numbers == 1);
	FUZZ_CHECK((b->messages != NULL) == (b->n_messages > 0));
	FUZZ_CHECK((b->statuses != NULL) == (b->n_statuses > 0));
	FUZZ_CHECK(b->n_errors == 0 && b->first_error_code == 0 && !b->other_object);
	FUZZ_CHECK(!b->first_error_title && !b->first_error_details);
	for (size_t i = 0; i < b->n_messages; i++)
		check_message(&b->messages[i]);
	for (size_t i = 0; i < b->n_statuses; i++)
		check_status(&b->statuses[i]);
}

static int str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* a and b hold the same events (timestamps aside: a status's is the parse time). */
static void check_same_batch(const struct wa_batch *a, const struct wa_batch *b)
{
	FUZZ_CHECK(a->n_messages == b->n_messages && a->n_statuses == b->n_statuses);
	FUZZ_CHECK(a->n_skipped == b->n_skipped && a->n_bad_numbers == b->n_bad_numbers);
	for (size_t i = 0; i < a->n_messages; i++) {
		const struct wa_message *x = &a->messages[i], *y = &b->messages[i];
		FUZZ_CHECK(str_same(x->id, y->id) && str_same(x->from, y->from));
		FUZZ_CHECK(str_same(x->wa_id, y->wa_id) &&
		           str_same(x->profile_name, y->profile_name));
		FUZZ_CHECK(str_same(x->type, y->type) && str_same(x->text, y->text));
		FUZZ_CHECK(str_same(x->button_payload, y->button_payload));
		FUZZ_CHECK(str_same(x->context_id, y->context_id));
	}
	for (size_t i = 0; i < a->n_statuses; i++) {
		const struct wa_status *x = &a->statuses[i], *y = &b->statuses[i];
		FUZZ_CHECK(str_same(x->id, y->id) && str_same(x->status, y->status));
		FUZZ_CHECK(str_same(x->recipient_id, y->recipient_id));
		FUZZ_CHECK(x->error_code == y->error_code);
		FUZZ_CHECK(str_same(x->error_details, y->error_details));
	}
}

/* The pairs of f percent-encoded again, every byte escaped but the unreserved ones. */
static char *reencode(const struct form *f)
{
	struct buf out = BUF_INIT(SIZE_MAX / 4);
	for (size_t i = 0; i < f->n; i++) {
		char *k = fuzz_urlencode(f->v[i].key, strlen(f->v[i].key), i % 2);
		char *v = fuzz_urlencode(f->v[i].value, strlen(f->v[i].value), i % 2 == 0);
		FUZZ_CHECK(buf_printf(&out, "%s%s=%s", i ? "&" : "", k, v) == 0);
		free(k);
		free(v);
	}
	char *s = xstrdup(buf_str(&out));
	buf_release(&out);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct wa_batch b;
	struct form f = {0};
	char *err = NULL, *ferr = NULL;

	int rc = webhook_parse("twilio", body, size, &b, &err);
	int frc = form_parse(body, size, &f, &ferr);
	free(ferr);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == frc);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && *err != '\0');
		FUZZ_CHECK(b.messages == NULL && b.n_messages == 0 && b.statuses == NULL &&
		           b.n_statuses == 0 && b.n_skipped == 0 && b.n_bad_numbers == 0);
		free(err);
		wa_batch_release(&b);
		return 0;
	}
	FUZZ_CHECK(err == NULL);
	check_batch(&b);

	char *again = reencode(&f);
	struct wa_batch c;
	FUZZ_CHECK(webhook_parse("twilio", again, strlen(again), &c, NULL) == 0);
	check_same_batch(&b, &c);
	wa_batch_release(&c);
	free(again);
	form_release(&f);

	wa_batch_release(&b);
	FUZZ_CHECK(b.messages == NULL && b.n_messages == 0 && b.statuses == NULL &&
	           b.n_statuses == 0);
	wa_batch_release(&b);
	return 0;
}
