#!/usr/bin/env bash
# Stored business events become WhatsApp alerts to their seller (issue 17; common/tenants/
# dispatch.h, a step of cron tick), under the seller's preferences (GET/PATCH
# /tenants/me/preferences) and quiet hours: an event reaches the tenant's verified number and
# no other (not its pending number, not another tenant's), once however often it is posted or
# ticked; a type switched off sends nothing, a locked type cannot be switched off; quiet hours
# hold a normal alert but not an urgent one; cart operations wait for their hourly digest and
# go as one message; a suspended tenant or one without a verified number gets nothing, and the
# event says why. The digest's slot is made to pass by moving digest_at back (no sleeping).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID 1234567890
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_restart_programs || fail "programs restarted"
harness_env_baseline

A=+2349020000001 B=+2349020000002 A2=+2349020000011

# ---------------------------------------------------------------- helpers
post() { # BODY: POST /events signed now (harness.sh)
	events_post "$1"
	assert_eq "event posted: 200" 200 "$HTTP_STATUS"
}
token_for() { tenant_jwt "$1"; }
seller() {
	local token=$1
	shift
	http "$1" "$2" "${3:-}" -H "Authorization: Bearer $token"
}
answer() { printf '%s %s' "$HTTP_STATUS" "$(jq -r '.error.code // empty' <<<"$HTTP_BODY" 2>/dev/null)"; }
# order ID TENANT [ORDER_ID]: an order.placed event (normal)
order() {
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"}}}' \
		"$1" "$2" "${3:-1001}"
}
# login_event ID TENANT: a security.login event (urgent, locked)
login_event() {
	printf '{"id":"%s","type":"security.login","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"user":"owner@shop","ip":"203.0.113.9"}}' "$1" "$2"
}
# cart ID TENANT PRODUCT: a cart.item_added event (low, hourly digest)
cart() {
	printf '{"id":"%s","type":"cart.item_added","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"cart_id":"c-%s","product":"%s","quantity":2}}' "$1" "$2" "$1" "$3"
}
mark() { mock_requests | jq '.[-1].seq // 0'; }
# texts_to NUMBER SINCE: the texts the mock received for NUMBER after record SINCE
texts_to() { mock_requests "$2" | jq -r --arg to "${1#+}" '.[] | select(.to == $to) | .json.text.body'; }
# tick: one cron tick (dispatch, then the drain's send step); prints its events step
tick() { harness_cron tick | jq -c '.steps[] | select(.step == "events")'; }
# texts_with NUMBER SINCE STRING: the whole texts to NUMBER after SINCE that contain STRING
texts_with() {
	mock_requests "$2" | jq -r --arg to "${1#+}" --arg s "$3" \
		'.[] | select(.to == $to) | .json.text.body | select(contains($s))'
}
# wait_text NUMBER SINCE STRING: up to 10 s for a text to NUMBER containing STRING; prints them
wait_text() {
	local i
	for i in $(seq 50); do
		if [[ -n $(texts_with "$1" "$2" "$3") ]]; then
			texts_with "$1" "$2" "$3"
			return 0
		fi
		((i % 10 == 0)) && harness_cron drain >/dev/null
		sleep 0.2
	done
}
# outcome EVENT_ID: the event's outcome and whether a message is recorded
outcome() { psql_state "SELECT coalesce(outcome, 'NULL') || ' ' || (message_id IS NOT NULL) FROM events WHERE event_id = '$1'"; }
queued_to() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '$1' AND kind LIKE 'seller_%'"; }

# ---------------------------------------------------------------- an event, its seller's number only
scenario_event_to_verified_number() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
# A asks for a new number: pending, not verified; alerts still go to the verified one.
seller "$(token_for shop-a)" PATCH /tenants/me "{\"whatsapp_number\":\"$A2\"}"
assert_eq "A has a pending number" "200 $A2" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
m=$(mark)
post "$(order ev-1 shop-a)"
assert_eq "stored, not dispatched before the tick" "NULL false" "$(outcome ev-1)"
out=$(tick)
assert_eq "the tick's events step: 1 sent" "1 true" "$(jq -r '"\(.sent) \(.ok)"' <<<"$out")"
text=$(wait_text "$A" "$m" "New order")
assert_contains "the alert reached A's verified number" "$text" "New order #1001: NGN 12,500"
assert_eq "recorded: sent, with the message that carried it" "sent true" "$(outcome ev-1)"
assert_eq "the message: A's, priority warning (normal), a seller alert" "$(psql_state "SELECT id FROM tenants WHERE external_id = 'shop-a'") warning seller_alert" \
	"$(psql_state "SELECT w.tenant_id || ' ' || w.priority || ' ' || w.kind FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'ev-1'")"
