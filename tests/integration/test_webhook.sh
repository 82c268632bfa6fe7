#!/usr/bin/env bash
# The webhook through nginx: Meta's handshake, signed events (and every way a
# signature can be wrong), delivery receipts, inbound messages and the
# commands, acknowledgement, pause, and Twilio's signed callbacks.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

SECRET=test-app-secret-0123456789 VERIFY=verify-token-abcdef TWTOKEN=twilio-auth-token-0123
TWURL=https://monitor.example.test/monitoring/twilio/webhook
CRIT=+15550000001 WARN=+15550000002
harness_set_env META_APP_SECRET "$SECRET"
harness_set_env WEBHOOK_VERIFY_TOKEN "$VERIFY"
harness_set_env TWILIO_AUTH_TOKEN "$TWTOKEN"
harness_set_env TWILIO_WEBHOOK_URL "$TWURL"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env CRITICAL_PHONE_2 +15550000003
harness_set_env WHATSAPP_ALERT_TEMPLATE infra_alert # Meta's; Twilio has none (TWILIO_CONTENT_SID)
harness_set_env ESCALATION_PHONE_1 +15550000009
PNID=106540352242922 # our number: the envelope's metadata.phone_number_id
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_restart_programs || fail "programs restarted"
harness_env_baseline
export RECIPIENT_MIN_INTERVAL=0

