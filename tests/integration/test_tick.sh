#!/usr/bin/env bash
# cron tick: each scheduled thing once per period (a check when the interval passed, the daily
# and weekly reports, the prune), after downtime (one check, one late report), with three ticks
# at once, and the follow-ups it drives (pause end, escalation) once.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

export RECIPIENT_MIN_INTERVAL=0 REPORT_PHONE_1=+15550000007
tick() { harness_cron tick; }
step() { jq -c --arg s "$1" '.steps[] | select(.step == $s)' <<<"$2"; }
reports() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'report' AND idempotency_key LIKE 'report:$1:%'"; }
checks() { psql_state "SELECT count(*) FROM check_runs"; }
# aged: as if 8 hours had passed since the last check (the interval is 6 h), with no report sent.
aged() {
	psql_state "UPDATE check_runs SET started_at = started_at - interval '8 hours'" >/dev/null
	psql_state "DELETE FROM schedule_runs WHERE kind LIKE 'report%'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
}
# two_checks: what the scenarios before ran: a first tick, and a second one after downtime.
two_checks() {
	tick >/dev/null
	aged
	tick >/dev/null
}

# ---------------------------------------------------------------- the first tick
scenario_first_tick() {
out=$(tick)
assert_eq "the first tick works" true "$(jq .ok <<<"$out")"
assert_eq "it runs a check (none ran before)" true "$(step check "$out" | jq .due)"
assert_eq "one check stored" 1 "$(checks)"
assert_eq "the daily report of the current period goes" 1 "$(reports daily)"
assert_eq "and the weekly one" 1 "$(reports weekly)"
assert_eq "to REPORT_PHONE_1" "+15550000007|sent" \
	"$(psql_state "SELECT phone_number || '|' || status FROM whatsapp_logs WHERE kind = 'report' ORDER BY id LIMIT 1")"
text=$(psql_state "SELECT message_content FROM whatsapp_logs WHERE idempotency_key LIKE 'report:daily:%'")
assert_contains "the report counts checks" "$text" "Checks:"
assert_contains "it counts messages" "$text" "Messages:"
assert_contains "it compares orders" "$text" "Orders:"
assert_contains "it gives the database size" "$text" "Database:"
}

# ---------------------------------------------------------------- nothing due
scenario_nothing_due() {
tick >/dev/null # the first
out=$(tick)
assert_eq "a second tick: no check" false "$(step check "$out" | jq .due)"
assert_eq "no report again" false "$(step report_daily "$out" | jq .due)"
assert_eq "no prune again" false "$(step prune "$out" | jq .due)"
assert_eq "still one check" 1 "$(checks)"
assert_eq "still one daily report" 1 "$(reports daily)"
assert_match "it says how long it took" '^[0-9]+$' "$(jq .duration_ms <<<"$out")"
printf 'tick with nothing due: %s ms\n' "$(jq .duration_ms <<<"$out")"
}

# ---------------------------------------------------------------- after two hours of downtime
scenario_after_downtime() {
tick >/dev/null # the first
# The last check is 8 hours old (interval 6 h); the daily report was due 2 hours ago.
psql_state "UPDATE check_runs SET started_at = started_at - interval '8 hours'" >/dev/null
psql_state "DELETE FROM schedule_runs WHERE kind LIKE 'report%'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
export REPORT_DAILY_TIME=$(date -u -d '-2 hours' +%H:%M)
out=$(tick)
assert_eq "after downtime the missed check runs at once" 2 "$(checks)"
assert_eq "the missed daily report is sent" 1 "$(reports daily)"
assert_eq "marked late" true "$(step report_daily "$out" | jq .late)"
assert_contains "the text says late" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE idempotency_key LIKE 'report:daily:%'")" "(LATE)"
out=$(tick)
assert_eq "never twice" 1 "$(reports daily)"
assert_eq "and one check" 2 "$(checks)"
}

# ---------------------------------------------------------------- the monitored database unreachable
scenario_monitored_unreachable() {
two_checks
# The report still goes, and says what it could not count.
psql_state "DELETE FROM schedule_runs WHERE kind = 'report_daily'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
MONITORED_DATABASE_URL="host=$HARNESS_DIR/nowhere dbname=shop user=db_monitor" tick >/dev/null
assert_eq "monitored database unreachable: the daily report still goes" 1 "$(reports daily)"
assert_contains "saying the orders are unavailable" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs WHERE idempotency_key LIKE 'report:daily:%'")" "Orders: unavailable"
}

