#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/email.h"
#include "core/envfile.h"
#include "core/stdwebhook.h"
#include "core/tz.h"
#include "core/util.h"

#define OFF(field) offsetof(struct config, field)

struct var_slot {
	struct cfg_var v;
	size_t off;
};

/* The documented settings. monitoring.env.example mirrors this table. */
static const struct var_slot vars[] = {
    {{"DATABASE_URL", CFG_URL, "dbname=monitoring", 0, 0, 0,
      "libpq connection string or URI of the state database"},
     OFF(database_url)},
    {{"MONITORED_DATABASE_URL", CFG_URL, NULL, 0, 0, 0, "database to watch; empty = DATABASE_URL"},
     OFF(monitored_database_url)},
    {{"DATABASE_POOLING", CFG_POOLING, "session", 0, 0, 0,
      "session (direct, or a session-mode pooler) or transaction (a transaction-mode pooler "
      "such as PgBouncer's or Supabase's: no named prepared statements, no session state)"},
     OFF(database_pooling)},
    {{"MONITORED_DATABASE_POOLING", CFG_POOLING, "session", 0, 0, 0,
      "session or transaction: how MONITORED_DATABASE_URL is reached (transaction: the check "
      "runs in one read-only transaction with SET LOCAL, no startup options)"},
     OFF(monitored_database_pooling)},
    {{"MONITORING_API_TOKEN", CFG_SECRET, NULL, 0, 0, 0,
      "bearer token of the admin endpoints (at least 16 characters)"},
     OFF(api_token)},
    {{"PLATFORM_API_KEY", CFG_SECRET, NULL, 0, 0, 0,
      "bearer key of the platform's /tenants endpoints (at least 16 characters, not "
      "MONITORING_API_TOKEN); empty: those endpoints refuse every request"},
     OFF(platform_api_key)},
    {{"ALERTMANAGER_TOKEN", CFG_SECRET, NULL, 0, 0, 0,
      "bearer token Alertmanager sends to POST /monitoring/alertmanager (at least 16 "
      "characters, not another key); empty: that route refuses every request"},
     OFF(alertmanager_token)},
    {{"TENANT_JWT_SECRET", CFG_SECRET, NULL, 0, 0, 0,
      "HS256 key of the tokens the platform mints for its sellers (at least 32 bytes); empty: "
      "sellers sign in only by WhatsApp code"},
     OFF(tenant_jwt_secret)},
    {{"TENANT_JWT_AUDIENCE", CFG_STRING, NULL, 0, 0, 0,
      "the aud a seller token must name; empty: tokens naming an audience are refused"},
     OFF(tenant_jwt_audience)},
    {{"TENANT_JWT_LEEWAY_SECONDS", CFG_INT, "30", 0, 300, 0,
      "clock skew allowed on a seller token's exp, nbf and iat"},
     OFF(tenant_jwt_leeway_s)},
    {{"TENANT_CODE_SECRET", CFG_SECRET, NULL, 0, 0, 0,
      "key of the stored login and verification codes (at least 32 bytes); empty: WhatsApp "
      "login and number changes by the seller refuse"},
     OFF(tenant_code_secret)},
    {{"EVENTS_SIGNING_SECRET", CFG_SECRET, NULL, 0, 0, 0,
      "Standard Webhooks key of the platform's POST /events (whsec_ and 24 to 64 bytes in "
      "base64); empty: POST /events refuses every request"},
     OFF(events_signing_secret)},
    {{"TENANT_SESSION_HOURS", CFG_INT, "168", 1, 8760, 0,
      "hours a seller's session (WhatsApp login) lasts"},
     OFF(tenant_session_hours)},
    {{"LOGIN_CODE_TTL_SECONDS", CFG_INT, "600", 60, 3600, 0,
      "seconds a login or verification code stays valid"},
     OFF(login_code_ttl_s)},
    {{"LOGIN_CODE_MAX_ATTEMPTS", CFG_INT, "5", 1, 10, 0, "wrong tries that use up a code"},
     OFF(login_code_max_attempts)},
    {{"LOGIN_CODE_RESEND_SECONDS", CFG_INT, "60", 10, 3600, 0,
      "seconds between two code requests for one number"},
     OFF(login_code_resend_s)},
    {{"LOGIN_CODES_PER_HOUR", CFG_INT, "5", 1, 100, 0, "code requests for one number per hour"},
     OFF(login_codes_per_hour)},
    {{"LOGIN_REQUESTS_PER_ADDRESS_HOUR", CFG_INT, "30", 1, 100000, 0,
      "login and code requests from one client address per hour"},
     OFF(login_requests_per_address_hour)},
    {{"TIMEZONE", CFG_TZ, "UTC", 0, 0, 0, "IANA time zone for business hours, days and reports"},
     OFF(timezone)},
    {{"BUSINESS_HOURS_START", CFG_HHMM, "09:00", 0, 0, 1, "start of business hours, HH:MM"},
     OFF(business_hours_start)},
    {{"BUSINESS_HOURS_END", CFG_HHMM, "18:00", 0, 0, 1, "end of business hours, HH:MM"},
     OFF(business_hours_end)},
    {{"MONITORING_INTERVAL", CFG_INT, "21600000", 60000, 7LL * 24 * 3600 * 1000, 1,
      "milliseconds between scheduled checks"},
     OFF(monitoring_interval_ms)},
    {{"WHATSAPP_PROVIDER", CFG_PROVIDER, "sandbox", 0, 0, 0, "sandbox, meta or twilio"},
     OFF(provider)},
    {{"META_WHATSAPP_TOKEN", CFG_SECRET, NULL, 0, 0, 0, "Cloud API access token"}, OFF(meta_token)},
    {{"META_PHONE_NUMBER_ID", CFG_STRING, NULL, 0, 0, 0, "Cloud API phone number id"},
     OFF(meta_phone_number_id)},
    {{"META_WABA_ID", CFG_STRING, NULL, 0, 0, 0,
      "WhatsApp Business Account id: scripts/start-monitoring subscribes the app to it"},
     OFF(meta_waba_id)},
    {{"META_APP_SECRET", CFG_SECRET, NULL, 0, 0, 0, "app secret, verifies webhook signatures"},
     OFF(meta_app_secret)},
    {{"META_GRAPH_URL", CFG_URL, "https://graph.facebook.com/v25.0", 0, 0, 0,
      "Graph API base URL including the version"},
     OFF(meta_graph_url)},
    {{"WEBHOOK_VERIFY_TOKEN", CFG_SECRET, NULL, 0, 0, 0, "token of Meta's verification handshake"},
     OFF(webhook_verify_token)},
    {{"WHATSAPP_WEBHOOK_URL", CFG_STRING, NULL, 0, 0, 0, "public URL of the webhook"},
     OFF(webhook_url)},
    {{"TWILIO_WEBHOOK_URL", CFG_STRING, NULL, 0, 0, 0,
      "public URL of /monitoring/twilio/webhook, as Twilio calls it (signatures cover it)"},
     OFF(twilio_webhook_url)},
    {{"TWILIO_ACCOUNT_SID", CFG_STRING, NULL, 0, 0, 0, "Twilio account SID"},
     OFF(twilio_account_sid)},
    {{"TWILIO_AUTH_TOKEN", CFG_SECRET, NULL, 0, 0, 0, "Twilio auth token"}, OFF(twilio_auth_token)},
    {{"TWILIO_WHATSAPP_NUMBER", CFG_STRING, NULL, 0, 0, 0, "Twilio WhatsApp sender, E.164"},
     OFF(twilio_whatsapp_number)},
    {{"TWILIO_API_URL", CFG_URL, "https://api.twilio.com/2010-04-01", 0, 0, 0,
      "Twilio REST base URL"},
     OFF(twilio_api_url)},
    {{"WHATSAPP_ALERT_TEMPLATE", CFG_STRING, NULL, 0, 0, 0,
      "approved template for alerts outside the 24-hour window; empty: none"},
     OFF(alert_template)},
    {{"WHATSAPP_TEMPLATE_LANGUAGE", CFG_STRING, "en_US", 0, 0, 0,
      "language code of WHATSAPP_ALERT_TEMPLATE"},
     OFF(template_language)},
    {{"SELLER_TEMPLATES", CFG_STRING, "off", 0, 0, 0,
      "on: outside the 24-hour window a seller's alert of one event goes as its type's own "
      "Meta template (cron seller-templates lists the 13 to register), in "
      "WHATSAPP_TEMPLATE_LANGUAGE; off: as every message, WHATSAPP_ALERT_TEMPLATE"},
     OFF(seller_templates)},
    {{"TWILIO_CONTENT_SID", CFG_STRING, NULL, 0, 0, 0,
      "Twilio Content template (HX...) for messages outside the 24-hour window"},
     OFF(twilio_content_sid)},
    {{"SEND_TIMEOUT_MS", CFG_INT, "10000", 100, 120000, 0,
      "time allowed for one provider request, connect included"},
     OFF(send_timeout_ms)},
    {{"SEND_RATE_PER_SECOND", CFG_INT, "80", 1, 1000, 1,
      "messages per second at most, all drainers together"},
     OFF(send_rate_per_second)},
    {{"SEND_MAX_IN_FLIGHT", CFG_INT, "32", 1, 256, 0,
      "provider requests one drainer keeps in flight"},
     OFF(send_max_in_flight)},
    {{"RECIPIENT_MIN_INTERVAL", CFG_INT, "6", 0, 3600, 1,
      "seconds between two messages to the same number"},
     OFF(recipient_min_interval_s)},
    {{"RETRY_BASE_SECONDS", CFG_INT, "15", 1, 3600, 1,
      "first retry delay; doubles each attempt, with jitter"},
     OFF(retry_base_s)},
    {{"RETRY_MAX_SECONDS", CFG_INT, "900", 1, 86400, 1, "longest delay between two attempts"},
     OFF(retry_max_s)},
    {{"MESSAGE_MAX_AGE_HOURS", CFG_INT, "24", 1, 720, 1,
      "a message still unsent this long after it was due is failed"},
     OFF(message_max_age_h)},
    {{"SMTP_URL", CFG_STRING, NULL, 0, 0, 0,
      "mail server for the email channel: smtp://host[:port] (STARTTLS required: a server "
      "that does not offer it gets nothing) or smtps://host[:port] (TLS from the start); "
      "empty: no email is sent"},
     OFF(smtp_url)},
    {{"SMTP_USERNAME", CFG_STRING, NULL, 0, 0, 0,
      "SMTP AUTH user name (with SMTP_PASSWORD); empty: no AUTH"},
     OFF(smtp_username)},
    {{"SMTP_PASSWORD", CFG_SECRET, NULL, 0, 0, 0, "SMTP AUTH password"}, OFF(smtp_password)},
    {{"SMTP_FROM", CFG_STRING, NULL, 0, 0, 0,
      "sender of alert emails: alerts@example.com or Name <alerts@example.com> (required "
      "with SMTP_URL)"},
     OFF(smtp_from)},
    {{"SMTP_CA_FILE", CFG_STRING, NULL, 0, 0, 0,
      "PEM file of the CA(s) the mail server's certificate is checked against; empty: the "
      "system's"},
     OFF(smtp_ca_file)},
    {{"SMTP_TIMEOUT_MS", CFG_INT, "30000", 1000, 300000, 0,
      "time allowed for one email's SMTP session, connect and TLS included"},
     OFF(smtp_timeout_ms)},
    {{"SMTP_RATE_PER_SECOND", CFG_INT, "5", 1, 1000, 0,
      "emails per second at most, all drainers together (the email account's own pace)"},
     OFF(smtp_rate_per_second)},
    {{"SMTP_RETRY_BASE_SECONDS", CFG_INT, "60", 1, 3600, 0,
      "first retry delay of an email (a 4xx, no connection); doubles each attempt, with jitter"},
     OFF(smtp_retry_base_s)},
    {{"SMTP_RETRY_MAX_SECONDS", CFG_INT, "1800", 1, 86400, 0,
      "longest delay between two attempts of an email"},
     OFF(smtp_retry_max_s)},
    {{"TWILIO_SMS_FROM", CFG_STRING, NULL, 0, 0, 0,
      "SMS sender (E.164) of the Twilio account; or TWILIO_MESSAGING_SERVICE_SID; neither: no "
      "SMS is sent"},
     OFF(twilio_sms_from)},
    {{"TWILIO_MESSAGING_SERVICE_SID", CFG_STRING, NULL, 0, 0, 0,
      "Twilio Messaging Service (MG + 32 hex) that picks the SMS sender, instead of "
      "TWILIO_SMS_FROM"},
     OFF(twilio_messaging_service_sid)},
    {{"SMS_MAX_SEGMENTS", CFG_INT, "3", 1, 10, 0,
      "segments an SMS may take (GSM-7: 160 characters in one, 153 each when concatenated; "
      "UCS-2: 70, 67): a longer text is cut and ends with ..."},
     OFF(sms_max_segments)},
    {{"SMS_RATE_PER_SECOND", CFG_INT, "1", 1, 1000, 0,
      "SMS per second at most, all drainers together (the sms account's own pace)"},
     OFF(sms_rate_per_second)},
    {{"SMS_RETRY_BASE_SECONDS", CFG_INT, "30", 1, 3600, 0,
      "first retry delay of an SMS (429, 5xx, no connection); doubles each attempt, with "
      "jitter"},
     OFF(sms_retry_base_s)},
    {{"SMS_RETRY_MAX_SECONDS", CFG_INT, "900", 1, 86400, 0,
      "longest delay between two attempts of an SMS"},
     OFF(sms_retry_max_s)},
    {{"CRITICAL_PHONE", CFG_PHONES, NULL, 0, 0, 0,
      "CRITICAL_PHONE_1..10: critical alerts, any hour (E.164)"},
     OFF(critical)},
    {{"WARNING_PHONE", CFG_PHONES, NULL, 0, 0, 0,
      "WARNING_PHONE_1..10: warnings, in business hours (E.164)"},
     OFF(warning)},
    {{"WEEKEND_PHONE", CFG_PHONES, NULL, 0, 0, 0,
      "WEEKEND_PHONE_1..10: critical alerts on weekends (E.164)"},
     OFF(weekend)},
    {{"ESCALATION_PHONE", CFG_PHONES, NULL, 0, 0, 0,
      "ESCALATION_PHONE_1..10: next tier for unacknowledged critical alerts (E.164)"},
     OFF(escalation)},
    {{"CRITICAL_EMAIL", CFG_CONTACT, NULL, 0, 0, 0,
      "CRITICAL_EMAIL_1..10: email address of CRITICAL_PHONE_n, the email step of the fallback "
      "chain"},
     OFF(contacts)},
    {{"CRITICAL_SMS", CFG_CONTACT, NULL, 0, 0, 0,
      "CRITICAL_SMS_1..10: SMS number of CRITICAL_PHONE_n when it is not that number; none: "
      "no SMS to them"},
     OFF(contacts)},
    {{"WEEKEND_EMAIL", CFG_CONTACT, NULL, 0, 0, 0,
      "WEEKEND_EMAIL_1..10: email address of WEEKEND_PHONE_n"},
     OFF(contacts)},
    {{"WEEKEND_SMS", CFG_CONTACT, NULL, 0, 0, 0,
      "WEEKEND_SMS_1..10: SMS number of WEEKEND_PHONE_n when it is not that number; none: no "
      "SMS"},
     OFF(contacts)},
    {{"ESCALATION_EMAIL", CFG_CONTACT, NULL, 0, 0, 0,
      "ESCALATION_EMAIL_1..10: email address of ESCALATION_PHONE_n"},
     OFF(contacts)},
    {{"ESCALATION_SMS", CFG_CONTACT, NULL, 0, 0, 0,
      "ESCALATION_SMS_1..10: SMS number of ESCALATION_PHONE_n when it is not that number; "
      "none: no SMS"},
     OFF(contacts)},
    {{"FALLBACK_CHAIN_CRITICAL", CFG_STRING, "whatsapp,sms,email", 0, 0, 0,
      "channels an operator's critical alert tries in order, whatsapp first (whatsapp,sms,email;"
      " whatsapp,email; whatsapp)"},
     OFF(fallback_chain_critical)},
    {{"FALLBACK_AFTER_SECONDS", CFG_INT, "300", 1, 86400, 0,
      "seconds a critical (operator) or urgent (seller) message may go without a delivered "
      "receipt before the next channel of its chain is tried"},
     OFF(fallback_after_s)},
    {{"FALLBACK_NORMAL_AFTER_SECONDS", CFG_INT, "3600", 1, 604800, 0,
      "the same for a seller's normal alert (whatsapp, then email)"},
     OFF(fallback_normal_after_s)},
    {{"ESCALATION_MINUTES", CFG_INT, "15", 0, 1440, 1,
      "minutes a critical alert may stay unacknowledged before it escalates; 0 = never"},
     OFF(escalation_minutes)},
    {{"ALERT_REPEAT_MINUTES", CFG_INT, "120", 0, 10080, 1,
      "minutes between reminders of a still-open, unacknowledged alert; 0 = never"},
     OFF(repeat_minutes)},
    {{"PAUSE_MAX_MINUTES", CFG_INT, "1440", 1, 43200, 1,
      "longest pause the pause command may ask for"},
     OFF(pause_max_minutes)},
    {{"COMMAND_MAX_AGE_SECONDS", CFG_INT, "600", 60, 604800, 0,
      "a command sent longer ago than this (Meta's timestamp, else the arrival time) is"
      " audited and answered, not obeyed"},
     OFF(command_max_age_s)},
    {{"REPORT_DAILY_TIME", CFG_HHMM, "08:00", 0, 0, 1,
      "time of the daily report (and of the weekly one on its day), HH:MM in TIMEZONE"},
     OFF(report_daily_time)},
    {{"REPORT_WEEKLY_DAY", CFG_WEEKDAY, "monday", 0, 0, 1, "day of the weekly report"},
     OFF(report_weekly_day)},
    {{"REPORT_PHONE", CFG_PHONES, NULL, 0, 0, 0,
      "REPORT_PHONE_1..10: daily and weekly reports (E.164); none: the critical list"},
     OFF(report)},
    {{"SAMPLE_RETENTION_DAYS", CFG_INT, "90", 1, 3650, 1,
      "days check runs and metric samples are kept"},
     OFF(sample_retention_days)},
    {{"WEBHOOK_RETENTION_DAYS", CFG_INT, "7", 7, 365, 1,
      "days processed webhook events, seen ids and the answers to POST /events deliveries are "
      "kept (Meta re-delivers for 7 days)"},
     OFF(webhook_retention_days)},
    {{"EVENTS_RETENTION_DAYS", CFG_INT, "90", 7, 3650, 1,
      "days the platform's business events are kept once dispatched (an event id posted again "
      "after that is a new event)"},
     OFF(events_retention_days)},
    {{"WEBHOOK_THREADS", CFG_INT, "2", 1, 64, 0,
      "threads of the webhook and of POST /events that read and verify requests (none waits "
      "on a commit)"},
     OFF(webhook_threads)},
    {{"WEBHOOK_STATUS_GRACE_SECONDS", CFG_INT, "300", 0, 3600, 0,
      "seconds a status for a message id we have no record of is retried before it is kept"
      " as ignored (another system's message)"},
     OFF(webhook_status_grace_s)},
    {{"SPOOL_DIR", CFG_STRING, "/var/spool/whatsapp-monitor", 0, 0, 0,
      "directory of the spool of messages sent while the state database was down"},
     OFF(spool_dir)},
    {{"ORDERS_TABLE", CFG_IDENT, "orders", 0, 0, 0, "table (optionally schema.table) of orders"},
     OFF(orders_table)},
    {{"ORDERS_TIMESTAMP_COLUMN", CFG_IDENT, "created_at", 0, 0, 0,
      "timestamptz column of ORDERS_TABLE"},
     OFF(orders_timestamp_column)},
    {{"ORDERS_MIN_VOLUME", CFG_INT, "20", 0, 1000000000, 1,
      "orders the comparison period needs before a drop is judged"},
     OFF(orders_min_volume)},
    {{"MONITOR_CONNECT_TIMEOUT", CFG_INT, "10", 1, 300, 0,
      "seconds to wait when connecting to the monitored database"},
     OFF(monitor_connect_timeout_s)},
    {{"MONITOR_STATEMENT_TIMEOUT", CFG_INT, "15000", 100, 600000, 0,
      "statement_timeout (ms) of each monitoring query"},
     OFF(monitor_statement_timeout_ms)},
    {{"MONITOR_APPLICATION_NAME", CFG_IDENT, "whatsapp_monitor", 0, 0, 0,
      "application_name of the monitor's session"},
     OFF(monitor_application_name)},
    {{"DATABASE_SIZE_LIMIT_MB", CFG_INT, "0", 0, 1000000000, 1,
      "disk available to the monitored database, MB; 0 = unknown (no size alerts)"},
     OFF(database_size_limit_mb)},
    {{"QUERY_MIN_CALLS", CFG_INT, "100", 1, 1000000000, 1,
      "calls a statement needs in an interval before its mean time is judged"},
     OFF(query_min_calls)},
    {{"CACHE_MIN_BLOCKS", CFG_INT, "10000", 0, 1000000000000, 1,
      "block reads+hits an interval needs before the cache hit ratio is judged"},
     OFF(cache_min_blocks)},
    {{"ROLLBACK_MIN_TRANSACTIONS", CFG_INT, "100", 0, 1000000000000, 1,
      "transactions an interval needs before the rollback ratio is judged"},
     OFF(rollback_min_transactions)},
    {{"CANARY_INTERVAL", CFG_INT, "0", 0, 7LL * 24 * 3600, 0,
      "seconds between two end-to-end canary messages to CANARY_PHONE (at least 60); 0 = no "
      "canary"},
     OFF(canary_interval_s)},
    {{"CANARY_PHONE", CFG_STRING, NULL, 0, 0, 0,
      "the number (E.164) the canary goes to; required when CANARY_INTERVAL is set"},
     OFF(canary_phone)},
    {{"CANARY_DEADLINE", CFG_INT, "300", 10, 24 * 3600, 0,
      "seconds a canary's delivered (or read) receipt may take before a critical alert opens; "
      "less than CANARY_INTERVAL"},
     OFF(canary_deadline_s)},
    {{"MAX_BODY_BYTES", CFG_INT, "65536", 1024, 4194304, 0,
      "largest request body the admin endpoints accept"},
     OFF(max_body_bytes)},
    {{"LOG_LEVEL", CFG_LEVEL, "info", 0, 0, 0, "debug, info, warn or error"}, OFF(log_level)},
};