WH=/monitoring/whatsapp/webhook
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "${2:-$SECRET}" -r | cut -d' ' -f1; }
post() { # post BODY [SIGNATURE-HEADER-VALUE | -]: POST to the Meta webhook
	local sig=${2:-sha256=$(sign "$1")}
	if [[ $sig == - ]]; then
		http POST "$WH" "$1"
	else
		http POST "$WH" "$1" -H "X-Hub-Signature-256: $sig"
	fi
}
events() { psql_state "SELECT count(*) FROM webhook_events"; }
settle() { # wait until every stored event is processed
	local i
	for i in $(seq 100); do
		[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND attempts = 0") == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}
envelope() { # envelope VALUE-JSON [PHONE-NUMBER-ID]: one entry, one change
	printf '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},%s}}]}]}' "${2:-$PNID}" "$1"
}
inbound() { # inbound FROM ID TEXT [EXTRA-JSON-FIELDS]: an inbound text message body
	envelope "$(printf '"contacts":[{"profile":{"name":"Ops"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}%s}]' \
		"${1#+}" "${1#+}" "$2" "$(date +%s)" "$3" "${4:-}")"
}
status_body() { # status_body WAMID STATUS [TIMESTAMP] [ERRORS-JSON]
	envelope "$(printf '"statuses":[{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"15550001001"%s}]' \
		"$1" "$2" "${3:-$(date +%s)}" "${4:+,\"errors\":$4}")"
}
outbound() { # outbound WAMID [ALERT-IDS]: a sent message as the drainer records it
	psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at,
	 provider, provider_message_id, idempotency_key, alert_ids)
	 VALUES ('+15550001001', 'alert text', 'critical', 'sent', now(), 'meta', '$1', 'test:$1', '${2:-{\}}')
	 RETURNING id"
}
row() { psql_state "SELECT $2 FROM whatsapp_logs WHERE id = $1"; }
reply_to() { # reply_to PHONE: the newest reply queued/sent to PHONE
	psql_state "SELECT message_content FROM whatsapp_logs WHERE phone_number = '$1' AND kind = 'reply' ORDER BY id DESC LIMIT 1"
}
last_event() { psql_state "SELECT coalesce(max(id), 0) FROM webhook_events"; }
twsign() { # twsign FORM-BODY [URL] [TOKEN]: X-Twilio-Signature of a form body
	python3 - "$1" "${2:-$TWURL}" "${3:-$TWTOKEN}" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
body, url, token = sys.argv[1:4]
pairs = sorted(urllib.parse.parse_qsl(body, keep_blank_values=True))
data = url + "".join(k + v for k, v in pairs)
print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())
PY
}
TW=/monitoring/twilio/webhook
# cb: Twilio's status callback for one of our messages (see the Twilio scenario).
cb="MessageSid=SMfeedfeedfeedfeedfeedfeedfeedfeed&MessageStatus=delivered&To=whatsapp%3A%2B15550000002"

# ---------------------------------------------------------------- verification handshake
scenario_handshake() {
http GET "$WH?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=1158201444"
assert_eq "handshake: 200" 200 "$HTTP_STATUS"
assert_eq "handshake: the challenge echoed" 1158201444 "$HTTP_BODY"
assert_match "handshake: plain text" '^text/plain' "$HTTP_CONTENT_TYPE"
for q in "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1" \
	"hub.mode=unsubscribe&hub.verify_token=$VERIFY&hub.challenge=1" \
	"hub.verify_token=$VERIFY&hub.challenge=1" "hub.mode=subscribe&hub.challenge=1" \
	"hub.mode=subscribe&hub.verify_token=$VERIFY"; do
	http GET "$WH?$q"
	assert_eq "handshake refused: $q" 403 "$HTTP_STATUS"
done
}

# ---------------------------------------------------------------- signatures
scenario_signatures() {
id=$(outbound wamid.SIG1)
body=$(status_body wamid.SIG1 delivered)
n0=$(events)
post "$body" "sha256=$(sign "$body" wrong-secret)"
assert_eq "wrong secret: 401" 401 "$HTTP_STATUS"
assert_eq "401 is JSON" invalid_signature "$(jq -r .error.code <<<"$HTTP_BODY")"
post "${body/delivered/read}" "sha256=$(sign "$body")"
assert_eq "tampered body: 401" 401 "$HTTP_STATUS"
sig=$(sign "$body")
flip=0
[[ ${sig:63:1} == 0 ]] && flip=1
post "$body" "sha256=${sig:0:63}$flip"
assert_eq "tampered signature: 401" 401 "$HTTP_STATUS"
post "$body" -
assert_eq "missing header: 401" 401 "$HTTP_STATUS"
post "$body" "sha1=$sig"
assert_eq "wrong prefix: 401" 401 "$HTTP_STATUS"
post "$body" "sha256=${sig}00"
assert_eq "wrong length: 401" 401 "$HTTP_STATUS"
http POST "$WH" "" -H "X-Hub-Signature-256: sha256=$(sign "")" --data-binary ''
assert_eq "empty body, signed: 400" 400 "$HTTP_STATUS"
post '{"object":"whatsapp_business_account","entry":[{'
assert_eq "truncated JSON, signed: 400" 400 "$HTTP_STATUS"
assert_eq "400 is JSON" invalid_json "$(jq -r .error.code <<<"$HTTP_BODY")"
big=$HARNESS_DIR/big.json
python3 -c "import sys; sys.stdout.write('{\"pad\":\"' + 'x' * (4 * 1024 * 1024) + '\"}')" >"$big"
HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$big" | cut -d' ' -f1)" \
	--data-binary "@$big" "$HTTP_BASE$WH")
assert_eq "over 4 MiB: 413" 413 "$HTTP_STATUS"
assert_eq "nothing was stored by any refused request" "$n0" "$(events)"
http PUT "$WH" "$body"
assert_eq "PUT: 405" 405 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- delivery receipts
scenario_delivery_receipts() {
id=$(outbound wamid.SIG1)
body=$(status_body wamid.SIG1 delivered)
n0=$(events)
post "$body"
assert_eq "valid signature: 200" 200 "$HTTP_STATUS"
assert_eq "the event is stored" "$((n0 + 1))" "$(events)"
settle
assert_eq "delivered recorded" delivered "$(row "$id" status)"
assert_eq "its time kept" t "$(row "$id" "delivered_at IS NOT NULL")"
post "$(status_body wamid.SIG1 read)"
settle
assert_eq "then read" read "$(row "$id" status)"
post "$(status_body wamid.SIG1 delivered)"
settle
assert_eq "a late delivered never regresses read" read "$(row "$id" status)"
id2=$(outbound wamid.OOO1)
post "$(status_body wamid.OOO1 read 1700000100)"
settle
post "$(status_body wamid.OOO1 delivered 1700000050)"
settle
assert_eq "read before delivered: stays read" read "$(row "$id2" status)"
assert_eq "both timestamps recorded" "1700000050|1700000100" \
	"$(row "$id2" "extract(epoch FROM delivered_at)::bigint || '|' || extract(epoch FROM read_at)::bigint")"

# A batch: two entries, several statuses, unknown fields.
a=$(outbound wamid.B1) b=$(outbound wamid.B2) c=$(outbound wamid.B3)
batch='{"object":"whatsapp_business_account","unknown":{"x":[1,2]},"entry":[
 {"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"'$PNID'"},"statuses":[
   {"id":"wamid.B1","status":"delivered","timestamp":"1700000001","recipient_id":"15550001001","pricing":{"billable":true}},
   {"id":"wamid.B2","status":"read","timestamp":"1700000002","recipient_id":"15550001001","new_field":1}]}}]},
 {"id":"2","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"'$PNID'"},"statuses":[
   {"id":"wamid.B3","status":"delivered","timestamp":"1700000003","recipient_id":"15550001001"}]}}]}]}'
