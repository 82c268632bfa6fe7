#!/usr/bin/env bash
# GET /monitoring/metrics?format=prometheus (issue 20): the exposition parses and is lint-clean
# (promtool check metrics), has every family the README lists, counts move after a message is
# sent and its status webhook arrives, label values are escaped, pruning never makes a counter
# go down, and no label names a tenant; the example rules file passes promtool check rules;
# then Debian's real prometheus (our own instance: its own port and storage) scrapes our nginx
# with the bearer token and loads the rules, asserted through its HTTP API.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

PNID=1234567890
CRIT=+15550000001
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_restart_programs || fail "programs restarted"
harness_env_baseline
APP_SECRET=$(env_get "$MONITORING_ENV_FILE" META_APP_SECRET)
RULES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/prometheus/whatsapp-monitor.rules.yml

PROM="/monitoring/metrics?format=prometheus"
P=whatsapp_monitor_

# ---------------------------------------------------------------- helpers
# scrape: GET the exposition with the API token into HTTP_BODY
scrape() { http_auth GET "$PROM"; }
# sample LINE-PREFIX: the value of the sample whose line starts with LINE-PREFIX and a space
# (name and labels exactly as written), from a fresh scrape; "absent" when there is none
sample() {
	scrape
	awk -v p="$1" 'index($0, p " ") == 1 { print $NF; found = 1; exit } END { if (!found) print "absent" }' <<<"$HTTP_BODY"
}
# lint: promtool check metrics on a fresh scrape; prints its complaints (none: empty)
lint() {
	scrape
	promtool check metrics <<<"$HTTP_BODY" 2>&1 || true
}
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$APP_SECRET" -r | cut -d' ' -f1; }
status_body() { # status_body WAMID STATUS: Meta's status notification
	printf '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"statuses":[{"id":"%s","status":"%s","timestamp":"%s","recipient_id":"%s"}]}}]}]}' \
		"$PNID" "$1" "$2" "$(date +%s)" "${CRIT#+}"
}
post_status() { # post_status WAMID STATUS
	local body
	body=$(status_body "$1" "$2")
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
}
settle() { # wait until every stored webhook event is processed
	wait_for 10 eval '[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = '"'pending'"'") == 0 ]]'
}

FAMILIES="messages_total messages_received_total tenant_messages_total queue_messages
queue_oldest_age_seconds webhook_events_total webhook_events_pending
webhook_ignored_statuses_total alerts_open alerts_open_acknowledged tenants_with_messages
tenants_with_queued_messages delivery_stopped_accounts last_successful_check_timestamp_seconds
last_successful_tick_timestamp_seconds verdict last_check_timestamp_seconds"