const size_t config_var_count = ARRAY_LEN(vars);

struct kv {
	char *key, *value;
};

struct kvlist {
	struct kv *items;
	size_t n, cap;
};

static void kv_set(struct kvlist *l, const char *k, const char *v)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, k) == 0) {
			free(l->items[i].value);
			l->items[i].value = xstrdup(v);
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->n].key = xstrdup(k);
	l->items[l->n].value = xstrdup(v);
	l->n++;
}

static const char *kv_get(const struct kvlist *l, const char *k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, k) == 0)
			return l->items[i].value;
	return NULL;
}

static void kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
}

static char **field_str(struct config *cfg, size_t off)
{
	return (char **)((char *)cfg + off);
}

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		switch (vars[i].v.type) {
		case CFG_STRING:
		case CFG_SECRET:
		case CFG_URL:
		case CFG_TZ:
		case CFG_PROVIDER:
		case CFG_IDENT:
			*field_str(cfg, vars[i].off) = xstrdup("");
			break;
		default:
			break;
		}
	}
	cfg->env_file = xstrdup("");
	cfg->env_file_mode = -1;
	thresholds_defaults(&cfg->thresholds);
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		switch (vars[i].v.type) {
		case CFG_STRING:
		case CFG_SECRET:
		case CFG_URL:
		case CFG_TZ:
		case CFG_PROVIDER:
		case CFG_IDENT: {
			char **p = field_str(cfg, vars[i].off);
			free(*p);
			*p = NULL;
			break;
		}
		default:
			break;
		}
	}
	free(cfg->env_file);
	cfg->env_file = NULL;
}

