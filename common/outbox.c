#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "outbox.h"
#include "util.h"

int outbox_queue(struct db *db, const struct outbox_msg *m)
{
	struct buf ids = BUF_INIT(1 << 20);
	char run[24];
	buf_puts(&ids, "{");
	for (size_t i = 0; i < m->n_alert_ids; i++)
		buf_printf(&ids, "%s%lld", i ? "," : "", m->alert_ids[i]);
	buf_puts(&ids, "}");
	snprintf(run, sizeof(run), "%lld", m->check_run_id);
	const char *p[8] = {m->phone,
	                    m->content,
	                    m->priority,
	                    m->kind,
	                    m->key,
	                    buf_str(&ids),
	                    m->check_run_id ? run : NULL,
	                    m->emergency ? "t" : "f"};
	PGresult *res =
	    db_query(db,
	             "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind,"
	             " idempotency_key, alert_ids, check_run_id, emergency)"
	             " VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::bigint, $8::boolean)"
	             " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
	             8, p);
	buf_release(&ids);
	if (!res)
		return -1;
	int queued = PQntuples(res) == 1;
	PQclear(res);
	return queued;
}
