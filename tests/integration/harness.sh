# shellcheck shell=bash
# shellcheck disable=SC2034 # HTTP_* and the like are read by the test scripts
# tests/integration/harness.sh: sourced by every tests/integration/test_*.sh.
#
# harness_start brings up a throwaway stack in a mktemp directory: a
# PostgreSQL cluster (Unix socket only) with the state database `monitoring`
# (owner `monitor`) and the monitored database `shop` (pg_stat_statements,
# an empty `orders` table, role `db_monitor` with pg_monitor), an env file,
# `cron migrate`, the FastCGI programs from $BIN_DIR (default build/bin)
# under spawn-fcgi with ASan/UBSan options, and nginx on a free loopback
# port. harness_finish (also run by the EXIT trap) stops it all, counts any
# sanitizer report in the programs' logs as a failure, removes the directory
# (kept with HARNESS_KEEP=1) and prints, as its last line, `N passed, M failed`.
# mock_start waits up to MOCK_START_TIMEOUT seconds (default 60) for the mock to start.
#
# A test script:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
#   harness_start
#   http GET /monitoring/health
#   assert_eq "health answers 200" 200 "$HTTP_STATUS"
#   harness_finish
#
# After harness_start these are exported:
#   HARNESS_DIR          the stack's directory (layout: see scripts/lib.sh)
#   HARNESS_LOG_DIR      $HARNESS_DIR/log: <prog>.log, cron.log, nginx-*.log, postgres.log
#   HTTP_BASE            http://127.0.0.1:PORT
#   API_TOKEN            the admin token (MONITORING_API_TOKEN)
#   PLATFORM_KEY         the platform's key of /tenants (PLATFORM_API_KEY)
#   PGHOST               the PostgreSQL socket directory
#   MONITORING_ENV_FILE  the env file the programs read
#   BIN_DIR              absolute
#   ASAN_OPTIONS, UBSAN_OPTIONS
#
# Helpers:
#   http METHOD PATH [BODY] [CURL ARGS...]   sets HTTP_STATUS (000 if no
#       answer), HTTP_BODY, HTTP_HEADERS, HTTP_CONTENT_TYPE. A non-empty BODY
#       is sent as is, with Content-Type: application/json unless the curl
#       args set one. PATH may also be a full URL.
#   http_auth METHOD PATH [BODY] [CURL ARGS...]   the same with
#       Authorization: Bearer $API_TOKEN
#   http_header NAME         a header of the last response
#   psql_state SQL [PSQL ARGS...]   SQL on `monitoring` as superuser, -At output
#   psql_shop SQL [PSQL ARGS...]    SQL on `shop` as superuser, -At output
#   harness_cron ARGS...     run $BIN_DIR/cron with the env file; stdout is
#       its stdout, stderr goes to $HARNESS_LOG_DIR/cron.log
#   harness_set_env NAME VALUE / harness_unset_env NAME   edit the env file
#       (then harness_restart_programs)
#   harness_restart_programs  stop and start the FastCGI programs
#   harness_stop_pg / harness_start_pg   take the cluster down and up again
#   events_post BODY / tenant_jwt EXTERNAL_ID   a signed POST /events; a seller's JWT
#   seller_alert_sent VAR BODY   an event made into a seller's alert and sent (VAR: its message)
#   meta_status MESSAGE_ID STATUS SECONDS [CODE TITLE]   Meta's signed status for our message
#   pooler_start [POOL_SIZE]   Debian's PgBouncer in transaction mode in front of
#       the cluster (every database, trust for monitor, db_monitor and postgres,
#       default_pool_size POOL_SIZE (2), max_client_conn 40), on a Unix socket
#       in $POOLER_DIR (no TCP), port $POOLER_PORT; harness_finish stops it
#       before the cluster (pooler_stop stops it earlier). Never the system's.
#   pass NAME / fail NAME [DETAIL]
#   assert_eq NAME EXPECTED ACTUAL      assert_ne NAME UNEXPECTED ACTUAL
#   assert_contains NAME HAYSTACK NEEDLE  assert_not_contains NAME HAYSTACK NEEDLE
#   assert_match NAME ERE ACTUAL
#
# Scenarios: a test script defines one function per scenario, scenario_<name>,
# and ends with `harness_scenarios NAME...` (the names in their natural order)
# then harness_finish. harness_scenarios runs each after harness_reset, so no
# scenario sees what another left: the state database holds only what the
# migrations seeded, the mock provider (when started) has no rules, default or
# records, the spool directory is empty and the env file is the one
# harness_start wrote (the programs restarted if they had been started with
# another). Each runs in
# a subshell: the variables, exports and functions it sets are gone after it
# (helpers that several scenarios use are defined before harness_scenarios);
# one that ends early (a failing command under set -e) counts one failure and
# the next scenario still runs. A scenario
# that needs more (settings, contacts, queued rows, a mock rule, an env
# variable) sets it up itself. Two variables choose what runs:
#   SCENARIOS="a b"          only these scenarios (space- or comma-separated,
#                            without scenario_), in the order given
#   SCENARIO_ORDER=reverse   the scenarios last to first; `shuffle` in a random
#                            order (printed; SCENARIO_SEED=N repeats one)
# e.g. SCENARIOS=rate_limit tests/integration/run.sh delivery, or
# SCENARIO_ORDER=reverse tests/integration/run.sh. A name that is not a
# scenario of the script is one failure.
#   harness_reset    the reset above, for a script that needs it elsewhere
#   harness_env_baseline   the env file as it is now is the one to put back
#       (a script that sets its own variables before its scenarios)
#   harness_scenario_setup FUNC   FUNC runs after each harness_reset (a
#       script's own known state outside the state database: the monitored
#       database, a second cluster...)
#
# Assertions never fail the shell (they return 0), so `set -e` is safe;
# anything else that fails under `set -e` ends the script, which the EXIT
# trap reports as one more failure before cleaning up. A test script that
# sets its own EXIT trap must call harness_finish itself.
#
# Several hosts (HARNESS_HOSTS=2, set before harness_start; default 1): a
# second complete instance in $HARNESS_DIR/host2 (HOST2_DIR): its own FastCGI
# programs on its own sockets (host2/run), its own logs (host2/log, checked
# for sanitizer reports and secrets like the first's), its own SPOOL_DIR
# (host2/spool) and env file (host2/monitoring.env: the first's with that
# SPOOL_DIR, written again by harness_restart_programs and harness_reset),
# sharing the one state database. The one nginx passes every route to an
# upstream of both instances' sockets (nginx/upstreams.conf) and logs which
# one answered in nginx-upstream.log ("<status> <upstream_addr>"). Instance
# 1 is the stack above ($HARNESS_DIR, $MONITORING_ENV_FILE). Helpers:
#   host_dir N / host_env N      instance N's directory / env file
#   host_cron N ARGS...          cron as instance N (its env file; stderr to
#       its log/cron.log)
#   host_ticker_start N SECONDS  a `cron tick` loop of instance N (its own
#       session; its pid in N's run/ticker-pid, a name stack_programs_stop
#       leaves alone), a tick every SECONDS (after the previous one ends); each
#       tick's pid is appended to N's run/ticks.pids, its output (one JSON
#       line) to N's log/ticks.jsonl
#   host_ticker_stop N           stop it (and the tick it runs)
#   host_kill N                  SIGKILL instance N: its ticker and running
#       tick (the loop's process group) and its FastCGI programs, by the
#       pids this harness recorded; nothing else
# harness_reset stops the tickers, forgets their pids and output, starts again
# an instance's programs that are not running (a scenario that killed them),
# and empties both spools.
#
# Environment: BIN_DIR, HARNESS_KEEP=1 (keep the directory),
# HARNESS_TMPDIR (parent of the directory, default /tmp), FCGI_CHILDREN_<prog>,
# MONITORING_PROGRAMS, ASAN_OPTIONS/UBSAN_OPTIONS (defaults below),
# HARNESS_PG_DURABLE=1 (the cluster commits durably, PostgreSQL's defaults:
# fsync, synchronous_commit and full_page_writes on; without it, for speed,
# all three are off).

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

