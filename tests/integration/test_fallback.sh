#!/usr/bin/env bash
# The fallback chain (issue 18; common/jobs/fallback.h, a step of cron drain and cron tick):
# WhatsApp (Meta's API at the mock) -> SMS (Twilio's Messages API at the mock) -> email (a real
# SMTP server on loopback, tests/mock/smtp_server.py), for operators' critical alerts and
# sellers' urgent ones: the next step goes when one fails for good or has no delivered receipt
# by FALLBACK_AFTER_SECONDS, never after delivered, once, linked by follows_id, to the
# recipient's own address (never another tenant's); a never-delivered critical alert escalates
# at once; hostile text and addresses reach no header and no SMS body.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=tests/integration/smtp.sh
. "$(dirname "${BASH_SOURCE[0]}")/smtp.sh"
smtp_check_installed || exit 1

harness_start
mock_start
smtp_setup

SID=AC$(random_hex 16) TOKEN=$(random_hex 16) SECRET=test-app-secret-0123456789
PNID=1234567890 SMS_FROM=+15553330000
OPS=+15550000001 OPS_SMS=+15559990001 OPS_MAIL=ops1@example.test
ESC=+15550000009
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env META_APP_SECRET "$SECRET"
harness_set_env TWILIO_ACCOUNT_SID "$SID"
harness_set_env TWILIO_AUTH_TOKEN "$TOKEN"
harness_set_env TWILIO_API_URL "$MOCK_URL/2010-04-01"
harness_set_env TWILIO_WEBHOOK_URL "$HTTP_BASE/monitoring/twilio/webhook"
harness_set_env TWILIO_SMS_FROM "$SMS_FROM"
harness_set_env SMTP_URL "smtp://127.0.0.1:$SMTP_PORT"
harness_set_env SMTP_FROM 'Ops Alerts <alerts@example.test>'
harness_set_env SMTP_CA_FILE "$SMTP_DIR/cert.pem"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env CRITICAL_PHONE_1 "$OPS"
harness_set_env CRITICAL_SMS_1 "$OPS_SMS"
harness_set_env CRITICAL_EMAIL_1 "$OPS_MAIL"
harness_restart_programs || fail "programs restarted"
harness_env_baseline
export SEND_TIMEOUT_MS=3000 SMTP_TIMEOUT_MS=5000 SMTP_RETRY_BASE_SECONDS=1 SMTP_RETRY_MAX_SECONDS=1 \
	SMS_RETRY_BASE_SECONDS=1 SMS_RETRY_MAX_SECONDS=1 ESCALATION_MINUTES=0 ALERT_REPEAT_MINUTES=0

fallback_setup() {
	mock_twilio_auth "$SID" "$TOKEN"
	smtp_stop
	smtp_clear
}
harness_scenario_setup fallback_setup

# ---------------------------------------------------------------- helpers
meta_sent() { mock_requests | jq -c '[.[] | select(.kind == "meta")]'; }
sms_sent() { mock_requests | jq -c '[.[] | select(.kind == "twilio")]'; }
arrived() { find "$SMTP_DIR/maildir/new" -type f 2>/dev/null | wc -l; }
only_mail() { find "$SMTP_DIR/maildir/new" -type f | head -n 1; }
col() { psql_state "SELECT $2 FROM whatsapp_logs WHERE id = $1"; }
# chain_of ID: each step from ID on: channel|address|status, joined by " > "
chain_of() {
	psql_state "WITH RECURSIVE c AS (SELECT id, channel, phone_number, status, 1 AS n
	  FROM whatsapp_logs WHERE id = $1
	  UNION ALL SELECT w.id, w.channel, w.phone_number, w.status, c.n + 1
	  FROM whatsapp_logs w JOIN c ON w.follows_id = c.id)
	 SELECT string_agg(channel || '|' || phone_number || '|' || status, ' > ' ORDER BY n) FROM c"
}
first_wa() { psql_state "SELECT min(id) FROM whatsapp_logs WHERE channel = 'whatsapp' AND follows_id IS NULL"; }
next_of() { psql_state "SELECT id FROM whatsapp_logs WHERE follows_id = $1"; }
critical() { harness_cron test-alert critical "$1" >/dev/null || true; }
drain() { harness_cron drain; }
# meta_status WAMID STATUS: Meta's signed status webhook for one of our messages
meta_status() {
	local body sig
	body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"statuses":[{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"%s"}]}}]}]}' \
		"$PNID" "$1" "$2" "$(date +%s)" "${OPS#+}")
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$sig"
}
until_col() { # until_col ID EXPR VALUE: wait (up to 10 s) until the row's EXPR is VALUE
	local i
	for i in $(seq 100); do
		[[ $(col "$1" "$2") == "$3" ]] && return 0
		sleep 0.1
	done
	return 1
}
refuse_whatsapp() { # refuse_whatsapp NUMBER: Meta answers 131026 (undeliverable) to it, always
	mock_script "[{\"match\": {\"to\": \"$1\", \"provider\": \"meta\"}, \"meta_error\": 131026, \"times\": -1}${2:+, $2}]"
}

