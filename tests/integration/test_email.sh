#!/usr/bin/env bash
# The email channel against a real SMTP server on loopback (tests/mock/smtp_server.py: Debian's
# aiosmtpd, run with /usr/bin/python3, writing what it accepts into a Maildir and every command
# it answers into a JSON log): what arrives, with which headers, what whatsapp_logs records, and
# that nothing ever goes in clear or grows a header it should not have.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# shellcheck source=tests/integration/smtp.sh
. "$(dirname "${BASH_SOURCE[0]}")/smtp.sh"
smtp_check_installed || exit 1

harness_start
smtp_setup
SMTP_USER=alerts-user
SMTP_PASS=$(random_hex 12)
export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT SMTP_FROM='Ops Alerts <alerts@example.test>' \
	SMTP_CA_FILE=$SMTP_DIR/cert.pem SMTP_USERNAME=$SMTP_USER \
	SMTP_TIMEOUT_MS=5000 SMTP_RETRY_BASE_SECONDS=1 SMTP_RETRY_MAX_SECONDS=1
# The password in the env file, so that harness_finish checks no log holds it.
harness_set_env SMTP_PASSWORD "$SMTP_PASS"
harness_env_baseline
HARNESS_SECRET_KEYS="$HARNESS_SECRET_KEYS SMTP_PASSWORD"

# Before each scenario: no server, an empty Maildir and command log.
email_reset() {
	smtp_stop
	smtp_clear
}
harness_scenario_setup email_reset

arrived() { find "$SMTP_DIR/maildir/new" -type f 2>/dev/null | wc -l; }
# commands [TLS]: the commands the server answered (with TLS true/false: only those).
commands() {
	if (($#)); then
		jq -r "select(.tls == $1) | .cmd" "$SMTP_DIR/commands.jsonl" | sort | uniq | tr '\n' ' '
	else
		jq -r .cmd "$SMTP_DIR/commands.jsonl" | tr '\n' ' '
	fi
}
row() { # row ID: status|code|provider|channel|account name
	psql_state "SELECT w.status || '|' || coalesce(w.last_error_code, '') || '|' ||
	 coalesce(w.provider, '') || '|' || w.channel || '|' || a.name
	 FROM whatsapp_logs w JOIN accounts a ON a.id = w.account_id WHERE w.id = $1"
}
# test_email ADDRESS [MESSAGE]: cron test-email; prints the row id ('' when none).
test_email() {
	harness_cron test-email "$@" | jq -r '.id // empty'
}
# headers FILE: the message's header names, in order, one line; and its fields as JSON.
headers() {
	$SMTP_PY - "$1" <<'EOF'
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
out = {"names": [k for k in m.keys()], "raw_header": raw.split(b"\r\n\r\n", 1)[0].decode("ascii")}
for k in ("Date", "From", "To", "Message-ID", "Subject", "MIME-Version", "Content-Type",
          "Content-Transfer-Encoding"):
    out[k] = str(m[k]) if m[k] is not None else None
out["charset"] = m.get_content_charset()
out["body"] = m.get_content()
out["ascii_only"] = all(b < 128 for b in raw)
print(json.dumps(out))
EOF
}
only_message() { find "$SMTP_DIR/maildir/new" -type f | head -n 1; }

# ---------------------------------------------------------------- the happy path
scenario_arrives_once() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	id=$(test_email ops@example.test $'disk full on db1\nsecond line: 95% used')
	assert_match "test-email queued a row" '^[0-9]+$' "$id"
	assert_eq "the row is sent by the smtp provider on the email account" \
		"sent||smtp|email|email" "$(row "$id")"
	assert_eq "one message arrived" 1 "$(arrived)"
	h=$(headers "$(only_message)")
	assert_eq "header names, in order" \
		'["Date","From","To","Message-ID","Subject","MIME-Version","Content-Type","Content-Transfer-Encoding","Auto-Submitted"]' \
		"$(jq -c .names <<<"$h")"
	assert_eq "From" "Ops Alerts <alerts@example.test>" "$(jq -r .From <<<"$h")"
	assert_eq "To" "ops@example.test" "$(jq -r .To <<<"$h")"
	assert_eq "Subject: the priority and the first line" \
		"[INFO] TEST email from the monitoring service: disk full on db1" "$(jq -r .Subject <<<"$h")"
	assert_eq "the Message-ID is kept on the row" \
		"$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")" \
		"$(jq -r '."Message-ID"' <<<"$h")"
	assert_match "the Message-ID is ours, on SMTP_FROM's domain" '^<[0-9]+\.[0-9a-f]{16}@example\.test>$' \
		"$(jq -r '."Message-ID"' <<<"$h")"
	assert_match "Date is RFC 5322, UTC" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000$' \
		"$(jq -r .Date <<<"$h")"
	assert_eq "MIME-Version" "1.0" "$(jq -r '."MIME-Version"' <<<"$h")"
	assert_contains "text/plain UTF-8" "$(jq -r .raw_header <<<"$h")" \
		$'\r\nContent-Type: text/plain; charset=UTF-8\r\n'
	assert_eq "charset" utf-8 "$(jq -r .charset <<<"$h")"
	assert_eq "base64 body" base64 "$(jq -r '."Content-Transfer-Encoding"' <<<"$h")"
	assert_eq "the body is the message, CRLF line ends" \
		$'TEST email from the monitoring service: disk full on db1\r\nsecond line: 95% used' \
		"$(jq -r .body <<<"$h")"
	assert_eq "the whole message is 7-bit ASCII" true "$(jq -r .ascii_only <<<"$h")"
	assert_eq "nothing in clear but the first EHLO" "EHLO " "$(commands false)"
	assert_eq "STARTTLS, then AUTH, MAIL, RCPT and DATA under TLS" \
		"AUTH DATA EHLO MAIL RCPT STARTTLS " "$(commands true)"
	assert_eq "the login was accepted" 235 \
		"$(jq -r 'select(.cmd == "AUTH") | .reply' "$SMTP_DIR/commands.jsonl")"
	harness_cron drain >/dev/null
	assert_eq "a second drain sends nothing more" 1 "$(arrived)"
	assert_eq "the audit row counts one attempt" 1 \
		"$(psql_state "SELECT attempts FROM whatsapp_logs WHERE id = $id")"
	smtp_stop
}

