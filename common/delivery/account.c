/*
 * account.c: the accounts a process sends with (account.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "db/pgarray.h"
#include "delivery/account.h"

/* A WhatsApp (or sandbox) account's pace and retries: the process's. */
static void whatsapp_pace(struct account *a, const struct config *cfg)
{
	a->rate_per_second = cfg->send_rate_per_second;
	a->recipient_min_interval_s = cfg->recipient_min_interval_s;
	a->timeout_ms = cfg->send_timeout_ms;
	a->retry_base_s = cfg->retry_base_s;
	a->retry_max_s = cfg->retry_max_s;
}

void account_operator(struct account *a, const struct config *cfg, const struct provider *p)
{
	memset(a, 0, sizeof(*a));
	a->id = ACCOUNT_OPERATOR_ID;
	a->channel = CHANNEL_WHATSAPP;
	a->provider = p;
	a->cfg = cfg;
	whatsapp_pace(a, cfg);
}

/* A tenant-less email account sent through SMTP_URL: its own pace and retries, no recipient
 * pacing. */
static void smtp_account(struct account *a, long long id, const struct config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->channel = CHANNEL_EMAIL;
	a->provider = &provider_smtp;
	a->cfg = cfg;
	a->rate_per_second = cfg->smtp_rate_per_second;
	a->recipient_min_interval_s = 0;
	a->timeout_ms = cfg->smtp_timeout_ms;
	a->retry_base_s = cfg->smtp_retry_base_s;
	a->retry_max_s = cfg->smtp_retry_max_s;
}

/* A tenant-less SMS account sent through the process's Twilio account: its own pace and
 * retries; WhatsApp's pair rate is not SMS's, so no recipient pacing. */
static void sms_account(struct account *a, long long id, const struct config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->channel = CHANNEL_SMS;
	a->provider = &provider_twilio_sms;
	a->cfg = cfg;
	a->rate_per_second = cfg->sms_rate_per_second;
	a->recipient_min_interval_s = 0;
	a->timeout_ms = cfg->send_timeout_ms;
	a->retry_base_s = cfg->sms_retry_base_s;
	a->retry_max_s = cfg->sms_retry_max_s;
}

/* 1 when the process configuration can send SMS (a sender and the Twilio account's keys). */
static int sms_configured(const struct config *cfg)
{
	return (*cfg->twilio_sms_from || *cfg->twilio_messaging_service_sid) &&
	       *cfg->twilio_account_sid && *cfg->twilio_auth_token;
}

long long account_receiving(const struct config *cfg, const char *source, const char *receiver)
{
	(void)cfg;
	(void)source;
	(void)receiver;
	return ACCOUNT_OPERATOR_ID;
}

/*
 * The account of one accounts row, when this process can send with it: 1 and
 * *a filled, 0 when it cannot (no provider, or one that needs credentials
 * the database does not hold).
 */
static int account_of_row(PGresult *r, int i, const struct config *cfg,
                          const struct provider *operator_p, struct account *a)
{
	const char *err;
	long long id = 0, tenant = 0;
	enum channel ch;
	if (parse_int(PQgetvalue(r, i, 0), 1, INT64_MAX, &id, &err) < 0 ||
	    channel_parse(PQgetvalue(r, i, 1), &ch) < 0)
		return 0;
	if (!PQgetisnull(r, i, 3))
		parse_int(PQgetvalue(r, i, 3), 0, INT64_MAX, &tenant, &err);
	if (id == ACCOUNT_OPERATOR_ID) {
		account_operator(a, cfg, operator_p);
		return operator_p != NULL;
	}
	const char *prov = PQgetisnull(r, i, 2) ? "" : PQgetvalue(r, i, 2);
	if (strcmp(prov, provider_smtp.name) == 0 && ch == CHANNEL_EMAIL && tenant == 0 &&
	    *cfg->smtp_url) {
		smtp_account(a, id, cfg);
		return 1;
	}
	if (strcmp(prov, provider_twilio_sms.name) == 0 && ch == CHANNEL_SMS && tenant == 0 &&
	    sms_configured(cfg)) {
		sms_account(a, id, cfg);
		return 1;
	}
	/* Only the sandbox sends without credentials; others wait for where theirs come from. */
	if (PQgetisnull(r, i, 2) || strcmp(PQgetvalue(r, i, 2), provider_sandbox.name) != 0 ||
	    !provider_sends_on(&provider_sandbox, ch)) {
		log_debug("account_skipped", "account %lld: no credentials in this process", id);
		return 0;
	}
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->channel = ch;
	a->provider = &provider_sandbox;
	a->tenant_id = tenant;
	a->cfg = cfg;
	whatsapp_pace(a, cfg);
	return 1;
}

int account_set_load(struct account_set *s, struct db *db, const struct config *cfg,
                     const struct provider *p)
{
	memset(s, 0, sizeof(*s));
	PGresult *r = db_query(
	    db, "SELECT id, channel, provider, tenant_id FROM accounts ORDER BY id", 0, NULL);
	if (!r)
		return -1;
	s->v = xcalloc((size_t)PQntuples(r) + 1, sizeof(*s->v));
	for (int i = 0; i < PQntuples(r); i++)
		if (account_of_row(r, i, cfg, p, &s->v[s->n]))
			s->n++;
	PQclear(r);
	return 0;
}

void account_set_release(struct account_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int account_for_channel(struct db *db, enum channel c, long long *id)
{
	const char *p[1] = {channel_name(c)};
	const char *err;
	PGresult *r = db_query(db,
	                       "SELECT id FROM accounts WHERE channel = $1 AND tenant_id IS NULL"
	                       " AND provider IS NOT NULL AND provider <> 'sandbox'"
	                       " ORDER BY id LIMIT 1",
	                       1, p);
	if (!r)
		return -1;
	int found =
	    PQntuples(r) == 1 && parse_int(PQgetvalue(r, 0, 0), 1, INT64_MAX, id, &err) == 0;
	PQclear(r);
	return found;
}

int account_of_process(struct account *a, const struct config *cfg, const struct provider *p,
                       enum channel c, long long id)
{
	switch (c) {
	case CHANNEL_WHATSAPP:
		if (!p)
			return 0;
		account_operator(a, cfg, p);
		return 1;
	case CHANNEL_EMAIL:
		if (!*cfg->smtp_url)
			return 0;
		smtp_account(a, id, cfg);
		return 1;
	case CHANNEL_SMS:
		if (!sms_configured(cfg))
			return 0;
		sms_account(a, id, cfg);
		return 1;
	}
	return 0;
}

const struct account *account_set_find(const struct account_set *s, long long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return &s->v[i];
	return NULL;
}

char *account_set_ids(const struct account_set *s)
{
	long long *v = xcalloc(s->n + 1, sizeof(*v));
	for (size_t i = 0; i < s->n; i++)
		v[i] = s->v[i].id;
	char *r = pg_bigint_array(v, s->n);
	free(v);
	return r;
}
