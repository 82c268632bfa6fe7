/*
 * dispatch.h: stored business events (tenants/eventstore.h) become WhatsApp messages to their
 * seller, a step of `cron tick` (jobs/tick.h), after the ingest has committed: POST /events
 * stays a short transaction on the hot path, and a tick that fails leaves the events for the
 * next one.
 *
 * Each event not looked at yet (events.outcome NULL, claimed FOR UPDATE SKIP LOCKED, so two
 * ticks never take the same one) is decided once, against its tenant and the seller's
 * preferences (tenants/prefs.h). A transaction takes up to 1,000 new events fairly across
 * tenants: the oldest 200 of each, then round robin by age, so a seller's flood never queues
 * in front of another seller's first event. Each event:
 *   - the tenant suspended, or without a verified WhatsApp number (tenants.whatsapp_number
 *     with whatsapp_verified_at; never the pending one): not sent, outcome says why;
 *   - the type switched off: not sent ('disabled');
 *   - the seller sent "stop" ('stopped'), or muted the type or all types until a time not
 *     yet passed ('muted'): not sent, then or later (tenants/sellercmd.h). Neither holds back
 *     a locked type (security.*, payment.failed). An event held for a digest is looked at
 *     again when its digest is due: its type switched off, muted or stopped by then, it is
 *     left out of it and records why ('disabled', 'muted', 'stopped');
 *   - in a digest (hourly or daily): held ('digest') until the end of its slot in the
 *     tenant's zone (tenants/quiet.h), digest_at;
 *   - immediate: an outbox message (delivery/submit.h) with the type's WhatsApp text and its
 *     own template and parameters (used outside the 24-hour window when SELLER_TEMPLATES is
 *     on: delivery/outbox.h), the
 *     priority of its urgency (urgent critical, normal warning, low info), the tenant's id and
 *     the key "event:<events.id>" (queued once, whatever is retried); a normal or low alert in
 *     the tenant's quiet hours has its not_before at their end, an urgent one goes at once.
 *     Coalesced: the immediate alerts of one seller decided in one transaction (up to
 *     200 events of that seller) with the same not_before go as
 *     one message listing them as a digest does ("3 alerts:", within 4096 bytes), with the
 *     priority of the most urgent, no template of its own (the generic one stands for
 *     several events) and the key "events:<first events.id>": one recipient takes
 *     about one message every 6 s, and a flood of events becomes few messages.
 * Then the digests that are due: per tenant, one message listing its held events
 * (tenants/digest.h, within the outbox's 4096 bytes), key "digest:<first events.id>", held by
 * quiet hours like a normal alert unless one of its events is urgent.
 * Every event sent records the message that carried it (events.message_id), in the same
 * transaction as the message is queued.
 * Each message carries its fallback chain (jobs/fallback.h): the seller's channels for the
 * type of its most urgent alert (prefs.h; by default urgent whatsapp,sms,email, normal
 * whatsapp,email, low none) after WhatsApp, within FALLBACK_AFTER_SECONDS (urgent) or
 * FALLBACK_NORMAL_AFTER_SECONDS; a digest the urgent chain when it holds an urgent event.
 *
 * Results: 0, or -1 (db->err; what was committed before stays done).
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <time.h>

#include "core/config.h"
#include "db/db.h"
#include "tenants/alerttype.h"

struct dispatch_stats {
	int sent;          /* events queued to be sent now (or when quiet hours end) */
	int messages;      /* the messages that carry them (several coalesced into one) */
	int held;          /* events held for a digest */
	int not_sent;      /* events not to be sent (switched off, suspended, no number) */
	int digests;       /* digest messages queued */
	int digest_events; /* events those carried */
	int drained;       /* DISPATCH_SEND: messages sent between transactions */
	int merged;        /* and rows those merged (delivery/coalesce.h) */
};

/*
 * Dispatch what is due at now: new events, then the digests due. With DISPATCH_SEND, after
 * each transaction of new events that queued messages the outbox is drained without waiting
 * for a recipient's pacing slot (outbox_drain, flags 0): a backlog of thousands of events
 * (many transactions) does not hold back the alerts decided in its first one.
 */
enum { DISPATCH_SEND = 1 };
int dispatch_run(struct db *db, const struct config *cfg, time_t now, int flags,
                 struct dispatch_stats *st);

/* The outbox priority of an urgency: "critical", "warning", "info". */
const char *dispatch_priority(enum alert_urgency u);

#endif
