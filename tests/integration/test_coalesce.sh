#!/usr/bin/env bash
# Coalescing in the drain (issue 17; common/delivery/coalesce.h): seller alerts queued as
# separate messages for one recipient (by separate ticks while its pacing slot is busy, or held
# by quiet hours and released together) go as one message when the slot frees, "N alerts:"
# within 4096 bytes; every event points at the message that carried it; the rows merged are
# closed as 'merged' naming their carrier. Never another tenant's alerts, an operator message,
# a row not due yet, or a template outside the 24-hour window; the most urgent priority wins and
# an urgent alert goes first, never held back to wait for others. The recipient's slot is made
# busy (and freed) through recipient_slots, so nothing here depends on timing.
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
APPSECRET=test-app-secret-0123456789
harness_set_env META_APP_SECRET "$APPSECRET"
harness_restart_programs || fail "programs restarted"
harness_env_baseline

A=+2349020000001 B=+2349020000002

# ---------------------------------------------------------------- helpers
post() { # BODY: POST /events signed now (harness.sh)
	events_post "$1"
	assert_eq "event posted: 200" 200 "$HTTP_STATUS"
}
tid() { psql_state "SELECT id FROM tenants WHERE external_id = '$1'"; }
order() { # ID TENANT ORDER_ID: an order.placed event (normal)
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"}}}' \
		"$1" "$2" "$3"
}
login_event() { # ID TENANT: a security.login event (urgent)
	printf '{"id":"%s","type":"security.login","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"user":"owner@shop","ip":"203.0.113.9"}}' "$1" "$2"
}
mark() { mock_requests | jq '.[-1].seq // 0'; }
# bodies NUMBER SINCE: what the mock received for NUMBER after SINCE, one JSON string each
bodies() {
	mock_requests "$2" | jq -c --arg to "${1#+}" '.[] | select(.to == $to) | (.json.text.body // .json.interactive.body.text // ("template:" + .json.template.name))'
}
tick() { harness_cron tick >/dev/null; }
drain() { harness_cron drain; }
# busy NUMBER: its pacing slot taken for an hour (a message just went); free NUMBER: free again
busy() {
	psql_state "INSERT INTO recipient_slots (account_id, phone_number, next_allowed_at)
	 VALUES (1, '$1', now() + interval '1 hour') ON CONFLICT (account_id, phone_number)
	 DO UPDATE SET next_allowed_at = excluded.next_allowed_at" >/dev/null
}
free() { psql_state "UPDATE recipient_slots SET next_allowed_at = now() - interval '1 second' WHERE phone_number = '$1'" >/dev/null; }
queued() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '$1' AND status = 'queued'"; }
# carrier EVENT_ID: the status of the message events.message_id names
carrier_of() { psql_state "SELECT w.id || ' ' || w.status FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = '$1'"; }

# ---------------------------------------------------------------- 20 waiting alerts
scenario_twenty_waiting() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
busy "$A"
busy "$B"
m=$(mark)
# One event per tick: each tick queues its own message, which waits for the busy slot.
for i in $(seq 20); do
	post "$(order "w-a$i" shop-a "$((1000 + i))")"
	((i % 5 == 0)) && post "$(order "w-b$i" shop-b "$((2000 + i))")"
	tick
done
assert_eq "20 messages wait for A, 4 for B (the test means something)" "20 4" "$(queued "$A") $(queued "$B")"
assert_eq "nothing sent to them yet" "0 0" "$(bodies "$A" "$m" | wc -l) $(bodies "$B" "$m" | wc -l)"
m=$(mark)
free "$A"
free "$B"
out=$(drain)
assert_eq "the drain: 2 sent, 22 merged" "2 22" "$(jq -r '"\(.sent) \(.merged)"' <<<"$out")"
text=$(bodies "$A" "$m" | jq -r .)
assert_eq "A got one message" 1 "$(bodies "$A" "$m" | wc -l)"
assert_eq "listing its 20 orders, oldest first" "20 alerts: 20 1001 1020" \
	"$(head -n 1 <<<"$text") $(grep -c '^- New order #' <<<"$text") $(sed -n 2p <<<"$text" | grep -oE '#[0-9]+' | tr -d '#') $(tail -n 1 <<<"$text" | grep -oE '#[0-9]+' | tr -d '#')"
