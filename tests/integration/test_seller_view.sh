#!/usr/bin/env bash
# GET /tenants/me/alerts (issue 17, common/tenants/alertlist.h): a seller sees the alerts sent to
# its own number and nothing else (not another tenant's, not the operator's, not its login or
# verify codes), newest first and paged, each with the events and types it carried and its
# delivery state as the webhook's statuses moved it; and the 7- and 30-day figures (sent,
# delivered, read, their rates, the median seconds from sent to read) in exact numbers. Times
# are made to pass by moving rows' times back (no sleeping).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

APPSECRET=test-app-secret-0123456789 PNID=1234567890
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_APP_SECRET "$APPSECRET"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_restart_programs || fail "programs restarted"
harness_env_baseline

A=+2349020000001 B=+2349020000002

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
order() {
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"}}}' \
		"$1" "$2" "$3"
}
# msg EVENT_ID: the id of the message that carried the event
msg() { psql_state "SELECT message_id FROM events WHERE event_id = '$1'"; }
# sent_one VAR EVENT_ID TENANT ORDER: posted, dispatched, sent; VAR set to the message id
sent_one() {
	seller_alert_sent "$1" "$(order "$2" "$3" "$4")" || fail "event $2 posted, dispatched and sent"
}
# status MESSAGE_ID STATUS SECONDS_AFTER_SENT: the provider's status through the webhook
status() {
	if meta_status "$1" "$2" "$3"; then
		pass "status $2 for message $1: 200, recorded"
	else
		fail "status $2 for message $1: 200, recorded" "HTTP $HTTP_STATUS"
	fi
}

# ---------------------------------------------------------------- the view
scenario_view() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
ta=$(token_for shop-a) tb=$(token_for shop-b)
tid_a=$(psql_state "SELECT id FROM tenants WHERE external_id = 'shop-a'")

seller "$ta" GET /tenants/me/alerts
assert_eq "nothing yet: 200, no alerts, no next page" "200 0 null" \
	"$HTTP_STATUS $(jq -r '"\(.alerts | length) \(.next_before)"' <<<"$HTTP_BODY")"
assert_eq "empty figures: zero counts, no rates, no median" "0 0 0 0 null null null" \
	"$(jq -r '.figures["7d"] | "\(.sent) \(.delivered) \(.read) \(.failed) \(.delivered_rate) \(.read_rate) \(.median_seconds_to_read)"' <<<"$HTTP_BODY")"

# A: four alerts, one message each (a tick between them: no coalescing). B: one.
# Sent times truncated to the second so that the webhook's whole-second times give exact figures.
m1='' m2='' m3='' m4='' mb='' # set by sent_one
sent_one m1 ev-a1 shop-a 1001
sent_one m2 ev-a2 shop-a 1002
sent_one m3 ev-a3 shop-a 1003
sent_one m4 ev-a4 shop-a 1004
sent_one mb ev-b1 shop-b 2001
psql_state "UPDATE whatsapp_logs SET sent_at = date_trunc('second', sent_at) WHERE id IN ($m1, $m2, $m3, $m4, $mb)" >/dev/null
status "$m1" delivered 2
status "$m1" read 10
status "$m2" delivered 3
status "$m2" read 30
status "$m3" delivered 4
status "$mb" read 5
# m4 fails as the drain records a provider's refusal; m3 is ten days old (30 days, not 7).
psql_state "UPDATE whatsapp_logs SET status = 'failed', failed_at = now(), last_error_code = '131026', last_error = 'Message undeliverable' WHERE id = $m4" >/dev/null
psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '10 days' WHERE id = $m3" >/dev/null
# What must never show: A's login code, the operator's message, a message of A's not an alert.
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, kind, tenant_id, sent_at)
 VALUES ('$A', 'Your login code is 739201', 'critical', 'sent', 'login_code', $tid_a, now()),
        ('$A', 'Your verify code is 551177', 'critical', 'read', 'verify_code', $tid_a, now()),
        ('$A', 'operator: disk full', 'critical', 'sent', 'alert', NULL, now())" >/dev/null

