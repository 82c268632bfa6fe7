#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/promtext.h"
#include "core/util.h"
#include "delivery/outbox.h"
#include "monitor/canary.h"
#include "monitor/lifecycle.h"

#define PREFIX "whatsapp_monitor_canary_"

const char *canary_state_name(enum canary_state s)
{
	static const char *const names[] = {"off", "pending", "ok", "late"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- judging (pure) ---- */

/* One canary at now: ok, late, or pending (in flight). */
static enum canary_state judge_one(const struct canary_row *c, double now, long long deadline_s)
{
	double due = c->queued_at + (double)deadline_s;
	if (!isnan(c->receipt_at))
		return c->receipt_at <= due ? CANARY_OK : CANARY_LATE;
	return now > due ? CANARY_LATE : CANARY_PENDING;
}

enum canary_state canary_judge(const struct canary_row *rows, int n, double now,
                               long long interval_s, long long deadline_s, int *judged)
{
	*judged = -1;
	if (interval_s <= 0)
		return CANARY_OFF;
	if (n <= 0)
		return CANARY_PENDING;
	/* The series stopped: the next canary should have gone and come back by now. */
	if (now > rows[0].queued_at + (double)(interval_s + deadline_s + CANARY_TICK_GRACE_S))
		return CANARY_LATE;
	enum canary_state s = judge_one(&rows[0], now, deadline_s);
	if (s != CANARY_PENDING) {
		*judged = 0;
		return s;
	}
	/* In flight: the one before it speaks, if it is the previous one of this series. */
	if (n > 1 && rows[0].queued_at - rows[1].queued_at <=
	                 (double)(interval_s + deadline_s + CANARY_TICK_GRACE_S)) {
		s = judge_one(&rows[1], now, deadline_s);
		if (s != CANARY_PENDING)
			*judged = 1;
		return s;
	}
	return CANARY_PENDING;
}

int canary_due(const struct config *cfg, double now, double last_queued_at)
{
	if (cfg->canary_interval_s <= 0)
		return 0;
	return last_queued_at <= 0 || now - last_queued_at >= (double)cfg->canary_interval_s;
}

/* ---- reading ---- */

static double num_or_nan(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

/*
 * A canary's receipt time: its first delivered or read receipt (NULL: none), never before the
 * canary was queued. The provider's time is Meta's in whole seconds: a receipt within the second
 * the canary was queued could read as before it.
 */
#define RECEIPT                                                                                    \
	"(CASE WHEN delivered_at IS NOT NULL OR read_at IS NOT NULL"                               \
	" THEN greatest(created_at, least(delivered_at, read_at)) END)"

/* The newest canaries, newest first, into rows; how many (0..CANARY_JUDGED), or -1. */
static int read_newest(struct db *db, struct canary_row rows[CANARY_JUDGED])
{
	char lim[8];
	snprintf(lim, sizeof(lim), "%d", CANARY_JUDGED);
	const char *p[1] = {lim};
	PGresult *res = db_query_idem(db,
	                              "SELECT id, extract(epoch FROM created_at),"
	                              " extract(epoch FROM " RECEIPT ")"
	                              " FROM whatsapp_logs WHERE kind = 'canary'"
	                              " ORDER BY id DESC LIMIT $1::int",
	                              1, p);
	if (!res)
		return -1;
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		rows[i].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		rows[i].queued_at = strtod(PQgetvalue(res, i, 1), NULL);
		rows[i].receipt_at = num_or_nan(res, i, 2);
	}
	PQclear(res);
	return n;
}

/* The newest canary that has a receipt: its receipt time and round trip. 0 / -1. */
static int read_receipt(struct db *db, struct canary_status *st)
{
	PGresult *res = db_query_idem(db,
	                              "SELECT extract(epoch FROM " RECEIPT "),"
	                              " extract(epoch FROM " RECEIPT " - created_at)"
	                              " FROM whatsapp_logs WHERE kind = 'canary'"
	                              " AND (delivered_at IS NOT NULL OR read_at IS NOT NULL)"
	                              " ORDER BY id DESC LIMIT 1",
	                              0, NULL);
	if (!res)
		return -1;
	if (PQntuples(res) == 1) {
		st->last_receipt_at = strtod(PQgetvalue(res, 0, 0), NULL);
		st->round_trip_s = strtod(PQgetvalue(res, 0, 1), NULL);
	}
	PQclear(res);
	return 0;
}

int canary_status_read(struct db *db, const struct config *cfg, double now,
                       struct canary_status *st)
{
	memset(st, 0, sizeof(*st));
	st->state = CANARY_OFF;
	st->round_trip_s = NAN;
	st->interval_s = cfg->canary_interval_s;
	st->deadline_s = cfg->canary_deadline_s;
	if (cfg->canary_interval_s <= 0)
		return 0;
	struct canary_row rows[CANARY_JUDGED];
	int n = read_newest(db, rows);
	if (n < 0 || read_receipt(db, st) < 0)
		return -1;
	int judged;
	st->state = canary_judge(rows, n, now, st->interval_s, st->deadline_s, &judged);
	if (n > 0) {
		st->newest = rows[0];
		st->last_sent_at = rows[0].queued_at;
	}
	if (judged >= 0)
		st->judged_id = rows[judged].id;
	return 0;
}

/* ---- showing ---- */

static struct json_object *time_or_null(double t)
{
	if (t <= 0)
		return NULL;
	char s[32];
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(s);
}

struct json_object *canary_status_json(const struct canary_status *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(canary_state_name(st->state)));
	json_object_object_add(o, "interval_seconds", json_object_new_int64(st->interval_s));
	json_object_object_add(o, "deadline_seconds", json_object_new_int64(st->deadline_s));
	json_object_object_add(o, "last_sent_at", time_or_null(st->last_sent_at));
	json_object_object_add(o, "last_receipt_at", time_or_null(st->last_receipt_at));
	/* Whole milliseconds: json-c writes a double with all its digits. */
	json_object_object_add(o, "round_trip_seconds",
	                       isnan(st->round_trip_s)
	                           ? NULL
	                           : json_object_new_double(round(st->round_trip_s * 1000) / 1000));
	return o;
}

int canary_prom_write(struct buf *out, const struct canary_status *st)
{
	const struct {
		const char *name, *help;
		double value;
	} fams[] = {
	    {PREFIX "interval_seconds", "CANARY_INTERVAL: seconds between two canaries (0: off)",
	     (double)st->interval_s},
	    {PREFIX "deadline_seconds",
	     "CANARY_DEADLINE: seconds a canary's delivered receipt may take",
	     (double)st->deadline_s},
	    {PREFIX "last_sent_timestamp_seconds",
	     "When the newest canary was queued to go (0: none)", st->last_sent_at},
	    {PREFIX "last_receipt_timestamp_seconds",
	     "When the newest delivered (or read) receipt of a canary came (0: none)",
	     st->last_receipt_at},
	    {PREFIX "round_trip_seconds",
	     "From queued to delivered receipt, of the canary with the newest receipt",
	     st->round_trip_s},
	    {PREFIX "late",
	     "1 when the judged canary's receipt did not come within the deadline, or no canary "
	     "went for an interval and the deadline; else 0",
	     st->state == CANARY_LATE ? 1 : 0},
	};
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		if (st->state == CANARY_OFF && i > 1)
			break; /* off: only the settings, saying so */
		if (promtext_family(out, fams[i].name, PROMTEXT_GAUGE, fams[i].help) < 0)
			return -1;
		if (isnan(fams[i].value))
			continue; /* no round trip yet: a family without a sample */
		if (promtext_sample(out, fams[i].name, NULL, fams[i].value) < 0)
			return -1;
	}
	return 0;
}

