#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/chain.h"
#include "monitor/notify.h"
#include "delivery/submit.h"
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

/* What one recipient's message (a group) holds: counts, first notices, alert ids. */
struct tally {
	int crit, warn, res;
	const struct notice *first, *first_news; /* first of all; first that is not a recovery */
	long long *ids;                          /* caller frees */
	size_t nids;
};

static void tally_group(const struct notices *ns, const struct group *g, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->ids = xcalloc(ns->n + 1, sizeof(long long));
	for (size_t i = 0; i < ns->n; i++) {
		const struct notice *n = &ns->v[i];
		if (!notice_goes_to(n, g->phone, g->nb))
			continue;
		if (!t->first)
			t->first = n;
		if (n->alert_id) /* 0: news without an alert (the state database is down) */
			t->ids[t->nids++] = n->alert_id;
		if (n->kind == NOTICE_RECOVERY) {
			t->res++;
			continue;
		}
		if (!t->first_news)
			t->first_news = n;
		if (strcmp(n->severity, "critical") == 0)
			t->crit++;
		else
			t->warn++;
	}
}

/*
 * "title: 1 critical, 2 warning, 1 resolved", a line per notice (those past
 * the message's size counted in "... and N more"), then how to acknowledge.
 */
static void write_group(struct buf *msg, const char *title, int emergency, const struct notices *ns,
                        const struct group *g, const struct tally *t)
{
	size_t left = 0;
	buf_printf(msg, "%s%s: ", emergency ? "EMERGENCY CHECK. " : "", title);
	const char *sep = "";
	if (t->crit) {
		buf_printf(msg, "%d critical", t->crit);
		sep = ", ";
	}
	if (t->warn) {
		buf_printf(msg, "%s%d warning", sep, t->warn);
		sep = ", ";
	}
	if (t->res)
		buf_printf(msg, "%s%d resolved", sep, t->res);
	buf_puts(msg, "\n");
	for (size_t i = 0; i < ns->n; i++) {
		const struct notice *n = &ns->v[i];
		if (!notice_goes_to(n, g->phone, g->nb))
			continue;
		char *line = n->alert_id ? xasprintf("%s [#%lld]\n", n->line, n->alert_id)
		                         : xasprintf("%s\n", n->line);
		if (left || buf_puts(msg, line) < 0)
			left++;
		free(line);
	}
	if (left)
		buf_printf(msg, "... and %zu more (GET /monitoring/alerts)\n", left);
	if ((t->crit || t->warn) && t->first_news->alert_id) {
		if (t->crit + t->warn == 1)
			buf_printf(msg, "Reply \"ack %lld\" to acknowledge.",
			           t->first_news->alert_id);
		else
			buf_puts(msg, "Reply \"ack\" to acknowledge them all.");
	}
}

static void queue_group(const char *title, const char *key_prefix, long long run_id, int emergency,
                        const struct notices *ns, const struct group *g, time_t now,
                        struct delivery_batch *b)
{
	struct buf msg = BUF_INIT(OUTBOX_MAX_CONTENT - 200);
	struct tally t;
	tally_group(ns, g, &t);
	write_group(&msg, title, emergency, ns, g, &t);
	const char *held = g->nb == now ? "" : ":held";
	char *key = key_prefix ? xasprintf("%s:%s%s", key_prefix, g->phone, held)
	                       : xasprintf("%s:%lld:%d:%s%s", notice_kind_name(t.first->kind),
	                                   t.first->alert_id, t.first->step, g->phone, held);
	struct outbox_msg m = {
	    .phone = g->phone,
	    .content = buf_str(&msg),
	    .priority = t.crit   ? "critical"
	                : t.warn ? "warning"
	                         : "info",
	    .kind = notice_kind_name(t.first_news ? t.first_news->kind : NOTICE_RECOVERY),
	    .key = key,
	    .alert_ids = t.ids,
	    .n_alert_ids = t.nids,
	    .check_run_id = run_id,
	    .emergency = emergency,
	    .suppressible = !emergency,
	    .not_before = g->nb == now ? 0 : g->nb,
	};
	delivery_batch_add(b, &m);
	free(key);
	free(t.ids);
	buf_release(&msg);
}

int notify_queue(struct db *db, const struct config *cfg, const char *title, const char *key_prefix,
                 long long run_id, int emergency, struct notices *ns, time_t now,
                 struct notify_stats *st)
{
	struct delivery_batch b = DELIVERY_BATCH_INIT;
	struct delivery_result r;
	notify_batch(title, key_prefix, run_id, emergency, ns, now, &b);
	notify_batch_chain(cfg, &b);
	int ret = delivery_submit(db, cfg, &b, &r);
	delivery_batch_release(&b);
	if (ret < 0)
		return -1;
	st->queued += r.queued;
	st->suppressed += r.suppressed;
	return 0;
}

void notify_batch_chain(const struct config *cfg, struct delivery_batch *b)
{
	char *rest = chain_pg_rest(&cfg->critical_chain, 1);
	for (size_t i = 0; i < b->n; i++) {
		struct outbox_msg *m = &b->v[i].msg;
		if (!m->priority || strcmp(m->priority, "critical") != 0 || m->fallback_chain)
			continue;
		m->fallback_chain = xstrdup(rest);
		m->fallback_after_s = cfg->fallback_after_s;
	}
	free(rest);
}

void notify_batch(const char *title, const char *key_prefix, long long run_id, int emergency,
                  const struct notices *ns, time_t now, struct delivery_batch *b)
{
	struct group *groups = NULL;
	size_t ng = 0, cap = 0;
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
	for (size_t k = 0; k < ng; k++)
		queue_group(title, key_prefix, run_id, emergency, ns, &groups[k], now, b);
	free(groups);
}
