#!/usr/bin/env bash
# Real situations in the monitored database, judged by POST /monitoring/check,
# and what the state database holds afterwards.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

BG_PIDS=()
BG_FDS=()
cleanup_sessions() { # close each session's input: psql sees EOF, rolls back and exits
	local fd p
	for fd in "${BG_FDS[@]}"; do
		exec {fd}>&-
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	BG_PIDS=()
	BG_FDS=()
}

check() { # check [BODY]: POST /monitoring/check, leaves the JSON in HTTP_BODY
	local body=${1:-'{}'}
	http_auth POST /monitoring/check "$body"
	if [[ $HTTP_STATUS != 200 ]]; then
		fail "check answered $HTTP_STATUS" "$HTTP_BODY"
	fi
}
verdict() { # verdict METRIC [TARGET]
	jq -r --arg m "$1" --arg t "${2:-}" \
		'[.metrics[] | select(.metric == $m and .target == $t) | .verdict] | first // "absent"' <<<"$HTTP_BODY"
}
value() {
	jq -r --arg m "$1" --arg t "${2:-}" \
		'[.metrics[] | select(.metric == $m and .target == $t) | .value] | first' <<<"$HTTP_BODY"
}
opened() { jq -r '[.alerts.opened[] | .rule + "/" + .target + "/" + .severity] | join(",")' <<<"$HTTP_BODY"; }
resolved() { jq -r '[.alerts.resolved[] | .rule + "/" + .target] | join(",")' <<<"$HTTP_BODY"; }
configure() { # configure JSON: POST /monitoring/configure, must be 200
	http_auth POST /monitoring/configure "$1"
	assert_eq "configure $1 accepted" 200 "$HTTP_STATUS"
}
shop_bg() { # shop_bg SQL: a psql session on shop that runs SQL, then stays open (see cleanup_sessions)
	local fifo fd
	fifo=$HARNESS_DIR/session.${#BG_PIDS[@]}
	mkfifo "$fifo"
	(
		# Hold no other session's pipe open, or that session never sees its EOF.
		for fd in "${BG_FDS[@]}"; do
			exec {fd}>&-
		done
		exec psql -X -q -h "$PGHOST" -U postgres -d shop <"$fifo" >/dev/null 2>&1
	) &
	BG_PIDS+=($!)
	exec {fd}>"$fifo"
	BG_FDS+=("$fd")
	printf '%s\n' "$1" >&"$fd"
}
# shop_reset: the monitored database as harness_start made it, before each scenario: no
# orders, no table or sequence a scenario made, db_monitor with its login and pg_monitor,
# pg_stat_statements installed, orders without row-level security.
shop_reset() {
	psql_shop "ALTER ROLE db_monitor LOGIN; GRANT pg_monitor TO db_monitor;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements; ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
TRUNCATE orders; DROP TABLE IF EXISTS dl, churn; DROP SEQUENCE IF EXISTS small_seq, hidden_seq, other_seq;" >/dev/null
}
harness_scenario_setup shop_reset
dl_table() { # the two-row table the lock scenarios fight over
	psql_shop "CREATE TABLE dl (id int PRIMARY KEY, v int); INSERT INTO dl VALUES (1, 0), (2, 0);
GRANT SELECT ON dl TO db_monitor;" >/dev/null
}
sequence_alert() { # a sequence 98% used, readable by db_monitor, and its critical alert open
	psql_shop "CREATE SEQUENCE small_seq AS smallint; SELECT setval('small_seq', 32000);
GRANT SELECT ON small_seq TO db_monitor;" >/dev/null
	check
}

# ---------------------------------------------------------------- a quiet database
scenario_quiet_database() {
check
assert_eq "the first check is stored" true "$(jq -r .stored <<<"$HTTP_BODY")"
assert_eq "the monitored database is up" ok "$(verdict database_up)"
assert_eq "no alert on a quiet database" "" "$(opened)"
assert_eq "deltas skipped on the first check" skipped "$(verdict deadlocks)"
assert_eq "orders not judged below the minimum volume" skipped "$(verdict orders_today_drop_pct)"
assert_eq "size percentage unavailable without a limit" unavailable "$(verdict database_size_pct)"
assert_match "the duration is reported" '^[0-9]+$' "$(jq -r .duration_ms <<<"$HTTP_BODY")"
assert_eq "one check_runs row" 1 "$(psql_state "SELECT count(*) FROM check_runs")"
assert_eq "samples stored for the run" \
	"$(jq '.metrics | length' <<<"$HTTP_BODY")" \
	"$(psql_state "SELECT count(*) FROM metric_samples")"
}

# ---------------------------------------------------------------- orders drop against last week
scenario_orders_drop() {
# Same weekday last week, up to this time of day: 100 orders; today so far: 10 (a 90% drop).
# Yesterday and 8 days ago: 100 each (no drop).
psql_shop "SET TIME ZONE 'UTC';
INSERT INTO orders (created_at)
  SELECT date_trunc('day', now()) - interval '7 days'
         + (now() - date_trunc('day', now())) * (g / 101.0) FROM generate_series(1, 100) g;
INSERT INTO orders (created_at)
  SELECT date_trunc('day', now()) + (now() - date_trunc('day', now())) * (g / 11.0)
  FROM generate_series(1, 10) g;
INSERT INTO orders (created_at)
  SELECT date_trunc('day', now()) - interval '1 day' + interval '1 minute' * g FROM generate_series(1, 100) g;
INSERT INTO orders (created_at)
  SELECT date_trunc('day', now()) - interval '8 days' + interval '1 minute' * g FROM generate_series(1, 100) g;"
check
assert_eq "today's drop is critical" critical "$(verdict orders_today_drop_pct)"
assert_eq "today's drop is 90%" 90 "$(value orders_today_drop_pct)"
assert_eq "yesterday is fine" ok "$(verdict orders_yesterday_drop_pct)"
assert_contains "an orders alert is opened" "$(opened)" "orders_today_drop_pct//critical"
assert_eq "one alert row" 1 "$(psql_state "SELECT count(*) FROM alerts WHERE rule = 'orders_today_drop_pct' AND status = 'open'")"
assert_eq "one message queued to the critical contact" "+15550000001|critical" \
	"$(psql_state "SELECT phone_number, priority FROM whatsapp_logs ORDER BY id DESC LIMIT 1" -F '|')"
# The check program drains after its answer is out: the sandbox records the message as sent.
wait_for 10 bash -c "[[ \$(psql -X -At -h '$PGHOST' -U postgres -d monitoring -c \"SELECT status FROM whatsapp_logs ORDER BY id DESC LIMIT 1\") == sent ]]" || true
assert_eq "the check's drain sent it through the sandbox" "sent|sandbox|t" \
	"$(psql_state "SELECT status, provider, provider_message_id LIKE 'sandbox-%' FROM whatsapp_logs ORDER BY id DESC LIMIT 1" -F '|')"
assert_contains "the message names the problem" \
	"$(psql_state "SELECT message_content FROM whatsapp_logs ORDER BY id DESC LIMIT 1")" "orders_today_drop_pct"
msgs_before=$(psql_state "SELECT count(*) FROM whatsapp_logs")

check
assert_eq "the same finding opens nothing new" "" "$(opened)"
assert_eq "still one open orders alert" 1 "$(psql_state "SELECT count(*) FROM alerts WHERE rule = 'orders_today_drop_pct'")"
assert_eq "the same finding queues no message" "$msgs_before" "$(psql_state "SELECT count(*) FROM whatsapp_logs")"

psql_shop "SET TIME ZONE 'UTC'; INSERT INTO orders (created_at)
  SELECT date_trunc('day', now()) + (now() - date_trunc('day', now())) * (g / 101.0)
  FROM generate_series(1, 95) g;"
check
assert_eq "orders back to normal" ok "$(verdict orders_today_drop_pct)"
assert_contains "the orders alert is resolved" "$(resolved)" "orders_today_drop_pct/"
assert_eq "resolved in the database" resolved "$(psql_state "SELECT status FROM alerts WHERE rule = 'orders_today_drop_pct'")"
assert_eq "a recovery message is queued" "recovery|info" \
	"$(psql_state "SELECT kind, priority FROM whatsapp_logs ORDER BY id DESC LIMIT 1" -F '|')"
}

# ---------------------------------------------------------------- a forced deadlock
scenario_deadlock() {
dl_table
check # baseline counters
( psql -X -q -h "$PGHOST" -U postgres -d shop -c "BEGIN; UPDATE dl SET v = 1 WHERE id = 1; SELECT pg_sleep(1); UPDATE dl SET v = 1 WHERE id = 2; COMMIT;" >/dev/null 2>&1 || true ) &
p1=$!
( psql -X -q -h "$PGHOST" -U postgres -d shop -c "BEGIN; UPDATE dl SET v = 2 WHERE id = 2; SELECT pg_sleep(1); UPDATE dl SET v = 2 WHERE id = 1; COMMIT;" >/dev/null 2>&1 || true ) &
p2=$!
wait "$p1" "$p2" || true
sleep 1 # let the backends' statistics reach pg_stat_database
check
assert_eq "one deadlock since the last check" 1 "$(value deadlocks)"
assert_eq "a deadlock is a warning" warning "$(verdict deadlocks)"
assert_contains "a deadlock alert is opened" "$(opened)" "deadlocks//warning"
check
assert_eq "no new deadlock: ok" ok "$(verdict deadlocks)"
assert_contains "the deadlock alert is resolved" "$(resolved)" "deadlocks/"
}

# ---------------------------------------------------------------- idle transaction holding a lock, a blocked session
scenario_idle_and_blocked() {
dl_table
configure '{"thresholds":{"idle_in_transaction_seconds":{"warning":1,"critical":3600},
 "blocked_session_seconds":{"warning":1,"critical":3600},"blocked_sessions":{"warning":1},
 "long_running_query_seconds":{"warning":1,"critical":3600}}}'
