#!/usr/bin/env bash
# Delivery against a local mock of the Meta and Twilio APIs: what the provider
# receives, and what whatsapp_logs records, for success and each error class.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

# The drains below run through the cron binary with Meta pointed at the mock;
# retries are made fast and the per-recipient spacing is switched off.
export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=test-token-abcdefghijklmnop \
	META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 \
	RETRY_BASE_SECONDS=1 RETRY_MAX_SECONDS=1 RECIPIENT_MIN_INTERVAL=0 SEND_TIMEOUT_MS=2000
queue() { # queue PHONE TEXT: a queued message, as a decision would write it
	psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
	 VALUES ('$1', '$2', 'critical', 'test:' || md5(random()::text)) RETURNING id"
}
drain() { harness_cron drain; }
status_of() { psql_state "SELECT status || '|' || coalesce(last_error_code, '') FROM whatsapp_logs WHERE id = $1"; }
reqs() { mock_requests; }
# later SECONDS ID: as if SECONDS had passed for row ID (every timestamp it has, and the shared
# pace's, moved back); a drainer running meanwhile keeps its own clock.
later() {
	psql_state "DO \$\$ DECLARE c text; BEGIN
	 FOR c IN SELECT column_name FROM information_schema.columns
	   WHERE table_name = 'whatsapp_logs' AND data_type = 'timestamp with time zone' LOOP
	   EXECUTE format('UPDATE whatsapp_logs SET %I = %I - make_interval(secs => $1) WHERE id = $2', c, c);
	 END LOOP;
	 UPDATE send_rate SET next_slot = next_slot - make_interval(secs => $1);
	END \$\$" >/dev/null
}
drain_bg() { # a drainer in the background: its pid in DRAINER
	MONITORING_ENV_FILE=$MONITORING_ENV_FILE "$BIN_DIR/cron" drain >/dev/null 2>>"$HARNESS_LOG_DIR/cron.log" &
	DRAINER=$!
}
until_sending() { # until_sending ID: wait (up to 20 s) until a drainer holds row ID
	local _
	for _ in $(seq 200); do
		[[ $(psql_state "SELECT status FROM whatsapp_logs WHERE id = $1") == sending ]] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- a text message
scenario_text_message() {
id=$(queue +15550001001 "disk 97% full")
out=$(drain)
assert_eq "drain reports one sent" 1 "$(jq .sent <<<"$out")"
assert_eq "the row is sent" "sent|" "$(status_of "$id")"
r=$(reqs | jq '.[-1]')
assert_eq "POST to the phone number's messages" "/v25.0/1234567890/messages" "$(jq -r .path <<<"$r")"
assert_eq "bearer token sent" "Bearer test-token-abcdefghijklmnop" "$(jq -r '.headers.authorization' <<<"$r")"
assert_eq "to is + and digits" "+15550001001" "$(jq -r .json.to <<<"$r")"
assert_eq "a text message" "text|disk 97% full|whatsapp" "$(jq -r '[.json.type, .json.text.body, .json.messaging_product] | join("|")' <<<"$r")"
assert_match "the wamid is stored" '^wamid\.' "$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")"
assert_eq "the wa_id is stored" 15550001001 "$(psql_state "SELECT wa_id FROM whatsapp_logs WHERE id = $id")"
assert_eq "a second drain sends nothing again" 1 "$(mock_count)"
}

# ---------------------------------------------------------------- 130429 then success
scenario_rate_limit_then_success() {
mock_reset
mock_script '[{"match":{"to":"+15550001002"},"meta_error":130429}]'
id=$(queue +15550001002 "retry me")
drain >/dev/null
assert_eq "130429: queued for a retry" "queued|130429" "$(status_of "$id")"
sleep 1.5
drain >/dev/null
assert_eq "then sent" "sent|" "$(status_of "$id")"
assert_eq "two attempts" 2 "$(psql_state "SELECT attempts FROM whatsapp_logs WHERE id = $id")"
assert_eq "delivered once: one success at the provider" 2 "$(mock_count)"
}

