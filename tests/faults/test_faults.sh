#!/usr/bin/env bash
# make faults: each scenario queues a known set of messages (or events) and
# asserts, from the mock provider's record and the database, that every one
# was delivered, none twice (or, where at-least-once is unavoidable, says so
# and counts them), and that every audit row is right.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness.sh"

harness_start
mock_start

export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=fault-token-abcdefghijklmnop \
	META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 \
	RETRY_BASE_SECONDS=1 RETRY_MAX_SECONDS=1 RECIPIENT_MIN_INTERVAL=0 SEND_TIMEOUT_MS=1500

N=40
good=$(env_get "$MONITORING_ENV_FILE" MONITORED_DATABASE_URL) # the monitored database's URL
queue_set() { # queue_set TAG: N messages to N numbers, keys TAG:1..N
	psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
	 SELECT '+1555' || lpad((g + $2)::text, 7, '0'), '$1 message ' || g, 'critical', '$1:' || g
	 FROM generate_series(1, $N) g" >/dev/null
}
due_now() { psql_state "UPDATE whatsapp_logs SET next_attempt_at = now() WHERE status = 'queued'" >/dev/null; }
sent_of() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE '$1:%' AND status = 'sent' AND provider_message_id LIKE 'wamid.%'"; }
# Successful answers the mock gave per recipient of a set: "max" and "distinct recipients".
ok_per_to() {
	mock_requests | jq -r --arg m "$1 message" '[.[] | select(.kind == "meta" and .answer.status == 200
	 and ((.json.text.body // "") | startswith($m)))] | group_by(.to) | [length, (map(length) | max // 0)] | "\(.[0])|\(.[1])"'
}
drain_until_done() { # drain_until_done TAG: drain (up to 10 rounds) until every message of TAG is sent
	local i
	for i in $(seq 10); do
		due_now
		harness_cron drain >/dev/null
		[[ $(sent_of "$1") == "$N" ]] && return 0
		sleep 1
	done
	return 1
}

# ---------------------------------------------------------------- 500s for a while, then recovery
scenario_provider_500s() {
mock_reset
mock_default '{"status": 500}'
queue_set e500 0
harness_cron drain >/dev/null
assert_eq "500s: nothing sent while the provider fails" 0 "$(sent_of e500)"
assert_eq "500s: every message queued for a retry with the reason" "$N" \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'e500:%' AND status = 'queued' AND last_error_code = 'http_500'")"
harness_cron drain >/dev/null
mock_default '{"status": 200}'
drain_until_done e500 || true
assert_eq "500s then recovery: every message delivered" "$N" "$(sent_of e500)"
assert_eq "each recipient got exactly one success" "$N|1" "$(ok_per_to e500)"
}

# ---------------------------------------------------------------- a 130429 burst
scenario_throttle_burst() {
mock_reset
mock_script '[{"meta_error": 130429, "times": 25}]'
queue_set thr 100
harness_cron drain >/dev/null
assert_eq "130429 burst: the throttled ones wait" "$((N - 25))" "$(sent_of thr)"
drain_until_done thr || true
assert_eq "130429 burst: all delivered" "$N" "$(sent_of thr)"
assert_eq "none twice" "$N|1" "$(ok_per_to thr)"
}

# ---------------------------------------------------------------- 131056 for one recipient
scenario_pair_rate_limit() {
mock_reset
mock_script '[{"match": {"to": "+15550000201"}, "meta_error": 131056, "times": 1}]'
queue_set pair 200
harness_cron drain >/dev/null
assert_eq "131056: the others go at once" "$((N - 1))" "$(sent_of pair)"
# Pushed to the row's own retry time (now() + backoff, 0.8-1.2 s here), not left at the moment of
# the send (RECIPIENT_MIN_INTERVAL=0). Compared with the row, not with now(): on a loaded machine
# the rest of the drain can take longer than the backoff.
assert_eq "that recipient's slot is pushed back to the row's retry" t \
	"$(psql_state "SELECT s.next_allowed_at >= w.next_attempt_at - interval '0.5 second'
	 FROM recipient_slots s JOIN whatsapp_logs w USING (phone_number)
	 WHERE s.phone_number = '+15550000201' AND w.idempotency_key LIKE 'pair:%' AND w.status = 'queued'")"
psql_state "UPDATE recipient_slots SET next_allowed_at = now()" >/dev/null
drain_until_done pair || true
assert_eq "131056: then it goes too" "$N" "$(sent_of pair)"
assert_eq "none twice" "$N|1" "$(ok_per_to pair)"
}

# ---------------------------------------------------------------- connection refused, then back
scenario_connection_refused() {
mock_reset
port=$(free_port)
META_GRAPH_URL=http://127.0.0.1:$port/v25.0 harness_cron drain >/dev/null || true
queue_set refused 300
META_GRAPH_URL=http://127.0.0.1:$port/v25.0 harness_cron drain >/dev/null
assert_eq "connection refused: all retried" "$N" \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'refused:%' AND status = 'queued' AND attempts = 1")"
drain_until_done refused || true
assert_eq "then all delivered" "$N" "$(sent_of refused)"
assert_eq "none twice" "$N|1" "$(ok_per_to refused)"
}

# ---------------------------------------------------------------- timeouts (at-least-once)
scenario_timeouts() {
mock_reset
mock_script '[{"match": {"to": "+15550000401"}, "delay_ms": 3000, "times": 1}]'
queue_set slow 400
harness_cron drain >/dev/null
assert_eq "a timeout: that one is retried" "queued|timeout" \
	"$(psql_state "SELECT status || '|' || last_error_code FROM whatsapp_logs WHERE idempotency_key = 'slow:1'")"
sleep 2
drain_until_done slow || true
assert_eq "timeouts: all delivered" "$N" "$(sent_of slow)"
dups=$(mock_requests | jq '[.[] | select(.kind == "meta" and .to == "15550000401")] | length')
assert_eq "the timed-out request reached the provider too: sent twice (at-least-once, counted)" 2 "$dups"
printf 'at-least-once: timeouts: %d request(s) for one message\n' "$dups"
}

# ---------------------------------------------------------------- a drainer killed mid-send
scenario_drainer_killed() {
# The drainer claims all N rows, has IN_FLIGHT requests at the provider (answering in 2 s) and
# is killed before any is answered: the rows stay 'sending' until their lease runs out, then all
# go again, so exactly the IN_FLIGHT ones that had reached the provider go twice.
mock_reset
mock_default '{"status": 200, "delay_ms": 2000}'
queue_set kill 500
IN_FLIGHT=8
MONITORING_ENV_FILE=$MONITORING_ENV_FILE SEND_MAX_IN_FLIGHT=$IN_FLIGHT "$BIN_DIR/cron" drain \
	>/dev/null 2>>"$HARNESS_LOG_DIR/cron.log" &
drainer=$!
wait_for 10 eval '(($(mock_count) >= IN_FLIGHT))' || true
sleep 0.3 # no request more may start before one is answered
kill -KILL "$drainer" 2>/dev/null || true
wait "$drainer" 2>/dev/null || true
assert_eq "SIGKILL: the requests in flight had reached the provider" "$IN_FLIGHT" "$(mock_count)"
stuck=$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'kill:%' AND status = 'sending'")
assert_eq "SIGKILL: every claimed row left 'sending'" "$N" "$stuck"
mock_default '{"status": 200, "delay_ms": 0}'
psql_state "UPDATE whatsapp_logs SET claimed_at = now() - interval '1 hour', lease_until = now() - interval '1 second' WHERE status = 'sending'" >/dev/null # the lease ran out
drain_until_done kill || true
assert_eq "SIGKILL: after the lease every message is delivered" "$N" "$(sent_of kill)"
twice=$(mock_requests | jq -r '[.[] | select(.kind == "meta" and ((.json.text.body // "") | startswith("kill message")))] | group_by(.to) | map(select(length > 1)) | length')
printf 'at-least-once: SIGKILL mid-send: %d of %d messages reached the provider twice\n' "$twice" "$stuck"
assert_eq "only the ones in flight went twice" "$IN_FLIGHT" "$twice"
assert_eq "and the others once" "$((N + IN_FLIGHT))" "$(mock_count)"
}

# ---------------------------------------------------------------- the state database restarted during a drain
scenario_state_db_restarted() {
mock_reset
# The provider answers in 1.2 s (within SEND_TIMEOUT_MS); the database goes away meanwhile.
mock_default '{"status": 200, "delay_ms": 1200}'
queue_set restart 600
harness_cron drain >/dev/null 2>&1 &
drainer=$!
sleep 0.6
harness_stop_pg
harness_start_pg
wait "$drainer" 2>/dev/null || true
mock_default '{"status": 200, "delay_ms": 0}'
harness_cron drain >/dev/null || true
drain_until_done restart || true
assert_eq "restart during a drain: all delivered" "$N" "$(sent_of restart)"
assert_eq "none twice (the results were spooled and replayed)" "$N|1" "$(ok_per_to restart)"
}

# ---------------------------------------------------------------- the monitored database down, then back
scenario_monitored_down_then_back() {
unset WHATSAPP_PROVIDER
export THRESHOLD_CONNECTIONS_USED_PCT_WARNING=99 THRESHOLD_CONNECTIONS_USED_PCT_CRITICAL=100
MONITORED_DATABASE_URL="host=$HARNESS_DIR/nowhere dbname=shop user=db_monitor" harness_cron check >/dev/null || true
assert_eq "monitored database down: a critical alert within one check" critical \
	"$(psql_state "SELECT severity FROM alerts WHERE rule = 'database_up' AND status = 'open'")"
MONITORED_DATABASE_URL=$good harness_cron check >/dev/null
assert_eq "back: resolved" 0 "$(psql_state "SELECT count(*) FROM alerts WHERE rule = 'database_up' AND status = 'open'")"
assert_eq "with a recovery message" 1 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'recovery' AND message_content LIKE '%RESOLVED database_up%'")"
}

# ---------------------------------------------------------------- the state database down: cron tick still checks
scenario_state_db_down_tick() {
# The default: MONITORED_DATABASE_URL is DATABASE_URL, one database. With it down, `cron tick`
# (all the shipped crontab and timer run) must still find it: the check's no-database path
# spools the critical alert and sends it, once however many ticks run, and the spool is
# replayed into whatsapp_logs when the database is back.
mock_reset
export WHATSAPP_PROVIDER=meta
harness_unset_env MONITORED_DATABASE_URL
down_sent() {
	mock_requests | jq '[.[] | select(.kind == "meta" and .answer.status == 200
	 and ((.json.text.body // "") | contains("state database down")))] | length'
}
harness_stop_pg
rcs=
for i in 1 2 3; do
	rc=0
	harness_cron tick >"$HARNESS_DIR/tick$i.out" || rc=$?
	rcs+="$rc "
done
assert_eq "state database down: three ticks send its alert once" 1 "$(down_sent)"
assert_contains "the database_up critical, to the critical contact" \
	"$(mock_requests | jq -r '[.[] | select(.kind == "meta")][0] | .to + " " + .json.text.body')" \
	"15550000001 Monitoring"
assert_contains "naming the finding" "$(mock_requests | jq -r '[.[] | select(.kind == "meta")][0].json.text.body')" \
	"CRITICAL database_up"
assert_eq "each tick exits 1: what needs the database could not run" "1 1 1 " "$rcs"
assert_eq "the tick's check step says it spooled and sent" "true|1" \
	"$(jq -r '.steps[] | select(.step == "check") | "\(.spooled)|\(.sent_while_database_down)"' "$HARNESS_DIR/tick1.out")"
assert_eq "the next ticks find it spooled: nothing sent" "true|0" \
	"$(jq -r '.steps[] | select(.step == "check") | "\(.spooled)|\(.sent_while_database_down)"' "$HARNESS_DIR/tick3.out")"
assert_eq "each tick logs that it ran the check without the database" 3 \
	"$(grep -c '"event":"tick_no_database","msg":"state database unavailable: .*running the check without it' "$HARNESS_LOG_DIR/cron.log")"
assert_eq "the spool holds the message and its result" 2 "$(grep -c '"key":"nodb:' "$HARNESS_DIR/spool/outbox.spool")"
harness_start_pg
harness_cron tick >"$HARNESS_DIR/tick4.out" || true
assert_eq "back: the tick's drain replays the spool" 2 \
	"$(jq '.steps[] | select(.step == "drain") | .replayed' "$HARNESS_DIR/tick4.out")"
assert_eq "into whatsapp_logs: sent, with its wamid" "1|sent|wamid" \
	"$(psql_state "SELECT count(*) || '|' || min(status) || '|' || left(min(provider_message_id), 5) FROM whatsapp_logs
	 WHERE idempotency_key LIKE 'nodb:%' AND message_content LIKE '%CRITICAL database_up%'")"
assert_eq "and not sent again" 1 "$(down_sent)"
assert_eq "the spool is emptied" 0 "$(wc -c <"$HARNESS_DIR/spool/outbox.spool")"
harness_set_env MONITORED_DATABASE_URL "$good"
unset WHATSAPP_PROVIDER
}

# ---------------------------------------------------------------- nginx reloaded under load
scenario_nginx_reload() {
if command -v ab >/dev/null; then
	ab -q -c 8 -t 6 -n 1000000 "$HTTP_BASE/monitoring/health" >"$HARNESS_DIR/ab.out" 2>&1 &
	abpid=$!
	for i in 1 2 3; do
		sleep 1.5
		nginx -p "$HARNESS_DIR/nginx/" -c "$HARNESS_DIR/nginx/nginx.conf" -s reload
	done
	wait "$abpid" || true
	assert_eq "nginx reloads under load: no failed request" 0 "$(awk '/^Failed requests/ { print $3 }' "$HARNESS_DIR/ab.out")"
	assert_eq "and no non-2xx answer" "" "$(grep '^Non-2xx' "$HARNESS_DIR/ab.out" || true)"
	printf 'nginx reload under load: %s requests\n' "$(awk '/^Complete requests/ { print $3 }' "$HARNESS_DIR/ab.out")"
else
	fail "ab (apache2-utils) is needed for the nginx reload scenario"
fi
}

# ---------------------------------------------------------------- a webhook flood: 10,000 signed events, 30% duplicates
scenario_webhook_flood() {
# One request thread: it hands each event to the store thread and takes the next request without
# waiting for the commit, so the 16 clients' events still share transactions (a thread that
# waited would commit them one by one: 10,000 transactions).
harness_set_env META_APP_SECRET fault-secret-0123456789
harness_set_env WEBHOOK_THREADS 1
harness_restart_programs
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at, provider,
 provider_message_id, idempotency_key)
 SELECT '+1666' || lpad(g::text, 7, '0'), 'flood', 'critical', 'sent', now(), 'meta', 'wamid.FLOOD' || g, 'flood:' || g
 FROM generate_series(1, 7000) g" >/dev/null
python3 - "$HTTP_BASE/monitoring/whatsapp/webhook" fault-secret-0123456789 >"$HARNESS_DIR/flood.out" <<'PY'
import hashlib, hmac, json, random, sys, threading, urllib.request
url, secret = sys.argv[1], sys.argv[2].encode()
ids = list(range(1, 7001)) + random.Random(7).sample(range(1, 7001), 3000)
random.Random(8).shuffle(ids)
def body(i):
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
        "value": {"metadata": {"phone_number_id": "1234567890"}, "statuses": [{"id": "wamid.FLOOD%d" % i, "status": "delivered", "timestamp": "1763900000",
                                "recipient_id": "1666%07d" % i}]}}]}]}).encode()
