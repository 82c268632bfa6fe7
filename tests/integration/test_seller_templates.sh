#!/usr/bin/env bash
# Each seller alert type's own WhatsApp template outside the 24-hour window (issue 17;
# SELLER_TEMPLATES, common/delivery/provider.h provider_template_choice, migration 021). On,
# a seller alert of one event goes outside the window as its type's template (order_placed)
# with the event's parameters, in order, even without WHATSAPP_ALERT_TEMPLATE; inside it as
# text; a 131047 refusal of its text queues it again as its own template. A message of several
# events (a group, a coalesced carrier) keeps the generic template. Off: nothing changes.
# Tenant B's parameters never reach A; a customer name with line breaks and tabs is one clean
# parameter. cron seller-templates prints the 13 creation requests.
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

A=+2349020000001 B=+2349020000002

# ---------------------------------------------------------------- helpers
post() { # BODY: POST /events signed now (harness.sh)
	events_post "$1"
	assert_eq "event posted: 200" 200 "$HTTP_STATUS"
}
tid() { psql_state "SELECT id FROM tenants WHERE external_id = '$1'"; }
order() { # ID TENANT ORDER_ID [CUSTOMER_NAME_JSON]: an order.placed event (normal)
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":%s,"phone":"+2349012345678"}}}' \
		"$1" "$2" "$3" "${4:-\"Ada\"}"
}
mark() { mock_requests | jq '.[-1].seq // 0'; }
# sent NUMBER SINCE: what the mock received for NUMBER after SINCE, one line each:
# "template NAME LANGUAGE|P1|P2..." or "text BODY-FIRST-LINE"
sent() {
	mock_requests "$2" | jq -r --arg to "${1#+}" '.[] | select(.to == $to) | .json |
		if .type == "template" then
			"template \(.template.name) \(.template.language.code)|" + ([.template.components[0].parameters[]?.text] | join("|"))
		else
			"\(.type) \((.text.body // .interactive.body.text) | split("\n")[0])"
		end'
}
tick() { harness_cron tick >/dev/null; }
drain() { harness_cron drain >/dev/null; }
window() { # NUMBER: the seller wrote to us: the 24-hour window is open
	psql_state "INSERT INTO contacts (account_id, phone_number, last_inbound_at) VALUES (1, '$1', now())
	 ON CONFLICT (account_id, phone_number) DO UPDATE SET last_inbound_at = now()" >/dev/null
}
busy() {
	psql_state "INSERT INTO recipient_slots (account_id, phone_number, next_allowed_at)
	 VALUES (1, '$1', now() + interval '1 hour') ON CONFLICT (account_id, phone_number)
	 DO UPDATE SET next_allowed_at = excluded.next_allowed_at" >/dev/null
}
free() { psql_state "UPDATE recipient_slots SET next_allowed_at = now() - interval '1 second' WHERE phone_number = '$1'" >/dev/null; }

# ---------------------------------------------------------------- on, outside the window
scenario_own_template_outside_the_window() {
harness_set_env SELLER_TEMPLATES on
make_tenant shop-a "$A"
make_tenant shop-b "$B"
m=$(mark)
post "$(order o-a shop-a 1001)"
post "$(order o-b shop-b 2002 '"Bola"')"
tick
assert_eq "A: order_placed with A's order, in order, without WHATSAPP_ALERT_TEMPLATE" \
	"template order_placed en_US|1001|NGN 12,500|3 items|Ada" "$(sent "$A" "$m")"
assert_eq "B: its own order's parameters" \
	"template order_placed en_US|2002|NGN 12,500|3 items|Bola" "$(sent "$B" "$m")"
assert_eq "none of B's parameters in A's message" 0 "$(sent "$A" "$m" | grep -c '2002\|Bola' || true)"
assert_eq "A's row: sent as a template, its template and parameters recorded" \
	"sent|t|order_placed|{1001,\"NGN 12,500\",\"3 items\",Ada}" \
	"$(psql_state "SELECT status, as_template, template_name, template_params FROM whatsapp_logs WHERE tenant_id = $(tid shop-a)")"
}

# ---------------------------------------------------------------- hostile customer name
scenario_hostile_name_is_one_clean_parameter() {
harness_set_env SELLER_TEMPLATES on
make_tenant shop-a "$A"
m=$(mark)
post "$(order h-1 shop-a 3003 '"Ada\n\tObi\r\n*FAKE*:    refund\u2028now"')"
tick
assert_eq "the name: one line, no tabs, one space between words" \
	"template order_placed en_US|3003|NGN 12,500|3 items|Ada Obi ∗FAKE∗: refund now" "$(sent "$A" "$m")"
raw=$(mock_requests "$m" | jq -r '.[0].json.template.components[0].parameters[3].text')
assert_eq "no line break, tab or run of spaces reaches Meta" 0 "$(printf '%s' "$raw" | grep -cP '[\n\t\r\x{2028}]|  ' || true)"
}

# ---------------------------------------------------------------- on, inside the window
scenario_text_inside_the_window() {
harness_set_env SELLER_TEMPLATES on
make_tenant shop-a "$A"
window "$A"
m=$(mark)
post "$(order w-1 shop-a 4004)"
tick
assert_eq "inside the window: the text (with its Mute button)" \
	"interactive New order #4004: NGN 12,500, 3 items, Ada +234...5678" "$(sent "$A" "$m")"
}

# ---------------------------------------------------------------- 131047 on the text
scenario_refused_text_goes_as_its_own_template() {
harness_set_env SELLER_TEMPLATES on
make_tenant shop-a "$A"
window "$A" # our view says open; Meta says otherwise
mock_script '[{"match":{"to":"'"$A"'","type":"interactive"},"meta_error":131047}]'
m=$(mark)
post "$(order r-1 shop-a 5005)"
tick
drain
assert_eq "the text refused (131047), then its own template" \
	"interactive New order #5005: NGN 12,500, 3 items, Ada +234...5678
template order_placed en_US|5005|NGN 12,500|3 items|Ada" "$(sent "$A" "$m")"
assert_eq "its row: sent as a template, the refusal's code kept until then" "sent|t" \
	"$(psql_state "SELECT status, as_template FROM whatsapp_logs WHERE tenant_id = $(tid shop-a)")"
}

# ---------------------------------------------------------------- several events
scenario_several_events_keep_the_generic_template() {
harness_set_env SELLER_TEMPLATES on
harness_set_env WHATSAPP_ALERT_TEMPLATE seller_alert
make_tenant shop-a "$A"
# Two events decided in one tick: one message of both, no template of its own.
m=$(mark)
post "$(order g-1 shop-a 6001)"
post "$(order g-2 shop-a 6002)"
tick
assert_eq "a group of two: the generic template, priority and summary" \
	"template seller_alert en_US|warning|2 alerts: - New order #6001: NGN 12,500, 3 items, Ada +234...5678 - New order #6002: NGN 12,500, 3 items, Ada +234...5678" \
	"$(sent "$A" "$m")"
assert_eq "its row has no template of its own" "|" \
	"$(psql_state "SELECT coalesce(template_name, ''), coalesce(template_params::text, '') FROM whatsapp_logs WHERE idempotency_key LIKE 'events:%'")"
# Outside the window two single-event rows waiting for the slot are not merged: each its own.
busy "$A"
post "$(order c-1 shop-a 7001)"
tick
post "$(order c-2 shop-a 7002)"
tick
m=$(mark)
free "$A"
drain
assert_eq "outside the window: each its own template, none merged" \
	"template order_placed en_US|7001|NGN 12,500|3 items|Ada
template order_placed en_US|7002|NGN 12,500|3 items|Ada" "$(sent "$A" "$m")"
# Inside it they merge into one text, and the carrier loses its own template.
window "$A"
busy "$A"
post "$(order c-3 shop-a 7003)"
tick
post "$(order c-4 shop-a 7004)"
tick
m=$(mark)
free "$A"
drain
assert_eq "inside the window: one text of both" "interactive 2 alerts:" "$(sent "$A" "$m")"
assert_eq "the carrier's row: no template of its own any more" "sent||" \
	"$(psql_state "SELECT w.status, coalesce(w.template_name, ''), coalesce(w.template_params::text, '') FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'c-4'")"
# Queued again as a template (131047) after the merge: the generic template, not order_placed.
c=$(psql_state "SELECT message_id FROM events WHERE event_id = 'c-4'")
psql_state "UPDATE whatsapp_logs SET status = 'queued', as_template = true, next_attempt_at = now() WHERE id = $c" >/dev/null
m=$(mark)
drain
assert_eq "the carrier as a template: the generic one" "template seller_alert" "$(sent "$A" "$m" | cut -d' ' -f1-2)"
}

# ---------------------------------------------------------------- off: as before
scenario_off_changes_nothing() {
make_tenant shop-a "$A"
m=$(mark)
post "$(order f-1 shop-a 8001)"
tick
assert_eq "off, no generic template: the text is tried outside the window, as before" \
	"text New order #8001: NGN 12,500, 3 items, Ada +234...5678" "$(sent "$A" "$m")"
assert_eq "the row still records its template (for when it is turned on)" "order_placed" \
	"$(psql_state "SELECT template_name FROM whatsapp_logs WHERE tenant_id = $(tid shop-a)")"
harness_set_env WHATSAPP_ALERT_TEMPLATE seller_alert
m=$(mark)
post "$(order f-2 shop-a 8002)"
tick
assert_eq "off, with the generic template: that one, priority and summary" \
	"template seller_alert en_US|warning|New order #8002: NGN 12,500, 3 items, Ada +234...5678" "$(sent "$A" "$m")"
# A 131047 on the text with no template to send: failed with the code, as before.
harness_set_env WHATSAPP_ALERT_TEMPLATE ""
window "$A"
mock_script '[{"match":{"to":"'"$A"'"},"meta_error":131047}]'
post "$(order f-3 shop-a 8003)"
tick
drain
assert_eq "off: the refused text fails with 131047, never goes as order_placed" "failed|131047|0" \
	"$(psql_state "SELECT w.status, w.last_error_code FROM events e JOIN whatsapp_logs w ON w.id = e.message_id WHERE e.event_id = 'f-3'")|$(mock_requests | jq '[.[] | select(.json.template.name == "order_placed")] | length')"
}

# ---------------------------------------------------------------- the templates to register
scenario_cron_prints_the_templates() {
out=$(harness_cron seller-templates)
assert_eq "13 creation requests, all UTILITY in WHATSAPP_TEMPLATE_LANGUAGE" "13 13 13" \
	"$(jq -r '"\(length) \([.[] | select(.category == "UTILITY")] | length) \([.[] | select(.language == "en_US")] | length)"' <<<"$out")"
assert_eq "order_placed: its body and example" \
	"New order #{{1}} on your shop: {{2}}, {{3}}, customer {{4}}.|1001,NGN 12,500,3 items,Ada" \
	"$(jq -r '.[] | select(.name == "order_placed") | .components[0] | "\(.text)|\(.example.body_text[0] | join(","))"' <<<"$out")"
harness_set_env WHATSAPP_TEMPLATE_LANGUAGE en_GB
assert_eq "in the configured language" en_GB "$(harness_cron seller-templates | jq -r '.[0].language')"
harness_set_env SELLER_TEMPLATES maybe
rc=0
harness_cron seller-templates >/dev/null || rc=$?
assert_eq "SELLER_TEMPLATES=maybe refused at start, naming it" "2 yes" \
	"$rc $(grep -q "SELLER_TEMPLATES must be off or on, got 'maybe'" "$HARNESS_LOG_DIR/cron.log" && echo yes)"
}

harness_scenarios own_template_outside_the_window hostile_name_is_one_clean_parameter \
	text_inside_the_window refused_text_goes_as_its_own_template \
	several_events_keep_the_generic_template off_changes_nothing cron_prints_the_templates

harness_finish
