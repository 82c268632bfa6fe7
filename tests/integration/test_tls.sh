#!/usr/bin/env bash
# TLS to the databases: a second throwaway cluster that accepts only TLS connections on a
# loopback port (hostssl trust, hostnossl reject), its certificate signed by a CA this test
# makes with openssl. `cron migrate` and `cron check` reach both databases with
# sslmode=require and with sslmode=verify-full (the test's CA); verify-full refuses a server
# whose certificate another CA signed, and a connection without TLS is refused.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

TDIR=$HARNESS_DIR/tls
TSOCK=$HARNESS_DIR/tls-run
mkdir -p "$TDIR"
# A CA, a server certificate for 127.0.0.1 signed by it, and another CA that signed nothing.
ca() { # ca NAME: NAME.key, NAME.crt
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1 test CA" \
		-keyout "$TDIR/$1.key" -out "$TDIR/$1.crt" 2>/dev/null
}
ca ca
ca other
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TDIR/server.key" \
	-out "$TDIR/server.csr" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\n' >"$TDIR/san.ext"
openssl x509 -req -in "$TDIR/server.csr" -CA "$TDIR/ca.crt" -CAkey "$TDIR/ca.key" \
	-CAcreateserial -days 2 -extfile "$TDIR/san.ext" -out "$TDIR/server.crt" 2>/dev/null
chmod 0600 "$TDIR/server.key"
is_root && chown postgres "$TDIR/server.key" "$TDIR/server.crt"

TPORT=$(free_port)
pg_init_cluster "$HARNESS_DIR/tls-pg" "$TSOCK" "fsync = off" "port = $TPORT" \
	"listen_addresses = '127.0.0.1'" "ssl = on" "ssl_cert_file = '$TDIR/server.crt'" \
	"ssl_key_file = '$TDIR/server.key'" "log_connections = on" ||
	_harness_bail "initdb of the TLS cluster failed"
# The socket as initdb left it (trust); on TCP, TLS or nothing.
{
	printf 'local all all trust\n'
	printf 'hostssl all all 127.0.0.1/32 trust\n'
	printf 'hostnossl all all 127.0.0.1/32 reject\n'
} >"$HARNESS_DIR/tls-pg/pg_hba.conf"
tls_stop() { pg_stop "$HARNESS_DIR/tls-pg" || true; }
on_exit() {
	local rc=$?
	tls_stop
	(exit "$rc")
	_harness_exit_trap
}
trap on_exit EXIT
TLOG=$HARNESS_LOG_DIR/postgres-tls.log
pg_start "$HARNESS_DIR/tls-pg" "$TLOG" || _harness_bail "the TLS cluster did not start"
PGPORT=$TPORT pg_setup_databases "$TSOCK" || _harness_bail "creating the TLS cluster's databases failed"
pass "a cluster that takes only TLS on 127.0.0.1:$TPORT"

url() { # url DB USER SSL-OPTIONS
	printf 'host=127.0.0.1 port=%s dbname=%s user=%s connect_timeout=5 %s' "$TPORT" "$1" "$2" "$3"
}
over() { # over SSL-OPTIONS CRON-ARGS...: cron with both databases on the TLS cluster
	local ssl=$1
	shift
	DATABASE_URL=$(url monitoring monitor "$ssl") MONITORED_DATABASE_URL=$(url shop db_monitor "$ssl") \
		harness_cron "$@"
}

# ---------------------------------------------------------------- sslmode=require
scenario_require() {
local rc=0 out
over "sslmode=require" migrate >/dev/null || rc=$?
assert_eq "cron migrate with sslmode=require" 0 "$rc"
out=$(over "sslmode=require" check) || true
assert_eq "cron check with sslmode=require: stored" true "$(jq -r .stored <<<"$out")"
assert_eq "the monitored database reached" true "$(jq -r .reachable <<<"$out")"
assert_contains "the server saw TLS connections" "$(grep 'connection authorized: user=db_monitor' "$TLOG" | tail -1)" "SSL enabled"
}

# ---------------------------------------------------------------- sslmode=verify-full
scenario_verify_full() {
local rc=0 out
over "sslmode=verify-full sslrootcert=$TDIR/ca.crt" migrate >/dev/null || rc=$?
assert_eq "cron migrate with verify-full and the test's CA" 0 "$rc"
out=$(over "sslmode=verify-full sslrootcert=$TDIR/ca.crt" check) || true
assert_eq "cron check with verify-full: stored" true "$(jq -r .stored <<<"$out")"
assert_eq "the monitored database reached" true "$(jq -r .reachable <<<"$out")"
rc=0
out=$(MONITORED_DATABASE_URL=$(url shop db_monitor "sslmode=verify-full sslrootcert=$TDIR/other.crt") \
	DATABASE_URL=$(url monitoring monitor "sslmode=verify-full sslrootcert=$TDIR/ca.crt") harness_cron check) || rc=$?
assert_eq "verify-full against another CA: the monitored database is not reached" false \
	"$(jq -r .reachable <<<"$out")"
assert_contains "for its certificate" "$out" "certificate verify failed"
}

# ---------------------------------------------------------------- without TLS
scenario_without_tls() {
local rc=0
over "sslmode=disable" migrate >/dev/null 2>&1 || rc=$?
assert_ne "sslmode=disable: refused by the server (hostnossl reject)" 0 "$rc"
assert_contains "with pg_hba's reason" "$(tail -5 "$HARNESS_LOG_DIR/cron.log")" "no encryption"
}

harness_scenarios require verify_full without_tls
tls_stop
harness_finish
