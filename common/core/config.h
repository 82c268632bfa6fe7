/*
 * config.h: the service's configuration.
 *
 * Precedence, lowest first: built-in defaults < the env file
 * (MONITORING_ENV_FILE, default ".env.monitoring"; missing is fine unless
 * MONITORING_ENV_FILE names it; read by core/envfile.h) < the process environment < settings stored
 * in the state database by POST /monitoring/configure (thresholds and
 * schedule only, never secrets; applied with config_apply_setting()).
 *
 * config_load() validates every value; on a bad one it fails with a message
 * that names the variable. Library code never exits: main() decides.
 * Every variable is described by config_var_at(), which also feeds
 * `cron config` and GET /monitoring/configure (secrets redacted).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "core/chain.h"
#include "core/email.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/phone.h"
#include "core/phonelist.h"

/*
 * The operator contacts' other addresses, by WhatsApp number: their email (CRITICAL_EMAIL_n
 * beside CRITICAL_PHONE_n, WEEKEND_EMAIL_n, ESCALATION_EMAIL_n) and their SMS number
 * (CRITICAL_SMS_n and the like; unset: the WhatsApp number itself; "none": no SMS).
 */
struct contact_addr {
	char phone[PHONE_MAX];             /* the WhatsApp number (normalised) */
	char sms[PHONE_MAX];               /* "" unset (the WhatsApp number), "none", or E.164 */
	char email[EMAIL_ADDRESS_MAX + 1]; /* "" none */
};
#define CONTACT_DIR_MAX (3 * PHONE_LIST_MAX)
struct contact_dir {
	int n;
	struct contact_addr v[CONTACT_DIR_MAX];
};

struct config {
	char *env_file;
	int env_file_mode;    /* its permission bits (st_mode & 07777); -1 when none was read */
	int env_file_secrets; /* how many secrets it sets: CFG_SECRETs, database URLs with a
	                         password */
	char *database_url;
	char *monitored_database_url;   /* defaults to database_url */
	int database_pooling;           /* enum cfg_pooling: how DATABASE_URL is reached */
	int monitored_database_pooling; /* enum cfg_pooling: how MONITORED_DATABASE_URL is */
	char *api_token;                /* "" when not configured */
	char *platform_api_key; /* PLATFORM_API_KEY: the platform's bearer on /tenants; "" unset */
	char *alertmanager_token; /* ALERTMANAGER_TOKEN: Alertmanager's bearer; "" unset */
	/* Sellers (issue 16): "" unset. */
	char *tenant_jwt_secret, *tenant_jwt_audience, *tenant_code_secret;
	long long tenant_jwt_leeway_s;
	char *events_signing_secret; /* whsec_...: POST /events (Standard Webhooks); "" unset */
	long long tenant_session_hours;
	long long login_code_ttl_s, login_code_max_attempts, login_code_resend_s;
	long long login_codes_per_hour, login_requests_per_address_hour;
	char *timezone;
	int business_hours_start; /* minutes since midnight */
	int business_hours_end;
	long long monitoring_interval_ms;
	char *provider; /* "sandbox", "meta", "twilio" */
	char *meta_token, *meta_phone_number_id, *meta_app_secret, *meta_graph_url;
	char *webhook_verify_token, *webhook_url;
	char *twilio_account_sid, *twilio_auth_token, *twilio_whatsapp_number, *twilio_api_url;
	char *alert_template, *template_language, *twilio_content_sid;
	/* SELLER_TEMPLATES as written ("off", "on") and parsed: seller alerts' own templates. */
	char *seller_templates;
	int seller_templates_on;
	long long send_timeout_ms;
	long long send_rate_per_second;
	long long send_max_in_flight;
	long long recipient_min_interval_s;
	long long retry_base_s, retry_max_s;
	long long message_max_age_h;
	/* Email over SMTP (delivery/provider_smtp.c): smtp_url "" means no email is sent. */
	char *smtp_url, *smtp_username, *smtp_password, *smtp_from, *smtp_ca_file;
	long long smtp_timeout_ms, smtp_rate_per_second, smtp_retry_base_s, smtp_retry_max_s;
	/* SMS through Twilio (delivery/provider_twilio.c): neither sender set means no SMS. */
	char *twilio_sms_from, *twilio_messaging_service_sid;
	long long sms_max_segments, sms_rate_per_second, sms_retry_base_s, sms_retry_max_s;
	struct phone_list critical, warning, weekend, escalation;
	long long escalation_minutes, repeat_minutes;
	/* The fallback chain (issue 18, delivery/fallback.h). */
	char *fallback_chain_critical;     /* FALLBACK_CHAIN_CRITICAL as written */
	struct chain critical_chain;       /* ... parsed (finish_config) */
	long long fallback_after_s;        /* urgent and critical: no receipt by then, next step */
	long long fallback_normal_after_s; /* normal (sellers' warnings): the same */
	struct contact_dir contacts;       /* CRITICAL_EMAIL_n, CRITICAL_SMS_n and the like */
	char *spool_dir;
	long long pause_max_minutes;
	long long command_max_age_s; /* older commands are audited, not obeyed */
	int report_daily_time;       /* minutes since midnight, TIMEZONE */
	int report_weekly_day;       /* 0 Sunday .. 6 Saturday */
	struct phone_list report;
	long long sample_retention_days, webhook_retention_days, events_retention_days;
	long long webhook_threads;
	long long webhook_status_grace_s;
	char *twilio_webhook_url;
	char *meta_waba_id;
	char *orders_table, *orders_timestamp_column;
	long long orders_min_volume;
	long long monitor_connect_timeout_s;
	long long monitor_statement_timeout_ms;
	char *monitor_application_name;
	long long database_size_limit_mb; /* 0: unknown */
	long long query_min_calls;
	long long cache_min_blocks;
	long long rollback_min_transactions;
	long long max_body_bytes;
	/* The end-to-end canary (monitor/canary.h): interval 0 means off. */
	long long canary_interval_s, canary_deadline_s;
	char *canary_phone; /* E.164 once loaded; "" unset */
	enum log_level log_level;
	struct thresholds thresholds;
};

