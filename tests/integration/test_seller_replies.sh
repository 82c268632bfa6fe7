#!/usr/bin/env bash
# Sellers answer on WhatsApp (issue 17; common/tenants/sellercmd.h): help, status, mute,
# unmute, stop and start from the tenant's verified number, through Meta's and Twilio's signed
# inbound webhooks; the answer is queued to that number with the tenant's id. A pending
# (unverified) number and an unknown number are audited and ignored; a number that is an
# operator contact gets the operator's commands. A muted type is not sent (outcome 'muted')
# while another type is; "stop" holds every alert but the locked (security) ones; "mute" in a
# reply to an alert mutes its type; one seller's commands never touch another's alerts.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

APPSECRET=test-app-secret-0123456789 TWTOKEN=twilio-auth-token-0123
TWURL=https://monitor.example.test/monitoring/twilio/webhook
PNID=1234567890
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env META_APP_SECRET "$APPSECRET"
harness_set_env TWILIO_AUTH_TOKEN "$TWTOKEN"
harness_set_env TWILIO_WEBHOOK_URL "$TWURL"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_restart_programs || fail "programs restarted"
harness_env_baseline

A=+2349020000001 B=+2349020000002 A2=+2349020000011 NOBODY=+2349020000099
OPERATOR=+15550000001 # CRITICAL_PHONE_1 of the harness's env file

# ---------------------------------------------------------------- helpers
post_event() { # BODY: POST /events signed now (harness.sh)
	events_post "$1"
	assert_eq "event posted: 200" 200 "$HTTP_STATUS"
}
token_for() { tenant_jwt "$1"; }
order() {
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"}}}' \
		"$1" "$2" "${3:-1001}"
}
stock() {
	printf '{"id":"%s","type":"inventory.low","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"sku":"SKU-1","product":"Red shoes","quantity":2}}' "$1" "$2"
}
login_event() {
	printf '{"id":"%s","type":"security.login","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"user":"owner@shop","ip":"203.0.113.9"}}' "$1" "$2"
}
cart() {
	printf '{"id":"%s","type":"cart.item_added","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"cart_id":"c-%s","product":"Red shoes","quantity":2}}' "$1" "$2" "$1"
}
tick() { harness_cron tick >/dev/null; }
outcome() { psql_state "SELECT coalesce(outcome, 'NULL') FROM events WHERE event_id = '$1'"; }
tid() { psql_state "SELECT id FROM tenants WHERE external_id = '$1'"; }

sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$APPSECRET" -r | cut -d' ' -f1; }
settle() {
	local i
	for i in $(seq 100); do
		[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND attempts = 0") == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}
# meta FROM ID TEXT [EXTRA]: a signed Meta inbound text message from FROM
meta() {
	local body
	body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Seller"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}%s}]}}]}]}' \
		"$PNID" "${1#+}" "${1#+}" "$2" "${SENT_AT:-$(date +%s)}" "$3" "${4:-}")
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
	assert_eq "Meta inbound $2: 200" 200 "$HTTP_STATUS"
	settle
}
twsign() {
	python3 - "$1" "$TWURL" "$TWTOKEN" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
body, url, token = sys.argv[1:4]
pairs = sorted(urllib.parse.parse_qsl(body, keep_blank_values=True))
data = url + "".join(k + v for k, v in pairs)
print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())
PY
}
# twilio FROM SID TEXT [EXTRA-FORM]: a signed Twilio inbound message from FROM
twilio() {
	local form
	form="MessageSid=$2&From=whatsapp%3A%2B${1#+}&To=whatsapp%3A%2B14155238886&Body=$(jq -rn --arg s "$3" '$s|@uri')&WaId=${1#+}&NumMedia=0${4:-}"
	http POST /monitoring/twilio/webhook "$form" -H 'Content-Type: application/x-www-form-urlencoded' \
		-H "X-Twilio-Signature: $(twsign "$form")"
	assert_eq "Twilio inbound $2: 200" 200 "$HTTP_STATUS"
	settle
}
# answer ID: the answer queued to message ID ("" when none)
answer() { psql_state "SELECT message_content FROM whatsapp_logs WHERE idempotency_key = 'reply:$1'"; }
# answer_meta ID: the answer's number, tenant and kind
answer_meta() { psql_state "SELECT phone_number || ' ' || coalesce(tenant_id::text, '-') || ' ' || kind FROM whatsapp_logs WHERE idempotency_key = 'reply:$1'"; }
audited() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key = 'in:$1' AND direction = 'inbound'"; }

# ---------------------------------------------------------------- every command, both providers
scenario_commands() {
	make_tenant shop-a "$A"
	make_tenant shop-b "$B"
	meta "$A" wamid.help1 help
	assert_contains "Meta help: the list" "$(answer wamid.help1)" "mute <type|all>"
	assert_eq "the answer: to A's number, A's tenant, a seller reply" "$A $(tid shop-a) seller_reply" "$(answer_meta wamid.help1)"
	twilio "$A" SM00000000000000000000000000000001 HELP
	assert_contains "Twilio help: the list" "$(answer SM00000000000000000000000000000001)" "unmute"
	post_event "$(order o-1 shop-a)"
	tick
	meta "$A" wamid.status1 status
	assert_contains "status: today's orders" "$(answer wamid.status1)" "1 order(s), 0 payment(s) confirmed"
	twilio "$A" SM00000000000000000000000000000002 status
	assert_contains "Twilio status" "$(answer SM00000000000000000000000000000002)" "Today so far"
	meta "$A" wamid.mute1 "mute order.placed 2h"
	assert_eq "mute: answered" "Muted order.placed for 2 h. Send \"unmute order.placed\" to end it." "$(answer wamid.mute1)"
	assert_eq "the mute stored, for A only" "$(tid shop-a) order.placed" "$(psql_state "SELECT tenant_id || ' ' || type FROM seller_mutes")"
	meta "$A" wamid.status2 status
	assert_contains "status names the mute" "$(answer wamid.status2)" "Muted: order.placed until"
	meta "$A" wamid.bad1 "mute order.shipped"
	assert_contains "an unknown type: a helpful answer" "$(answer wamid.bad1)" "is no alert type"
	twilio "$A" SM00000000000000000000000000000003 "mute order.placed 5x"
	assert_contains "a bad duration: a helpful answer" "$(answer SM00000000000000000000000000000003)" "30m, 2h or 1d"
	meta "$A" wamid.bad2 "mute security.login"
	assert_contains "a locked type cannot be muted" "$(answer wamid.bad2)" "cannot be muted"
	meta "$A" wamid.bad3 "hello"
	assert_contains "anything else: a hint" "$(answer wamid.bad3)" "help"
	# Muted: an order of A is not sent, A's stock alert is, B's order is.
	post_event "$(order o-2 shop-a 1002)"
	post_event "$(stock s-1 shop-a)"
	post_event "$(order o-3 shop-b 2001)"
	tick
	assert_eq "A's order while muted: not sent, muted" muted "$(outcome o-2)"
	assert_eq "A's other type: sent" sent "$(outcome s-1)"
	assert_eq "B's order: sent (A's mute is A's)" sent "$(outcome o-3)"
	twilio "$A" SM00000000000000000000000000000004 "unmute order.placed"
	assert_eq "unmute: answered" "Unmuted order.placed." "$(answer SM00000000000000000000000000000004)"
	post_event "$(order o-4 shop-a 1004)"
	tick
	assert_eq "after unmute: sent" sent "$(outcome o-4)"
	meta "$A" wamid.mute2 "mute all 30m"
	assert_contains "mute all" "$(answer wamid.mute2)" "Muted all alerts for 30 min"
	post_event "$(order o-5 shop-a 1005)"
	post_event "$(login_event l-1 shop-a)"
	tick
	assert_eq "mute all: the order muted" muted "$(outcome o-5)"
	assert_eq "mute all: security.login still sent" sent "$(outcome l-1)"
	# Sent an hour ago (a re-delivery): audited, answered, not obeyed.
	SENT_AT=$(($(date +%s) - 3600)) meta "$A" wamid.old1 stop
	assert_contains "an old command: not done" "$(answer wamid.old1)" "Not done"
	assert_eq "an old stop: not stopped" f "$(psql_state "SELECT alerts_stopped_at IS NOT NULL FROM tenants WHERE external_id = 'shop-a'")"
	meta "$A" wamid.unmute2 unmute
	assert_eq "unmute (all)" "Unmuted: every alert goes again." "$(answer wamid.unmute2)"
	assert_eq "no mute left" 0 "$(psql_state "SELECT count(*) FROM seller_mutes")"
}

# ---------------------------------------------------------------- numbers that are not a seller's
scenario_other_numbers() {
	make_tenant shop-a "$A"
	http PATCH /tenants/me "{\"whatsapp_number\":\"$A2\"}" -H "Authorization: Bearer $(token_for shop-a)"
	assert_eq "A has a pending number" "200 $A2" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
	meta "$A2" wamid.pend1 "mute all"
	twilio "$A2" SM00000000000000000000000000000010 stop
	assert_eq "the pending number: audited" "1 1" "$(audited wamid.pend1) $(audited SM00000000000000000000000000000010)"
	assert_eq "the pending number: no answer" "" "$(answer wamid.pend1)$(answer SM00000000000000000000000000000010)"
	assert_eq "the pending number: nothing changed" "0 false" \
		"$(psql_state "SELECT (SELECT count(*) FROM seller_mutes) || ' ' || (alerts_stopped_at IS NOT NULL) FROM tenants WHERE external_id = 'shop-a'")"
	meta "$NOBODY" wamid.nobody1 status
	assert_eq "nobody's number: audited, no answer" "1 " "$(audited wamid.nobody1) $(answer wamid.nobody1)"
	# A number that is an operator contact and a tenant's: the operator's commands.
	make_tenant shop-op "$OPERATOR"
	meta "$OPERATOR" wamid.op1 status
	assert_contains "the operator's status" "$(answer wamid.op1)" "Status:"
	assert_eq "an operator reply" "$OPERATOR - reply" "$(answer_meta wamid.op1)"
}

# ---------------------------------------------------------------- stop and start
scenario_stop_start() {
	make_tenant shop-a "$A"
	make_tenant shop-b "$B"
	post_event "$(cart c-1 shop-a)"
	tick
	assert_eq "a cart event held for the digest" digest "$(outcome c-1)"
	twilio "$A" SM00000000000000000000000000000020 STOP
	assert_contains "stop: answered" "$(answer SM00000000000000000000000000000020)" "no WhatsApp alerts but security ones"
	post_event "$(order o-1 shop-a)"
	post_event "$(login_event l-1 shop-a)"
	post_event "$(order o-2 shop-b 2002)"
	tick
	assert_eq "stopped: A's order not sent" stopped "$(outcome o-1)"
	assert_eq "stopped: A's security alert still sent" sent "$(outcome l-1)"
	assert_eq "B unaffected by A's stop" sent "$(outcome o-2)"
	meta "$A" wamid.status1 status
	assert_contains "status says stopped" "$(answer wamid.status1)" "Stopped"
	# Held for a digest before the stop, then due while stopped: left out, and says why.
	psql_state "UPDATE events SET digest_at = now() - interval '1 minute' WHERE event_id = 'c-1'" >/dev/null
	tick
	assert_eq "the digest due while stopped: left out" stopped "$(outcome c-1)"
	assert_eq "no digest queued for A" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'seller_digest'")"
	meta "$A" wamid.start1 start
	assert_contains "start: answered" "$(answer wamid.start1)" "Started"
	post_event "$(order o-3 shop-a 1003)"
	tick
	assert_eq "after start: sent" sent "$(outcome o-3)"
}

# ---------------------------------------------------------------- "mute" in reply to an alert
scenario_reply_mute() {
	make_tenant shop-a "$A"
	make_tenant shop-b "$B"
	post_event "$(order o-1 shop-a)"
	post_event "$(order o-b shop-b 2001)"
	tick
	harness_cron drain >/dev/null
	local wamid wamid_b i
	for i in $(seq 50); do
		wamid=$(psql_state "SELECT coalesce(w.provider_message_id, '') FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'o-1'")
		[[ -n $wamid ]] && break
		sleep 0.2
	done
	assert_ne "the alert was sent, with a provider id" "" "$wamid"
	meta "$A" wamid.rmute1 mute ",\"context\":{\"from\":\"15550783881\",\"id\":\"$wamid\"}"
	assert_eq "reply mute: the alert's type for a day" "Muted order.placed for 1 day. Send \"unmute\" to end it." "$(answer wamid.rmute1)"
	assert_eq "stored: A's order.placed, about a day" "$(tid shop-a) order.placed true" \
		"$(psql_state "SELECT tenant_id || ' ' || type || ' ' || (until BETWEEN now() + interval '23 hours' AND now() + interval '25 hours') FROM seller_mutes")"
	# B cannot mute through A's alert: another tenant's message is not theirs.
	wamid_b=$(psql_state "SELECT coalesce(w.provider_message_id, '') FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'o-b'")
	twilio "$B" SM00000000000000000000000000000030 mute "&OriginalRepliedMessageSid=$wamid"
	assert_contains "B replying to A's alert: nothing muted" "$(answer SM00000000000000000000000000000030)" "no alert that can be muted"
	assert_eq "B has no mute" 0 "$(psql_state "SELECT count(*) FROM seller_mutes WHERE tenant_id = $(tid shop-b)")"
	assert_ne "B's alert was sent, with a provider id" "" "$wamid_b"
	twilio "$B" SM00000000000000000000000000000031 mute "&OriginalRepliedMessageSid=$wamid_b"
	assert_contains "Twilio reply mute on B's own alert" "$(answer SM00000000000000000000000000000031)" "Muted order.placed for 1 day"
	assert_eq "A's mute unchanged by B's" 1 "$(psql_state "SELECT count(*) FROM seller_mutes WHERE tenant_id = $(tid shop-a)")"
	meta "$A" wamid.rmute2 mute
	assert_contains "bare mute, no reply: how to" "$(answer wamid.rmute2)" "Mute what?"
}

harness_scenarios commands other_numbers stop_start reply_mute

harness_finish