# ---------------------------------------------------------------- 131047: re-sent as a template
scenario_template_resend() {
mock_reset
export WHATSAPP_ALERT_TEMPLATE=infra_alert
mock_script '[{"match":{"to":"+15550001003"},"meta_error":131047}]'
psql_state "INSERT INTO contacts (phone_number, last_inbound_at) VALUES ('+15550001003', now() - interval '1 hour')" >/dev/null
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, alert_ids)
 VALUES ('+15550001003', 'db01 down', 'critical', 'test:tmpl', '{42}') RETURNING id")
drain >/dev/null
assert_eq "inside the window it went as text first" text "$(reqs | jq -r '.[0].json.type')"
drain >/dev/null
assert_eq "131047: re-sent and sent" "sent|" "$(status_of "$id")"
r=$(reqs | jq '.[-1]')
assert_eq "the re-send is the template" "template|infra_alert|en_US" \
	"$(jq -r '[.json.type, .json.template.name, .json.template.language.code] | join("|")' <<<"$r")"
assert_eq "its body carries severity and summary" "critical|db01 down" \
	"$(jq -r '[.json.template.components[0].parameters[].text] | join("|")' <<<"$r")"
assert_eq "its button carries the alert id" "ACK:42" \
	"$(jq -r '.json.template.components[1].parameters[0].payload' <<<"$r")"
assert_eq "recorded as a template" t "$(psql_state "SELECT as_template FROM whatsapp_logs WHERE id = $id")"
id=$(queue +15550001004 "nobody wrote to us")
drain >/dev/null
assert_eq "outside the window it goes as a template at once" template "$(reqs | jq -r '.[-1].json.type')"
unset WHATSAPP_ALERT_TEMPLATE
}

# ---------------------------------------------------------------- outside the window, no template
scenario_outside_window_no_template() {
# Without a template the text is tried (our view of the window may be incomplete); only the
# provider's refusal fails the message, with the provider's own code.
mock_reset
mock_script '[{"match":{"to":"+15550001012","type":"text"},"meta_error":131047}]'
id=$(queue +15550001012 "nobody wrote to us, no template")
drain >/dev/null
assert_eq "no template: the text is tried" text \
	"$(reqs | jq -r '[.[] | select(.json.to == "+15550001012") | .json.type] | join(",")')"
assert_eq "refused: failed with the provider's code" "failed|131047" "$(status_of "$id")"
}

# ---------------------------------------------------------------- permanent failure
scenario_permanent_failure() {
mock_reset
mock_script '[{"match":{"to":"+15550001005"},"meta_error":131026}]'
id=$(queue +15550001005 "undeliverable")
drain >/dev/null
assert_eq "131026 fails for good" "failed|131026" "$(status_of "$id")"
}

# ---------------------------------------------------------------- provider down, then back
scenario_provider_down() {
mock_reset
mock_script '[{"status":500,"body_raw":"oops","times":4}]'
a=$(queue +15550001006 "during the outage a")
b=$(queue +15550001007 "during the outage b")
drain >/dev/null
sleep 1.3
drain >/dev/null
assert_eq "5xx: still queued" "queued|http_500" "$(status_of "$a")"
sleep 1.3
drain >/dev/null
assert_eq "back: a sent" "sent|" "$(status_of "$a")"
assert_eq "back: b sent" "sent|" "$(status_of "$b")"
assert_eq "each delivered once" 1 "$(reqs | jq '[.[] | select(.json.to == "+15550001006")] | length - 2')"
}

# ---------------------------------------------------------------- a timeout is retried
scenario_timeout_retried() {
mock_reset
mock_script '[{"match":{"to":"+15550001008"},"delay_ms":3000}]'
id=$(queue +15550001008 "slow")
drain >/dev/null
assert_eq "a timeout is retried" "queued|timeout" "$(status_of "$id")"
}