# ---------------------------------------------------------------- the exposition
scenario_exposition() {
http_auth POST /monitoring/check '{}'
assert_eq "a check first" 200 "$HTTP_STATUS"
scrape
assert_eq "prometheus: 200" 200 "$HTTP_STATUS"
assert_eq "the exposition's content type" "text/plain; version=0.0.4; charset=utf-8" "$HTTP_CONTENT_TYPE"
assert_eq "promtool check metrics: parsed, no lint problem" "" "$(lint)"
local f missing=
for f in $FAMILIES; do
	grep -q "^# TYPE $P$f " <<<"$HTTP_BODY" || missing="$missing $f"
done
assert_eq "every family the README lists" "" "$missing"
assert_eq "every family has HELP and TYPE" \
	"$(grep -c '^# TYPE ' <<<"$HTTP_BODY")" "$(grep -c '^# HELP ' <<<"$HTTP_BODY")"
assert_contains "counters are typed counter" "$HTTP_BODY" "# TYPE ${P}messages_total counter"
assert_contains "delivery by channel and outcome" "$HTTP_BODY" "${P}messages_total{channel=\"sms\",outcome=\"failed\"} 0"
assert_contains "queue by channel, priority and state" "$HTTP_BODY" \
	"${P}queue_messages{channel=\"email\",priority=\"critical\",state=\"due\"} 0"
assert_contains "open alerts by severity" "$HTTP_BODY" "${P}alerts_open{severity=\"warning\"} 0"
assert_contains "webhook events by source and outcome" "$HTTP_BODY" \
	"${P}webhook_events_total{source=\"twilio\",outcome=\"failed\"} 0"
assert_contains "the check's samples stay" "$HTTP_BODY" "${P}database_up{target=\"\"} 1"
assert_not_contains "ms became seconds" "$HTTP_BODY" "_ms{"
assert_match "the last successful check is a unix time" '^1[0-9]{9}' \
	"$(sample "${P}last_successful_check_timestamp_seconds")"
assert_eq "no tick yet: 0" 0 "$(sample "${P}last_successful_tick_timestamp_seconds")"

http_auth GET /monitoring/metrics
assert_eq "without format: JSON as before" "application/json|true" \
	"$HTTP_CONTENT_TYPE|$(jq 'has("check_id") and has("metrics")' <<<"$HTTP_BODY")"
http_auth GET '/monitoring/metrics?format=openmetrics'
assert_eq "an unknown format: 400" "400 invalid_parameter" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
http GET "$PROM"
assert_eq "no token: 401" 401 "$HTTP_STATUS"
http GET "$PROM" '' -H 'Authorization: Bearer wrong'
assert_eq "a wrong token: 401" 401 "$HTTP_STATUS"
http_auth HEAD "$PROM"
assert_eq "HEAD: 200" 200 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- escaping
scenario_escaping() {
http_auth POST /monitoring/check '{}'
# A target with every character the format escapes, in the latest check's samples.
psql_state "INSERT INTO metric_samples (check_run_id, metric, target, value, verdict)
 VALUES ((SELECT max(id) FROM check_runs), 'dead_tuples_ratio', E'we\"ird\\\\tab\\nle', 3, 'ok')" >/dev/null
scrape
assert_contains "quote, backslash and newline escaped" "$HTTP_BODY" \
	"${P}dead_tuples_ratio{target=\"we\\\"ird\\\\tab\\nle\"} 3"
assert_contains "in the verdicts too" "$HTTP_BODY" \
	"${P}verdict{metric=\"dead_tuples_ratio\",target=\"we\\\"ird\\\\tab\\nle\"} 0"
assert_eq "and promtool still parses it cleanly" "" "$(lint)"
}

# ---------------------------------------------------------------- counts move
scenario_counts_move() {
local sent0 deliv0 read0 done0 id wamid
sent0=$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"sent\"}")
deliv0=$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"delivered\"}")
read0=$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"read\"}")
done0=$(sample "${P}webhook_events_total{source=\"meta\",outcome=\"done\"}")
http_auth POST /monitoring/test-alert '{"severity":"critical","message":"prometheus test"}'
assert_eq "a test alert: 200" 200 "$HTTP_STATUS"
id=$(jq -r '.messages[0].id' <<<"$HTTP_BODY")
wait_for 10 eval '[[ $(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id") == sent ]]' || true
assert_eq "it went to the mock" sent "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id")"
assert_eq "sent moved by one" $((sent0 + 1)) "$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"sent\"}")"
wamid=$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")
post_status "$wamid" delivered
assert_eq "the delivered status: 200" 200 "$HTTP_STATUS"
settle || true
assert_eq "delivered moved by one" $((deliv0 + 1)) \
	"$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"delivered\"}")"
assert_eq "the webhook event counted done" $((done0 + 1)) \
	"$(sample "${P}webhook_events_total{source=\"meta\",outcome=\"done\"}")"
post_status "$wamid" read
settle || true
assert_eq "read moved by one" $((read0 + 1)) "$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"read\"}")"
assert_eq "and delivered did not move again" $((deliv0 + 1)) \
	"$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"delivered\"}")"
assert_eq "two webhook events done" $((done0 + 2)) \
	"$(sample "${P}webhook_events_total{source=\"meta\",outcome=\"done\"}")"
assert_eq "a critical alert is open (the test alert's)" "$(psql_state "SELECT count(*) FROM alerts WHERE status = 'open' AND severity = 'critical'")" \
	"$(sample "${P}alerts_open{severity=\"critical\"}")"
assert_eq "still lint-clean" "" "$(lint)"
}

