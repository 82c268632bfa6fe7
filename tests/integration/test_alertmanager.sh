#!/usr/bin/env bash
# POST /monitoring/alertmanager (issue 20): Alertmanager's webhook (version 4) into the alert
# lifecycle. First with payloads posted by curl (firing, the same again, resolved, a group of
# several, severity, pause, acknowledgement by WhatsApp reply, escalation, a bad or missing
# token, no token configured, malformed bodies, the state database down), asserting what the
# mock provider received and the alerts table; then with Debian's real prometheus-alertmanager
# (our own instance: its own port, storage and no clustering) sending to our nginx.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

AM_TOKEN=am-$(random_hex 20)
PNID=1234567890
CRIT=+15550000001 WARN=+15550000002 ESC=+15550000009
# The programs and cron's drain send through Meta's API at the mock, without pacing. Business
# hours all day, so that a warning goes at once on a weekday.
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env BUSINESS_HOURS_START 00:00
harness_set_env BUSINESS_HOURS_END 23:59
harness_set_env ESCALATION_PHONE_1 "$ESC"
harness_set_env ESCALATION_MINUTES 1
harness_set_env ALERTMANAGER_TOKEN "$AM_TOKEN"
harness_restart_programs || fail "programs restarted"
harness_env_baseline
export RECIPIENT_MIN_INTERVAL=0
APP_SECRET=$(env_get "$MONITORING_ENV_FILE" META_APP_SECRET)

AM=/monitoring/alertmanager

# ---------------------------------------------------------------- helpers
# alert STATUS NAME FINGERPRINT [SEVERITY] [INSTANCE] [SUMMARY]: one alert of a notification
alert() {
	jq -cn --arg st "$1" --arg name "$2" --arg fp "$3" --arg sev "${4:-}" --arg inst "${5:-}" \
		--arg sum "${6:-}" '{status: $st,
		labels: ({alertname: $name} + (if $sev == "" then {} else {severity: $sev} end)
			+ (if $inst == "" then {} else {instance: $inst} end)),
		annotations: (if $sum == "" then {} else {summary: $sum} end),
		startsAt: "2026-12-03T01:00:00Z",
		endsAt: (if $st == "firing" then "0001-01-01T00:00:00Z" else "2026-12-03T01:05:00Z" end),
		generatorURL: "http://prometheus.example/graph", fingerprint: $fp}'
}
# group STATUS ALERT-JSON...: a version 4 notification of those alerts, grouped by alertname
group() {
	local st=$1
	shift
	printf '%s\n' "$@" | jq -cs --arg st "$st" '{version: "4", groupKey: "{}:{alertname=\"\(.[0].labels.alertname)\"}",
		truncatedAlerts: 0, status: $st, receiver: "whatsapp",
		groupLabels: {alertname: .[0].labels.alertname}, commonLabels: {}, commonAnnotations: {},
		externalURL: "http://alertmanager.example:9093", alerts: .}'
}
# am_post BODY [TOKEN]: POST it with the token (default ALERTMANAGER_TOKEN; "-": none)
am_post() {
	local tok=${2:-$AM_TOKEN}
	if [[ $tok == - ]]; then
		http POST "$AM" "$1"
	else
		http POST "$AM" "$1" -H "Authorization: Bearer $tok"
	fi
}
# answer: status and error code of the last answer ("400 invalid_payload"; "200 " on success)
answer() { printf '%s %s' "$HTTP_STATUS" "$(jq -r '.error.code // empty' <<<"$HTTP_BODY" 2>/dev/null)"; }
# texts_to NUMBER: the texts the mock received for NUMBER, one message a record (NUL-free JSON)
texts_to() { mock_requests | jq -c --arg to "${1#+}" '[.[] | select(.to == $to) | .json.text.body]'; }
# sent N: drain, and wait (up to 10 s) until the mock has N send requests; print the count
sent() {
	local i n=0
	for i in $(seq 50); do
		((i % 10 == 1)) && { harness_cron drain >/dev/null || true; }
		n=$(mock_count)
		((n >= $1)) && break
		sleep 0.2
	done
	printf '%s\n' "$n"
}
alerts_row() { # alerts_row FINGERPRINT COLUMNS
	psql_state "SELECT $2 FROM alerts WHERE target = '$1' ORDER BY id DESC LIMIT 1"
}
state_rows() { psql_state "SELECT (SELECT count(*) FROM alerts) || '|' || (SELECT count(*) FROM whatsapp_logs) || '|' || (SELECT count(*) FROM alert_events)"; }

