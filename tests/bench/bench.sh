#!/usr/bin/env bash
# tests/bench/bench.sh: the figures `make bench` prints (never a test: nothing here fails on a
# number). Runs its own throwaway stack (the integration harness) and the mock provider.
#
#   signed webhook: a ~1.7 KB status notification, signed, POSTed through nginx by `ab` at 32
#   connections (keep-alive): verified, stored, acknowledged, then processed (deduplicated
#   after the first) by the webhook program. Beside it, in the same run and behind the same
#   nginx: a FastCGI program that does nothing (tests/bench/noop.c) and nginx answering
#   `return 200` itself, taking turns within each round. requests/s, p50 and p99 (ms), and the
#   webhook's share of the do-nothing figure.
#   resident memory of each program at start, after its first requests and at the end, and
#   the peak of two `cron tick`s (one with work due, one with nothing due).
#   the seller's GET /tenants/me with 10,000 tenants stored, 32 connections (keep-alive),
#   authenticated by a JWT from `cron tenant-token` (HS256 verified, the tenant loaded by
#   external_id) and by a session token (sha256 looked up in tenant_sessions, the tenant
#   loaded by id), beside the do-nothing program answering the same GET, rounds interleaved.
#   outbox drain: 1,000 messages to 1,000 numbers queued, then one `cron drain` against the
#   mock answering in 0 ms and in 250 ms, at the default rate cap (SEND_RATE_PER_SECOND=80:
#   12.5 s is the floor).
#   email: 1,000 emails to 1,000 addresses queued on the email account, then one `cron drain`
#   through a real SMTP server on loopback (tests/mock/smtp_server.py, Debian's aiosmtpd,
#   STARTTLS with a certificate made here, AUTH, each message written to a Maildir) at
#   SMTP_RATE_PER_SECOND=1000 (the cap out of the way: the figure is what the drain and the
#   server manage; the default cap, 5/s, makes 200 s the floor). BENCH_ONLY=email prints only it.
#   fallbacks to email: 1,000 sellers' WhatsApp alerts failed for good (131026), their chain
#   {email}, then one `cron drain`: the fallback step queues each seller's email step (its
#   address read from its own tenant row, linked by follows_id) and the drain sends them through
#   the same SMTP server: seconds until all 1,000 are in the Maildir.
#   DATABASE_POOLING: the signed webhook and GET /monitoring/alerts with the state database's
#   statements prepared per connection (session) and unnamed (transaction), direct, and
#   unnamed through PgBouncer in transaction mode, req/s side by side.
#   POST /events: one event a request and batches of 10, each request signed with its own
#   webhook-id (tests/bench/events_load.c, in C so that the client's own CPU on the same two
#   cores stays small), 32 connections, durable commits, beside the do-nothing program fed the
#   same requests by the same client, run just before and after each (BENCH_EVENT_ROUNDS, 5,
#   rounds of BENCH_EVENT_REQUESTS, 4,000, requests; a quarter as many batches).
#   the flood (issue 17): 50,000 order.placed events for one seller, in signed batches of 100,
#   with one event for each of 100 other sellers spread through them (tests/bench/flood.py, 8
#   connections), while `cron tick` runs back to back (dispatch, then the drain, which coalesces
#   each recipient's waiting alerts); the mock answers in 250 ms, the rate cap is 80/s, one
#   recipient takes one message every RECIPIENT_MIN_INTERVAL (6 s). p50 and p99 from ingest
#   (events.received_at) to send (the carrying message's sent_at) for the 100 sellers' alerts,
#   and how many messages the flood became. One run, durable commits (BENCH_FLOOD=N events;
#   BENCH_ONLY=flood prints only it).
# Each figure is the median of BENCH_ROUNDS (default 3) rounds. BENCH_ONLY=webhook skips the drain;
# BENCH_ONLY=events prints only the POST /events table; BENCH_ONLY=ingest the durable signed
# webhook table and the POST /events table (both ingest paths, the 40% goal of issue 17);
# BENCH_ONLY=pooling prints only the DATABASE_POOLING table;
# BENCH_PERF=FILE records (perf) where one more webhook round spends its CPU.
# The throwaway cluster commits durably, as a real one does (fsync, synchronous_commit and
# full_page_writes on: HARNESS_PG_DURABLE=1): those are the headline figures. The webhook and
# the drain are then measured again with all three off, the way the tests run, in a second
# table labelled so (same stack: the settings are changed with ALTER SYSTEM and a reload).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness.sh"