shop_bg "BEGIN; SELECT * FROM dl WHERE id = 1 FOR UPDATE;"
sleep 1
shop_bg "UPDATE dl SET v = 3 WHERE id = 1;"
sleep 2
check
assert_eq "idle in transaction is a warning" warning "$(verdict idle_in_transaction_seconds)"
assert_eq "one blocked session" 1 "$(value blocked_sessions)"
assert_eq "the blocked session is a warning" warning "$(verdict blocked_session_seconds)"
assert_contains "the blocked session's detail names its blocker" \
	"$(jq -r '.metrics[] | select(.metric == "blocked_session_seconds") | .detail' <<<"$HTTP_BODY")" "waits for pid"
assert_eq "the waiting statement is long-running" warning "$(verdict long_running_query_seconds)"
assert_contains "alerts opened for each" "$(opened)" "idle_in_transaction_seconds//warning"
assert_contains "alerts opened for the blocked session" "$(opened)" "blocked_session_seconds//warning"
cleanup_sessions
sleep 1
check
assert_contains "the idle transaction alert resolves" "$(resolved)" "idle_in_transaction_seconds/"
assert_contains "the blocked session alert resolves" "$(resolved)" "blocked_session_seconds/"
}

# ---------------------------------------------------------------- a sequence near its end; warning rising to critical
scenario_sequence_rising() {
psql_shop "CREATE SEQUENCE small_seq AS smallint; SELECT setval('small_seq', 26000);
GRANT SELECT ON small_seq TO db_monitor; CREATE SEQUENCE hidden_seq; SELECT nextval('hidden_seq');" >/dev/null
check
assert_eq "a sequence 79% used is a warning" warning "$(verdict sequence_used_pct public.small_seq)"
assert_contains "a sequence alert is opened" "$(opened)" "sequence_used_pct/public.small_seq/warning"
assert_eq "an unreadable sequence is reported unavailable, not zero" unavailable "$(verdict sequence_used_pct '(unreadable)')"
psql_shop "SELECT setval('small_seq', 32000);" >/dev/null
msgs_before=$(psql_state "SELECT count(*) FROM whatsapp_logs")
check
assert_eq "98% used is critical" critical "$(verdict sequence_used_pct public.small_seq)"
assert_eq "the rise is a change, not a new alert" "sequence_used_pct/warning->critical" \
	"$(jq -r '.alerts.changed[] | .rule + "/" + .previous_severity + "->" + .severity' <<<"$HTTP_BODY")"
assert_eq "still one sequence alert" 1 "$(psql_state "SELECT count(*) FROM alerts WHERE rule = 'sequence_used_pct'")"
assert_eq "the rise queues a message" $((msgs_before + 1)) "$(psql_state "SELECT count(*) FROM whatsapp_logs")"
assert_eq "the rise is recorded as an event" escalated \
	"$(psql_state "SELECT event FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE a.rule = 'sequence_used_pct' ORDER BY e.id DESC LIMIT 1")"
}