/* Whether value suits the text variable v; *why says what it must be when not. */
static int text_valid(const struct cfg_var *v, const char *value, const char **why)
{
	switch (v->type) {
	case CFG_URL:
		/* Connection strings may be "key=value" lists; only the API bases are URLs. */
		if ((strcmp(v->name, "META_GRAPH_URL") == 0 ||
		     strcmp(v->name, "TWILIO_API_URL") == 0) &&
		    strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) {
			*why = "must be an http(s) URL";
			return 0;
		}
		return 1;
	case CFG_TZ:
		*why = "must be an IANA time zone known to the system tz database (e.g. "
		       "Europe/Berlin)";
		return tz_known(value);
	case CFG_PROVIDER:
		*why = "must be sandbox, meta or twilio";
		return !strcmp(value, "sandbox") || !strcmp(value, "meta") ||
		       !strcmp(value, "twilio");
	case CFG_IDENT:
		*why = "must be an SQL identifier ([A-Za-z_][A-Za-z0-9_]*, optionally schema.name)";
		return str_is_identifier(value);
	default:
		return 1; /* CFG_STRING, CFG_SECRET: anything */
	}
}

/* A text variable: checked, then a copy into its field. 0, or -1 with *why. */
static int set_text(struct config *cfg, const struct var_slot *s, const char *value,
                    const char **why)
{
	if (!text_valid(&s->v, value, why))
		return -1;
	char **p = field_str(cfg, s->off);
	free(*p);
	*p = xstrdup(value);
	return 0;
}