# ---------------------------------------------------------------- operators' critical alerts
scenario_refused_whatsapp_goes_by_sms() {
	refuse_whatsapp "$OPS"
	critical "db1 is down"
	wa=$(first_wa)
	assert_eq "WhatsApp refused: failed with 131026" "failed|131026" "$(col "$wa" "status || '|' || last_error_code")"
	assert_eq "no SMS yet (the next drain decides)" 0 "$(sms_sent | jq length)"
	out=$(drain)
	assert_eq "the drain queued one next step" 1 "$(jq .fallback_queued <<<"$out")"
	sms=$(next_of "$wa")
	assert_match "an SMS step follows the WhatsApp message" '^[0-9]+$' "$sms"
	assert_eq "the chain: WhatsApp failed, SMS sent to CRITICAL_SMS_1" \
		"whatsapp|$OPS|failed > sms|$OPS_SMS|sent" "$(chain_of "$wa")"
	assert_eq "the SMS arrived at the mock, once" 1 "$(sms_sent | jq length)"
	r=$(sms_sent | jq -c '.[0]')
	assert_eq "to CRITICAL_SMS_1, from TWILIO_SMS_FROM" "$OPS_SMS $SMS_FROM" "$(jq -r '"\(.form.To) \(.form.From)"' <<<"$r")"
	assert_contains "the alert's text" "$(jq -r .form.Body <<<"$r")" "db1 is down"
	assert_eq "keyed fallback:<id>, same priority and alert ids" "fallback:$wa|critical|true" \
		"$(col "$sms" "idempotency_key || '|' || priority || '|' || (alert_ids = (SELECT alert_ids FROM whatsapp_logs WHERE id = $wa))")"
	assert_eq "the WhatsApp row says what the fallback step did" "queued|failed" \
		"$(col "$wa" "fallback_state || '|' || fallback_reason")"
	assert_eq "the SMS carries the rest of the chain and a deadline" "{email}|true" \
		"$(col "$sms" "fallback_chain::text || '|' || (fallback_at > now())")"
	out=$(drain)
	assert_eq "a second drain queues nothing more" "0 1" "$(jq .fallback_queued <<<"$out") $(sms_sent | jq length)"
	assert_eq "one row follows the WhatsApp message" 1 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE follows_id = $wa")"
}

scenario_accepted_but_never_delivered_sms_after_the_timer() {
	export FALLBACK_AFTER_SECONDS=2
	critical "replication lag 900 s"
	wa=$(first_wa)
	assert_eq "WhatsApp accepted" sent "$(col "$wa" status)"
	out=$(drain)
	assert_eq "before the deadline: nothing" "0 0" "$(jq .fallback_queued <<<"$out") $(sms_sent | jq length)"
	sleep 2.2
	out=$(drain)
	assert_eq "after FALLBACK_AFTER_SECONDS without a receipt: the SMS" 1 "$(jq .fallback_queued <<<"$out")"
	assert_eq "late, queued" "queued|late" "$(col "$wa" "fallback_state || '|' || fallback_reason")"
	assert_eq "the SMS went" "whatsapp|$OPS|sent > sms|$OPS_SMS|sent" "$(chain_of "$wa")"
	# A late delivered receipt for the WhatsApp message cancels nothing.
	meta_status "$(col "$wa" provider_message_id)" delivered
	assert_eq "the webhook took the receipt" 200 "$HTTP_STATUS"
	until_col "$wa" status delivered || true
	drain >/dev/null
	assert_eq "delivered now; the SMS step stays, nothing new" "whatsapp|$OPS|delivered > sms|$OPS_SMS|sent" "$(chain_of "$wa")"
	assert_eq "one SMS in all" 1 "$(sms_sent | jq length)"
}

# The canary late (issue 20, monitor/canary.h): its critical alert is an operator's critical
# alert like any other, so when WhatsApp does not deliver that either, it goes by SMS.
scenario_canary_late_alert_falls_back_to_sms() {
	export CANARY_INTERVAL=60 CANARY_PHONE=+15550000077 CANARY_DEADLINE=30 FALLBACK_AFTER_SECONDS=2
	harness_cron tick >/dev/null
	assert_eq "a canary went out on WhatsApp" 1 \
		"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'canary' AND status = 'sent'")"
	psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '40 seconds' WHERE kind = 'canary'" >/dev/null
	harness_cron tick >/dev/null
	wa=$(psql_state "SELECT min(id) FROM whatsapp_logs WHERE channel = 'whatsapp' AND phone_number = '$OPS' AND message_content LIKE '%Canary late%'")
	assert_match "no receipt by CANARY_DEADLINE: the critical alert told the operator" '^[0-9]+$' "$wa"
	assert_eq "it carries the critical chain" "{sms,email}" "$(col "$wa" "fallback_chain::text")"
	sleep 2.2
	out=$(drain)
	assert_eq "undelivered past FALLBACK_AFTER_SECONDS: the SMS step" 1 "$(jq .fallback_queued <<<"$out")"
	assert_eq "the chain: WhatsApp sent, SMS to CRITICAL_SMS_1" "whatsapp|$OPS|sent > sms|$OPS_SMS|sent" \
		"$(chain_of "$wa")"
	assert_contains "the SMS says the canary is late" \
		"$(sms_sent | jq -r --arg to "$OPS_SMS" '[.[] | select(.form.To == $to) | .form.Body] | last // ""')" \
		"Canary late"
	assert_eq "the canary itself never falls back (no SMS to CANARY_PHONE)" 0 \
		"$(sms_sent | jq '[.[] | select(.form.To == "+15550000077")] | length')"
	unset CANARY_INTERVAL CANARY_PHONE CANARY_DEADLINE FALLBACK_AFTER_SECONDS
}

scenario_delivered_whatsapp_sends_no_sms() {
	export FALLBACK_AFTER_SECONDS=1
	critical "disk 97%"
	wa=$(first_wa)
	meta_status "$(col "$wa" provider_message_id)" delivered
	until_col "$wa" status delivered || true
	sleep 1.2
	out=$(drain)
	assert_eq "delivered before its deadline: no next step" "0 0 0" \
		"$(jq .fallback_queued <<<"$out") $(sms_sent | jq length) $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE follows_id IS NOT NULL")"
	assert_eq "and nothing recorded on it" "" "$(col "$wa" "fallback_state")"
	# Read (without a delivered first) counts as well.
	critical "disk 98%"
	wa2=$(psql_state "SELECT max(id) FROM whatsapp_logs WHERE channel = 'whatsapp'")
	meta_status "$(col "$wa2" provider_message_id)" read
	until_col "$wa2" status read || true
	sleep 1.2
	drain >/dev/null
	assert_eq "read: no SMS either" 0 "$(sms_sent | jq length)"
}

