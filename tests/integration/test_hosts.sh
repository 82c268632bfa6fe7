#!/usr/bin/env bash
# Several hosts: two complete instances (each its own FastCGI programs, spool and `cron tick`
# loop) sharing the one state database behind one nginx upstream (harness.sh, HARNESS_HOSTS=2).
# A webhook flood from concurrent clients applies every event once; a drain of 2,000 messages,
# one instance SIGKILLed in the middle of it, sends every message, twice only rows the killed
# instance held in flight; a daily report due while both ticks run goes once.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

HARNESS_HOSTS=2
harness_start
mock_start

SECRET=hosts-app-secret-0123456789
PNID=106540352242922 # our number: the envelope's metadata.phone_number_id
REPORT_PHONE=+15550000007
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN hosts-meta-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID "$PNID"
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env META_APP_SECRET "$SECRET"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env SEND_RATE_PER_SECOND 250
harness_set_env SEND_TIMEOUT_MS 2000
harness_set_env SEND_MAX_IN_FLIGHT 16
harness_set_env REPORT_PHONE_1 "$REPORT_PHONE"
harness_restart_programs || fail "programs restarted with the suite's settings"
harness_env_baseline

# upstream_count N ROUTE: requests nginx passed to instance N's ROUTE socket (nginx-upstream.log).
upstream_count() {
	local sock
	sock=$(host_dir "$1")/run/$2.sock
	grep -cF "unix:$sock" "$HARNESS_LOG_DIR/nginx-upstream.log" || true
}
# ticks_pids N: the pids of instance N's ticks so far, comma-separated.
ticks_pids() {
	local f
	f=$(host_dir "$1")/run/ticks.pids
	if [[ -f $f ]]; then paste -sd, "$f"; fi
}

# ---------------------------------------------------------------- a webhook flood
scenario_webhook_flood() {
# 150 messages we sent, each to get a delivered and a read status; 100 inbound messages from a
# number that is nobody's (audited, not answered). 400 events, one body each, a quarter of them
# posted twice (Meta retries), 500 signed POSTs in a random order from 8 clients at once.
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at,
 provider, provider_message_id, idempotency_key)
 SELECT '+15550001001', 'flood ' || g, 'warning', 'sent', now(), 'meta', 'wamid.FLOOD' || g,
 'flood:' || g FROM generate_series(1, 150) g" >/dev/null
codes=$(python3 - "$HTTP_BASE/monitoring/whatsapp/webhook" "$SECRET" "$PNID" <<'PY'
import collections, hashlib, hmac, http.client, json, random, sys, threading, time, urllib.parse
url, secret, pnid = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
u = urllib.parse.urlsplit(url)
t0 = int(time.time()) - 600
def envelope(value):
    value = dict(messaging_product="whatsapp",
                 metadata={"display_phone_number": "15550783881", "phone_number_id": pnid}, **value)
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398",
                                  "changes": [{"field": "messages", "value": value}]}]})
bodies = []
for i in range(1, 151):
    for k, st in enumerate(("delivered", "read")):
        bodies.append(envelope({"statuses": [{"id": "wamid.FLOOD%d" % i, "status": st,
                                              "timestamp": str(t0 + 2 * i + k),
                                              "recipient_id": "15550001001"}]}))
for i in range(1, 101):
    bodies.append(envelope({"contacts": [{"profile": {"name": "Flood"}, "wa_id": "15557770000"}],
                            "messages": [{"from": "15557770000", "id": "wamid.FLOODIN%d" % i,
                                          "timestamp": str(int(time.time())), "type": "text",
                                          "text": {"body": "hello %d" % i}}]}))
posts = bodies + bodies[::4]
random.shuffle(posts)
codes = collections.Counter()
lock = threading.Lock()
def client(mine):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    for body in mine:
        b = body.encode()
        sig = "sha256=" + hmac.new(secret, b, hashlib.sha256).hexdigest()
        try:
            conn.request("POST", u.path, b, {"Content-Type": "application/json",
                                             "X-Hub-Signature-256": sig})
            r = conn.getresponse()
            r.read()
            code = r.status
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            code = 0
        with lock:
            codes[code] += 1
