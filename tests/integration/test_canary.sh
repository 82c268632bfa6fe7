#!/usr/bin/env bash
# The end-to-end canary (issue 20; common/monitor/canary.h): cron tick sends a WhatsApp message
# of kind canary to CANARY_PHONE every CANARY_INTERVAL through the outbox, the drain and the
# provider (Meta's API at the mock); its delivered receipt comes back as a signed status webhook.
# Off by default; delivered in time: no alert, health ok, the round trip in the metrics; no
# receipt by CANARY_DEADLINE: a critical alert to the critical contacts, resolved with a recovery
# by the next canary delivered in time; one canary per interval whatever ticks run, at once or
# one after the other; it escalates and is acknowledged by a WhatsApp reply like any other critical
# alert; a pause does not stop the canary; turning it off resolves its alert; a
# series that stopped shows late; with the state database down nothing is sent or claimed; bad
# settings refuse to start.
# Time passes by moving the canaries' created_at back (the interval's minimum is a minute).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

PNID=1234567890
CRIT=+15550000001 CANARY=+15550000042 ESC=+15550000009
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env CANARY_INTERVAL 60
harness_set_env CANARY_DEADLINE 30
harness_set_env CANARY_PHONE "$CANARY"
harness_set_env ESCALATION_PHONE_1 "$ESC"
harness_set_env REPORT_PHONE_1 +15550000007 # the tick's reports, away from the critical contacts
harness_restart_programs || fail "programs restarted"
harness_env_baseline
APP_SECRET=$(env_get "$MONITORING_ENV_FILE" META_APP_SECRET)
P=whatsapp_monitor_canary_

# ---------------------------------------------------------------- helpers
tick() { harness_cron tick; }
step() { jq -c '.steps[] | select(.step == "canary")' <<<"$1"; }
canaries() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'canary'"; }
# newest COLUMN: a column of the newest canary
newest() { psql_state "SELECT $1 FROM whatsapp_logs WHERE kind = 'canary' ORDER BY id DESC LIMIT 1"; }
# age SECONDS: as if every canary had been queued that much earlier
age() { psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '$1 seconds' WHERE kind = 'canary'" >/dev/null; }
# texts_to NUMBER: the texts the mock received for NUMBER
texts_to() { mock_requests | jq -c --arg to "${1#+}" '[.[] | select(.to == $to) | .json.text.body]'; }
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$APP_SECRET" -r | cut -d' ' -f1; }
# delivered: Meta's signed "delivered" status for the newest canary, and wait until it is applied
delivered() {
	local wamid body
	wamid=$(newest provider_message_id)
	body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"statuses":[{"id":"%s","status":"delivered","timestamp":"%s","recipient_id":"%s"}]}}]}]}' \
		"$PNID" "$wamid" "$(date +%s)" "${CANARY#+}")
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
	[[ $HTTP_STATUS == 200 ]] || fail "the status webhook answers 200" "$HTTP_STATUS $HTTP_BODY"
	wait_for 10 eval '[[ $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = '"'canary'"' AND delivered_at IS NOT NULL AND provider_message_id = '"'$wamid'"'") == 1 ]]'
}
health() { http GET /monitoring/health; jq -c .canary <<<"$HTTP_BODY"; }
# sample NAME: a canary family's sample from the Prometheus exposition ("absent": none)
sample() {
	http_auth GET "/monitoring/metrics?format=prometheus"
	awk -v p="$P$1" 'index($0, p " ") == 1 { print $NF; found = 1; exit } END { if (!found) print "absent" }' <<<"$HTTP_BODY"
}
canary_alert() { psql_state "SELECT severity || '|' || status FROM alerts WHERE rule = 'canary:late' ORDER BY id DESC LIMIT 1"; }