post "$batch"
settle
assert_eq "a batch: every status applied" "delivered,read,delivered" \
	"$(psql_state "SELECT string_agg(status, ',' ORDER BY id) FROM whatsapp_logs WHERE id IN ($a, $b, $c)")"

# 131047 failure: re-queued as a template.
f=$(outbound wamid.F1)
post "$(status_body wamid.F1 failed "" '[{"code":131047,"title":"Re-engagement message","error_data":{"details":"more than 24 hours"}}]')"
settle
assert_eq "131047: queued again as a template" "queued|true|131047" \
	"$(row "$f" "status || '|' || as_template || '|' || last_error_code")"
g=$(outbound wamid.G1)
post "$(status_body wamid.G1 failed "" '[{"code":131026,"title":"Message undeliverable"}]')"
settle
assert_eq "131026: failed for good" "failed|131026" "$(row "$g" "status || '|' || last_error_code")"
}

# ---------------------------------------------------------------- inbound messages and commands
scenario_inbound_commands() {
post "$(inbound "$CRIT" wamid.IN1 "  HELP ")"
post "$(inbound "$CRIT" wamid.IN1 "  HELP ")"
post "$(inbound "$CRIT" wamid.IN1 "  HELP ")"
settle
harness_cron drain >/dev/null
assert_eq "the same message three times: one audit row" 1 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE provider_message_id = 'wamid.IN1' AND direction = 'inbound'")"
assert_eq "and one reply" 1 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key = 'reply:wamid.IN1'")"
assert_contains "help lists the commands" "$(reply_to "$CRIT")" "pause"
assert_eq "the reply was sent" sent "$(psql_state "SELECT status FROM whatsapp_logs WHERE idempotency_key = 'reply:wamid.IN1'")"
assert_eq "the contact's window is open" t \
	"$(psql_state "SELECT last_inbound_at > now() - interval '1 minute' FROM contacts WHERE phone_number = '$CRIT'")"
assert_eq "its wa_id kept" 15550000001 "$(psql_state "SELECT wa_id FROM contacts WHERE phone_number = '$CRIT'")"

k=0
for cmd in status "pause 1h" resume "ack" "ack 1" help nonsense; do
	k=$((k + 1))
	post "$(inbound +15559999999 "wamid.STRANGER$k" "$cmd")"
done
settle
assert_eq "an unknown number's messages are audited" "$k" \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE provider_message_id LIKE 'wamid.STRANGER%'")"
assert_eq "none is obeyed (no pause)" f "$(psql_state "SELECT coalesce(paused_until > now(), false) FROM pause_state")"
assert_eq "none gets a reply" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '+15559999999' AND direction = 'outbound'")"

post "$(inbound "$WARN" wamid.UNK "what is this")"
settle
assert_contains "an unknown command gets a hint" "$(reply_to "$WARN")" "help"
}

