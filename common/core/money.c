#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonutil.h"
#include "core/money.h"
#include "core/util.h"

struct currency {
	char code[4];
	int exponent;
};

/*
 * ISO 4217's active currency codes and their minor units, sorted by code (bsearch). Funds,
 * precious metals and test codes (XAU, XDR, XTS...) are left out: no shop charges in them.
 */
static const struct currency currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHF", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2},
    {"CRC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
    {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2},
    {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2},
    {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0},
    {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2},
    {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2},
    {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2},
    {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2},
    {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2},
    {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2},
    {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
    {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
    {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2},
    {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"UYW", 4},
    {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2},
    {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

static int cmp_code(const void *key, const void *elem)
{
	return strcmp(key, ((const struct currency *)elem)->code);
}

int money_exponent(const char *code)
{
	if (!code || strlen(code) != 3)
		return -1;
	const struct currency *c =
	    bsearch(code, currencies, ARRAY_LEN(currencies), sizeof(currencies[0]), cmp_code);
	return c ? c->exponent : -1;
}

int money_check(long long amount, const char *currency, const char **why)
{
	if (money_exponent(currency) < 0) {
		*why = "must be an ISO 4217 currency code in capitals, such as NGN or USD";
		return -1;
	}
	if (amount < -MONEY_AMOUNT_MAX || amount > MONEY_AMOUNT_MAX) {
		*why = "must be an integer count of the currency's minor units within +-10^15";
		return -1;
	}
	return 0;
}

/* The digits of v (>= 0) with a comma every three from the right, into out. */
static void group_thousands(unsigned long long v, char *out, size_t size)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

int money_format(long long amount, const char *currency, char out[MONEY_TEXT_MAX])
{
	const char *why;
	out[0] = '\0';
	if (money_check(amount, currency, &why) < 0)
		return -1;
	int exp = money_exponent(currency);
	unsigned long long scale = 1, mag = amount < 0 ? (unsigned long long)-amount
	                                               : (unsigned long long)amount;
	for (int i = 0; i < exp; i++)
		scale *= 10;
	char whole[32], dec[8] = "";
	group_thousands(mag / scale, whole, sizeof(whole));
	unsigned long long frac = mag % scale;
	if (frac != 0) { /* every decimal, leading zeros kept: "0.05" */
		for (int i = exp - 1; i >= 0; i--, frac /= 10)
			dec[i + 1] = (char)('0' + frac % 10);
		dec[0] = '.';
		dec[exp + 1] = '\0';
	}
	/* The precisions bound what the compiler cannot see: a code is 3, an amount 21 at most. */
	snprintf(out, MONEY_TEXT_MAX, "%s%.3s %.26s%.5s", amount < 0 ? "-" : "", currency, whole,
	         dec);
	return 0;
}

int money_from_json(struct json_object *o, struct money *m, const char **member, const char **why)
{
	*member = "";
	if (!o || !json_object_is_type(o, json_type_object)) {
		*why = "must be an object {\"amount\": minor units, \"currency\": ISO 4217 code}";
		return -1;
	}
	long long amount;
	*member = "amount";
	if (json_get_int64(o, "amount", &amount) < 0 || amount < -MONEY_AMOUNT_MAX ||
	    amount > MONEY_AMOUNT_MAX) {
		*why = "must be an integer count of the currency's minor units within +-10^15 "
		       "(1250000 for NGN 12,500.00)";
		return -1;
	}
	const char *code = json_get_string(o, "currency");
	*member = "currency";
	if (money_check(amount, code, why) < 0)
		return -1;
	m->amount = amount;
	memcpy(m->currency, code, 4);
	return 0;
}
