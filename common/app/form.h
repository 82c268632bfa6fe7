/*
 * form.h: application/x-www-form-urlencoded bodies (Twilio's webhooks).
 *
 * form_parse() fills a caller-owned struct form with decoded key/value
 * pairs, in the order they were sent; duplicate keys are kept. The pairs and
 * their strings belong to the form until form_release(). On failure the form
 * is left empty and *err (if err is not NULL) holds a message the caller
 * frees.
 */
#ifndef FORM_H
#define FORM_H

#include <stddef.h>

/* More pairs than this is an error (Twilio sends a few dozen). */
#define FORM_MAX_PAIRS 256

struct form_kv {
	char *key, *value;
};

struct form {
	struct form_kv *v;
	size_t n;
};

/*
 * Parse len bytes of body: pairs separated by '&' (empty pieces are
 * skipped), '=' splits key from value (a pair without '=' has value ""),
 * '+' is a space and %XX an escaped byte. Bad escapes, NUL bytes (raw or
 * %00), invalid UTF-8 after decoding and more than FORM_MAX_PAIRS pairs are
 * errors. An empty body gives 0 pairs. 0 on success, -1 and *err otherwise.
 */
int form_parse(const char *body, size_t len, struct form *f, char **err);

/* The value of the first pair named key (exact, case-sensitive match), or NULL. */
const char *form_get(const struct form *f, const char *key);

/* Free the pairs; the form is empty afterwards and can be reused. */
void form_release(struct form *f);

#endif
