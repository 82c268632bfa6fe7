#!/usr/bin/env bash
# Secrets stay out of the logs and malformed input is refused: Meta's handshake
# carries WEBHOOK_VERIFY_TOKEN in its query string, and nginx's error log prints
# a failed request's request line; query strings and JSON strings are decoded
# strictly (an embedded NUL or a bad %-escape is a 400 naming the field); a
# program started with an env file others can read says so in its log.
# (harness_finish fails the suite if a secret of the env file is in any log.)
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

VERIFY=$(env_get "$MONITORING_ENV_FILE" WEBHOOK_VERIFY_TOKEN)
WH=/monitoring/whatsapp/webhook
nginx_error_log=$HARNESS_LOG_DIR/nginx-error.log

# ---------------------------------------------------------------- the handshake with the webhook down
# nginx logs "connect() ... failed ..., request: "GET ...?hub.verify_token=..."" at error level
# when the program is not running: the handshake's own errors must not reach the error log.
fcgi_stop "$HARNESS_DIR/run" webhook
http GET "$WH?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=1158201444"
assert_eq "handshake with the webhook down: 502" 502 "$HTTP_STATUS"
assert_contains "handshake with the webhook down: JSON error" "$HTTP_BODY" '"code":"bad_gateway"'
# An event POSTed while the program is down is still logged (the operator sees the outage).
http POST "$WH" '{}' -H 'X-Hub-Signature-256: sha256=00'
assert_eq "event with the webhook down: 502" 502 "$HTTP_STATUS"
harness_restart_programs
assert_contains "an event's upstream error is still in nginx's error log" \
	"$(cat "$nginx_error_log")" "POST $WH HTTP/1.1"
assert_not_contains "the verify token is not in nginx's error log" "$(cat "$nginx_error_log")" "$VERIFY"
http GET "$WH?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=1158201444"
assert_eq "handshake with the webhook back: 200" 200 "$HTTP_STATUS"
assert_eq "handshake with the webhook back: the challenge" 1158201444 "$HTTP_BODY"
http GET "$WH?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"
assert_eq "handshake with a wrong token: 403" 403 "$HTTP_STATUS"

harness_finish