FP1=1a2b3c4d5e6f7a8b FP2=2b3c4d5e6f7a8b9c FP3=3c4d5e6f7a8b9c0d
LATENCY=$(alert firing HighLatency "$FP1" critical web-1:9100 "p99 latency over 2s")

# ---------------------------------------------------------------- firing, repeat, resolved
scenario_firing_repeat_resolved() {
am_post "$(group firing "$LATENCY")"
assert_eq "a firing notification is taken: 200" "200 " "$(answer)"
assert_eq "one alert opened" 1 "$(jq '.alerts.opened | length' <<<"$HTTP_BODY")"
assert_eq "stored prefixed, keyed by the fingerprint" "alertmanager:HighLatency|$FP1|critical|open" \
	"$(alerts_row "$FP1" "rule || '|' || target || '|' || severity || '|' || status")"
assert_eq "a critical alert starts the escalation clock" t "$(alerts_row "$FP1" "escalate_at IS NOT NULL")"
assert_eq "one message went out" 1 "$(sent 1)"
msg=$(texts_to "$CRIT" | jq -r '.[0]')
assert_contains "to the critical list, titled by the group" "$msg" "Alertmanager (alertname=HighLatency): 1 critical"
assert_contains "the alert is named by alertname, instance and summary" "$msg" \
	"CRITICAL HighLatency on web-1:9100: p99 latency over 2s [#$(alerts_row "$FP1" id)]"
assert_contains "it says how to acknowledge" "$msg" "Reply \"ack $(alerts_row "$FP1" id)\""

before=$(state_rows)
am_post "$(group firing "$LATENCY")"
assert_eq "the same notification again: 200" "200 " "$(answer)"
assert_eq "it opens nothing" 0 "$(jq '.alerts.opened | length' <<<"$HTTP_BODY")"
assert_eq "and queues nothing" 0 "$(jq .messages_queued <<<"$HTTP_BODY")"
assert_eq "no new alert, message or event" "$before" "$(state_rows)"
assert_eq "no second message" 1 "$(sent 2)"

am_post "$(group resolved "$(alert resolved HighLatency "$FP1" critical web-1:9100 "p99 latency over 2s")")"
assert_eq "a resolved notification: 200" "200 " "$(answer)"
assert_eq "the alert resolves" resolved "$(alerts_row "$FP1" status)"
assert_eq "the recovery goes to who was told" 2 "$(sent 2)"
assert_match "the recovery names it and says how long" \
	'RESOLVED HighLatency on web-1:9100 \(p99 latency over 2s\) after [0-9]+[smhd]' \
	"$(texts_to "$CRIT" | jq -r '.[1]')"
assert_eq "nothing to the warning list" "[]" "$(texts_to "$WARN")"

before=$(state_rows)
am_post "$(group resolved "$(alert resolved HighLatency "$FP1" critical web-1:9100 "p99 latency over 2s")")"
assert_eq "resolved again: 200 and nothing changes" "200 |$before" "$(answer)|$(state_rows)"
am_post "$(group firing "$LATENCY")"
assert_eq "firing after the recovery opens a new alert" 2 \
	"$(psql_state "SELECT count(*) FROM alerts WHERE target = '$FP1'")"
assert_eq "and tells again" 3 "$(sent 3)"
}