assert_eq "within WhatsApp's 4096 bytes" 1 "$(($(printf '%s' "$text" | wc -c) <= 4096))"
assert_eq "none of B's in A's message" 0 "$(grep -c '#20[0-9][0-9]' <<<"$text" || true)"
text=$(bodies "$B" "$m" | jq -r .)
assert_eq "B got one message of its 4, none of A's" "4 alerts: 4 0" \
	"$(head -n 1 <<<"$text") $(grep -c '^- New order #20' <<<"$text") $(grep -c '#10[0-9][0-9]' <<<"$text" || true)"
ta=$(tid shop-a) tb=$(tid shop-b)
c=$(psql_state "SELECT id FROM whatsapp_logs WHERE tenant_id = $ta AND status = 'sent'")
assert_eq "every event of A points at that one sent message" "20 1 $c" \
	"$(psql_state "SELECT count(*) || ' ' || count(DISTINCT message_id) || ' ' || min(message_id) FROM events WHERE tenant_id = $ta")"
assert_eq "the other 19 rows: merged, naming it" "19 $c" \
	"$(psql_state "SELECT count(*) || ' ' || min(merged_into) FROM whatsapp_logs WHERE tenant_id = $ta AND status = 'merged' AND merged_into = $c")"
assert_eq "the carrier was the oldest, and its row holds the text sent" "t|t" \
	"$(psql_state "SELECT (id = (SELECT min(id) FROM whatsapp_logs WHERE tenant_id = $ta)), message_content LIKE '20 alerts:%' FROM whatsapp_logs WHERE id = $c")"
assert_eq "B's events point at B's carrier, never A's" "4|1|f" \
	"$(psql_state "SELECT count(*), count(DISTINCT e.message_id), bool_or(w.tenant_id <> $tb) FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.tenant_id = $tb")"
assert_eq "no row merged across tenants" 0 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs m JOIN whatsapp_logs c ON c.id = m.merged_into WHERE m.tenant_id IS DISTINCT FROM c.tenant_id OR m.phone_number <> c.phone_number")"
# The seller's view lists the carrier with its 20 events; the merged rows are not alerts of their own.
http GET /tenants/me/alerts "" -H "Authorization: Bearer $(tenant_jwt shop-a)"
assert_eq "GET /tenants/me/alerts: one alert carrying the 20 events" "200 1 20 sent" \
	"$HTTP_STATUS $(jq -r '"\(.alerts | length) \(.alerts[0].event_ids | length) \(.alerts[0].state)"' <<<"$HTTP_BODY")"
assert_eq "its figures count one message sent" 1 "$(jq -r '.figures["7d"].sent' <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- urgency, and rows not due
scenario_urgent_first() {
# Quiet from an hour ago to an hour from now: normal alerts held, urgent ones go.
zone=Africa/Lagos
start=$(TZ=$zone date -d '-1 hour' +%H:%M) end=$(TZ=$zone date -d '+1 hour' +%H:%M)
make_tenant shop-a "$A" ",\"time_zone\":\"$zone\",\"quiet_start\":\"$start\",\"quiet_end\":\"$end\""
for i in 1 2 3; do
	post "$(order "q-$i" shop-a "$((3000 + i))")"
	tick
done
assert_eq "three normal alerts held by quiet hours" 3 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'queued' AND not_before > now() + interval '50 minutes'")"
m=$(mark)
post "$(login_event q-u shop-a)"
tick
text=$(bodies "$A" "$m" | jq -r .)
assert_eq "the urgent alert went at once, alone: the held ones are not due" "1 0" \
	"$(grep -c 'New login' <<<"$text" || true) $(grep -c 'alerts:' <<<"$text" || true)"
assert_eq "the three still held" 3 "$(queued "$A")"
# Quiet hours end (their rows come due) while the slot is busy; then an urgent one arrives.
busy "$A"
psql_state "UPDATE whatsapp_logs SET not_before = now() WHERE status = 'queued'" >/dev/null
post "$(login_event q-u2 shop-a)"
tick
m=$(mark)
free "$A"
drain >/dev/null
text=$(bodies "$A" "$m" | jq -r .)
assert_eq "one message of the four" "1 4 alerts:" "$(bodies "$A" "$m" | wc -l) $(head -n 1 <<<"$text")"
assert_eq "the urgent alert first, though queued last" "- New login: owner@shop" "$(sed -n 2p <<<"$text" | cut -c1-23)"
assert_eq "the message critical (the most urgent wins)" "critical sent" \
	"$(psql_state "SELECT w.priority || ' ' || w.status FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'q-3'")"
assert_eq "the urgent row carried the others" "$(carrier_of q-u2)" "$(carrier_of q-1)"
}

