/*
 * inbound.h: a message someone sent us on WhatsApp, and the commands.
 *
 * Every inbound message is audited once (whatsapp_logs, direction inbound,
 * status 'received', key 'in:<message id>') and opens the sender's 24-hour
 * window (contacts). An SMS to our Twilio number (m->sms) is audited with
 * channel 'sms' and nothing more: it opens no WhatsApp window and is never
 * obeyed or answered. Commands are obeyed only from numbers in a configured
 * contact list (CRITICAL, WARNING, WEEKEND, ESCALATION). A message from a
 * tenant's verified number (tenants.whatsapp_number, verified; never a pending
 * one) that is no contact's is a seller's command (tenants/sellercmd.h: help,
 * status, mute, unmute, stop, start), answered to that number with the
 * tenant's id; a number that is both a contact and a tenant's gets the
 * operator's commands. Anything from another number is logged and ignored,
 * with no reply.
 *
 *   status            last check, open alerts (severity, age), pause, pending
 *   pause [duration]  suppress notifications until then (PAUSE_MAX_MINUTES)
 *   resume            end the pause; the contacts are told what still fires
 *                     and what was suppressed
 *   ack [id]          acknowledge alert id, or every open alert the sender
 *                     was told about; escalation stops; the others who were
 *                     told hear who acknowledged
 *   help              the commands
 * A reply to an alert message (context) that is not another command, or a
 * tap on its quick-reply button, acknowledges that message's alerts.
 * Replies go through the outbox (never suppressed: they answer a person).
 * A command older than COMMAND_MAX_AGE_SECONDS (a re-delivery days later,
 * an outage's backlog) is not obeyed: the sender is told to send it again.
 */
#ifndef INBOUND_H
#define INBOUND_H

#include "core/config.h"
#include "db/db.h"
#include "webhook/waevent.h"
#include "webhook/webhook_stats.h"

/*
 * Inside the caller's transaction. 0, or -1 (db->err). source: "meta",
 * "twilio". The message was sent at m->timestamp, or, when it has none
 * (Twilio sends none), at arrived: when the webhook received it. A command
 * sent more than COMMAND_MAX_AGE_SECONDS before now is audited like any
 * message and answered that it was not done, never obeyed (st->stale).
 */
int inbound_message(struct db *db, const struct config *cfg, const char *source,
                    const struct wa_message *m, long long arrived, struct webhook_stats *st);

/*
 * Announce a pause that expired and was not announced yet (cron drain and
 * tick). Its own transaction. 1 announced, 0 nothing to do, -1 (db->err).
 */
int inbound_announce_pause_end(struct db *db, const struct config *cfg);

#endif