# ---------------------------------------------------------------- ticks while one runs
scenario_ticks_while_one_runs() {
two_checks
# A tick that finds another one running (its advisory lock held) does nothing and says so. A
# session holds the lock here the way a running tick does, for as long as the test needs.
psql_state "UPDATE check_runs SET started_at = started_at - interval '8 hours'" >/dev/null
psql_state "DELETE FROM schedule_runs WHERE kind LIKE 'report%'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
TICK_LOCK=7797109116105107 # common/jobs/tick.c TICK_LOCK_KEY
tick_lock_holders() {
	psql_state "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
	 AND (classid::bigint << 32 | objid::bigint) = $TICK_LOCK"
}
pg_psql "$PGHOST" monitoring -c "SELECT pg_advisory_lock($TICK_LOCK)" -c "SELECT pg_sleep(120)" \
	>/dev/null 2>&1 &
locker=$!
wait_for 10 eval '[[ $(tick_lock_holders) == 1 ]]' || fail "the test session took the tick lock" "it did not"
pids=()
for i in 1 2 3; do
	harness_cron tick >"$HARNESS_DIR/tick.$i" &
	pids+=($!)
done
wait "${pids[@]}"
skipped=0
for i in 1 2 3; do
	[[ $(jq -r '.skipped // empty' "$HARNESS_DIR/tick.$i") == "another tick is running" ]] && skipped=$((skipped + 1))
done
assert_eq "while a tick runs, each of three more skips" 3 "$skipped"
assert_eq "and checks nothing" 2 "$(checks)"
assert_eq "and sends no report" 0 "$(reports daily)"
psql_state "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
 AND (classid::bigint << 32 | objid::bigint) = $TICK_LOCK" >/dev/null
wait "$locker" 2>/dev/null || true
assert_eq "the lock is free again" 0 "$(tick_lock_holders)"
}

# ---------------------------------------------------------------- three ticks at once
scenario_three_ticks_at_once() {
two_checks
aged
# One takes the lock and does what is due; each of the others either skips (it overlapped) or
# finds nothing due (it came after): which, depends on timing, but never both and never more.
for i in 1 2 3; do
	harness_cron tick >"$HARNESS_DIR/tick.$i" &
done
wait
assert_eq "three ticks at once: one check" 3 "$(checks)"
assert_eq "one daily report" 1 "$(reports daily)"
assert_eq "one weekly report" 1 "$(reports weekly)"
did=0 quiet=0
for i in 1 2 3; do
	out=$(cat "$HARNESS_DIR/tick.$i")
	if [[ $(jq -r '.skipped // empty' <<<"$out") == "another tick is running" ]] ||
		[[ $(step check "$out" | jq .due) == false && $(step report_daily "$out" | jq .due) == false ]]; then
		quiet=$((quiet + 1))
	elif [[ $(step check "$out" | jq .due) == true ]]; then
		did=$((did + 1))
	fi
done
assert_eq "one tick did the work" 1 "$did"
assert_eq "the other two skipped or found nothing due" 2 "$quiet"
}

# ---------------------------------------------------------------- follow-ups once
scenario_follow_ups_once() {
tick >/dev/null # nothing else due
psql_state "UPDATE pause_state SET paused_at = now() - interval '1 hour', paused_until = now() - interval '1 second',
 paused_by = '+15550000001', announced = false" >/dev/null
out=$(tick)
assert_eq "an expired pause is announced" true "$(step pause_end "$out" | jq .announced)"
out=$(tick)
assert_eq "once" false "$(step pause_end "$out" | jq .announced)"
export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=0.5 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=0.6 ESCALATION_PHONE_1=+15550000009
harness_cron check >/dev/null
psql_state "UPDATE alerts SET escalate_at = now() - interval '1 second' WHERE status = 'open' AND rule = 'connections_used_pct'" >/dev/null
out=$(tick)
assert_eq "escalation fires in a tick" 1 "$(step escalate "$out" | jq .escalated)"
out=$(tick)
assert_eq "once per step" 0 "$(step escalate "$out" | jq .escalated)"
}