# ---------------------------------------------------------------- acknowledgements
scenario_acknowledgements() {
# An alert to acknowledge: connections_used_pct is always over these thresholds.
export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
harness_cron check >/dev/null
harness_cron drain >/dev/null
aid=$(psql_state "SELECT id FROM alerts WHERE status = 'open' AND rule = 'connections_used_pct'")
post "$(inbound "$CRIT" wamid.ST1 "Status")"
settle
assert_contains "status lists the open alert" "$(reply_to "$CRIT")" "#$aid CRITICAL connections_used_pct"
assert_contains "status says the pause state" "$(reply_to "$CRIT")" "Not paused"

# ack by command
post "$(inbound "$CRIT" wamid.ACK1 "ack $aid")"
settle
assert_eq "ack <id>: acknowledged by the sender" "$CRIT|" \
	"$(psql_state "SELECT acknowledged_by || '|' || coalesce(escalate_at::text, '') FROM alerts WHERE id = $aid")"
assert_contains "the sender is told" "$(reply_to "$CRIT")" "Acknowledged: #$aid"
psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE id = $aid" >/dev/null
out=$(harness_cron drain)
assert_eq "an acknowledged alert does not escalate" 0 "$(jq .escalated <<<"$out")"

# ack by reply context and by button: fresh alerts
THRESHOLD_CONNECTIONS_USED_PCT_WARNING=99 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100 harness_cron check >/dev/null
harness_cron check >/dev/null
harness_cron drain >/dev/null
aid=$(psql_state "SELECT id FROM alerts WHERE status = 'open' AND rule = 'connections_used_pct'")
wamid=$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE kind = 'alert' AND $aid = ANY(alert_ids) AND phone_number = '$CRIT'")
post "$(inbound "$CRIT" wamid.CTX1 "on it" ",\"context\":{\"from\":\"15550783881\",\"id\":\"$wamid\"}")"
settle
assert_eq "a reply to the alert message acknowledges it" "$CRIT" \
	"$(psql_state "SELECT acknowledged_by FROM alerts WHERE id = $aid")"
THRESHOLD_CONNECTIONS_USED_PCT_WARNING=99 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100 harness_cron check >/dev/null
harness_cron check >/dev/null
harness_cron drain >/dev/null
aid=$(psql_state "SELECT id FROM alerts WHERE status = 'open' AND rule = 'connections_used_pct'")
button=$(envelope "$(printf '"messages":[{"from":"15550000001","id":"wamid.BTN1","timestamp":"%s","type":"button","button":{"payload":"ACK:%s","text":"Acknowledge"}}]' "$(date +%s)" "$aid")")
post "$button"
settle
assert_eq "the quick-reply button acknowledges it" "$CRIT" \
	"$(psql_state "SELECT acknowledged_by FROM alerts WHERE id = $aid")"
harness_cron drain >/dev/null
assert_contains "the others told hear who acknowledged" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'ack' AND idempotency_key = 'acked:wamid.BTN1:+15550000003'")" \
	"Acknowledged by $CRIT"
}

# ---------------------------------------------------------------- pause, an alert during it, resume
scenario_pause_resume() {
export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
post "$(inbound "$CRIT" wamid.P1 "pause 2h")"
settle
assert_eq "pause 2h: stored with who" "$CRIT|true" \
	"$(psql_state "SELECT paused_by || '|' || (paused_until BETWEEN now() + interval '119 minutes' AND now() + interval '121 minutes') FROM pause_state")"
assert_contains "the sender is told until when" "$(reply_to "$CRIT")" "Paused for 2h"
THRESHOLD_CONNECTIONS_USED_PCT_WARNING=99 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100 harness_cron check >/dev/null
out=$(harness_cron check)
assert_eq "an alert raised during the pause is suppressed (two critical contacts)" 2 "$(jq .messages_suppressed <<<"$out")"
post "$(inbound "$CRIT" wamid.P2 "pause 10d")"
settle
assert_contains "a pause over PAUSE_MAX_MINUTES is refused" "$(reply_to "$CRIT")" "longest pause"
post "$(inbound "$WARN" wamid.R1 "resume")"
settle
assert_eq "resume ends the pause" f "$(psql_state "SELECT coalesce(paused_until > now(), false) FROM pause_state")"
assert_contains "the contacts are told what was suppressed" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'pause' AND phone_number = '$CRIT' ORDER BY id DESC LIMIT 1")" \
	"Suppressed during the pause: $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'suppressed'")"