HARNESS_PASSED=0
HARNESS_FAILED=0
HARNESS_STARTED=0
HARNESS_FINISHED=0
HARNESS_BAILED=0
HARNESS_DIR=
HTTP_STATUS=
HTTP_BODY=
HTTP_HEADERS=
HTTP_CONTENT_TYPE=
HARNESS_HOSTS=${HARNESS_HOSTS:-1}
HOST2_DIR=

BIN_DIR=$(abs_path "${BIN_DIR:-$REPO_ROOT/build/bin}")
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export BIN_DIR ASAN_OPTIONS UBSAN_OPTIONS

# What counts as a sanitizer report in a program's log.
HARNESS_SANITIZER_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'

# ---------------------------------------------------------------------------
# Results

_harness_clip() {
	local s=$1
	if ((${#s} > 400)); then
		printf '%s... (%d bytes)' "${s:0:400}" "${#s}"
	else
		printf '%s' "$s"
	fi
}

pass() {
	HARNESS_PASSED=$((HARNESS_PASSED + 1))
	printf 'ok   - %s\n' "$1"
}

fail() {
	HARNESS_FAILED=$((HARNESS_FAILED + 1))
	printf 'FAIL - %s\n' "$1"
	if [[ -n ${2:-} ]]; then
		printf '       %s\n' "$(_harness_clip "$2")"
	fi
	return 0
}

assert_eq() {
	if [[ $3 == "$2" ]]; then
		pass "$1"
	else
		fail "$1" "expected '$(_harness_clip "$2")', got '$(_harness_clip "$3")'"
	fi
}

assert_ne() {
	if [[ $3 != "$2" ]]; then
		pass "$1"
	else
		fail "$1" "expected anything but '$(_harness_clip "$2")'"
	fi
}

assert_contains() {
	if [[ $2 == *"$3"* ]]; then
		pass "$1"
	else
		fail "$1" "'$(_harness_clip "$3")' not found in '$(_harness_clip "$2")'"
	fi
}

assert_not_contains() {
	if [[ $2 != *"$3"* ]]; then
		pass "$1"
	else
		fail "$1" "'$(_harness_clip "$3")' found in '$(_harness_clip "$2")'"
	fi
}

assert_match() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
	else
		fail "$1" "'$(_harness_clip "$3")' does not match /$2/"
	fi
}

# ---------------------------------------------------------------------------
# HTTP

http() {
	local method=$1 path=$2 body=${3:-}
	shift 2
	if (($#)); then
		shift
	fi
	local url=$path
	[[ $url == http://* || $url == https://* ]] || url=$HTTP_BASE$path
	local f=$HARNESS_DIR/http
	local args=(-sS -o "$f.body" -D "$f.headers" -w '%{http_code}' --max-time "${HTTP_TIMEOUT:-30}")
	if [[ $method == HEAD ]]; then
		args+=(--head)
	else
		args+=(-X "$method")
	fi
	if [[ -n $body ]]; then
		printf '%s' "$body" >"$f.request"
		args+=(--data-binary "@$f.request")
		local a has_ct=0
		for a in "$@"; do
			[[ ${a,,} == content-type:* ]] && has_ct=1
		done
		((has_ct)) || args+=(-H 'Content-Type: application/json')
	fi
	rm -f "$f.body" "$f.headers"
	HTTP_STATUS=$(curl "${args[@]}" "$@" "$url" 2>"$f.err") || true
	[[ $HTTP_STATUS =~ ^[0-9]{3}$ ]] || HTTP_STATUS=000
	HTTP_BODY=
	[[ -f $f.body ]] && HTTP_BODY=$(<"$f.body")
	HTTP_HEADERS=
	[[ -f $f.headers ]] && HTTP_HEADERS=$(tr -d '\r' <"$f.headers")
	HTTP_CONTENT_TYPE=$(http_header Content-Type)
	return 0
}

http_auth() {
	local method=$1 path=$2 body=${3:-}
	shift 2
	if (($#)); then
		shift
	fi
	http "$method" "$path" "$body" -H "Authorization: Bearer $API_TOKEN" "$@"
}

# http_header NAME: the last value of header NAME in the last response.
http_header() {
	local name=${1,,} line value=
	while IFS= read -r line; do
		if [[ ${line,,} == "$name":* ]]; then
			value=${line#*:}
			value=${value# }
		fi
	done <<<"$HTTP_HEADERS"
	printf '%s' "$value"
}

# ---------------------------------------------------------------------------
# Databases, cron, env file

psql_state() {
	local sql=$1
	shift
	pg_psql "$PGHOST" monitoring -At "$@" -c "$sql"
}

psql_shop() {
	local sql=$1
	shift
	pg_psql "$PGHOST" shop -At "$@" -c "$sql"
}

harness_cron() {
	MONITORING_ENV_FILE=$MONITORING_ENV_FILE "$BIN_DIR/cron" "$@" 2>>"$HARNESS_LOG_DIR/cron.log"
}

harness_set_env() {
	env_set "$MONITORING_ENV_FILE" "$1" "$2"
}

harness_unset_env() {
	env_unset "$MONITORING_ENV_FILE" "$1"
}

# platform METHOD PATH [BODY]: a request with the platform's key (PLATFORM_API_KEY).
platform() { http "$1" "$2" "${3:-}" -H "Authorization: Bearer $PLATFORM_KEY"; }

# make_tenant EXTERNAL_ID [NUMBER] [MORE]: the tenant created by the platform (POST /tenants;
# the number, when given, verified, as the platform's numbers are), asserting the 201; MORE adds
# JSON members (',"email":"a@b.test"').
make_tenant() {
	local number=
	[[ -n ${2:-} ]] && number=",\"whatsapp_number\":\"$2\""
	platform POST /tenants "{\"external_id\":\"$1\",\"display_name\":\"Shop $1\"$number${3:-}}"
	assert_eq "tenant $1 created" 201 "$HTTP_STATUS"
}

# events_post BODY: POST /events signed the Standard Webhooks way with the env file's
# EVENTS_SIGNING_SECRET, stamped now, a new webhook-id each time (HTTP_STATUS, HTTP_BODY).
events_post() {
	local id=msg_$RANDOM$RANDOM ts secret hex mac
	ts=$(date +%s)
	secret=$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)
	hex=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
	mac=$(printf '%s.%s.%s' "$id" "$ts" "$1" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | base64 -w0)
	http POST /events "$1" -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
		-H "webhook-signature: v1,$mac"
}

# tenant_jwt EXTERNAL_ID: a seller's JWT (HS256 with the env file's TENANT_JWT_SECRET, an hour).
tenant_jwt() {
	python3 - "$1" "$(env_get "$MONITORING_ENV_FILE" TENANT_JWT_SECRET)" <<'PY'
import base64, hashlib, hmac, sys, time
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
t = int(time.time())
s = enc(b'{"alg":"HS256","typ":"JWT"}') + "." + enc(('{"sub":"%s","iat":%d,"exp":%d}' % (sys.argv[1], t, t + 3600)).encode())
print(s + "." + enc(hmac.new(sys.argv[2].encode(), s.encode(), hashlib.sha256).digest()))
PY
}

# seller_alert_sent VAR BODY: the event BODY (JSON with "id") posted signed, made into a seller's
# alert by a tick and sent to the provider (the programs drain at once; `cron drain` is tried
# every 2 s); VAR is set to the whatsapp_logs id of the message that carried it. Returns 1 (with
# nothing set) if the event was refused or no message got a provider id within 10 s.
seller_alert_sent() {
	local var=$1 body=$2 event id='' i
	event=$(jq -r .id <<<"$body")
	events_post "$body"
	[[ $HTTP_STATUS == 200 ]] || return 1
	harness_cron tick >/dev/null
	for i in $(seq 50); do
		[[ -n $id ]] || id=$(psql_state "SELECT message_id FROM events WHERE event_id = '$event'")
		[[ -n $id && $(psql_state "SELECT provider_message_id IS NOT NULL FROM whatsapp_logs WHERE id = $id") == t ]] &&
			break
		((i % 10 == 0)) && harness_cron drain >/dev/null
		sleep 0.2
	done
	[[ -n $id && $(psql_state "SELECT provider_message_id IS NOT NULL FROM whatsapp_logs WHERE id = $id") == t ]] ||
		return 1
	printf -v "$var" '%s' "$id"
}

# meta_status MESSAGE_ID STATUS SECONDS [ERROR_CODE ERROR_TITLE]: Meta's status STATUS (sent,
# delivered, read, failed) for our message MESSAGE_ID through the webhook, signed with the env
# file's META_APP_SECRET and stamped SECONDS after the message's sent_at (whole seconds);
# waits until the message's status is STATUS. Returns 1 if the webhook did not answer 200 or
# the status was not recorded within 5 s.
meta_status() {
	local id=$1 st=$2 secs=$3 wamid to ts pnid errors='' body mac i
	wamid=$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $id")
	to=$(psql_state "SELECT ltrim(phone_number, '+') FROM whatsapp_logs WHERE id = $id")
	ts=$(psql_state "SELECT extract(epoch FROM sent_at)::bigint + $secs FROM whatsapp_logs WHERE id = $id")
	pnid=$(env_get "$MONITORING_ENV_FILE" META_PHONE_NUMBER_ID)
	[[ $# -lt 5 ]] || errors=$(jq -cn --argjson c "$4" --arg t "$5" '[{code: $c, title: $t}]')
	body=$(jq -cn --arg pnid "$pnid" --arg w "$wamid" --arg s "$st" --arg ts "$ts" --arg to "$to" --argjson e "${errors:-null}" \
		'{object: "whatsapp_business_account", entry: [{id: "1", changes: [{field: "messages",
		  value: {messaging_product: "whatsapp",
		          metadata: {display_phone_number: "15550783881", phone_number_id: $pnid},
		          statuses: [{id: $w, status: $s, timestamp: $ts, recipient_id: $to}
		                     + (if $e then {errors: $e} else {} end)]}}]}]}')
	mac=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$(env_get "$MONITORING_ENV_FILE" META_APP_SECRET)" -r | cut -d' ' -f1)
	http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$mac"
	[[ $HTTP_STATUS == 200 ]] || return 1
	for i in $(seq 100); do
		[[ $(psql_state "SELECT status FROM whatsapp_logs WHERE id = $id") == "$st" ]] && return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------------------
# Processes

harness_restart_programs() {
	stack_programs_stop "$HARNESS_DIR" || return 1
	if [[ -n $HOST2_DIR ]]; then
		stack_programs_stop "$HOST2_DIR" || return 1
	fi
	# What the programs now run with: harness_reset restarts them only when it is not the start's.
	cp -p "$MONITORING_ENV_FILE" "$HARNESS_DIR/programs.env" || return 1
	stack_programs_start "$HARNESS_DIR" "$MONITORING_ENV_FILE" "$BIN_DIR" || return 1
	if [[ -n $HOST2_DIR ]]; then
		_host2_env_write || return 1
		stack_programs_start "$HOST2_DIR" "$HOST2_DIR/monitoring.env" "$BIN_DIR" || return 1
	fi
}

harness_stop_pg() {
	pg_stop "$HARNESS_DIR/pg"
}

harness_start_pg() {
	pg_start "$HARNESS_DIR/pg" "$HARNESS_LOG_DIR/postgres.log"
}

POOLER_DIR=
POOLER_PORT=6432
pooler_start() {
	local pool=${1:-2}
	command -v pgbouncer >/dev/null || PATH=$PATH:/usr/sbin
	command -v pgbouncer >/dev/null || {
		lib_error "pooler_start: no pgbouncer (make deps installs it)"
		return 1
	}
	POOLER_DIR=$HARNESS_DIR/pgbouncer
	mkdir -p "$POOLER_DIR" || return 1
	printf '"monitor" ""\n"db_monitor" ""\n"postgres" ""\n' >"$POOLER_DIR/users.txt"
	{
		printf '[databases]\n* = host=%s\n[pgbouncer]\nlisten_addr =\n' "$PGHOST"
		printf 'listen_port = %s\nunix_socket_dir = %s\n' "$POOLER_PORT" "$POOLER_DIR"
		printf 'auth_type = trust\nauth_file = %s/users.txt\n' "$POOLER_DIR"
		printf 'pool_mode = transaction\nmax_client_conn = 40\ndefault_pool_size = %s\n' "$pool"
		printf 'logfile = %s/pgbouncer.log\npidfile = %s/pgbouncer.pid\n' "$POOLER_DIR" "$POOLER_DIR"
		printf 'admin_users = postgres\n'
	} >"$POOLER_DIR/pgbouncer.ini" || return 1
	if is_root; then
		chown -R postgres "$POOLER_DIR" || return 1
	fi
	as_pg pgbouncer -d "$POOLER_DIR/pgbouncer.ini" >>"$HARNESS_LOG_DIR/pgbouncer.out" 2>&1 || return 1
	wait_for 10 test -S "$POOLER_DIR/.s.PGSQL.$POOLER_PORT"
}

pooler_stop() {
	local pid
	[[ -n $POOLER_DIR && -f $POOLER_DIR/pgbouncer.pid ]] || return 0
	pid=$(cat "$POOLER_DIR/pgbouncer.pid")
	if pid_is "$pid" pgbouncer; then
		kill "$pid" 2>/dev/null || true
		wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
	fi
	cp "$POOLER_DIR/pgbouncer.log" "$HARNESS_LOG_DIR/" 2>/dev/null || true
	rm -f "$POOLER_DIR/pgbouncer.pid"
}

# ---------------------------------------------------------------------------
# Several hosts (HARNESS_HOSTS=2: the top of this file)

host_dir() {
	case $1 in
	1) printf '%s\n' "$HARNESS_DIR" ;;
	2) printf '%s\n' "${HOST2_DIR:?HARNESS_HOSTS=2 was not set before harness_start}" ;;
	*)
		lib_error "host_dir: no instance $1"
		return 1
		;;
	esac
}

host_env() {
	case $1 in
	1) printf '%s\n' "$MONITORING_ENV_FILE" ;;
	*) printf '%s/monitoring.env\n' "$(host_dir "$1")" ;;
	esac
}

host_cron() {
	local n=$1 dir env
	shift
	dir=$(host_dir "$n") && env=$(host_env "$n") || return 1
	MONITORING_ENV_FILE=$env "$BIN_DIR/cron" "$@" 2>>"$dir/log/cron.log"
}

# _host2_env_write: instance 2's env file, the first's with its own SPOOL_DIR.
_host2_env_write() {
	local f=$HOST2_DIR/monitoring.env
	cp -p "$MONITORING_ENV_FILE" "$f.tmp" &&
		env_set "$f.tmp" SPOOL_DIR "$HOST2_DIR/spool" &&
		chmod --reference="$MONITORING_ENV_FILE" "$f.tmp" &&
		mv -f "$f.tmp" "$f"
}

host_ticker_start() {
	local n=$1 every=$2 dir env
	dir=$(host_dir "$n") && env=$(host_env "$n") || return 1
	host_ticker_stop "$n" || return 1
	# shellcheck disable=SC2016 # the loop's own variables
	setsid bash -c 'trap "exit 0" TERM
		while :; do
			MONITORING_ENV_FILE=$1 "$2/cron" tick >>"$3/log/ticks.jsonl" 2>>"$3/log/cron.log" &
			echo $! >>"$3/run/ticks.pids"
			wait $!
			sleep "$4"
		done' host-ticker "$env" "$BIN_DIR" "$dir" "$every" </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/run/ticker-pid"
	# No "Killed" notice from this shell when host_kill ends it.
	disown "$!"
}

# _host_ticker_pid N: the live ticker loop of instance N (its pid file, and a bash running our loop).
_host_ticker_pid() {
	local f pid
	f=$(host_dir "$1")/run/ticker-pid || return 1
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	pid_is "$pid" host-ticker || return 1
	printf '%s\n' "$pid"
}

host_ticker_stop() {
	local pid dir
	dir=$(host_dir "$1") || return 1
	if pid=$(_host_ticker_pid "$1"); then
		# The loop is its session's leader: its process group is the loop and its tick.
		kill -TERM -- "-$pid" 2>/dev/null || true
		wait_for 30 bash -c "! kill -0 -- -$pid 2>/dev/null" || kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$dir/run/ticker-pid"
}

host_kill() {
	local n=$1 dir pid f prog
	dir=$(host_dir "$n") || return 1
	if pid=$(_host_ticker_pid "$n"); then
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	for f in "$dir"/run/*.pid; do
		[[ -e $f ]] || continue
		prog=$(basename "$f" .pid)
		[[ $prog == nginx ]] && continue
		for pid in $(fcgi_pids "$dir/run" "$prog"); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	rm -f "$dir/run/ticker-pid"
}

# _hosts_revive: start again the programs of an instance that are not running (host_kill).
_hosts_revive() {
	local n dir env prog
	for n in 1 2; do
		dir=$(host_dir "$n") && env=$(host_env "$n") || return 1
		for prog in $MONITORING_PROGRAMS; do
			[[ -n $(fcgi_pids "$dir/run" "$prog") ]] && continue
			fcgi_stop "$dir/run" "$prog" || return 1
			fcgi_start "$dir/run" "$prog" "$(fcgi_children "$prog")" "$env" "$BIN_DIR" \
				"$dir/log/$prog.log" || return 1
		done
	done
}

# _hosts_nginx_conf CONFDIR: every fastcgi_pass of CONFDIR/monitoring.conf to an upstream of
# both instances' sockets (CONFDIR/upstreams.conf, included in the http block), and a log of
# which one answered each request.
_hosts_nginx_conf() {
	local conf=$1 prog progs
	# Every program a route passes to (whether or not this run starts it).
	progs=$(sed -n -E "s#.*fastcgi_pass unix:$HARNESS_DIR/run/([a-z-]+)\.sock;.*#\1#p" \
		"$conf/monitoring.conf" | sort -u)
	{
		printf '# Written by harness.sh (HARNESS_HOSTS=2): each route to both instances.\n'
		printf 'log_format monitoring_upstream '\''$status $upstream_addr'\'';\n'
		printf 'access_log %s/nginx-upstream.log monitoring_upstream;\n' "$HARNESS_LOG_DIR"
		for prog in $progs; do
			printf 'upstream monitoring_%s {\n' "$prog"
			printf '    server unix:%s/run/%s.sock;\n' "$HARNESS_DIR" "$prog"
			printf '    server unix:%s/run/%s.sock;\n' "$HOST2_DIR" "$prog"
			printf '}\n'
		done
	} >"$conf/upstreams.conf" || return 1
	sed -i -E "s#fastcgi_pass unix:$HARNESS_DIR/run/([a-z-]+)\.sock;#fastcgi_pass monitoring_\1;#" \
		"$conf/monitoring.conf" || return 1
	if grep -q 'fastcgi_pass unix:' "$conf/monitoring.conf"; then
		lib_error "_hosts_nginx_conf: a route still passes to one socket"
		return 1
	fi
	sed -i "s#^http {#http {\n    include $conf/upstreams.conf;#" "$conf/nginx.conf"
}

# _harness_bail MESSAGE: setup failed; count it and end the script (the
# EXIT trap cleans up and prints the summary).
_harness_bail() {
	fail "harness: $1"
	HARNESS_BAILED=1
	exit 1
}

_harness_exit_trap() {
	local rc=$?
	if ((HARNESS_FINISHED)); then
		return
	fi
	if ((rc != 0 && !HARNESS_BAILED)); then
		fail "test script ended early with status $rc"
	fi
	harness_finish
	exit $?
}

_harness_err_trap() {
	printf 'harness: line %s: command failed (status %s): %s\n' "$1" "$3" "$2" >&2
}

harness_start() {
	local prog port try started=0
	if ((HARNESS_STARTED)); then
		lib_error "harness_start: already started"
		return 1
	fi
	HARNESS_STARTED=1
	trap _harness_exit_trap EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [[ $- == *e* ]]; then
		trap '_harness_err_trap "$LINENO" "$BASH_COMMAND" "$?"' ERR
	fi

	for prog in $MONITORING_PROGRAMS cron; do
		[[ -x $BIN_DIR/$prog ]] || _harness_bail "no program $BIN_DIR/$prog (run make)"
	done
	for prog in spawn-fcgi nginx curl; do
		command -v "$prog" >/dev/null || _harness_bail "$prog is not installed"
	done

	HARNESS_DIR=$(mktemp -d "${HARNESS_TMPDIR:-/tmp}/monitoring-it.XXXXXX") ||
		_harness_bail "mktemp failed"
	HARNESS_LOG_DIR=$HARNESS_DIR/log
	PGHOST=$HARNESS_DIR/run
	MONITORING_ENV_FILE=$HARNESS_DIR/monitoring.env
	export HARNESS_DIR HARNESS_LOG_DIR PGHOST MONITORING_ENV_FILE
	printf 'harness: %s\n' "$HARNESS_DIR"

	stack_prepare_dirs "$HARNESS_DIR" || _harness_bail "cannot prepare $HARNESS_DIR"
	# A throwaway cluster: durability off, for speed, unless asked for (make bench).
	local pg_settings=("fsync = off" "synchronous_commit = off" "full_page_writes = off")
	[[ ${HARNESS_PG_DURABLE:-0} == 1 ]] && pg_settings=()
	pg_init_cluster "$HARNESS_DIR/pg" "$PGHOST" "${pg_settings[@]}" ||
		_harness_bail "initdb failed"
	harness_start_pg || _harness_bail "PostgreSQL did not start"
	pg_setup_databases "$PGHOST" || _harness_bail "creating the databases failed"

	API_TOKEN=$(random_hex 32)
	export API_TOKEN
	env_file_write "$MONITORING_ENV_FILE" "$PGHOST" "$API_TOKEN" UTC "$HARNESS_DIR/spool" ||
		_harness_bail "cannot write $MONITORING_ENV_FILE"
	PLATFORM_KEY=$(env_get "$MONITORING_ENV_FILE" PLATFORM_API_KEY)
	export PLATFORM_KEY

	if ! harness_cron migrate >"$HARNESS_LOG_DIR/migrate.out"; then
		tail -n 20 "$HARNESS_LOG_DIR/cron.log" >&2
		_harness_bail "cron migrate failed"
	fi

	_harness_snapshot || _harness_bail "cannot snapshot the migrated state database"

	stack_programs_start "$HARNESS_DIR" "$MONITORING_ENV_FILE" "$BIN_DIR" ||
		_harness_bail "the programs did not start"
	case $HARNESS_HOSTS in
	1) ;;
	2)
		HOST2_DIR=$HARNESS_DIR/host2
		export HOST2_DIR
		stack_prepare_dirs "$HOST2_DIR" && mkdir -p "$HOST2_DIR/spool" ||
			_harness_bail "cannot prepare $HOST2_DIR"
		_host2_env_write || _harness_bail "cannot write $HOST2_DIR/monitoring.env"
		stack_programs_start "$HOST2_DIR" "$HOST2_DIR/monitoring.env" "$BIN_DIR" ||
			_harness_bail "the second instance's programs did not start"
		;;
	*) _harness_bail "HARNESS_HOSTS=$HARNESS_HOSTS (1 or 2)" ;;
	esac

	# free_port can race with another process; try a few ports.
	for try in 1 2 3 4 5; do
		port=$(free_port) || break
		nginx_write_conf "$HARNESS_DIR/nginx" "$port" "$HARNESS_DIR/run" "$HARNESS_LOG_DIR" ||
			_harness_bail "cannot write the nginx configuration"
		if [[ -n $HOST2_DIR ]]; then
			_hosts_nginx_conf "$HARNESS_DIR/nginx" || _harness_bail "cannot write the nginx upstreams"
		fi
		if nginx_start "$HARNESS_DIR/nginx"; then
			started=1
			break
		fi
		lib_warn "nginx did not start on port $port (try $try)"
	done
	((started)) || _harness_bail "nginx did not start"
	HTTP_BASE=http://127.0.0.1:$port
	export HTTP_BASE
	wait_for 10 curl -s -o /dev/null "$HTTP_BASE/" || _harness_bail "nginx does not answer on $HTTP_BASE"
}

# _harness_logs: the stack's log files (with HARNESS_HOSTS=2 the second instance's too).
_harness_logs() {
	local f
	for f in "$HARNESS_LOG_DIR"/*.log ${HOST2_DIR:+"$HOST2_DIR"/log/*.log}; do
		[[ -f $f ]] && printf '%s\n' "$f"
	done
	return 0
}

# _harness_log_name FILE: its name in a message (host2/NAME for the second instance's).
_harness_log_name() {
	if [[ -n $HOST2_DIR && $1 == "$HOST2_DIR"/* ]]; then
		printf 'host2/%s' "$(basename "$1")"
	else
		basename "$1"
	fi
}

# _harness_check_sanitizers: one failure per program log holding a
# sanitizer report, with the report shown.
_harness_check_sanitizers() {
	local f logs
	mapfile -t logs < <(_harness_logs)
	for f in "${logs[@]}"; do
		case $(basename "$f") in
		postgres.log | nginx-*.log) continue ;;
		esac
		if grep -qE "$HARNESS_SANITIZER_RE" "$f"; then
			fail "sanitizer report in $(_harness_log_name "$f")"
			{ grep -E -A 25 "$HARNESS_SANITIZER_RE" "$f" | head -n 80 | sed 's/^/       /'; } || true
		fi
	done
}

# _harness_check_secrets: one failure per secret of the env file (the CFG_SECRET
# settings, 8 characters or more) found in a log the stack wrote: the programs',
# cron's, nginx's and PostgreSQL's. The mock's own log is left out: it stands in
# for Meta and Twilio, which are sent the tokens.
HARNESS_SECRET_KEYS="MONITORING_API_TOKEN PLATFORM_API_KEY TENANT_JWT_SECRET TENANT_CODE_SECRET META_WHATSAPP_TOKEN META_APP_SECRET WEBHOOK_VERIFY_TOKEN TWILIO_AUTH_TOKEN"
_harness_check_secrets() {
	local key value f logs
	[[ -n ${MONITORING_ENV_FILE:-} && -f $MONITORING_ENV_FILE && -n ${HARNESS_LOG_DIR:-} ]] || return 0
	mapfile -t logs < <(_harness_logs)
	for key in $HARNESS_SECRET_KEYS; do
		value=$(env_get "$MONITORING_ENV_FILE" "$key")
		((${#value} >= 8)) || continue
		for f in "${logs[@]}"; do
			[[ $(basename "$f") != mock.log ]] || continue
			if grep -qF -- "$value" "$f"; then
				fail "the value of $key appears in $(_harness_log_name "$f")"
				{ grep -nF -- "$value" "$f" | head -n 3 | sed "s/$value/<$key>/g; s/^/       /"; } || true
			fi
		done
	done
}

_harness_show_logs() {
	local f logs
	mapfile -t logs < <(_harness_logs)
	for f in "${logs[@]}"; do
		[[ -s $f ]] || continue
		printf -- '--- last lines of %s\n' "$(_harness_log_name "$f")"
		{ tail -n 15 "$f" | sed 's/^/    /'; } || true
	done
}

harness_finish() {
	local rc=0 stopped=1
	if ((HARNESS_FINISHED)); then
		return $((HARNESS_FAILED > 0))
	fi
	HARNESS_FINISHED=1
	trap - ERR
	if [[ -n $HARNESS_DIR && -d $HARNESS_DIR ]]; then
		nginx_stop "$HARNESS_DIR/nginx" || stopped=0
		if [[ -n $HOST2_DIR ]]; then
			host_ticker_stop 1 || stopped=0
			host_ticker_stop 2 || stopped=0
			stack_programs_stop "$HOST2_DIR" || stopped=0
		fi
		stack_programs_stop "$HARNESS_DIR" || stopped=0
		pooler_stop || stopped=0
		if [[ -f $HARNESS_DIR/pg/PG_VERSION ]]; then
			pg_stop "$HARNESS_DIR/pg" || stopped=0
		fi
		_harness_check_sanitizers
		_harness_check_secrets
		if ((HARNESS_FAILED > 0)); then
			_harness_show_logs
		fi
		if [[ ${HARNESS_KEEP:-0} == 1 ]] || ((!stopped)); then
			printf 'harness: kept %s\n' "$HARNESS_DIR"
		else
			rm -rf "$HARNESS_DIR"
		fi
	fi
	printf '%d passed, %d failed\n' "$HARNESS_PASSED" "$HARNESS_FAILED"
	((HARNESS_FAILED == 0)) || rc=1
	return "$rc"
}

# ---------------------------------------------------------------------------
# Scenarios: each from a known state (see the top of this file)

# _harness_snapshot: what harness_reset goes back to: the state database as the
# migrations left it (their seeded rows, as pg_dump's data)
# and the env file as harness_start wrote it.
_harness_snapshot() {
	local bindir
	bindir=$(pg_bindir) || return 1
	cp -p "$MONITORING_ENV_FILE" "$HARNESS_DIR/monitoring.env.start" || return 1
	cp -p "$MONITORING_ENV_FILE" "$HARNESS_DIR/programs.env" || return 1
	"$bindir/pg_dump" -h "$PGHOST" -U postgres --data-only --schema=public \
		--file="$HARNESS_DIR/seed.sql" monitoring 2>>"$HARNESS_LOG_DIR/cron.log"
}

# harness_env_baseline: the env file as it is now (a script's own settings, the
# programs restarted with them) is the one harness_reset puts back.
harness_env_baseline() {
	cp -p "$MONITORING_ENV_FILE" "$HARNESS_DIR/monitoring.env.start"
}

# _harness_same_env A B: the two env files have the same bytes and mode.
_harness_same_env() {
	cmp -s "$1" "$2" && [[ $(stat -c %a "$1") == "$(stat -c %a "$2")" ]]
}

HARNESS_SCENARIO_SETUP=
harness_scenario_setup() {
	HARNESS_SCENARIO_SETUP=$1
}

# harness_reset: the state database, the mock, the spool and the env file as
# the stack started (the top of this file says what a scenario may rely on).
# PostgreSQL is started if a scenario left it down.
harness_reset() {
	local start=$HARNESS_DIR/monitoring.env.start
	if [[ -n $HOST2_DIR ]]; then
		host_ticker_stop 1 && host_ticker_stop 2 || return 1
	fi
	if ! _harness_same_env "$MONITORING_ENV_FILE" "$start"; then
		cp "$start" "$MONITORING_ENV_FILE" || return 1
		chmod --reference="$start" "$MONITORING_ENV_FILE" || return 1
	fi
	# A restart costs seconds under ASan: only when the programs run with another file.
	if ! _harness_same_env "$HARNESS_DIR/programs.env" "$start"; then
		harness_restart_programs || return 1
	fi
	pg_is_running "$HARNESS_DIR/pg" || harness_start_pg || return 1
	# Every table of public emptied and the seed put back, in one transaction: a
	# drain still running waits for it or finishes first. Sequences go on counting
	# (the seed's setval lines are left out): an id in a log names one row of one
	# scenario, never two.
	{
		printf 'BEGIN;\n'
		printf '%s\n' "SELECT 'TRUNCATE ' || string_agg(format('%I.%I', schemaname, tablename), ', ')
			|| ' CASCADE' FROM pg_tables WHERE schemaname = 'public' \gexec"
		grep -v '^SELECT pg_catalog.setval' "$HARNESS_DIR/seed.sql"
		printf 'COMMIT;\n'
	} | pg_psql "$PGHOST" monitoring >/dev/null || return 1
	find "$HARNESS_DIR/spool" -mindepth 1 -delete 2>/dev/null || true
	mkdir -p "$HARNESS_DIR/spool" || return 1
	if [[ -n $HOST2_DIR ]]; then
		find "$HOST2_DIR/spool" -mindepth 1 -delete 2>/dev/null || true
		mkdir -p "$HOST2_DIR/spool" && _host2_env_write && _hosts_revive || return 1
		rm -f "$HARNESS_DIR"/run/ticks.pids "$HARNESS_LOG_DIR"/ticks.jsonl \
			"$HOST2_DIR"/run/ticks.pids "$HOST2_DIR"/log/ticks.jsonl
	fi
	if [[ -n $MOCK_PID ]]; then
		mock_reset || return 1
	fi
	if [[ -n $HARNESS_SCENARIO_SETUP ]]; then
		"$HARNESS_SCENARIO_SETUP" || return 1
	fi
}

# harness_scenarios NAME...: run scenario_NAME for each, after harness_reset,
# in the order SCENARIOS and SCENARIO_ORDER choose.
harness_scenarios() {
	local names=("$@") name i j t seed t0
	if [[ -n ${SCENARIOS:-} ]]; then
		read -r -a names <<<"${SCENARIOS//,/ }"
	fi
	case ${SCENARIO_ORDER:-natural} in
	natural) ;;
	reverse)
		for ((i = 0, j = ${#names[@]} - 1; i < j; i++, j--)); do
			t=${names[i]} names[i]=${names[j]} names[j]=$t
		done
		;;
	shuffle)
		seed=${SCENARIO_SEED:-$RANDOM}
		printf 'harness: SCENARIO_ORDER=shuffle SCENARIO_SEED=%s\n' "$seed"
		RANDOM=$seed
		for ((i = ${#names[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			t=${names[i]} names[i]=${names[j]} names[j]=$t
		done
		;;
	*)
		fail "harness: SCENARIO_ORDER=$SCENARIO_ORDER (natural, reverse or shuffle)"
		return 0
		;;
	esac
	for name in "${names[@]}"; do
		if ! declare -F "scenario_$name" >/dev/null; then
			fail "harness: no scenario $name in $(basename "$0")"
			continue
		fi
		t0=$EPOCHREALTIME
		harness_reset || _harness_bail "harness_reset before scenario $name failed"
		printf -- '--- scenario %s (reset: %d ms)\n' "$name" \
			$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
		_harness_scenario_run "$name"
	done
}

# _harness_scenario_run NAME: scenario_NAME in a subshell, so that the shell
# variables, exports and functions it sets do not reach the next one; its
# counts come back through a file (named by a global, not a local: the EXIT
# trap runs in the scenario's scope, where a variable of the scenario's own
# called `counts` once sent them elsewhere). Under errexit (as the script had it) a
# command that fails ends the scenario, counted as one failure, and the
# script goes on with the next.
_harness_scenario_run() {
	local name=$1 rc errexit=0
	[[ $- == *e* ]] && errexit=1
	_HARNESS_COUNTS=$HARNESS_DIR/scenario.counts
	rm -f "$_HARNESS_COUNTS"
	set +e
	(
		trap 'printf "%s %s\n" "$HARNESS_PASSED" "$HARNESS_FAILED" >"$_HARNESS_COUNTS"' EXIT
		if ((errexit)); then
			set -eE
			trap '_harness_err_trap "$LINENO" "$BASH_COMMAND" "$?"' ERR
		fi
		"scenario_$name"
	)
	rc=$?
	((errexit)) && set -e
	if [[ -f $_HARNESS_COUNTS ]]; then
		read -r HARNESS_PASSED HARNESS_FAILED <"$_HARNESS_COUNTS"
	fi
	if ((rc != 0)); then
		fail "scenario $name ended early with status $rc"
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Provider mock: tests/mock/provider_mock.py, a local stand-in for Meta's
# Cloud API send endpoint and Twilio's Messages API (its header comment
# describes the endpoints, the records and the rule format).
#
#   mock_start           start it on a free loopback port (call it after
#       harness_start, or with HARNESS_DIR and HARNESS_LOG_DIR set): records
#       to $HARNESS_DIR/mock.jsonl, output in $HARNESS_LOG_DIR/mock.log, pid
#       in $HARNESS_DIR/mock.pid; exports MOCK_URL=http://127.0.0.1:PORT
#       and sets MOCK_PID. Send paths: $MOCK_URL/v25.0/<id>/messages and
#       $MOCK_URL/2010-04-01/Accounts/<sid>/Messages.json.
#   mock_stop            stop it (the EXIT trap does it too)
#   mock_script JSON     replace the scripted rules (POST /__mock/script)
#   mock_default JSON    set the default answer (POST /__mock/default)
#   mock_reset           clear rules, default and records
#   mock_requests [SEQ]  print the recorded send requests, a JSON list (with
#       SEQ, only those after it)
#   mock_count [SEQ]     print how many send requests were recorded
# The control helpers leave HTTP_* alone and fail (status 1, message on
# stderr) when the mock does not answer 2xx, so a bad script ends a test
# under `set -e` instead of going unnoticed.
#
# Stopping: harness_finish has no list of things to clean up, so mock_start
# wraps whatever EXIT trap is in place (harness_start's _harness_exit_trap):
# the new trap stops the mock, then runs the previous trap with the same $?
# (and errexit as it was). A script that sets its own EXIT trap after
# mock_start must call mock_stop itself. As a safety net the mock also exits
# by itself once this shell is gone (--watch-pid $$).

MOCK_URL=
MOCK_PID=
_MOCK_PREV_EXIT_TRAP=

# _mock_return STATUS: a command whose status is STATUS.
_mock_return() {
	return "$1"
}

_mock_exit_trap() {
	local rc=$?
	mock_stop >/dev/null 2>&1 || true
	if [[ -z $_MOCK_PREV_EXIT_TRAP ]]; then
		return "$rc"
	fi
	# Both branches start with $? = rc: a condition's failure does not
	# trip errexit, and errexit stays on inside the branch. A trap that is
	# one word (_harness_exit_trap) is called directly: bash 5.2 complains
	# ("pop_var_context") when errexit ends the shell inside an eval there.
	if [[ $_MOCK_PREV_EXIT_TRAP =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
		if _mock_return "$rc"; then
			"$_MOCK_PREV_EXIT_TRAP"
		else
			"$_MOCK_PREV_EXIT_TRAP"
		fi
	elif _mock_return "$rc"; then
		eval "$_MOCK_PREV_EXIT_TRAP"
	else
		eval "$_MOCK_PREV_EXIT_TRAP"
	fi
}

# _mock_hook_exit_trap: put _mock_exit_trap in front of the current EXIT trap.
_mock_hook_exit_trap() {
	local current words=()
	current=$(trap -p EXIT)
	if [[ $current == *_mock_exit_trap* ]]; then
		return 0
	fi
	_MOCK_PREV_EXIT_TRAP=
	if [[ -n $current ]]; then
		# `trap -p` prints: trap -- 'COMMAND' EXIT, quoted for eval.
		eval "words=($current)"
		_MOCK_PREV_EXIT_TRAP=${words[2]}
	fi
	trap _mock_exit_trap EXIT
}

# _mock_started_or_gone: the mock printed its port, or it is not running.
_mock_started_or_gone() {
	grep -q '^PORT=[0-9]' "$HARNESS_LOG_DIR/mock.log" 2>/dev/null || ! pid_alive "$MOCK_PID"
}

mock_start() {
	local port
	if [[ -n $MOCK_PID ]] && pid_alive "$MOCK_PID"; then
		lib_error "mock_start: the mock already runs (pid $MOCK_PID)"
		return 1
	fi
	if [[ -z ${HARNESS_DIR:-} || ! -d $HARNESS_DIR || -z ${HARNESS_LOG_DIR:-} ]]; then
		lib_error "mock_start: HARNESS_DIR is not set up (call harness_start first)"
		return 1
	fi
	if ! command -v python3 >/dev/null; then
		lib_error "mock_start: python3 is not installed"
		return 1
	fi
	mkdir -p "$HARNESS_LOG_DIR" || return 1
	rm -f "$HARNESS_DIR/mock.pid"
	python3 "$REPO_ROOT/tests/mock/provider_mock.py" --port 0 \
		--record "$HARNESS_DIR/mock.jsonl" --pidfile "$HARNESS_DIR/mock.pid" \
		--watch-pid "$$" </dev/null >"$HARNESS_LOG_DIR/mock.log" 2>&1 &
	MOCK_PID=$!
	_mock_hook_exit_trap
	# Python's start-up takes well under a second, but seen past 10 s on a 2-core machine
	# loaded by sanitizer builds and browsers: a generous wait, ended early by the PORT line.
	wait_for "${MOCK_START_TIMEOUT:-60}" _mock_started_or_gone || true
	port=$(sed -n 's/^PORT=\([0-9][0-9]*\)$/\1/p' "$HARNESS_LOG_DIR/mock.log" | head -n 1)
	if [[ -z $port ]]; then
		lib_error "mock_start: the mock did not start within ${MOCK_START_TIMEOUT:-60} s; $HARNESS_LOG_DIR/mock.log:"
		tail -n 20 "$HARNESS_LOG_DIR/mock.log" >&2 || true
		mock_stop || true
		return 1
	fi
	MOCK_URL=http://127.0.0.1:$port
	export MOCK_URL
	if ! wait_for 30 curl -sf -o /dev/null --max-time 2 "$MOCK_URL/__mock/count"; then
		lib_error "mock_start: the mock does not answer on $MOCK_URL"
		mock_stop || true
		return 1
	fi
}

mock_stop() {
	local pid=$MOCK_PID
	[[ -n $pid ]] || return 0
	stop_pids provider_mock.py 5 TERM "$pid" || return 1
	wait "$pid" 2>/dev/null || true
	MOCK_PID=
	if [[ -n ${HARNESS_DIR:-} ]]; then
		rm -f "$HARNESS_DIR/mock.pid"
	fi
}

# _mock_call METHOD PATH [JSON]: a control request; prints the answer's body,
# fails unless it is 2xx.
_mock_call() {
	local method=$1 path=$2 out status
	if [[ -z $MOCK_URL ]]; then
		lib_error "mock: not started (mock_start)"
		return 1
	fi
	if (($# > 2)); then
		out=$(printf '%s' "$3" | curl -sS -X "$method" --max-time 30 \
			-H 'Content-Type: application/json' --data-binary @- \
			-w '\n%{http_code}' "$MOCK_URL$path") || out=$'\n000'
	else
		out=$(curl -sS -X "$method" --max-time 30 -w '\n%{http_code}' "$MOCK_URL$path") ||
			out=$'\n000'
	fi
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [[ $status != 2?? ]]; then
		lib_error "mock: $method $path answered $status: $out"
		return 1
	fi
	printf '%s\n' "$out"
}

# mock_twilio_auth SID TOKEN: the Twilio credentials the mock requires (Basic auth, the path's
# account) and signs status callbacks with; with no arguments, none (any Basic auth is taken).
mock_twilio_auth() {
	if (($# == 2)); then
		_mock_call POST /__mock/twilio "$(jq -cn --arg s "$1" --arg t "$2" '{account_sid: $s, auth_token: $t}')" >/dev/null
	else
		_mock_call POST /__mock/twilio '{}' >/dev/null
	fi
}

# mock_callback JSON: the mock sends a message's signed status callback ({"sid", "status"[,
# "error_code", "url", "sign_url"]}); prints {"status": <our answer's status>, "body": ...}.
mock_callback() {
	_mock_call POST /__mock/callback "$1"
}

mock_script() {
	_mock_call POST /__mock/script "$1" >/dev/null
}

mock_default() {
	_mock_call POST /__mock/default "$1" >/dev/null
}

mock_reset() {
	_mock_call POST /__mock/reset >/dev/null
}

mock_requests() {
	_mock_call GET "/__mock/requests?since=${1:-0}"
}

mock_count() {
	local out
	out=$(_mock_call GET "/__mock/count?since=${1:-0}") || return 1
	if [[ $out =~ \"count\":\ *([0-9]+) ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	else
		lib_error "mock_count: unexpected answer: $out"
		return 1
	fi
}
