#!/usr/bin/env bash
# tests/ci/fresh-clone.sh: the README's first command as a newcomer runs it. From a clone of
# this repository's HEAD in a 0700 directory (what /root and a new user's home are on
# Debian 12), `make run` with a setting given in the environment (MONITORING_API_TOKEN, which
# then differs from the env file's), a request through nginx with that token, the seller's
# GET /tenants/me line make run prints (pasted as printed), `make stop`, and
# no process of the stack left behind. Prints `N passed, N failed`; exit status 1 on a failure.
#
# Environment: FRESH_KEEP=1 keeps the clone (and its state directory) for a look.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$repo/scripts/lib.sh"

passed=0
failed=0
pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1${2:+: $2}"
	failed=$((failed + 1))
}

top=$(mktemp -d)
chmod 0700 "$top"
clone=$top/whatsapp-monitor
state=
cleanup() {
	if [[ -d $clone ]]; then
		(cd "$clone" && make --no-print-directory stop >/dev/null 2>&1)
	fi
	if [[ ${FRESH_KEEP:-0} != 1 ]]; then
		[[ -n $state && $state != "$clone/var" && -d $state ]] && rm -rf "$state"
		rm -rf "$top"
	else
		echo "kept: $clone${state:+ and $state}"
	fi
}
trap cleanup EXIT

git clone -q "$repo" "$clone" || {
	fail "git clone"
	exit 1
}
port=$(free_port) || exit 1
token=fresh-$(random_hex 16)

log=$top/make-run.log
# From another directory than the clone: make -C, as a user typing `cd clone && make run` gets.
if (cd / && HTTP_PORT=$port MONITORING_API_TOKEN=$token make -C "$clone" run) >"$log" 2>&1; then
	pass "make run from a 0700 directory, with MONITORING_API_TOKEN from the environment"
else
	fail "make run" "the end of its output:"
	tail -n 30 "$log"
fi
[[ -e $clone/var ]] && state=$(cd "$clone/var" && pwd -P)

file_token=$(env_get "$clone/var/monitoring.env" MONITORING_API_TOKEN 2>/dev/null)
if [[ -n $file_token && $file_token != "$token" ]]; then
	pass "the env file keeps its own token (the environment's one is an override)"
else
	fail "the env file's token differs from the environment's" "file has '${file_token:0:6}...'"
fi
if grep -q "admin token  $token" "$log"; then
	pass "make run prints the token the programs use"
else
	fail "make run prints the token the programs use"
fi

hdr=$top/auth
printf 'Authorization: Bearer %s\n' "$token" >"$hdr"
status=$(curl -s -o "$top/alerts.json" -w '%{http_code}' --max-time 30 -H @"$hdr" \
	"http://127.0.0.1:$port/monitoring/alerts")
if [[ $status == 200 ]] && jq -e '.windows' "$top/alerts.json" >/dev/null 2>&1; then
	pass "GET /monitoring/alerts through nginx with the environment's token: 200"
else
	fail "GET /monitoring/alerts through nginx" "status $status"
fi
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
	"http://127.0.0.1:$port/monitoring/health")
[[ $status == 200 ]] && pass "GET /monitoring/health: 200" || fail "GET /monitoring/health" "status $status"
# The seller's line make run printed, pasted as it is: the demo seller, by its JWT.
me_line=$(grep -m1 -E '^  curl -sS -H "Authorization: Bearer [^"]+" http://[^ ]+/tenants/me$' "$log")
me=$( (cd / && eval "${me_line:-false}") 2>/dev/null | jq -r .external_id 2>/dev/null)
[[ $me == demo-shop ]] && pass "make run's GET /tenants/me line: the demo seller" ||
	fail "make run's GET /tenants/me line" "answered '${me}'"

# Every process the stack recorded, to see them gone after make stop.
pids=()
if [[ -n $state ]]; then
	for f in "$state"/run/*.pid "$state"/pg/postmaster.pid; do
		[[ -f $f ]] && pids+=($(head -n 1 "$f"))
	done
fi
if (cd "$clone" && make --no-print-directory stop) >"$top/make-stop.log" 2>&1; then
	pass "make stop"
else
	fail "make stop"
	tail -n 20 "$top/make-stop.log"
fi
# running PID: alive and not a zombie (one that exited and waits to be reaped is stopped).
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && ${st:0:1} != Z ]]
}
left=()
for p in "${pids[@]}"; do
	running "$p" && left+=("$p")
done
if ((${#pids[@]} >= 3 && ${#left[@]} == 0)); then
	pass "make stop leaves none of the ${#pids[@]} recorded processes running"
else
	fail "make stop leaves nothing running" "recorded ${#pids[@]}, still running: ${left[*]:-none}"
fi
status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/monitoring/health")
[[ $status == 000 ]] && pass "nothing answers on port $port after make stop" ||
	fail "nothing answers after make stop" "status $status"

echo "$passed passed, $failed failed"
((failed == 0))