# ---------------------------------------------------------------- the queue and tenants
scenario_queue_and_tenants() {
# Rows the programs will not drain by themselves (nobody triggers a drain in this scenario):
# one due for 10 minutes, one held until later, each for a tenant; one failed for a third.
psql_state "INSERT INTO tenants (id, external_id, display_name) VALUES
 (7, 'shop-7', 'Seven'), (8, 'shop-8', 'Eight'), (9, 'shop-9', 'Nine')" >/dev/null
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, created_at,
 not_before, next_attempt_at, tenant_id, channel) VALUES
 ('+15550001001', 'due', 'warning', 'queued', now() - interval '10 minutes',
  now() - interval '10 minutes', now() - interval '10 minutes', 7, 'sms'),
 ('+15550001002', 'held', 'info', 'queued', now(), now() + interval '8 hours', now(), 8, 'whatsapp'),
 ('+15550001003', 'gone', 'critical', 'failed', now(), now(), now(), 9, 'whatsapp')" >/dev/null
scrape
assert_contains "the due row" "$HTTP_BODY" "${P}queue_messages{channel=\"sms\",priority=\"warning\",state=\"due\"} 1"
assert_contains "the held row waits" "$HTTP_BODY" \
	"${P}queue_messages{channel=\"whatsapp\",priority=\"info\",state=\"waiting\"} 1"
local age
age=$(sample "${P}queue_oldest_age_seconds{channel=\"sms\"}")
assert_eq "the oldest due sms waited about 10 minutes" 1 "$(awk -v a="$age" 'BEGIN { print (a >= 599 && a < 700) }')"
assert_eq "the held one does not age the whatsapp queue" 0 "$(sample "${P}queue_oldest_age_seconds{channel=\"whatsapp\"}")"
assert_eq "failed counted" 1 "$(sample "${P}messages_total{channel=\"whatsapp\",outcome=\"failed\"}")"
assert_eq "three tenants with messages" 3 "$(sample "${P}tenants_with_messages")"
assert_eq "two with queued messages" 2 "$(sample "${P}tenants_with_queued_messages")"
assert_eq "tenant messages, all tenants together" 1 "$(sample "${P}tenant_messages_total{channel=\"sms\"}")"
assert_eq "no label names a tenant" "" "$(grep -E '\{[^}]*tenant' <<<"$HTTP_BODY" || true)"
psql_state "UPDATE delivery_state SET stopped = true WHERE account_id = 1" >/dev/null
assert_eq "a stopped account shows" 1 "$(sample "${P}delivery_stopped_accounts")"
assert_eq "still lint-clean" "" "$(lint)"
}

# ---------------------------------------------------------------- the tick and pruning
scenario_tick_and_prune() {
local done0 ign0
psql_state "INSERT INTO webhook_events (source, body, status, processed_at) VALUES
 ('meta', '{}', 'done', now()), ('meta', '{}', 'done', now()), ('twilio', '{}', 'done', now())" >/dev/null
psql_state "INSERT INTO webhook_ignored (source, provider_message_id, status, reason)
 VALUES ('meta', 'wamid.x', 'delivered', 'not ours'), ('meta', 'wamid.y', 'read', 'not ours')" >/dev/null
done0=$(sample "${P}webhook_events_total{source=\"meta\",outcome=\"done\"}")
ign0=$(sample "${P}webhook_ignored_statuses_total{source=\"meta\"}")
assert_eq "three done events before" "2|1" "$done0|$(sample "${P}webhook_events_total{source=\"twilio\",outcome=\"done\"}")"
# Old enough to be pruned by the tick's daily prune.
psql_state "UPDATE webhook_events SET received_at = now() - interval '400 days'" >/dev/null
psql_state "UPDATE webhook_ignored SET ignored_at = now() - interval '400 days'" >/dev/null
harness_cron tick >"$HARNESS_DIR/tick.out" 2>&1 || true
assert_eq "the tick pruned them" "0 0" \
	"$(psql_state "SELECT count(*) FROM webhook_events") $(psql_state "SELECT count(*) FROM webhook_ignored")"
assert_eq "done events: the counter did not go down" "$done0" \
	"$(sample "${P}webhook_events_total{source=\"meta\",outcome=\"done\"}")"
assert_eq "nor for twilio" 1 "$(sample "${P}webhook_events_total{source=\"twilio\",outcome=\"done\"}")"
assert_eq "ignored statuses: the counter did not go down" "$ign0" \
	"$(sample "${P}webhook_ignored_statuses_total{source=\"meta\"}")"
local t now
t=$(sample "${P}last_successful_tick_timestamp_seconds")
now=$(date +%s)
assert_eq "the tick's time is now" 1 "$(awk -v t="$t" -v n="$now" 'BEGIN { print (t > n - 60 && t <= n + 1) }')"
}