assert_eq "nothing to the pending number" "" "$(texts_to "$A2" "$m" | grep 'New order' || true)"
assert_eq "nothing to B" "" "$(texts_to "$B" "$m")"
assert_eq "nothing queued for B" 0 "$(queued_to "$B")"
# B's event goes to B only.
m=$(mark)
post "$(order ev-2 shop-b 2002)"
tick >/dev/null
text=$(wait_text "$B" "$m" "New order")
assert_contains "B's alert reached B" "$text" "#2002"
assert_eq "nothing more to A" "" "$(texts_to "$A" "$m")"
}

# ---------------------------------------------------------------- once, however often
scenario_same_event_twice() {
make_tenant shop-a "$A"
m=$(mark)
post "$(order ev-dup shop-a)"
post "$(order ev-dup shop-a)"
assert_eq "one event stored" 1 "$(psql_state "SELECT count(*) FROM events")"
tick >/dev/null
wait_text "$A" "$m" "New order" >/dev/null
post "$(order ev-dup shop-a)"
tick >/dev/null
tick >/dev/null
harness_cron drain >/dev/null
assert_eq "one message queued" 1 "$(queued_to "$A")"
assert_eq "one message received" 1 "$(texts_to "$A" "$m" | grep -c 'New order')"
}

# ---------------------------------------------------------------- preferences
scenario_preferences() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
ta=$(token_for shop-a) tb=$(token_for shop-b)
seller "$ta" GET /tenants/me/preferences
assert_eq "GET: 200, 13 types" "200 13" "$HTTP_STATUS $(jq '.preferences | length' <<<"$HTTP_BODY")"
assert_eq "defaults: order.placed immediate, on, normal, unlocked, whatsapp then email" \
	"true immediate normal false [\"whatsapp\",\"email\"]" \
	"$(jq -r '.preferences["order.placed"] | "\(.enabled) \(.delivery) \(.urgency) \(.locked) \(.channels|tojson)"' <<<"$HTTP_BODY")"
assert_eq "defaults: cart.* in the hourly digest" "hourly hourly hourly hourly" \
	"$(jq -r '[.preferences | to_entries[] | select(.key | startswith("cart.")) | .value.delivery] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "locked: security.* and payment.failed" "payment.failed security.login security.password_changed" \
	"$(jq -r '[.preferences | to_entries[] | select(.value.locked) | .key] | sort | join(" ")' <<<"$HTTP_BODY")"
# A locked type cannot be switched off; a 400 changes nothing, even its valid parts.
before=$(psql_state "SELECT count(*) FROM alert_preferences")
seller "$ta" PATCH /tenants/me/preferences '{"preferences":{"order.placed":{"enabled":false},"security.login":{"enabled":false}}}'
assert_eq "switching security.login off: 400 locked_type" "400 locked_type" "$(answer)"
assert_eq "the field names the type" "preferences.security.login.enabled" "$(jq -r .error.field <<<"$HTTP_BODY")"
assert_eq "nothing stored" "$before" "$(psql_state "SELECT count(*) FROM alert_preferences")"
seller "$ta" PATCH /tenants/me/preferences '{"preferences":{"payment.failed":{"enabled":false}}}'
assert_eq "switching payment.failed off: 400 locked_type" "400 locked_type" "$(answer)"
while IFS='|' read -r what body field; do
	seller "$ta" PATCH /tenants/me/preferences "$body"
	assert_eq "$what: 400 invalid_field" "400 invalid_field" "$(answer)"
	assert_eq "$what: field $field" "$field" "$(jq -r .error.field <<<"$HTTP_BODY")"
done <<'EOT'
an unknown type|{"preferences":{"order.shipped":{"enabled":false}}}|preferences.order.shipped
enabled not a boolean|{"preferences":{"order.placed":{"enabled":"no"}}}|preferences.order.placed.enabled
an unknown delivery|{"preferences":{"order.placed":{"delivery":"weekly"}}}|preferences.order.placed.delivery
another channel|{"preferences":{"order.placed":{"channels":["sms"]}}}|preferences.order.placed.channels
an unknown member|{"preferences":{"order.placed":{"muted":true}}}|preferences.order.placed.muted
nothing set|{"preferences":{"order.placed":{}}}|preferences.order.placed
no preferences|{"preferences":{}}|preferences
another shape|{"order.placed":{"enabled":false}}|
EOT
assert_eq "still nothing stored" "$before" "$(psql_state "SELECT count(*) FROM alert_preferences")"
# Locked types may be set on (and their delivery changed).
seller "$ta" PATCH /tenants/me/preferences '{"preferences":{"security.login":{"enabled":true}}}'
assert_eq "security.login on: 200" 200 "$HTTP_STATUS"
# A switches order.placed off and cart.abandoned to daily: A's answer shows it, B's does not.
seller "$ta" PATCH /tenants/me/preferences '{"preferences":{"order.placed":{"enabled":false},"cart.abandoned":{"delivery":"daily","channels":["whatsapp"]}}}'
assert_eq "A's change: 200, stored" "200 false daily" \
	"$HTTP_STATUS $(jq -r '"\(.preferences["order.placed"].enabled) \(.preferences["cart.abandoned"].delivery)"' <<<"$HTTP_BODY")"
