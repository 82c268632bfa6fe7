#!/usr/bin/env bash
# The operator scripts keep tokens off command lines: any user can read a process's argv (ps,
# /proc/PID/cmdline), so scripts/start-monitoring (META_WHATSAPP_TOKEN, to subscribe the app)
# and scripts/dev-up (MONITORING_API_TOKEN, for its first check) must hand curl the token
# another way, and start-monitoring must not write its answer to a predictable file in a
# world-writable directory. dev-up also creates the demo seller (PLATFORM_API_KEY, on stdin
# too) and prints curl lines for the seller's routes: they are run here as printed. A `curl`
# earlier on PATH records every argv it is given, then runs the real curl, so the scripts
# still do their work against the mock and the stack.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# ---------------------------------------------------------------- the recording curl
fake=$HARNESS_DIR/fakebin
record=$HARNESS_DIR/curl-argv
mkdir -p "$fake" "$record"
real_curl=$(command -v curl)
cat >"$fake/curl" <<EOF
#!/usr/bin/env bash
# One file per call: its arguments, one a line (what ps would show).
printf '%s\n' "\$@" >"$record/\$\$.\$RANDOM"
exec "$real_curl" "\$@"
EOF
chmod +x "$fake/curl"
recorded() { cat "$record"/* 2>/dev/null || true; }
# world_writable_outputs: the -o/--output targets of the recorded calls in a directory anyone
# may write to (/tmp, /var/tmp, ...), where a predictable name can be planted beforehand.
world_writable_outputs() {
	local f prev='' a dir
	for f in "$record"/*; do
		[[ -f $f ]] || continue
		prev=
		while IFS= read -r a; do
			if [[ $prev == -o || $prev == --output ]]; then
				dir=$(dirname "$a")
				if [[ -n $(find "$dir" -maxdepth 0 -perm -0002 2>/dev/null) ]]; then
					printf '%s\n' "$a"
				fi
			fi
			prev=$a
		done <"$f"
	done
}
# Each scenario starts with no call recorded.
clear_record() { rm -f "$record"/*; }
harness_scenario_setup clear_record

# ---------------------------------------------------------------- start-monitoring
scenario_start_monitoring() {
mock_start
meta_token=meta-token-$(random_hex 16)
rc=0
out=$(PATH=$fake:$PATH META_WHATSAPP_TOKEN=$meta_token META_WABA_ID=102290129340398 \
	META_GRAPH_URL=$MOCK_URL/v25.0 BIN_DIR=$BIN_DIR \
	"$repo/scripts/start-monitoring" --env "$MONITORING_ENV_FILE" --schedule none 2>&1) || rc=$?
assert_eq "start-monitoring: up" 0 "$rc"
assert_contains "start-monitoring: subscribed" "$out" "subscribed"
assert_ne "start-monitoring called curl" "" "$(recorded)"
assert_not_contains "start-monitoring: META_WHATSAPP_TOKEN is not on curl's command line" \
	"$(recorded)" "$meta_token"
assert_eq "start-monitoring: the token still reached Meta's API" "Bearer $meta_token" \
	"$(mock_requests | jq -r '[.[] | select(.kind == "subscribe")][0].headers.authorization')"
assert_eq "start-monitoring: no curl output into a world-writable directory" "" "$(world_writable_outputs)"
# A failed subscription still says why (the answer is kept in memory, not in a file): a Graph
# URL the mock does not serve answers 404 with a JSON error.
rc=0
out=$(PATH=$fake:$PATH META_WHATSAPP_TOKEN=$meta_token META_WABA_ID=102290129340398 \
	META_GRAPH_URL=$MOCK_URL/not-graph BIN_DIR=$BIN_DIR \
	"$repo/scripts/start-monitoring" --env "$MONITORING_ENV_FILE" --schedule none 2>&1) || rc=$?
assert_eq "start-monitoring: a refused subscription fails (exit 1)" 1 "$rc"
assert_contains "start-monitoring: it shows the status and the answer" "$out" "(HTTP 404): {"
assert_contains "start-monitoring: the answer's text" "$out" "no such endpoint"
assert_not_contains "start-monitoring: still no token on curl's command line" "$(recorded)" "$meta_token"
mock_stop
}

# ---------------------------------------------------------------- dev-up
scenario_dev_up() {
dev=$HARNESS_DIR/dev
port=$(free_port)
rc=0
PATH=$fake:$PATH VAR_DIR=$dev HTTP_PORT=$port BIN_DIR=$BIN_DIR \
	"$repo/scripts/dev-up" >"$HARNESS_DIR/dev-up.out" 2>&1 || rc=$?
admin_token=$(env_get "$dev/monitoring.env" MONITORING_API_TOKEN)
platform_key=$(env_get "$dev/monitoring.env" PLATFORM_API_KEY)
# Again (make run twice): the demo seller is upserted, not refused.
rc2=0
PATH=$fake:$PATH VAR_DIR=$dev HTTP_PORT=$port BIN_DIR=$BIN_DIR \
	"$repo/scripts/dev-up" >"$HARNESS_DIR/dev-up2.out" 2>&1 || rc2=$?
# The printed lines, run as a user pastes them (the real curl), while the stack is up.
get_line=$(grep -m1 -E '^  curl -sS -H "Authorization: Bearer [^"]+" http://[^ ]+/tenants/me$' \
	"$HARNESS_DIR/dev-up2.out" || true)
patch_line=$(grep -m1 -E '^  curl -sS -X PATCH .*/tenants/me$' "$HARNESS_DIR/dev-up2.out" || true)
platform_line=$(grep -m1 -E '^  curl -sS .*/tenants/demo-shop$' "$HARNESS_DIR/dev-up2.out" || true)
me_before=$(cd / && eval "${get_line:-false}" 2>&1 || true)
patched=$(cd / && eval "${patch_line:-false}" 2>&1 || true)
me_after=$(cd / && eval "${get_line:-false}" 2>&1 || true)
by_platform=$(cd / && eval "${platform_line:-false}" 2>&1 || true)
# The Alertmanager receiver, with the token and URL dev-up printed: a firing notification.
am_token=$(env_get "$dev/monitoring.env" ALERTMANAGER_TOKEN)
am_line=$(grep -m1 -E '^  Alertmanager: webhook_configs url ' "$HARNESS_DIR/dev-up2.out" || true)
am_url=$(sed -E 's/^.*url ([^,]+), bearer .*$/\1/' <<<"$am_line")
am_answer=$(printf 'Authorization: Bearer %s\n' "$am_token" | curl -sS -o /dev/null -w '%{http_code}' \
	-H @- -H 'Content-Type: application/json' --data-binary \
	'{"version":"4","status":"firing","receiver":"whatsapp","groupKey":"{}:{alertname=\"DevUp\"}","groupLabels":{"alertname":"DevUp"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","truncatedAlerts":0,"alerts":[{"status":"firing","labels":{"alertname":"DevUp"},"annotations":{"summary":"dev-up check"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"0123456789abcdef"}]}' \
	"${am_url:-http://127.0.0.1:1}" 2>&1 || true)
VAR_DIR=$dev "$repo/scripts/dev-down" >"$HARNESS_DIR/dev-down.out" 2>&1 || true
assert_eq "dev-up: up" 0 "$rc"
((rc == 0)) || tail -n 20 "$HARNESS_DIR/dev-up.out" | sed 's/^/       /'
assert_contains "dev-up: its first check ran (through curl, with the token)" \
	"$(cat "$HARNESS_DIR/dev-up.out")" "The first check found:"
assert_ne "dev-up called curl" "" "$(recorded)"
assert_ne "dev-up: an admin token was written" "" "$admin_token"
assert_not_contains "dev-up: MONITORING_API_TOKEN is not on curl's command line" "$(recorded)" "$admin_token"
assert_ne "dev-up: a platform key was written" "" "$platform_key"
assert_not_contains "dev-up: PLATFORM_API_KEY is not on curl's command line" "$(recorded)" "$platform_key"
assert_contains "dev-up: prints the platform key" "$(cat "$HARNESS_DIR/dev-up.out")" \
	"platform key  $platform_key"
assert_contains "dev-up: created the demo seller through POST /tenants" \
	"$(cat "$HARNESS_DIR/dev-up.out")" "demo seller   demo-shop, +15550000009 (created)"
assert_ne "dev-up: an Alertmanager token was written" "" "$am_token"
assert_contains "dev-up: prints the Alertmanager URL and its bearer token" "$am_line" \
	"/monitoring/alertmanager, bearer $am_token"
assert_eq "dev-up: the printed Alertmanager receiver takes a notification" 200 "$am_answer"
assert_contains "dev-up: prints a seller JWT" "$(cat "$HARNESS_DIR/dev-up.out")" "seller JWT    eyJ"
assert_eq "dev-up again: up" 0 "$rc2"
((rc2 == 0)) || tail -n 20 "$HARNESS_DIR/dev-up2.out" | sed 's/^/       /'
assert_contains "dev-up again: the demo seller is already there (200)" \
	"$(cat "$HARNESS_DIR/dev-up2.out")" "demo seller   demo-shop, +15550000009 (already there)"
assert_eq "the printed platform line: GET /tenants/demo-shop" "demo-shop" \
	"$(jq -r .external_id <<<"$by_platform" 2>/dev/null)"
assert_eq "the printed GET /tenants/me: the demo seller, by its JWT" \
	"demo-shop +15550000009 true Demo Shop" \
	"$(jq -r '"\(.external_id) \(.whatsapp_number) \(.whatsapp_verified) \(.display_name)"' \
		<<<"$me_before" 2>/dev/null)"
assert_eq "the printed PATCH /tenants/me renames it" "Demo Shop Renamed" \
	"$(jq -r .display_name <<<"$patched" 2>/dev/null)"
assert_eq "and GET /tenants/me reads the new name" "Demo Shop Renamed" \
	"$(jq -r .display_name <<<"$me_after" 2>/dev/null)"
}

harness_scenarios start_monitoring dev_up

harness_finish
