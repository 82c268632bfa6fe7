/*
 * exposition.c: the Prometheus text of GET /monitoring/metrics (see
 * exposition.h). The service's own families are a table: each query's first
 * columns are labels, each further column one sample of a family, with an
 * extra label of its own (messages_total's outcome) or none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/promtext.h"
#include "monitor/exposition.h"

#define PREFIX "whatsapp_monitor_"

/* ---------------------------------------------------------------- the latest check */

static const char *LATEST_SQL =
    "SELECT m.metric, m.target, m.value, m.verdict, extract(epoch FROM m.sampled_at)"
    " FROM metric_samples m"
    " JOIN (SELECT id FROM check_runs ORDER BY id DESC LIMIT 1) r ON m.check_run_id = r.id"
    " ORDER BY m.id";

/* Catalogue units that are not Prometheus base units: the word in the name, its base, the factor.
 */
static const struct {
	const char *unit, *base;
	double scale;
} unit_conv[] = {
    {"ms", "seconds", 0.001},
    {"days", "seconds", 86400},
};

/* Where word is one of name's '_'-separated words, or NULL. */
static const char *find_word(const char *name, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = strstr(name, word); p; p = strstr(p + 1, word))
		if ((p == name || p[-1] == '_') && (p[wl] == '\0' || p[wl] == '_'))
			return p;
	return NULL;
}

int exposition_check_family(int metric, char *name, double *scale)
{
	if (metric < 0 || metric >= M_COUNT)
		return -1;
	const struct metric_def *d = &metric_defs[metric];
	*scale = 1;
	for (size_t i = 0; i < sizeof(unit_conv) / sizeof(unit_conv[0]); i++) {
		const char *w = strcmp(d->unit, unit_conv[i].unit) == 0
		                    ? find_word(d->name, unit_conv[i].unit)
		                    : NULL;
		if (w) {
			snprintf(name, EXPOSITION_NAME_MAX, PREFIX "%.*s%s%s", (int)(w - d->name),
			         d->name, unit_conv[i].base, w + strlen(unit_conv[i].unit));
			*scale = unit_conv[i].scale;
			return 0;
		}
	}
	snprintf(name, EXPOSITION_NAME_MAX, PREFIX "%s", d->name);
	return 0;
}

static int verdict_code(const char *v)
{
	return strcmp(v, "ok") == 0            ? 0
	       : strcmp(v, "warning") == 0     ? 1
	       : strcmp(v, "critical") == 0    ? 2
	       : strcmp(v, "unavailable") == 0 ? -1
	                                       : -2;
}

/* One gauge per catalogue metric with a value, HELP and TYPE once, samples in check order. */
static int write_check_values(struct buf *b, const PGresult *res)
{
	int n = PQntuples(res);
	for (int m = 0; m < M_COUNT; m++) {
		char name[EXPOSITION_NAME_MAX], help[512];
		double scale;
		int header = 0;
		exposition_check_family(m, name, &scale);
		for (int i = 0; i < n; i++) {
			if (strcmp(PQgetvalue(res, i, 0), metric_defs[m].name) != 0 ||
			    PQgetisnull(res, i, 2))
				continue;
			snprintf(help, sizeof(help), "%s (%s), at the latest check",
			         metric_defs[m].help, scale == 1 ? metric_defs[m].unit : "seconds");
			if (!header && promtext_family(b, name, PROMTEXT_GAUGE, help) < 0)
				return -1;
			header = 1;
			struct promtext_label l[] = {{"target", PQgetvalue(res, i, 1)},
			                             {NULL, NULL}};
			if (promtext_sample(b, name, l,
			                    strtod(PQgetvalue(res, i, 2), NULL) * scale) < 0)
				return -1;
		}
	}
	return 0;
}