seller "$tb" GET /tenants/me/preferences
assert_eq "B's preferences unchanged" "true hourly" \
	"$(jq -r '"\(.preferences["order.placed"].enabled) \(.preferences["cart.abandoned"].delivery)"' <<<"$HTTP_BODY")"
assert_eq "every row stored is A's" "shop-a" \
	"$(psql_state "SELECT string_agg(DISTINCT t.external_id, ',') FROM alert_preferences p JOIN tenants t ON t.id = p.tenant_id")"
seller "$tb" PATCH /tenants/me/preferences '{"preferences":{"order.placed":{"delivery":"daily"}}}'
seller "$ta" GET /tenants/me/preferences
assert_eq "B's change leaves A's as it was" "false immediate" \
	"$(jq -r '"\(.preferences["order.placed"].enabled) \(.preferences["order.placed"].delivery)"' <<<"$HTTP_BODY")"
seller "not-a-token" GET /tenants/me/preferences
assert_eq "no seller: 401" 401 "$HTTP_STATUS"
# The disabled type sends nothing; a locked one still goes.
m=$(mark)
post "$(order ev-off shop-a)"
post "$(login_event ev-login shop-a)"
tick >/dev/null
text=$(wait_text "$A" "$m" "New login")
assert_contains "security.login reached A" "$text" "New login: owner@shop"
assert_eq "order.placed switched off: not sent, says why" "disabled false" "$(outcome ev-off)"
assert_eq "no order text to A" "" "$(texts_to "$A" "$m" | grep 'New order' || true)"
}

# ---------------------------------------------------------------- quiet hours
scenario_quiet_hours() {
# Quiet from an hour ago to an hour from now, in the tenant's zone (spanning midnight or not).
zone=America/New_York
start=$(TZ=$zone date -d '-1 hour' +%H:%M) end=$(TZ=$zone date -d '+1 hour' +%H:%M)
make_tenant shop-a "$A" ",\"time_zone\":\"$zone\",\"quiet_start\":\"$start\",\"quiet_end\":\"$end\""
m=$(mark)
post "$(order ev-quiet shop-a)"
post "$(login_event ev-urgent shop-a)"
tick >/dev/null
text=$(wait_text "$A" "$m" "New login")
assert_contains "urgent: sent at once in quiet hours" "$text" "New login"
assert_eq "normal: queued, recorded as sent" "sent true" "$(outcome ev-quiet)"
held=$(psql_state "SELECT round(extract(epoch FROM w.not_before - now()) / 60) FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'ev-quiet'")
assert_match "normal: held until the quiet hours end (about 60 min)" '^(5[89]|60|61)$' "$held"
harness_cron drain >/dev/null
sleep 0.5
assert_eq "normal: not received in quiet hours" "" "$(texts_to "$A" "$m" | grep 'New order' || true)"
# The quiet hours end (the row's time comes): it goes.
psql_state "UPDATE whatsapp_logs SET not_before = now(), next_attempt_at = now() WHERE kind = 'seller_alert' AND status = 'queued'" >/dev/null
harness_cron drain >/dev/null
text=$(wait_text "$A" "$m" "New order")
assert_contains "normal: sent when the quiet hours end" "$text" "New order #1001"
}

# ---------------------------------------------------------------- digests
scenario_digest() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
m=$(mark)
post "{\"events\":[$(cart c1 shop-a Shoes),$(cart c2 shop-a Hat),$(cart c3 shop-b Scarf)]}"
out=$(tick)
assert_eq "three held for the hourly digest, none sent" "0 3" "$(jq -r '"\(.sent) \(.held)"' <<<"$out")"
assert_eq "held until the next hour" "0" \
	"$(psql_state "SELECT count(*) FROM events WHERE outcome <> 'digest' OR digest_at <> date_trunc('hour', now()) + interval '1 hour'")"