# ---------------------------------------------------------------- the tenant label: to that seller
# tenant_alert STATUS NAME FINGERPRINT TENANT [SEVERITY] [SUMMARY]: alert with a tenant label
tenant_alert() {
	alert "$1" "$2" "$3" "${5:-}" "" "${6:-}" | jq -c --arg t "$4" '.labels.tenant = $t'
}
seller_texts() { # seller_texts NUMBER: what the mock received for it, as a JSON array
	mock_requests | jq -c --arg to "${1#+}" '[.[] | select(.to == $to) | .json.text.body]'
}
scenario_tenant_label() {
SA=+2349030000001 SB=+2349030000002 SS=+2349030000003
local t
for t in "shop-a $SA" "shop-b $SB" "shop-s $SS"; do
	set -- $t
	http POST /tenants "{\"external_id\":\"$1\",\"display_name\":\"Shop $1\",\"whatsapp_number\":\"$2\"}" \
		-H "Authorization: Bearer $PLATFORM_KEY"
	assert_eq "seller $1 created" 201 "$HTTP_STATUS"
done
http POST /tenants/shop-s/suspend "" -H "Authorization: Bearer $PLATFORM_KEY"
assert_eq "seller shop-s suspended" 200 "$HTTP_STATUS"
ta=$(tenant_alert firing ShopCheckoutErrors "$FP1" shop-a critical "checkout 5xx over 5%")
ops=$(alert firing DiskFull "$FP2" critical db-1:9100 "disk 95% full")
ghost=$(tenant_alert firing ShopSlow "$FP3" no-such-shop warning "p99 over 3s")
susp=$(tenant_alert firing ShopDown 4d5e6f7a8b9c0d1e shop-s critical "shop down")
am_post "$(group firing "$ops" "$ta" "$ghost" "$susp")"
assert_eq "a notification with tenant labels: 200" "200 " "$(answer)"
assert_eq "one seller event stored" 1 "$(jq .sellers.events_stored <<<"$HTTP_BODY")"
assert_eq "an unknown and a suspended seller are named" '["no-such-shop","shop-s"]' \
	"$(jq -c '.sellers.not_sellers' <<<"$HTTP_BODY")"
assert_eq "the seller's alert is no operator alert" 0 \
	"$(psql_state "SELECT count(*) FROM alerts WHERE target = '$FP1'")"
assert_eq "it is shop-a's system.notice event, by fingerprint and episode" \
	"shop-a|system.notice|am:$FP1:firing:2026-12-03T01:00:00Z" \
	"$(psql_state "SELECT t.external_id || '|' || e.type || '|' || e.event_id FROM events e JOIN tenants t ON t.id = e.tenant_id")"
assert_eq "the other three are the operators' alerts" 3 \
	"$(psql_state "SELECT count(*) FROM alerts WHERE rule LIKE 'alertmanager:%'")"
assert_eq "one message to each operators' list" 2 "$(sent 2)"
msg=$(texts_to "$CRIT" | jq -r '.[0]')
assert_contains "the operators' message has their own alert" "$msg" "DiskFull on db-1:9100: disk 95% full"
assert_contains "the unknown seller's (a warning), saying why it came to them" \
	"$(texts_to "$WARN" | jq -r '.[0]')" \
	'ShopSlow: p99 over 3s (tenant label "no-such-shop": no such active seller)'
assert_contains "and the suspended seller's" "$msg" \
	'ShopDown: shop down (tenant label "shop-s": no such active seller)'
assert_not_contains "but not shop-a's" "$msg" "ShopCheckoutErrors"
ev=$(harness_cron tick | jq -c '.steps[] | select(.step == "events")')
assert_eq "the tick dispatched the seller's event" 1 "$(jq '.sent // 0' <<<"$ev" 2>/dev/null || echo 0)"
local i
for i in $(seq 50); do
	[[ $(seller_texts "$SA") != "[]" ]] && break
	((i % 10 == 0)) && harness_cron drain >/dev/null
	sleep 0.2
done
assert_eq "shop-a got its alert on its own number" \
	'["Notice: CRITICAL alert: ShopCheckoutErrors: checkout 5xx over 5%"]' "$(seller_texts "$SA")"
assert_eq "shop-b got nothing" "[]" "$(seller_texts "$SB")"
assert_eq "the suspended seller got nothing" "[]" "$(seller_texts "$SS")"

am_post "$(group firing "$ops" "$ta" "$ghost" "$susp")"
assert_eq "the same notification again: nothing stored" "0 1" \
	"$(jq -r '"\(.sellers.events_stored) \(.sellers.events_repeated)"' <<<"$HTTP_BODY")"
assert_eq "still one event" 1 "$(psql_state "SELECT count(*) FROM events")"
am_post "$(group resolved "$(tenant_alert resolved ShopCheckoutErrors "$FP1" shop-a critical "checkout 5xx over 5%")")"
assert_eq "resolved: a second event for shop-a" 1 "$(jq .sellers.events_stored <<<"$HTTP_BODY")"
harness_cron tick >/dev/null
for i in $(seq 50); do
	[[ $(seller_texts "$SA" | jq length) -ge 2 ]] && break
	((i % 10 == 0)) && harness_cron drain >/dev/null
	sleep 0.2
done
assert_eq "shop-a is told it resolved" "Notice: Resolved: ShopCheckoutErrors (checkout 5xx over 5%)" \
	"$(seller_texts "$SA" | jq -r '.[1] // ""')"
assert_eq "shop-b still got nothing" "[]" "$(seller_texts "$SB")"
assert_eq "no operator message about shop-a's alert" "[]" \
	"$(texts_to "$CRIT" | jq -c '[.[] | select(contains("ShopCheckoutErrors"))]')"
}