ROUNDS=${BENCH_ROUNDS:-3}
N=${BENCH_MESSAGES:-1000}
HARNESS_PG_DURABLE=1 harness_start >/dev/null
mock_start
RUN=$HARNESS_DIR/run
rss_kb() { awk '/^Rss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
declare -A RSS_START=() RSS_MID=()
for prog in $MONITORING_PROGRAMS; do
	for pid in $(pidfile_pids "$RUN/$prog.pid"); do RSS_START[$pid]=$(rss_kb "$pid"); done
done
export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=bench-token-abcdefghijklmnop \
	META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 SEND_RATE_PER_SECOND=80

# durability on|off: the cluster's commits durable (its defaults) or not (as in the tests). Prints
# what the webhook's sessions now run with.
durability() {
	local name
	for name in fsync synchronous_commit full_page_writes; do
		if [[ $1 == on ]]; then
			psql_state "ALTER SYSTEM RESET $name" >/dev/null
		else
			psql_state "ALTER SYSTEM SET $name = off" >/dev/null
		fi
	done
	psql_state "SELECT pg_reload_conf()" >/dev/null
	sleep 1
	psql_state "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' ||
	 current_setting('synchronous_commit')"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

drain_round() { # drain_round LATENCY_MS: seconds to drain N messages
	psql_state "TRUNCATE whatsapp_logs CASCADE; DELETE FROM recipient_slots;
	 UPDATE send_rate SET next_slot = now();
	 INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
	 SELECT '+1555' || lpad(g::text, 7, '0'), 'bench message ' || g, 'critical', 'bench:' || g
	 FROM generate_series(1, $N) g" >/dev/null
	mock_reset
	mock_default "{\"delay_ms\": $1}" >/dev/null
	local t0 t1 sent
	t0=$(date +%s.%N)
	harness_cron drain >/dev/null
	t1=$(date +%s.%N)
	sent=$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'sent'")
	if [[ $sent != "$N" ]]; then
		echo "bench: only $sent of $N sent at $1 ms" >&2
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

# ---------------------------------------------------------------- email over SMTP
# shellcheck source=tests/integration/smtp.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/smtp.sh"
email_round() { # email_round: seconds to send N emails (after a warm-up of the server)
	local acct t0 t1 sent arrived
	acct=$(psql_state "SELECT id FROM accounts WHERE name = 'email'")
	smtp_clear
	psql_state "TRUNCATE whatsapp_logs CASCADE; DELETE FROM recipient_slots; DELETE FROM send_rate;
	 INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key,
	   channel, account_id)
	 SELECT 'ops' || g || '@example.test', 'bench message ' || g || E'\\nsecond line', 'critical',
	   'bench:mail:' || g, 'email', $acct FROM generate_series(1, $N) g" >/dev/null
	t0=$(date +%s.%N)
	harness_cron drain >/dev/null
	t1=$(date +%s.%N)
	sent=$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE status = 'sent'")
	arrived=$(find "$SMTP_DIR/maildir/new" -type f | wc -l)
	if [[ $sent != "$N" || $arrived != "$N" ]]; then
		echo "bench: $sent of $N emails sent, $arrived arrived" >&2
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
fallback_round() { # fallback_round: seconds from N failed WhatsApp alerts to N emails sent
	local t0 t1 sent arrived
	smtp_clear
	psql_state "TRUNCATE whatsapp_logs CASCADE; DELETE FROM tenants; DELETE FROM recipient_slots;
	 DELETE FROM send_rate;
	 INSERT INTO tenants (external_id, display_name, whatsapp_number, whatsapp_verified_at, email)
	 SELECT 'bench-' || g, 'Shop ' || g, '+2349' || lpad(g::text, 9, '0'), now(),
	   'owner' || g || '@shop.example.test' FROM generate_series(1, $N) g;
	 INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key,
	   status, failed_at, last_error_code, channel, account_id, tenant_id, fallback_chain, fallback_at)
	 SELECT t.whatsapp_number, 'Payment FAILED #' || t.id || E'\\nsecond line', 'critical',
	   'bench:fb:' || t.id, 'failed', now(), '131026', 'whatsapp', 1, t.id, '{email}',
	   now() + interval '300 seconds' FROM tenants t" >/dev/null
	t0=$(date +%s.%N)
	harness_cron drain >/dev/null
	t1=$(date +%s.%N)
	sent=$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE channel = 'email' AND status = 'sent' AND follows_id IS NOT NULL")
	arrived=$(find "$SMTP_DIR/maildir/new" -type f | wc -l)
	if [[ $sent != "$N" || $arrived != "$N" ]]; then
		echo "bench: $sent of $N fallback emails sent, $arrived arrived" >&2
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}
email_table() {
	smtp_check_installed || return 0
	smtp_setup
	smtp_start tls bench-user:bench-pass-1234
	local secs fsecs
	export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT SMTP_FROM='Bench <bench@example.test>' \
		SMTP_CA_FILE=$SMTP_DIR/cert.pem SMTP_USERNAME=bench-user \
		SMTP_PASSWORD=bench-pass-1234 SMTP_RATE_PER_SECOND=1000
	secs=$(for _ in $(seq "$ROUNDS"); do email_round; done | median)
	fsecs=$(for _ in $(seq "$ROUNDS"); do fallback_round; done | median)
	unset SMTP_URL SMTP_FROM SMTP_CA_FILE SMTP_USERNAME SMTP_PASSWORD SMTP_RATE_PER_SECOND
	smtp_stop
	printf '\n%-44s %10s %12s %10s\n' "email drain (median of $ROUNDS)" "messages" "seconds" "msg/s"
	printf '%-44s %10d %12.2f %10.1f\n' "aiosmtpd on loopback, STARTTLS + AUTH" "$N" "$secs" \
		"$(awk -v n="$N" -v s="$secs" 'BEGIN { print n / s }')"
	printf '%-44s %10d %12.2f %10.1f\n' "floor at the default SMTP_RATE_PER_SECOND" "$N" \
		"$(awk -v n="$N" 'BEGIN { print n / 5 }')" 5
	printf '%-44s %10d %12.2f %10.1f\n' "fallbacks to email (failed WhatsApp -> mail)" "$N" "$fsecs" \
		"$(awk -v n="$N" -v s="$fsecs" 'BEGIN { print n / s }')"
}
if [[ ${BENCH_ONLY:-} == email ]]; then
	durability on >/dev/null
	email_table
	harness_finish >/dev/null 2>&1 || true
	exit 0
fi

# ---------------------------------------------------------------- the signed webhook
REQS=${BENCH_REQUESTS:-5000}
# noop_start: the do-nothing program (again after harness_restart_programs, which stops every
# program with a pid file and starts only the service's own).
noop_start() {
	fcgi_start "$RUN" noop 2 "$MONITORING_ENV_FILE" "$BENCH_NOOP_DIR" >/dev/null ||
		{ echo "bench: the do-nothing program did not start" >&2; exit 1; }
}
noop_start
cat >>"$HARNESS_DIR/nginx/monitoring.conf" <<EOF
location = /bench/noop { client_max_body_size 4m; fastcgi_pass unix:$RUN/noop.sock; }
location = /bench/static { return 200 '{"received":true}'; }
EOF
nginx -p "$HARNESS_DIR/nginx/" -c "$HARNESS_DIR/nginx/nginx.conf" -s reload
sleep 1
secret=$(env_get "$MONITORING_ENV_FILE" META_APP_SECRET)
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, status, sent_at,
 provider, provider_message_id, idempotency_key) VALUES ('+16505551234', 'bench', 'critical',
 'sent', now(), 'meta', 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA', 'bench:wh')" >/dev/null
body=$HARNESS_DIR/status.json
python3 - "$body" <<'PY'
import json, sys
status = {"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "status": "delivered",
          "timestamp": "1763900000", "recipient_id": "16505551234",
          "conversation": {"id": "7c3f0a8e2b1d4c6f9e8a7b6c5d4e3f2a", "expiration_timestamp": "1763986400",
                           "origin": {"type": "utility"}},
          "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"},
          "biz_opaque_callback_data": "alert:8812:critical:" + "x" * 900}
value = {"messaging_product": "whatsapp",
         "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1234567890"},
         "statuses": [status]}
