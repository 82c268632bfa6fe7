#!/usr/bin/env bash
# tests/bench/bench.sh: the figures `make bench` prints (never a test: nothing here fails on a
# number). Runs its own throwaway stack (the integration harness) and the mock provider.
#
#   outbox drain: 1,000 messages to 1,000 numbers queued, then one `cron drain` against the
#   mock answering in 0 ms and in 250 ms, at the default rate cap (SEND_RATE_PER_SECOND=80:
#   12.5 s is the floor). Each figure is the median of BENCH_ROUNDS (default 3) rounds.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness.sh"

ROUNDS=${BENCH_ROUNDS:-3}
N=${BENCH_MESSAGES:-1000}
harness_start >/dev/null
mock_start
export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=bench-token-abcdefghijklmnop \
	META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 SEND_RATE_PER_SECOND=80

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

drain_round() { # drain_round LATENCY_MS: seconds to drain N messages
	psql_state "TRUNCATE whatsapp_logs; DELETE FROM recipient_slots;
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

printf '\n%-44s %10s %12s %10s\n' "outbox drain (median of $ROUNDS)" "messages" "seconds" "msg/s"
for latency in 0 250; do
	secs=$(for _ in $(seq "$ROUNDS"); do drain_round "$latency"; done | median)
	printf '%-44s %10d %12.2f %10.1f\n' "mock provider answering in $latency ms" "$N" "$secs" \
		"$(awk -v n="$N" -v s="$secs" 'BEGIN { print n / s }')"
done
printf '%-44s %10d %12.2f %10.1f\n' "floor at the 80/s rate cap" "$N" "$(awk -v n="$N" 'BEGIN { print n / 80 }')" 80
echo
harness_finish >/dev/null 2>&1 || true
