/*
 * money.h: an amount of money as the platform sends it, {amount, currency}: an integer count
 * of the currency's minor units (kobo, cents; none for JPY) and an ISO 4217 code; and its text
 * for a phone ("NGN 12,500", "USD 0.99", "KWD 1.250").
 *
 * The table of currencies is ISO 4217's active codes with their exponents (the number of
 * decimal places of the minor unit: 2 for NGN, 0 for JPY and XOF, 3 for KWD, 4 for CLF).
 * A code is known only as written there: three capital letters.
 *
 * Nothing here allocates; text goes into a caller's buffer of MONEY_TEXT_MAX bytes. Results:
 * 0 success, -1 refused with *why, a static phrase saying what the value must be.
 */
#ifndef MONEY_H
#define MONEY_H

#include <json-c/json.h>

/* The largest magnitude of an amount, in minor units (10^15: NGN 10 trillion). */
#define MONEY_AMOUNT_MAX 1000000000000000LL

/* The text of any amount within the limit, NUL included ("-NGN 10,000,000,000,000.00"). */
#define MONEY_TEXT_MAX 40

struct money {
	long long amount; /* minor units, |amount| <= MONEY_AMOUNT_MAX; negative: a refund */
	char currency[4]; /* a known ISO 4217 code */
};

/* The exponent of ISO 4217 code (0..4), or -1 when the code is not in the table. */
int money_exponent(const char *code);

/* 0 when amount is within +-MONEY_AMOUNT_MAX and currency a known code; -1 and *why. */
int money_check(long long amount, const char *currency, const char **why);

/*
 * The text of amount in currency: the code, a space, the amount in major units with commas
 * between thousands, and its decimals only when the amount is not whole ("NGN 12,500" for
 * 1250000, "NGN 12,500.50" for 1250050, "JPY 1,200", "KWD 1.250"); a negative amount starts
 * with a minus ("-NGN 500"). 0, or -1 (and out "") when money_check refuses it.
 */
int money_format(long long amount, const char *currency, char out[MONEY_TEXT_MAX]);

/*
 * A money object {"amount": <JSON integer>, "currency": "<code>"} (other members are
 * ignored) into *m. 0, or -1 with *member, the member at fault ("amount", "currency", or ""
 * for o itself), and *why.
 */
int money_from_json(struct json_object *o, struct money *m, const char **member, const char **why);

#endif