# ---------------------------------------------------------------- one message per recipient per group
scenario_group_one_message() {
body=$(group firing "$(alert firing DiskFull "$FP1" critical db-1:9100 "disk 95% full")" \
	"$(alert firing DiskFull "$FP2" critical db-2:9100 "disk 97% full")" \
	"$(alert firing DiskFull "$FP3" warning db-3:9100 "" )")
am_post "$body"
assert_eq "three alerts opened" 3 "$(jq '.alerts.opened | length' <<<"$HTTP_BODY")"
assert_eq "severity label: critical, critical, warning" "critical,critical,warning" \
	"$(psql_state "SELECT string_agg(severity, ',' ORDER BY id) FROM alerts")"
sent 2 >/dev/null
crit=$(texts_to "$CRIT")
assert_eq "one message to the critical list for the group's two criticals" 1 "$(jq length <<<"$crit")"
assert_contains "it lists the first" "$(jq -r '.[0]' <<<"$crit")" "CRITICAL DiskFull on db-1:9100: disk 95% full"
assert_contains "and the second" "$(jq -r '.[0]' <<<"$crit")" "CRITICAL DiskFull on db-2:9100: disk 97% full"
assert_contains "one reply acknowledges them all" "$(jq -r '.[0]' <<<"$crit")" 'Reply "ack" to acknowledge them all.'
warn=$(psql_state "SELECT string_agg(message_content, '') FROM whatsapp_logs WHERE phone_number = '$WARN'")
assert_contains "the warning goes to the warning list (no summary: name and instance)" "$warn" \
	"WARNING DiskFull on db-3:9100 ["
am_post "$(group firing "$(alert firing DiskFull "$FP3" critical db-3:9100 "")")"
assert_eq "a warning whose severity label becomes critical rises" 1 \
	"$(jq '.alerts.changed | length' <<<"$HTTP_BODY")"
assert_contains "and is told as a rise" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs ORDER BY id DESC LIMIT 1")" \
	"CRITICAL (was warning) DiskFull on db-3:9100"
}

# ---------------------------------------------------------------- pause, acknowledgement, escalation
scenario_pause_suppresses() {
psql_state "UPDATE pause_state SET paused_until = now() + interval '1 hour', paused_at = now(),
 paused_by = '$CRIT' WHERE id = 1" >/dev/null
am_post "$(group firing "$LATENCY")"
assert_eq "during a pause the alert opens" "200 |open" "$(answer)|$(alerts_row "$FP1" status)"
assert_eq "its message is recorded suppressed, not sent" "0|1" \
	"$(jq .messages_queued <<<"$HTTP_BODY")|$(jq .messages_suppressed <<<"$HTTP_BODY")"
harness_cron drain >/dev/null
assert_eq "the mock received nothing" 0 "$(mock_count)"
}