assert_eq "every contact is told" 4 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'pause'")"

# a pause that expires is announced once, by cron
post "$(inbound "$CRIT" wamid.P3 "pause 30m")"
settle
psql_state "UPDATE pause_state SET paused_until = now() - interval '1 second'" >/dev/null
harness_cron drain >/dev/null
harness_cron drain >/dev/null
assert_eq "the expiry is announced once to each contact" 8 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'pause'")"
assert_contains "it says it expired" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'pause' ORDER BY id DESC LIMIT 1")" "expired"
}

# ---------------------------------------------------------------- signed, and still not to be obeyed
scenario_not_obeyed() {
# Another number of the same Meta app (its events come to the same URL): ignored, not obeyed.
n3=$(events) m3=$(last_event)
post "$(envelope "$(printf '"contacts":[{"wa_id":"15550000001"}],"messages":[{"from":"15550000001","id":"wamid.OTHERPN","timestamp":"%s","type":"text","text":{"body":"pause 2h"}}]' "$(date +%s)")" 999999999999999)"
assert_eq "another phone_number_id: 200 (stored, so not re-delivered)" 200 "$HTTP_STATUS"
other=$(outbound wamid.OTHERST)
post "$(status_body wamid.OTHERST read | sed "s/$PNID/999999999999999/")"
settle
assert_eq "its events are stored and done" "$((n3 + 2))|done,done" \
	"$(events)|$(psql_state "SELECT string_agg(status, ',' ORDER BY id) FROM webhook_events WHERE id > $m3")"
assert_eq "its command is not obeyed (no pause)" f "$(psql_state "SELECT coalesce(paused_until > now(), false) FROM pause_state")"
assert_eq "its message is not audited as ours" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE provider_message_id = 'wamid.OTHERPN' OR idempotency_key = 'reply:wamid.OTHERPN'")"
assert_eq "its status does not move our message" sent "$(row "$other" status)"
assert_contains "it is logged" "$(cat "$HARNESS_LOG_DIR"/webhook.log)" "for phone_number_id 999999999999999, not ours"

# A command re-delivered long after it was sent: audited and answered, not obeyed.
stale_ts=$(($(date +%s) - 3 * 86400))
post "$(envelope "$(printf '"contacts":[{"wa_id":"15550000001"}],"messages":[{"from":"15550000001","id":"wamid.STALE1","timestamp":"%s","type":"text","text":{"body":"pause 24h"}}]' "$stale_ts")")"
settle
assert_eq "a 3-day-old pause is audited" "received|$stale_ts" \
	"$(psql_state "SELECT status || '|' || extract(epoch FROM sent_at)::bigint FROM whatsapp_logs WHERE provider_message_id = 'wamid.STALE1'")"
assert_eq "and not obeyed" f "$(psql_state "SELECT coalesce(paused_until > now(), false) FROM pause_state")"
assert_contains "the sender is told it was not done" "$(reply_to "$CRIT")" "Not done: this command was sent 3d"
assert_contains "it is logged" "$(cat "$HARNESS_LOG_DIR"/webhook.log)" "over COMMAND_MAX_AGE_SECONDS (600)"
post "$(envelope "$(printf '"messages":[{"from":"15550000001","id":"wamid.FRESH1","timestamp":"%s","type":"text","text":{"body":"pause 5m"}}]' "$(($(date +%s) - 60))")")"
settle
assert_eq "a pause sent a minute ago is obeyed" t "$(psql_state "SELECT paused_until > now() FROM pause_state")"
post "$(inbound "$CRIT" wamid.FRESH2 resume)"
settle

# Numbers that are not ASCII digits: never a phone number, never a poison event that retries.
n4=$(events) m4=$(last_event)
post "$(envelope '"contacts":[{"wa_id":"１５５５００００００１"}],"messages":[{"from":"１５５５００００００１","id":"wamid.WIDE1","timestamp":"'"$(date +%s)"'","type":"text","text":{"body":"pause 24h"}},{"from":"1555000\n0001","id":"wamid.NL1","type":"text","text":{"body":"help"}}]')"
assert_eq "fullwidth digits and a newline in from: 200" 200 "$HTTP_STATUS"
nl=$(outbound wamid.NLST)
post "$(status_body wamid.NLST read | sed 's/"recipient_id":"15550001001"/"recipient_id":"1555\\n0001001"/')"
settle
assert_eq "the events are done at once, not pending for a retry" "$((n4 + 2))|done 1,done 1" \
	"$(events)|$(psql_state "SELECT string_agg(status || ' ' || attempts, ',' ORDER BY id) FROM webhook_events WHERE id > $m4")"
assert_eq "no row has them as a phone number" 0 \
	"$(psql_state "SELECT (SELECT count(*) FROM whatsapp_logs WHERE provider_message_id IN ('wamid.WIDE1', 'wamid.NL1') OR phone_number !~ '^\+[0-9]{1,15}\$') + (SELECT count(*) FROM contacts WHERE phone_number !~ '^\+[0-9]{1,15}\$' OR wa_id !~ '^[0-9]{1,15}\$')")"
assert_eq "nothing obeyed" f "$(psql_state "SELECT coalesce(paused_until > now(), false) FROM pause_state")"
assert_eq "a status whose recipient is not a number is ignored" sent "$(row "$nl" status)"
assert_contains "they are logged" "$(cat "$HARNESS_LOG_DIR"/webhook.log)" "whose from or recipient is not 1 to 15 ASCII digits"
harness_cron drain >/dev/null
assert_eq "cron finds nothing to retry" 0 "$(psql_state "SELECT count(*) FROM webhook_events WHERE status <> 'done' AND id > $m4")"

# Arrays over their limits: refused whole with the limit named, nothing stored. The report's
# body (5,000 messages, 274,000 contacts) took a thread 100 s at full CPU: refused at once.
n5=$(events)
limits=$HARNESS_DIR/limits.json
python3 - "$limits" "$PNID" <<'PY'
import json, sys
msgs = [{"from": "1555%07d" % i, "id": "w%d" % i} for i in range(5000)]
value = {"metadata": {"phone_number_id": sys.argv[2]}, "messages": msgs, "contacts": [{"wa_id": "9"}] * 274000}
body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}, separators=(",", ":"))
assert len(body) <= 4 * 1024 * 1024, len(body)
open(sys.argv[1], "w").write(body)
PY
HTTP_BODY=$(curl -s --max-time 30 -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$limits" | cut -d' ' -f1)" \
	--data-binary "@$limits" "$HTTP_BASE$WH" || true)