/* A variable held as an int (time of day, weekday, pooling mode, log level). 0, or -1 with *why. */
static int set_small(struct config *cfg, const struct var_slot *s, const char *value,
                     const char **why)
{
	int *field = (int *)((char *)cfg + s->off);
	switch (s->v.type) {
	case CFG_HHMM: {
		int m;
		if (parse_hhmm(value, &m, why) < 0)
			return -1;
		*field = m;
		return 0;
	}
	case CFG_WEEKDAY: {
		static const char *const days[] = {"sunday",   "monday", "tuesday", "wednesday",
		                                   "thursday", "friday", "saturday"};
		for (int d = 0; d < 7; d++)
			if (str_eq_nocase(value, days[d])) {
				*field = d;
				return 0;
			}
		*why = "must be a day of the week (monday .. sunday)";
		return -1;
	}
	case CFG_POOLING:
		if (!strcmp(value, "session") || !strcmp(value, "transaction")) {
			*field = !strcmp(value, "session") ? POOLING_SESSION : POOLING_TRANSACTION;
			return 0;
		}
		*why = "must be session or transaction";
		return -1;
	case CFG_LEVEL: {
		enum log_level l;
		if (log_parse_level(value, &l) < 0) {
			*why = "must be debug, info, warn or error";
			return -1;
		}
		*(enum log_level *)field = l;
		return 0;
	}
	default:
		*why = "internal error (not a small type)";
		return -1;
	}
}

/* Parse value for var into cfg. -1 with *err (allocated) naming the variable. */
static int set_var(struct config *cfg, const struct var_slot *s, const char *value, char **err)
{
	const struct cfg_var *v = &s->v;
	const char *why = NULL;
	int r;
	switch (v->type) {
	case CFG_INT: {
		long long n;
		if (parse_int(value, v->min, v->max, &n, &why) < 0) {
			*err = xasprintf("%s %s (%lld..%lld), got '%s'", v->name, why, v->min,
			                 v->max, value);
			return -1;
		}
		*(long long *)((char *)cfg + s->off) = n;
		return 0;
	}
	case CFG_HHMM:
	case CFG_WEEKDAY:
	case CFG_POOLING:
	case CFG_LEVEL:
		r = set_small(cfg, s, value, &why);
		break;
	case CFG_PHONES:
	case CFG_CONTACT:
	case CFG_THRESHOLD:
		*err = xasprintf("%s: internal error (list type)", v->name);
		return -1;
	default:
		r = set_text(cfg, s, value, &why);
		break;
	}
	if (r == 0)
		return 0;
	/* A secret's value is never repeated, not even a wrong one. */
	if (v->type == CFG_SECRET)
		*err = xasprintf("%s %s", v->name, why);
	else
		*err = xasprintf("%s %s, got '%s'", v->name, why, value);
	return -1;
}

