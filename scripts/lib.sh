# shellcheck shell=bash
# scripts/lib.sh: shell functions shared by scripts/dev-up, scripts/dev-down
# and the integration-test harness (tests/integration/harness.sh).
#
# Source it from bash; it defines functions and a few variables and runs
# nothing else. Functions report problems on stderr and return non-zero;
# they never exit, so callers decide (`|| die ...`, or `set -e`).
#
# Privileges. PostgreSQL refuses to run as root, so when we are root
# initdb/pg_ctl run as the `postgres` user (runuser -u postgres --), the data
# directory belongs to it and the socket directory is writable by it. nginx's
# master stays root and its workers run as www-data; the FastCGI programs run
# as the invoking user, their sockets root:www-data 0660 in a run directory
# of mode 0750 (owner postgres, group www-data). When we are not root,
# everything runs as the invoking user and no ownership changes happen.
#
# Stopping. Only processes we started are stopped, and only through the pid
# files they recorded (spawn-fcgi -P, nginx `pid`, PostgreSQL's
# postmaster.pid through pg_ctl). A pid whose command line does not look like
# the program we started (a stale pid file after a reboot) is left alone.
#
# Layout of a stack directory BASE (var/ for dev, a mktemp dir for tests):
#   BASE/pg/            PostgreSQL data directory
#   BASE/run/           PostgreSQL socket, <prog>.sock, <prog>.pid, nginx.pid
#   BASE/log/           postgres.log, nginx-*.log, <prog>.log, cron.log
#   BASE/nginx/         nginx.conf, monitoring.conf, tmp/
#   BASE/monitoring.env the programs' env file

if [[ -n "${MONITORING_LIB_SOURCED:-}" ]]; then
	return 0
fi
MONITORING_LIB_SOURCED=1

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Every program here (and so every one this library starts) loads GnuTLS without using it:
# libpq needs libldap, which links it. Its library constructor initialises it all the same,
# about 0.8 MB resident per process; with this set it waits for an explicit
# gnutls_global_init(), which libldap makes itself should it ever need TLS. The systemd units
# and crontab.example set it too.
export GNUTLS_NO_IMPLICIT_INIT=1

# nginx lives in /usr/sbin, which is not on an ordinary user's PATH on Debian.
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;;
esac

# The FastCGI programs of the stack, each behind one nginx location.
MONITORING_PROGRAMS=${MONITORING_PROGRAMS:-"check test-alert metrics configure health alerts webhook tenants events alertmanager"}

# ---------------------------------------------------------------------------
# Messages and small helpers

lib_info() { printf '==> %s\n' "$*"; }
lib_warn() { printf 'warning: %s\n' "$*" >&2; }
lib_error() { printf 'error: %s\n' "$*" >&2; }
# die MESSAGE: for scripts (not used inside library functions).
die() {
	lib_error "$*"
	exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# abs_path PATH: PATH made absolute (need not exist yet).
abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

# random_hex NBYTES: NBYTES random bytes from /dev/urandom as hex.
random_hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
	printf '\n'
}

# random_whsec: a Standard Webhooks secret, whsec_ and the base64 of 32 random bytes
# (EVENTS_SIGNING_SECRET).
random_whsec() {
	printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64 -w0)"
}

# wait_for SECONDS COMMAND [ARGS...]: run COMMAND every 0.1 s until it
# succeeds (0) or SECONDS have passed (1).
wait_for() {
	local timeout=$1
	shift
	local now end
	now=${EPOCHREALTIME//[!0-9]/}
	end=$((now + timeout * 1000000))
	while :; do
		if "$@"; then
			return 0
		fi
		now=${EPOCHREALTIME//[!0-9]/}
		if ((now >= end)); then
			return 1
		fi
		sleep 0.1
	done
}

# free_port: print a loopback TCP port nothing is bound to right now.
# Picked from 20000-32767, below Linux's ephemeral range (32768-60999), and
# checked against /proc/net/tcp{,6} and by trying to connect. Another process
# can still take it before we bind; nginx_start fails loudly if so.
free_port() {
	local i port hex
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + RANDOM % 12768))
		printf -v hex '%04X' "$port"
		if [[ -r /proc/net/tcp ]] &&
			grep -qE "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			continue
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		printf '%s\n' "$port"
		return 0
	done
	lib_error "free_port: no free port found"
	return 1
}

