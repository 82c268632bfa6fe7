/*
 * fuzz_tenant_fields.c: tenant_check_field(), for every field the platform (POST /tenants)
 * and the seller (PATCH /tenants/me) send: external_id, display_name, the WhatsApp and SMS
 * numbers, email, time_zone, quiet_start / quiet_end, language.
 *
 * The first byte picks the field: (byte & 15) % TF_COUNT, so '0'..'8' name fields 0..8 in
 * enum tenant_field order (0 external_id, 1 display_name, 2 whatsapp_number, 3 sms_number,
 * 4 email, 5 time_zone, 6 quiet_start, 7 quiet_end, 8 language); the rest, up to a NUL, is
 * the value.
 *
 * Invariants:
 *  - the answer is 0 with a new string, or -1 with a sentence and no string;
 *  - an accepted value is normalised once and for all: checking the output again accepts it
 *    and gives it back unchanged;
 *  - the output passes the database's own CHECKs on its column (sql/008_tenants.sql): the
 *    regular expressions are read from that migration as the binary embeds it and run with
 *    POSIX regcomp (they are plain EREs), so a constraint tightened there is enforced here;
 *    the length and LIKE checks are written out;
 *  - what the field keeps as given is kept byte for byte (external id, name, email, zone,
 *    language); a number is what phone_normalize() makes of it; a time is the same minute;
 *  - an accepted time zone is a compiled zone of the tz database (a TZif file), not any file
 *    that happens to sit in its directory.
 */
#include <regex.h>

#include "fuzz.h"
#include "core/phone.h"
#include "db/migrate.h"
#include "tenants/tenant.h"

/* The columns whose CHECK has a regular expression (column ~ '...'), compiled once. */
static const char *const regex_columns[] = {"external_id", "whatsapp_number", "sms_number",
                                            "time_zone", "language"};
static regex_t regexes[ARRAY_LEN(regex_columns)];

static const char *tenants_migration(void)
{
	for (int i = 0; i < migration_count; i++)
		if (strcmp(migrations[i].name, "tenants") == 0)
			return migrations[i].sql;
	return NULL;
}

static void compile_regexes(void)
{
	static int done;
	if (done)
		return;
	const char *sql = tenants_migration();
	FUZZ_CHECK(sql != NULL);
	for (size_t i = 0; i < ARRAY_LEN(regex_columns); i++) {
		char *needle = xasprintf("CHECK (%s ~ '", regex_columns[i]);
		const char *start = strstr(sql, needle);
		FUZZ_CHECK(start != NULL);
		start += strlen(needle);
		const char *end = strchr(start, '\'');
		FUZZ_CHECK(end != NULL);
		char *re = xstrndup(start, (size_t)(end - start));
		FUZZ_CHECK(regcomp(&regexes[i], re, REG_EXTENDED | REG_NOSUB) == 0);
		free(re);
		free(needle);
	}
	done = 1;
}

static int column_regex_matches(const char *column, const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(regex_columns); i++)
		if (strcmp(regex_columns[i], column) == 0)
			return regexec(&regexes[i], s, 0, NULL, 0) == 0;
	return 1; /* no regular expression on that column */
}

/* Characters, as PostgreSQL's length() counts them in UTF-8 (s is valid UTF-8). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The CHECKs of sql/008 that are not regular expressions, on the value of field f. */
static void check_other_constraints(enum tenant_field f, const char *v)
{
	size_t n = strlen(v);
	const char *at;
	switch (f) {
	case TF_DISPLAY_NAME: /* length(display_name) BETWEEN 1 AND 200 */
		FUZZ_CHECK(utf8_chars(v) >= 1 && utf8_chars(v) <= 200);
		break;
	case TF_EMAIL: /* length(email) <= 254 AND email LIKE '%_@_%' */
		FUZZ_CHECK(utf8_chars(v) <= 254);
		at = strchr(v, '@');
		FUZZ_CHECK(at != NULL && at > v && at[1] != '\0');
		break;
	case TF_QUIET_START: /* time(0): what PostgreSQL reads as a time of day, "HH:MM" here */
	case TF_QUIET_END:
		FUZZ_CHECK(n == 5 && v[2] == ':');
		FUZZ_CHECK(v[0] >= '0' && v[0] <= '2' && v[1] >= '0' && v[1] <= '9');
		FUZZ_CHECK((v[0] - '0') * 10 + (v[1] - '0') <= 23);
		FUZZ_CHECK(v[3] >= '0' && v[3] <= '5' && v[4] >= '0' && v[4] <= '9');
		break;
	case TF_LANGUAGE: /* AND length(language) <= 35 */
		FUZZ_CHECK(n <= 35);
		break;
	default:
		break;
	}
}

/* A compiled zone: the file starts with the TZif magic. */
static int is_tzif(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	char magic[4] = {0};
	FILE *fp = fopen(path, "rb");
	size_t got = fp ? fread(magic, 1, sizeof(magic), fp) : 0;
	if (fp)
		fclose(fp);
	free(path);
	return got == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* How the accepted output relates to the input, field by field. */
static void check_against_input(enum tenant_field f, const char *in, const char *out)
{
	char num[PHONE_MAX];
	const char *err = NULL;
	int a, b;
	switch (f) {
	case TF_WHATSAPP_NUMBER:
	case TF_SMS_NUMBER:
		while (*in == ' ')
			in++;
		FUZZ_CHECK(*in == '+');
		FUZZ_CHECK(phone_normalize(in, num, &err) == 0);
		FUZZ_CHECK(strcmp(num, out) == 0);
		break;
	case TF_QUIET_START:
	case TF_QUIET_END:
		FUZZ_CHECK(parse_hhmm(in, &a, &err) == 0 && parse_hhmm(out, &b, &err) == 0);
		FUZZ_CHECK(a == b);
		break;
	case TF_TIME_ZONE:
		FUZZ_CHECK(is_tzif(out));
		FUZZ_CHECK(strcmp(in, out) == 0);
		break;
	default:
		FUZZ_CHECK(strcmp(in, out) == 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	compile_regexes();
	enum tenant_field f = (enum tenant_field)((data[0] & 15) % TF_COUNT);
	char *in = fuzz_cstr(data + 1, size - 1);
	char *out = (char *)"unset", *again = (char *)"unset";
	const char *why = NULL;

	int rc = tenant_check_field(f, in, &out, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		FUZZ_CHECK(out == NULL);
		FUZZ_CHECK(why != NULL && *why != '\0');
		free(in);
		return 0;
	}
	FUZZ_CHECK(out != NULL && out != in);
	FUZZ_CHECK(str_is_utf8(out, strlen(out)));

	/* Idempotent: the stored value, sent back, is accepted as it is. */
	why = NULL;
	FUZZ_CHECK(tenant_check_field(f, out, &again, &why) == 0);
	FUZZ_CHECK(again != NULL && strcmp(again, out) == 0);

	/* The database's CHECKs hold: never a 500 from a constraint the C let through. */
	FUZZ_CHECK(column_regex_matches(tenant_field_name(f), out));
	check_other_constraints(f, out);
	check_against_input(f, in, out);

	free(again);
	free(out);
	free(in);
	return 0;
}