/* The addresses known for WhatsApp number phone, or NULL. */
const struct contact_addr *config_contact(const struct config *cfg, const char *phone);
/* The SMS number of operator contact phone (into out, PHONE_MAX): 1, or 0 when "none". */
int config_contact_sms(const struct config *cfg, const char *phone, char *out);
/* The email address of operator contact phone, or NULL when none is configured. */
const char *config_contact_email(const struct config *cfg, const char *phone);

enum cfg_type {
	CFG_STRING,
	CFG_SECRET,
	CFG_URL,
	CFG_INT,
	CFG_HHMM,
	CFG_WEEKDAY, /* monday .. sunday, stored as an int 0 (Sunday) .. 6 (tm_wday) */
	CFG_POOLING, /* session or transaction, stored as an int (enum cfg_pooling) */
	CFG_TZ,
	CFG_PROVIDER,
	CFG_IDENT,
	CFG_LEVEL,
	CFG_PHONES,    /* NAME_1 .. NAME_10 */
	CFG_CONTACT,   /* NAME_1 .. NAME_10 beside <LIST>_PHONE_n: an email (<LIST>_EMAIL) or an
	                  SMS number (<LIST>_SMS) of that contact, into struct contact_dir */
	CFG_THRESHOLD, /* THRESHOLD_<METRIC>_WARNING / _CRITICAL, generated */
};

/*
 * How a database is reached: directly or through a session-mode pooler (each client keeps one
 * server connection: prepared statements and session settings survive), or through a
 * transaction-mode pooler (PgBouncer pool_mode=transaction, Supabase's pooler: each transaction
 * may run on another server connection, so nothing may rely on session state).
 */
enum cfg_pooling {
	POOLING_SESSION = 0,
	POOLING_TRANSACTION = 1,
};

struct cfg_var {
	const char *name;
	enum cfg_type type;
	const char *def; /* default as text; NULL = empty */
	long long min, max;
	int runtime; /* may be changed by POST /monitoring/configure */
	const char *help;
};

/* The documented variables, in order; NULL past the end. */
const struct cfg_var *config_var_at(size_t i);
extern const size_t config_var_count;
/* Whether config_load() reads the variable name (a documented one, NAME_<n> of a phone list, a
 * THRESHOLD_<METRIC>_<LEVEL>, MONITORING_ENV_FILE, HTTP_PORT). */
int config_var_known(const char *name);
/* Name of the threshold variable of metric m ("THRESHOLD_DEADLOCKS_WARNING"). Caller frees. */
char *threshold_var_name(enum metric_id m, int critical);

void config_init(struct config *cfg);
void config_release(struct config *cfg);

/*
 * Load defaults, the env file and the environment.
 * 0 on success; -1 with *err (caller frees) naming the bad variable.
 */
int config_load(struct config *cfg, char **err);

/*
 * Apply one runtime setting by its variable name (e.g. "BUSINESS_HOURS_START"
 * or "THRESHOLD_DEADLOCKS_WARNING"). Rejects non-runtime names and bad
 * values. Rules between values (warning vs critical, start before end) are
 * checked by config_check() once all changes are applied. 0, or -1 with *err.
 */
int config_apply_setting(struct config *cfg, const char *name, const char *value, char **err);

/*
 * Whether the env file config_load() read holds secrets and others than its owner may read or
 * write it (mode & 077). config_warn_env_file() logs a warning saying so (the file's name, its
 * mode and how many secrets; never a value) and returns 1; 0 and nothing logged otherwise. Each
 * program calls it once at start.
 */
int config_env_file_exposed(const struct config *cfg);
int config_warn_env_file(const struct config *cfg);

/* Cross-variable rules: threshold pairs, business hours order. 0, or -1 with *err. */
int config_check(const struct config *cfg, char **err);

/* The effective value of a variable as text, with secrets redacted ("(set)" / ""). Caller frees. */
char *config_value_text(const struct config *cfg, const char *name, int redact);

/* Copy the runtime settings (thresholds, schedule) of src into dst. */
void config_copy_runtime(struct config *dst, const struct config *src);

/* Is minute-of-day m (in TIMEZONE) inside business hours? */
int config_in_business_hours(const struct config *cfg, int minute_of_day);

#endif
