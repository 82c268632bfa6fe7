/*
 * coalesce.h: one recipient's waiting seller alerts go as one message (issue 17).
 *
 * WhatsApp takes about one message every RECIPIENT_MIN_INTERVAL per recipient. Alerts queued
 * by separate dispatch ticks (tenants/dispatch.h), or held by quiet hours and released
 * together, wait for that slot as separate rows; when the drain claims one of them, the
 * carrier, it merges into it every other row that may go with it:
 *   - same account, tenant, channel (whatsapp) and recipient;
 *   - a seller's alert or digest (kind 'seller_alert' or 'seller_digest'), never an operator
 *     message, a code or a reply;
 *   - queued and due now (not_before and next_attempt_at passed), not held by another drainer;
 *   - going as text: a row queued again as a template (outside the 24-hour window) is left
 *     alone, and the carrier merges only when it goes as text itself (the window is open, or
 *     it has no template to send instead, its own or the account's: coalesce_may_carry);
 *   - outside the window, with SELLER_TEMPLATES on and a provider that takes template names,
 *     a row with a template of its own (one event, migration 021) is left alone too: it goes
 *     as that template, not as a line of a text that may be refused.
 * The carrier's text becomes the list of all their alerts in the house format
 * (core/alertlines.h: "5 alerts:" ..., within max bytes, OUTBOX_MAX_CONTENT for the drain,
 * "+N more" for what does not fit), the carrier's lines first, then the others' (critical first,
 * then oldest), and its priority the most urgent of them; it loses its own template, if it had
 * one (it carries several events now: the generic template stands for them). The merged rows are
 * closed as 'merged' with merged_into the carrier (migration 020), and the events that pointed at
 * them (events.message_id) point at the carrier (migration 020's trigger). The carrier keeps its
 * reply button ("Mute this type") only when every row merged has the same one: a list of
 * several types has none. Nothing is delayed to wait for more. Inside the claim's transaction: the
 * merge commits or rolls back with the claim.
 */
#ifndef COALESCE_H
#define COALESCE_H

#include "db/db.h"
#include "delivery/account.h"

/* Rows merged into one carrier at most (each at most OUTBOX_MAX_CONTENT bytes of text). */
#define COALESCE_MAX_ROWS 500

/* A claimed row, as the claim knows it. */
struct coalesce_row {
	long long id, tenant_id; /* tenant_id 0: none */
	const char *phone, *kind, *channel;
	int as_template, in_window;
	const char *reply_id;      /* its reply button (outbox.h), or NULL */
	const char *template_name; /* its own template (outbox.h), or NULL */
};

/* 1 when r may carry others (the rules above), else 0. */
int coalesce_may_carry(const struct account *a, const struct coalesce_row *r);

/*
 * Merge into carrier r (of account a) the rows that may go with it. *content and *priority
 * are its text and priority: replaced (freed, new strings) when something was merged;
 * *keep_button 1 when its reply button still stands for all (else it was cleared).
 * Returns how many rows were merged (0: none), or -1 (db->err).
 */
int coalesce_merge(struct db *db, const struct account *a, const struct coalesce_row *r, size_t max,
                   char **content, char **priority, int *keep_button);

#endif