# ---------------------------------------------------------------- off by default
scenario_off_by_default() {
harness_unset_env CANARY_INTERVAL
harness_unset_env CANARY_PHONE
harness_unset_env CANARY_DEADLINE
harness_restart_programs
out=$(tick)
assert_eq "the tick works" true "$(jq .ok <<<"$out")"
assert_eq "its canary step says off and sends nothing" '{"sent":false,"state":"off","alert":null}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "no canary row" 0 "$(canaries)"
assert_eq "nothing reached CANARY_PHONE" 0 "$(texts_to "$CANARY" | jq length)"
assert_eq "health: off" '"off"|0' "$(health | jq -r '(.state | tojson) + "|" + (.interval_seconds | tostring)')"
assert_eq "metrics: interval 0" 0 "$(sample interval_seconds)"
assert_eq "and no late gauge while off" absent "$(sample late)"
http_auth GET /monitoring/metrics
assert_eq "JSON metrics: off" off "$(jq -r .canary.state <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- delivered in time
scenario_delivered_in_time() {
out=$(tick)
assert_eq "the first tick sends a canary" '{"sent":true,"state":"pending"}' "$(step "$out" | jq -c '{sent, state}')"
assert_eq "one canary row, sent by the tick's drain" "1|sent|critical" \
	"$(psql_state "SELECT count(*) || '|' || max(status) || '|' || max(priority) FROM whatsapp_logs WHERE kind = 'canary'")"
assert_eq "keyed after no canary" "canary:after:0" "$(newest idempotency_key)"
assert_eq "the mock got it, to CANARY_PHONE" 1 "$(texts_to "$CANARY" | jq length)"
assert_contains "it says what it is" "$(texts_to "$CANARY" | jq -r '.[0]')" "Canary"
assert_eq "health: pending until its receipt" pending "$(health | jq -r .state)"
delivered
c=$(health)
assert_eq "health: ok once delivered" ok "$(jq -r .state <<<"$c")"
assert_match "with the time it was sent" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(jq -r .last_sent_at <<<"$c")"
assert_match "and of its receipt" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(jq -r .last_receipt_at <<<"$c")"
assert_match "and the round trip, in seconds" '^[0-9]+(\.[0-9]+)?$' "$(jq -r .round_trip_seconds <<<"$c")"
# Meta's timestamps are whole seconds: a receipt within the queuing second counts as 0, never less.
rt=$(psql_state "SELECT greatest(0, extract(epoch FROM delivered_at - created_at)) FROM whatsapp_logs WHERE kind = 'canary'")
assert_eq "the round trip is receipt minus queued" "$(printf '%.3f' "$rt")" "$(jq -r '.round_trip_seconds * 1000 | round / 1000' <<<"$c" | xargs printf '%.3f')"
assert_eq "prometheus: not late" 0 "$(sample late)"
assert_match "prometheus: the round trip" '^[0-9.e+-]+$' "$(sample round_trip_seconds)"
assert_eq "prometheus: last sent is the row's time" \
	"$(psql_state "SELECT floor(extract(epoch FROM created_at)) FROM whatsapp_logs WHERE kind = 'canary'")" \
	"$(awk '{ printf "%d", $1 }' <<<"$(sample last_sent_timestamp_seconds)")"
assert_ne "prometheus: a receipt time" 0 "$(sample last_receipt_timestamp_seconds)"
http_auth GET /monitoring/metrics
assert_eq "JSON metrics: ok" ok "$(jq -r .canary.state <<<"$HTTP_BODY")"
out=$(tick)
assert_eq "the next tick: nothing due, no alert" '{"sent":false,"state":"ok","alert":null}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "no alert" "" "$(canary_alert)"
assert_eq "nothing to the critical contacts" 0 "$(texts_to "$CRIT" | jq length)"
}

# ---------------------------------------------------------------- late, then resolved
scenario_late_then_resolved() {
tick >/dev/null
age 40 # past the deadline (30 s), before the interval (60 s)
out=$(tick)
assert_eq "no receipt by the deadline: late, the alert opens" '{"sent":false,"state":"late","alert":"opened"}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "a critical alert, open" "critical|open" "$(canary_alert)"
msg=$(texts_to "$CRIT" | jq -r '.[0] // ""')
assert_contains "the critical contacts are told" "$msg" "CRITICAL"
assert_contains "that the canary is late" "$msg" "Canary late"
assert_eq "escalation is armed as for any critical alert" t \
	"$(psql_state "SELECT escalate_at IS NOT NULL FROM alerts WHERE rule = 'canary:late'")"
http GET /monitoring/health
assert_eq "health: late" late "$(jq -r .canary.state <<<"$HTTP_BODY")"
assert_eq "health stays 200 and ok: the instance lives" "200 ok" "$HTTP_STATUS $(jq -r .status <<<"$HTTP_BODY")"
assert_eq "prometheus: late" 1 "$(sample late)"
out=$(tick)
assert_eq "the next tick changes nothing" '{"sent":false,"state":"late","alert":null}' "$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "one message to the critical contacts" 1 "$(texts_to "$CRIT" | jq length)"
age 30 # the interval has passed: the next canary goes
out=$(tick)
assert_eq "the next canary goes; the late one still speaks" '{"sent":true,"state":"late","alert":null}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "keyed after the first" "canary:after:$(psql_state "SELECT min(id) FROM whatsapp_logs WHERE kind = 'canary'")" \
	"$(newest idempotency_key)"
assert_eq "still open" "critical|open" "$(canary_alert)"
delivered
out=$(tick)
assert_eq "delivered in time: the alert resolves" '{"sent":false,"state":"ok","alert":"resolved"}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
assert_eq "resolved" "critical|resolved" "$(canary_alert)"
msg=$(texts_to "$CRIT" | jq -r '.[1] // ""')
assert_contains "a recovery to those told" "$msg" "RESOLVED Canary delivered again"
assert_eq "health: ok" ok "$(health | jq -r .state)"
}

# ---------------------------------------------------------------- over Twilio
# The same loop with Twilio: the canary goes through Twilio's Messages API (the mock), its
# receipt is Twilio's signed status callback.
scenario_twilio_late_then_resolved() {
local sid=AC$(random_hex 16) token=$(random_hex 16)
harness_set_env WHATSAPP_PROVIDER twilio
harness_set_env TWILIO_ACCOUNT_SID "$sid"
harness_set_env TWILIO_AUTH_TOKEN "$token"
harness_set_env TWILIO_WHATSAPP_NUMBER +15553330000
harness_set_env TWILIO_API_URL "$MOCK_URL/2010-04-01"
harness_set_env TWILIO_WEBHOOK_URL "$HTTP_BASE/monitoring/twilio/webhook"
harness_restart_programs
mock_twilio_auth "$sid" "$token"
tick >/dev/null
assert_eq "the canary went through Twilio, as WhatsApp" "whatsapp:$CANARY" \
	"$(mock_requests | jq -r '[.[] | select(.kind == "twilio")][0].form.To // ""')"
age 40
out=$(tick)
assert_eq "no callback by the deadline: the alert opens" opened "$(step "$out" | jq -r .alert)"
age 30
tick >/dev/null
assert_eq "a second canary" 2 "$(canaries)"
# Our WhatsApp sends over Twilio ask for their receipts at TWILIO_WEBHOOK_URL (StatusCallback):
# the mock sends the callback there.
assert_eq "the canary asked for its receipt at our webhook" "$HTTP_BASE/monitoring/twilio/webhook" \
	"$(mock_requests | jq -r '[.[] | select(.kind == "twilio")] | last | .form.StatusCallback // ""')"
out=$(mock_callback "$(jq -cn --arg s "$(newest provider_message_id)" '{sid: $s, status: "delivered"}')")
assert_eq "our webhook took the signed delivered callback" 200 "$(jq -r .status <<<"$out")"
wait_for 10 eval '[[ $(newest "delivered_at IS NOT NULL") == t ]]' || true
out=$(tick)
assert_eq "delivered in time: resolved" '{"state":"ok","alert":"resolved"}' "$(step "$out" | jq -c '{state, alert}')"
assert_contains "with a recovery, over Twilio too" \
	"$(mock_requests | jq -r --arg to "whatsapp:$CRIT" '[.[] | select(.kind == "twilio" and .form.To == $to) | .form.Body] | last // ""')" \
	"RESOLVED Canary delivered again"
}

# ---------------------------------------------------------------- a receipt after the deadline
scenario_late_receipt() {
tick >/dev/null
delivered
psql_state "UPDATE whatsapp_logs SET created_at = delivered_at - interval '45 seconds' WHERE kind = 'canary'" >/dev/null
out=$(tick)
assert_eq "a receipt 45 s after (deadline 30 s) is late" '{"state":"late","alert":"opened"}' "$(step "$out" | jq -c '{state, alert}')"
assert_eq "health shows the round trip all the same" 45 "$(health | jq -r '.round_trip_seconds | round')"
}

# ---------------------------------------------------------------- once per interval
scenario_once_per_interval() {
tick >/dev/null
tick >/dev/null
assert_eq "two ticks in one interval: one canary" 1 "$(canaries)"
age 70
local i pids=()
for i in 1 2 3; do
	tick >"$HARNESS_DIR/tick.$i" &
	pids+=($!)
done
for i in "${pids[@]}"; do wait "$i" || true; done
assert_eq "three ticks at once after the interval: one more canary" 2 "$(canaries)"
assert_eq "one tick sent it" 1 "$(cat "$HARNESS_DIR"/tick.[123] | jq -s '[.[] | .steps[]? | select(.step == "canary" and .sent)] | length')"
assert_eq "the mock got two canaries" 2 "$(texts_to "$CANARY" | jq length)"
# The key alone, as two hosts whose ticks would both see the same newest canary:
before=$(canaries)
k=$(newest idempotency_key)
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind, idempotency_key)
	VALUES ('$CANARY', 'x', 'critical', 'canary', '$k') ON CONFLICT (idempotency_key) DO NOTHING" >/dev/null
assert_eq "a second row under the same key is refused" "$before" "$(canaries)"
}