char *threshold_var_name(enum metric_id m, int critical)
{
	char *n =
	    xasprintf("THRESHOLD_%s_%s", metric_defs[m].name, critical ? "CRITICAL" : "WARNING");
	for (char *p = n; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return n;
}

/* THRESHOLD_<METRIC>_(WARNING|CRITICAL) -> metric and level, or -1. */
static int threshold_var_parse(const char *name, enum metric_id *m, int *critical)
{
	for (int i = 0; i < M_COUNT; i++) {
		if (!metric_has_thresholds((enum metric_id)i))
			continue;
		for (int c = 0; c < 2; c++) {
			char *n = threshold_var_name((enum metric_id)i, c);
			int eq = strcmp(n, name) == 0;
			free(n);
			if (eq) {
				*m = (enum metric_id)i;
				*critical = c;
				return 0;
			}
		}
	}
	return -1;
}

static int set_threshold(struct config *cfg, const char *name, enum metric_id m, int critical,
                         const char *value, char **err)
{
	double d;
	const char *why;
	if (str_eq_nocase(value, "none"))
		d = NAN;
	else if (parse_double(value, -1e18, 1e18, &d, &why) < 0) {
		*err = xasprintf("%s %s (or 'none'), got '%s'", name, why, value);
		return -1;
	}
	if (critical)
		cfg->thresholds.critical[m] = d;
	else
		cfg->thresholds.warning[m] = d;
	return 0;
}

static int check_thresholds(const struct config *cfg, char **err)
{
	for (int i = 0; i < M_COUNT; i++) {
		const char *why;
		if (!metric_has_thresholds((enum metric_id)i))
			continue;
		if (thresholds_check_pair((enum metric_id)i, cfg->thresholds.warning[i],
		                          cfg->thresholds.critical[i], &why) < 0) {
			char *n = threshold_var_name((enum metric_id)i, 0);
			*err = xasprintf("%s: %s", n, why);
			free(n);
			return -1;
		}
	}
	return 0;
}

static int collect_kv(const char *key, const char *value, void *arg)
{
	kv_set(arg, key, value);
	return 0;
}

/* A libpq connection string that carries a password: "password=..." or postgres://user:pw@... */
static int conninfo_has_password(const char *v)
{
	if (strstr(v, "password="))
		return 1;
	const char *scheme = strstr(v, "://");
	if (!scheme)
		return 0;
	const char *auth = scheme + 3, *at = strchr(auth, '@');
	return at && memchr(auth, ':', (size_t)(at - auth)) != NULL;
}

/* How many secrets the env file's variables set (empty ones are not). */
static int count_secrets(const struct kvlist *raw)
{
	int n = 0;
	for (size_t i = 0; i < raw->n; i++) {
		const char *k = raw->items[i].key, *v = raw->items[i].value;
		if (!*v)
			continue;
		if (strcmp(k, "DATABASE_URL") == 0 || strcmp(k, "MONITORED_DATABASE_URL") == 0) {
			n += conninfo_has_password(v);
			continue;
		}
		for (size_t j = 0; j < ARRAY_LEN(vars); j++)
			if (vars[j].v.type == CFG_SECRET && strcmp(k, vars[j].v.name) == 0)
				n++;
	}
	return n;
}

int config_env_file_exposed(const struct config *cfg)
{
	return cfg->env_file_mode >= 0 && (cfg->env_file_mode & 077) && cfg->env_file_secrets > 0;
}

int config_warn_env_file(const struct config *cfg)
{
	if (!config_env_file_exposed(cfg))
		return 0;
	log_warnx("env_file_exposed",
	          "the env file %s holds %d secret(s) and is open to others than its owner (mode "
	          "%04o): chmod 600 it",
	          cfg->env_file, cfg->env_file_secrets, (unsigned)cfg->env_file_mode);
	return 1;
}

int config_var_known(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		size_t n = strlen(vars[i].v.name);
		if (vars[i].v.type == CFG_PHONES || vars[i].v.type == CFG_CONTACT) {
			if (strncmp(key, vars[i].v.name, n) == 0 && key[n] == '_')
				return 1;
		} else if (strcmp(key, vars[i].v.name) == 0) {
			return 1;
		}
	}
	enum metric_id m;
	int c;
	return strcmp(key, "MONITORING_ENV_FILE") == 0 || strcmp(key, "HTTP_PORT") == 0 ||
	       threshold_var_parse(key, &m, &c) == 0;
}

static int load_phones(struct config *cfg, const struct var_slot *s, const struct kvlist *raw,
                       char **err)
{
	struct phone_list *pl = (struct phone_list *)((char *)cfg + s->off);
	pl->n = 0;
	size_t n = strlen(s->v.name);
	for (size_t i = 0; i < raw->n; i++) {
		const char *k = raw->items[i].key;
		if (strncmp(k, s->v.name, n) != 0 || k[n] != '_')
			continue;
		long long idx;
		const char *why, *suffix = k + n + 1;
		if (suffix[0] < '1' || suffix[0] > '9' ||
		    parse_int(suffix, 1, PHONE_LIST_MAX, &idx, &why) < 0) {
			*err = xasprintf("%s: the suffix must be 1..%d", k, PHONE_LIST_MAX);
			return -1;
		}
	}
	for (int i = 1; i <= PHONE_LIST_MAX; i++) {
		char *k = xasprintf("%s_%d", s->v.name, i);
		const char *v = kv_get(raw, k);
		const char *why;
		if (v && *v) {
			char num[PHONE_MAX];
			if (phone_normalize(v, num, &why) < 0) {
				*err = xasprintf("%s %s, got '%s'", k, why, v);
				free(k);
				return -1;
			}
			phone_list_add(pl, num);
		}
		free(k);
	}
	return 0;
}

/* The entry of cfg->contacts for phone, made when missing (NULL when the directory is full). */
static struct contact_addr *contact_entry(struct config *cfg, const char *phone)
{
	struct contact_dir *d = &cfg->contacts;
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->v[i].phone, phone) == 0)
			return &d->v[i];
	if (d->n == CONTACT_DIR_MAX)
		return NULL;
	struct contact_addr *a = &d->v[d->n++];
	memset(a, 0, sizeof(*a));
	snprintf(a->phone, sizeof(a->phone), "%s", phone);
	return a;
}

/*
 * <LIST>_EMAIL_n or <LIST>_SMS_n (s names the variable without its _n) into cfg->contacts,
 * beside <LIST>_PHONE_n: that one must be set; an email must be one email_address_check()
 * accepts, an SMS number E.164 or "none"; one contact given two different emails (or SMS
 * numbers) by two lists is refused. 0, or -1 with *err naming the variable.
 */
static int load_contact(struct config *cfg, const struct var_slot *s, const struct kvlist *raw,
                        char **err)
{
	size_t n = strlen(s->v.name);
	const char *us = strrchr(s->v.name, '_');
	int is_email = strcmp(us, "_EMAIL") == 0;
	for (size_t i = 0; i < raw->n; i++) {
		const char *k = raw->items[i].key;
		long long idx;
		const char *why;
		if (strncmp(k, s->v.name, n) != 0 || k[n] != '_')
			continue;
		if (k[n + 1] < '1' || k[n + 1] > '9' ||
		    parse_int(k + n + 1, 1, PHONE_LIST_MAX, &idx, &why) < 0) {
			*err = xasprintf("%s: the suffix must be 1..%d", k, PHONE_LIST_MAX);
			return -1;
		}
	}
	for (int i = 1; i <= PHONE_LIST_MAX; i++) {
		char *k = xasprintf("%s_%d", s->v.name, i);
		char *pk = xasprintf("%.*s_PHONE_%d", (int)(us - s->v.name), s->v.name, i);
		const char *v = kv_get(raw, k), *pv = kv_get(raw, pk), *why = NULL;
		char num[PHONE_MAX], sms[PHONE_MAX];
		int ret = 0;
		struct contact_addr *a = NULL;
		if (!v || !*v)
			goto next;
		ret = -1;
		if (!pv || !*pv) {
			*err = xasprintf("%s is set but %s is not: it is that contact's address", k,
			                 pk);
			goto next;
		}
		if (phone_normalize(pv, num, &why) < 0) { /* load_phones says so first */
			*err = xasprintf("%s %s, got '%s'", pk, why, pv);
			goto next;
		}
		if (is_email && email_address_check(v, &why) < 0) {
			/* The value is not repeated: it may hold a line break. */
			*err = xasprintf("%s %s", k, why);
			goto next;
		}
		if (!is_email && strcmp(v, "none") != 0 && phone_normalize(v, sms, &why) < 0) {
			*err = xasprintf("%s %s (or none), got '%s'", k, why, v);
			goto next;
		}
		if (!(a = contact_entry(cfg, num))) {
			*err = xasprintf("%s: too many contacts", k);
			goto next;
		}
		char *field = is_email ? a->email : a->sms;
		size_t len = is_email ? sizeof(a->email) : sizeof(a->sms);
		const char *val = is_email || strcmp(v, "none") == 0 ? v : sms;
		if (*field && strcmp(field, val) != 0) {
			*err = xasprintf("%s gives %s another %s than another list does", k, num,
			                 is_email ? "email address" : "SMS number");
			goto next;
		}
		snprintf(field, len, "%s", val);
		ret = 0;
	next:
		free(k);
		free(pk);
		if (ret < 0)
			return -1;
	}
	return 0;
}

