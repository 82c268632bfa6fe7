#include <ctype.h>
#include <string.h>

#include "core/phone.h"
#include "core/util.h"

int phone_normalize(const char *in, char out[PHONE_MAX], const char **err)
{
	char digits[32];
	size_t nd = 0;
	int plus = 0;
	const char *p = in;

	if (!p) {
		*err = "is empty";
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (strncmp(p, "whatsapp:", 9) == 0)
		p += 9;
	if (strstr(p, "(0)")) {
		*err = "contains a national trunk prefix (0): write the number without it";
		return -1;
	}
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (isdigit(c)) {
			if (nd >= sizeof(digits) - 1) {
				*err = "has too many digits (E.164 allows 15)";
				return -1;
			}
			digits[nd++] = (char)c;
		} else if (c == '+') {
			if (nd > 0 || plus) {
				*err = "has a '+' that is not at the start";
				return -1;
			}
			plus = 1;
		} else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t') {
			continue;
		} else {
			*err = "contains a character that is not a digit";
			return -1;
		}
	}
	digits[nd] = '\0';
	const char *d = digits;
	if (!plus) {
		/* International prefix "00" stands for "+"; anything else lacks a country code. */
		if (nd > 2 && d[0] == '0' && d[1] == '0') {
			d += 2;
			nd -= 2;
		} else {
			*err = "must start with + and the country code (E.164)";
			return -1;
		}
	}
	if (nd == 0) {
		*err = "is empty";
		return -1;
	}
	if (d[0] == '0') {
		*err = "has a country code starting with 0";
		return -1;
	}
	if (nd < 8 || nd > 15) {
		*err = "must have 8 to 15 digits (E.164)";
		return -1;
	}
	out[0] = '+';
	memcpy(out + 1, d, nd);
	out[nd + 1] = '\0';
	return 0;
}
