/*
 * chain.h: a fallback chain, the channels a message tries in order ("whatsapp,sms,email"),
 * with no network and no database (config.c checks FALLBACK_CHAIN_CRITICAL with it, the
 * producers write the part after the first step on the outbox row, delivery/fallback.h walks it).
 *
 * A chain is a fixed-size value, copied freely: 1..CHAIN_MAX distinct channel names, the first
 * "whatsapp" (every producer sends WhatsApp first; the rest is what comes after it).
 */
#ifndef CHAIN_H
#define CHAIN_H

#include <stddef.h>

#define CHAIN_MAX 3
#define CHAIN_NAME_MAX 9 /* "whatsapp" and its NUL */

struct chain {
	int n;
	char step[CHAIN_MAX][CHAIN_NAME_MAX];
};

/* 1 when s is "whatsapp", "sms" or "email". */
int chain_channel_known(const char *s);

/*
 * A comma-separated list of channels ("whatsapp, sms, email"; spaces around a name are
 * ignored) into *c: 0, or -1 with *why (static) when a name is empty or unknown, named twice,
 * there are more than CHAIN_MAX, or the first is not whatsapp. *c is then empty.
 */
int chain_parse(const char *s, struct chain *c, const char **why);

/* The same check on n names already split (a seller's preference: a JSON array). */
int chain_from_names(const char *const *names, size_t n, struct chain *c, const char **why);

/* Default chains: "whatsapp,sms,email" (urgent, critical), "whatsapp,email" (normal),
 * "whatsapp" (low). */
void chain_urgent(struct chain *c);
void chain_normal(struct chain *c);
void chain_whatsapp_only(struct chain *c);

/* The steps from index `from` on as a PostgreSQL text[] literal ("{sms,email}", "{}"): the
 * caller frees. */
char *chain_pg_rest(const struct chain *c, int from);

/* "whatsapp,sms,email" into out (at least CHAIN_MAX * CHAIN_NAME_MAX bytes). */
void chain_format(const struct chain *c, char *out, size_t len);

#endif