static int write_checks(struct db *db, struct buf *b)
{
	PGresult *res = db_query_idem(db, LATEST_SQL, 0, NULL);
	if (!res)
		return -1;
	int ret = -2, n = PQntuples(res);
	if (write_check_values(b, res) < 0 ||
	    promtext_family(b, PREFIX "verdict", PROMTEXT_GAUGE,
	                    "Verdict of each metric at the latest check: 0 ok, 1 warning, "
	                    "2 critical, -1 unavailable, -2 skipped") < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		struct promtext_label l[] = {{"metric", PQgetvalue(res, i, 0)},
		                             {"target", PQgetvalue(res, i, 1)},
		                             {NULL, NULL}};
		if (promtext_sample(b, PREFIX "verdict", l, verdict_code(PQgetvalue(res, i, 3))) <
		    0)
			goto out;
	}
	if (n > 0 && (promtext_family(b, PREFIX "last_check_timestamp_seconds", PROMTEXT_GAUGE,
	                              "Time of the latest check (reachable or not)") < 0 ||
	              promtext_sample(b, PREFIX "last_check_timestamp_seconds", NULL,
	                              strtod(PQgetvalue(res, 0, 4), NULL)) < 0))
		goto out;
	ret = 0;
out:
	PQclear(res);
	return ret;
}

/* ---------------------------------------------------------------- the service's own state */

struct family {
	const char *name; /* without the prefix */
	enum promtext_type type;
	const char *help;
};

static const struct family families[] = {
    {"messages_total", PROMTEXT_COUNTER,
     "Outbound messages that reached each outcome, by channel (a message counts once in "
     "each outcome it reached: a read message is sent, delivered and read)"},
    {"messages_received_total", PROMTEXT_COUNTER, "Inbound messages received, by channel"},
    {"tenant_messages_total", PROMTEXT_COUNTER,
     "Outbound messages for tenants (sellers), all tenants together, by channel"},
    {"queue_messages", PROMTEXT_GAUGE,
     "Outbound messages queued, by channel and priority; state due: may go now, waiting: "
     "held for business hours, or waiting for a retry or its pace"},
    {"queue_oldest_age_seconds", PROMTEXT_GAUGE,
     "Seconds the oldest queued message has been waiting since it was due (0: none queued)"},
    {"webhook_events_total", PROMTEXT_COUNTER,
     "Webhook events stored and processed, by source and outcome (done, failed)"},
    {"webhook_events_pending", PROMTEXT_GAUGE, "Webhook events stored, not yet processed"},
    {"webhook_ignored_statuses_total", PROMTEXT_COUNTER,
     "Status notifications for messages this service did not send, kept as ignored"},
    {"alerts_open", PROMTEXT_GAUGE, "Open alerts, by severity"},
    {"alerts_open_acknowledged", PROMTEXT_GAUGE, "Open alerts already acknowledged, by severity"},
    {"tenants_with_messages", PROMTEXT_GAUGE,
     "Tenants (sellers) that have had at least one outbound message"},
    {"tenants_with_queued_messages", PROMTEXT_GAUGE,
     "Tenants (sellers) with at least one outbound message queued"},
    {"delivery_stopped_accounts", PROMTEXT_GAUGE,
     "Sending accounts stopped by their provider's answer (cleared with cron drain --resume)"},
    {"last_successful_check_timestamp_seconds", PROMTEXT_GAUGE,
     "End of the latest check that reached the monitored database (0: never)"},
    {"last_successful_tick_timestamp_seconds", PROMTEXT_GAUGE,
     "End of the latest cron tick whose steps all succeeded (0: never)"},
};

/* A value column: its family, and an extra label (name NULL: none). */
struct column {
	const char *family;
	const char *label, *value;
};

/* A query: its first nkeys columns are the labels keys[], then one column per cols[]. */
struct query {
	const char *sql;
	int nkeys;
	const char *keys[2];
	struct column cols[8];
};