# ---------------------------------------------------------------- dead tuples above the autovacuum trigger
scenario_dead_tuples() {
psql_shop "CREATE TABLE churn (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false);
INSERT INTO churn SELECT g, 'x' FROM generate_series(1, 10000) g; ANALYZE churn;
DELETE FROM churn WHERE id <= 5000;"
sleep 1 # statistics reach the cumulative views when the session ends
check
assert_eq "5000 dead tuples against a trigger of 2050: warning" warning "$(verdict dead_tuples_ratio public.churn)"
assert_contains "a dead tuples alert names the table" "$(opened)" "dead_tuples_ratio/public.churn/warning"
psql_shop "VACUUM churn;"
sleep 1
check
assert_contains "vacuumed: the dead tuples alert resolves" "$(resolved)" "dead_tuples_ratio/public.churn"
}

# ---------------------------------------------------------------- missing privileges are unavailable, never zero
scenario_missing_privileges() {
sequence_alert
psql_shop "REVOKE pg_monitor FROM db_monitor; DROP EXTENSION pg_stat_statements;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY; REVOKE SELECT ON small_seq FROM db_monitor;"
check
for m in long_running_query_seconds idle_in_transaction_seconds blocked_sessions; do
	assert_eq "$m without pg_monitor is unavailable" unavailable "$(verdict $m)"
done
assert_contains "the reason names pg_monitor" \
	"$(jq -r '.metrics[] | select(.metric == "blocked_sessions") | .detail' <<<"$HTTP_BODY")" "pg_monitor"
assert_eq "query times without pg_stat_statements are unavailable" unavailable "$(verdict slowest_query_mean_ms)"
assert_eq "orders hidden by row-level security are unavailable, not 0" unavailable "$(verdict orders_today)"
assert_contains "the reason names row-level security" \
	"$(jq -r '.metrics[] | select(.metric == "orders_today") | .detail' <<<"$HTTP_BODY")" "row-level security"
assert_eq "an unreadable sequence is unavailable" unavailable "$(verdict sequence_used_pct '(unreadable)')"
assert_eq "an unavailable metric does not resolve its alert" 1 \
	"$(psql_state "SELECT count(*) FROM alerts WHERE status = 'open' AND rule = 'sequence_used_pct'")"
psql_shop "GRANT pg_monitor TO db_monitor; CREATE EXTENSION pg_stat_statements;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY; GRANT SELECT ON small_seq TO db_monitor;"
check
assert_eq "with pg_monitor back, sessions are read again" ok "$(verdict blocked_sessions)"
}