scenario_ack_by_whatsapp_and_escalation() {
am_post "$(group firing "$LATENCY" "$(alert firing HighLatency "$FP2" critical web-2:9100 "p99 over 2s")")"
sent 1 >/dev/null
id1=$(alerts_row "$FP1" id) id2=$(alerts_row "$FP2" id)
# Unacknowledged past ESCALATION_MINUTES: the next tier hears of both.
psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second'" >/dev/null
out=$(harness_cron drain)
assert_eq "both escalate" 2 "$(jq .escalated <<<"$out")"
esc=$(sent 3 >/dev/null; texts_to "$ESC")
assert_eq "the next tier is told, once for both" 1 "$(jq length <<<"$esc")"
assert_contains "by the alert's own line" "$(jq -r '.[0]' <<<"$esc")" \
	"ESCALATED, not acknowledged for"
assert_contains "naming it as Alertmanager did" "$(jq -r '.[0]' <<<"$esc")" \
	"CRITICAL HighLatency on web-2:9100: p99 over 2s"
# The critical contact answers "ack 12" on WhatsApp (a signed Meta webhook event).
ts=$(date +%s)
body=$(printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Ops"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.AMACK1","timestamp":"%s","type":"text","text":{"body":"ack %s"}}]}}]}]}' \
	"$PNID" "${CRIT#+}" "${CRIT#+}" "$ts" "$id1")
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$APP_SECRET" -r | cut -d' ' -f1)
http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$sig"
assert_eq "the webhook takes the reply" 200 "$HTTP_STATUS"
for _ in $(seq 50); do
	[[ $(alerts_row "$FP1" "coalesce(acknowledged_by, '')") == "$CRIT" ]] && break
	sleep 0.1
done
assert_eq "ack by WhatsApp reply acknowledges the Alertmanager alert" "$CRIT" \
	"$(alerts_row "$FP1" "coalesce(acknowledged_by, '')")"
assert_eq "only the one named" "" "$(alerts_row "$FP2" "coalesce(acknowledged_by, '')")"
# A repeated firing notification leaves the acknowledgement alone.
am_post "$(group firing "$LATENCY")"
assert_eq "a repeat keeps it acknowledged" "$CRIT" "$(alerts_row "$FP1" "coalesce(acknowledged_by, '')")"
assert_match "ids are Alertmanager's alerts" '^[0-9]+$' "$id2"
}

# ---------------------------------------------------------------- refusals
scenario_auth() {
body=$(group firing "$LATENCY")
am_post "$body" -
assert_eq "no token: 401" "401 unauthorized" "$(answer)"
am_post "$body" "wrong-$AM_TOKEN"
assert_eq "a wrong token: 401" "401 unauthorized" "$(answer)"
am_post "$body" "$API_TOKEN"
assert_eq "the admin token is not Alertmanager's: 401" "401 unauthorized" "$(answer)"
http POST "$AM" "$body" -H "Authorization: Basic $(printf 'a:%s' "$AM_TOKEN" | base64)"
assert_eq "basic auth is not a bearer: 401" "401 unauthorized" "$(answer)"
http GET "$AM"
assert_eq "GET: 405 with Allow: POST" "405|POST" "$HTTP_STATUS|$(http_header Allow)"
http PUT "$AM" "$body" -H "Authorization: Bearer $AM_TOKEN"
assert_eq "PUT: 405" 405 "$HTTP_STATUS"
assert_eq "nothing stored" 0 "$(psql_state "SELECT count(*) FROM alerts")"
}