#define CHANNELS "(VALUES ('whatsapp'), ('sms'), ('email')) c (channel)"
#define SOURCES "(VALUES ('meta'), ('twilio')) s (source)"
#define OFFSET(name)                                                                               \
	"coalesce((SELECT value FROM counter_offsets o WHERE o.name = '" name                      \
	"' AND o.label = s.source), 0)"

static const struct query queries[] = {
    {"SELECT c.channel,"
     " count(l.id) FILTER (WHERE l.direction = 'outbound' AND l.sent_at IS NOT NULL),"
     " count(l.id) FILTER (WHERE l.direction = 'outbound'"
     "   AND (l.delivered_at IS NOT NULL OR l.read_at IS NOT NULL)),"
     " count(l.id) FILTER (WHERE l.direction = 'outbound' AND l.read_at IS NOT NULL),"
     " count(l.id) FILTER (WHERE l.direction = 'outbound' AND l.status = 'failed'),"
     " count(l.id) FILTER (WHERE l.direction = 'outbound' AND l.status = 'suppressed'),"
     " count(l.id) FILTER (WHERE l.direction = 'inbound'),"
     " count(l.id) FILTER (WHERE l.direction = 'outbound' AND l.tenant_id IS NOT NULL)"
     " FROM " CHANNELS " LEFT JOIN whatsapp_logs l ON l.channel = c.channel"
     " GROUP BY c.channel ORDER BY c.channel",
     1,
     {"channel"},
     {{"messages_total", "outcome", "sent"},
      {"messages_total", "outcome", "delivered"},
      {"messages_total", "outcome", "read"},
      {"messages_total", "outcome", "failed"},
      {"messages_total", "outcome", "suppressed"},
      {"messages_received_total", NULL, NULL},
      {"tenant_messages_total", NULL, NULL}}},
    {"SELECT c.channel, p.priority,"
     " count(l.id) FILTER (WHERE l.not_before <= now() AND l.next_attempt_at <= now()),"
     " count(l.id) FILTER (WHERE l.not_before > now() OR l.next_attempt_at > now())"
     " FROM " CHANNELS " CROSS JOIN (VALUES ('critical'), ('warning'), ('info')) p (priority)"
     " LEFT JOIN whatsapp_logs l ON l.status = 'queued' AND l.direction = 'outbound'"
     "   AND l.channel = c.channel AND l.priority = p.priority"
     " GROUP BY c.channel, p.priority ORDER BY c.channel, p.priority",
     2,
     {"channel", "priority"},
     {{"queue_messages", "state", "due"}, {"queue_messages", "state", "waiting"}}},
    {"SELECT c.channel, coalesce(extract(epoch FROM now()"
     "   - min(greatest(l.created_at, l.not_before))), 0)"
     " FROM " CHANNELS " LEFT JOIN whatsapp_logs l ON l.status = 'queued'"
     "   AND l.direction = 'outbound' AND l.channel = c.channel AND l.not_before <= now()"
     " GROUP BY c.channel ORDER BY c.channel",
     1,
     {"channel"},
     {{"queue_oldest_age_seconds", NULL, NULL}}},
    {"SELECT s.source,"
     " (SELECT count(*) FROM webhook_events e WHERE e.source = s.source AND e.status = 'done')"
     "   + " OFFSET(
         "webhook_events_done") ","
                                " (SELECT count(*) FROM webhook_events e WHERE e.source = s.source"
                                "   AND e.status = 'failed'),"
                                " (SELECT count(*) FROM webhook_events e WHERE e.source = s.source"
                                "   AND e.status = 'pending'),"
                                " (SELECT count(*) FROM webhook_ignored i WHERE i.source = "
                                "s.source)"
                                "   + " OFFSET("webhook_ignored") " FROM " SOURCES
                                                                  " ORDER BY s.source",
     1,
     {"source"},
     {{"webhook_events_total", "outcome", "done"},
      {"webhook_events_total", "outcome", "failed"},
      {"webhook_events_pending", NULL, NULL},
      {"webhook_ignored_statuses_total", NULL, NULL}}},
    {"SELECT v.severity, count(a.id),"
     " count(a.id) FILTER (WHERE a.acknowledged_at IS NOT NULL)"
     " FROM (VALUES ('critical'), ('warning')) v (severity)"
     " LEFT JOIN alerts a ON a.status = 'open' AND a.severity = v.severity"
     " GROUP BY v.severity ORDER BY v.severity",
     1,
     {"severity"},
     {{"alerts_open", NULL, NULL}, {"alerts_open_acknowledged", NULL, NULL}}},
    {"SELECT (SELECT count(DISTINCT tenant_id) FROM whatsapp_logs"
     "   WHERE direction = 'outbound' AND tenant_id IS NOT NULL),"
     " (SELECT count(DISTINCT tenant_id) FROM whatsapp_logs"
     "   WHERE status = 'queued' AND direction = 'outbound' AND tenant_id IS NOT NULL),"
     " (SELECT count(*) FROM delivery_state WHERE stopped),"
     " coalesce(extract(epoch FROM (SELECT max(finished_at) FROM check_runs"
     "   WHERE reachable)), 0),"
     " coalesce(extract(epoch FROM (SELECT at FROM heartbeats WHERE name = 'tick')), 0)",
     0,
     {NULL},
     {{"tenants_with_messages", NULL, NULL},
      {"tenants_with_queued_messages", NULL, NULL},
      {"delivery_stopped_accounts", NULL, NULL},
      {"last_successful_check_timestamp_seconds", NULL, NULL},
      {"last_successful_tick_timestamp_seconds", NULL, NULL}}},
};