seller "$ta" GET /tenants/me/alerts
assert_eq "A: 200" 200 "$HTTP_STATUS"
assert_eq "A sees its four alerts, newest first" "$m4 $m3 $m2 $m1" "$(jq -r '[.alerts[].message_id] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "states: failed, delivered, read, read" "failed delivered read read" "$(jq -r '[.alerts[].state] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "each with its event and type, whatsapp, a seller alert" "ev-a4 order.placed whatsapp seller_alert" \
	"$(jq -r '.alerts[0] | "\(.event_ids | join(",")) \(.types | join(",")) \(.channel) \(.kind)"' <<<"$HTTP_BODY")"
assert_eq "the failure's reason" "131026 Message undeliverable" "$(jq -r '.alerts[0] | "\(.error_code) \(.reason)"' <<<"$HTTP_BODY")"
assert_eq "no reason when not failed" "null null" "$(jq -r '.alerts[1] | "\(.error_code) \(.reason)"' <<<"$HTTP_BODY")"
assert_contains "the text" "$(jq -r '.alerts[3].text' <<<"$HTTP_BODY")" "New order #1001"
assert_eq "times: read has sent, delivered and read" "true true true true" \
	"$(jq -r '.alerts[3] | "\(.created_at != null) \(.sent_at != null) \(.delivered_at != null) \(.read_at != null)"' <<<"$HTTP_BODY")"
assert_eq "delivered has no read time" "null" "$(jq -r '.alerts[1].read_at' <<<"$HTTP_BODY")"
assert_eq "not B's, not the operator's, no code" "" \
	"$(grep -oE '#2001|739201|551177|disk full|login_code|verify_code' <<<"$HTTP_BODY" || true)"
assert_eq "7 days: 2 sent, 2 delivered, 2 read, 1 failed, rates 1, median 20 s" "2 2 2 1 1 1 20" \
	"$(jq -r '.figures["7d"] | "\(.sent) \(.delivered) \(.read) \(.failed) \(.delivered_rate) \(.read_rate) \(.median_seconds_to_read)"' <<<"$HTTP_BODY")"
assert_eq "30 days: 3 sent, 3 delivered, 2 read, 1 failed, rates 1 and 0.666, median 20 s" "3 3 2 1 1 0.666 20" \
	"$(jq -r '.figures["30d"] | "\(.sent) \(.delivered) \(.read) \(.failed) \(.delivered_rate) \(.read_rate) \(.median_seconds_to_read)"' <<<"$HTTP_BODY")"

seller "$tb" GET /tenants/me/alerts
assert_eq "B sees its one alert only" "$mb read ev-b1" "$(jq -r '[.alerts[] | "\(.message_id) \(.state) \(.event_ids | join(","))"] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "B's figures: 1 sent, read in 5 s" "1 1 1 0 1 1 5" \
	"$(jq -r '.figures["7d"] | "\(.sent) \(.delivered) \(.read) \(.failed) \(.delivered_rate) \(.read_rate) \(.median_seconds_to_read)"' <<<"$HTTP_BODY")"
assert_eq "nothing of A's in B's view" "" "$(grep -oE '#100[1-4]|ev-a' <<<"$HTTP_BODY" || true)"

# Paging: two by two, by the before cursor.
seller "$ta" GET "/tenants/me/alerts?limit=2"
assert_eq "page 1: the two newest, next_before the last" "$m4 $m3 $m3" \
	"$(jq -r '"\([.alerts[].message_id] | join(" ")) \(.next_before)"' <<<"$HTTP_BODY")"
seller "$ta" GET "/tenants/me/alerts?limit=2&before=$m3"
assert_eq "page 2: the two before" "$m2 $m1 $m1" \
	"$(jq -r '"\([.alerts[].message_id] | join(" ")) \(.next_before)"' <<<"$HTTP_BODY")"
seller "$ta" GET "/tenants/me/alerts?limit=2&before=$m1"
assert_eq "page 3: empty, no next" "200 0 null" \
	"$HTTP_STATUS $(jq -r '"\(.alerts | length) \(.next_before)"' <<<"$HTTP_BODY")"
seller "$ta" GET "/tenants/me/alerts?limit=5"
assert_eq "a page not full: no next" "4 null" "$(jq -r '"\(.alerts | length) \(.next_before)"' <<<"$HTTP_BODY")"
seller "$ta" GET "/tenants/me/alerts?limit=1&before=$((mb + 1))"
assert_eq "a cursor above B's message still gives A's next: $m4" "$m4" "$(jq -r '[.alerts[].message_id] | join(" ")' <<<"$HTTP_BODY")"
seller "$ta" HEAD /tenants/me/alerts
assert_eq "HEAD: 200" 200 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- refusals
scenario_refusals() {
make_tenant shop-a "$A"
ta=$(token_for shop-a)
for q in limit=0 limit=201 limit=abc limit= limit=1x limit=-1 before=0 before=-5 before=x \
	before=99999999999999999999 "limit=2&before=1.5"; do
	seller "$ta" GET "/tenants/me/alerts?$q"
	want=${q##*&}
	assert_eq "?$q: 400 invalid_parameter naming ${want%%=*}" "400 invalid_parameter ${want%%=*}" \
		"$HTTP_STATUS $(jq -r '"\(.error.code) \(.error.field)"' <<<"$HTTP_BODY")"
done
http GET /tenants/me/alerts
assert_eq "no token: 401" 401 "$HTTP_STATUS"
http GET /tenants/me/alerts "" -H "Authorization: Bearer not-a-token"
assert_eq "a bad token: 401" 401 "$HTTP_STATUS"
http GET /tenants/me/alerts "" -H "Authorization: Bearer $PLATFORM_KEY"
assert_eq "the platform's key is not a seller: 401" 401 "$HTTP_STATUS"
seller "$ta" POST /tenants/me/alerts '{}'
assert_eq "POST: 405" 405 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- held for quiet hours
scenario_held() {
make_tenant shop-a "$A"
ta=$(token_for shop-a)
# Quiet hours from an hour ago to an hour from now (UTC, the tenant's zone): a normal alert waits.
seller "$ta" PATCH /tenants/me "{\"quiet_start\":\"$(date -u -d '-1 hour' +%H:%M)\",\"quiet_end\":\"$(date -u -d '+1 hour' +%H:%M)\"}"
assert_eq "quiet hours set: 200" 200 "$HTTP_STATUS"
post "$(order ev-q1 shop-a 3001)"
harness_cron tick >/dev/null
id=$(msg ev-q1)
seller "$ta" GET /tenants/me/alerts
assert_eq "held for quiet hours, until their end, not sent" "$id held true null" \
	"$(jq -r '.alerts[0] | "\(.message_id) \(.state) \(.held_until != null) \(.sent_at)"' <<<"$HTTP_BODY")"
assert_eq "held_until is the message's not_before" \
	"$(psql_state "SELECT to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM whatsapp_logs WHERE id = $id")" \
	"$(jq -r '.alerts[0].held_until' <<<"$HTTP_BODY")"
assert_eq "not counted as sent" "0 null" "$(jq -r '.figures["7d"] | "\(.sent) \(.delivered_rate)"' <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- one message, several events
scenario_coalesced() {
make_tenant shop-a "$A"
ta=$(token_for shop-a)
post "$(order ev-c1 shop-a 4001)"
post '{"id":"ev-c2","type":"security.login","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"user":"owner@shop","ip":"203.0.113.9"}}'
post "$(order ev-c3 shop-a 4003)"
harness_cron tick >/dev/null
seller "$ta" GET /tenants/me/alerts
assert_eq "one message carrying the three events, each type once" \
	"1 $(msg ev-c1) ev-c1,ev-c2,ev-c3 order.placed,security.login critical" \
	"$(jq -r '"\(.alerts | length) \(.alerts[0] | "\(.message_id) \(.event_ids | join(",")) \(.types | join(",")) \(.priority)")"' <<<"$HTTP_BODY")"
assert_contains "its text lists them" "$(jq -r '.alerts[0].text' <<<"$HTTP_BODY")" "3 alerts:"
}

harness_scenarios view refusals held coalesced
harness_finish