scenario_no_token_configured() {
harness_unset_env ALERTMANAGER_TOKEN
harness_restart_programs
am_post "$(group firing "$LATENCY")"
assert_eq "no ALERTMANAGER_TOKEN: every request refused with 401" "401 unauthorized" "$(answer)"
assert_contains "saying why" "$(jq -r .error.message <<<"$HTTP_BODY")" "ALERTMANAGER_TOKEN is not configured"
http POST "$AM" "$(group firing "$LATENCY")" -H "Authorization: Bearer "
assert_eq "an empty bearer too" "401 unauthorized" "$(answer)"
assert_eq "nothing stored" 0 "$(psql_state "SELECT count(*) FROM alerts")"
}

scenario_malformed() {
before=$(state_rows)
am_post '{"version":'
assert_eq "not JSON: 400 invalid_json" "400 invalid_json" "$(answer)"
am_post '[]'
assert_eq "not an object: 400 invalid_json" "400 invalid_json" "$(answer)"
am_post "$(group firing "$LATENCY" | jq -c '.version = "3"')"
assert_eq "another version: 400 invalid_payload" "400 invalid_payload" "$(answer)"
assert_contains "naming it" "$(jq -r .error.message <<<"$HTTP_BODY")" "version"
am_post "$(group firing "$LATENCY" | jq -c '.alerts[0].fingerprint = "not hex"')"
assert_contains "a bad fingerprint is named" "$(answer) $(jq -r .error.message <<<"$HTTP_BODY")" \
	"400 invalid_payload alerts[0].fingerprint"
am_post "$(group firing "$LATENCY" | jq -c 'del(.alerts[0].labels.alertname)')"
assert_contains "no alertname" "$(jq -r .error.message <<<"$HTTP_BODY")" "alerts[0].labels.alertname"
am_post "$(group firing "$LATENCY" | jq -c '.alerts = []')"
assert_eq "no alerts: 400" "400 invalid_payload" "$(answer)"
am_post "$(group firing "$LATENCY" "$LATENCY")"
assert_contains "a fingerprint twice" "$(jq -r .error.message <<<"$HTTP_BODY")" "alerts[1].fingerprint"
am_post "$(group firing "$LATENCY" | jq -c '.alerts[0].status = "pending"')"
assert_contains "an alert's status" "$(jq -r .error.message <<<"$HTTP_BODY")" "alerts[0].status"
am_post "$(group firing "$LATENCY" | jq -c '.commonLabels = {"a": 1}')"
assert_contains "a label that is not a string" "$(jq -r .error.message <<<"$HTTP_BODY")" "commonLabels.a"
http POST "$AM" "" -H "Authorization: Bearer $AM_TOKEN"
assert_eq "no body (no Content-Length): 411" 411 "$HTTP_STATUS"
http POST "$AM" "" -H "Authorization: Bearer $AM_TOKEN" --data-binary ""
assert_eq "an empty body: 400" "400 invalid_json" "$(answer)"
big=$(head -c 1100000 /dev/zero | tr '\0' 'a')
http POST "$AM" "{\"x\":\"$big\"}" -H "Authorization: Bearer $AM_TOKEN"
assert_eq "over 1 MiB: 413" 413 "$HTTP_STATUS"
assert_eq "nothing changed" "$before" "$(state_rows)"
assert_eq "nothing sent" 0 "$(mock_count)"
}

scenario_state_database_down() {
harness_stop_pg
am_post "$(group firing "$LATENCY")"
assert_eq "the state database down: 503 (Alertmanager retries 5xx only)" \
	"503 state_database_unavailable" "$(answer)"
harness_start_pg
am_post "$(group firing "$LATENCY")"
assert_eq "Alertmanager's retry once it is back: 200" "200 " "$(answer)"
assert_eq "the alert is stored once" 1 "$(psql_state "SELECT count(*) FROM alerts WHERE target = '$FP1'")"
assert_eq "and told" 1 "$(sent 1)"
}