const struct contact_addr *config_contact(const struct config *cfg, const char *phone)
{
	for (int i = 0; i < cfg->contacts.n; i++)
		if (strcmp(cfg->contacts.v[i].phone, phone) == 0)
			return &cfg->contacts.v[i];
	return NULL;
}

int config_contact_sms(const struct config *cfg, const char *phone, char *out)
{
	const struct contact_addr *a = config_contact(cfg, phone);
	if (a && strcmp(a->sms, "none") == 0)
		return 0;
	snprintf(out, PHONE_MAX, "%s", a && *a->sms ? a->sms : phone);
	return 1;
}

const char *config_contact_email(const struct config *cfg, const char *phone)
{
	const struct contact_addr *a = config_contact(cfg, phone);
	return a && *a->email ? a->email : NULL;
}

/*
 * The env file's variables into raw: the file MONITORING_ENV_FILE names (it must exist then), or
 * .env.monitoring when there is one. Records its name, mode and secret count in cfg; warns of
 * names config_load() does not read. 0, or -1 with *err.
 */
static int read_env_file(struct config *cfg, struct kvlist *raw, char **err)
{
	struct buf file = BUF_INIT(ENVFILE_MAX);
	const char *envfile = getenv("MONITORING_ENV_FILE");
	int explicit_file = envfile && *envfile, ret = -1;
	if (!explicit_file)
		envfile = ".env.monitoring";
	free(cfg->env_file);
	cfg->env_file = xstrdup(envfile);
	cfg->env_file_mode = -1;
	cfg->env_file_secrets = 0;
	if (!explicit_file && access(envfile, F_OK) != 0)
		return 0;
	if (envfile_read(envfile, &file, &cfg->env_file_mode, err) < 0 ||
	    envfile_parse(buf_str(&file), file.len, collect_kv, raw, err) < 0)
		goto out;
	cfg->env_file_secrets = count_secrets(raw);
	for (size_t i = 0; i < raw->n; i++)
		if (!config_var_known(raw->items[i].key))
			log_warnx("config_unknown_variable",
			          "%s: unknown variable %s ignored (a typo?)", envfile,
			          raw->items[i].key);
	ret = 0;
out:
	buf_release(&file);
	return ret;
}

/* The environment overrides the file, for every name we know. */
static void overlay_environment(struct kvlist *raw)
{
	extern char **environ;
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		char *k = xstrndup(*e, (size_t)(eq - *e));
		if (config_var_known(k))
			kv_set(raw, k, eq + 1);
		free(k);
	}
}

/* Types whose empty value means the default (they have no meaningful empty value). */
static int empty_is_default(enum cfg_type t)
{
	return t == CFG_URL || t == CFG_TZ || t == CFG_IDENT || t == CFG_INT || t == CFG_HHMM ||
	       t == CFG_WEEKDAY || t == CFG_POOLING || t == CFG_PROVIDER || t == CFG_LEVEL;
}

/* Every variable of the table, and the thresholds, from raw (else their defaults). 0 / -1. */
static int set_all(struct config *cfg, const struct kvlist *raw, char **err)
{
	cfg->contacts.n = 0;
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		const struct var_slot *s = &vars[i];
		if (s->v.type == CFG_PHONES) {
			if (load_phones(cfg, s, raw, err) < 0)
				return -1;
			continue;
		}
		if (s->v.type == CFG_CONTACT) {
			if (load_contact(cfg, s, raw, err) < 0)
				return -1;
			continue;
		}
		const char *v = kv_get(raw, s->v.name);
		if (!v)
			v = s->v.def ? s->v.def : "";
		if (empty_is_default(s->v.type) && *v == '\0') {
			if (strcmp(s->v.name, "MONITORED_DATABASE_URL") == 0)
				continue; /* empty: DATABASE_URL, set by finish_config() */
			v = s->v.def ? s->v.def : "";
			if (*v == '\0') {
				*err = xasprintf("%s must not be empty", s->v.name);
				return -1;
			}
		}
		if (set_var(cfg, s, v, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < raw->n; i++) {
		enum metric_id m;
		int c;
		if (*raw->items[i].value == '\0')
			continue; /* empty means the default, as for every variable; "none" disables
			           */
		if (threshold_var_parse(raw->items[i].key, &m, &c) == 0 &&
		    set_threshold(cfg, raw->items[i].key, m, c, raw->items[i].value, err) < 0)
			return -1;
	}
	return 0;
}

/* The chosen provider has what it needs to send. 0, or -1 with *err naming what is missing. */
static int check_provider(const struct config *cfg, char **err)
{
	if (strcmp(cfg->provider, "meta") == 0) {
		if (!*cfg->meta_token || !*cfg->meta_phone_number_id) {
			*err = xstrdup(*cfg->meta_token ? "META_PHONE_NUMBER_ID is required when "
			                                  "WHATSAPP_PROVIDER=meta"
			                                : "META_WHATSAPP_TOKEN is required when "
			                                  "WHATSAPP_PROVIDER=meta");
			return -1;
		}
	} else if (strcmp(cfg->provider, "twilio") == 0) {
		const char *missing = !*cfg->twilio_account_sid       ? "TWILIO_ACCOUNT_SID"
		                      : !*cfg->twilio_auth_token      ? "TWILIO_AUTH_TOKEN"
		                      : !*cfg->twilio_whatsapp_number ? "TWILIO_WHATSAPP_NUMBER"
		                                                      : NULL;
		if (missing) {
			*err = xasprintf("%s is required when WHATSAPP_PROVIDER=twilio", missing);
			return -1;
		}
	}
	return 0;
}

/*
 * The SMS settings, when TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID is set (one, not both):
 * the sender an E.164 number (normalised in place) or a Messaging Service SID (MG and 32 hex
 * digits), the Twilio account's SID and token. 0, or -1 with *err naming the variable.
 */
static int check_sms(struct config *cfg, char **err)
{
	const char *why;
	const char *ms = cfg->twilio_messaging_service_sid;
	if (!*cfg->twilio_sms_from && !*ms)
		return 0;
	if (*cfg->twilio_sms_from && *ms) {
		*err = xstrdup("set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID, not both");
		return -1;
	}
	if (*cfg->twilio_sms_from) {
		char num[PHONE_MAX];
		if (phone_normalize(cfg->twilio_sms_from, num, &why) < 0) {
			*err = xasprintf("TWILIO_SMS_FROM %s", why);
			return -1;
		}
		free(cfg->twilio_sms_from);
		cfg->twilio_sms_from = xstrdup(num);
	} else {
		int ok = strlen(ms) == 34 && ms[0] == 'M' && ms[1] == 'G';
		for (size_t i = 2; ok && ms[i]; i++)
			ok = strchr("0123456789abcdefABCDEF", ms[i]) != NULL;
		if (!ok) {
			*err = xstrdup("TWILIO_MESSAGING_SERVICE_SID must be MG and 32 hex digits");
			return -1;
		}
	}
	const char *missing = !*cfg->twilio_account_sid  ? "TWILIO_ACCOUNT_SID"
	                      : !*cfg->twilio_auth_token ? "TWILIO_AUTH_TOKEN"
	                                                 : NULL;
	if (missing) {
		*err = xasprintf("%s is required to send SMS (TWILIO_SMS_FROM or "
		                 "TWILIO_MESSAGING_SERVICE_SID is set)",
		                 missing);
		return -1;
	}
	return 0;
}

/* 1 when url starts with scheme (ASCII case-insensitive) and a host follows. */
static int url_has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncasecmp(url, scheme, n) == 0 && url[n] && url[n] != '/' && url[n] != ':';
}

