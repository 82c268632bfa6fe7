#!/usr/bin/env bash
# The SMS channel against the local mock of Twilio's Messages API (tests/mock/provider_mock.py,
# strict about SMS fields and the account's credentials): what arrives, what whatsapp_logs
# records, how Twilio's signed status callbacks move the row, how each error class is handled,
# and the body: control characters removed, cut to SMS_MAX_SEGMENTS in GSM-7 or UCS-2.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

SID=AC$(random_hex 16) TOKEN=$(random_hex 16)
FROM=+15553330000 TO=+15552229999
SERVICE=MG0123456789abcdef0123456789abcdef
TWURL=$HTTP_BASE/monitoring/twilio/webhook
# The webhook checks signatures with the token and the URL: both in the env file the programs read.
harness_set_env TWILIO_ACCOUNT_SID "$SID"
harness_set_env TWILIO_AUTH_TOKEN "$TOKEN"
harness_set_env TWILIO_WEBHOOK_URL "$TWURL"
harness_set_env TWILIO_API_URL "$MOCK_URL/2010-04-01"
harness_restart_programs || fail "programs restarted"
harness_env_baseline
# The cron runs below send SMS from FROM, retrying after a second.
export TWILIO_SMS_FROM=$FROM SMS_RETRY_BASE_SECONDS=1 SMS_RETRY_MAX_SECONDS=1 SEND_TIMEOUT_MS=3000

sms_setup() { mock_twilio_auth "$SID" "$TOKEN"; }
harness_scenario_setup sms_setup

