/*
 * webhook_sig.h: checking that a webhook really comes from the provider.
 *
 * Meta signs the raw POST body with HMAC-SHA256 keyed by the App Secret
 * (header X-Hub-Signature-256: "sha256=<hex>"). Twilio signs the URL it
 * called followed by every POST parameter (sorted by name, name then value,
 * decoded) with HMAC-SHA1 keyed by the Auth Token, Base64-encoded (header
 * X-Twilio-Signature).
 *
 * The *_valid() functions answer 1 (genuine) or 0 (anything else, including
 * a missing secret or header); they never log and compare in constant time.
 * Nothing here allocates memory that outlives the call.
 */
#ifndef WEBHOOK_SIG_H
#define WEBHOOK_SIG_H

#include <stddef.h>

struct form;

#define META_SIG_PREFIX "sha256="
/* "sha256=" + 64 hex digits. */
#define META_SIG_LEN 71
/* Base64 of a 20-byte HMAC-SHA1, without the NUL. */
#define TWILIO_SIG_LEN 28

/*
 * 1 when header is exactly "sha256=" followed by 64 hex digits (either
 * case) equal to HMAC-SHA256(app_secret, the len bytes of body); 0
 * otherwise, and always 0 for a NULL or empty secret or header.
 */
int meta_signature_valid(const char *app_secret, const void *body, size_t len, const char *header);

/*
 * The X-Twilio-Signature of a request: Base64(HMAC-SHA1(auth_token, url
 * followed by key + value of every pair of params sorted by key in byte
 * order, equal keys by value)). params may be NULL (no parameters, e.g. a
 * GET). Writes TWILIO_SIG_LEN characters and a NUL into out. 0 on success;
 * -1 when outlen is under TWILIO_SIG_LEN + 1 or the token is NULL or empty
 * or url is NULL.
 */
int twilio_signature(const char *auth_token, const char *url, const struct form *params, char *out,
                     size_t outlen);

/*
 * 1 when header is the twilio_signature() of the request (exact length,
 * constant-time comparison); 0 otherwise, and always 0 for a NULL or empty
 * token or header. url must be the public URL Twilio called, query string
 * included; a caller behind a proxy may also try it with the default port
 * (":443") added, as Twilio's own libraries do.
 */
int twilio_signature_valid(const char *auth_token, const char *url, const struct form *params,
                           const char *header);

#endif