threads = [threading.Thread(target=client, args=(posts[k::8],)) for k in range(8)]
t = time.time()
for th in threads: th.start()
for th in threads: th.join()
print(" ".join("%s:%d" % kv for kv in sorted(codes.items())), "%.1fs" % (time.time() - t))
PY
)
printf 'webhook flood: 500 POSTs, 8 clients: %s\n' "$codes"
assert_match "the flood: every one of 500 POSTs answered 200" '^200:500 ' "$codes"
a=$(upstream_count 1 webhook) b=$(upstream_count 2 webhook)
printf 'answered by instance 1: %s, instance 2: %s\n' "$a" "$b"
assert_eq "nginx passed them to the two instances" 500 "$((a + b))"
assert_eq "both instances took part (each over 100)" yes "$( ((a > 100 && b > 100)) && echo yes || echo "$a/$b")"
# Processing follows the answer, one batch at a time over all processes (an advisory lock): an
# event stored while the other instance's batch ran waits for the next request or tick.
pending() { psql_state "SELECT count(*) FROM webhook_events WHERE status = 'pending'"; }
wait_for 10 eval '[[ $(pending) == 0 ]]' || true
left=$(pending)
printf 'left pending for a tick 10 s after the flood: %s\n' "$left"
if ((left > 0)); then host_cron 1 drain >/dev/null; fi
assert_eq "every POST stored once, every event processed" "500|500|0" \
	"$(psql_state "SELECT count(*) || '|' || count(*) FILTER (WHERE status = 'done') || '|'
	 || count(*) FILTER (WHERE status = 'failed') FROM webhook_events")"
assert_eq "each (message, status) applied once: 300 keys" 300 \
	"$(psql_state "SELECT count(*) FROM webhook_seen WHERE key LIKE 'st:wamid.FLOOD%'")"
assert_eq "all 150 messages read, with both times as Meta sent them" 150 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'flood:%'
	 AND status = 'read' AND delivered_at IS NOT NULL AND read_at IS NOT NULL
	 AND read_at - delivered_at = interval '1 second'")"
assert_eq "100 inbound messages, one audit row each" "100|100" \
	"$(psql_state "SELECT count(*) || '|' || count(DISTINCT provider_message_id) FROM whatsapp_logs
	 WHERE direction = 'inbound' AND provider_message_id LIKE 'wamid.FLOODIN%'")"
assert_eq "nobody's number gets no reply" 0 \
	"$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '+15557770000' AND direction = 'outbound'")"
}