/*
 * The email settings, when SMTP_URL is set: smtp:// or smtps:// with a host and no credentials
 * in it, no control characters or spaces, a valid SMTP_FROM, SMTP_USERNAME and SMTP_PASSWORD
 * both or neither, a readable SMTP_CA_FILE. 0, or -1 with *err naming the variable.
 */
static int check_smtp(const struct config *cfg, char **err)
{
	const char *why;
	char *name = NULL, *addr = NULL;
	if (!*cfg->smtp_url)
		return 0;
	const char *u = cfg->smtp_url;
	int bad = !url_has_scheme(u, "smtp://") && !url_has_scheme(u, "smtps://");
	for (const char *p = u; !bad && *p; p++)
		bad = (unsigned char)*p <= 0x20 || *p == 0x7F;
	if (bad) {
		*err = xasprintf("SMTP_URL must be smtp://host[:port] (STARTTLS) or "
		                 "smtps://host[:port], got '%s'",
		                 u);
		return -1;
	}
	const char *host = strstr(u, "://") + 3;
	if (memchr(host, '@', strcspn(host, "/"))) {
		*err = xstrdup("SMTP_URL must not hold credentials: set SMTP_USERNAME and "
		               "SMTP_PASSWORD");
		return -1;
	}
	if (!*cfg->smtp_from) {
		*err = xstrdup("SMTP_FROM is required when SMTP_URL is set");
		return -1;
	}
	if (email_mailbox_parse(cfg->smtp_from, &name, &addr, &why) < 0) {
		*err = xasprintf("SMTP_FROM %s", why);
		return -1;
	}
	free(name);
	free(addr);
	if (!*cfg->smtp_username != !*cfg->smtp_password) {
		*err =
		    xstrdup(*cfg->smtp_username ? "SMTP_PASSWORD is required with SMTP_USERNAME"
		                                : "SMTP_USERNAME is required with SMTP_PASSWORD");
		return -1;
	}
	for (const char *p = cfg->smtp_username; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F) {
			*err = xstrdup("SMTP_USERNAME holds a control character");
			return -1;
		}
	if (*cfg->smtp_ca_file && access(cfg->smtp_ca_file, R_OK) != 0) {
		*err = xasprintf("SMTP_CA_FILE %s cannot be read", cfg->smtp_ca_file);
		return -1;
	}
	return 0;
}

/* The sellers' keys: long enough for HMAC-SHA256, and none the same as another key. */
static int check_tenant_keys(const struct config *cfg, char **err)
{
	const struct {
		const char *name, *value;
	} keys[] = {
	    {"TENANT_JWT_SECRET", cfg->tenant_jwt_secret},
	    {"TENANT_CODE_SECRET", cfg->tenant_code_secret},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = keys[i].value;
		if (!*v)
			continue;
		if (strlen(v) < 32) {
			*err = xasprintf("%s must be at least 32 bytes", keys[i].name);
			return -1;
		}
		if (strcmp(v, cfg->api_token) == 0 || strcmp(v, cfg->platform_api_key) == 0) {
			*err = xasprintf(
			    "%s must differ from MONITORING_API_TOKEN and PLATFORM_API_KEY",
			    keys[i].name);
			return -1;
		}
	}
	if (*cfg->tenant_jwt_secret &&
	    strcmp(cfg->tenant_jwt_secret, cfg->tenant_code_secret) == 0) {
		*err = xstrdup("TENANT_CODE_SECRET must differ from TENANT_JWT_SECRET");
		return -1;
	}
	return 0;
}

/*
 * The canary (monitor/canary.h): off with CANARY_INTERVAL 0; on, at least a minute apart (the tick
 * runs every minute), a CANARY_PHONE to send to (normalised in place), and a deadline shorter than
 * the interval, so that a canary is judged before the next one goes. 0, or -1 with *err.
 */
static int check_canary(struct config *cfg, char **err)
{
	if (cfg->canary_interval_s == 0)
		return 0;
	if (cfg->canary_interval_s < 60) {
		*err = xasprintf("CANARY_INTERVAL must be 0 (off) or at least 60 seconds, got %lld",
		                 cfg->canary_interval_s);
		return -1;
	}
	if (!*cfg->canary_phone) {
		*err = xstrdup("CANARY_PHONE is required when CANARY_INTERVAL is set");
		return -1;
	}
	char num[PHONE_MAX];
	const char *why;
	if (phone_normalize(cfg->canary_phone, num, &why) < 0) {
		*err = xasprintf("CANARY_PHONE %s, got '%s'", why, cfg->canary_phone);
		return -1;
	}
	free(cfg->canary_phone);
	cfg->canary_phone = xstrdup(num);
	if (cfg->canary_deadline_s >= cfg->canary_interval_s) {
		*err =
		    xasprintf("CANARY_DEADLINE (%lld s) must be less than CANARY_INTERVAL (%lld s)",
		              cfg->canary_deadline_s, cfg->canary_interval_s);
		return -1;
	}
	return 0;
}

/* SELLER_TEMPLATES: off or on (into seller_templates_on). 0, or -1 with *err. */
static int check_seller_templates(struct config *cfg, char **err)
{
	if (strcmp(cfg->seller_templates, "off") != 0 && strcmp(cfg->seller_templates, "on") != 0) {
		*err = xasprintf("SELLER_TEMPLATES must be off or on, got '%s'",
		                 cfg->seller_templates);
		return -1;
	}
	cfg->seller_templates_on = strcmp(cfg->seller_templates, "on") == 0;
	return 0;
}

/* Alertmanager's token: long enough, and none of the other keys (one leak opens one door). */
static int check_alertmanager_token(const struct config *cfg, char **err)
{
	const char *v = cfg->alertmanager_token;
	if (!*v)
		return 0;
	if (strlen(v) < 16) {
		*err = xstrdup("ALERTMANAGER_TOKEN must be at least 16 characters");
		return -1;
	}
	const struct {
		const char *name, *value;
	} others[] = {
	    {"MONITORING_API_TOKEN", cfg->api_token},
	    {"PLATFORM_API_KEY", cfg->platform_api_key},
	    {"TENANT_JWT_SECRET", cfg->tenant_jwt_secret},
	    {"TENANT_CODE_SECRET", cfg->tenant_code_secret},
	    {"META_APP_SECRET", cfg->meta_app_secret},
	    {"WEBHOOK_VERIFY_TOKEN", cfg->webhook_verify_token},
	    {"TWILIO_AUTH_TOKEN", cfg->twilio_auth_token},
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strcmp(v, others[i].value) == 0) {
			*err = xasprintf("ALERTMANAGER_TOKEN must differ from %s", others[i].name);
			return -1;
		}
	return 0;
}

