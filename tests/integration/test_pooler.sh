#!/usr/bin/env bash
# Both databases through Debian's PgBouncer in transaction mode (pool_mode=transaction,
# default_pool_size=2, a small max_client_conn), as Supabase's pooler and many self-hosted
# sites put it in front of PostgreSQL: with DATABASE_POOLING=transaction and
# MONITORED_DATABASE_POOLING=transaction the migrations (three at once), a check (one failing
# query not aborting the rest), a test alert and a drain, the webhook (a signed status and an
# inbound message), three ticks at once and the canary (sent, its alert opened, one per interval)
# work through it; with the settings at session (the
# default) the same pooler breaks the state database (named prepared statements) and refuses
# the monitor's connection (its options startup parameter): the settings matter.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

# ---------------------------------------------------------------- the pooler
# Our own PgBouncer (harness.sh pooler_start): pool_mode=transaction, default_pool_size=2,
# a Unix socket in the stack's directory; harness_finish stops it before the cluster.
pooler_start || _harness_bail "pgbouncer did not start (see $HARNESS_LOG_DIR/pgbouncer.out)"
pass "pgbouncer started in transaction mode"
BDIR=$POOLER_DIR BPORT=$POOLER_PORT

# Everything through the pooler, in transaction mode.
POOLED_STATE="host=$BDIR port=$BPORT dbname=monitoring user=monitor"
POOLED_SHOP="host=$BDIR port=$BPORT dbname=shop user=db_monitor"
harness_set_env DATABASE_URL "$POOLED_STATE"
harness_set_env MONITORED_DATABASE_URL "$POOLED_SHOP"
harness_set_env DATABASE_POOLING transaction
harness_set_env MONITORED_DATABASE_POOLING transaction
SECRET=test-app-secret-0123456789
harness_set_env META_APP_SECRET "$SECRET"
PNID=106540352242922
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env REPORT_PHONE_1 +15550000007
harness_restart_programs || fail "programs restarted"
harness_env_baseline

# What PgBouncer itself says (SHOW on its admin console): its configuration.
bouncer_show() { "$(pg_bindir)/psql" -X -At -h "$BDIR" -p "$BPORT" -U postgres -d pgbouncer -c "SHOW $1"; }
checks() { psql_state "SELECT count(*) FROM check_runs"; }
reports() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'report' AND idempotency_key LIKE 'report:daily:%'"; }
aged() { # as if 8 hours had passed since the last check, no report sent
	psql_state "UPDATE check_runs SET started_at = started_at - interval '8 hours';
	 DELETE FROM schedule_runs WHERE kind LIKE 'report%'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
}
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1; }
post() { http POST /monitoring/whatsapp/webhook "$1" -H "X-Hub-Signature-256: sha256=$(sign "$1")"; }
envelope() {
	printf '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},%s}}]}]}' "$PNID" "$1"
}
settle() { # every stored webhook event processed
	wait_for 10 eval '[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = '"'pending'"'") == 0 ]]'
}

# ---------------------------------------------------------------- migrations
scenario_migrations() {
assert_contains "the pooler is in transaction mode" "$(bouncer_show config | grep '^pool_mode|')" "|transaction|"
pg_psql "$PGHOST" postgres -c "DROP DATABASE IF EXISTS fresh" -c "CREATE DATABASE fresh OWNER monitor" >/dev/null
local pids=() i ok=0
for i in 1 2 3; do
	DATABASE_URL="host=$BDIR port=$BPORT dbname=fresh user=monitor" harness_cron migrate \
		>"$HARNESS_DIR/migrate.$i" &
	pids+=($!)
done
for i in 0 1 2; do
	wait "${pids[$i]}" && ok=$((ok + 1))
done
assert_eq "three migrate runs at once through the pooler all succeed" 3 "$ok"
local last
last=$(find "$(dirname "${BASH_SOURCE[0]}")/../../sql" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -1)
assert_eq "every migration applied, the last one included" "$((10#${last%%_*}))" \
	"$(pg_psql "$PGHOST" fresh -At -c "SELECT max(version) FROM schema_migrations")"
assert_eq "each once" "$(find "$(dirname "${BASH_SOURCE[0]}")/../../sql" -name '[0-9][0-9][0-9]_*.sql' | wc -l)" \
	"$(pg_psql "$PGHOST" fresh -At -c "SELECT count(*) FROM schema_migrations")"
assert_eq "the tick's lease row is there" 1 "$(pg_psql "$PGHOST" fresh -At -c "SELECT count(*) FROM job_leases WHERE name = 'tick'")"
local rc=0
DATABASE_URL="host=$BDIR port=$BPORT dbname=fresh user=monitor" harness_cron migrate >/dev/null || rc=$?
assert_eq "a fourth run applies nothing and works" 0 "$rc"
}

