#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "monitor/notify.h"
#include "delivery/outbox.h"
#include "monitor/route.h"
#include "core/util.h"

static const char *const kind_names[] = {
    [NOTICE_ALERT] = "alert",           [NOTICE_RECOVERY] = "recovery",
    [NOTICE_ESCALATION] = "escalation", [NOTICE_REMINDER] = "reminder",
    [NOTICE_REPEAT] = "repeat",
};

const char *notice_kind_name(enum notice_kind k)
{
	return kind_names[k];
}

struct notice *notices_add(struct notices *ns, long long alert_id, const char *severity,
                           enum notice_kind kind, char *line)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 16;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	struct notice *n = &ns->v[ns->n++];
	memset(n, 0, sizeof(*n));
	n->alert_id = alert_id;
	snprintf(n->severity, sizeof(n->severity), "%s", severity);
	n->kind = kind;
	n->line = line;
	return n;
}

void notices_release(struct notices *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i].line);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

void notify_route(const struct config *cfg, struct notice *n, int emergency, time_t now)
{
	struct route r;
	route_decide(cfg, n->severity, emergency, now, &r);
	n->to = *r.to;
	n->not_before = r.not_before;
}

int notify_told(struct db *db, const struct config *cfg, struct notice *n, time_t now)
{
	char id[24];
	snprintf(id, sizeof(id), "%lld", n->alert_id);
	const char *p[1] = {id};
	PGresult *res = db_query(db,
	                         "SELECT DISTINCT phone_number FROM whatsapp_logs"
	                         " WHERE alert_ids @> ARRAY[$1::bigint]"
	                         " AND direction = 'outbound' AND status <> 'suppressed'"
	                         " AND kind IN ('alert', 'escalation', 'reminder', 'repeat')"
	                         " ORDER BY 1",
	                         1, p);
	if (!res)
		return -1;
	n->to.n = 0;
	for (int i = 0; i < PQntuples(res); i++)
		phone_list_add(&n->to, PQgetvalue(res, i, 0));
	PQclear(res);
	n->not_before = now;
	if (strcmp(n->severity, "critical") != 0 && !route_in_business_hours(cfg, now))
		n->not_before = route_next_business_start(cfg, now);
	return 0;
}

int notify_paused(struct db *db)
{
	PGresult *res =
	    db_query(db, "SELECT paused_until > now() FROM pause_state WHERE id = 1", 0, NULL);
	if (!res)
		return -1;
	int paused = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return paused;
}

