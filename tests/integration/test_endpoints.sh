#!/usr/bin/env bash
# Every endpoint: the happy path, then bad input. Each bad request gets the
# right 4xx as a JSON error and changes nothing in the state database.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

state_fingerprint() {
	psql_state "SELECT (SELECT count(*) FROM check_runs) || '/' || (SELECT count(*) FROM alerts)
	 || '/' || (SELECT count(*) FROM whatsapp_logs) || '/' || (SELECT count(*) FROM settings)
	 || '/' || (SELECT count(*) FROM settings_history) || '/' || (SELECT count(*) FROM metric_samples)"
}
is_json_error() { # is_json_error NAME STATUS CODE
	assert_eq "$1: status" "$2" "$HTTP_STATUS"
	assert_eq "$1: JSON" application/json "$HTTP_CONTENT_TYPE"
	assert_eq "$1: error code" "$3" "$(jq -r .error.code <<<"$HTTP_BODY" 2>/dev/null)"
}

# ---------------------------------------------------------------- happy paths
scenario_happy_paths() {
http_auth POST /monitoring/check '{"mode":"normal"}'
assert_eq "check answers 200" 200 "$HTTP_STATUS"
assert_eq "check returns metrics" true "$(jq '.metrics | length > 20' <<<"$HTTP_BODY")"
assert_eq "every metric has a verdict" 0 \
	"$(jq '[.metrics[] | select(.verdict | IN("ok","warning","critical","unavailable","skipped") | not)] | length' <<<"$HTTP_BODY")"

http_auth GET /monitoring/metrics
assert_eq "metrics answers 200" 200 "$HTTP_STATUS"
assert_eq "metrics JSON has database_up = 1" 1 \
	"$(jq '.metrics[] | select(.metric == "database_up") | .value' <<<"$HTTP_BODY")"
assert_match "metrics carry their time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' \
	"$(jq -r '.metrics[0].time' <<<"$HTTP_BODY")"
http_auth GET '/monitoring/metrics?format=prometheus'
assert_eq "prometheus answers 200" 200 "$HTTP_STATUS"
assert_match "prometheus content type" '^text/plain; version=0.0.4' "$HTTP_CONTENT_TYPE"
assert_contains "prometheus has database_up" "$HTTP_BODY" 'whatsapp_monitor_database_up{target=""} 1'
assert_contains "prometheus has TYPE lines" "$HTTP_BODY" '# TYPE whatsapp_monitor_connections_used_pct gauge'
assert_contains "prometheus has verdicts" "$HTTP_BODY" 'whatsapp_monitor_verdict{metric="database_up",target=""} 0'
assert_not_contains "unavailable metrics have no value line" "$HTTP_BODY" 'whatsapp_monitor_database_size_pct{'

http_auth GET /monitoring/configure
assert_eq "configure GET answers 200" 200 "$HTTP_STATUS"
assert_eq "configure shows the deadlocks warning threshold" 1 "$(jq '.thresholds.deadlocks.warning' <<<"$HTTP_BODY")"
assert_eq "configure shows business hours" "09:00" "$(jq -r '.settings.business_hours_start' <<<"$HTTP_BODY")"
assert_not_contains "configure never shows the token" "$HTTP_BODY" "$API_TOKEN"
assert_eq "the token is shown as set" "(set)" "$(jq -r '.configuration.MONITORING_API_TOKEN' <<<"$HTTP_BODY")"

http_auth POST /monitoring/configure '{"thresholds":{"deadlocks":{"warning":2,"critical":20}},"settings":{"business_hours_start":"08:30"}}'
assert_eq "configure POST answers 200" 200 "$HTTP_STATUS"
assert_eq "the new threshold is effective" 2 "$(jq '.thresholds.deadlocks.warning' <<<"$HTTP_BODY")"
assert_eq "the new setting is effective" "08:30" "$(jq -r '.settings.business_hours_start' <<<"$HTTP_BODY")"
assert_eq "changes are stored" "THRESHOLD_DEADLOCKS_CRITICAL=20,THRESHOLD_DEADLOCKS_WARNING=2,BUSINESS_HOURS_START=08:30" \
	"$(psql_state "SELECT string_agg(key || '=' || value, ',' ORDER BY key = 'BUSINESS_HOURS_START', key) FROM settings")"
assert_match "with who changed them" '^api-token@127\.0\.0\.1$' "$(psql_state "SELECT DISTINCT changed_by FROM settings_history")"
http_auth POST /monitoring/configure '{"thresholds":{"deadlocks":{"warning":null}}}'
assert_eq "null clears a level" null "$(jq '.thresholds.deadlocks.warning' <<<"$HTTP_BODY")"
assert_eq "history keeps the old value" "2|none" \
	"$(psql_state "SELECT old_value, new_value FROM settings_history ORDER BY id DESC LIMIT 1" -F '|')"
http_auth POST /monitoring/check '{}'
assert_eq "the check uses stored thresholds" null \
	"$(jq '.metrics[] | select(.metric == "deadlocks") | .threshold.warning' <<<"$HTTP_BODY")"
harness_cron config >"$HARNESS_DIR/config.json"
assert_eq "cron config shows stored settings" "08:30" "$(jq -r .settings.business_hours_start "$HARNESS_DIR/config.json")"
assert_not_contains "cron config never shows the token" "$(cat "$HARNESS_DIR/config.json")" "$API_TOKEN"
example=$(<"$REPO_ROOT/monitoring.env.example")
missing=
for v in $(jq -r '.configuration | keys[]' "$HARNESS_DIR/config.json") \
	$(jq -r '.thresholds | keys[] | ascii_upcase | "THRESHOLD_\(.)_WARNING", "THRESHOLD_\(.)_CRITICAL"' "$HARNESS_DIR/config.json"); do
	# A list (CRITICAL_PHONE, CRITICAL_EMAIL, CRITICAL_SMS) is documented as NAME_1=; a single
	# number (CANARY_PHONE) as NAME=.
	[[ $v == *_@(PHONE|EMAIL|SMS) && $example != *"$v="* ]] && v=${v}_1
	[[ $example == *"$v="* ]] || missing="$missing $v"
done
assert_eq "monitoring.env.example documents every setting" "" "$missing"

http_auth GET /monitoring/alerts
assert_eq "alerts answers 200" 200 "$HTTP_STATUS"
assert_eq "alerts lists open alerts" array "$(jq -r '.open | type' <<<"$HTTP_BODY")"

http GET /monitoring/health
assert_eq "health reports the database" ok "$(jq -r .database <<<"$HTTP_BODY")"
assert_match "health reports the last check" '^[0-9]{4}-' "$(jq -r .last_check_at <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- bad input changes nothing
scenario_bad_input() {
before=$(state_fingerprint)

for ep in "POST /monitoring/check" "GET /monitoring/metrics" "GET /monitoring/configure" \
	"POST /monitoring/configure" "GET /monitoring/alerts"; do
	read -r m p <<<"$ep"
	body=; [[ $m == POST ]] && body='{}'
	http "$m" "$p" "$body"
	is_json_error "$ep without a token" 401 unauthorized
	http "$m" "$p" "$body" -H "Authorization: Bearer wrong-token-wrong-token"
	is_json_error "$ep with a wrong token" 401 unauthorized
	http "$m" "$p" "$body" -H "Authorization: Basic $API_TOKEN"
	is_json_error "$ep with another scheme" 401 unauthorized
	http "$m" "$p" "$body" -H "Authorization: Bearer ${API_TOKEN}x"
	is_json_error "$ep with the token plus a character" 401 unauthorized
done

while IFS='|' read -r name body code; do
	http_auth POST /monitoring/check "$body"
	is_json_error "check: $name" 400 "$code"
done <<'EOF_CASES'
malformed JSON|{"mode":|invalid_json
not an object|["emergency"]|invalid_json
unknown field|{"mode":"normal","force":true}|unknown_field
mode not a string|{"mode":1}|invalid_field
mode unknown|{"mode":"panic"}|invalid_field
trailing garbage|{"mode":"normal"} x|invalid_json
EOF_CASES
http_auth POST /monitoring/check $'{"mode":"\xff"}'
is_json_error "check: invalid UTF-8" 400 invalid_json
deep=$(printf '%.0s[' {1..40})
http_auth POST /monitoring/check "{\"a\":$deep"
is_json_error "check: deeply nested JSON" 400 invalid_json
http_auth POST /monitoring/check ''
is_json_error "check: a POST without a body or Content-Length" 411 length_required
big=$(head -c 70000 /dev/zero | tr '\0' ' ')
http_auth POST /monitoring/check "{}$big"
is_json_error "check: body over MAX_BODY_BYTES" 413 payload_too_large

while IFS='|' read -r name body field; do
	http_auth POST /monitoring/configure "$body"
	is_json_error "configure: $name" 400 invalid_field
	assert_eq "configure: $name names the field" "$field" "$(jq -r .error.field <<<"$HTTP_BODY")"
done <<'EOF_CASES'
unknown top-level key|{"thresholds":{},"colour":"red"}|colour
unknown metric|{"thresholds":{"disk_temperature":{"warning":1}}}|thresholds.disk_temperature
unknown level|{"thresholds":{"deadlocks":{"emergency":1}}}|thresholds.deadlocks.emergency
threshold as a string|{"thresholds":{"deadlocks":{"warning":"1"}}}|thresholds.deadlocks.warning
threshold too large|{"thresholds":{"deadlocks":{"warning":1e300}}}|thresholds.deadlocks.warning
warning above critical|{"thresholds":{"deadlocks":{"warning":50,"critical":5}}}|thresholds.deadlocks
metric without thresholds|{"thresholds":{"connections":{"warning":1}}}|thresholds.connections
thresholds not an object|{"thresholds":[1]}|thresholds
read-only setting|{"settings":{"database_url":"host=evil"}}|settings.database_url
setting with wrong type|{"settings":{"monitoring_interval":"often"}}|settings.monitoring_interval
setting out of range|{"settings":{"monitoring_interval":5}}|settings.monitoring_interval
bad time|{"settings":{"business_hours_end":"25:00"}}|settings.business_hours_end
end before start|{"settings":{"business_hours_end":"07:00"}}|settings.business_hours_end
SQL-looking key|{"settings":{"x'; DROP TABLE settings; --":1}}|settings.x'; DROP TABLE settings; --
empty request|{}|
EOF_CASES
http_auth POST /monitoring/configure '{"thresholds":'
is_json_error "configure: truncated JSON" 400 invalid_json
http_auth POST /monitoring/configure ''
is_json_error "configure: empty POST" 411 length_required

http_auth GET '/monitoring/metrics?format=xml'
is_json_error "metrics: unknown format" 400 invalid_parameter

after=$(state_fingerprint)
assert_eq "no bad request changed the state database" "$before" "$after"
}

# ---------------------------------------------------------------- the state database down
scenario_state_db_down() {
harness_stop_pg
http GET /monitoring/health
assert_eq "health with the database down: 503" 503 "$HTTP_STATUS"
assert_eq "health says unreachable" unreachable "$(jq -r .database <<<"$HTTP_BODY")"
http_auth POST /monitoring/check '{}'
is_json_error "check with the database down" 503 state_database_unavailable
assert_eq "its result says not stored" false "$(jq -r .result.stored <<<"$HTTP_BODY")"
http_auth GET /monitoring/metrics
is_json_error "metrics with the database down" 503 state_database_unavailable
http_auth GET /monitoring/alerts
is_json_error "alerts with the database down" 503 state_database_unavailable
harness_start_pg
http GET /monitoring/health
assert_eq "health recovers with the database (reconnect)" 200 "$HTTP_STATUS"
http_auth POST /monitoring/check '{}'
assert_eq "check recovers with the database" 200 "$HTTP_STATUS"
}

harness_scenarios happy_paths bad_input state_db_down

harness_finish