# ---------------------------------------------------------------- prune
scenario_prune() {
tick >/dev/null # nothing else due
psql_state "INSERT INTO check_runs (started_at, reachable) VALUES (now() - interval '200 days', true)" >/dev/null
psql_state "INSERT INTO webhook_seen (key, seen_at) VALUES ('st:old:read', now() - interval '30 days'), ('st:new:read', now())" >/dev/null
psql_state "INSERT INTO event_deliveries (webhook_id, status, answer, received_at) VALUES ('msg-old', 200, '{}', now() - interval '8 days'), ('msg-new', 200, '{}', now() - interval '6 days')" >/dev/null
psql_state "DELETE FROM schedule_runs WHERE kind = 'prune'" >/dev/null
out=$(tick)
assert_eq "the prune removes old check runs" 1 "$(step prune "$out" | jq .check_runs)"
assert_eq "and old webhook ids, keeping recent ones" "st:new:read" "$(psql_state "SELECT string_agg(key, ',') FROM webhook_seen WHERE key LIKE 'st:%:read' AND key IN ('st:old:read', 'st:new:read')")"
assert_eq "and the answers to event deliveries older than WEBHOOK_RETENTION_DAYS" "1 msg-new" \
	"$(step prune "$out" | jq .event_deliveries) $(psql_state "SELECT string_agg(webhook_id, ',') FROM event_deliveries")"
# Business events: dispatched ones older than EVENTS_RETENTION_DAYS (90) go; recent ones, one
# not looked at yet and one held for its digest stay, whatever their age.
psql_state "INSERT INTO tenants (external_id, display_name) VALUES ('prune-ev', 'E')" >/dev/null
psql_state "INSERT INTO events (event_id, tenant_id, type, occurred_at, data, received_at, webhook_id, outcome, digest_at)
	SELECT e, id, 'order.placed', now(), '{}', r, 'w-' || e, o, d FROM tenants,
	(VALUES ('ev-old', now() - interval '91 days', 'disabled', NULL::timestamptz),
	        ('ev-recent', now() - interval '89 days', 'disabled', NULL),
	        ('ev-undecided', now() - interval '91 days', NULL, NULL),
	        ('ev-held', now() - interval '91 days', 'digest', now() + interval '1 hour')) v(e, r, o, d)
	WHERE external_id = 'prune-ev'" >/dev/null
psql_state "DELETE FROM schedule_runs WHERE kind = 'prune'" >/dev/null
out=$(tick)
assert_eq "the prune removes dispatched events older than EVENTS_RETENTION_DAYS, no other" \
	"1 ev-held,ev-recent,ev-undecided" \
	"$(step prune "$out" | jq .events) $(psql_state "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM events")"
psql_state "DELETE FROM events" >/dev/null
# The seller login's records: rate-limit rows older than a day, codes a day past their expiry,
# sessions a week after they ended; the others stay.
psql_state "INSERT INTO tenants (external_id, display_name) VALUES ('prune-shop', 'P')" >/dev/null
psql_state "INSERT INTO tenant_auth_requests (kind, number, client_address, at) VALUES
	('code', '+15550001111', '127.0.0.1', now() - interval '25 hours'), ('code', '+15550001111', '127.0.0.1', now())" >/dev/null
psql_state "INSERT INTO tenant_codes (tenant_id, purpose, number, code_hash, expires_at)
	SELECT id, 'login', '+15550001111', repeat('a', 64), e FROM tenants, (VALUES (now() - interval '25 hours'), (now() - interval '1 hour')) v(e)
	WHERE external_id = 'prune-shop'" >/dev/null
psql_state "INSERT INTO tenant_sessions (token_hash, tenant_id, expires_at, revoked_at)
	SELECT h, id, e, r FROM tenants, (VALUES (repeat('b', 64), now() - interval '8 days', NULL::timestamptz),
	(repeat('c', 64), now() + interval '1 day', now() - interval '8 days'), (repeat('d', 64), now() - interval '1 day', NULL)) v(h, e, r)
	WHERE external_id = 'prune-shop'" >/dev/null
psql_state "DELETE FROM schedule_runs WHERE kind = 'prune'" >/dev/null
out=$(tick)
assert_eq "the prune removes old login records" "1 1 2" "$(step prune "$out" | jq -r '"\(.login_requests) \(.login_codes) \(.sessions)"')"
assert_eq "and keeps the recent ones" "1 1 1" "$(psql_state "SELECT (SELECT count(*) FROM tenant_auth_requests) || ' ' || (SELECT count(*) FROM tenant_codes) || ' ' || (SELECT count(*) FROM tenant_sessions)")"
}

# ---------------------------------------------------------------- the state database down
scenario_state_db_down() {
harness_stop_pg
rc=0
harness_cron tick >/dev/null || rc=$?
assert_eq "a tick that cannot reach the state database exits non-zero" 1 "$rc"
harness_start_pg
}

# ---------------------------------------------------------------- scripts/start-monitoring
scenario_start_monitoring() {
mock_start
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rc=0
out=$(META_WHATSAPP_TOKEN=test-token-abcdefghijklmnop META_WABA_ID=102290129340398 \
	META_GRAPH_URL=$MOCK_URL/v25.0 BIN_DIR=$BIN_DIR \
	"$repo/scripts/start-monitoring" --env "$MONITORING_ENV_FILE" --schedule none 2>&1) || rc=$?
assert_eq "start-monitoring: up" 0 "$rc"
assert_eq "it subscribes the app to the business account" "/v25.0/102290129340398/subscribed_apps|Bearer test-token-abcdefghijklmnop" \
	"$(mock_requests | jq -r '[.[] | select(.kind == "subscribe")][0] | .path + "|" + .headers.authorization')"
assert_contains "it prints the verify token for Meta's dashboard" "$out" "Verify token:  $(env_get "$MONITORING_ENV_FILE" WEBHOOK_VERIFY_TOKEN)"
assert_contains "it prints the schedule" "$out" "cron tick"
assert_contains "it ran the initial check" "$out" "running an initial check"
cp "$MONITORING_ENV_FILE" "$HARNESS_DIR/bad.env"
env_set "$HARNESS_DIR/bad.env" TIMEZONE Mars/Olympus
rc=0
out=$(env -u TIMEZONE BIN_DIR=$BIN_DIR "$repo/scripts/start-monitoring" --env "$HARNESS_DIR/bad.env" --schedule none 2>&1) || rc=$?
assert_eq "a bad configuration stops it (exit 2)" 2 "$rc"
assert_contains "naming the variable" "$out" "TIMEZONE"
}

harness_scenarios first_tick nothing_due after_downtime monitored_unreachable ticks_while_one_runs three_ticks_at_once follow_ups_once prune state_db_down start_monitoring

harness_finish