doc = {"object": "whatsapp_business_account",
       "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
open(sys.argv[1], "w").write(json.dumps(doc, indent=1))
PY
sig=$(openssl dgst -sha256 -hmac "$secret" -r <"$body" | cut -d' ' -f1)
ab_round() { # ab_round PATH: "rps p50 p99"
	local out
	out=$(ab -q -k -c 32 -n "$REQS" -p "$body" -T application/json \
		-H "X-Hub-Signature-256: sha256=$sig" "$HTTP_BASE$1" 2>&1)
	if grep -q '^Non-2xx responses' <<<"$out"; then
		echo "bench: $1 answered non-2xx: $(grep '^Non-2xx' <<<"$out")" >&2
	fi
	awk '/^Requests per second/ { r = $4 } $1 == "50%" { a = $2 } $1 == "99%" { b = $2 }
		END { print r, a, b }' <<<"$out"
}
# The three targets take turns within each round, so a slow spell of this (virtual) machine
# falls on all of them alike, and the do-nothing program runs again right after the webhook:
# the webhook's share is its figure against the mean of the do-nothing runs just before and
# after it, the median of the rounds' own shares.
targets=("webhook (verify, store, process)|/monitoring/whatsapp/webhook"
	"FastCGI program doing nothing|/bench/noop" "nginx return 200|/bench/static")
webhook_table() { # webhook_table TITLE
	local t rounds
	local -a results=()
	printf '\n%-44s %10s %12s %10s\n' "signed webhook, 32 connections (median of $ROUNDS)" "req/s" "p50 ms" "p99 ms"
	printf '%s\n' "$1"
	for t in "${!targets[@]}"; do
		ab_round "${targets[$t]#*|}" >/dev/null # warm-up
	done
	if ((${#RSS_MID[@]} == 0)); then
		for pid in $(pidfile_pids "$RUN/webhook.pid"); do RSS_MID[$pid]=$(rss_kb "$pid"); done
	fi
	local shares=() before after wh
	for _ in $(seq "$ROUNDS"); do
		before=$(ab_round "${targets[1]#*|}")
		wh=$(ab_round "${targets[0]#*|}")
		after=$(ab_round "${targets[1]#*|}")
		results[0]+="$wh"$'\n'
		results[1]+="$before"$'\n'"$after"$'\n'
		results[2]+="$(ab_round "${targets[2]#*|}")"$'\n'
		shares+=("$(awk -v e="${wh%% *}" -v a="${before%% *}" -v b="${after%% *}" 'BEGIN { printf "%.0f", 200 * e / (a + b) }')")
	done
	for t in "${!targets[@]}"; do
		rounds=${results[t]}
		printf '%-44s %10.0f %12s %10s\n' "${targets[$t]%%|*}" "$(awk 'NF { print $1 }' <<<"$rounds" | median)" \
			"$(awk 'NF { print $2 }' <<<"$rounds" | median)" "$(awk 'NF { print $3 }' <<<"$rounds" | median)"
	done
	printf '%-44s %9s%%   (rounds: %s)\n' "webhook / doing nothing (median per round)" \
		"$(printf '%s\n' "${shares[@]}" | median)" "${shares[*]}"
}
# DATABASE_POOLING: the same endpoints with the state database's statements prepared once per
# connection (session, the default) and unnamed, parsed and planned each time (transaction, as
# a transaction-mode pooler needs), both direct to PostgreSQL, then transaction through
# PgBouncer (harness.sh pooler_start, pool_mode=transaction, default_pool_size 8), durable
# commits: the signed webhook (32 connections) and GET /monitoring/alerts (8 connections,
# several reads a request). The modes take turns within each round (the programs restarted
# with each).
ab_get() { # ab_get PATH: requests/s
	ab -q -k -c 8 -n "$REQS" -H "Authorization: Bearer $API_TOKEN" "$HTTP_BASE$1" 2>&1 |
		awk '/^Requests per second/ { print $4 }'
}
pooling_mode() { # pooling_mode session|transaction|pgbouncer: the programs restarted so
	local direct
	direct=$(env_get "$HARNESS_DIR/monitoring.env.start" DATABASE_URL)
	if [[ $1 == pgbouncer ]]; then
		harness_set_env DATABASE_URL "host=$POOLER_DIR port=$POOLER_PORT dbname=monitoring user=monitor"
		harness_set_env DATABASE_POOLING transaction
	else
		harness_set_env DATABASE_URL "$direct"
		harness_set_env DATABASE_POOLING "$1"
	fi
	harness_restart_programs >/dev/null
}
pooling_table() {
	local mode modes=(session transaction)
	local -A wh=() al=()
	pooler_start 8 && modes+=(pgbouncer)
	printf '\n%-40s %9s %12s %12s\n' "DATABASE_POOLING (median of $ROUNDS), req/s" "session" "transaction" "tx pgbouncer"
	for _ in $(seq "$ROUNDS"); do
		for mode in "${modes[@]}"; do
			pooling_mode "$mode"
			ab_round /monitoring/whatsapp/webhook >/dev/null # warm-up
			ab_get /monitoring/alerts >/dev/null
			wh[$mode]+="$(ab_round /monitoring/whatsapp/webhook | awk '{ print $1 }')"$'\n'
			al[$mode]+="$(ab_get /monitoring/alerts)"$'\n'
		done
	done
	harness_set_env DATABASE_URL "$(env_get "$HARNESS_DIR/monitoring.env.start" DATABASE_URL)"
	harness_unset_env DATABASE_POOLING
	harness_restart_programs >/dev/null
	noop_start # for the seller's table below
	pooler_stop
	med() { [[ -n ${1//[[:space:]]/} ]] && printf '%.0f' "$(awk 'NF' <<<"$1" | median)" || echo -; }
	printf '%-40s %9s %12s %12s\n' "signed webhook" "$(med "${wh[session]}")" \
		"$(med "${wh[transaction]}")" "$(med "${wh[pgbouncer]:-}")"
	printf '%-40s %9s %12s %12s\n' "GET /monitoring/alerts" "$(med "${al[session]}")" \
		"$(med "${al[transaction]}")" "$(med "${al[pgbouncer]:-}")"
}
# ---------------------------------------------------------------- POST /events
# Every Standard Webhooks request needs its own webhook-id and signature (the same one again is a
# replay, answered from the record), which ab cannot send: tests/bench/events_load.c builds
# them up front and sends them over 32 keep-alive connections. One event a request, and
# batches of 10, beside the do-nothing program fed the same requests by the same client,
# taking turns within each round.
EV_REQS=${BENCH_EVENT_REQUESTS:-4000}
EV_ROUNDS=${BENCH_EVENT_ROUNDS:-5}
psql_state "INSERT INTO tenants (external_id, display_name) VALUES ('bench-events', 'Bench Events')
 ON CONFLICT (external_id) DO NOTHING" >/dev/null
ev_round() { # ev_round PATH EVENTS_PER_REQUEST REQUESTS: "rps p50 p99"
	local out
	out=$("$BENCH_NOOP_DIR/events_load" 127.0.0.1 "${HTTP_BASE##*:}" "$1" \
		"$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)" bench-events "$3" 32 "$2")
	[[ ${out##* } == 0 ]] || echo "bench: $1 answered ${out##* } non-2xx" >&2
	printf '%s\n' "${out% *}"
}
# Each round: the do-nothing program, one event a request, the do-nothing program again,
# batches of 10 (a quarter as many requests), the do-nothing program again. Each POST /events
# figure is compared with the mean of the do-nothing runs just before and after it: this
# (virtual) machine's speed drifts by a factor of two within minutes (steal), and a figure
# measured a minute apart is no reference. The shares printed are the medians of the rounds'.
events_table() { # events_table TITLE
	local r n0 n1 n2 one ten noop=() ev1=() ev10=() share1=() share10=()
	printf '\n%-44s %10s %12s %10s\n' "POST /events, 32 connections (median of $EV_ROUNDS)" "req/s" "p50 ms" "p99 ms"
	printf '%s\n' "$1"
	ev_round /events 1 1000 >/dev/null # warm-up
	ev_round /bench/noop 1 1000 >/dev/null
	for r in $(seq "$EV_ROUNDS"); do
		n0=$(ev_round /bench/noop 1 "$EV_REQS")
		one=$(ev_round /events 1 "$EV_REQS")
		n1=$(ev_round /bench/noop 1 "$EV_REQS")
		ten=$(ev_round /events 10 $((EV_REQS / 4)))
		n2=$(ev_round /bench/noop 1 "$EV_REQS")
		noop+=("$n0" "$n1" "$n2")
		ev1+=("$one")
		ev10+=("$ten")
		share1+=("$(awk -v e="${one%% *}" -v a="${n0%% *}" -v b="${n1%% *}" 'BEGIN { printf "%.0f", 200 * e / (a + b) }')")
		share10+=("$(awk -v e="${ten%% *}" -v a="${n1%% *}" -v b="${n2%% *}" 'BEGIN { printf "%.0f", 200 * e / (a + b) }')")
	done
	ev_row() { # ev_row LABEL "rps p50 p99"...
		local label=$1
		shift
		printf '%-44s %10.0f %12s %10s\n' "$label" "$(printf '%s\n' "$@" | awk '{ print $1 }' | median)" \
			"$(printf '%s\n' "$@" | awk '{ print $2 }' | median)" "$(printf '%s\n' "$@" | awk '{ print $3 }' | median)"
	}
	ev_row "POST /events, one event" "${ev1[@]}"
	ev_row "POST /events, batches of 10 events" "${ev10[@]}"
	ev_row "FastCGI program doing nothing (same client)" "${noop[@]}"
	printf '%-44s %9s%%   (rounds: %s)\n' "POST /events, one event / doing nothing" \
		"$(printf '%s\n' "${share1[@]}" | median)" "${share1[*]}"
	printf '%-44s %9s%%   (rounds: %s)\n' "POST /events, batches of 10 / doing nothing" \
		"$(printf '%s\n' "${share10[@]}" | median)" "${share10[*]}"
	echo "(events stored: $(psql_state "SELECT count(*) FROM events"), in $(psql_state "SELECT count(*) FROM event_deliveries") deliveries)"
}
# ---------------------------------------------------------------- the flood
FLOOD=${BENCH_FLOOD:-50000}
FLOOD_OTHERS=100
flood_table() {
	local i flag=$HARNESS_DIR/flood.ticking ticker out t0 t1 left
	# Events the rows above stored (a tenant without a number) are not the flood's to dispatch.
	psql_state "TRUNCATE events, event_deliveries CASCADE; TRUNCATE whatsapp_logs CASCADE;
	 DELETE FROM recipient_slots; UPDATE send_rate SET next_slot = now();
	 INSERT INTO tenants (external_id, display_name, whatsapp_number, whatsapp_verified_at)
	 VALUES ('flood-seller', 'Flood', '+2349040000000', now())
	 ON CONFLICT (external_id) DO NOTHING;
	 INSERT INTO tenants (external_id, display_name, whatsapp_number, whatsapp_verified_at)
	 SELECT 'flood-o' || g, 'Other ' || g, '+2349040001' || lpad(g::text, 3, '0'), now()
	 FROM generate_series(1, $FLOOD_OTHERS) g ON CONFLICT (external_id) DO NOTHING" >/dev/null
	mock_reset >/dev/null
	mock_default '{"delay_ms": 250}' >/dev/null
	touch "$flag"
	(while [[ -e $flag ]]; do harness_cron tick >>"$HARNESS_DIR/flood-ticks.jsonl" || true; sleep 0.5; done) &
	ticker=$!
	t0=$(date +%s.%N)
	out=$(python3 "$(dirname "${BASH_SOURCE[0]}")/flood.py" 127.0.0.1 "${HTTP_BASE##*:}" \
		"$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)" flood-seller "$FLOOD" flood-o \
		"$FLOOD_OTHERS" 8)
	[[ ${out##* } == 0 ]] || echo "bench: the flood had ${out##* } non-2xx answers" >&2
	# Until every event is dispatched and nothing waits in the outbox (at most 20 minutes).
	for i in $(seq 1200); do
		left=$(psql_state "SELECT (SELECT count(*) FROM events WHERE outcome IS NULL)
		 + (SELECT count(*) FROM whatsapp_logs WHERE tenant_id IS NOT NULL
		   AND status IN ('queued', 'sending'))")
		[[ $left == 0 ]] && break
		sleep 1
	done
	t1=$(date +%s.%N)
	rm -f "$flag"
	wait "$ticker" || true
	printf '\n%-44s %10s %12s %10s\n' "the flood: $FLOOD events + $FLOOD_OTHERS sellers" "" "" ""
	printf '%s\n' "durable commits; mock at 250 ms; SEND_RATE_PER_SECOND=80; RECIPIENT_MIN_INTERVAL=6"
	printf '%-44s %10s\n' "ingest: requests, seconds (8 connections)" "$(awk '{ print $1 ", " $3 }' <<<"$out")"
	[[ $left == 0 ]] || printf '%-44s %10s\n' "NOT DONE after 20 minutes: rows left" "$left"
	psql_state "SELECT rpad('100 sellers, ingest to send: p50, p99 (s)', 44) || ' ' ||
	 round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM w.sent_at - e.received_at))::numeric, 2) || ', ' ||
	 round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM w.sent_at - e.received_at))::numeric, 2) ||
	 ' (max ' || round(max(extract(epoch FROM w.sent_at - e.received_at))::numeric, 2) || ', ' || count(*) || ' sent)'
	 FROM events e JOIN tenants t ON t.id = e.tenant_id JOIN whatsapp_logs w ON w.id = e.message_id
	 WHERE t.external_id LIKE 'flood-o%'"
	psql_state "SELECT rpad('the flood: events, messages, rows merged', 44) || ' ' || count(*) || ', ' ||
	 count(DISTINCT e.message_id) || ', ' ||
	 (SELECT count(*) FROM whatsapp_logs w JOIN tenants t ON t.id = w.tenant_id
	  WHERE t.external_id = 'flood-seller' AND w.status = 'merged')
	 FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE t.external_id = 'flood-seller'"
	psql_state "SELECT rpad('the flood: its last message sent after (s)', 44) || ' ' ||
	 round(extract(epoch FROM max(w.sent_at) - min(e.received_at))::numeric, 1)
	 FROM events e JOIN tenants t ON t.id = e.tenant_id JOIN whatsapp_logs w ON w.id = e.message_id
	 WHERE t.external_id = 'flood-seller'"
	printf '%-44s %10.1f\n' "wall clock, first request to all sent (s)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
	mock_default '{"delay_ms": 0}' >/dev/null
	[[ -z ${BENCH_FLOOD_TICKS:-} ]] || cp "$HARNESS_DIR/flood-ticks.jsonl" "$BENCH_FLOOD_TICKS"
}
if [[ ${BENCH_ONLY:-} == flood ]]; then
	durability on >/dev/null
	flood_table
	fcgi_stop "$RUN" noop >/dev/null 2>&1 || true
	harness_finish >/dev/null 2>&1 || true
	exit 0
fi
if [[ ${BENCH_ONLY:-} == events || ${BENCH_ONLY:-} == ingest ]]; then
	[[ ${BENCH_ONLY:-} == ingest ]] && webhook_table "durable commits: $(durability on)"
	events_table "durable commits: $(durability on)"
	fcgi_stop "$RUN" noop >/dev/null 2>&1 || true
	harness_finish >/dev/null 2>&1 || true
	exit 0
fi
if [[ ${BENCH_ONLY:-} == pooling ]]; then
	durability on >/dev/null
	pooling_table
	fcgi_stop "$RUN" noop >/dev/null 2>&1 || true
	harness_finish >/dev/null 2>&1 || true
	exit 0
fi
webhook_table "durable commits: $(durability on)"
webhook_table "durability off, as in the tests: $(durability off)"
events_table "durable commits: $(durability on)"
pooling_table
echo "(webhook events stored: $(psql_state "SELECT count(*) FROM webhook_events"); the status applied once: $(psql_state "SELECT count(*) FROM webhook_seen") seen key)"
if [[ -n ${BENCH_PERF:-} ]]; then # BENCH_PERF=FILE: where one more webhook round spends its CPU
	perf record -q -a -g -o "$BENCH_PERF" -- ab -q -k -c 32 -n "$REQS" -p "$body" -T application/json \
		-H "X-Hub-Signature-256: sha256=$sig" "$HTTP_BASE/monitoring/whatsapp/webhook" >/dev/null 2>&1 || true
	perf report -i "$BENCH_PERF" --no-children --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8
fi

# ---------------------------------------------------------------- the seller's GET /tenants/me
TENANTS=${BENCH_TENANTS:-10000}
psql_state "INSERT INTO tenants (external_id, display_name, whatsapp_number, whatsapp_verified_at,
 time_zone, quiet_start, quiet_end, language)
 SELECT 'bench-shop-' || g, 'Bench Shop ' || g, '+1444' || lpad(g::text, 7, '0'), now(),
 'Africa/Lagos', '22:00', '07:00', 'en-NG' FROM generate_series(1, $TENANTS) g" >/dev/null
seller=bench-shop-$(((TENANTS + 1) / 2))
seller_jwt=$(harness_cron tenant-token "$seller" 3600)
# A session as POST /tenants/session makes one: 32 random bytes in base64url (43 characters),
# stored as the sha256 hex of that text.
seller_session=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
psql_state "INSERT INTO tenant_sessions (token_hash, tenant_id, expires_at)
 SELECT '$(printf '%s' "$seller_session" | sha256sum | cut -d' ' -f1)', id, now() + interval '1 day'
 FROM tenants WHERE external_id = '$seller'" >/dev/null
ab_get() { # ab_get PATH TOKEN: "rps p50 p99"
	local out
	out=$(ab -q -k -c 32 -n "$REQS" -H "Authorization: Bearer $2" "$HTTP_BASE$1" 2>&1)
	if grep -q '^Non-2xx responses' <<<"$out"; then
		echo "bench: GET $1 answered non-2xx: $(grep '^Non-2xx' <<<"$out")" >&2
	fi
	awk '/^Requests per second/ { r = $4 } $1 == "50%" { a = $2 } $1 == "99%" { b = $2 }
		END { print r, a, b }' <<<"$out"
}
me_targets=("GET /tenants/me, JWT (cron tenant-token)|/tenants/me|$seller_jwt"
	"GET /tenants/me, session token|/tenants/me|$seller_session"
	"FastCGI program doing nothing (GET)|/bench/noop|x")
me_answer=$(curl -s -H @- "$HTTP_BASE/tenants/me" <<<"Authorization: Bearer $seller_jwt" | jq -r .external_id)
[[ $me_answer == "$seller" ]] || echo "bench: GET /tenants/me with the JWT answered '$me_answer', not $seller" >&2
printf '\n%-44s %10s %12s %10s\n' "seller, $(psql_state "SELECT count(*) FROM tenants") tenants, 32 conns (median of $ROUNDS)" \
	"req/s" "p50 ms" "p99 ms"
declare -a me_results=()
for t in "${!me_targets[@]}"; do
	IFS='|' read -r _ path tok <<<"${me_targets[$t]}"
	ab_get "$path" "$tok" >/dev/null # warm-up
done
for _ in $(seq "$ROUNDS"); do
	for t in "${!me_targets[@]}"; do
		IFS='|' read -r _ path tok <<<"${me_targets[$t]}"
		me_results[t]+="$(ab_get "$path" "$tok")"$'\n'
	done
done
for t in "${!me_targets[@]}"; do
	rounds=${me_results[t]}
	printf '%-44s %10.0f %12s %10s\n' "${me_targets[$t]%%|*}" "$(awk 'NF { print $1 }' <<<"$rounds" | median)" \
		"$(awk 'NF { print $2 }' <<<"$rounds" | median)" "$(awk 'NF { print $3 }' <<<"$rounds" | median)"
done
for t in 0 1; do
	printf '%-44s %9s%%\n' "$([[ $t == 0 ]] && echo JWT || echo session) / doing nothing (median per round)" \
		"$(paste <(awk 'NF { print $1 }' <<<"${me_results[t]}") <(awk 'NF { print $1 }' <<<"${me_results[2]}") |
			awk '{ printf "%.0f\n", 100 * $1 / $2 }' | median)"
done
fcgi_stop "$RUN" noop >/dev/null 2>&1 || true

# ---------------------------------------------------------------- a full check beside psql
# cron check's own duration (connect, every metric query, derive, store) beside psql running
# the reference metric queries (../shared/reference/postgres-metrics-checks.sql) on the same
# database as the monitor's role, process start and connection included.
ref=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/../shared/reference/postgres-metrics-checks.sql
monitored=$(env_get "$MONITORING_ENV_FILE" MONITORED_DATABASE_URL)
check_ms=$(for _ in $(seq 5); do harness_cron check 2>/dev/null | jq .duration_ms; done | median)
printf '\n%-44s %10s\n' "a full check (median of 5)" "ms"
printf '%-44s %10s\n' "cron check (its duration_ms)" "$check_ms"
if [[ -f $ref ]]; then
	psql_ms=$(for _ in $(seq 5); do
		t0=$(date +%s%N)
		psql "$monitored" -X -q -o /dev/null -f "$ref" 2>/dev/null || true
		echo $((($(date +%s%N) - t0) / 1000000))
	done | median)
	printf '%-44s %10s\n' "psql -f the reference metric queries" "$psql_ms"
fi

# ---------------------------------------------------------------- resident memory
# Each program at start, after its first requests, and at the end: the webhook after its warm-up
# round and after all of them; the GET endpoints after 1,000 and 10,000 requests; check and
# test-alert after 100 and 1,000 (a check queries the monitored database; a test alert is queued
# and sent to the mock). Flat means the last two columns agree.
load() { # load PROG REQUESTS CONCURRENCY [POST BODY]
	local path=/monitoring/$1 args=(-q -k -c "$3" -n "$2" -H "Authorization: Bearer $API_TOKEN")
	if [[ -n ${4:-} ]]; then
		printf '%s' "$4" >"$HARNESS_DIR/load.json"
		args+=(-p "$HARNESS_DIR/load.json" -T application/json)
	fi
	ab "${args[@]}" "$HTTP_BASE$path" >/dev/null 2>&1 || true
}
loaded() { # loaded PROG FIRST REST CONCURRENCY [BODY]: FIRST requests, a snapshot, REST more
	load "$1" "$2" "$4" "${5:-}"
	for pid in $(pidfile_pids "$RUN/$1.pid"); do RSS_MID[$pid]=$(rss_kb "$pid"); done
	load "$1" "$3" "$4" "${5:-}"
}
for ep in health metrics alerts configure; do loaded "$ep" 1000 9000 8; done
loaded check 100 900 2 '{}'
mock_default '{"delay_ms": 0}' >/dev/null
loaded test-alert 100 900 2 '{"severity":"warning","message":"bench"}'
# RSS counts shared library pages in full; PSS shares them out between the processes using them.
printf '\n%-30s %10s %12s %10s %10s\n' "resident memory (kB)" "RSS start" "RSS 1st part" "RSS end" "PSS end"
for prog in $MONITORING_PROGRAMS; do
	for pid in $(pidfile_pids "$RUN/$prog.pid"); do
		printf '%-30s %10s %12s %10s %10s\n' "$prog (pid $pid)" "${RSS_START[$pid]:--}" \
			"${RSS_MID[$pid]:--}" "$(rss_kb "$pid")" "$(pss_kb "$pid")"
	done
done
# cron tick, twice: the first finds work due (a check, the daily and weekly reports, sending
# them to the mock: libcurl and TLS set up; one number, so RECIPIENT_MIN_INTERVAL (6 s) apart),
# the second nothing. The test alerts above are queued messages: cleared first, so that the
# first tick sends only its own.
psql_state "TRUNCATE whatsapp_logs CASCADE; DELETE FROM recipient_slots" >/dev/null
printf '\n%-44s %10s %10s %10s\n' "cron tick" "own ms" "wall ms" "peak kB"
for what in "work due (check; 2 reports, 6 s apart)" "nothing due"; do
	t0=$(date +%s%N)
	tick_json=$(MONITORING_ENV_FILE=$MONITORING_ENV_FILE /usr/bin/time -f '%M' -o "$HARNESS_DIR/tick.rss" \
		"$BIN_DIR/cron" tick 2>/dev/null) || true
	t1=$(date +%s%N)
	printf '%-44s %10s %10s %10s\n' "$what" "$(jq .duration_ms <<<"$tick_json" 2>/dev/null)" \
		"$(((t1 - t0) / 1000000))" "$(tail -1 "$HARNESS_DIR/tick.rss")"
done

# ---------------------------------------------------------------- outbox drain
if [[ ${BENCH_ONLY:-} == webhook ]]; then
	harness_finish >/dev/null 2>&1 || true
	exit 0
fi
printf '\n%-44s %10s %12s %10s\n' "outbox drain (median of $ROUNDS)" "messages" "seconds" "msg/s"
for mode in on off; do
	printf '%s\n' "$([[ $mode == on ]] && echo "durable commits" || echo "durability off, as in the tests"): $(durability "$mode")"
	for latency in 0 250; do
		secs=$(for _ in $(seq "$ROUNDS"); do drain_round "$latency"; done | median)
		printf '%-44s %10d %12.2f %10.1f\n' "mock provider answering in $latency ms" "$N" "$secs" \
			"$(awk -v n="$N" -v s="$secs" 'BEGIN { print n / s }')"
	done
done
printf '%-44s %10d %12.2f %10.1f\n' "floor at the 80/s rate cap" "$N" "$(awk -v n="$N" 'BEGIN { print n / 80 }')" 80
durability on >/dev/null
email_table
flood_table
echo
harness_finish >/dev/null 2>&1 || true
