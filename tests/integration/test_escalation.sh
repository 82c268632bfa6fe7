#!/usr/bin/env bash
# Follow-ups of alerts (escalation, reminders, repeats, recoveries to those who
# were told), the pause, warnings held overnight, GET /monitoring/alerts, and
# the spool when the state database is down.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

CRIT=+15550000001 WARN=+15550000002 ESC=+15550000009
# connections_used_pct is at least 1% while the check runs: these make it critical.
export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
export ESCALATION_PHONE_1=$ESC ESCALATION_MINUTES=1 ALERT_REPEAT_MINUTES=0 RECIPIENT_MIN_INTERVAL=0
clear_alert() { # thresholds nothing reaches: the alert resolves
	THRESHOLD_CONNECTIONS_USED_PCT_WARNING=99 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100 \
		harness_cron check >/dev/null
}
open_id() { psql_state "SELECT id FROM alerts WHERE rule = 'connections_used_pct' AND status = 'open'"; }
msgs() { # msgs KIND: phone|status of that kind's rows, in order
	psql_state "SELECT string_agg(phone_number || '|' || status, ',' ORDER BY id) FROM whatsapp_logs WHERE kind = '$1'"
}
count_of() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE $1"; }
# The scenarios with the state database down send through Meta's API at the mock.
state_down_setup() {
	mock_start
	export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=test-token-abcdefghijklmnop \
		META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 SEND_TIMEOUT_MS=5000
	spool=$HARNESS_DIR/spool/outbox.spool
}
# open_escalated: a critical alert opened, told to the first tier, then escalated to the next
# (the escalation scenario asserts each step).
open_escalated() {
	harness_cron check >/dev/null
	harness_cron drain >/dev/null
	psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE id = $(open_id)" >/dev/null
	harness_cron drain >/dev/null
}