# ---------------------------------------------------------------- emergency mode
scenario_emergency_mode() {
psql_shop "CREATE SEQUENCE other_seq AS smallint; SELECT setval('other_seq', 31000); GRANT SELECT ON other_seq TO db_monitor;" >/dev/null
check '{"mode":"emergency"}'
assert_eq "the run is marked emergency" emergency "$(jq -r .mode <<<"$HTTP_BODY")"
assert_eq "stored as an emergency run" emergency "$(psql_state "SELECT mode FROM check_runs ORDER BY id DESC LIMIT 1")"
assert_eq "its message is flagged emergency, to the critical contact" "t|+15550000001" \
	"$(psql_state "SELECT emergency, phone_number FROM whatsapp_logs ORDER BY id DESC LIMIT 1" -F '|')"
}

# ---------------------------------------------------------------- the monitor's login refused
scenario_login_refused() {
sequence_alert # an alert that must stay open while the database cannot be reached
psql_shop "ALTER ROLE db_monitor NOLOGIN;"
check
assert_eq "refused login: database_up critical" critical "$(verdict database_up)"
assert_eq "reported unreachable" false "$(jq -r .reachable <<<"$HTTP_BODY")"
assert_contains "the libpq reason is kept" "$(jq -r .error <<<"$HTTP_BODY")" "not permitted to log in"
assert_contains "an unreachable alert is opened" "$(opened)" "database_up//critical"
assert_eq "other alerts stay open while unreachable" "" "$(resolved)"
psql_shop "ALTER ROLE db_monitor LOGIN;"
check
assert_contains "database_up resolves when the login works again" "$(resolved)" "database_up/"
}

# ---------------------------------------------------------------- the monitored database stopped
scenario_monitored_stopped() {
second=$HARNESS_DIR/second
pg_init_cluster "$second/pg" "$second/run" "fsync = off" >/dev/null
pg_start "$second/pg" "$HARNESS_LOG_DIR/second-postgres.log"
pg_psql "$second/run" postgres -c "CREATE ROLE db_monitor LOGIN; GRANT pg_monitor TO db_monitor;"
harness_set_env MONITORED_DATABASE_URL "host=$second/run dbname=postgres user=db_monitor"
harness_restart_programs
check
assert_eq "the second database is up" ok "$(verdict database_up)"
pg_stop "$second/pg"
check
assert_eq "a stopped database is critical" critical "$(verdict database_up)"
assert_contains "the reason says the server is not there" "$(jq -r .error <<<"$HTTP_BODY")" "$second/run"
assert_eq "stored though unreachable" false "$(psql_state "SELECT reachable FROM check_runs ORDER BY id DESC LIMIT 1" | sed 's/f/false/')"
pg_start "$second/pg" "$HARNESS_LOG_DIR/second-postgres.log"
check
assert_contains "back up: resolved" "$(resolved)" "database_up/"
assert_eq "the restart is noticed" warning "$(verdict restarted)"
assert_eq "deltas are skipped across the restart" skipped "$(verdict deadlocks)"
assert_contains "with the reason" \
	"$(jq -r '.metrics[] | select(.metric == "deadlocks") | .detail' <<<"$HTTP_BODY")" "restarted"
check
assert_eq "the next check judges deltas again" ok "$(verdict deadlocks)"
assert_eq "and the restart warning clears" ok "$(verdict restarted)"
pg_stop "$second/pg"
}

harness_scenarios quiet_database orders_drop deadlock idle_and_blocked sequence_rising dead_tuples missing_privileges emergency_mode login_refused monitored_stopped

harness_finish