# ---------------------------------------------------------------- what is never merged
scenario_never_merged() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
ta=$(tid shop-a) tb=$(tid shop-b)
busy "$A"
post "$(order n-1 shop-a 4001)"
tick
post "$(order n-2 shop-a 4002)"
tick
# The operator's own message to the same number, and one of tenant B to it (a number two
# sellers share), and a code: each waits beside A's two alerts.
op=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('$A', 'operator: db01 down', 'critical', 'nm:op') RETURNING id")
ob=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id, kind)
 VALUES ('$A', 'B: payment failed', 'critical', 'nm:b', $tb, 'seller_alert') RETURNING id")
code=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id, kind)
 VALUES ('$A', 'Your code: 123456', 'critical', 'nm:code', $ta, 'login_code') RETURNING id")
m=$(mark)
free "$A"
out=$(drain)
assert_eq "five rows, four messages: only A's two alerts merged" "4 1" "$(jq -r '"\(.sent) \(.merged)"' <<<"$out")"
assert_eq "the operator's, B's and the code went as they were" "sent sent sent" \
	"$(psql_state "SELECT string_agg(status, ' ' ORDER BY id) FROM whatsapp_logs WHERE id IN ($op, $ob, $code)")"
bodies "$A" "$m" | jq -r . >"$HARNESS_DIR/nm.txt"
assert_eq "A's two alerts in one message, nothing else in it" "1 0" \
	"$(grep -c '^2 alerts:' "$HARNESS_DIR/nm.txt") $(grep -A2 '^2 alerts:' "$HARNESS_DIR/nm.txt" | grep -c 'operator\|B: \|code' || true)"
assert_eq "the operator's message alone, unchanged" 1 "$(grep -cx 'operator: db01 down' "$HARNESS_DIR/nm.txt")"
assert_eq "B's alert alone, unchanged" 1 "$(grep -cx 'B: payment failed' "$HARNESS_DIR/nm.txt")"
}

# ---------------------------------------------------------------- the 24-hour window
scenario_templates() {
harness_set_env WHATSAPP_ALERT_TEMPLATE seller_alert
make_tenant shop-a "$A"
busy "$A"
for i in 1 2 3; do
	post "$(order "t-$i" shop-a "$((5000 + i))")"
	tick
done
m=$(mark)
free "$A"
drain >/dev/null
# Outside the window each goes as the template it has to be (one per slot: RECIPIENT_MIN_INTERVAL 0 here).
assert_eq "outside the 24-hour window: three templates, none merged" "3 0" \
	"$(bodies "$A" "$m" | grep -c '^"template:seller_alert"') $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'merged'")"
# The seller wrote to us: the window is open, text goes, and merges.
psql_state "INSERT INTO contacts (account_id, phone_number, last_inbound_at) VALUES (1, '$A', now())
 ON CONFLICT (account_id, phone_number) DO UPDATE SET last_inbound_at = now()" >/dev/null
busy "$A"
for i in 4 5; do
	post "$(order "t-$i" shop-a "$((5000 + i))")"
	tick
done
# A row queued again as a template (131047 earlier) stays one.
tr=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id, kind, as_template)
 VALUES ('$A', 'New order #5009 (template)', 'warning', 'tp:t', $(tid shop-a), 'seller_alert', true) RETURNING id")
m=$(mark)
free "$A"
drain >/dev/null
assert_eq "inside it: the two texts in one message" 1 "$(bodies "$A" "$m" | jq -r . | grep -c '^2 alerts:')"
assert_eq "the row queued as a template went as one, alone" "sent " \
	"$(psql_state "SELECT status || ' ' || coalesce(merged_into::text, '') FROM whatsapp_logs WHERE id = $tr")"
}