/* ---- the tick's step ---- */

/* Queue the canary after newest (id 0: none). 1 queued, 0 another tick did, -1 error. */
static int send_canary(struct db *db, const struct config *cfg, time_t now,
                       const struct canary_row *newest)
{
	char when[32];
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	char *key = xasprintf("canary:after:%lld", newest->id);
	char *text = xasprintf("Canary %s: an end-to-end test of the WhatsApp alerts. No need to "
	                       "answer.",
	                       when);
	struct outbox_msg m = {
	    .phone = cfg->canary_phone,
	    .content = text,
	    .priority = "critical", /* it measures the path critical alerts take */
	    .kind = "canary",
	    .key = key,
	    .suppressible = 0, /* a pause must not stop the measurement */
	};
	int r = outbox_queue(db, &m);
	if (r == OUTBOX_QUEUED)
		log_info("canary_queued", "canary %s queued to CANARY_PHONE", key);
	free(key);
	free(text);
	return r < 0 ? -1 : r == OUTBOX_QUEUED;
}

/* Whether the canary's alert is open: 1, 0, or -1. */
static int alert_is_open(struct db *db)
{
	PGresult *res = db_query(db,
	                         "SELECT 1 FROM alerts WHERE status = 'open'"
	                         " AND rule = '" CANARY_SOURCE ":" CANARY_RULE "'",
	                         0, NULL);
	if (!res)
		return -1;
	int open = PQntuples(res) > 0;
	PQclear(res);
	return open;
}

