#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#include "delivery/spool.h"
#include "delivery/submit.h"
#include "core/util.h"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct delivery_item *delivery_batch_add(struct delivery_batch *b, const struct outbox_msg *m)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	struct delivery_item *it = &b->v[b->n++];
	/* A struct copy first, so that fields this file does not know keep their value. */
	*it = (struct delivery_item){.msg = *m, .status = DELIVERY_PENDING};
	it->msg.phone = dup_or_null(m->phone);
	it->msg.content = dup_or_null(m->content);
	it->msg.priority = dup_or_null(m->priority);
	it->msg.kind = dup_or_null(m->kind);
	it->msg.key = dup_or_null(m->key);
	it->msg.channel = dup_or_null(m->channel);
	it->msg.fallback_chain = dup_or_null(m->fallback_chain);
	it->msg.reply_id = dup_or_null(m->reply_id);
	it->msg.reply_title = dup_or_null(m->reply_title);
	it->msg.template_name = dup_or_null(m->template_name);
	if (m->n_template_params) {
		char **params = xcalloc(m->n_template_params, sizeof(*params));
		for (size_t i = 0; i < m->n_template_params; i++)
			params[i] = dup_or_null(m->template_params[i]);
		it->msg.template_params = (const char *const *)params;
	} else {
		it->msg.template_params = NULL;
	}
	if (m->n_alert_ids) {
		long long *ids = xcalloc(m->n_alert_ids, sizeof(*ids));
		memcpy(ids, m->alert_ids, m->n_alert_ids * sizeof(*ids));
		it->msg.alert_ids = ids;
	} else {
		it->msg.alert_ids = NULL;
	}
	return it;
}

void delivery_batch_release(struct delivery_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct outbox_msg *m = &b->v[i].msg;
		free((char *)m->phone);
		free((char *)m->content);
		free((char *)m->priority);
		free((char *)m->kind);
		free((char *)m->key);
		free((char *)m->channel);
		free((char *)m->fallback_chain);
		free((char *)m->reply_id);
		free((char *)m->reply_title);
		free((char *)m->template_name);
		for (size_t k = 0; k < m->n_template_params; k++)
			free((char *)m->template_params[k]);
		free((char **)m->template_params);
		free((long long *)m->alert_ids);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Queue every message in the open transaction, counting by status. 0 / -1 (db->err). */
static int queue_all(struct db *db, struct delivery_batch *b, struct delivery_result *r)
{
	for (size_t i = 0; i < b->n; i++) {
		int q = outbox_queue(db, &b->v[i].msg);
		if (q < 0)
			return -1;
		if (q == OUTBOX_QUEUED) {
			b->v[i].status = DELIVERY_QUEUED;
			r->queued++;
		} else if (q == OUTBOX_SUPPRESSED) {
			b->v[i].status = DELIVERY_SUPPRESSED;
			r->suppressed++;
		} else {
			b->v[i].status = DELIVERY_DUPLICATE;
			r->duplicate++;
		}
	}
	return 0;
}

/*
 * The state database is down: write the batch ahead to the spool and send what is due, each
 * message on its channel (spool.h).
 */
static void spool_all(const struct config *cfg, struct delivery_batch *b, struct delivery_result *r)
{
	struct spool_msg *sm = xcalloc(b->n ? b->n : 1, sizeof(*sm));
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < b->n; i++) {
		const struct outbox_msg *m = &b->v[i].msg;
		sm[i] = (struct spool_msg){
		    .key = m->key,
		    .phone = m->phone,
		    .content = m->content,
		    .priority = m->priority,
		    .kind = m->kind,
		    .alert_ids = m->alert_ids,
		    .n_alert_ids = m->n_alert_ids,
		    .emergency = m->emergency,
		    .not_before = m->not_before,
		    .channel = m->channel,
		    .account_id = m->account_id,
		    .tenant_id = m->tenant_id,
		    .fallback_chain = m->fallback_chain,
		    .fallback_after_s = m->fallback_after_s,
		    .follows_id = m->follows_id,
		    .reply_id = m->reply_id,
		    .reply_title = m->reply_title,
		};
		b->v[i].status = DELIVERY_SPOOLED;
	}
	r->spooled = 1;
	r->sent_while_down = spool_send(cfg, sm, b->n, &r->spool_written);
	free(sm);
}

static void forget_statuses(struct delivery_batch *b, struct delivery_result *r)
{
	for (size_t i = 0; i < b->n; i++)
		b->v[i].status = DELIVERY_PENDING;
	memset(r, 0, sizeof(*r));
}

static int connection_lost(const struct db *db)
{
	return !db->conn || PQstatus(db->conn) != CONNECTION_OK;
}

/* Every message of b may be queued (outbox_msg_check); -1 (db->err when db, else logged). */
static int check_all(struct db *db, const struct delivery_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const char *why;
		const struct outbox_msg *m = &b->v[i].msg;
		if (outbox_msg_check(m, &why) == 0)
			continue;
		if (db) {
			snprintf(db->err, sizeof(db->err), "message %s refused: its address %s",
			         m->key ? m->key : "(no key)", why);
			db->sqlstate[0] = '\0';
		} else {
			log_error("message_refused", "message %s refused: its address %s",
			          m->key ? m->key : "(no key)", why);
		}
		return -1;
	}
	return 0;
}

int delivery_submit(struct db *db, const struct config *cfg, struct delivery_batch *b,
                    struct delivery_result *r)
{
	memset(r, 0, sizeof(*r));
	if (check_all(db, b) < 0)
		return -1;
	if (!db) {
		spool_all(cfg, b, r);
		return 0;
	}
	if (db->in_tx) {
		if (queue_all(db, b, r) == 0)
			return 0;
		forget_statuses(b, r);
		return -1;
	}
	if (db_begin(db) == 0 && queue_all(db, b, r) == 0 && db_commit(db) == 0)
		return 0;
	db_rollback(db);
	if (connection_lost(db)) {
		spool_all(cfg, b, r);
		return 0;
	}
	forget_statuses(b, r);
	return -1;
}