# ---------------------------------------------------------------- escalation and acknowledgement
scenario_escalate_and_ack() {
tick >/dev/null
age 40
tick >/dev/null
id=$(psql_state "SELECT id FROM alerts WHERE rule = 'canary:late'")
assert_contains "the alert says how to acknowledge it" "$(texts_to "$CRIT" | jq -r '.[0] // ""')" "ack $id"
# Unacknowledged past ESCALATION_MINUTES: the next tier hears of it.
psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE id = $id" >/dev/null
tick >/dev/null
assert_contains "it escalates to ESCALATION_PHONE_1" "$(texts_to "$ESC" | jq -r '.[0] // ""')" "Canary late"
# The critical contact answers "ack <id>" on WhatsApp (a signed Meta webhook event).
body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Ops"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.CANARYACK%s","timestamp":"%s","type":"text","text":{"body":"ack %s"}}]}}]}]}' \
	"$PNID" "${CRIT#+}" "${CRIT#+}" "$RANDOM" "$(date +%s)" "$id")
http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
assert_eq "the webhook takes the reply" 200 "$HTTP_STATUS"
wait_for 10 eval '[[ $(psql_state "SELECT coalesce(acknowledged_by, '"''"') FROM alerts WHERE id = $id") == "$CRIT" ]]' || true
assert_eq "acknowledged by WhatsApp reply" "$CRIT" "$(psql_state "SELECT coalesce(acknowledged_by, '') FROM alerts WHERE id = $id")"
assert_eq "still open until a canary comes back" "critical|open" "$(canary_alert)"
}

