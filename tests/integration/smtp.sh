# shellcheck shell=bash
# tests/integration/smtp.sh: a real SMTP server on loopback for the email tests and the bench,
# sourced after harness.sh (tests/mock/smtp_server.py under Debian's python3-aiosmtpd).
#
#   smtp_check_installed   0 when /usr/bin/python3 has aiosmtpd (else says `make deps`)
#   smtp_setup             after harness_start: SMTP_DIR ($HARNESS_DIR/smtp), SMTP_PORT (a free
#       loopback port, the same for every start), a certificate for 127.0.0.1 made here
#       ($SMTP_DIR/cert.pem, key.pem), an empty Maildir; harness_finish stops the server
#   smtp_start [tls|plain|implicit] [USER:PASS]   the server on $SMTP_PORT: tls (the default)
#       offers STARTTLS and requires it before MAIL, plain offers no STARTTLS, implicit is TLS
#       from the first byte (smtps://); with USER:PASS, AUTH is required. Accepted messages go
#       into $SMTP_DIR/maildir, each command answered is a JSON line in
#       $SMTP_DIR/commands.jsonl; its pid in $SMTP_DIR/smtp.pid, its output in
#       $HARNESS_LOG_DIR/smtp.log
#   smtp_stop              stop the server we started (by its pid), if it runs
#   smtp_clear             an empty Maildir and command log
# Run with /usr/bin/python3, never `python3` on PATH (it may be a pyenv interpreter without
# Debian's packages).

SMTP_PY=/usr/bin/python3
SMTP_DIR=
SMTP_PORT=

smtp_check_installed() {
	if ! $SMTP_PY -c 'import aiosmtpd' 2>/dev/null; then
		lib_error "python3-aiosmtpd is not installed for $SMTP_PY (make deps)"
		return 1
	fi
}

smtp_clear() {
	rm -rf "$SMTP_DIR/maildir" "$SMTP_DIR/commands.jsonl"
	mkdir -p "$SMTP_DIR/maildir/tmp" "$SMTP_DIR/maildir/new" "$SMTP_DIR/maildir/cur"
	: >"$SMTP_DIR/commands.jsonl"
}

# Wrap the EXIT trap in place (harness_start's) so the server stops first, as mock_start does.
_smtp_exit_trap() {
	local rc=$?
	smtp_stop >/dev/null 2>&1 || true
	if _mock_return "$rc"; then
		_harness_exit_trap
	else
		_harness_exit_trap
	fi
}

smtp_setup() {
	SMTP_DIR=$HARNESS_DIR/smtp
	mkdir -p "$SMTP_DIR" || return 1
	SMTP_PORT=$(free_port) || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
		-keyout "$SMTP_DIR/key.pem" -out "$SMTP_DIR/cert.pem" 2>/dev/null || return 1
	smtp_clear
	[[ $(trap -p EXIT) == *_harness_exit_trap* ]] && trap _smtp_exit_trap EXIT
	export SMTP_DIR SMTP_PORT
}

smtp_start() {
	local mode=${1:-tls} auth=${2:-} args=()
	case $mode in
	tls) args=(--cert "$SMTP_DIR/cert.pem" --key "$SMTP_DIR/key.pem") ;;
	implicit) args=(--cert "$SMTP_DIR/cert.pem" --key "$SMTP_DIR/key.pem" --implicit-tls) ;;
	plain) ;;
	*)
		lib_error "smtp_start: tls, plain or implicit, not $mode"
		return 1
		;;
	esac
	[[ -n $auth ]] && args+=(--auth "$auth")
	: >"$HARNESS_LOG_DIR/smtp.log"
	$SMTP_PY "$REPO_ROOT/tests/mock/smtp_server.py" --port "$SMTP_PORT" \
		--maildir "$SMTP_DIR/maildir" --log "$SMTP_DIR/commands.jsonl" \
		--pidfile "$SMTP_DIR/smtp.pid" --watch-pid $$ "${args[@]}" \
		</dev/null >>"$HARNESS_LOG_DIR/smtp.log" 2>&1 &
	if ! wait_for 10 grep -q '^PORT=' "$HARNESS_LOG_DIR/smtp.log"; then
		lib_error "smtp_start: the server did not start; $HARNESS_LOG_DIR/smtp.log:"
		tail -n 20 "$HARNESS_LOG_DIR/smtp.log" >&2 || true
		return 1
	fi
}

smtp_stop() {
	local pid
	[[ -n $SMTP_DIR && -f $SMTP_DIR/smtp.pid ]] || return 0
	pid=$(<"$SMTP_DIR/smtp.pid")
	stop_pids smtp_server.py 5 TERM "$pid" || true
	rm -f "$SMTP_DIR/smtp.pid"
}