# ---------------------------------------------------------------- 190: sending stops
scenario_token_expired_stops() {
mock_reset
mock_script '[{"meta_error":190,"times":-1}]'
c=$(queue +15550001009 "token expired")
d=$(queue +15550001010 "next one")
out=$(drain)
assert_eq "drain says sending is stopped" true "$(jq .stopped <<<"$out")"
assert_eq "the message stays queued" queued "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $c")"
assert_eq "delivery is stopped" t "$(psql_state "SELECT stopped FROM delivery_state")"
assert_eq "an operator alert is open" "critical" \
	"$(psql_state "SELECT severity FROM alerts WHERE rule = 'whatsapp_delivery' AND status = 'open'")"
assert_not_contains "the token is not in the stored error" \
	"$(psql_state "SELECT string_agg(coalesce(last_error, ''), ' ') FROM whatsapp_logs")" "test-token-abcdefghijklmnop"
n=$(mock_count)
drain >/dev/null
assert_eq "nothing more is sent while stopped" "$n" "$(mock_count)"
mock_reset
out=$(harness_cron drain --resume)
assert_eq "after --resume both go" "sent|sent" \
	"$(psql_state "SELECT string_agg(status, '|' ORDER BY id) FROM whatsapp_logs WHERE id IN ($c, $d)")"
assert_eq "the operator alert resolves" resolved \
	"$(psql_state "SELECT status FROM alerts WHERE rule = 'whatsapp_delivery'")"
}

# ---------------------------------------------------------------- the lease covers the pace
scenario_lease_covers_pace() {
# A drainer that claimed a row it may send only 300 s from now (the shared pace is that far
# ahead) still holds it 90 s later, past the old lease (2 x SEND_TIMEOUT_MS + 60 s = 64 s):
# a second drainer does not take it back and send it a second time.
mock_reset
psql_state "UPDATE send_rate SET next_slot = now() + interval '300 seconds'" >/dev/null
id=$(queue +15550001020 "paced far ahead")
drain_bg
until_sending "$id" || fail "the first drainer claims the row"
later 90 "$id"
psql_state "UPDATE send_rate SET next_slot = now()" >/dev/null # nobody else ahead now
drain >/dev/null
assert_eq "before its paced start no other drainer takes it" "sending|0" \
	"$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id")|$(mock_count)"
kill -KILL "$DRAINER"
wait "$DRAINER" 2>/dev/null || true
later 3600 "$id" # its drainer died: past the paced start and the lease
drain >/dev/null
assert_eq "once its lease ran out, another drainer sends it" "sent|" "$(status_of "$id")"
assert_eq "once" 1 "$(mock_count)"
}

# ---------------------------------------------------------------- a stale result is dropped
scenario_stale_result() {
# The first drainer waits 10 s for its paced start; meanwhile (as if an hour had passed) its
# lease runs out and a second drainer takes the row and sends it (the mock's first answer:
# accepted). The first one's own send then gets 131026: that result comes from a claim that no
# longer holds the row and must not overwrite the second drainer's.
mock_reset
mock_script '[{"match":{"to":"+15550001021"},"times":1},{"match":{"to":"+15550001021"},"meta_error":131026}]'
psql_state "UPDATE send_rate SET next_slot = now() + interval '10 seconds'" >/dev/null
id=$(queue +15550001021 "taken over")
drain_bg
until_sending "$id" || fail "the first drainer claims the row"
later 3600 "$id"
drain >/dev/null
assert_eq "the second drainer sent it" "sent|" "$(status_of "$id")"
wamid=$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")
wait "$DRAINER" || true
assert_eq "the first drainer's send went out late" 2 "$(mock_count)"
assert_eq "its stale result does not overwrite the row" "sent|$wamid" \
	"$(psql_state "SELECT status || '|' || provider_message_id FROM whatsapp_logs WHERE id = $id")"
assert_contains "the stale result is logged" "$(grep stale_result "$HARNESS_LOG_DIR/cron.log" || true)" "message $id "
}