# ---------------------------------------------------------------- pause
scenario_pause() {
psql_state "UPDATE pause_state SET paused_until = now() + interval '1 hour', paused_at = now(),
 paused_by = '$CRIT', announced = false WHERE id = 1" >/dev/null
out=$(tick)
assert_eq "during a pause the canary still goes" true "$(step "$out" | jq .sent)"
assert_eq "sent, not suppressed" sent "$(newest status)"
age 40
out=$(tick)
assert_eq "late during a pause: the alert opens all the same" opened "$(step "$out" | jq -r .alert)"
assert_eq "open" "critical|open" "$(canary_alert)"
assert_eq "its notice is recorded as suppressed, not sent" "suppressed" \
	"$(psql_state "SELECT status FROM whatsapp_logs WHERE kind = 'alert' AND phone_number = '$CRIT'")"
assert_eq "health shows it late" late "$(health | jq -r .state)"
}

# ---------------------------------------------------------------- turned off
scenario_turned_off() {
tick >/dev/null
age 40
tick >/dev/null
assert_eq "open" "critical|open" "$(canary_alert)"
out=$(CANARY_INTERVAL=0 tick)
assert_eq "turned off: the alert resolves" '{"state":"off","alert":"resolved"}' "$(step "$out" | jq -c '{state, alert}')"
assert_contains "with a recovery saying why" "$(texts_to "$CRIT" | jq -r '.[1] // ""')" "Canary turned off"
}