# ---------------------------------------------------------------- a drain, one instance killed
scenario_drain_kill() {
# 2,000 queued messages, each to its own number (the mock's record names the row by its "to").
# The provider takes 150 ms to answer, so that a drainer has requests in flight (recorded by the
# mock, not yet by us) when it is killed.
mock_default '{"delay_ms": 150}'
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 SELECT '+1666' || lpad(g::text, 7, '0'), 'drain ' || g, 'warning', 'drain:' || g
 FROM generate_series(1, 2000) g" >/dev/null
sent() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE idempotency_key LIKE 'drain:%' AND status = 'sent'"; }
# What a drainer of instance 2 holds: rows 'sending' claimed by one of its processes (its
# ticks, its FastCGI programs; claimed_by is host:pid).
held_by_2() {
	local pids
	local prog pids=0
	for prog in check test-alert tenants alertmanager; do
		pids+=$(pidfile_pids "$(host_dir 2)/run/$prog.pid" | sed 's/^/,/' | tr -d '\n')
	done
	pids+=,$(ticks_pids 2)
	pids=${pids%,}
	psql_state "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM whatsapp_logs
	 WHERE idempotency_key LIKE 'drain:%' AND status = 'sending'
	 AND split_part(claimed_by, ':', 2)::bigint IN ($pids)"
}
host_ticker_start 1 0.2
host_ticker_start 2 0.2
# The ticks take turns (one holds the tick lock and drains); the FastCGI programs drain after
# their answers too (app_drain, at most 200 rows): test alerts through nginx, to both instances,
# make drainers on both hosts at once.
(
	for i in $(seq 200); do
		curl -s -o /dev/null --max-time 10 -X POST -H "Authorization: Bearer $API_TOKEN" \
			-d '{"severity":"warning","message":"hosts"}' "$HTTP_BASE/monitoring/test-alert" || true
		sleep 0.2
	done
) &
alerts_pid=$!
t0=$SECONDS
inflight='' at=''
while ((SECONDS - t0 < 120)); do
	n=$(sent)
	((n >= 1800)) && break
	if ((n >= 500)); then
		inflight=$(held_by_2)
		if [[ -n $inflight ]]; then
			host_kill 2
			at=$n
			break
		fi
	fi
	sleep 0.05
done
assert_ne "instance 2 held rows in flight mid-drain (the kill means something)" "" "$at"
# Its processes are dead: what it held 'sending' now is all it can have sent unrecorded.
killed=$(held_by_2) drainers=0
if [[ -n $killed ]]; then
	drainers=$(psql_state "SELECT count(DISTINCT claimed_by) FROM whatsapp_logs WHERE id IN ($killed)")
fi
nin=$(awk -F, '{print NF}' <<<"$killed")
printf 'instance 2 SIGKILLed after %s of 2000 were sent, holding %s rows in flight\n' "${at:-?}" "$nin"
# nginx goes on with the instance that is left.
ok=0
for i in $(seq 10); do
	http GET /monitoring/health
	[[ $HTTP_STATUS == 200 ]] && ok=$((ok + 1))
done
assert_eq "with instance 2 dead, nginx answers from instance 1" 10 "$ok"
# Their lease (paced start + SEND_TIMEOUT_MS per round + 60 s) runs out: as if that minute had
# passed, instance 1's next claim queues them again. HOSTS_WAIT_LEASE=1 waits for it instead
# (up to about two minutes more: a tick claims up to 1,000 rows, SEND_TIMEOUT_MS per 32).
if [[ -n $killed && ${HOSTS_WAIT_LEASE:-0} != 1 ]]; then
	psql_state "UPDATE whatsapp_logs SET lease_until = now() - interval '1 second'
	 WHERE id IN ($killed) AND status = 'sending'" >/dev/null
fi
wait_for 240 eval '[[ $(sent) == 2000 ]]' || true
kill "$alerts_pid" 2>/dev/null || true
wait "$alerts_pid" 2>/dev/null || true
host_ticker_stop 1
printf 'drain of 2000 with a kill: %d s\n' $((SECONDS - t0))
assert_eq "every one of the 2,000 rows sent" "2000|0" \
	"$(psql_state "SELECT count(*) FILTER (WHERE status = 'sent') || '|' || count(*) FILTER (WHERE status <> 'sent')
	 FROM whatsapp_logs WHERE idempotency_key LIKE 'drain:%'")"
# The mock's record: one request per message, a second only for a row the killed one held.
per_message=$(jq -r 'select(.kind == "meta" and (.to // "" | startswith("1666"))) | .to' "$HARNESS_DIR/mock.jsonl" |
	sort | uniq -c | awk '{print $1}' | sort -n | uniq -c | awk '{printf "%s sent %s time(s); ", $1, $2}')
mapfile -t twice < <(jq -r 'select(.kind == "meta" and (.to // "" | startswith("1666"))) | .to' "$HARNESS_DIR/mock.jsonl" |
	sort | uniq -d)
printf 'mock: %s\n' "$per_message"
assert_eq "the provider got all 2,000 messages" 2000 \
	"$(jq -r 'select(.kind == "meta" and (.to // "" | startswith("1666"))) | .to' "$HARNESS_DIR/mock.jsonl" | sort -u | wc -l)"
assert_eq "none more than twice" "" \
	"$(jq -r 'select(.kind == "meta" and (.to // "" | startswith("1666"))) | .to' "$HARNESS_DIR/mock.jsonl" |
		sort | uniq -c | awk '$1 > 2')"
