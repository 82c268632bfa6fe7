#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/escalate.h"
#include "monitor/lifecycle.h"
#include "core/log.h"
#include "monitor/notify.h"
#include "monitor/route.h"
#include "core/util.h"

/* Drop from n->to the numbers that are in l. */
static void remove_numbers(struct notice *n, const struct phone_list *l)
{
	int k = 0;
	for (int i = 0; i < n->to.n; i++)
		if (!phone_list_has(l, n->to.num[i]))
			memmove(n->to.num[k++], n->to.num[i], PHONE_MAX);
	n->to.n = k;
}

static int escalations(struct db *db, const struct config *cfg, time_t now, struct notices *ns,
                       struct escalate_stats *st)
{
	/*
	 * Due by the timer, or never delivered: a message about it to an operator failed for good
	 * or went without a receipt past its deadline (the fallback step marked it), and none
	 * about it was delivered or read since.
	 */
	PGresult *res = db_query(
	    db,
	    "SELECT a.id, a.message, extract(epoch FROM now() - a.opened_at)::bigint,"
	    " a.escalate_at > now()"
	    " FROM alerts a WHERE a.status = 'open' AND a.severity = 'critical'"
	    " AND a.acknowledged_at IS NULL AND a.escalation_level = 0"
	    " AND (a.escalate_at <= now() OR (EXISTS (SELECT 1 FROM whatsapp_logs w"
	    "     WHERE w.alert_ids @> ARRAY[a.id] AND w.tenant_id IS NULL"
	    "     AND w.direction = 'outbound' AND w.fallback_state IS NOT NULL)"
	    "   AND NOT EXISTS (SELECT 1 FROM whatsapp_logs w WHERE w.alert_ids @> ARRAY[a.id]"
	    "     AND w.tenant_id IS NULL AND w.direction = 'outbound'"
	    "     AND w.status IN ('delivered', 'read'))))"
	    " ORDER BY a.id FOR UPDATE OF a",
	    0, NULL);
	if (!res)
		return -1;
	int ret = 0;
	for (int i = 0; i < PQntuples(res) && ret == 0; i++) {
		const char *id = PQgetvalue(res, i, 0);
		long long aid = strtoll(id, NULL, 10);
		char age[32];
		notify_format_duration(age, sizeof(age), strtoll(PQgetvalue(res, i, 2), NULL, 10));
		/* The first tier (those told so far) is reminded; the next tier is told. */
		struct notice *r = notices_add(
		    ns, aid, "critical", NOTICE_REMINDER,
		    xasprintf("REMINDER, not acknowledged for %s (escalated): CRITICAL %s", age,
		              PQgetvalue(res, i, 1)));
		r->step = 1;
		ret = notify_told(db, cfg, r, now);
		remove_numbers(r, &cfg->escalation);
		int undelivered = strcmp(PQgetvalue(res, i, 3), "t") == 0;
		if (ret == 0 && cfg->escalation.n) {
			struct notice *e = notices_add(
			    ns, aid, "critical", NOTICE_ESCALATION,
			    undelivered
			        ? xasprintf(
			              "ESCALATED, not delivered to the first tier (open for %s):"
			              " CRITICAL %s",
			              age, PQgetvalue(res, i, 1))
			        : xasprintf("ESCALATED, not acknowledged for %s: CRITICAL %s", age,
			                    PQgetvalue(res, i, 1)));
			e->step = 1;
			e->to = cfg->escalation;
			e->not_before = now;
		}
		if (ret == 0)
			ret = alert_mark_escalated(db, aid);
		if (ret == 0) {
			st->escalated++;
			log_info("alert_escalated",
			         "alert %s escalated after %s%s (%d next-tier numbers)", id, age,
			         undelivered ? ", never delivered" : "", cfg->escalation.n);
		}
	}
	PQclear(res);
	return ret;
}

static int repeats(struct db *db, const struct config *cfg, time_t now, struct notices *ns,
                   size_t n_escalated, struct escalate_stats *st)
{
	PGresult *res = db_query(db,
	                         "SELECT id, severity, message,"
	                         " extract(epoch FROM now() - opened_at)::bigint, repeats"
	                         " FROM alerts WHERE status = 'open' AND acknowledged_at IS NULL"
	                         " AND repeat_at <= now() ORDER BY id FOR UPDATE",
	                         0, NULL);
	if (!res)
		return -1;
	int in_hours = route_in_business_hours(cfg, now);
	int ret = 0;
	for (int i = 0; i < PQntuples(res) && ret == 0; i++) {
		const char *id = PQgetvalue(res, i, 0), *sev = PQgetvalue(res, i, 1);
		long long aid = strtoll(id, NULL, 10);
		int critical = strcmp(sev, "critical") == 0;
		int just_escalated = 0;
		for (size_t k = 0; k < n_escalated; k++)
			just_escalated |= ns->v[k].alert_id == aid;
		/* A warning waits for business hours; the interval counts from their start. */
		if (!critical && !in_hours) {
			ret = alert_defer_repeat(db, aid, route_next_business_start(cfg, now),
			                         cfg->repeat_minutes);
			continue;
		}
		ret = alert_count_repeat(db, aid, cfg->repeat_minutes);
		if (ret < 0 || just_escalated) /* the reminder just went */
			continue;
		char age[32];
		notify_format_duration(age, sizeof(age), strtoll(PQgetvalue(res, i, 3), NULL, 10));
		struct notice *n = notices_add(ns, aid, sev, NOTICE_REPEAT,
		                               xasprintf("STILL OPEN after %s: %s %s", age,
		                                         critical ? "CRITICAL" : "WARNING",
		                                         PQgetvalue(res, i, 2)));
		n->step = (int)strtol(PQgetvalue(res, i, 4), NULL, 10) + 1;
		ret = notify_told(db, cfg, n, now);
		if (ret == 0)
			ret = alert_record(db, aid, "repeat", sev);
		if (ret == 0)
			st->repeated++;
	}
	PQclear(res);
	return ret;
}

int escalate_run(struct db *db, const struct config *cfg, struct escalate_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cfg->escalation_minutes <= 0 && cfg->repeat_minutes <= 0)
		return 0;
	time_t now = time(NULL);
	struct notices ns = {0};
	if (db_begin(db) < 0)
		return -1;
	int ret = alert_lock(db);
	if (ret == 0 && cfg->escalation_minutes > 0)
		ret = escalations(db, cfg, now, &ns, st);
	size_t n_escalated = ns.n;
	if (ret == 0 && cfg->repeat_minutes > 0)
		ret = repeats(db, cfg, now, &ns, n_escalated, st);
	struct notify_stats nst = {0};
	if (ret == 0 && ns.n)
		ret = notify_queue(db, cfg, "Monitoring", NULL, 0, 0, &ns, now, &nst);
	if (ret == 0)
		ret = db_commit(db);
	if (ret < 0)
		db_rollback(db);
	notices_release(&ns);
	st->queued = nst.queued;
	st->suppressed = nst.suppressed;
	return ret;
}