# ---------------------------------------------------------------- a series that stopped
scenario_stopped() {
tick >/dev/null
delivered
assert_eq "ok" ok "$(health | jq -r .state)"
age 211 # interval 60 + deadline 30 + 120 s of grace: the next canary should be back by now
assert_eq "no canary for that long: late, without a tick" late "$(health | jq -r .state)"
assert_eq "prometheus too" 1 "$(sample late)"
out=$(tick)
assert_eq "a tick sends the next one; the old series no longer speaks" '{"sent":true,"state":"pending","alert":null}' \
	"$(step "$out" | jq -c '{sent, state, alert}')"
}

# ---------------------------------------------------------------- the provider refuses it
scenario_provider_refuses() {
mock_script "[{\"match\":{\"to\":\"$CANARY\"},\"meta_error\":131026}]"
tick >/dev/null
assert_eq "the canary failed" failed "$(newest status)"
assert_eq "pending until its deadline" pending "$(health | jq -r .state)"
mock_reset
age 40
out=$(tick)
assert_eq "then late: the alert opens" '{"state":"late","alert":"opened"}' "$(step "$out" | jq -c '{state, alert}')"
}

# ---------------------------------------------------------------- the state database down
scenario_state_database_down() {
tick >/dev/null
harness_stop_pg
http GET /monitoring/health
assert_eq "health: 503, and no canary state it cannot read" "503|degraded|null" \
	"$HTTP_STATUS|$(jq -r '.status + "|" + (.canary | tostring)' <<<"$HTTP_BODY")"
http_auth GET /monitoring/metrics
assert_eq "JSON metrics: 503" 503 "$HTTP_STATUS"
rc=0
out=$(tick) || rc=$?
assert_eq "a tick without the database says so and sends no canary" "1|false" \
	"$rc|$(jq -r '[.steps[] | select(.step == "canary")] | length > 0' <<<"$out")"
harness_start_pg
wait_for 10 eval 'http GET /monitoring/health; [[ $HTTP_STATUS == 200 ]]' || true
assert_eq "back: the canary in flight, still one" "pending|1" "$(jq -r .canary.state <<<"$HTTP_BODY")|$(canaries)"
}

# ---------------------------------------------------------------- bad settings
scenario_bad_settings() {
local err
# refused NAME VALUE... : cron refuses to start with these settings; prints its error
refused() {
	local rc=0
	err=$(env "$@" MONITORING_ENV_FILE="$MONITORING_ENV_FILE" "$BIN_DIR/cron" config 2>&1 >/dev/null) || rc=$?
	[[ $rc != 0 ]] || err="started"
	printf '%s' "$err"
}
assert_contains "no CANARY_PHONE" "$(refused CANARY_PHONE=)" "CANARY_PHONE is required when CANARY_INTERVAL is set"
assert_contains "a CANARY_PHONE that is no number" "$(refused CANARY_PHONE=call-me)" "CANARY_PHONE"
assert_contains "an interval under a minute" "$(refused CANARY_INTERVAL=30)" "CANARY_INTERVAL must be 0 (off) or at least 60"
assert_contains "not a number" "$(refused CANARY_INTERVAL=1h)" "CANARY_INTERVAL"
assert_contains "a deadline as long as the interval" "$(refused CANARY_DEADLINE=60)" "CANARY_DEADLINE (60 s) must be less than CANARY_INTERVAL (60 s)"
assert_contains "a deadline under 10 s" "$(refused CANARY_DEADLINE=5)" "CANARY_DEADLINE"
assert_eq "off needs no phone" started "$(refused CANARY_INTERVAL=0 CANARY_PHONE=)"
# A program refuses to start as well: it logs why and exits.
out=$(env CANARY_PHONE= MONITORING_ENV_FILE="$MONITORING_ENV_FILE" timeout 20 "$BIN_DIR/health" 2>&1 </dev/null) || true
assert_contains "the health program refuses to start, naming it" "$out" "CANARY_PHONE"
}

harness_scenarios off_by_default delivered_in_time late_then_resolved twilio_late_then_resolved late_receipt once_per_interval \
	escalate_and_ack pause turned_off stopped provider_refuses state_database_down bad_settings
harness_finish