/* What depends on more than one variable, once all are set. 0, or -1 with *err. */
static int finish_config(struct config *cfg, char **err)
{
	if (config_check(cfg, err) < 0)
		return -1;
	if (*cfg->monitored_database_url == '\0') {
		free(cfg->monitored_database_url);
		cfg->monitored_database_url = xstrdup(cfg->database_url);
	}
	if (*cfg->api_token && strlen(cfg->api_token) < 16) {
		*err = xstrdup("MONITORING_API_TOKEN must be at least 16 characters");
		return -1;
	}
	if (*cfg->platform_api_key && strlen(cfg->platform_api_key) < 16) {
		*err = xstrdup("PLATFORM_API_KEY must be at least 16 characters");
		return -1;
	}
	/* The operator's token is not a platform key: one leaked secret must not open both. */
	if (*cfg->platform_api_key && strcmp(cfg->platform_api_key, cfg->api_token) == 0) {
		*err = xstrdup("PLATFORM_API_KEY must differ from MONITORING_API_TOKEN");
		return -1;
	}
	const char *cwhy;
	if (chain_parse(cfg->fallback_chain_critical, &cfg->critical_chain, &cwhy) < 0) {
		*err = xasprintf("FALLBACK_CHAIN_CRITICAL %s, got '%s'", cwhy,
		                 cfg->fallback_chain_critical);
		return -1;
	}
	if (check_tenant_keys(cfg, err) < 0 || check_alertmanager_token(cfg, err) < 0 ||
	    check_smtp(cfg, err) < 0 || check_sms(cfg, err) < 0 || check_canary(cfg, err) < 0 ||
	    check_seller_templates(cfg, err) < 0)
		return -1;
	if (*cfg->events_signing_secret) {
		struct stdwebhook_key key;
		const char *why;
		int bad = stdwebhook_key_parse(cfg->events_signing_secret, &key, &why) < 0;
		stdwebhook_key_wipe(&key);
		if (bad) {
			*err = xasprintf("EVENTS_SIGNING_SECRET %s", why);
			return -1;
		}
	}
	if (*cfg->twilio_whatsapp_number) {
		char num[PHONE_MAX];
		const char *why;
		if (phone_normalize(cfg->twilio_whatsapp_number, num, &why) < 0) {
			*err = xasprintf("TWILIO_WHATSAPP_NUMBER %s", why);
			return -1;
		}
		free(cfg->twilio_whatsapp_number);
		cfg->twilio_whatsapp_number = xstrdup(num);
	}
	return check_provider(cfg, err);
}

int config_load(struct config *cfg, char **err)
{
	struct kvlist raw = {0};
	int ret = -1;
	if (read_env_file(cfg, &raw, err) < 0)
		goto out;
	overlay_environment(&raw);
	if (set_all(cfg, &raw, err) < 0 || finish_config(cfg, err) < 0)
		goto out;
	ret = 0;
out:
	kv_free(&raw);
	return ret;
}

int config_check(const struct config *cfg, char **err)
{
	if (check_thresholds(cfg, err) < 0)
		return -1;
	if (cfg->business_hours_start >= cfg->business_hours_end) {
		*err = xstrdup("BUSINESS_HOURS_END must be later than BUSINESS_HOURS_START");
		return -1;
	}
	return 0;
}

int config_apply_setting(struct config *cfg, const char *name, const char *value, char **err)
{
	enum metric_id m;
	int c;
	if (threshold_var_parse(name, &m, &c) == 0)
		return set_threshold(cfg, name, m, c, value, err);
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		if (strcmp(vars[i].v.name, name) != 0)
			continue;
		if (!vars[i].v.runtime) {
			*err = xasprintf("%s cannot be changed at run time", name);
			return -1;
		}
		return set_var(cfg, &vars[i], value, err);
	}
	*err = xasprintf("%s is not a setting", name);
	return -1;
}

char *config_value_text(const struct config *cfg, const char *name, int redact)
{
	enum metric_id m;
	int c;
	if (threshold_var_parse(name, &m, &c) == 0) {
		double d = c ? cfg->thresholds.critical[m] : cfg->thresholds.warning[m];
		return isnan(d) ? xstrdup("none") : xasprintf("%.15g", d);
	}
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		const struct var_slot *s = &vars[i];
		if (strcmp(s->v.name, name) != 0)
			continue;
		const char *base = (const char *)cfg + s->off;
		switch (s->v.type) {
		case CFG_SECRET: {
			const char *v = *(char *const *)base;
			if (redact)
				return xstrdup(v && *v ? "(set)" : "");
			return xstrdup(v ? v : "");
		}
		case CFG_URL: {
			/* Connection strings may hold a password: redact it. */
			const char *v = *(char *const *)base;
			if (redact &&
			    (strstr(v, "password") || (strstr(v, "://") && strchr(v, '@'))))
				return xstrdup("(set, contains credentials)");
			return xstrdup(v);
		}
		case CFG_STRING:
		case CFG_TZ:
		case CFG_PROVIDER:
		case CFG_IDENT:
			return xstrdup(*(char *const *)base);
		case CFG_INT:
			return xasprintf("%lld", *(const long long *)base);
		case CFG_HHMM: {
			int mm = *(const int *)base;
			return xasprintf("%02d:%02d", mm / 60, mm % 60);
		}
		case CFG_WEEKDAY: {
			static const char *const days[] = {"sunday",    "monday",   "tuesday",
			                                   "wednesday", "thursday", "friday",
			                                   "saturday"};
			return xstrdup(days[*(const int *)base]);
		}
		case CFG_POOLING:
			return xstrdup(*(const int *)base == POOLING_TRANSACTION ? "transaction"
			                                                         : "session");
		case CFG_LEVEL: {
			static const char *names[] = {"debug", "info", "warn", "error"};
			return xstrdup(names[*(const enum log_level *)base]);
		}
		case CFG_PHONES: {
			const struct phone_list *pl = (const struct phone_list *)base;
			struct buf b = BUF_INIT(4096);
			for (int j = 0; j < pl->n; j++)
				buf_printf(&b, "%s%s", j ? "," : "", pl->num[j]);
			return buf_detach(&b);
		}
		case CFG_CONTACT: {
			/* "+49...=a@example.com,...": the address of that kind of each contact of
			 * the list the variable belongs to (the directory is by person). */
			int is_email = strcmp(strrchr(s->v.name, '_'), "_EMAIL") == 0;
			const struct phone_list *list =
			    strncmp(s->v.name, "CRITICAL_", 9) == 0  ? &cfg->critical
			    : strncmp(s->v.name, "WEEKEND_", 8) == 0 ? &cfg->weekend
			                                             : &cfg->escalation;
			struct buf b = BUF_INIT(16384);
			const char *sep = "";
			for (int j = 0; j < cfg->contacts.n; j++) {
				const struct contact_addr *a = &cfg->contacts.v[j];
				const char *v = is_email ? a->email : a->sms;
				if (*v && phone_list_has(list, a->phone)) {
					buf_printf(&b, "%s%s=%s", sep, a->phone, v);
					sep = ",";
				}
			}
			return buf_detach(&b);
		}
		case CFG_THRESHOLD:
			break;
		}
	}
	return NULL;
}

int config_in_business_hours(const struct config *cfg, int minute_of_day)
{
	return minute_of_day >= cfg->business_hours_start &&
	       minute_of_day < cfg->business_hours_end;
}

const struct cfg_var *config_var_at(size_t i)
{
	return i < ARRAY_LEN(vars) ? &vars[i].v : NULL;
}

void config_copy_runtime(struct config *dst, const struct config *src)
{
	for (size_t i = 0; i < ARRAY_LEN(vars); i++) {
		if (!vars[i].v.runtime)
			continue;
		size_t size = vars[i].v.type == CFG_INT ? sizeof(long long)
		              : vars[i].v.type == CFG_HHMM || vars[i].v.type == CFG_WEEKDAY
		                  ? sizeof(int)
		                  : 0;
		if (size)
			memcpy((char *)dst + vars[i].off, (const char *)src + vars[i].off, size);
	}
	dst->thresholds = src->thresholds;
}