# ---------------------------------------------------------------- a check
scenario_check() {
http_auth POST /monitoring/check '{}'
assert_eq "the check answers 200 through the pooler" 200 "$HTTP_STATUS"
assert_eq "it is stored" true "$(jq -r .stored <<<"$HTTP_BODY")"
assert_eq "the monitored database is reachable" ok \
	"$(jq -r '[.metrics[] | select(.metric == "database_up")][0].verdict' <<<"$HTTP_BODY")"
assert_eq "orders counted" false \
	"$(jq -r '[.metrics[] | select(.metric == "orders_today")][0].verdict == "unavailable"' <<<"$HTTP_BODY")"
# One query that fails on the server (a view dividing by zero as ORDERS_TABLE): its metrics
# are unavailable, and the queries after it still run (its savepoint rolled back, the
# transaction kept), where without savepoints each would read "transaction is aborted".
psql_shop "CREATE VIEW boom AS SELECT created_at FROM orders WHERE 1 / (SELECT count(*) FROM orders WHERE false) = 1;
 GRANT SELECT ON boom TO db_monitor" >/dev/null
local out
out=$(ORDERS_TABLE=boom harness_cron check)
psql_shop "DROP VIEW boom" >/dev/null
metric() { jq -r --arg m "$1" --arg f "$2" '[.metrics[] | select(.metric == $m)][0][$f] // "absent"' <<<"$out"; }
assert_eq "a failing query: its metric unavailable" unavailable "$(metric orders_today verdict)"
assert_contains "with the server's reason" "$(metric orders_today detail)" "division by zero"
assert_match "the size, read after, is read (the transaction survived)" '^[0-9.]+$' \
	"$(metric database_size_bytes value)"
assert_match "and the connections" '^[0-9.]+$' "$(metric connections value)"
out=$(harness_cron check)
assert_eq "cron check through the pooler" true "$(jq -r .stored <<<"$out")"
assert_eq "the monitor's transactions are done: none idle in transaction" 0 \
	"$(psql_state "SELECT count(*) FROM pg_stat_activity WHERE usename = 'db_monitor' AND state LIKE 'idle in transaction%'")"
}

# ---------------------------------------------------------------- a test alert and the drain
scenario_test_alert_and_drain() {
http_auth POST /monitoring/test-alert '{"severity":"critical","message":"through the pooler"}'
assert_eq "test-alert answers 200" 200 "$HTTP_STATUS"
local tid
tid=$(jq -r '.messages[0].id' <<<"$HTTP_BODY")
wait_for 10 eval '[[ $(psql_state "SELECT status FROM whatsapp_logs WHERE id = $tid") == sent ]]' || true
assert_eq "the sandbox recorded it as sent" sent "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $tid")"
local id
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550000001', 'queued by hand', 'critical', 'test:pooler') RETURNING id")
harness_cron drain >/dev/null
assert_eq "cron drain sends a queued message through the pooler" sent \
	"$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id")"
}

# ---------------------------------------------------------------- the webhook
scenario_webhook() {
local id
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at,
 provider, provider_message_id, idempotency_key) VALUES ('+15550001001', 'alert text', 'critical',
 'sent', now(), 'meta', 'wamid.POOL1', 'test:wamid.POOL1') RETURNING id")