scenario_non_ascii_subject() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	id=$(test_email ops@example.test 'Ünïcode ✓ réplica atrasada')
	assert_eq "sent" "sent||smtp|email|email" "$(row "$id")"
	h=$(headers "$(only_message)")
	assert_eq "the subject decodes back" "[INFO] TEST email from the monitoring service: Ünïcode ✓ réplica atrasada" \
		"$(jq -r .Subject <<<"$h")"
	assert_contains "the raw subject is RFC 2047 encoded words" "$(jq -r .raw_header <<<"$h")" \
		"Subject: =?UTF-8?B?"
	assert_eq "the whole message is 7-bit ASCII" true "$(jq -r .ascii_only <<<"$h")"
	smtp_stop
}

scenario_smtps() {
	smtp_start implicit "$SMTP_USER:$SMTP_PASS"
	export SMTP_URL=smtps://127.0.0.1:$SMTP_PORT
	id=$(test_email ops@example.test 'over implicit TLS')
	assert_eq "sent over smtps://" "sent||smtp|email|email" "$(row "$id")"
	assert_eq "it arrived" 1 "$(arrived)"
	assert_eq "nothing in clear" "" "$(commands false)"
	smtp_stop
}

# ---------------------------------------------------------------- pace
scenario_own_pace() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	export SMTP_RATE_PER_SECOND=5
	acct=$(psql_state "SELECT id FROM accounts WHERE name = 'email'")
	psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key,
	 channel, account_id) SELECT 'ops' || g || '@example.test', 'paced ' || g, 'critical',
	 'pace:' || g, 'email', $acct FROM generate_series(1, 10) g;
	 INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
	 VALUES ('+15550000001', 'whatsapp beside the emails', 'critical', 'pace:wa')" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "all ten emails arrived" 10 "$(arrived)"
	spread=$(jq -s '[.[] | select(.cmd == "DATA") | .at] | (max - min) * 10 | floor' \
		"$SMTP_DIR/commands.jsonl")
	assert_match "paced at SMTP_RATE_PER_SECOND=5: about 1.8 s from the first to the last" \
		'^(1[5-9]|[2-9][0-9])$' "$spread"
	assert_eq "the WhatsApp message (sandbox, its own pace) went at once" t \
		"$(psql_state "SELECT w.sent_at < (SELECT min(sent_at) FROM whatsapp_logs
		 WHERE channel = 'email') + interval '1 second' FROM whatsapp_logs w
		 WHERE idempotency_key = 'pace:wa'")"
	assert_eq "each account its own send_rate row" 2 "$(psql_state "SELECT count(*) FROM send_rate")"
	smtp_stop
}