scenario_no_timer_where_no_receipt_comes() {
	export WHATSAPP_PROVIDER=sandbox FALLBACK_AFTER_SECONDS=1
	critical "sandbox alert"
	wa=$(first_wa)
	assert_eq "sent by the sandbox, which sends no receipts" "sent|sandbox" "$(col "$wa" "status || '|' || provider")"
	sleep 1.2
	out=$(drain)
	assert_eq "past the deadline: no SMS" "0 0" "$(jq .fallback_queued <<<"$out") $(sms_sent | jq length)"
	assert_eq "its chain is dropped: nothing can fail it any more" "||" \
		"$(col "$wa" "coalesce(fallback_chain::text, '') || '|' || coalesce(fallback_at::text, '') || '|' || coalesce(fallback_state, '')")"
}

scenario_sms_failing_too_the_email_arrives() {
	smtp_start tls
	refuse_whatsapp "$OPS" "{\"match\": {\"to\": \"$OPS_SMS\"}, \"twilio_error\": 21211, \"times\": -1}"
	critical $'orders dropped 80%\nsince 09:00'
	wa=$(first_wa)
	drain >/dev/null # the SMS step, refused (21211: not a valid number)
	sms=$(next_of "$wa")
	assert_eq "SMS failed for good" "failed|21211" "$(col "$sms" "status || '|' || last_error_code")"
	drain >/dev/null # the email step
	email=$(next_of "$sms")
	assert_eq "the chain: WhatsApp, SMS, email, each to its own address" \
		"whatsapp|$OPS|failed > sms|$OPS_SMS|failed > email|$OPS_MAIL|sent" "$(chain_of "$wa")"
	assert_eq "the email is in the Maildir, once" 1 "$(arrived)"
	f=$(only_mail)
	assert_contains "to CRITICAL_EMAIL_1" "$(grep -i '^To:' "$f")" "$OPS_MAIL"
	assert_contains "its subject is the alert" "$(grep -i '^Subject:' "$f")" "orders dropped 80%"
	assert_eq "email is the last step: no chain left, no timer" "{}|" "$(col "$email" "fallback_chain::text || '|' || coalesce(fallback_at::text, '')")"
	assert_eq "the Message-ID kept" t "$(col "$email" "provider_message_id LIKE '<%@%>'")"
	drain >/dev/null
	assert_eq "nothing after email" 3 "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
}

scenario_smtp_down_then_back_the_email_arrives_once() {
	export FALLBACK_CHAIN_CRITICAL=whatsapp,email
	refuse_whatsapp "$OPS"
	critical "api 5xx 40%"
	wa=$(first_wa)
	drain >/dev/null # no SMTP server: the email step is tried and retried
	email=$(next_of "$wa")
	assert_eq "whatsapp,email: email straight after WhatsApp" "whatsapp|$OPS|failed > email|$OPS_MAIL|queued" "$(chain_of "$wa")"
	assert_ne "it records why it waits" "" "$(col "$email" "coalesce(last_error_code, '')")"
	smtp_start tls
	psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE id = $email" >/dev/null
	drain >/dev/null
	assert_eq "the server is back: sent" sent "$(col "$email" status)"
	assert_eq "it arrived once" 1 "$(arrived)"
	drain >/dev/null
	assert_eq "still once" 1 "$(arrived)"
	assert_eq "no second email step" 2 "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
}

scenario_no_address_left_exhausts_the_chain() {
	export CRITICAL_SMS_1=none CRITICAL_EMAIL_1=
	refuse_whatsapp "$OPS"
	critical "no way to reach"
	wa=$(first_wa)
	out=$(drain)
	assert_eq "no SMS number (none), no email: exhausted" "1 exhausted|failed" \
		"$(jq .fallback_exhausted <<<"$out") $(col "$wa" "fallback_state || '|' || fallback_reason")"
	assert_eq "no row follows" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE follows_id IS NOT NULL")"
}

scenario_stopped_account_falls_back_at_once() {
	mock_script '[{"match": {"provider": "meta"}, "meta_error": 190, "times": -1}]'
	critical "token revoked"
	wa=$(first_wa)
	assert_eq "190: the row waits queued, the account stopped" "queued|true" \
		"$(col "$wa" "status || '|' || (SELECT stopped FROM delivery_state WHERE account_id = 1)")"
	drain >/dev/null
	assert_eq "the SMS goes at once" "whatsapp|$OPS|queued > sms|$OPS_SMS|sent" "$(chain_of "$wa")"
	assert_eq "reason stopped" stopped "$(col "$wa" fallback_reason)"
}

# ---------------------------------------------------------------- receipt-driven escalation
scenario_never_delivered_escalates_at_once() {
	export ESCALATION_PHONE_1=$ESC ESCALATION_MINUTES=60
	export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
	refuse_whatsapp "$OPS"
	harness_cron check >/dev/null
	harness_cron drain >/dev/null
	aid=$(psql_state "SELECT id FROM alerts WHERE status = 'open' AND severity = 'critical'")
	assert_match "a critical alert opened" '^[0-9]+$' "$aid"
	assert_eq "its WhatsApp failed for good" failed "$(psql_state "SELECT status FROM whatsapp_logs WHERE kind = 'alert' AND channel = 'whatsapp'")"
	out=$(harness_cron drain)
	assert_eq "the next channel and the escalation in the same run" "1 1" \
		"$(jq .fallback_queued <<<"$out") $(jq .escalated <<<"$out")"
	assert_eq "escalated long before ESCALATION_MINUTES" 1 "$(psql_state "SELECT escalation_level FROM alerts WHERE id = $aid")"
	esc=$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'escalation' AND phone_number = '$ESC'")
	assert_contains "the escalation says it was not delivered" "$esc" "not delivered"
}