assert_eq "at most the killed instance's in-flight rows twice" yes \
	"$( ((${#twice[@]} <= nin)) && echo yes || echo "${#twice[@]} twice, $nin in flight")"
outside=0
for to in "${twice[@]}"; do
	id=$(psql_state "SELECT id FROM whatsapp_logs WHERE phone_number = '+$to'")
	[[ ,$killed, == *,$id,* ]] || outside=$((outside + 1))
done
assert_eq "and each one sent twice was one of them" 0 "$outside"
# A drainer records each result as its answer comes: what it had sent unrecorded when killed
# is at most its requests in flight, SEND_MAX_IN_FLIGHT (16) per drainer holding rows.
printf 'sent twice: %d (of %d held by %d drainers of instance 2 at the kill)\n' "${#twice[@]}" "$nin" "$drainers"
assert_eq "sent twice: at most 16 per drainer killed (the requests in flight)" yes \
	"$( ((${#twice[@]} <= 16 * drainers)) && echo yes || echo "${#twice[@]} > 16 x $drainers")"
# Who recorded the sends (claimed_by stays on a sent row): each instance's ticks and programs.
declare -A who=()
for n in 1 2; do
	for pid in $(ticks_pids "$n" | tr , ' '); do who[$pid]="instance $n tick"; done
	for prog in check test-alert tenants alertmanager; do
		for pid in $(pidfile_pids "$(host_dir "$n")/run/$prog.pid"); do who[$pid]="instance $n $prog"; done
	done
done
while IFS='|' read -r pid cnt; do
	printf '  sent by %s (pid %s): %s\n' "${who[$pid]:-another process}" "$pid" "$cnt"
done < <(psql_state "SELECT split_part(claimed_by, ':', 2), count(*) FROM whatsapp_logs
 WHERE idempotency_key LIKE 'drain:%' AND status = 'sent' GROUP BY 1 ORDER BY 2 DESC")
assert_eq "no result dropped as stale (no two drainers held one row)" 0 \
	"$(cat "$HARNESS_LOG_DIR"/{cron,test-alert}.log "$(host_dir 2)"/log/{cron,test-alert}.log | grep -c stale_result || true)"
}

# ---------------------------------------------------------------- a scheduled report
scenario_report_once() {
reports() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = 'report' AND idempotency_key LIKE 'report:$1:%'"; }
to_report_phone() { jq -r "select(.to == \"${REPORT_PHONE#+}\") | .seq" "$HARNESS_DIR/mock.jsonl" | wc -l; }
base=$(to_report_phone)
host_ticker_start 1 0.1
host_ticker_start 2 0.1
wait_for 60 eval '[[ $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = '\''report'\'' AND status = '\''sent'\''") == 2 ]]' ||
	fail "the reports were sent by a tick"
# Both loops go on ticking over the same period.
sleep 3
assert_eq "both ticks running: one daily report" 1 "$(reports daily)"
assert_eq "one weekly report" 1 "$(reports weekly)"
# The next period comes while both run: the slots of this one forgotten, as if a day had passed.
psql_state "DELETE FROM schedule_runs WHERE kind LIKE 'report%'; DELETE FROM whatsapp_logs WHERE kind = 'report'" >/dev/null
wait_for 60 eval '[[ $(psql_state "SELECT count(*) FROM whatsapp_logs WHERE kind = '\''report'\'' AND status = '\''sent'\''") == 2 ]]' ||
	fail "the reports were sent again by a tick"
sleep 3
host_ticker_stop 1
host_ticker_stop 2
assert_eq "due again while both run: one daily report" 1 "$(reports daily)"
assert_eq "one weekly report" 1 "$(reports weekly)"
assert_eq "the provider got each report once: 4 messages to REPORT_PHONE_1" 4 "$(($(to_report_phone) - base))"
t1=$(wc -l <"$HARNESS_DIR/log/ticks.jsonl") t2=$(wc -l <"$(host_dir 2)/log/ticks.jsonl")
did1=$(jq -c 'select(.skipped == null)' "$HARNESS_DIR/log/ticks.jsonl" | wc -l)
did2=$(jq -c 'select(.skipped == null)' "$(host_dir 2)/log/ticks.jsonl" | wc -l)
skipped=$(cat "$HARNESS_DIR/log/ticks.jsonl" "$(host_dir 2)/log/ticks.jsonl" | jq -c 'select(.skipped != null)' | wc -l)
printf 'ticks: instance 1 %s (%s ran), instance 2 %s (%s ran), %s skipped (another tick running)\n' \
	"$t1" "$did1" "$t2" "$did2" "$skipped"
assert_eq "both instances' ticks ran" yes "$( ((did1 > 0 && did2 > 0)) && echo yes || echo "$did1/$did2")"
assert_eq "and overlapped (some found the other's tick running)" yes "$( ((skipped > 0)) && echo yes || echo no)"
}

harness_scenarios webhook_flood drain_kill report_once
harness_finish