# ---------------------------------------------------------------- failures
scenario_server_down_then_back() {
	id=$(test_email ops@example.test 'while the server is down')
	assert_eq "no server: retried (connect)" "queued|connect||email|email" "$(row "$id")"
	assert_eq "nothing arrived" 0 "$(arrived)"
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	harness_cron drain >/dev/null
	assert_eq "not before its backoff" "queued|connect||email|email" "$(row "$id")"
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id = $id" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "server back: sent" "sent||smtp|email|email" "$(row "$id")"
	harness_cron drain >/dev/null
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id = $id" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "it arrived exactly once" 1 "$(arrived)"
	assert_eq "two attempts in the audit row" 2 \
		"$(psql_state "SELECT attempts FROM whatsapp_logs WHERE id = $id")"
	smtp_stop
}

scenario_permanent_5xx() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	id=$(test_email reject-me@example.test 'refused for good')
	assert_eq "550: failed with the code" "failed|smtp_550||email|email" "$(row "$id")"
	assert_contains "the reason is the server's reply" \
		"$(psql_state "SELECT last_error FROM whatsapp_logs WHERE id = $id")" "mailbox unavailable"
	assert_eq "nothing arrived" 0 "$(arrived)"
	harness_cron drain >/dev/null
	assert_eq "no retry of a failed message" 1 \
		"$(jq -r 'select(.cmd == "RCPT") | .arg' "$SMTP_DIR/commands.jsonl" | wc -l)"
	smtp_stop
}

scenario_transient_4xx() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	export SMTP_RETRY_BASE_SECONDS=300 SMTP_RETRY_MAX_SECONDS=1800 RETRY_BASE_SECONDS=1
	id=$(test_email tempfail@example.test 'try later')
	assert_eq "451: queued again" "queued|smtp_451||email|email" "$(row "$id")"
	assert_eq "after SMTP_RETRY_BASE_SECONDS (300 s +-20%), not WhatsApp's RETRY_BASE_SECONDS" t \
		"$(psql_state "SELECT next_attempt_at BETWEEN now() + interval '230 seconds'
		 AND now() + interval '370 seconds' FROM whatsapp_logs WHERE id = $id")"
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id = $id" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "retried: two attempts" 2 "$(psql_state "SELECT attempts FROM whatsapp_logs WHERE id = $id")"
	smtp_stop
}

scenario_no_starttls_sends_nothing() {
	smtp_start plain
	id=$(test_email ops@example.test 'must not go in clear')
	assert_eq "no STARTTLS offered: not sent" "queued|smtp_starttls||email|email" "$(row "$id")"
	assert_eq "the server saw EHLO only" "EHLO " "$(commands)"
	assert_eq "nothing arrived" 0 "$(arrived)"
	smtp_stop
}

scenario_untrusted_certificate() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	unset SMTP_CA_FILE
	id=$(test_email ops@example.test 'to a server we cannot verify')
	assert_eq "certificate not trusted: not sent" "queued|smtp_tls||email|email" "$(row "$id")"
	assert_eq "no MAIL, RCPT or DATA" "" "$(jq -r 'select(.cmd == "MAIL" or .cmd == "RCPT" or .cmd == "DATA") | .cmd' "$SMTP_DIR/commands.jsonl")"
	smtp_stop
}

scenario_login_refused_stops_the_account() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	export SMTP_PASSWORD=wrong-password-0000
	id=$(test_email ops@example.test 'wrong password')
	assert_eq "535: the row waits" "queued|smtp_auth||email|email" "$(row "$id")"
	assert_eq "the email account is stopped" t \
		"$(psql_state "SELECT d.stopped FROM delivery_state d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'email'")"
	assert_match "a critical alert names the email account" "^critical\|Email sending stopped: smtp_auth .*535" \
		"$(psql_state "SELECT severity || '|' || message FROM alerts WHERE rule = 'whatsapp_delivery'
		 AND target = 'account ' || (SELECT id FROM accounts WHERE name = 'email') AND status = 'open'")"
	assert_eq "the operator's WhatsApp account is not" "" \
		"$(psql_state "SELECT stopped FROM delivery_state WHERE account_id = 1 AND stopped")"
	assert_eq "nothing arrived" 0 "$(arrived)"
	smtp_stop
}