# ---------------------------------------------------------------- a flood beside 20 sellers
# flood_batch FROM COUNT [OTHER...]: a batch of COUNT order.placed events for shop-f (ids f-FROM..)
# with one event for each OTHER tenant spread through it
flood_batch() {
	python3 - "$@" <<'PY'
import json, sys
start, count, others = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
def order(eid, tenant, oid):
    return {"id": eid, "type": "order.placed", "tenant": tenant, "occurred_at": "2026-12-02T14:05:00Z",
            "data": {"order_id": str(oid), "total": {"amount": 1250000, "currency": "NGN"}, "items": 3,
                     "customer": {"name": "Ada", "phone": "+2349012345678"}}}
ev = [order("f-%d" % i, "shop-f", 10000 + i) for i in range(start, start + count)]
for k, t in enumerate(others):
    ev.insert((k + 1) * len(ev) // (len(others) + 1), order("o-" + t, t, 9000 + k))
print(json.dumps({"events": ev}))
PY
}
scenario_flood_fairness() {
harness_set_env RECIPIENT_MIN_INTERVAL 6
make_tenant shop-f +2349030000000
for i in $(seq 20); do
	make_tenant "shop-o$i" "+23490300001$(printf %02d "$i")"
done
# 1,000 events of one seller, then one tick: 5 outbox rows (200 events each), sent as the first
# (at once, by the dispatch step) and one more carrying the other four when the slot frees.
for b in $(seq 0 9); do
	post "$(flood_batch $((b * 100)) 100)"
done
harness_cron tick >/dev/null
ft=$(tid shop-f)
assert_eq "1,000 events of shop-f: 5 outbox rows, all sent or merged, in 1 or 2 messages" "5 0 true" \
	"$(psql_state "SELECT count(*) || ' ' || count(*) FILTER (WHERE status NOT IN ('sent', 'merged')) || ' ' || (count(*) FILTER (WHERE status = 'sent') BETWEEN 1 AND 2) FROM whatsapp_logs WHERE tenant_id = $ft")"
f1=$(psql_state "SELECT max(id) FROM whatsapp_logs WHERE tenant_id = $ft")
# 980 more, and among them one event each of 20 other sellers (two per batch of 100), then a tick.
for b in $(seq 10 19); do
	o=$(((b - 10) * 2 + 1))
	post "$(flood_batch $((b * 100)) 98 "shop-o$o" "shop-o$((o + 1))")"
done
harness_cron tick >/dev/null
assert_eq "all 2,000 events sent" "2000 0" \
	"$(psql_state "SELECT count(*) || ' ' || count(*) FILTER (WHERE w.status <> 'sent') FROM events e JOIN whatsapp_logs w ON w.id = e.message_id")"
assert_eq "shop-f's 1,980 events: 10 outbox rows, at most 4 messages" "1980 10 true" \
	"$(psql_state "SELECT count(*) || ' ' || (SELECT count(*) FROM whatsapp_logs WHERE tenant_id = $ft) || ' ' || (count(DISTINCT message_id) <= 4) FROM events WHERE tenant_id = $ft")"
assert_eq "each of the 20 others got its own alert, one message each" "20 20" \
	"$(psql_state "SELECT count(*) || ' ' || count(DISTINCT w.phone_number) FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id LIKE 'o-%' AND w.message_content LIKE 'New order #90%'")"
# Dispatch is fair: the 20 were decided in the first transaction of the second tick, beside
# the flood's first 200 of it, not behind its 980.
assert_eq "the 20 decided in the tick's first transaction" "1|t" \
	"$(psql_state "SELECT count(DISTINCT dispatched_at), min(dispatched_at) = (SELECT min(dispatched_at) FROM events WHERE event_id LIKE 'f-1___')
	 FROM events WHERE event_id LIKE 'o-%'")"
# Claims are numbered (lease_id): the 20 went in one claim, none after any of the flood's
# messages of that tick.
assert_eq "the 20 in one claim, no later than the flood's first message of the tick" "1|t" \
	"$(psql_state "SELECT count(DISTINCT w.lease_id), (max(w.lease_id) <= (SELECT min(lease_id) FROM whatsapp_logs WHERE tenant_id = $ft AND status = 'sent' AND id > $f1))
	 FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id LIKE 'o-%'")"
}

# ---------------------------------------------------------------- "Mute this type"
# sent NUMBER SINCE: what the mock received for NUMBER after SINCE: "type button-id body-head"
sent() {
	mock_requests "$2" | jq -r --arg to "${1#+}" '.[] | select(.to == $to) |
		"\(.json.type) \(.json.interactive.action.buttons[0].reply.id // "-") \(.json.interactive.action.buttons[0].reply.title // "-" | gsub(" "; "_")) \((.json.interactive.body.text // .json.text.body // "-") | split("\n")[0])"'
}
window() { # NUMBER: the seller wrote to us: the 24-hour window is open
	psql_state "INSERT INTO contacts (account_id, phone_number, last_inbound_at) VALUES (1, '$1', now())
	 ON CONFLICT (account_id, phone_number) DO UPDATE SET last_inbound_at = now()" >/dev/null
}
# tap FROM ID BUTTON_ID: a signed Meta inbound button reply from FROM
tap() {
	local body sig i
	body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"1234567890"},"contacts":[{"profile":{"name":"Seller"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"%s","title":"Mute this type"}}}]}}]}]}' \
		"${1#+}" "${1#+}" "$2" "$(date +%s)" "$3")
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$APPSECRET" -r | cut -d' ' -f1)
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$sig"
	assert_eq "button reply $2 posted: 200" 200 "$HTTP_STATUS"
	for i in $(seq 100); do
		[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND attempts = 0") == 0 ]] && return 0
		sleep 0.05
	done
}
scenario_mute_button() {
make_tenant shop-a "$A"
window "$A"
m=$(mark)
post "$(order b-1 shop-a 6001)"
tick
assert_eq "inside the window: the alert with its reply button" \
	"interactive MUTE:order.placed Mute_this_type New order #6001: NGN 12,500, 3 items, Ada +234...5678" "$(sent "$A" "$m")"
m=$(mark)
post "$(login_event b-2 shop-a)"
tick
assert_eq "a locked type (cannot be muted): no button" "text - - New login: owner@shop" "$(sent "$A" "$m" | cut -d' ' -f1-6)"
# Two alerts of one type merged: the button stays; with another type: none.
busy "$A"
post "$(order b-3 shop-a 6003)"
tick
post "$(order b-4 shop-a 6004)"
tick
m=$(mark)
free "$A"
drain >/dev/null
assert_eq "two orders merged: one type, the button kept" "interactive MUTE:order.placed Mute_this_type 2 alerts:" "$(sent "$A" "$m")"
busy "$A"
post "$(order b-5 shop-a 6005)"
tick
post "$(login_event b-6 shop-a)"
tick
m=$(mark)
free "$A"
drain >/dev/null
assert_eq "an order and a login merged: two types, no button" "text - - 2 alerts:" "$(sent "$A" "$m")"
assert_eq "and the carrier's row says so" "|" \
	"$(psql_state "SELECT coalesce(reply_id, ''), coalesce(reply_title, '') FROM whatsapp_logs w JOIN events e ON e.message_id = w.id WHERE e.event_id = 'b-5'")"
# Outside the window, with a template: the template, no button.
harness_set_env WHATSAPP_ALERT_TEMPLATE seller_alert
psql_state "DELETE FROM contacts" >/dev/null
m=$(mark)
post "$(order b-7 shop-a 6007)"
tick
assert_eq "outside the window: the template, no button" "template - - -" "$(sent "$A" "$m")"
# The seller taps the button: order.placed muted for a day; the next order is not sent.
tap "$A" wamid.tap1 MUTE:order.placed
assert_eq "the tap muted order.placed for a day" "order.placed true" \
	"$(psql_state "SELECT type || ' ' || (until BETWEEN now() + interval '23 hours' AND now() + interval '25 hours') FROM seller_mutes WHERE tenant_id = $(tid shop-a)")"
assert_contains "and was answered" "$(psql_state "SELECT message_content FROM whatsapp_logs WHERE idempotency_key = 'reply:wamid.tap1'")" "order.placed"
post "$(order b-8 shop-a 6008)"
tick
assert_eq "the next order: muted, not sent" "muted" "$(psql_state "SELECT outcome FROM events WHERE event_id = 'b-8'")"
# A button id that names no type mutes nothing.
tap "$A" wamid.tap2 MUTE:order.shipped
assert_eq "an unknown type in a tapped id mutes nothing more" 1 "$(psql_state "SELECT count(*) FROM seller_mutes")"
}

harness_scenarios twenty_waiting urgent_first never_merged templates flood_fairness mute_button

harness_finish