# test_sms NUMBER [MESSAGE]: cron test-sms; prints the row id ('' when none).
test_sms() { harness_cron test-sms "$@" | jq -r '.id // empty'; }
row() { # row ID: status|code|provider|channel|account name
	psql_state "SELECT w.status || '|' || coalesce(w.last_error_code, '') || '|' ||
	 coalesce(w.provider, '') || '|' || w.channel || '|' || a.name
	 FROM whatsapp_logs w JOIN accounts a ON a.id = w.account_id WHERE w.id = $1"
}
col() { psql_state "SELECT $2 FROM whatsapp_logs WHERE id = $1"; }
sent() { mock_requests | jq -c '[.[] | select(.kind == "twilio")]'; }
last_sms() { mock_requests | jq -c '[.[] | select(.kind == "twilio")][-1]'; }
until_status() { # until_status ID STATUS: wait (up to 10 s) for the row's status
	local i
	for i in $(seq 100); do
		[[ $(col "$1" status) == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- what arrives
scenario_arrives_with_the_right_fields() {
	id=$(test_sms "$TO" "disk full on db1")
	assert_match "test-sms queued a row" '^[0-9]+$' "$id"
	assert_eq "sent by twilio on the sms account, channel sms" "sent||twilio|sms|sms" "$(row "$id")"
	assert_eq "one request reached the mock" 1 "$(sent | jq length)"
	r=$(last_sms)
	assert_eq "the mock took it as an SMS, 201" "sms 201" "$(jq -r '"\(.channel) \(.answer.status)"' <<<"$r")"
	assert_eq "the account's own path" "/2010-04-01/Accounts/$SID/Messages.json" "$(jq -r .path <<<"$r")"
	assert_eq "To without whatsapp:" "$TO" "$(jq -r .form.To <<<"$r")"
	assert_eq "From TWILIO_SMS_FROM, without whatsapp:" "$FROM" "$(jq -r .form.From <<<"$r")"
	assert_eq "no Messaging Service" null "$(jq -r .form.MessagingServiceSid <<<"$r")"
	assert_eq "StatusCallback: our Twilio webhook" "$TWURL" "$(jq -r .form.StatusCallback <<<"$r")"
	assert_eq "the body" "TEST SMS from the monitoring service: disk full on db1" "$(jq -r .form.Body <<<"$r")"
	assert_eq "exactly the Messages API fields" "Body From StatusCallback To" \
		"$(jq -r '.form | keys | join(" ")' <<<"$r")"
	assert_eq "Basic auth of the account SID and token" "Basic $(printf '%s:%s' "$SID" "$TOKEN" | base64 -w0)" \
		"$(jq -r .headers.authorization <<<"$r")"
	assert_eq "the Message SID kept" "$(jq -r .sid <<<"$r")" "$(col "$id" provider_message_id)"
}

scenario_messaging_service_instead_of_from() {
	id=$(env -u TWILIO_SMS_FROM TWILIO_MESSAGING_SERVICE_SID=$SERVICE \
		MONITORING_ENV_FILE="$MONITORING_ENV_FILE" "$BIN_DIR/cron" test-sms "$TO" "via the service" \
		2>>"$HARNESS_LOG_DIR/cron.log" | jq -r '.id // empty')
	assert_eq "sent" "sent||twilio|sms|sms" "$(row "$id")"
	r=$(last_sms)
	assert_eq "MessagingServiceSid, no From" "$SERVICE null" "$(jq -r '"\(.form.MessagingServiceSid) \(.form.From)"' <<<"$r")"
	assert_eq "To without whatsapp:" "$TO" "$(jq -r .form.To <<<"$r")"
}

# ---------------------------------------------------------------- status callbacks
scenario_status_callbacks_move_the_row() {
	a=$(test_sms "$TO" "first")
	b=$(test_sms +15552228888 "second")
	assert_eq "both sent" "sent sent" "$(col "$a" status) $(col "$b" status)"
	sid_a=$(col "$a" provider_message_id) sid_b=$(col "$b" provider_message_id)
	out=$(mock_callback "$(jq -cn --arg s "$sid_a" '{sid: $s, status: "sent"}')")
	assert_eq "our webhook took the signed sent callback" 200 "$(jq -r .status <<<"$out")"
	out=$(mock_callback "$(jq -cn --arg s "$sid_a" '{sid: $s, status: "delivered"}')")
	assert_eq "our webhook took the signed delivered callback" 200 "$(jq -r .status <<<"$out")"
	until_status "$a" delivered || true
	assert_eq "delivered moves the row" delivered "$(col "$a" status)"
	assert_eq "delivered_at set" t "$(col "$a" "delivered_at IS NOT NULL")"
	out=$(mock_callback "$(jq -cn --arg s "$sid_b" '{sid: $s, status: "undelivered", error_code: 30003}')")
	assert_eq "our webhook took the undelivered callback" 200 "$(jq -r .status <<<"$out")"
	until_status "$b" failed || true
	assert_eq "undelivered with 30003 (unreachable): failed with the code" "failed|30003|twilio|sms|sms" "$(row "$b")"
	assert_contains "the reason says undelivered" "$(col "$b" last_error)" "failed"
	# A late failure after delivery changes nothing.
	mock_callback "$(jq -cn --arg s "$sid_a" '{sid: $s, status: "failed", error_code: 30005}')" >/dev/null
	sleep 0.5
	assert_eq "a late failure does not undo delivered" delivered "$(col "$a" status)"
	# 30001 (queue overflow) comes back by callback: retried after the webhook's
	# SMS_RETRY_BASE_SECONDS (30 s by default, +-20%), not WhatsApp's RETRY_BASE_SECONDS (15).
	c=$(test_sms +15552227777 "third")
	mock_callback "$(jq -cn --arg s "$(col "$c" provider_message_id)" '{sid: $s, status: "failed", error_code: 30001}')" >/dev/null
	until_status "$c" queued || true
	assert_eq "failed with 30001: queued again" "queued|30001" "$(col "$c" "status || '|' || last_error_code")"
	assert_eq "after the SMS backoff (30 s +-20%)" t \
		"$(col "$c" "next_attempt_at - now() BETWEEN interval '22 s' AND interval '37 s'")"
	out=$(mock_callback "$(jq -cn --arg s "$sid_a" '{sid: $s, status: "delivered", sign_url: "https://elsewhere.example.test/cb"}')")
	assert_eq "a callback signed for another URL: 401" 401 "$(jq -r .status <<<"$out")"
}

# ---------------------------------------------------------------- errors
scenario_permanent_errors_fail_with_the_reason() {
	mock_script '[{"match": {"to": "+15550000404"}, "twilio_error": 21211},
	              {"match": {"to": "+15550000610"}, "twilio_error": 21610},
	              {"match": {"to": "+15550000614"}, "twilio_error": 21614}]'
	for c in 404:21211 610:21610 614:21614; do
		id=$(test_sms "+15550000${c%%:*}" "x")
		assert_eq "Twilio ${c#*:}: failed with the code" "failed|${c#*:}||sms|sms" "$(row "$id")"
	done
	assert_contains "the reason is Twilio's message" "$(col "$id" last_error)" "not a valid mobile number"
	assert_eq "each tried once" 3 "$(sent | jq length)"
	assert_eq "the sms account is not stopped" 0 \
		"$(psql_state "SELECT count(*) FROM delivery_state d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'sms' AND d.stopped")"
}

scenario_rate_limit_and_5xx_retried() {
	mock_script '[{"match": {"to": "+15550000429"}, "twilio_error": 20429},
	              {"match": {"to": "+15550000503"}, "status": 503},
	              {"match": {"to": "+15550000999"}, "close": true}]'
	# Its own retries: after SMS_RETRY_BASE_SECONDS, not WhatsApp's RETRY_BASE_SECONDS.
	export SMS_RETRY_BASE_SECONDS=60 SMS_RETRY_MAX_SECONDS=600 RETRY_BASE_SECONDS=1
	a=$(test_sms +15550000429 "rate limited")
	b=$(test_sms +15550000503 "server error")
	assert_eq "429 (20429): queued again" "queued|20429" "$(col "$a" "status || '|' || last_error_code")"
	assert_eq "503: queued again" "queued|http_503" "$(col "$b" "status || '|' || last_error_code")"
	assert_eq "the next attempt after SMS_RETRY_BASE_SECONDS (60 s +-20%)" "t t" \
		"$(col "$a" "next_attempt_at - now() BETWEEN interval '40 s' AND interval '75 s'") $(col "$b" "next_attempt_at - now() BETWEEN interval '40 s' AND interval '75 s'")"
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id IN ($a, $b)" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "the retry is sent" "sent sent" "$(col "$a" status) $(col "$b" status)"
	assert_eq "each reached the mock twice" "2 2" \
		"$(sent | jq -r '[(map(select(.to == "15550000429")) | length), (map(select(.to == "15550000503")) | length)] | join(" ")')"
	assert_eq "two attempts each" "2 2" "$(col "$a" attempts) $(col "$b" attempts)"
	# No answer at all (the connection dropped): retried too.
	c=$(test_sms +15550000999 "no answer")
	assert_eq "a dropped connection: queued again" queued "$(col "$c" status)"
	assert_match "with a transport code" '^(connect|timeout|transport.*|http_0)$' "$(col "$c" last_error_code)"
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id = $c" >/dev/null
	harness_cron drain >/dev/null
	assert_eq "and sent on the next drain" sent "$(col "$c" status)"
}

scenario_auth_error_stops_the_sms_account() {
	mock_twilio_auth "$SID" other-token
	id=$(test_sms "$TO" "x")
	assert_eq "the mock refused our token: 401 20003" 401 "$(last_sms | jq -r .answer.status)"
	assert_eq "the row waits" queued "$(col "$id" status)"
	assert_eq "the sms account is stopped" t \
		"$(psql_state "SELECT d.stopped FROM delivery_state d JOIN accounts a ON a.id = d.account_id WHERE a.name = 'sms'")"
	assert_contains "a critical alert says SMS sending stopped" \
		"$(psql_state "SELECT message FROM alerts WHERE rule = 'whatsapp_delivery' AND status = 'open'")" "SMS sending stopped"
	assert_eq "the operator's WhatsApp account goes on" 0 \
		"$(psql_state "SELECT count(*) FROM delivery_state WHERE account_id = 1 AND stopped")"
}

# ---------------------------------------------------------------- the body
scenario_control_characters_removed() {
	id=$(test_sms "$TO" $'line one\r\nline\x01 two\x1b[31m red\x7f\tend\xc2\x85')
	body=$(last_sms | jq -r .form.Body)
	assert_eq "control characters gone, LF kept, tab a space" \
		$'TEST SMS from the monitoring service: line one\nline two[31m red end' "$body"
	assert_eq "no C0 or C1 byte but LF in what Twilio got" 0 \
		"$(last_sms | jq -r .form.Body | tr -d '\n' | LC_ALL=C grep -c $'[\x01-\x1f\x7f]' || true)"
	assert_eq "sent" sent "$(col "$id" status)"
}

scenario_long_text_cut_to_the_budget() {
	long=$(printf 'a%.0s' $(seq 1000))
	test_sms "$TO" "$long" >/dev/null
	r=$(last_sms)
	assert_eq "GSM-7: 3 segments (SMS_MAX_SEGMENTS default)" "3 gsm7" "$(jq -r '"\(.segments) \(.encoding)"' <<<"$r")"
	assert_eq "GSM-7: 459 characters (3 x 153)" 459 "$(jq -r '.form.Body | length' <<<"$r")"
	assert_match "ends with ..." '\.\.\.$' "$(jq -r .form.Body <<<"$r")"
	cyr=$(printf 'Ж%.0s' $(seq 500))
	test_sms "$TO" "$cyr" >/dev/null
	r=$(last_sms)
	assert_eq "UCS-2: 3 segments" "3 ucs2" "$(jq -r '"\(.segments) \(.encoding)"' <<<"$r")"
	assert_eq "UCS-2: 201 characters (3 x 67)" 201 "$(jq -r '.form.Body | length' <<<"$r")"
	SMS_MAX_SEGMENTS=1 test_sms "$TO" "$long" >/dev/null
	r=$(last_sms)
	assert_eq "SMS_MAX_SEGMENTS=1: one segment of 160" "1 160" "$(jq -r '"\(.segments) \(.form.Body | length)"' <<<"$r")"
	test_sms "$TO" "short: ç stays UCS-2" >/dev/null
	assert_eq "a short UCS-2 text is whole, one segment" "1 ucs2 TEST SMS from the monitoring service: short: ç stays UCS-2" \
		"$(last_sms | jq -r '"\(.segments) \(.encoding) \(.form.Body)"')"
}

# ---------------------------------------------------------------- refusals and settings
scenario_bad_numbers_refused_at_submit() {
	before=$(psql_state "SELECT count(*) FROM whatsapp_logs")
	for bad in not-a-number $'+15552229999\nBody=x' "" "+1"; do
		rc=0
		harness_cron test-sms "$bad" x >/dev/null 2>"$HARNESS_DIR/err" || rc=$?
		assert_ne "number $(printf %q "$bad") refused" 0 "$rc"
	done
	assert_eq "nothing was queued" "$before" "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
	assert_eq "nothing reached the mock" 0 "$(sent | jq length)"
}

scenario_settings_checked_at_start() {
	check() { # check NAME=VALUE... EXPECTED-TEXT: cron config refuses, naming it
		local want=${*: -1} rc=0
		env "${@:1:$#-1}" "$BIN_DIR/cron" config >/dev/null 2>"$HARNESS_DIR/err" || rc=$?
		assert_eq "refused: ${*:1:$#-1}" 2 "$rc"
		assert_contains "the error names $want" "$(cat "$HARNESS_DIR/err")" "$want"
	}
	check TWILIO_MESSAGING_SERVICE_SID=$SERVICE "not both"
	check TWILIO_SMS_FROM=not-a-number "TWILIO_SMS_FROM"
	check TWILIO_SMS_FROM= TWILIO_MESSAGING_SERVICE_SID=MG1 "TWILIO_MESSAGING_SERVICE_SID must be"
	check TWILIO_ACCOUNT_SID= "TWILIO_ACCOUNT_SID is required to send SMS"
	check SMS_MAX_SEGMENTS=11 "SMS_MAX_SEGMENTS"
	check SMS_MAX_SEGMENTS=0 "SMS_MAX_SEGMENTS"
	out=$(harness_cron config)
	assert_eq "the settings are shown" "$FROM 3" \
		"$(jq -r '.configuration | "\(.TWILIO_SMS_FROM) \(.SMS_MAX_SEGMENTS)"' <<<"$out")"
}

harness_scenarios arrives_with_the_right_fields messaging_service_instead_of_from \
	status_callbacks_move_the_row permanent_errors_fail_with_the_reason rate_limit_and_5xx_retried \
	auth_error_stops_the_sms_account control_characters_removed long_text_cut_to_the_budget \
	bad_numbers_refused_at_submit settings_checked_at_start
harness_finish