# ---------------------------------------------------------------- header injection
scenario_header_injection() {
	smtp_start tls "$SMTP_USER:$SMTP_PASS"
	id=$(test_email ops@example.test $'x\r\nBcc: victim@evil.test\r\nX-Injected: yes\rSubject: forged')
	assert_eq "a message with CR/LF in its first line is sent" "sent||smtp|email|email" "$(row "$id")"
	h=$(headers "$(only_message)")
	assert_eq "no header was added" \
		'["Date","From","To","Message-ID","Subject","MIME-Version","Content-Type","Content-Transfer-Encoding","Auto-Submitted"]' \
		"$(jq -c .names <<<"$h")"
	assert_eq "the subject is one line, up to the first LF" \
		"[INFO] TEST email from the monitoring service: x" "$(jq -r .Subject <<<"$h")"
	assert_eq "one recipient only" "ops@example.test" \
		"$(jq -r 'select(.cmd == "RCPT") | .arg' "$SMTP_DIR/commands.jsonl" | tr '\n' ' ' | sed 's/ $//')"

	before=$(psql_state "SELECT count(*) FROM whatsapp_logs")
	for bad in $'ops@example.test\r\nBcc: victim@evil.test' $'ops@example.test\nX: y' \
		'Ops <ops@example.test>' 'ops@example.test, victim@evil.test' 'ops@exa mple.test'; do
		rc=0
		"$BIN_DIR/cron" test-email "$bad" >/dev/null 2>"$HARNESS_DIR/err" || rc=$?
		assert_eq "address $(printf %q "$bad") refused at submit" 1 "$rc"
		assert_contains "the refusal says why" "$(cat "$HARNESS_DIR/err")" "refused: its address"
	done
	assert_eq "nothing was queued" "$before" "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
	assert_eq "the server saw one recipient in all" 1 \
		"$(jq -r 'select(.cmd == "RCPT") | .arg' "$SMTP_DIR/commands.jsonl" | wc -l)"

	rc=0
	SMTP_FROM=$'Ops\r\nBcc: victim@evil.test <alerts@example.test>' "$BIN_DIR/cron" config \
		>/dev/null 2>"$HARNESS_DIR/err" || rc=$?
	assert_eq "a sender name with CR/LF: the programs refuse to start" 2 "$rc"
	assert_contains "naming SMTP_FROM" "$(cat "$HARNESS_DIR/err")" "SMTP_FROM"
	smtp_stop
}

# ---------------------------------------------------------------- settings
scenario_settings_checked_at_start() {
	check() { # check NAME=VALUE... EXPECTED-TEXT: cron config refuses, naming it
		local want=${*: -1} rc=0
		env "${@:1:$#-1}" "$BIN_DIR/cron" config >/dev/null 2>"$HARNESS_DIR/err" || rc=$?
		assert_eq "refused: ${*:1:$#-1}" 2 "$rc"
		assert_contains "the error names $want" "$(cat "$HARNESS_DIR/err")" "$want"
	}
	check SMTP_URL=http://127.0.0.1:25 "SMTP_URL must be smtp://"
	check SMTP_URL=smtp:// "SMTP_URL must be smtp://"
	check "SMTP_URL=smtp://user:pw@127.0.0.1" "SMTP_URL must not hold credentials"
	check SMTP_FROM= "SMTP_FROM is required"
	check SMTP_FROM=not-an-address "SMTP_FROM"
	check SMTP_PASSWORD= "SMTP_PASSWORD is required with SMTP_USERNAME"
	check SMTP_CA_FILE=/nonexistent/ca.pem "SMTP_CA_FILE"
	out=$(harness_cron config)
	assert_eq "SMTP_PASSWORD is redacted" "(set)" "$(jq -r .configuration.SMTP_PASSWORD <<<"$out")"
	assert_not_contains "its value never shows" "$out" "$SMTP_PASS"
}

harness_scenarios arrives_once non_ascii_subject smtps own_pace server_down_then_back permanent_5xx \
	transient_4xx no_starttls_sends_nothing untrusted_certificate \
	login_refused_stops_the_account header_injection settings_checked_at_start
smtp_stop
harness_finish
