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

# ---------------------------------------------------------------- strict query strings and JSON strings
# A bad %-escape is not a missing parameter, and a \u0000 does not cut a string short: both are
# a 400 naming the field, and nothing is done.
for q in 'limit=%zz' 'limit=%4' 'limit=5%00' 'since=%zz'; do
	http_auth GET "/monitoring/alerts?$q"
	assert_eq "alerts?$q: 400" 400 "$HTTP_STATUS"
	assert_eq "alerts?$q: invalid_parameter naming the field" "invalid_parameter ${q%%=*}" \
		"$(jq -r '.error.code + " " + .error.field' <<<"$HTTP_BODY")"
done
http_auth GET "/monitoring/alerts?limit=5"
assert_eq "alerts?limit=5: 200" 200 "$HTTP_STATUS"
http_auth GET "/monitoring/metrics?format=%zz"
assert_eq "metrics?format=%zz: 400 naming format" "400 format" "$HTTP_STATUS $(jq -r .error.field <<<"$HTTP_BODY")"
http GET "$WH?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=%zz"
assert_eq "handshake with hub.challenge=%zz: 400 naming it" "400 hub.challenge" "$HTTP_STATUS $(jq -r .error.field <<<"$HTTP_BODY")"

queued() { psql_state "SELECT count(*) FROM whatsapp_logs"; }
before=$(queued)
http_auth POST /monitoring/test-alert '{"severity":"critical","message":"abc\u0000def"}'
assert_eq "test-alert with \\u0000 in the message: 400" 400 "$HTTP_STATUS"
assert_contains "test-alert with \\u0000: the error names the field" "$(jq -r .error.message <<<"$HTTP_BODY")" "'message'"
assert_eq "test-alert with \\u0000: nothing queued" "$before" "$(queued)"
http_auth POST /monitoring/test-alert '{"severity":"critical","mess\u0000age":"x"}'
assert_eq "test-alert with \\u0000 in a name: 400" "400 invalid_json" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
runs=$(psql_state "SELECT count(*) FROM check_runs")
http_auth POST /monitoring/check '{"mode":"emergency\u0000"}'
assert_eq "check with mode \"emergency\\u0000\": 400" 400 "$HTTP_STATUS"
assert_contains "check: the error names the field" "$(jq -r .error.message <<<"$HTTP_BODY")" "'mode'"
assert_eq "check: no check ran" "$runs" "$(psql_state "SELECT count(*) FROM check_runs")"
http_auth POST /monitoring/configure '{"BUSINESS_HOURS_START":"09:00\u0000x"}'
assert_eq "configure with \\u0000 in a value: 400" 400 "$HTTP_STATUS"
assert_contains "configure: the error names the field" "$(jq -r .error.message <<<"$HTTP_BODY")" "'BUSINESS_HOURS_START'"
assert_eq "configure: nothing stored" 0 "$(psql_state "SELECT count(*) FROM settings")"
http_auth POST /monitoring/test-alert '{"severity":"critical","message":"escaped \\u0000 is text"}'
assert_eq "test-alert with an escaped backslash before u0000: 200" 200 "$HTTP_STATUS"
assert_eq "and the message is whole" 1 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE message_content LIKE '%u0000 is text%'")"

# ---------------------------------------------------------------- an env file others can read
# The harness writes it 0600: no warning. Opened up, each program says so once at start,
# naming the file and its mode (and never a value: harness_finish checks every log).
warned() { grep -c '"event":"env_file_exposed"' "$HARNESS_LOG_DIR/$1.log" || true; }
assert_eq "a private env file: no warning (health)" 0 "$(warned health)"
chmod 0644 "$MONITORING_ENV_FILE"
harness_restart_programs
assert_eq "env file 0644: health warns once" 1 "$(warned health)"
assert_eq "env file 0644: the webhook warns once" 1 "$(warned webhook)"
line=$(grep '"event":"env_file_exposed"' "$HARNESS_LOG_DIR/health.log" || true)
assert_contains "the warning names the file" "$line" "$MONITORING_ENV_FILE"
assert_contains "the warning gives the mode" "$line" "mode 0644"
assert_match "it is a warning" '"level":"warn' "$line"
harness_cron config >/dev/null
assert_eq "cron warns too" 1 "$(warned cron)"
chmod 0600 "$MONITORING_ENV_FILE"
harness_cron config >/dev/null
assert_eq "and stops once the file is 0600 again" 1 "$(warned cron)"

harness_finish