static const struct family *family_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(families[i].name, name) == 0)
			return &families[i];
	return NULL;
}

static int ncols(const struct query *q)
{
	int n = 0;
	while (n < (int)(sizeof(q->cols) / sizeof(q->cols[0])) && q->cols[n].family)
		n++;
	return n;
}

/* The samples of family f: every row, every column of f. */
static int write_family(struct buf *b, const struct query *q, const PGresult *res,
                        const struct family *f)
{
	char name[EXPOSITION_NAME_MAX];
	snprintf(name, sizeof(name), PREFIX "%s", f->name);
	if (promtext_family(b, name, f->type, f->help) < 0)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		for (int c = 0; c < ncols(q); c++) {
			if (strcmp(q->cols[c].family, f->name) != 0)
				continue;
			struct promtext_label l[4] = {{NULL, NULL}};
			int k = 0;
			for (; k < q->nkeys; k++)
				l[k] = (struct promtext_label){q->keys[k], PQgetvalue(res, r, k)};
			if (q->cols[c].label)
				l[k] = (struct promtext_label){q->cols[c].label, q->cols[c].value};
			double v = strtod(PQgetvalue(res, r, q->nkeys + c), NULL);
			if (promtext_sample(b, name, l, v) < 0)
				return -1;
		}
	}
	return 0;
}

static int write_query(struct db *db, struct buf *b, const struct query *q)
{
	PGresult *res = db_query_idem(db, q->sql, 0, NULL);
	if (!res)
		return -1;
	int ret = -2;
	/* Each family once, in the order of its first column. */
	for (int c = 0; c < ncols(q); c++) {
		int first = 1;
		for (int p = 0; p < c; p++)
			if (strcmp(q->cols[p].family, q->cols[c].family) == 0)
				first = 0;
		const struct family *f = family_by_name(q->cols[c].family);
		if (first && (!f || write_family(b, q, res, f) < 0))
			goto out;
	}
	ret = 0;
out:
	PQclear(res);
	return ret;
}

int exposition_write(struct db *db, struct buf *out)
{
	int r = write_checks(db, out);
	for (size_t i = 0; r == 0 && i < sizeof(queries) / sizeof(queries[0]); i++)
		r = write_query(db, out, &queries[i]);
	return r;
}