assert_eq "5,000 messages and 274,000 contacts: 413" 413 "${HTTP_BODY##*$'\n'}"
assert_contains "naming the limit" "${HTTP_BODY%$'\n'*}" "WA_MAX_VALUES"
post "$(envelope "\"contacts\":[$(printf '{},%.0s' $(seq 5000)){}],\"messages\":[{\"from\":\"15550000001\",\"id\":\"wamid.LIM1\",\"type\":\"text\",\"text\":{\"body\":\"status\"}}]")"
assert_eq "5,001 contacts: 413" 413 "$HTTP_STATUS"
assert_eq "as JSON naming WA_MAX_CONTACTS" "too_many_items|true" \
	"$(jq -r '.error.code + "|" + (.error.message | contains("WA_MAX_CONTACTS") | tostring)' <<<"$HTTP_BODY")"
assert_eq "nothing of them stored" "$n5" "$(events)"
}

# ---------------------------------------------------------------- processing failures are retried
scenario_retries() {
post "$(status_body wamid.NOTYET delivered)"
settle || true
assert_eq "a status for a message not recorded yet waits" "pending|1" \
	"$(psql_state "SELECT status || '|' || attempts FROM webhook_events ORDER BY id DESC LIMIT 1")"
late=$(outbound wamid.NOTYET)
psql_state "UPDATE webhook_events SET next_attempt_at = now() WHERE status = 'pending'" >/dev/null
out=$(harness_cron drain)
assert_eq "cron retries it" delivered "$(row "$late" status)"

# one event that cannot be applied does not hold back the others stored pending with it:
# the batch is rolled back and taken one event at a time
good=$(outbound wamid.SPLITOK)
psql_state "INSERT INTO webhook_events (source, body) VALUES
 ('meta', \$b\$$(status_body wamid.SPLITOK read)\$b\$),
 ('meta', \$b\$$(status_body wamid.SPLITNEVER delivered)\$b\$),
 ('meta', \$b\$$(status_body wamid.SPLITOK delivered)\$b\$)" >/dev/null
harness_cron drain >/dev/null || true
for _ in $(seq 100); do
	[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE body LIKE '%SPLIT%' AND attempts = 0") == 0 ]] && break
	sleep 0.05
done
assert_eq "the events beside it are applied" "read|true" \
	"$(psql_state "SELECT status || '|' || (delivered_at IS NOT NULL) FROM whatsapp_logs WHERE id = $good")"
assert_eq "only the unappliable one waits for a retry" "done|pending 1|done" \
	"$(psql_state "SELECT string_agg(CASE WHEN status = 'pending' THEN status || ' ' || attempts ELSE status END, '|' ORDER BY id) FROM webhook_events WHERE body LIKE '%SPLIT%'")"
}

# ---------------------------------------------------------------- statuses for messages not ours
scenario_foreign_statuses() {
# Another system sending from the same WhatsApp Business Account (a seller's cart bot) gets its
# statuses here too. A status for a message id none of ours carries is retried only for
# WEBHOOK_STATUS_GRACE_SECONDS (our own send's id may not be recorded yet), the last time when
# the grace ends, then kept as ignored: stored, counted, never failed nor retried again.
harness_set_env WEBHOOK_STATUS_GRACE_SECONDS 4
harness_restart_programs || fail "programs restarted"
export WEBHOOK_STATUS_GRACE_SECONDS=4
failed_before=$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'failed'")
post "$(status_body wamid.FOREIGN1 delivered)"
assert_eq "a status for a message not ours: 200" 200 "$HTTP_STATUS"
post "$(status_body wamid.OURSLATE read)"
sleep 1
ours=$(outbound wamid.OURSLATE) # our send's id, recorded a second after its status came
sleep 4.5                       # the grace is over
harness_cron drain >/dev/null
assert_eq "our own send recorded late: its status applies" read "$(row "$ours" status)"
assert_match "the other one is done after the grace, after a few attempts, not 10" '^done\|[1-3]$' \
	"$(psql_state "SELECT status || '|' || attempts FROM webhook_events WHERE body LIKE '%wamid.FOREIGN1%'")"
assert_eq "it is kept as ignored" "wamid.FOREIGN1|delivered|15550001001|meta" \
	"$(psql_state "SELECT provider_message_id || '|' || status || '|' || recipient_id || '|' || source FROM webhook_ignored")"
assert_eq "nothing of ours failed" "$failed_before" "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'failed'")"
http_auth GET /monitoring/alerts
assert_eq "alerts counts it" 1 "$(jq '.webhook.ignored_statuses_24h' <<<"$HTTP_BODY")"
assert_contains "the log says so" "$(cat "$HARNESS_LOG_DIR"/*.log)" '"event":"status_ignored"'
}