# ---------------------------------------------------------------- the state database down
scenario_state_db_down() {
harness_stop_pg
scrape
assert_eq "the database down: 503, a JSON error (Prometheus marks the target down)" \
	"503 state_database_unavailable" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY" 2>/dev/null)"
harness_start_pg
wait_for 10 eval 'scrape; [[ $HTTP_STATUS == 200 ]]' || true
assert_eq "it answers again once the database is back" 200 "$HTTP_STATUS"
assert_eq "and lint-clean" "" "$(lint)"
}

# ---------------------------------------------------------------- the rules file
scenario_rules_file() {
local out
out=$(promtool check rules "$RULES" 2>&1) || true
assert_contains "promtool check rules accepts the example rules" "$out" "SUCCESS: 10 rules found"
local a
for a in QueueStuck SendingStopped DeliveryFailureRatioHigh TickLate CheckLate CanaryLate; do
	assert_contains "it alerts on $a" "$(<"$RULES")" "alert: WhatsAppMonitor$a"
done
}

# ---------------------------------------------------------------- Debian's real Prometheus
PROM_PID=
# prom_start: our own prometheus on a free loopback port, scraping our nginx every second with
# the token and the rules loaded; it stops with the scenario (a watcher ends it when the
# scenario's shell is gone).
prom_start() {
	local dir=$HARNESS_DIR/prometheus port
	mkdir -p "$dir/data"
	port=$(free_port)
	cp "$RULES" "$dir/rules.yml"
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: whatsapp-monitor
    metrics_path: /monitoring/metrics
    params:
      format: [prometheus]
    authorization:
      type: Bearer
      credentials: $API_TOKEN
    static_configs:
      - targets: ['${HTTP_BASE#http://}']
EOF
	promtool check config "$dir/prometheus.yml" >"$HARNESS_LOG_DIR/promtool-config.log" 2>&1 || return 1
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --log.level=info \
		</dev/null >"$HARNESS_LOG_DIR/prometheus.log" 2>&1 &
	PROM_PID=$!
	local watched=$BASHPID
	(while kill -0 "$watched" 2>/dev/null && kill -0 "$PROM_PID" 2>/dev/null; do sleep 1; done
		kill "$PROM_PID" 2>/dev/null || true) </dev/null >/dev/null 2>&1 &
	PROM_URL=http://127.0.0.1:$port
	wait_for 30 curl -sf -o /dev/null "$PROM_URL/-/ready"
}
prom_stop() {
	[[ -n $PROM_PID ]] && stop_pids prometheus 10 TERM "$PROM_PID"
	PROM_PID=
}
# prom_api PATH: GET Prometheus' API
prom_api() { curl -sf --max-time 5 "$PROM_URL$1" || true; }
target_health() { prom_api /api/v1/targets | jq -r '[.data.activeTargets[] | select(.labels.job == "whatsapp-monitor") | .health] | first // "none"'; }

scenario_real_prometheus() {
if ! command -v prometheus >/dev/null; then
	fail "prometheus is not installed (make deps)"
	return 0
fi
http_auth POST /monitoring/check '{}'
prom_start || { fail "prometheus did not start" "$(tail -n 5 "$HARNESS_LOG_DIR/prometheus.log" "$HARNESS_LOG_DIR/promtool-config.log")"; return 0; }
pass "our own prometheus runs on $PROM_URL"
local i h=none
for i in $(seq 60); do
	h=$(target_health)
	[[ $h == up ]] && break
	sleep 0.5
done
assert_eq "our target's health: up" up "$h"
assert_eq "no scrape error" "" "$(prom_api /api/v1/targets | jq -r '[.data.activeTargets[] | select(.labels.job == "whatsapp-monitor") | .lastError] | first // ""')"
local q
q=$(prom_api '/api/v1/query?query=whatsapp_monitor_messages_total%7Bchannel%3D%22whatsapp%22%2Coutcome%3D%22sent%22%7D')
assert_eq "a query for a family answers one series" "success|1" "$(jq -r '.status + "|" + (.data.result | length | tostring)' <<<"$q")"
q=$(prom_api '/api/v1/query?query=count(%7B__name__%3D~%22whatsapp_monitor_.%2A%22%7D)')
assert_eq "it holds many of our series" true "$(jq '(.data.result[0].value[1] | tonumber) > 50' <<<"$q")"
q=$(prom_api '/api/v1/query?query=whatsapp_monitor_database_up')
assert_eq "the check's samples too" 1 "$(jq -r '.data.result[0].value[1]' <<<"$q")"
q=$(prom_api /api/v1/rules)
assert_eq "the rules are loaded: one group, ten rules" "whatsapp-monitor|10" \
	"$(jq -r '.data.groups[0].name + "|" + (.data.groups[0].rules | length | tostring)' <<<"$q")"
local bad=
for i in $(seq 20); do
	q=$(prom_api /api/v1/rules)
	bad=$(jq -r '[.data.groups[].rules[] | select(.health != "ok") | .name + ": " + .health + " " + (.lastError // "")] | join("; ")' <<<"$q")
	[[ -z $bad && $(jq '[.data.groups[].rules[] | select(.lastEvaluation == "0001-01-01T00:00:00Z")] | length' <<<"$q") == 0 ]] && break
	sleep 0.5
done
assert_eq "every rule evaluates without error" "" "$bad"
prom_stop
}