out=$(tick)
assert_eq "before its slot ends: no digest" "0" "$(jq -r .digests <<<"$out")"
assert_eq "nothing queued" "0 0" "$(queued_to "$A") $(queued_to "$B")"
# The slot ends.
psql_state "UPDATE events SET digest_at = now() - interval '1 second'" >/dev/null
out=$(tick)
assert_eq "two digests (one per tenant) carrying three events" "2 3" "$(jq -r '"\(.digests) \(.digest_events)"' <<<"$out")"
text=$(wait_text "$A" "$m" "alerts:")
assert_eq "A's digest: one message, A's two cart events" "2 alerts:
- Cart c-c1: +2 Shoes
- Cart c-c2: +2 Hat" "$text"
text=$(wait_text "$B" "$m" "alert:")
assert_eq "B's digest: B's event only" "1 alert:
- Cart c-c3: +2 Scarf" "$text"
assert_eq "A's events carried by one message" "1" \
	"$(psql_state "SELECT count(DISTINCT message_id) FROM events WHERE event_id IN ('c1', 'c2')")"
tick >/dev/null
harness_cron drain >/dev/null
assert_eq "a digest goes once" "1 1" "$(queued_to "$A") $(queued_to "$B")"
# Held, then the seller switches the type off before the slot ends: left out, says why; the
# other type held beside it still goes.
post "{\"events\":[$(cart c4 shop-a Belt),$(cart c5 shop-a Cap)]}"
psql_state "UPDATE events SET type = 'cart.item_removed' WHERE event_id = 'c5'" >/dev/null
tick >/dev/null
seller "$(token_for shop-a)" PATCH /tenants/me/preferences '{"preferences":{"cart.item_added":{"enabled":false}}}'
assert_eq "cart.item_added switched off: 200" 200 "$HTTP_STATUS"
psql_state "UPDATE events SET digest_at = now() - interval '1 second' WHERE outcome = 'digest'" >/dev/null
m=$(mark)
out=$(tick)
assert_eq "a digest of the one event still on; the other not sent" "1 1 1" \
	"$(jq -r '"\(.digests) \(.digest_events) \(.not_sent)"' <<<"$out")"
assert_eq "the switched-off event records why" "disabled false" "$(outcome c4)"
text=$(wait_text "$A" "$m" "alert:")
assert_eq "A's digest carries only the type still on" "1 alert:
- Cart c-c5: -2 Cap" "$text"
}

# ---------------------------------------------------------------- coalesced
scenario_coalesced() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
items=
for i in $(seq 20); do
	items+="$(order "co-$(printf %02d "$i")" shop-a "$((1000 + i))"),"
done
post "{\"events\":[${items}$(order co-b shop-b 2001)]}"
m=$(mark)
out=$(tick)
assert_eq "21 alerts in 2 messages" "21 2" "$(jq -r '"\(.sent) \(.messages)"' <<<"$out")"
text=$(wait_text "$A" "$m" "20 alerts:")
assert_eq "A: one message listing its 20 orders in the order stored" "20 alerts: 20 1001 1020" \
	"$(head -n 1 <<<"$text") $(grep -c '^- New order #' <<<"$text") $(sed -n 2p <<<"$text" | grep -oE '#[0-9]+' | tr -d '#') $(tail -n 1 <<<"$text" | grep -oE '#[0-9]+' | tr -d '#')"
assert_eq "A's 20 events carried by that one message" "1 20" \
	"$(psql_state "SELECT count(DISTINCT message_id) || ' ' || count(*) FROM events WHERE event_id LIKE 'co-%' AND event_id <> 'co-b'")"
text=$(wait_text "$B" "$m" "New order")
assert_eq "B: its own alert, none of A's" "New order #2001: NGN 12,500, 3 items, Ada +234...5678" "$text"
assert_eq "one message each" "1 1" "$(queued_to "$A") $(queued_to "$B")"
# An urgent alert with a normal one: one message, critical.
m=$(mark)
post "{\"events\":[$(order co-n shop-a 3001),$(login_event co-u shop-a)]}"
tick >/dev/null
text=$(wait_text "$A" "$m" "2 alerts:")
assert_contains "the normal and the urgent alert together" "$text" "- New login: owner@shop"
assert_eq "the message critical (the most urgent)" critical \
	"$(psql_state "SELECT w.priority FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'co-n'")"
}

# ---------------------------------------------------------------- not sent, and why
scenario_not_sent() {
make_tenant shop-a "$A"
make_tenant shop-n ""
post "$(order ev-none shop-n)"
post "$(order ev-susp shop-a)"
platform POST /tenants/shop-a/suspend
assert_eq "A suspended" 200 "$HTTP_STATUS"
tick >/dev/null
assert_eq "no verified number: not sent, says why" "no_verified_number false" "$(outcome ev-none)"
assert_eq "suspended: not sent, says why" "tenant_suspended false" "$(outcome ev-susp)"
assert_eq "nothing queued for A" 0 "$(queued_to "$A")"
}

harness_scenarios event_to_verified_number same_event_twice preferences quiet_hours digest coalesced not_sent

harness_finish