# render_template IN OUT NAME=VALUE...: copy IN to OUT replacing each @NAME@
# by VALUE. Fails if an upper-case @PLACEHOLDER@ is left over.
render_template() {
	local in=$1 out=$2
	shift 2
	local text kv name value left
	text=$(<"$in") || return 1
	for kv in "$@"; do
		name=${kv%%=*}
		value=${kv#*=}
		# Quoted replacement: '&' in VALUE stays literal (bash 5.2 patsub).
		text=${text//"@$name@"/"$value"}
	done
	left=$(grep -oE '@[A-Z][A-Z0-9_]*@' <<<"$text" | sort -u | tr '\n' ' ') || true
	if [[ -n $left ]]; then
		lib_error "render_template $in: unreplaced placeholders: $left"
		return 1
	fi
	printf '%s\n' "$text" >"$out.tmp" && mv -f "$out.tmp" "$out"
}

# check_socket_path PATH: Unix socket paths are limited to 107 bytes.
check_socket_path() {
	if ((${#1} > 100)); then
		lib_error "socket path too long (${#1} bytes, max 100): $1; use a shorter directory"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Processes, through pid files only

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	local pid=$1 state
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/stat ]]; then
		state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
		[[ $state != Z ]] || return 1
	fi
	return 0
}

# pid_is PID WORD: PID is alive and its command line contains WORD (guards
# against a stale pid file naming a pid reused by an unrelated process).
pid_is() {
	local pid=$1 word=$2 cmd
	pid_alive "$pid" || return 1
	[[ -r /proc/$pid/cmdline ]] || return 0
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$word"* ]]
}

# pidfile_pids FILE: the pids listed in FILE, one per line (spawn-fcgi -F N
# writes N lines, the last without a newline).
pidfile_pids() {
	local pid
	[[ -r $1 ]] || return 0
	while IFS= read -r pid || [[ -n $pid ]]; do
		pid=${pid//[!0-9]/}
		[[ -n $pid ]] && printf '%s\n' "$pid"
	done <"$1"
}

# pids_all_gone PID...: none of the PIDs is alive.
pids_all_gone() {
	local pid
	for pid in "$@"; do
		if pid_alive "$pid"; then
			return 1
		fi
	done
	return 0
}

# stop_pids WORD TIMEOUT SIGNAL PID...: send SIGNAL to each PID whose command
# line contains WORD, wait up to TIMEOUT seconds, then SIGKILL what is left.
stop_pids() {
	local word=$1 timeout=$2 sig=$3
	shift 3
	local pid live=()
	for pid in "$@"; do
		if pid_is "$pid" "$word"; then
			kill "-$sig" "$pid" 2>/dev/null || true
			live+=("$pid")
		fi
	done
	((${#live[@]})) || return 0
	if ! wait_for "$timeout" pids_all_gone "${live[@]}"; then
		lib_warn "$word: still running after ${timeout}s, sending SIGKILL to ${live[*]}"
		for pid in "${live[@]}"; do
			pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
		done
		wait_for 5 pids_all_gone "${live[@]}" || {
			lib_error "$word: could not stop ${live[*]}"
			return 1
		}
	fi
	return 0
}

# ---------------------------------------------------------------------------
# PostgreSQL

# pg_bindir: the PostgreSQL server binaries' directory ($PG_BINDIR, else the
# newest /usr/lib/postgresql/*/bin, else wherever initdb is on PATH).
pg_bindir() {
	if [[ -z ${PG_BINDIR:-} ]]; then
		local initdb
		initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
		if [[ -x $initdb ]]; then
			PG_BINDIR=${initdb%/initdb}
		elif initdb=$(command -v initdb); then
			PG_BINDIR=${initdb%/initdb}
		else
			lib_error "PostgreSQL server binaries not found (install postgresql or set PG_BINDIR)"
			return 1
		fi
	fi
	printf '%s\n' "$PG_BINDIR"
}

# as_pg COMMAND [ARGS...]: run COMMAND as the postgres user when we are
# root (from / so it never needs access to our working directory), else as
# ourselves.
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# pg_init_cluster DATADIR SOCKDIR [SETTING...]: initdb a cluster in DATADIR
# (nothing to do if it already holds one) whose only way in is a Unix socket
# in SOCKDIR (listen_addresses = '', trust for local connections, TCP
# rejected), superuser `postgres`, pg_stat_statements preloaded. Each
# SETTING ("name = value") is appended to postgresql.conf; with "fsync = off"
# initdb also skips its syncs. Both paths must be absolute.
pg_init_cluster() {
	local datadir=$1 sockdir=$2
	shift 2
	local bindir setting nosync=()
	bindir=$(pg_bindir) || return 1
	if [[ $datadir != /* || $sockdir != /* ]]; then
		lib_error "pg_init_cluster: paths must be absolute: $datadir $sockdir"
		return 1
	fi
	if [[ $sockdir == *"'"* ]]; then
		lib_error "pg_init_cluster: socket directory must not contain a quote: $sockdir"
		return 1
	fi
	check_socket_path "$sockdir/.s.PGSQL.5432" || return 1
	if [[ -f $datadir/PG_VERSION ]]; then
		return 0
	fi
	mkdir -p "$datadir" "$sockdir" || return 1
	chmod 0700 "$datadir"
	if is_root; then
		chown postgres:postgres "$datadir" || return 1
		chown postgres "$sockdir" || return 1
		if ! runuser -u postgres -- test -w "$datadir" -a -w "$sockdir"; then
			lib_error "user postgres cannot reach $datadir and $sockdir: make their parent directories traversable (chmod o+x) or use another directory"
			return 1
		fi
	fi
	for setting in "$@"; do
		[[ $setting =~ ^fsync[[:space:]]*=[[:space:]]*off$ ]] && nosync=(--no-sync)
	done
	if ! as_pg "$bindir/initdb" -D "$datadir" -U postgres -E UTF8 --no-locale \
		--auth-local=trust --auth-host=reject "${nosync[@]}" >"$datadir.initdb.log" 2>&1; then
		lib_error "initdb failed:"
		cat "$datadir.initdb.log" >&2
		return 1
	fi
	rm -f "$datadir.initdb.log"
	{
		printf '\n# Added by scripts/lib.sh pg_init_cluster.\n'
		printf "listen_addresses = ''\n"
		printf "unix_socket_directories = '%s'\n" "$sockdir"
		printf 'unix_socket_permissions = 0700\n'
		printf "shared_preload_libraries = 'pg_stat_statements'\n"
		for setting in "$@"; do
			printf '%s\n' "$setting"
		done
	} >>"$datadir/postgresql.conf"
}

# pg_is_running DATADIR
pg_is_running() {
	local bindir
	bindir=$(pg_bindir) || return 1
	[[ -f $1/postmaster.pid ]] || return 1
	as_pg "$bindir/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_start DATADIR [LOGFILE]: start the cluster (nothing to do if it runs)
# and wait until it accepts connections. LOGFILE defaults to
# DATADIR/../log/postgres.log.
pg_start() {
	local datadir=$1
	local logfile=${2:-$(dirname "$1")/log/postgres.log}
	local bindir
	bindir=$(pg_bindir) || return 1
	if pg_is_running "$datadir"; then
		return 0
	fi
	mkdir -p "$(dirname "$logfile")" && touch "$logfile" || return 1
	if is_root; then
		chown postgres "$logfile" || return 1
	fi
	if ! as_pg "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 start >/dev/null; then
		lib_error "PostgreSQL did not start; the end of $logfile:"
		tail -n 20 "$logfile" >&2
		return 1
	fi
}

# pg_stop DATADIR: fast shutdown; nothing to do if it is not running.
pg_stop() {
	local datadir=$1 bindir
	bindir=$(pg_bindir) || return 1
	if ! pg_is_running "$datadir"; then
		return 0
	fi
	as_pg "$bindir/pg_ctl" -D "$datadir" -m fast -w -t 60 stop >/dev/null
}

# pg_psql SOCKDIR DBNAME [PSQL ARGS...]: psql as the superuser `postgres`
# (trust over the socket, so no runuser needed), stopping at the first error,
# notices silenced.
pg_psql() {
	local sockdir=$1 db=$2 bindir
	shift 2
	bindir=$(pg_bindir) || return 1
	PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" \
		"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sockdir" -U postgres -d "$db" "$@"
}

# pg_setup_databases SOCKDIR: create (if missing) role `monitor` owning
# database `monitoring` (the state DB), database `shop` (the monitored demo
# DB) with pg_stat_statements and an `orders` table, and role `db_monitor`
# (pg_monitor; CONNECT on shop, USAGE on public, SELECT on orders and on
# every sequence in public). Idempotent.
pg_setup_databases() {
	local sockdir=$1
	pg_psql "$sockdir" postgres <<'SQL' || return 1
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor') THEN
		CREATE ROLE monitor LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'db_monitor') THEN
		CREATE ROLE db_monitor LOGIN;
	END IF;
END
$$;
GRANT pg_monitor TO db_monitor;
SELECT 'CREATE DATABASE monitoring OWNER monitor'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'monitoring') \gexec
SELECT 'CREATE DATABASE shop'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'shop') \gexec
GRANT CONNECT ON DATABASE shop TO db_monitor;
SQL
	pg_psql "$sockdir" shop <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE IF NOT EXISTS orders (
	id bigserial PRIMARY KEY,
	created_at timestamptz NOT NULL DEFAULT now(),
	amount numeric
);
CREATE INDEX IF NOT EXISTS orders_created_at_idx ON orders (created_at);
GRANT USAGE ON SCHEMA public TO db_monitor;
GRANT SELECT ON orders TO db_monitor;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO db_monitor;
SQL
}

# pg_seed_demo_orders SOCKDIR TIMEZONE: fill shop.orders with demo data if
# it is empty: the 8 previous days (in TIMEZONE) at about 300 orders a day,
# spread over each day, and today at about a quarter of that rate up to now,
# so today's count is well below the same weekday last week at the same
# time and a check raises an orders-drop alert.
pg_seed_demo_orders() {
	local sockdir=$1 tz=$2 n
	n=$(pg_psql "$sockdir" shop -At -c 'SELECT count(*) FROM orders') || return 1
	if [[ $n != 0 ]]; then
		return 0
	fi
	pg_psql "$sockdir" shop -v tz="$tz" <<'SQL'
SET TimeZone = :'tz';
SELECT setseed(0.42) \gset
INSERT INTO orders (created_at, amount)
SELECT ts, round((5 + random() * 195)::numeric, 2)
  FROM (SELECT day + (i + random()) * (interval '1 day' / per_day) AS ts
          FROM (SELECT date_trunc('day', now()) - d * interval '1 day' AS day,
                       CASE WHEN d = 0 THEN 75 ELSE 270 + (random() * 60)::int END AS per_day
                  FROM generate_series(0, 8) AS d) AS days,
               LATERAL generate_series(0, per_day - 1) AS i) AS t
 WHERE ts <= now()
 ORDER BY ts;
ANALYZE orders;
SQL
}

# ---------------------------------------------------------------------------
# The env file

# env_file_write FILE SOCKDIR TOKEN TIMEZONE SPOOLDIR: write the programs' env file
# (mode 0600: it holds the admin token).
env_file_write() {
	local file=$1 sockdir=$2 token=$3 tz=$4 spool=$5
	mkdir -p "$spool" || return 1
	(
		umask 077
		cat >"$file.tmp" <<EOF
# Written by scripts/lib.sh env_file_write; see monitoring.env.example.
DATABASE_URL=host=$sockdir dbname=monitoring user=monitor
MONITORED_DATABASE_URL=host=$sockdir dbname=shop user=db_monitor
MONITORING_API_TOKEN=$token
PLATFORM_API_KEY=$(random_hex 32)
TENANT_JWT_SECRET=$(random_hex 32)
TENANT_CODE_SECRET=$(random_hex 32)
ALERTMANAGER_TOKEN=$(random_hex 32)
EVENTS_SIGNING_SECRET=$(random_whsec)
WHATSAPP_PROVIDER=sandbox
TIMEZONE=$tz
CRITICAL_PHONE_1=+15550000001
WARNING_PHONE_1=+15550000002
LOG_LEVEL=info
SPOOL_DIR=$spool
META_APP_SECRET=$(random_hex 32)
WEBHOOK_VERIFY_TOKEN=$(random_hex 16)
EOF
	) && mv -f "$file.tmp" "$file"
}

# env_get FILE NAME: the value of NAME in FILE (last assignment wins,
# surrounding quotes removed); empty if unset.
env_get() {
	local v
	v=$(sed -n "s/^[[:space:]]*$2=//p" "$1" | tail -n 1)
	v=${v%$'\r'}
	if [[ $v == \"*\" || $v == \'*\' ]]; then
		v=${v:1:${#v}-2}
	fi
	printf '%s\n' "$v"
}

# env_effective ENVFILE NAME: the value the programs use for NAME: the process
# environment's when NAME is set there (even empty), else ENVFILE's.
env_effective() {
	if [[ -n ${!2+x} ]]; then
		printf '%s\n' "${!2}"
	else
		env_get "$1" "$2"
	fi
}

# env_set FILE NAME VALUE: set NAME=VALUE in FILE, replacing an existing
# assignment (in place, so the file keeps its mode) or appending one.
env_set() {
	local file=$1 name=$2 value=$3 text
	text=$(awk -v n="$name" -v v="$value" '
		BEGIN { done = 0 }
		$0 ~ "^[[:space:]]*" n "=" { if (!done) print n "=" v; done = 1; next }
		{ print }
		END { if (!done) print n "=" v }' "$file") || return 1
	printf '%s\n' "$text" >"$file"
}

# env_unset FILE NAME: remove NAME's assignments from FILE.
env_unset() {
	local file=$1 name=$2 text
	text=$(awk -v n="$name" '$0 !~ "^[[:space:]]*" n "=" { print }' "$file") || return 1
	printf '%s\n' "$text" >"$file"
}

# ---------------------------------------------------------------------------
# FastCGI programs (spawn-fcgi)

# nginx_worker_user / nginx_worker_group: who nginx's workers run as when
# nginx is started as root ($NGINX_USER, else www-data, else nobody).
nginx_worker_user() {
	if [[ -n ${NGINX_USER:-} ]]; then
		printf '%s\n' "$NGINX_USER"
	elif id -u www-data >/dev/null 2>&1; then
		printf 'www-data\n'
	else
		printf 'nobody\n'
	fi
}
nginx_worker_group() {
	id -gn "$(nginx_worker_user)"
}

# fcgi_children PROG: how many processes of PROG to spawn:
# $FCGI_CHILDREN_<prog> (dashes as underscores), else 1 for health and for
# webhook and events (one process: the events of all requests in flight share
# commits, which two processes would split) and 2 for the
# others.
fcgi_children() {
	local var="FCGI_CHILDREN_${1//-/_}"
	if [[ -n ${!var:-} ]]; then
		printf '%s\n' "${!var}"
	elif [[ $1 == health || $1 == webhook || $1 == events ]]; then
		printf '1\n'
	else
		printf '2\n'
	fi
}

# fcgi_pids RUNDIR PROG: the live pids recorded in RUNDIR/PROG.pid.
fcgi_pids() {
	local pid
	for pid in $(pidfile_pids "$1/$2.pid"); do
		if pid_is "$pid" "/$2"; then
			printf '%s\n' "$pid"
		fi
	done
}

# fcgi_start RUNDIR PROG COUNT ENVFILE [BINDIR [LOGFILE]]: spawn COUNT
# processes of BINDIR/PROG (BINDIR defaults to $BIN_DIR, else build/bin)
# accepting on RUNDIR/PROG.sock, pids in RUNDIR/PROG.pid, with
# MONITORING_ENV_FILE=ENVFILE and the rest of our environment. Their working
# directory is RUNDIR's parent. spawn-fcgi points the children's stdout and
# stderr at /dev/null, so a /bin/sh wrapper that execs the program (same pid)
# appends both to LOGFILE (default RUNDIR/../log/PROG.log). Fails if PROG is
# already running there, or if a process dies right after starting.
fcgi_start() {
	local rundir=$1 prog=$2 count=$3 envfile=$4
	local bindir=${5:-${BIN_DIR:-$REPO_ROOT/build/bin}}
	local base
	base=$(dirname "$rundir")
	local logfile=${6:-$base/log/$prog.log}
	local sock=$rundir/$prog.sock pidfile=$rundir/$prog.pid exe out pid
	exe=$(abs_path "$bindir")/$prog
	envfile=$(abs_path "$envfile")
	if [[ ! -x $exe ]]; then
		lib_error "fcgi_start: no program $exe (run make)"
		return 1
	fi
	check_socket_path "$sock" || return 1
	if [[ -n $(fcgi_pids "$rundir" "$prog") ]]; then
		lib_error "fcgi_start: $prog is already running (pids in $pidfile)"
		return 1
	fi
	rm -f "$pidfile"
	mkdir -p "$(dirname "$logfile")" && touch "$logfile" || return 1
	local opts=(-s "$sock" -P "$pidfile" -F "$count" -M 0660 -d "$base")
	if is_root; then
		opts+=(-G "$(nginx_worker_group)")
	fi
	# shellcheck disable=SC2016 # expanded by the wrapper shell
	if ! out=$(MONITORING_ENV_FILE=$envfile spawn-fcgi "${opts[@]}" -- \
		/bin/sh -c 'log=$1; shift; exec "$@" >>"$log" 2>&1' fcgi-wrapper "$logfile" "$exe" 2>&1); then
		lib_error "fcgi_start: spawn-fcgi failed for $prog: $out"
		lib_error "the end of $logfile:"
		tail -n 20 "$logfile" >&2
		# The children that did start are in the pid file: stop them.
		fcgi_stop "$rundir" "$prog"
		return 1
	fi
	# spawn-fcgi waits 0.1 s per child; give slow starters (ASan) a moment more.
	sleep 0.2
	for pid in $(pidfile_pids "$pidfile"); do
		if ! pid_alive "$pid"; then
			lib_error "fcgi_start: $prog (pid $pid) exited right after starting; the end of $logfile:"
			tail -n 20 "$logfile" >&2
			fcgi_stop "$rundir" "$prog"
			return 1
		fi
	done
}

# fcgi_stop RUNDIR PROG: stop the processes listed in RUNDIR/PROG.pid
# (SIGTERM, SIGKILL after 10 s), remove the pid file and the socket. Nothing
# to do if none runs.
fcgi_stop() {
	local rundir=$1 prog=$2 pids
	mapfile -t pids < <(pidfile_pids "$rundir/$prog.pid")
	if ((${#pids[@]})); then
		stop_pids "/$prog" 10 TERM "${pids[@]}" || return 1
	fi
	rm -f "$rundir/$prog.pid" "$rundir/$prog.sock"
}

# ---------------------------------------------------------------------------
# nginx

# nginx_write_conf CONFDIR PORT RUNDIR LOGDIR: render nginx/nginx-dev.conf.in
# and nginx/monitoring.conf.in into CONFDIR/nginx.conf and
# CONFDIR/monitoring.conf, listening on 127.0.0.1:PORT, sockets and pid in
# RUNDIR, logs in LOGDIR, temporary files in CONFDIR/tmp. The settings page
# (nginx/settings/) is copied to CONFDIR/settings and served from there: nginx's
# workers can read the stack's directory, not always the checkout (as root, a
# checkout under /root); run this again (scripts/dev-up does) after editing it.
nginx_write_conf() {
	local confdir rundir logdir port=$2 user_line
	confdir=$(abs_path "$1")
	rundir=$(abs_path "$3")
	logdir=$(abs_path "$4")
	mkdir -p "$confdir/tmp" "$logdir" || return 1
	rm -rf "$confdir/settings.new" &&
		cp -R "$REPO_ROOT/nginx/settings" "$confdir/settings.new" &&
		chmod -R u=rwX,go=rX "$confdir/settings.new" &&
		rm -rf "$confdir/settings" &&
		mv "$confdir/settings.new" "$confdir/settings" || return 1
	if is_root; then
		user_line="user $(nginx_worker_user) $(nginx_worker_group);"
	else
		user_line="# (not started as root: no user directive)"
	fi
	render_template "$REPO_ROOT/nginx/monitoring.conf.in" "$confdir/monitoring.conf" \
		"RUN_DIR=$rundir" "SETTINGS_DIR=$confdir/settings" \
		"SETTINGS_FRAME_ANCESTORS='self'" || return 1
	render_template "$REPO_ROOT/nginx/nginx-dev.conf.in" "$confdir/nginx.conf" \
		"CONF_DIR=$confdir" "RUN_DIR=$rundir" "LOG_DIR=$logdir" \
		"HTTP_PORT=$port" "USER_DIRECTIVE=$user_line"
}

# nginx_pidfile CONFDIR: the pid file named by CONFDIR/nginx.conf.
nginx_pidfile() {
	[[ -r $1/nginx.conf ]] || return 1
	sed -n 's/^[[:space:]]*pid[[:space:]]\{1,\}\([^;]*\);.*/\1/p' "$1/nginx.conf" | head -n 1
}

# nginx_master_pid CONFDIR: the running master's pid, if any.
nginx_master_pid() {
	local pidfile pid
	pidfile=$(nginx_pidfile "$1") || return 1
	[[ -n $pidfile && -r $pidfile ]] || return 1
	pid=$(pidfile_pids "$pidfile" | head -n 1)
	pid_is "$pid" nginx || return 1
	printf '%s\n' "$pid"
}

# nginx_start CONFDIR: start nginx (daemon) with CONFDIR/nginx.conf and wait
# for its pid file. Fails if it is already running or cannot bind its port.
nginx_start() {
	local confdir out pidfile
	confdir=$(abs_path "$1")
	if nginx_master_pid "$confdir" >/dev/null; then
		lib_error "nginx_start: nginx already runs for $confdir"
		return 1
	fi
	pidfile=$(nginx_pidfile "$confdir") || {
		lib_error "nginx_start: no $confdir/nginx.conf"
		return 1
	}
	rm -f "$pidfile"
	if ! out=$(nginx -p "$confdir/" -c "$confdir/nginx.conf" -e stderr 2>&1); then
		lib_error "nginx did not start: $out"
		return 1
	fi
	if ! wait_for 10 nginx_master_pid "$confdir" >/dev/null; then
		lib_error "nginx did not write $pidfile: $out"
		return 1
	fi
}

# nginx_stop CONFDIR: graceful shutdown (SIGQUIT; SIGKILL after 10 s) of the
# nginx whose pid file CONFDIR/nginx.conf names. Nothing to do if none runs.
nginx_stop() {
	local confdir pid pidfile
	confdir=$(abs_path "$1")
	pid=$(nginx_master_pid "$confdir") || return 0
	pidfile=$(nginx_pidfile "$confdir")
	stop_pids nginx 10 QUIT "$pid" || return 1
	rm -f "$pidfile"
}

# ---------------------------------------------------------------------------
# A whole stack in one directory (see the layout at the top)

# stack_prepare_dirs BASE: create BASE/{run,log,nginx/tmp} with the
# ownership and modes described at the top. BASE must be absolute.
stack_prepare_dirs() {
	local base=$1 group
	mkdir -p "$base/run" "$base/log" "$base/nginx/tmp" || return 1
	chmod 0755 "$base" "$base/log" "$base/nginx"
	chmod 0750 "$base/run"
	if is_root; then
		group=$(nginx_worker_group) || return 1
		chown "postgres:$group" "$base/run" || return 1
		if ! runuser -u postgres -- test -w "$base/run"; then
			lib_error "user postgres cannot write $base/run: make the parent directories of $base traversable (chmod o+x) or choose another directory"
			return 1
		fi
		if ! runuser -u "$(nginx_worker_user)" -- test -x "$base/run" -a -x "$base/nginx/tmp"; then
			lib_error "nginx's worker user $(nginx_worker_user) cannot reach $base/run: make the parent directories of $base traversable (chmod o+x) or choose another directory"
			return 1
		fi
	fi
}

# stack_var_dir [DIR]: the directory the local stack (dev-up, dev-down) lives in, absolute
# and with symbolic links resolved (the postgres user must not need our path to get there).
# DIR if given (VAR_DIR), else var/ in the repository. As root, when var/ does not exist yet
# and the postgres user or nginx's worker user cannot reach it (a checkout under /root or in
# a 0700 home directory, Debian 12's default), it is created under $STACK_STATE_ROOT
# (default /var/lib/whatsapp-monitoring), one directory per checkout (named after its path),
# and var/ becomes a symbolic link to it, so var/monitoring.env and var/log/ are where the
# README says. Prints the directory.
stack_var_dir() {
	local dir=${1:-} link=$REPO_ROOT/var root=${STACK_STATE_ROOT:-/var/lib/whatsapp-monitoring}
	local name
	if [[ -n $dir ]]; then
		dir=$(abs_path "$dir")
	elif [[ -e $link || -L $link ]] || ! is_root || stack_dir_reachable "$REPO_ROOT"; then
		dir=$link
	else
		name=$(basename "$REPO_ROOT" | tr -c 'A-Za-z0-9_.\n-' _)
		dir=$root/$name-$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)
		mkdir -p "$dir" || return 1
		chmod 0755 "$root" "$dir" || return 1
		ln -s "$dir" "$link" || return 1
		lib_info "postgres or $(nginx_worker_user) cannot reach $REPO_ROOT: the stack lives in $dir (var/ links to it)" >&2
	fi
	if [[ -d $dir ]]; then
		dir=$(cd "$dir" && pwd -P) || return 1
	fi
	printf '%s\n' "$dir"
}

# stack_dir_reachable DIR: whether both the postgres user and nginx's worker user may
# traverse DIR (every directory on its path).
stack_dir_reachable() {
	runuser -u postgres -- test -x "$1" 2>/dev/null &&
		runuser -u "$(nginx_worker_user)" -- test -x "$1" 2>/dev/null
}

# stack_programs_start BASE ENVFILE BINDIR: spawn every program of
# $MONITORING_PROGRAMS (fcgi_children of each).
stack_programs_start() {
	local base=$1 envfile=$2 bindir=$3 prog
	for prog in $MONITORING_PROGRAMS; do
		fcgi_start "$base/run" "$prog" "$(fcgi_children "$prog")" "$envfile" "$bindir" \
			"$base/log/$prog.log" || return 1
	done
}

# stack_programs_stop BASE: stop every program with a pid file in BASE/run
# (whether or not it is in $MONITORING_PROGRAMS now).
stack_programs_stop() {
	local base=$1 f prog rc=0
	for f in "$base"/run/*.pid; do
		[[ -e $f ]] || continue
		prog=$(basename "$f" .pid)
		[[ $prog == nginx ]] && continue
		fcgi_stop "$base/run" "$prog" || rc=1
	done
	return "$rc"
}

# ---------------------------------------------------------------------------
# The development ticker: `cron tick` every few seconds (what is due: retries,
# paced and held messages, escalations, the scheduled check, reports), in its
# own session so that ticker_stop can stop it and a tick it is running. pid in
# BASE/run/ticker.pid.

# ticker_start BASE ENVFILE BINDIR [SECONDS]
ticker_start() {
	local base=$1 envfile=$2 bin=$3 every=${4:-10}
	ticker_stop "$base" || return 1
	# shellcheck disable=SC2016 # the loop's own variables
	setsid bash -c 'trap "exit 0" TERM
		while :; do
			MONITORING_ENV_FILE=$1 "$2/cron" tick >/dev/null 2>>"$3"
			sleep "$4" & wait $!
		done' ticker "$envfile" "$bin" "$base/log/cron.log" "$every" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$base/run/ticker.pid"
}

# ticker_stop BASE: stop the ticker ticker_start started (its pid file), if running.
ticker_stop() {
	local f=$1/run/ticker.pid pid
	[[ -f $f ]] || return 0
	pid=$(<"$f")
	if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
		kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null
	fi
	rm -f "$f"
}
