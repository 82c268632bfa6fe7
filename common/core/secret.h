/*
 * secret.h: the secrets of a seller's WhatsApp login (issue 16): 6-digit
 * codes sent on WhatsApp, and the opaque session tokens they are exchanged
 * for. Randomness comes from the kernel's CSPRNG (getrandom(2), through
 * random_bytes()); nothing here touches the database, allocates, or logs.
 *
 * How each is stored, and why they differ:
 *
 * - A session token is 32 random bytes (256 bits), given to the seller once
 *   as base64url and stored only as its SHA-256 (hex), looked up by that
 *   hash. A plain, unsalted, fast hash is right here: with 2^256 possible
 *   tokens nobody can find a token from its hash by trying them, so a leaked
 *   table gives no usable session, and a salt (which exists to stop
 *   precomputed guesses at low-entropy secrets) would add nothing while
 *   preventing the lookup by hash. Comparing hashes in SQL leaks at most
 *   timing about a hash, never about a token one could present.
 *
 * - A login code has only 10^6 values. Its plain hash would be no secret
 *   at all: all million SHA-256s take a laptop well under a second, so a
 *   leaked row would give the code while it is live. It is stored as
 *   login_code_hash(): HMAC-SHA256 keyed by a server secret that is not in
 *   the database, over a context (the purpose and the number it was sent
 *   to, e.g. "login +2349012345678") and the code, so the hash of one code
 *   for one number is worth nothing for another. Online guessing is what
 *   remains, and the caller must bound it: a code expires (10 minutes), is
 *   spent once, and dies after a few wrong tries (5: a guesser's chance is
 *   then 5 in 10^6 per code), the attempt counted (UPDATE ... SET attempts =
 *   attempts + 1 ... RETURNING) before the comparison, so that concurrent
 *   tries cannot all pass the limit; sending new codes is rate limited per
 *   number and per client address.
 */
#ifndef SECRET_H
#define SECRET_H

#include <stddef.h>

#include "core/hmac.h"

#define LOGIN_CODE_DIGITS 6
/* The digits and a NUL. */
#define LOGIN_CODE_SIZE (LOGIN_CODE_DIGITS + 1)
/* The shortest server key for login_code_hash(): the hash size, as for any HMAC key. */
#define LOGIN_CODE_KEY_MIN 32

#define SESSION_TOKEN_BYTES 32
/* base64url of 32 bytes, unpadded: 43 characters. */
#define SESSION_TOKEN_LEN 43

/*
 * A new code: LOGIN_CODE_DIGITS decimal digits (leading zeros kept, every
 * value in 000000..999999 equally likely: no modulo bias) and a NUL. 0, or
 * -1 when the CSPRNG fails (out then holds "").
 */
int login_code_new(char out[LOGIN_CODE_SIZE]);

/* 1 when code is exactly LOGIN_CODE_DIGITS ASCII digits, else 0 (NULL included). */
int login_code_format_ok(const char *code);

/*
 * The stored form of a code: the hex HMAC-SHA256, keyed by key (keylen >=
 * LOGIN_CODE_KEY_MIN), of "login-code", context and code, each ended by a
 * NUL byte (so no two different pairs give the same input). 0, or -1 (out
 * "") for a short key, an empty or NULL context, or a code not of the
 * format above.
 */
int login_code_hash(const void *key, size_t keylen, const char *context, const char *code,
                    char out[SHA256_HEX_SIZE]);

/*
 * 1 when code is the one stored as stored_hex (64 lowercase hex digits from
 * login_code_hash() for this key and context), compared in constant time;
 * 0 otherwise, including for any argument login_code_hash() refuses. The
 * attempt must already be counted (see above).
 */
int login_code_matches(const void *key, size_t keylen, const char *context, const char *code,
                       const char *stored_hex);

/* A new session token: SESSION_TOKEN_LEN base64url characters and a NUL. 0, or -1 (out ""). */
int session_token_new(char out[SESSION_TOKEN_LEN + 1]);

/*
 * 1 when token has the shape session_token_new() gives (SESSION_TOKEN_LEN
 * characters, canonical base64url of SESSION_TOKEN_BYTES bytes), else 0:
 * anything else is refused before it is hashed or looked up.
 */
int session_token_format_ok(const char *token);

/* The stored form of a token: SHA-256 of its text, in hex. 0, or -1 (out "") when
 * session_token_format_ok() refuses it. */
int session_token_hash(const char *token, char out[SHA256_HEX_SIZE]);

#endif