# ---------------------------------------------------------------- escalation after the timeout
scenario_escalation() {
out=$(harness_cron check)
id=$(open_id)
assert_match "a critical alert opened" '^[0-9]+$' "$id"
assert_eq "it escalates in ESCALATION_MINUTES" 1 \
	"$(psql_state "SELECT escalate_at BETWEEN now() + interval '50 seconds' AND now() + interval '61 seconds' FROM alerts WHERE id = $id" | sed 's/t/1/;s/f/0/')"
out=$(harness_cron drain)
assert_eq "before the timeout nothing escalates" 0 "$(jq .escalated <<<"$out")"
assert_eq "the first tier was told" "$CRIT|sent" "$(msgs alert)"
psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE id = $id" >/dev/null
out=$(harness_cron drain)
assert_eq "after the timeout it escalates" 1 "$(jq .escalated <<<"$out")"
assert_eq "the next tier is told" "$ESC|sent" "$(msgs escalation)"
assert_eq "the first tier is reminded" "$CRIT|sent" "$(msgs reminder)"
esc_text=$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'escalation'")
assert_contains "the escalation says for how long" "$esc_text" "ESCALATED, not acknowledged for"
assert_contains "it says how to acknowledge" "$esc_text" "ack $id"
out=$(harness_cron drain)
assert_eq "an alert escalates once" 0 "$(jq .escalated <<<"$out")"
assert_eq "an escalation event is recorded" 1 \
	"$(psql_state "SELECT count(*) FROM alert_events WHERE alert_id = $id AND event = 'escalation'")"
http_auth GET /monitoring/alerts
assert_eq "alerts shows the escalation state" escalated \
	"$(jq -r --argjson id "$id" '.open[] | select(.id == $id) | .escalation' <<<"$HTTP_BODY")"
assert_eq "24h window counts the escalated alert" 1 "$(jq '.windows["24h"].alerts.critical.escalated' <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- recovery to those who were told
scenario_recovery_to_told() {
open_escalated
clear_alert
harness_cron drain >/dev/null
assert_eq "the recovery goes to the first and next tier, not to the warning list" \
	"$CRIT|sent,$ESC|sent" "$(msgs recovery)"
assert_match "the recovery says how long it lasted" 'RESOLVED connections_used_pct after [0-9]+[smhd]' \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'recovery' LIMIT 1")"
}

# ---------------------------------------------------------------- acknowledgement stops escalation
scenario_ack_stops_escalation() {
harness_cron check >/dev/null
id=$(open_id)
psql_state "UPDATE alerts SET acknowledged_at = now(), acknowledged_by = '$CRIT',
 escalate_at = now() - interval '1 second' WHERE id = $id" >/dev/null
out=$(harness_cron drain)
assert_eq "an acknowledged alert does not escalate" 0 "$(jq .escalated <<<"$out")"
clear_alert
}

# ---------------------------------------------------------------- repeat interval
scenario_repeat_interval() {
export ALERT_REPEAT_MINUTES=30
harness_cron check >/dev/null
id=$(open_id)
assert_eq "the repeat is scheduled ALERT_REPEAT_MINUTES after" 1 \
	"$(psql_state "SELECT (repeat_at BETWEEN now() + interval '29 minutes' AND now() + interval '31 minutes')::int FROM alerts WHERE id = $id")"
harness_cron drain >/dev/null
psql_state "UPDATE alerts SET repeat_at = now() - interval '1 second' WHERE id = $id" >/dev/null
out=$(harness_cron drain)
assert_eq "a still-open alert is repeated" 1 "$(jq .repeated <<<"$out")"
assert_eq "to those who were told" "$CRIT|sent" "$(msgs repeat)"
assert_contains "it says how long it has been open" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE kind = 'repeat'")" "STILL OPEN after"
out=$(harness_cron drain)
assert_eq "and not again before the interval" 0 "$(jq .repeated <<<"$out")"
export ALERT_REPEAT_MINUTES=0
clear_alert
harness_cron drain >/dev/null
}

# ---------------------------------------------------------------- a pause suppresses, and records
scenario_pause_suppresses() {
psql_state "UPDATE pause_state SET paused_until = now() + interval '1 hour', paused_at = now(),
 paused_by = '$CRIT' WHERE id = 1" >/dev/null
out=$(harness_cron check)
assert_eq "the check queues nothing during a pause" 0 "$(jq .messages_queued <<<"$out")"
assert_eq "it records the suppressed message" 1 "$(jq .messages_suppressed <<<"$out")"
sup=$(count_of "status = 'suppressed'")
out=$(harness_cron drain)
assert_eq "a suppressed message is never sent" 0 "$(jq .claimed <<<"$out")"
http_auth GET /monitoring/alerts
assert_eq "alerts shows the pause" true "$(jq .pause.paused <<<"$HTTP_BODY")"
assert_eq "and what it suppressed" "$sup" "$(jq .pause.suppressed <<<"$HTTP_BODY")"
pid=$(open_id)
clear_alert
assert_eq "nobody was told of an alert raised during the pause: no recovery" 0 \
	"$(count_of "kind = 'recovery' AND $pid = ANY(alert_ids)")"
out=$(harness_cron check --emergency)
assert_eq "an emergency check is not suppressed" 1 "$(jq .messages_queued <<<"$out")"
psql_state "UPDATE pause_state SET paused_until = NULL WHERE id = 1" >/dev/null
clear_alert
harness_cron drain >/dev/null
}

# ---------------------------------------------------------------- a warning held overnight
scenario_warning_held_overnight() {
# Business hours that exclude this hour (UTC): the warning waits for their start.
h=$(date -u +%H)
if ((10#$h < 12)); then hours=(13:00 23:00); else hours=(01:00 11:00); fi
export BUSINESS_HOURS_START=${hours[0]} BUSINESS_HOURS_END=${hours[1]}
export THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100
harness_cron check >/dev/null
id=$(open_id)
assert_eq "the warning is held until business hours" 1 \
	"$(count_of "kind = 'alert' AND $id = ANY(alert_ids) AND status = 'queued' AND not_before > now()")"
out=$(harness_cron drain)
assert_eq "nothing goes before the opening" 0 "$(jq .claimed <<<"$out")"
harness_cron check >/dev/null
assert_eq "a second check holds nothing new" 1 "$(count_of "kind = 'alert' AND $id = ANY(alert_ids)")"
psql_state "UPDATE whatsapp_logs SET not_before = now() WHERE status = 'queued'" >/dev/null # the opening
out=$(harness_cron drain)
assert_eq "at the opening it is delivered" 1 "$(jq .sent <<<"$out")"
assert_eq "to the warning list" "$WARN|sent" \
	"$(psql_state "SELECT string_agg(phone_number || '|' || status, ',') FROM whatsapp_logs WHERE kind = 'alert' AND $id = ANY(alert_ids)")"
out=$(harness_cron drain)
assert_eq "once" 0 "$(jq .claimed <<<"$out")"
unset BUSINESS_HOURS_START BUSINESS_HOURS_END
export THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6
clear_alert
harness_cron drain >/dev/null
}

# ---------------------------------------------------------------- GET /monitoring/alerts
scenario_alerts_endpoint() {
# Two messages to list: a critical alert sent, then its recovery.
harness_cron check >/dev/null
harness_cron drain >/dev/null
clear_alert
harness_cron drain >/dev/null
http_auth GET "/monitoring/alerts?limit=2"
assert_eq "limit=2 lists two messages" 2 "$(jq '.recent_messages | length' <<<"$HTTP_BODY")"
assert_match "a delivery rate for 24h" '^(1|0(\.[0-9]+)?)$' "$(jq '.windows["24h"].delivery_rate' <<<"$HTTP_BODY")"
assert_match "messages counted by priority and status" '^[1-9][0-9]*$' \
	"$(jq '.windows["7d"].messages.critical.sent' <<<"$HTTP_BODY")"
assert_eq "the delivery state" false "$(jq .delivery.stopped <<<"$HTTP_BODY")"
http_auth GET "/monitoring/alerts?since=2999-01-01T00:00:00Z"
assert_eq "since in the future lists nothing" 0 "$(jq '.recent_messages | length' <<<"$HTTP_BODY")"
for bad in "limit=0" "limit=501" "limit=abc" "since=yesterday" "since=2026-02-30T00:00:00Z"; do
	http_auth GET "/monitoring/alerts?$bad"
	assert_eq "$bad is refused" 400 "$HTTP_STATUS"
	assert_eq "$bad names the parameter" invalid_parameter "$(jq -r .error.code <<<"$HTTP_BODY")"
done
}

# ---------------------------------------------------------------- scripts/send-test-alert
scenario_send_test_alert_script() {
wrapper=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/send-test-alert
out=$(BIN_DIR=$BIN_DIR "$wrapper" critical "by hand" 2>/dev/null)
assert_eq "send-test-alert queues through routing" "$CRIT" "$(jq -r '.messages[0].phone_number' <<<"$out")"
assert_eq "and drains it" sent \
	"$(psql_state "SELECT status FROM whatsapp_logs WHERE message_content = 'TEST critical alert: by hand'")"
rc=0
BIN_DIR=$BIN_DIR "$wrapper" urgent >/dev/null 2>&1 || rc=$?
assert_eq "a bad severity is a usage error" 2 "$rc"
}

# ---------------------------------------------------------------- the state database down: a test alert spooled
scenario_spool_test_alert() {
state_down_setup

# A test alert while the state database is down: spooled, sent, replayed. The spool is created
# here: its directory is fsync'd after the file is made (traced where strace can run).
harness_stop_pg
rm -rf "$HARNESS_DIR/spool"
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace: leaks are checked in every other run.
	out=$(ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 MONITORING_ENV_FILE=$MONITORING_ENV_FILE strace -f -e trace=openat,fsync -o "$HARNESS_DIR/strace.out" \
		"$BIN_DIR/cron" test-alert critical "spool me" 2>>"$HARNESS_LOG_DIR/cron.log")
	dirfd=$(grep -F "openat(AT_FDCWD, \"$HARNESS_DIR/spool\", O_RDONLY" "$HARNESS_DIR/strace.out" | grep -F O_DIRECTORY |
		sed -n 's/.*= \([0-9]*\)$/\1/p' | tail -1) || true
	assert_match "the spool file is created, then its directory is opened" '^[0-9]+$' "$dirfd"
	assert_eq "and fsync'd" 1 "$(awk -v fd="$dirfd" 'index($0, "O_CREAT") && index($0, "outbox.spool\"") { made = 1 }
		made && index($0, "fsync(" fd ")") { print 1; exit }' "$HARNESS_DIR/strace.out")"
else
	out=$(harness_cron test-alert critical "spool me")
	pass "strace cannot run here: the directory fsync is not traced"
fi
assert_eq "the test alert is spooled" true "$(jq .spooled <<<"$out")"
assert_eq "and sent anyway" 1 "$(jq .sent_while_database_down <<<"$out")"
assert_eq "the provider got it" 1 "$(mock_count)"
assert_eq "the spool holds the message and its result" 2 "$(wc -l <"$spool")"
harness_start_pg
out=$(harness_cron drain)
assert_eq "the spool is replayed" 2 "$(jq .replayed <<<"$out")"
assert_eq "into whatsapp_logs, as sent, with its wamid" "sent|wamid" \
	"$(psql_state "SELECT status || '|' || left(provider_message_id, 5) FROM whatsapp_logs WHERE message_content LIKE '%spool me'")"
assert_eq "nothing is sent twice" 1 "$(mock_count)"
assert_eq "the spool is emptied" 0 "$(wc -c <"$spool")"
out=$(harness_cron drain)
assert_eq "a second replay has nothing" 0 "$(jq .replayed <<<"$out")"
}

# ---------------------------------------------------------------- the state database down: a check
scenario_check_while_state_down() {
state_down_setup

# A check while the state (and, here, the monitored) database is down.
mock_reset
harness_stop_pg
harness_cron check >/dev/null 2>&1 || true
assert_eq "the check's finding is sent while the database is down" 1 "$(mock_count)"
assert_contains "it says the state database is down" \
	"$(mock_requests | jq -r '.[0].json.text.body')" "state database down"
harness_cron check >/dev/null 2>&1 || true
assert_eq "the same finding is not sent again" 1 "$(mock_count)"
harness_start_pg
harness_cron drain >/dev/null
assert_eq "it is in whatsapp_logs once the database is back" 1 \
	"$(count_of "message_content LIKE '%state database down%' AND status = 'sent'")"
}

# ---------------------------------------------------------------- the state database down: a spooled line refused
scenario_spool_line_refused() {
state_down_setup

# A spooled line the database refuses (a time out of range) does not hold up the others: it goes
# to the quarantine beside the spool, and the rest is replayed.
mock_reset
spool=$HARNESS_DIR/spool/outbox.spool
now=$(date +%s)
cat >>"$spool" <<EOF
{"type":"message","key":"q:good1","phone":"+15550009001","content":"quarantine good 1","priority":"critical","kind":"test","alert_ids":[],"emergency":false,"not_before":0,"created_at":$now}
{"type":"message","key":"q:bad","phone":"+15550009002","content":"quarantine bad","priority":"critical","kind":"test","alert_ids":[],"emergency":false,"not_before":9000000000000000000,"created_at":$now}
{"type":"result","key":"q:good1","status":"sent","as_template":false,"provider":"meta","message_id":"wamid.Q1","at":$now}
{"type":"message","key":"q:good2","phone":"+15550009003","content":"quarantine good 2","priority":"critical","kind":"test","alert_ids":[],"emergency":false,"not_before":0,"created_at":$now}
{"type":"result","key":"q:good2","status":"failed","as_template":false,"provider":"meta","error_code":"131026","error":"not on WhatsApp","at":$now}
EOF
out=$(harness_cron drain)
assert_eq "the good lines are replayed, the refused one quarantined" "4|1" "$(jq -r '"\(.replayed)|\(.quarantined)"' <<<"$out")"
assert_eq "the good messages are in whatsapp_logs with their results" "q:good1 sent,q:good2 failed" \
	"$(psql_state "SELECT string_agg(idempotency_key || ' ' || status, ',' ORDER BY idempotency_key) FROM whatsapp_logs WHERE idempotency_key LIKE 'q:%'")"
assert_contains "the refused line is kept in the quarantine, as it was" \
	"$(cat "$HARNESS_DIR/spool/outbox.spool.quarantine")" '"key":"q:bad","phone":"+15550009002"'
assert_eq "the spool is emptied" 0 "$(wc -c <"$spool")"
assert_contains "the drain says so in its log" "$(cat "$HARNESS_LOG_DIR/cron.log")" \
	'"event":"spool_quarantined","msg":"1 spooled line(s) could not be replayed'
assert_eq "nothing was sent for them" 0 "$(mock_count)"
}

# ---------------------------------------------------------------- the state database down: stopped during a send
scenario_stopped_mid_send() {
state_down_setup

# Stopped during a send: the provider answers late, the database stops meanwhile.
mock_reset
mock_default '{"delay_ms": 3000}'
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550001001', 'mid-send', 'critical', 'test:midsend') RETURNING id")
harness_cron drain >"$HARNESS_DIR/drain.out" 2>&1 &
drain_pid=$!
sleep 1.5
harness_stop_pg
wait "$drain_pid" || true
assert_eq "the message reached the provider" 1 "$(mock_count)"
assert_contains "its result is spooled" "$(cat "$spool")" "\"id\":\"$id\""
harness_start_pg
mock_default '{"delay_ms": 0}'
out=$(harness_cron drain)
assert_eq "the result is replayed" 1 "$(jq .replayed <<<"$out")"
assert_eq "the row is sent, with the provider's id" "sent|wamid" \
	"$(psql_state "SELECT status || '|' || left(provider_message_id, 5) FROM whatsapp_logs WHERE id = $id")"
assert_eq "and was not sent twice" 1 "$(mock_count)"
}

harness_scenarios escalation recovery_to_told ack_stops_escalation repeat_interval pause_suppresses warning_held_overnight alerts_endpoint send_test_alert_script spool_test_alert check_while_state_down spool_line_refused stopped_mid_send

harness_finish