post "$(envelope '"statuses":[{"id":"wamid.POOL1","status":"delivered","timestamp":"'"$(date +%s)"'","recipient_id":"15550001001"}]')"
assert_eq "a signed status: 200" 200 "$HTTP_STATUS"
settle || true
assert_eq "delivered recorded" delivered "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id")"
post "$(envelope '"contacts":[{"profile":{"name":"Ops"},"wa_id":"15550000001"}],"messages":[{"from":"15550000001","id":"wamid.POOLIN","timestamp":"'"$(date +%s)"'","type":"text","text":{"body":"help"}}]')"
assert_eq "a signed inbound message: 200" 200 "$HTTP_STATUS"
settle || true
harness_cron drain >/dev/null
assert_eq "its audit row" 1 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE provider_message_id = 'wamid.POOLIN' AND direction = 'inbound'")"
assert_eq "the reply sent" sent "$(psql_state "SELECT status FROM whatsapp_logs WHERE idempotency_key = 'reply:wamid.POOLIN'")"
assert_eq "no event left failed" 0 "$(psql_state "SELECT count(*) FROM webhook_events WHERE status <> 'done'")"
}

# ---------------------------------------------------------------- POST /events
# The events program's group commit through the pooler: arrays as parameters, no session state;
# a delivery repeated is answered from the record.
scenario_events() {
local secret hex now body id=msg-pool-1
http POST /tenants '{"external_id":"pool-shop","display_name":"Pool Shop"}' -H "Authorization: Bearer $PLATFORM_KEY"
secret=$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)
hex=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
body='{"events":[{"id":"e-pool-1","type":"system.notice","tenant":"pool-shop","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}},{"id":"e-pool-2","type":"system.notice","tenant":"nobody","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}}]}'
for _ in 1 2; do
	now=$(date +%s)
	http POST /events "$body" -H "webhook-id: $id" -H "webhook-timestamp: $now" -H "webhook-signature: v1,$(printf '%s.%s.%s' "$id" "$now" "$body" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | base64 -w0)"
	assert_eq "a batch through the pooler: 200, one accepted, one refused" "200 1 1" \
		"$HTTP_STATUS $(jq -r '"\(.accepted) \(.refused | length)"' <<<"$HTTP_BODY")"
done
assert_eq "stored once" "1 1" "$(psql_state "SELECT (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM event_deliveries)")"
}

# ---------------------------------------------------------------- the webhook's lock wait
scenario_webhook_lock_wait() {
# A row the status needs is locked by another transaction for 6 s: the webhook's writer waits
# at most WEBHOOK_LOCK_WAIT (200 ms, SET LOCAL in its transaction, the pooler refusing the
# options startup parameter), stores the event for later and answers at once.
local id t0 ms
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at,
 provider, provider_message_id, idempotency_key) VALUES ('+15550001001', 'alert text', 'critical',
 'sent', now(), 'meta', 'wamid.LOCK1', 'test:wamid.LOCK1') RETURNING id")
pg_psql "$PGHOST" monitoring -c "BEGIN" -c "SELECT 1 FROM whatsapp_logs WHERE id = $id FOR UPDATE" \
	-c "SELECT pg_sleep(6)" -c "COMMIT" >/dev/null 2>&1 &
local locker=$!
wait_for 10 eval '[[ $(psql_state "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '"'SELECT pg_sleep(6)%'"'") == 1 ]]' || true
t0=$(date +%s%N)
post "$(envelope '"statuses":[{"id":"wamid.LOCK1","status":"delivered","timestamp":"'"$(date +%s)"'","recipient_id":"15550001001"}]')"
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "a status for a locked row: 200" 200 "$HTTP_STATUS"
if ((ms < 3000)); then pass "answered in $ms ms, not after the lock (6 s)"; else fail "answered in $ms ms" "waited for the lock"; fi
assert_contains "stored for later" "$(cat "$HARNESS_LOG_DIR/webhook.log")" "lock timeout"
wait "$locker" || true
harness_cron drain >/dev/null
assert_eq "applied once the lock is gone" delivered "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id")"
}