# ---------------------------------------------------------------- the canary (issue 20)
# canary_on: the canary every minute to +15550000042, 30 s to come back; the programs restarted
canary_on() {
	harness_set_env CANARY_INTERVAL 60
	harness_set_env CANARY_DEADLINE 30
	harness_set_env CANARY_PHONE +15550000042
	harness_set_env REPORT_PHONE_1 +15550000007
	harness_restart_programs
}

scenario_canary_families() {
assert_eq "off: the interval says so" 0 "$(sample "${P}canary_interval_seconds")"
assert_eq "off: no late gauge" absent "$(sample "${P}canary_late")"
canary_on
harness_cron tick >/dev/null
assert_eq "on: the interval" 60 "$(sample "${P}canary_interval_seconds")"
assert_eq "the deadline" 30 "$(sample "${P}canary_deadline_seconds")"
assert_eq "a canary in flight is not late" 0 "$(sample "${P}canary_late")"
assert_ne "its time" 0 "$(sample "${P}canary_last_sent_timestamp_seconds")"
assert_eq "no receipt yet" 0 "$(sample "${P}canary_last_receipt_timestamp_seconds")"
assert_eq "nor a round trip" absent "$(sample "${P}canary_round_trip_seconds")"
assert_eq "lint-clean with the canary" "" "$(lint)"
psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '40 seconds' WHERE kind = 'canary'" >/dev/null
assert_eq "past its deadline: late" 1 "$(sample "${P}canary_late")"
wamid=$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE kind = 'canary'")
post_status "$wamid" delivered
settle
assert_eq "a receipt, even late, has its time" true \
	"$(awk '{ print ($1 > 0) ? "true" : "false" }' <<<"$(sample "${P}canary_last_receipt_timestamp_seconds")")"
# Meta's timestamp has whole seconds: the receipt's time may be up to a second before now.
assert_eq "and the round trip (about 40 s)" true \
	"$(awk '{ print ($1 >= 38 && $1 <= 45) ? "true" : "false" }' <<<"$(sample "${P}canary_round_trip_seconds")")"
assert_eq "still late: it came after the deadline" 1 "$(sample "${P}canary_late")"
}

# The example rule in Debian's real Prometheus: a late canary makes WhatsAppMonitorCanaryLate
# active (pending: it waits its "for" before firing).
scenario_canary_rule() {
if ! command -v prometheus >/dev/null; then
	fail "prometheus is not installed (make deps)"
	return 0
fi
canary_on
harness_cron tick >/dev/null
psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '40 seconds' WHERE kind = 'canary'" >/dev/null
prom_start || { fail "prometheus did not start" "$(tail -n 5 "$HARNESS_LOG_DIR/prometheus.log")"; return 0; }
local i st=none
for i in $(seq 60); do
	st=$(prom_api /api/v1/alerts | jq -r '[.data.alerts[] | select(.labels.alertname == "WhatsAppMonitorCanaryLate") | .state] | first // "none"')
	[[ $st != none ]] && break
	sleep 0.5
done
assert_eq "Prometheus holds WhatsAppMonitorCanaryLate active" pending "$st"
prom_stop
}

harness_scenarios exposition escaping counts_move queue_and_tenants tick_and_prune state_db_down \
	rules_file real_prometheus canary_families canary_rule
harness_finish
