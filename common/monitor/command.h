/*
 * command.h: the commands people send to the service on WhatsApp.
 *
 *   status             open alerts and whether alerts are paused
 *   pause [duration]   hold alerts for 30s, 30m, 2h, 1d... (default 1h)
 *   resume             end a pause
 *   ack [id]           acknowledge alert id ("12" or "#12"), or every open alert
 *   help               the list of commands
 *
 * Words are case-insensitive; spaces, tabs and newlines around and between
 * them are ignored. Nothing here allocates memory.
 */
#ifndef COMMAND_H
#define COMMAND_H

/* A pause without a duration lasts this long (or max_pause_s when that is shorter). */
#define COMMAND_PAUSE_DEFAULT 3600LL
/* The longest pause when the caller gives no maximum (max_pause_s <= 0): 365 days. */
#define COMMAND_PAUSE_LIMIT (365LL * 86400)

enum command_kind { CMD_UNKNOWN, CMD_STATUS, CMD_PAUSE, CMD_RESUME, CMD_HELP, CMD_ACK };

struct command {
	enum command_kind kind;
	long long pause_s;  /* CMD_PAUSE: seconds, >= 1 */
	long long alert_id; /* CMD_ACK: the alert; 0: all open alerts */
	char error[128];    /* when -1 is returned: a short message for the sender */
};

/*
 * Understand text. 0 and c filled when it is a command. -1 otherwise, with
 * c->error set: kind is the command when its word is known but its argument
 * is bad ("pause 5x", "pause 0m", a pause over max_pause_s, "ack abc",
 * "status now"), CMD_UNKNOWN for anything else (error "unknown command"),
 * including NULL or blank text. max_pause_s <= 0 means COMMAND_PAUSE_LIMIT.
 */
int command_parse(const char *text, long long max_pause_s, struct command *c);

/*
 * Understand the payload of a quick-reply button tap: "ACK:<id>" (any case,
 * id a positive integer, as the sender puts on alert templates) is CMD_ACK
 * of that alert. 0, or -1 and c->error: kind CMD_ACK when the id is bad,
 * CMD_UNKNOWN for any other payload (or NULL).
 */
int command_parse_payload(const char *payload, struct command *c);

/* One short WhatsApp message listing the commands (static text). */
const char *command_help_text(void);

/*
 * Whether a command sent at sent (Unix seconds) is too old to obey at now:
 * sent more than max_age_s seconds before now (re-delivered days later, a
 * "pause 24h" must not pause now). A time ahead of now is not too old. 1 / 0.
 */
int command_too_old(long long sent, long long now, long long max_age_s);

#endif