# ---------------------------------------------------------------- Twilio
scenario_twilio() {
mock_reset
export WHATSAPP_PROVIDER=twilio TWILIO_ACCOUNT_SID=AC0123456789 TWILIO_AUTH_TOKEN=twilio-secret-token \
	TWILIO_WHATSAPP_NUMBER=+15550009999 TWILIO_API_URL=$MOCK_URL/2010-04-01
id=$(queue +15550001011 "via twilio")
drain >/dev/null
assert_eq "twilio: sent" "sent|" "$(status_of "$id")"
r=$(reqs | jq '.[-1]')
assert_eq "twilio: the account's Messages.json" "/2010-04-01/Accounts/AC0123456789/Messages.json" "$(jq -r .path <<<"$r")"
assert_eq "twilio: whatsapp: addresses" "whatsapp:+15550001011|whatsapp:+15550009999" "$(jq -r '[.form.To, .form.From] | join("|")' <<<"$r")"
assert_eq "twilio: basic auth" "Basic $(printf 'AC0123456789:twilio-secret-token' | base64)" "$(jq -r .headers.authorization <<<"$r")"
assert_match "twilio: the SID is stored" '^SM' "$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")"
# Outside the window as we know it, with Meta's template configured but no TWILIO_CONTENT_SID:
# the text is tried. A number answered by another system takes it; 63016 fails the other.
mock_reset
mock_script '[{"match":{"to":"+15550001013"},"twilio_error":63016}]'
export WHATSAPP_ALERT_TEMPLATE=infra_alert
a=$(queue +15550001014 "answered elsewhere")
b=$(queue +15550001013 "really outside")
drain >/dev/null
assert_eq "twilio, no Content template: the text went" "sent|" "$(status_of "$a")"
assert_eq "as a Body" "answered elsewhere" "$(reqs | jq -r '.[] | select(.to == "15550001014") | .form.Body')"
assert_eq "twilio: refused with 63016, failed with it" "failed|63016" "$(status_of "$b")"
unset WHATSAPP_ALERT_TEMPLATE
unset TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_WHATSAPP_NUMBER TWILIO_API_URL
}

# ---------------------------------------------------------------- sandbox and test-alert over HTTP
scenario_sandbox_test_alert() {
export WHATSAPP_PROVIDER=sandbox
mock_reset
http_auth POST /monitoring/test-alert '{"severity":"critical","message":"hello from the test"}'
assert_eq "test-alert answers 200" 200 "$HTTP_STATUS"
tid=$(jq -r '.messages[0].id' <<<"$HTTP_BODY")
assert_eq "to the critical contact" "+15550000001" "$(jq -r '.messages[0].phone_number' <<<"$HTTP_BODY")"
wait_for 10 bash -c "[[ \$(psql -X -At -h '$PGHOST' -U postgres -d monitoring -c \"SELECT status FROM whatsapp_logs WHERE id = $tid\") == sent ]]" || true
assert_eq "the sandbox recorded it as sent" "sent|sandbox" \
	"$(psql_state "SELECT status, provider FROM whatsapp_logs WHERE id = $tid" -F '|')"
assert_eq "the sandbox contacted nobody" 0 "$(mock_count)"
http_auth GET /monitoring/alerts
assert_contains "GET /monitoring/alerts shows it" "$HTTP_BODY" "hello from the test"
for body in '{}' '{"severity":"info"}' '{"severity":"critical","message":""}' '{"severity":"warning","extra":1}' '{"severity":'; do
	http_auth POST /monitoring/test-alert "$body"
	assert_eq "test-alert $body: 400" 400 "$HTTP_STATUS"
done
http POST /monitoring/test-alert '{"severity":"critical"}'
assert_eq "test-alert without a token: 401" 401 "$HTTP_STATUS"
}

harness_scenarios text_message rate_limit_then_success template_resend outside_window_no_template permanent_failure provider_down timeout_retried token_expired_stops lease_covers_pace stale_result twilio sandbox_test_alert

harness_finish
