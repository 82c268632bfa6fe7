/*
 * sellercmd.h: what a seller answers on WhatsApp, from their tenant's verified number
 * (tenants.whatsapp_number with whatsapp_verified_at; never the pending one):
 *
 *   help                      the list
 *   status                    today so far in the tenant's zone: orders, payments confirmed,
 *                             alerts sent and read; what is muted or stopped
 *   mute <type|all> [dur]     no WhatsApp alert of that type (all: of any type) until then;
 *                             dur 30m, 2h, 1d... (default 1d, at most 30d)
 *   unmute [type|all]         end a mute (no argument, or all: every mute)
 *   stop                      no WhatsApp alerts until "start"
 *   start                     alerts go again
 * "mute" alone, in a reply to an alert, mutes that alert's type(s) for a day.
 *
 * The locked types (prefs.h: security.*, payment.failed, which cannot be switched off)
 * cannot be muted either: "mute security.login" is refused, and neither "mute all" nor
 * "stop" holds them back. An event muted or stopped is recorded with the outcome 'muted' or
 * 'stopped' (tenants/dispatch.h) and never sent later.
 *
 * Words are case-insensitive; a type is a name of alerttype.h. Parsing is pure and allocates
 * nothing; seller_command_answer runs in the caller's transaction and only ever reads or
 * changes the one tenant it is given.
 */
#ifndef SELLERCMD_H
#define SELLERCMD_H

#include "db/db.h"
#include "tenants/alerttype.h"

#define SELLER_MUTE_DEFAULT 86400LL    /* a mute without a duration: 1 day */
#define SELLER_MUTE_MAX (30LL * 86400) /* the longest mute: 30 days */

/*
 * The reply button under an alert of one type (tenants/dispatch.h; inside the 24-hour window
 * only): its id is SELLER_MUTE_BUTTON and the type, and tapping it is "mute <type>" (a day).
 */
#define SELLER_MUTE_BUTTON "MUTE:"
#define SELLER_MUTE_BUTTON_TITLE "Mute this type"

/*
 * The command a tapped button's id stands for ("mute order.placed" for "MUTE:order.placed"),
 * a new string; NULL for an id that is not SELLER_MUTE_BUTTON and a type name.
 */
char *seller_button_command(const char *payload);

enum seller_cmd_kind {
	SCMD_UNKNOWN,
	SCMD_HELP,
	SCMD_STATUS,
	SCMD_MUTE,
	SCMD_UNMUTE,
	SCMD_STOP,
	SCMD_START,
};

struct seller_command {
	enum seller_cmd_kind kind;
	const struct alert_type *type; /* MUTE, UNMUTE: the type; NULL with all, or bare */
	int all;                       /* MUTE, UNMUTE: every type */
	int bare;                      /* MUTE with no argument: the replied-to alert's type */
	long long secs;                /* MUTE: how long, >= 60 */
	char error[160];               /* when -1 is returned: a short answer for the seller */
};

/*
 * Understand text. 0 and c filled; or -1 with c->error (a sentence for the seller) and
 * c->kind the command whose word was known but whose argument was bad ("mute order.shiped",
 * "mute all 5x", "mute security.login", "stop now"), SCMD_UNKNOWN for anything else (NULL,
 * blank, another word).
 */
int seller_command_parse(const char *text, struct seller_command *c);

/* The list of commands (static text, phone-sized). */
const char *seller_command_help(void);

/*
 * The tenant whose verified number is phone (E.164): 1 with *tenant_id, 0 none, -1 (db->err).
 */
int seller_find_by_number(struct db *db, const char *phone, long long *tenant_id);

/*
 * Answer text from tenant_id's verified number: carry it out and *reply the answer (caller
 * frees; never NULL on 0). context_id: the message it replies to (Meta's context.id, Twilio's
 * OriginalRepliedMessageSid), or NULL. Inside the caller's transaction. 0, or -1 (db->err).
 */
int seller_command_answer(struct db *db, long long tenant_id, const char *text,
                          const char *context_id, char **reply);

#endif