# ---------------------------------------------------------------- Debian's real Alertmanager
AMGR_PID=
# amgr_start: our own prometheus-alertmanager on a free loopback port, sending to our nginx with
# the token; it stops with the scenario (a watcher ends it when the scenario's shell is gone).
amgr_start() {
	local dir=$HARNESS_DIR/alertmanager port
	mkdir -p "$dir/data"
	port=$(free_port)
	cat >"$dir/alertmanager.yml" <<EOF
route:
  receiver: whatsapp
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: whatsapp
    webhook_configs:
      - url: $HTTP_BASE$AM
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            type: Bearer
            credentials: $AM_TOKEN
EOF
	prometheus-alertmanager --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
		--log.level=info </dev/null >"$HARNESS_LOG_DIR/alertmanager.log" 2>&1 &
	AMGR_PID=$!
	local watched=$BASHPID
	(while kill -0 "$watched" 2>/dev/null && kill -0 "$AMGR_PID" 2>/dev/null; do sleep 1; done
		kill "$AMGR_PID" 2>/dev/null || true) </dev/null >/dev/null 2>&1 &
	AMGR_URL=http://127.0.0.1:$port
	wait_for 20 curl -sf -o /dev/null "$AMGR_URL/-/ready"
}
amgr_stop() {
	[[ -n $AMGR_PID ]] && stop_pids alertmanager 10 TERM "$AMGR_PID"
	AMGR_PID=
}
# amgr_alert STARTS ENDS: DiskFull on db-1 posted to Alertmanager's v2 API
amgr_alert() {
	curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' "$AMGR_URL/api/v2/alerts" \
		--data-binary "[{\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"critical\",\"instance\":\"db-1:9100\"},\"annotations\":{\"summary\":\"disk 95% full\"},\"startsAt\":\"$1\",\"endsAt\":\"$2\"}]"
}
# crit_texts_wait N: wait (up to 30 s) until the critical contact has N texts; print them
crit_texts_wait() {
	local i t
	for i in $(seq 150); do
		t=$(texts_to "$CRIT")
		(($(jq length <<<"$t") >= $1)) && break
		((i % 10 == 0)) && { harness_cron drain >/dev/null || true; }
		sleep 0.2
	done
	printf '%s\n' "$t"
}

scenario_real_alertmanager() {
if ! command -v prometheus-alertmanager >/dev/null; then
	fail "prometheus-alertmanager is not installed (make deps)"
	return 0
fi
amgr_start || { fail "alertmanager did not start" "$(tail -n 5 "$HARNESS_LOG_DIR/alertmanager.log")"; return 0; }
pass "our own alertmanager runs on $AMGR_URL"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
amgr_alert "$now" "$later"
t=$(crit_texts_wait 1)
assert_eq "Alertmanager's notification became one WhatsApp message" 1 "$(jq length <<<"$t")"
assert_contains "naming the alert by alertname, instance and summary" "$(jq -r '.[0]' <<<"$t")" \
	"CRITICAL DiskFull on db-1:9100: disk 95% full"
assert_contains "titled by its group" "$(jq -r '.[0]' <<<"$t")" "Alertmanager (alertname=DiskFull)"
fp=$(psql_state "SELECT target FROM alerts WHERE rule = 'alertmanager:DiskFull' AND status = 'open'")
assert_match "stored under Alertmanager's fingerprint" '^[0-9a-f]{16}$' "$fp"
assert_eq "no failed notification in Alertmanager's log" "" \
	"$(grep -i 'notify.*error\|Notify for alerts failed' "$HARNESS_LOG_DIR/alertmanager.log" || true)"
amgr_alert "$now" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
t=$(crit_texts_wait 2)
assert_match "then resolved: the recovery" 'RESOLVED DiskFull on db-1:9100 \(disk 95% full\) after' \
	"$(jq -r '.[1] // ""' <<<"$t")"
assert_eq "the alert is resolved" resolved \
	"$(psql_state "SELECT status FROM alerts WHERE target = '$fp'")"
sleep 3
assert_eq "nothing more was sent (no second message)" 2 "$(texts_to "$CRIT" | jq length)"
amgr_stop
}

harness_scenarios firing_repeat_resolved tenant_label group_one_message pause_suppresses \
	ack_by_whatsapp_and_escalation auth no_token_configured malformed state_database_down \
	real_alertmanager
harness_finish