# ---------------------------------------------------------------- three ticks at once
scenario_three_ticks_at_once() {
harness_cron tick >/dev/null
aged
local pids=() i
for i in 1 2 3; do
	harness_cron tick >"$HARNESS_DIR/tick.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true
assert_eq "three ticks at once through the pooler: one more check" 2 "$(checks)"
assert_eq "one daily report" 1 "$(reports)"
local failed=0
for i in 1 2 3; do
	[[ $(jq -r .ok "$HARNESS_DIR/tick.$i") == false ]] && failed=$((failed + 1))
done
assert_eq "none failed" 0 "$failed"
assert_eq "the lease is free again" t "$(psql_state "SELECT until < now() AND token IS NULL FROM job_leases WHERE name = 'tick'")"
# A tick that finds the lease held (another tick running elsewhere) skips, three of them.
psql_state "UPDATE job_leases SET token = 'elsewhere', until = now() + interval '1 hour' WHERE name = 'tick'" >/dev/null
aged
pids=()
for i in 1 2 3; do
	harness_cron tick >"$HARNESS_DIR/tick.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true
local skipped=0
for i in 1 2 3; do
	[[ $(jq -r '.skipped // empty' "$HARNESS_DIR/tick.$i") == "another tick is running" ]] && skipped=$((skipped + 1))
done
assert_eq "while the lease is held, each of three ticks skips" 3 "$skipped"
assert_eq "and checks nothing" 2 "$(checks)"
assert_eq "the holder's lease untouched" elsewhere "$(psql_state "SELECT token FROM job_leases WHERE name = 'tick'")"
}

# ---------------------------------------------------------------- the canary (issue 20)
scenario_canary() {
# The canary on for cron only (the environment overrides the env file): every minute, 30 s.
export CANARY_INTERVAL=60 CANARY_DEADLINE=30 CANARY_PHONE=+15550000042
canaries() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'canary'"; }
age() { psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '$1 seconds' WHERE kind = 'canary'" >/dev/null; }
out=$(harness_cron tick)
assert_eq "through the pooler a tick sends the canary" "true|true" \
	"$(jq -r '.ok | tostring' <<<"$out")|$(jq -r '.steps[] | select(.step == "canary") | .sent' <<<"$out")"
age 40
out=$(harness_cron tick)
assert_eq "late: its alert opens, in a transaction of its own" opened \
	"$(jq -r '.steps[] | select(.step == "canary") | .alert' <<<"$out")"
assert_eq "a critical alert" "critical|open" \
	"$(psql_state "SELECT severity || '|' || status FROM alerts WHERE rule = 'canary:late'")"
age 30
local pids=() i
for i in 1 2 3; do
	harness_cron tick >"$HARNESS_DIR/tick.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true
assert_eq "three ticks at once after the interval: one more canary" 2 "$(canaries)"
local failed=0
for i in 1 2 3; do
	[[ $(jq -r .ok "$HARNESS_DIR/tick.$i") == false ]] && failed=$((failed + 1))
done
assert_eq "none failed" 0 "$failed"
}

# ---------------------------------------------------------------- without the settings
scenario_session_mode_fails() {
# The state database through the pooler with DATABASE_POOLING=session: named prepared
# statements meet server connections that already have them (or lack them).
: >"$HARNESS_LOG_DIR/cron.log"
local i out bad=0 pglines
pglines=$(($(wc -l <"$HARNESS_LOG_DIR/postgres.log") + 1))
for i in 1 2 3; do
	out=$(DATABASE_POOLING=session harness_cron tick) || true
	[[ $(jq -r .ok <<<"$out") == false ]] && bad=$((bad + 1))
done
assert_ne "DATABASE_POOLING=session through a transaction pooler: ticks fail" 0 "$bad"
assert_contains "their transactions aborted" "$(cat "$HARNESS_LOG_DIR/cron.log")" \
	"current transaction is aborted"
assert_match "by prepared statements the server connection had (or lacked)" \
	'prepared statement "s[0-9]+" (already exists|does not exist)' \
	"$(tail -n +"$pglines" "$HARNESS_LOG_DIR/postgres.log")"
out=$(MONITORED_DATABASE_POOLING=session harness_cron check) || true
assert_eq "MONITORED_DATABASE_POOLING=session: the monitor's connection is refused" false \
	"$(jq -r .reachable <<<"$out")"
assert_contains "for its options startup parameter" "$out" "unsupported startup parameter"
}

harness_scenarios migrations check test_alert_and_drain webhook webhook_lock_wait three_ticks_at_once \
	session_mode_fails events canary
harness_finish
