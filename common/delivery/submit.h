/*
 * submit.h: the one way a producer sends. A producer (a check, a test alert,
 * an escalation, a report, tomorrow an Alertmanager receiver or a business
 * event) fills a delivery_batch with outbox messages and submits it; each is
 * queued in the outbox (outbox.h) or, when the state database is down,
 * spooled and sent at once (spool.h). Producers never see the spool.
 *
 * Who owns the transaction:
 *   - db->in_tx (the caller began one, and made its decision in it): the
 *     messages are queued in that transaction, which the caller commits or
 *     rolls back. Any failure is -1 (db->err); the transaction is then
 *     useless and the caller rolls it back. A caller whose decision is lost
 *     with the database (the check) may then submit a batch of its own to
 *     say what it can without it: db NULL, below.
 *   - otherwise: delivery_submit() begins a transaction (reconnecting if the
 *     connection broke, db.h), queues, commits. If that fails because the
 *     connection is gone (PQstatus not CONNECTION_OK), it rolls back and
 *     spools the whole batch instead; any other failure is -1 (db->err), rolled back.
 *   - db NULL: the caller knows the state database is down (it just failed):
 *     the batch is spooled and sent without trying it again.
 * Before any of that, every message is checked (outbox_msg_check): one that
 * is refused (an email address with a CR or LF, an unknown channel) refuses
 * the batch: -1 with nothing queued or spooled (db->err says why; with db
 * NULL it is logged). A spooled message, on any channel, keeps its key,
 * channel, address, content, priority, kind, alert ids, emergency, not_before
 * (a pause is unknown without the database: it goes anyway), account, tenant,
 * fallback chain and its deadline, follows_id and reply button (spool.h); it is
 * sent on its channel when this process can send on it; a key already in the
 * spool is neither spooled nor sent again.
 *
 * The batch owns copies of its messages' strings and alert ids: a producer's
 * buffers may go as soon as delivery_batch_add() returns. (A pointer field
 * added to struct outbox_msg must be copied in delivery_batch_add too.)
 */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <stddef.h>

#include "core/config.h"
#include "db/db.h"
#include "delivery/outbox.h"

/* What became of one message of a batch. */
enum delivery_status {
	DELIVERY_PENDING = 0, /* not submitted, or its submission failed */
	DELIVERY_QUEUED,      /* a new outbox row */
	DELIVERY_DUPLICATE,   /* already queued under its key: nothing new */
	DELIVERY_SUPPRESSED,  /* recorded, not to be sent: a pause is in force */
	DELIVERY_SPOOLED,     /* the state database is down: spooled (and sent if due) */
};

struct delivery_item {
	struct outbox_msg msg; /* its strings and alert ids owned by the batch */
	enum delivery_status status;
};

struct delivery_batch {
	struct delivery_item *v;
	size_t n, cap;
};

#define DELIVERY_BATCH_INIT                                                                        \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends a copy of m (status DELIVERY_PENDING); returns the copy. */
struct delivery_item *delivery_batch_add(struct delivery_batch *b, const struct outbox_msg *m);
/* Frees what the batch holds and empties it (reusable). */
void delivery_batch_release(struct delivery_batch *b);

struct delivery_result {
	int queued, duplicate, suppressed; /* messages of the batch, by status */
	int spooled;         /* 1: the state database was down, the batch went to the spool */
	int spool_written;   /* with spooled: the spool file could be written */
	int sent_while_down; /* with spooled: how many the spool sent at once */
};

/*
 * Submit every message of b (see the top of this file for the transaction and
 * the spool). Fills each item's status and *r (zeroed first). 0, or -1
 * (db->err) with nothing spooled.
 */
int delivery_submit(struct db *db, const struct config *cfg, struct delivery_batch *b,
                    struct delivery_result *r);

#endif