# ---------------------------------------------------------------- Twilio
scenario_twilio() {
form="MessageSid=SM0123456789abcdef0123456789abcdef&From=whatsapp%3A%2B15550000002&To=whatsapp%3A%2B14155238886&Body=help&WaId=15550000002&NumMedia=0"
http POST "$TW" "$form" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$form")"
assert_eq "Twilio signed: 200" 200 "$HTTP_STATUS"
assert_eq "Twilio: TwiML answer" "<Response></Response>" "$HTTP_BODY"
assert_match "Twilio: text/xml" '^text/xml' "$HTTP_CONTENT_TYPE"
settle
assert_eq "Twilio inbound: a reply" 1 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key = 'reply:SM0123456789abcdef0123456789abcdef'")"
n1=$(events)
http POST "$TW" "$form" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$form" "$TWURL" wrong-token)"
assert_eq "Twilio wrong token: 401" 401 "$HTTP_STATUS"
http POST "$TW" "${form/help/status}" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$form")"
assert_eq "Twilio tampered body: 401" 401 "$HTTP_STATUS"
http POST "$TW" "$form" -H 'Content-Type: application/x-www-form-urlencoded'
assert_eq "Twilio missing signature: 401" 401 "$HTTP_STATUS"
assert_eq "refused Twilio requests store nothing" "$n1" "$(events)"
tw=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, provider,
 provider_message_id, idempotency_key) VALUES ('+15550000002', 'x', 'critical', 'sent', 'twilio',
 'SMfeedfeedfeedfeedfeedfeedfeedfeed', 'test:tw') RETURNING id")