/* Open (late) or resolve the alert in a transaction of its own. 0 / -1. */
static int change_alert(struct db *db, const struct config *cfg, time_t now,
                        const struct canary_status *st, int late)
{
	struct alert_round r = {0};
	struct notify_stats nst = {0};
	struct alert_ident id = {CANARY_SOURCE, CANARY_RULE, ""};
	char *text;
	int ret = -1;
	if (late)
		text = xasprintf("Canary late: no delivered receipt for the WhatsApp canary within "
		                 "%lld s (CANARY_DEADLINE). Alerts may not be reaching anyone.",
		                 st->deadline_s);
	else if (st->state == CANARY_OFF)
		text = xstrdup("Canary turned off (CANARY_INTERVAL 0)");
	else
		text = xasprintf("Canary delivered again (round trip %.0f s)", st->round_trip_s);
	if (db_begin(db) < 0 || alert_lock(db) < 0 ||
	    alert_round_begin(&r, db, cfg, CANARY_SOURCE, 0, 0, now) < 0)
		goto out;
	if (late) {
		struct alert_firing f = {
		    .id = id,
		    .severity = "critical",
		    .value = NAN,
		    .threshold = (double)st->deadline_s,
		    .text = text,
		};
		if (alert_round_firing(&r, &f) < 0)
			goto out;
	} else if (alert_round_resolved(&r, &id, text) < 0) {
		goto out;
	}
	if (alert_round_finish(&r, "WhatsApp canary", NULL, &nst) < 0 || db_commit(db) < 0)
		goto out;
	log_info(late ? "canary_alert_opened" : "canary_alert_resolved", "%s (%d message(s))", text,
	         nst.queued);
	ret = 0;
out:
	if (ret < 0)
		db_rollback(db);
	alert_round_release(&r);
	free(text);
	return ret;
}

int canary_tick(struct db *db, const struct config *cfg, time_t now, struct json_object *o)
{
	struct canary_status st;
	int sent = 0;
	if (canary_status_read(db, cfg, (double)now, &st) < 0)
		return -1;
	if (canary_due(cfg, (double)now, st.last_sent_at)) {
		if ((sent = send_canary(db, cfg, now, &st.newest)) < 0)
			return -1;
		/* Judged again with the new one in flight: the one before it speaks. */
		if (sent && canary_status_read(db, cfg, (double)now, &st) < 0)
			return -1;
	}
	json_object_object_add(o, "sent", json_object_new_boolean(sent));
	json_object_object_add(o, "state", json_object_new_string(canary_state_name(st.state)));
	const char *change = NULL;
	if (st.state == CANARY_LATE || st.state == CANARY_OK || st.state == CANARY_OFF) {
		int open = alert_is_open(db);
		if (open < 0)
			return -1;
		int late = st.state == CANARY_LATE;
		if (late != open) {
			if (change_alert(db, cfg, now, &st, late) < 0)
				return -1;
			change = late ? "opened" : "resolved";
		}
	}
	json_object_object_add(o, "alert", change ? json_object_new_string(change) : NULL);
	return 0;
}