scenario_delivered_unacknowledged_waits_the_timer() {
	export ESCALATION_PHONE_1=$ESC ESCALATION_MINUTES=60 FALLBACK_AFTER_SECONDS=1
	export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
	harness_cron check >/dev/null
	harness_cron drain >/dev/null
	aid=$(psql_state "SELECT id FROM alerts WHERE status = 'open' AND severity = 'critical'")
	wa=$(psql_state "SELECT id FROM whatsapp_logs WHERE kind = 'alert'")
	meta_status "$(col "$wa" provider_message_id)" delivered
	until_col "$wa" status delivered || true
	sleep 1.2
	out=$(harness_cron drain)
	assert_eq "delivered, not acknowledged: no escalation before the timer" "0 0" \
		"$(jq .escalated <<<"$out") $(jq .fallback_queued <<<"$out")"
	psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE id = $aid" >/dev/null
	out=$(harness_cron drain)
	assert_eq "after ESCALATION_MINUTES it escalates as before" 1 "$(jq .escalated <<<"$out")"
	assert_contains "saying not acknowledged" \
		"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'escalation'")" "not acknowledged for"
}

# ---------------------------------------------------------------- sellers
post() {
	events_post "$1"
	assert_eq "event posted: 200" 200 "$HTTP_STATUS"
}
payment_failed() { # ID TENANT: urgent
	printf '{"id":"%s","type":"payment.failed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"1001","amount":{"amount":1250000,"currency":"NGN"},"reason":"card declined","customer":{"name":"Ada"}}}' "$1" "$2"
}
low_stock() { # ID TENANT: low
	printf '{"id":"%s","type":"inventory.low","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"product":"Soap","sku":"S-1","quantity":2}}' "$1" "$2"
}
A=+2349020000001 B=+2349020000002 A_SMS=+2349020000101 B_SMS=+2349020000102

scenario_seller_urgent_takes_its_chain_low_does_not() {
	smtp_start tls
	make_tenant shop-a "$A" ",\"sms_number\":\"$A_SMS\",\"email\":\"owner@shop-a.test\""
	make_tenant shop-b "$B" ",\"sms_number\":\"$B_SMS\",\"email\":\"owner@shop-b.test\""
	# Every WhatsApp to either seller is refused; shop A's SMS too.
	mock_script "[{\"match\": {\"provider\": \"meta\"}, \"meta_error\": 131026, \"times\": -1},
	              {\"match\": {\"to\": \"$A_SMS\"}, \"twilio_error\": 21211, \"times\": -1}]"
	post "$(payment_failed ev-a1 shop-a)"
	post "$(payment_failed ev-b1 shop-b)"
	harness_cron tick >/dev/null
	# A low alert of A on its own (one tick's alerts of a seller go as one message).
	post "$(low_stock ev-a2 shop-a)"
	harness_cron tick >/dev/null # SMS steps; the low alert
	wa_a=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '$A' AND priority = 'critical'")
	low_a=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '$A' AND priority = 'info'")
	wa_b=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '$B'")
	assert_eq "both WhatsApp alerts of A refused" "failed failed" "$(col "$wa_a" status) $(col "$low_a" status)"
	harness_cron tick >/dev/null # A's email step
	harness_cron tick >/dev/null
	assert_eq "A's urgent alert: WhatsApp, SMS, email, all A's" \
		"whatsapp|$A|failed > sms|$A_SMS|failed > email|owner@shop-a.test|sent" "$(chain_of "$wa_a")"
	assert_eq "B's: its own SMS number" "whatsapp|$B|failed > sms|$B_SMS|sent" "$(chain_of "$wa_b")"
	assert_eq "A's low alert: WhatsApp only, nothing follows" "whatsapp|$A|failed" "$(chain_of "$low_a")"
	assert_eq "no row of A's tenant goes to B's addresses, nor the reverse" 0 \
		"$(psql_state "SELECT count(*) FROM whatsapp_logs w JOIN tenants t ON t.id = w.tenant_id
		  WHERE w.phone_number NOT IN (t.whatsapp_number, coalesce(t.sms_number, ''), coalesce(t.email, ''))")"
	assert_eq "every step keeps its tenant" 0 \
		"$(psql_state "SELECT count(*) FROM whatsapp_logs f JOIN whatsapp_logs p ON p.id = f.follows_id WHERE f.tenant_id IS DISTINCT FROM p.tenant_id")"
	sms_b=$(sms_sent | jq -c "[.[] | select(.form.To == \"$B_SMS\")][0]")
	assert_eq "B's SMS is the payment.failed SMS text" "Payment FAILED #1001" "$(jq -r '.form.Body' <<<"$sms_b" | cut -d: -f1)"
	assert_eq "one email in all, to A" "1 owner@shop-a.test" "$(arrived) $(grep -i '^To:' "$(only_mail)" | grep -o 'owner@shop-a.test')"
	assert_contains "its subject is the alert type's" "$(grep -i '^Subject:' "$(only_mail)")" "Payment failed #1001"
}

order_placed() { # ID TENANT: normal
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"2002","total":{"amount":500000,"currency":"NGN"},"items":1,"customer":{"name":"Bola"}}}' "$1" "$2"
}