http POST "$TW" "$cb" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$cb")"
settle
assert_eq "Twilio status callback: delivered" delivered "$(row "$tw" status)"
# 63016 (outside the window) with no Content template configured: nothing else to try.
tw2=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, provider,
 provider_message_id, idempotency_key) VALUES ('+15550000002', 'x', 'critical', 'sent', 'twilio',
 'SMfacefacefacefacefacefacefaceface', 'test:tw2') RETURNING id")
cb2="MessageSid=SMfacefacefacefacefacefacefaceface&MessageStatus=undelivered&ErrorCode=63016&To=whatsapp%3A%2B15550000002"
http POST "$TW" "$cb2" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$cb2")"
settle
assert_eq "Twilio 63016 without a Content template: failed with it" "failed|false|63016" \
	"$(row "$tw2" "status || '|' || as_template || '|' || last_error_code")"
# An SMS to our Twilio number (From without "whatsapp:"), "ack" from an operator's number: audited
# as an SMS, never obeyed or answered, and it opens no WhatsApp window for that number.
sms="MessageSid=SM5555555555555555555555555555aaaa&From=%2B15550000001&To=%2B14155238886&Body=ack&NumMedia=0"
http POST "$TW" "$sms" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$sms")"
assert_eq "Twilio inbound SMS: 200" 200 "$HTTP_STATUS"
settle
assert_eq "the SMS is audited as an SMS, inbound" "sms|inbound|received|ack" \
	"$(psql_state "SELECT channel || '|' || direction || '|' || status || '|' || message_content FROM whatsapp_logs WHERE idempotency_key = 'in:SM5555555555555555555555555555aaaa'")"
assert_eq "it is not answered" 0 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key = 'reply:SM5555555555555555555555555555aaaa'")"
assert_eq "it opens no WhatsApp window" 0 \
	"$(psql_state "SELECT count(*) FROM contacts WHERE phone_number = '+15550000001'")"
}

# ---------------------------------------------------------------- the state database down
scenario_state_db_down() {
# Not stored means not acknowledged: a 503 makes Meta and Twilio deliver it again later.
n2=$(events)
harness_stop_pg
post "$(status_body wamid.SIG1 read)"
assert_eq "database down: Meta gets a 503" 503 "$HTTP_STATUS"
assert_eq "as JSON" state_database_unavailable "$(jq -r .error.code <<<"$HTTP_BODY")"
http POST "$TW" "$cb" -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Twilio-Signature: $(twsign "$cb")"
assert_eq "database down: Twilio gets a 503" 503 "$HTTP_STATUS"
harness_start_pg
assert_eq "nothing half-stored" "$n2" "$(events)"
post "$(status_body wamid.SIG1 read)"
assert_eq "database back: accepted again" 200 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- delivered and read rates
scenario_read_rates() {
# Two of our messages: one read, one delivered.
outbound wamid.RATE1 >/dev/null
outbound wamid.RATE2 >/dev/null
post "$(status_body wamid.RATE1 read)"
post "$(status_body wamid.RATE2 delivered)"
settle
http_auth GET /monitoring/alerts
assert_match "alerts shows a read rate" '^0?\.[0-9]+|1$' "$(jq '.windows["24h"].read_rate' <<<"$HTTP_BODY")"
assert_match "and a delivered rate" '^0?\.[0-9]+|1$' "$(jq '.windows["24h"].delivered_rate' <<<"$HTTP_BODY")"
}

harness_scenarios handshake signatures delivery_receipts inbound_commands acknowledgements pause_resume not_obeyed retries foreign_statuses twilio state_db_down read_rates

harness_finish