void notify_format_duration(char *out, size_t len, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, len, "%llds", s);
	else if (s < 3600)
		snprintf(out, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

static int notice_goes_to(const struct notice *n, const char *phone, time_t nb)
{
	return n->not_before == nb && phone_list_has(&n->to, phone);
}

struct group {
	char phone[PHONE_MAX];
	time_t nb;
};

static int queue_group(const char *title, const char *key_prefix, long long run_id, int emergency,
                       const struct notices *ns, const struct group *g, time_t now,
                       notify_sink sink, void *arg)
{
	struct buf msg = BUF_INIT(OUTBOX_MAX_CONTENT - 200);
	long long *ids = xcalloc(ns->n, sizeof(long long));
	size_t nids = 0, left = 0;
	int crit = 0, warn = 0, res = 0;
	const struct notice *first = NULL, *first_news = NULL;
	for (size_t i = 0; i < ns->n; i++) {
		const struct notice *n = &ns->v[i];
		if (!notice_goes_to(n, g->phone, g->nb))
			continue;
		if (!first)
			first = n;
		ids[nids++] = n->alert_id;
		if (n->kind == NOTICE_RECOVERY) {
			res++;
			continue;
		}
		if (!first_news)
			first_news = n;
		if (strcmp(n->severity, "critical") == 0)
			crit++;
		else
			warn++;
	}
	buf_printf(&msg, "%s%s: ", emergency ? "EMERGENCY CHECK. " : "", title);
	const char *sep = "";
	if (crit) {
		buf_printf(&msg, "%d critical", crit);
		sep = ", ";
	}
	if (warn) {
		buf_printf(&msg, "%s%d warning", sep, warn);
		sep = ", ";
	}
	if (res)
		buf_printf(&msg, "%s%d resolved", sep, res);
	buf_puts(&msg, "\n");
	for (size_t i = 0; i < ns->n; i++) {
		const struct notice *n = &ns->v[i];
		if (!notice_goes_to(n, g->phone, g->nb))
			continue;
		char *line = n->alert_id ? xasprintf("%s [#%lld]\n", n->line, n->alert_id)
		                         : xasprintf("%s\n", n->line);
		if (left || buf_puts(&msg, line) < 0)
			left++;
		free(line);
	}
	if (left)
		buf_printf(&msg, "... and %zu more (GET /monitoring/alerts)\n", left);
	if ((crit || warn) && first_news->alert_id) {
		if (crit + warn == 1)
			buf_printf(&msg, "Reply \"ack %lld\" to acknowledge.",
			           first_news->alert_id);
		else
			buf_puts(&msg, "Reply \"ack\" to acknowledge them all.");
	}
	const char *held = g->nb == now ? "" : ":held";
	char *key = key_prefix ? xasprintf("%s:%s%s", key_prefix, g->phone, held)
	                       : xasprintf("%s:%lld:%d:%s%s", notice_kind_name(first->kind),
	                                   first->alert_id, first->step, g->phone, held);
	struct outbox_msg m = {
	    .phone = g->phone,
	    .content = buf_str(&msg),
	    .priority = crit   ? "critical"
	                : warn ? "warning"
	                       : "info",
	    .kind = notice_kind_name(first_news ? first_news->kind : NOTICE_RECOVERY),
	    .key = key,
	    .alert_ids = ids,
	    .n_alert_ids = nids,
	    .check_run_id = run_id,
	    .emergency = emergency,
	    .suppressible = !emergency,
	    .not_before = g->nb == now ? 0 : g->nb,
	};
	int r = sink(arg, &m);
	free(key);
	free(ids);
	buf_release(&msg);
	return r;
}

struct queue_arg {
	struct db *db;
	struct notify_stats *st;
};

static int queue_sink(void *arg, const struct outbox_msg *m)
{
	struct queue_arg *qa = arg;
	int r = outbox_queue(qa->db, m);
	if (r == OUTBOX_QUEUED)
		qa->st->queued++;
	else if (r == OUTBOX_SUPPRESSED)
		qa->st->suppressed++;
	return r < 0 ? -1 : 0;
}

int notify_queue(struct db *db, const char *title, const char *key_prefix, long long run_id,
                 int emergency, struct notices *ns, time_t now, struct notify_stats *st)
{
	struct queue_arg qa = {db, st};
	return notify_deliver(title, key_prefix, run_id, emergency, ns, now, queue_sink, &qa);
}

int notify_deliver(const char *title, const char *key_prefix, long long run_id, int emergency,
                   struct notices *ns, time_t now, notify_sink sink, void *arg)
{
	struct group *groups = NULL;
	size_t ng = 0, cap = 0;
	int ret = 0;
	for (size_t i = 0; i < ns->n; i++) {
		const struct notice *n = &ns->v[i];
		for (int j = 0; j < n->to.n; j++) {
			int dup = 0;
			for (size_t k = 0; k < ng && !dup; k++)
				dup = strcmp(groups[k].phone, n->to.num[j]) == 0 &&
				      groups[k].nb == n->not_before;
			if (dup)
				continue;
			if (ng == cap) {
				cap = cap ? cap * 2 : 8;
				groups = xrealloc(groups, cap * sizeof(*groups));
			}
			memcpy(groups[ng].phone, n->to.num[j], PHONE_MAX);
			groups[ng++].nb = n->not_before;
		}
	}
	for (size_t k = 0; k < ng && ret == 0; k++)
		ret = queue_group(title, key_prefix, run_id, emergency, ns, &groups[k], now, sink,
		                  arg);
	free(groups);
	return ret;
}