scenario_seller_channels_from_preferences() {
	export FALLBACK_NORMAL_AFTER_SECONDS=1
	make_tenant shop-p "$A" ",\"sms_number\":\"$A_SMS\",\"email\":\"owner@shop-p.test\""
	tok=$(tenant_jwt shop-p)
	http GET /tenants/me/preferences "" -H "Authorization: Bearer $tok"
	assert_eq "order.placed (normal): whatsapp then email by default; payment.failed all three" \
		'["whatsapp","email"] ["whatsapp","sms","email"]' \
		"$(jq -c '.preferences["order.placed"].channels' <<<"$HTTP_BODY") $(jq -c '.preferences["payment.failed"].channels' <<<"$HTTP_BODY")"
	http PATCH /tenants/me/preferences '{"preferences":{"order.placed":{"channels":["whatsapp","sms"]}}}' \
		-H "Authorization: Bearer $tok"
	assert_eq "the seller chooses whatsapp then sms: 200" '200 ["whatsapp","sms"]' \
		"$HTTP_STATUS $(jq -c '.preferences["order.placed"].channels' <<<"$HTTP_BODY")"
	http PATCH /tenants/me/preferences '{"preferences":{"order.placed":{"channels":["email","whatsapp"]}}}' \
		-H "Authorization: Bearer $tok"
	assert_eq "whatsapp not first: 400 on the field" "400 preferences.order.placed.channels" \
		"$HTTP_STATUS $(jq -r .error.field <<<"$HTTP_BODY")"
	post "$(order_placed ev-p1 shop-p)"
	harness_cron tick >/dev/null # WhatsApp sent (the mock accepts), no receipt
	wa=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '$A'")
	assert_eq "its chain is the seller's, with the normal deadline" "{sms}|true" \
		"$(col "$wa" "fallback_chain::text || '|' || (fallback_at <= created_at + interval '2 seconds')")"
	sleep 1.2
	harness_cron tick >/dev/null
	assert_eq "no receipt in FALLBACK_NORMAL_AFTER_SECONDS: SMS, not email" "whatsapp|$A|sent > sms|$A_SMS|sent" "$(chain_of "$wa")"
	assert_contains "the SMS is the order's SMS text" "$(sms_sent | jq -r '.[0].form.Body')" "2002"
	http GET /tenants/me/alerts "" -H "Authorization: Bearer $tok"
	assert_eq "the seller's list: the SMS step, then the WhatsApp message, each carrying the order" \
		'sms ["order.placed"] ["ev-p1"] whatsapp ["order.placed"] ["ev-p1"]' \
		"$(jq -r '[.alerts[] | "\(.channel) \(.types | tojson) \(.event_ids | tojson)"] | join(" ")' <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- hostile input
scenario_hostile_text_and_addresses() {
	smtp_start tls
	export FALLBACK_CHAIN_CRITICAL=whatsapp,sms,email
	refuse_whatsapp "$OPS" "{\"match\": {\"to\": \"$OPS_SMS\"}, \"twilio_error\": 21211, \"times\": -1}"
	# CR/LF in the alert's text (its email subject), control characters in the SMS body.
	critical $'evil\r\nBcc: victim@example.test\r\nX-Injected: 1\x07\x1b[31m end'
	wa=$(first_wa)
	drain >/dev/null
	body=$(sms_sent | jq -r '.[0].form.Body')
	assert_not_contains "no BEL in the SMS" "$body" $'\x07'
	assert_not_contains "no ESC in the SMS" "$body" $'\x1b'
	assert_not_contains "no CR in the SMS" "$body" $'\r'
	drain >/dev/null
	assert_eq "the email arrived" 1 "$(arrived)"
	hdr=$(sed -n '1,/^\r\?$/p' "$(only_mail)")
	assert_not_contains "no Bcc header" "$hdr" $'\nBcc:'
	assert_not_contains "no injected header" "$hdr" $'\nX-Injected:'
	assert_eq "only the To recipient got it" "1" "$(jq -r 'select(.cmd == "RCPT") | .arg' "$SMTP_DIR/commands.jsonl" | wc -l)"
	# A seller whose stored email holds a newline (written past the API): skipped, never sent.
	make_tenant shop-h "$A" ''
	psql_state "UPDATE tenants SET email = E'owner@shop-h.test\\nBcc: x@evil.test' WHERE external_id = 'shop-h'" >/dev/null
	post "$(payment_failed ev-h1 shop-h)"
	mock_script "[{\"match\": {\"provider\": \"meta\"}, \"meta_error\": 131026, \"times\": -1},
	              {\"match\": {\"to\": \"$A\"}, \"twilio_error\": 21211, \"times\": -1}]"
	harness_cron tick >/dev/null
	harness_cron tick >/dev/null
	harness_cron tick >/dev/null
	hw=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '$A' AND channel = 'whatsapp'")
	assert_eq "the seller's chain ends at SMS: the address with a newline is refused" \
		"whatsapp|$A|failed > sms|$A|failed" "$(chain_of "$hw")"
	assert_eq "its SMS step says exhausted" exhausted "$(col "$(next_of "$hw")" fallback_state)"
	assert_eq "no mail went to it" 1 "$(arrived)"
	assert_contains "the refusal is logged" "$(cat "$HARNESS_LOG_DIR/cron.log")" "fallback_address_refused"
	# A customer's name with CR/LF in a seller's normal alert, whose email subject names them.
	make_tenant shop-c "$B" ',"email":"owner@shop-c.test"'
	post '{"id":"ev-c1","type":"conversation.started","tenant":"shop-c","occurred_at":"2026-12-02T14:05:00Z","data":{"customer":{"phone":"+2349012345678","name":"Ada\r\nBcc: victim@example.test\r\nX-Injected: 1"},"message":"hi\u0007there"}}'
	harness_cron tick >/dev/null # WhatsApp refused
	harness_cron tick >/dev/null # email (normal: whatsapp, email)
	assert_eq "the seller's email arrived" 2 "$(arrived)"
	f=$(grep -l "owner@shop-c.test" "$SMTP_DIR"/maildir/new/* | head -n 1)
	hdr=$(sed -n '1,/^\r\?$/p' "$f")
	subj=$($SMTP_PY -c 'import email, email.policy, sys; print(email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)["Subject"])' "$f")
	assert_contains "its subject names the customer" "$subj" "New chat from Ada Bcc: victim@example.test X-Injected: 1"
	assert_not_contains "the decoded subject holds no line break" "$subj" $'\r'
	assert_eq "its raw subject is one header line" 1 "$(grep -c '^Subject:' <<<"$hdr")"
	assert_not_contains "no Bcc header from the name" "$hdr" $'\nBcc:'
	assert_not_contains "no injected header from the name" "$hdr" $'\nX-Injected:'
	assert_eq "one recipient for it" 1 "$(grep -c 'owner@shop-c.test' <(jq -r 'select(.cmd == "RCPT") | .arg' "$SMTP_DIR/commands.jsonl"))"
}

# ---------------------------------------------------------------- the state database down: the spool
SPOOL=$HARNESS_DIR/spool/outbox.spool
QUARANTINE=$HARNESS_DIR/spool/outbox.spool.quarantine
# spool_lines message CHANNEL: the spool's message lines on that channel; spool_lines result: its
# result lines
spool_lines() {
	if [[ $1 == message ]]; then
		jq -c "select(.type == \"message\" and .channel == \"$2\")" "$SPOOL" | wc -l
	else
		jq -c 'select(.type == "result")' "$SPOOL" | wc -l
	fi
}
message_id_of() { grep -i '^Message-ID:' "$1" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

scenario_spool_sends_email_and_sms_and_replays_them_once() {
	smtp_start tls
	harness_stop_pg
	out=$(harness_cron test-email "$OPS_MAIL" "replica gone" || true)
	assert_eq "state database down: the test email is spooled and sent through it" "email|true|1" \
		"$(jq -r '"\(.channel)|\(.spooled)|\(.sent_while_database_down)"' <<<"$out")"
	mail_key=$(jq -r .key <<<"$out")
	assert_eq "the email is in the Maildir, while the database is still down" 1 "$(arrived)"
	f=$(only_mail)
	assert_contains "to the address asked" "$(grep -i '^To:' "$f")" "$OPS_MAIL"
	assert_contains "with its text" "$(cat "$f")" "replica gone"
	out=$(harness_cron test-sms "$OPS_SMS" "replica gone" || true)
	assert_eq "and the test SMS" "sms|true|1" \
		"$(jq -r '"\(.channel)|\(.spooled)|\(.sent_while_database_down)"' <<<"$out")"
	sms_key=$(jq -r .key <<<"$out")
	assert_eq "the SMS reached Twilio's API at the mock, once" 1 "$(sms_sent | jq length)"
	r=$(sms_sent | jq -c '.[0]')
	assert_eq "to the number, from TWILIO_SMS_FROM, with its receipt callback" \
		"$OPS_SMS $SMS_FROM $HTTP_BASE/monitoring/twilio/webhook" \
		"$(jq -r '"\(.form.To) \(.form.From) \(.form.StatusCallback)"' <<<"$r")"
	sid=$(jq -r .sid <<<"$r")
	assert_eq "the spool holds each message with its channel, and each result" "1 1 2" \
		"$(spool_lines message email) $(spool_lines message sms) $(spool_lines result)"
	assert_eq "no WhatsApp was sent for either" 0 "$(meta_sent | jq length)"
	harness_start_pg
	out=$(drain)
	assert_eq "back: the drain replays the four lines" 4 "$(jq .replayed <<<"$out")"
	assert_eq "the email's row: channel email, sent by smtp, the email account" \
		"email|$OPS_MAIL|sent|smtp|email|1" \
		"$(psql_state "SELECT w.channel || '|' || w.phone_number || '|' || w.status || '|' || w.provider || '|' || a.name
		 || '|' || w.attempts FROM whatsapp_logs w JOIN accounts a ON a.id = w.account_id
		 WHERE w.idempotency_key = '$mail_key'")"
	assert_eq "with the Message-ID of the email that arrived" "$(message_id_of "$f")" \
		"$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE idempotency_key = '$mail_key'")"
	assert_eq "the SMS's row: channel sms, sent by twilio, the sms account, its SID" \
		"sms|$OPS_SMS|sent|twilio|sms|$sid" \
		"$(psql_state "SELECT w.channel || '|' || w.phone_number || '|' || w.status || '|' || w.provider || '|' || a.name
		 || '|' || w.provider_message_id FROM whatsapp_logs w JOIN accounts a ON a.id = w.account_id
		 WHERE w.idempotency_key = '$sms_key'")"
	assert_eq "the spool is emptied" 0 "$(wc -c <"$SPOOL")"
	drain >/dev/null
	drain >/dev/null
	assert_eq "nothing sent twice: one email, one SMS, two rows" "1 1 2" \
		"$(arrived) $(sms_sent | jq length) $(psql_state "SELECT count(*) FROM whatsapp_logs")"
	# The SMS's receipt finds the replayed row by its SID.
	mock_callback "{\"sid\": \"$sid\", \"status\": \"delivered\"}" >/dev/null
	id=$(psql_state "SELECT id FROM whatsapp_logs WHERE idempotency_key = '$sms_key'")
	until_col "$id" status delivered || true
	assert_eq "its delivered receipt moves the replayed row" delivered "$(col "$id" status)"
}

scenario_spool_keeps_the_chain_and_it_resumes_after_replay() {
	# Accepted on WhatsApp while the state database is down, never delivered: only the database
	# can tell (no receipt by the deadline), so the chain resumes after the replay.
	export FALLBACK_CHAIN_CRITICAL=whatsapp,email FALLBACK_AFTER_SECONDS=2
	smtp_start tls
	harness_stop_pg
	critical "primary unreachable"
	assert_eq "state database down: the critical alert went by WhatsApp through the spool" 1 "$(meta_sent | jq length)"
	assert_eq "accepted: no email" 0 "$(arrived)"
	assert_eq "the spooled line carries the chain after WhatsApp and its deadline" "whatsapp|{email}|2" \
		"$(jq -r 'select(.type == "message") | "\(.channel)|\(.fallback_chain)|\(.fallback_after_s)"' "$SPOOL")"
	harness_start_pg
	drain >/dev/null # the replay: the WhatsApp row, sent, with its chain
	wa=$(first_wa)
	assert_eq "replayed sent, with its wamid, its chain and its deadline from when it was spooled" \
		"sent|wamid|{email}|true" \
		"$(col "$wa" "status || '|' || left(provider_message_id, 5) || '|' || fallback_chain::text || '|' || (fallback_at = created_at + interval '2 s')")"
	sleep 2.2
	drain >/dev/null # no delivered receipt by the deadline: the fallback step sees it
	assert_eq "the chain resumed: the email step follows it" "whatsapp|$OPS|sent > email|$OPS_MAIL|sent" "$(chain_of "$wa")"
	assert_eq "late" "queued|late" "$(col "$wa" "fallback_state || '|' || fallback_reason")"
	assert_eq "the email is in the Maildir, once" 1 "$(arrived)"
	assert_contains "with the alert's text" "$(cat "$(only_mail)")" "primary unreachable"
	drain >/dev/null
	assert_eq "still once; WhatsApp not sent again" "1 1" "$(arrived) $(meta_sent | jq length)"
}

scenario_spool_critical_refused_goes_by_email_while_down() {
	# An operator's chain needs no database to take its next step: a critical alert refused on
	# WhatsApp while the state database is down gets its email step from the spool at once.
	export FALLBACK_CHAIN_CRITICAL=whatsapp,email
	smtp_start tls
	refuse_whatsapp "$OPS"
	harness_stop_pg
	critical "primary unreachable"
	assert_eq "state database down: the alert went by WhatsApp through the spool, refused" 1 "$(meta_sent | jq length)"
	assert_eq "its email step is in the Maildir, while the database is still down" 1 "$(arrived)"
	f=$(only_mail)
	assert_contains "to CRITICAL_EMAIL_1" "$(grep -i '^To:' "$f")" "$OPS_MAIL"
	assert_contains "with the alert's text" "$(cat "$f")" "primary unreachable"
	msgs=$(jq -sc '[.[] | select(.type == "message")]' "$SPOOL")
	assert_eq "the spool: the WhatsApp message and the email step that follows it (by its key)" \
		"whatsapp|{email} email|{}|true" \
		"$(jq -r '"\(.[0].channel)|\(.[0].fallback_chain) \(.[1].channel)|\(.[1].fallback_chain)|\(.[1].follows_key == .[0].key)"' <<<"$msgs")"
	assert_eq "and their results: failed (its next step taken), sent" "failed|failed sent|" \
		"$(jq -r 'select(.type == "result") | "\(.status)|\(.fallback // "")"' "$SPOOL" | paste -sd' ')"
	harness_start_pg
	out=$(drain)
	assert_eq "back: the four lines replayed" 4 "$(jq .replayed <<<"$out")"
	wa=$(first_wa)
	assert_eq "the chain as the fallback step would have left it: WhatsApp failed, email sent" \
		"whatsapp|$OPS|failed > email|$OPS_MAIL|sent" "$(chain_of "$wa")"
	email=$(next_of "$wa")
	assert_eq "the WhatsApp row marked: its next step queued, because it failed" "queued|failed" \
		"$(col "$wa" "fallback_state || '|' || fallback_reason")"
	assert_eq "the email row: channel email, the email account, its Message-ID, no chain left" \
		"email|email|$(message_id_of "$f")|{}" \
		"$(psql_state "SELECT w.channel || '|' || a.name || '|' || w.provider_message_id || '|' || w.fallback_chain::text
		 FROM whatsapp_logs w JOIN accounts a ON a.id = w.account_id WHERE w.id = $email")"
	drain >/dev/null
	drain >/dev/null
	assert_eq "nothing sent twice, no second step: one WhatsApp, one email, two rows" "1 1 2" \
		"$(meta_sent | jq length) $(arrived) $(psql_state "SELECT count(*) FROM whatsapp_logs")"
}

scenario_spool_old_format_and_bad_lines() {
	# A spool left by the previous version (no "v": WhatsApp, the operator account), a line that is
	# not JSON, a new-format email line whose address smuggles a header, and one holding a NUL.
	local now
	now=$(date +%s)
	mkdir -p "$HARNESS_DIR/spool"
	{
		printf '{"type":"message","key":"old:1","phone":"%s","content":"CRITICAL old format","priority":"critical","kind":"alert","alert_ids":[],"emergency":false,"not_before":0,"created_at":%s}\n' "$OPS" "$now"
		printf '{"type":"result","key":"old:1","status":"sent","provider":"meta","message_id":"wamid.OLDFORMAT","as_template":false,"at":%s}\n' "$now"
		printf 'this line is not JSON\n'
		printf '%s\n' '{"type":"message","v":2,"key":"inj:1","channel":"email","phone":"ops@example.test\r\nBcc: victim@example.test","content":"x","priority":"critical","kind":"alert","created_at":0}'
		printf '{"type":"message","v":2,"key":"nul:1","channel":"whatsapp","phone":"%s","content":"a\\u0000b","priority":"critical","kind":"alert","created_at":0}\n' "$OPS"
	} >"$SPOOL"
	out=$(drain)
	assert_eq "the drain replays the old-format pair, quarantines the rest" "2 3" \
		"$(jq -r '"\(.replayed) \(.quarantined)"' <<<"$out")"
	assert_eq "the old line: WhatsApp, the operator account, sent, its wamid, no chain" "whatsapp|1|sent|wamid.OLDFORMAT|" \
		"$(psql_state "SELECT channel || '|' || account_id || '|' || status || '|' || provider_message_id || '|' || coalesce(fallback_chain::text, '')
		 FROM whatsapp_logs WHERE idempotency_key = 'old:1'")"
	assert_eq "only it became a row" 1 "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
	assert_eq "the three bad lines are in the quarantine, as they were" 3 "$(wc -l <"$QUARANTINE")"
	assert_contains "the unparseable one" "$(cat "$QUARANTINE")" "this line is not JSON"
	assert_contains "the header injection" "$(cat "$QUARANTINE")" '"key":"inj:1"'
	assert_contains "the NUL" "$(cat "$QUARANTINE")" '"key":"nul:1"'
	assert_eq "nothing sent: not the old one again, nor the others" "0 0" "$(meta_sent | jq length) $(arrived)"
	assert_eq "the spool is emptied" 0 "$(wc -c <"$SPOOL")"
	drain >/dev/null
	assert_eq "a second drain: still one row, still three quarantined" "1 3" \
		"$(psql_state "SELECT count(*) FROM whatsapp_logs") $(wc -l <"$QUARANTINE")"
}

scenario_spool_replays_a_seller_message_whole() {
	# What the spool keeps of a seller's alert (a batch whose commit the database's fall cut
	# short): its tenant, chain and deadline, the message it follows, its reply button; a line
	# naming a tenant the database does not have is refused by it, and quarantined.
	local now tenant prior
	now=$(date +%s)
	make_tenant shop-s "$A" ",\"email\":\"owner@shop-s.test\""
	tenant=$(psql_state "SELECT id FROM tenants WHERE external_id = 'shop-s'")
	prior=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, kind, idempotency_key, status, tenant_id)
	 VALUES ('$A', 'before', 'critical', 'alert', 'prior:1', 'failed', $tenant) RETURNING id" | head -n 1)
	mkdir -p "$HARNESS_DIR/spool"
	{
		printf '{"type":"message","v":2,"key":"seller:1","channel":"whatsapp","phone":"%s","content":"Payment failed","priority":"critical","kind":"alert","alert_ids":[],"emergency":false,"not_before":0,"created_at":%s,"account_id":1,"tenant_id":%s,"fallback_chain":"{sms,email}","fallback_after_s":60,"follows_id":%s,"reply_id":"MUTE:payment.failed","reply_title":"Mute this type"}\n' \
			"$A" "$now" "$tenant" "$prior"
		printf '{"type":"result","key":"seller:1","status":"sent","provider":"meta","message_id":"wamid.SELLER1","as_template":false,"at":%s}\n' "$now"
		printf '{"type":"message","v":2,"key":"seller:2","channel":"whatsapp","phone":"%s","content":"x","priority":"critical","kind":"alert","created_at":%s,"tenant_id":999999}\n' "$B" "$now"
	} >"$SPOOL"
	out=$(drain)
	assert_eq "replayed: the message and its result; the unknown tenant's line quarantined" "2 1" \
		"$(jq -r '"\(.replayed) \(.quarantined)"' <<<"$out")"
	assert_eq "its tenant, chain, deadline, follows_id, button, status and wamid" \
		"$tenant|{sms,email}|true|$prior|MUTE:payment.failed|Mute this type|sent|wamid.SELLER1" \
		"$(psql_state "SELECT tenant_id || '|' || fallback_chain::text || '|' || (fallback_at = created_at + interval '60 s')
		 || '|' || follows_id || '|' || reply_id || '|' || reply_title || '|' || status || '|' || provider_message_id
		 FROM whatsapp_logs WHERE idempotency_key = 'seller:1'")"
	assert_contains "the refused line kept in the quarantine" "$(cat "$QUARANTINE")" '"key":"seller:2"'
	assert_eq "no row for it" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key = 'seller:2'")"
}

harness_scenarios refused_whatsapp_goes_by_sms accepted_but_never_delivered_sms_after_the_timer \
	delivered_whatsapp_sends_no_sms no_timer_where_no_receipt_comes sms_failing_too_the_email_arrives \
	smtp_down_then_back_the_email_arrives_once no_address_left_exhausts_the_chain \
	stopped_account_falls_back_at_once never_delivered_escalates_at_once \
	delivered_unacknowledged_waits_the_timer seller_urgent_takes_its_chain_low_does_not \
	seller_channels_from_preferences canary_late_alert_falls_back_to_sms \
	hostile_text_and_addresses spool_sends_email_and_sms_and_replays_them_once \
	spool_keeps_the_chain_and_it_resumes_after_replay spool_critical_refused_goes_by_email_while_down \
	spool_old_format_and_bad_lines \
	spool_replays_a_seller_message_whole
harness_finish