codes = {}
lock = threading.Lock()
def worker(part):
    for i in part:
        b = body(i)
        req = urllib.request.Request(url, data=b, method="POST", headers={"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret, b, hashlib.sha256).hexdigest()})
        try:
            code = urllib.request.urlopen(req, timeout=30).status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception:
            code = 0
        with lock:
            codes[code] = codes.get(code, 0) + 1
threads = [threading.Thread(target=worker, args=(ids[k::16],)) for k in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(codes))
PY
assert_eq "flood: every request answered 200" '{"200": 10000}' "$(cat "$HARNESS_DIR/flood.out")"
for i in $(seq 100); do
	[[ $(psql_state "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND attempts = 0") == 0 ]] && break
	sleep 0.1
done
assert_eq "flood: every event stored and processed" "10000|0" \
	"$(psql_state "SELECT count(*) || '|' || count(*) FILTER (WHERE status <> 'done') FROM webhook_events WHERE body LIKE '%FLOOD%'")"
assert_eq "each status applied once" 7000 "$(psql_state "SELECT count(*) FROM webhook_seen WHERE key LIKE 'st:wamid.FLOOD%'")"
assert_eq "every message delivered" 7000 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'flood:%' AND status = 'delivered' AND delivered_at IS NOT NULL")"
# Group commit: the events of requests in flight share a transaction (xmin: the one that wrote the row).
commits=$(psql_state "SELECT count(DISTINCT xmin::text) FROM webhook_events WHERE body LIKE '%FLOOD%'")
printf '  (10000 flood events written by %s transactions)\n' "$commits"
assert_eq "flood: one request thread, events share commits (fewer than 8,000 transactions for 10,000)" \
	1 "$((commits <= 8000))"
# SIGTERM: the webhook answers what is in flight, stops its threads and says what it stored.
harness_restart_programs
assert_contains "webhook stopped cleanly, counting what it stored" "$(cat "$HARNESS_LOG_DIR/webhook.log")" \
	'"event":"webhook_stored","msg":"10000 event(s) in'
}

harness_scenarios provider_500s throttle_burst pair_rate_limit connection_refused timeouts drainer_killed state_db_restarted monitored_down_then_back state_db_down_tick nginx_reload webhook_flood

harness_finish
