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
scenario_handshake_webhook_down() {
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
}

# ---------------------------------------------------------------- strict query strings and JSON strings
scenario_strict_decoding() {
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
}

# ---------------------------------------------------------------- an env file others can read
scenario_env_file_readable() {
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
}

# ---------------------------------------------------------------- the production block's rate limit
scenario_production_rate_limit() {
# nginx/monitoring-production.conf run for real on loopback: its listen lines moved to free
# ports, the certificate a throwaway one, its logs in this stack's log directory (so the secret
# check reads them), and its limit scaled down from 200 r/s, burst 2000 (nginx -t of the real
# numbers is in test_smoke) to 1 a minute, burst 3, so that a few requests reach it.
prod=$HARNESS_DIR/prod
mkdir -p "$prod"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$prod/key.pem" -out "$prod/cert.pem" -days 1 \
	-subj /CN=monitoring.example.com >/dev/null 2>&1
render_template nginx/monitoring.conf.in "$prod/monitoring.conf" "RUN_DIR=$HARNESS_DIR/run" \
	"SETTINGS_DIR=$HARNESS_DIR/nginx/settings" "SETTINGS_FRAME_ANCESTORS='self'"
http_port=$(free_port)
https_port=$(free_port)
sed -e "s|/etc/letsencrypt/live/monitoring.example.com/fullchain.pem|$prod/cert.pem|" \
	-e "s|/etc/letsencrypt/live/monitoring.example.com/privkey.pem|$prod/key.pem|" \
	-e "s|/etc/nginx/monitoring.conf|$prod/monitoring.conf|" \
	-e "s|/var/log/nginx/monitoring-access.log|$HARNESS_LOG_DIR/nginx-prod-access.log|" \
	-e "s|listen 80;|listen 127.0.0.1:$http_port;|" -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
	-e '/listen \[::\]/d' -e 's|rate=200r/s|rate=1r/m|' -e 's|burst=2000|burst=3|' \
	nginx/monitoring-production.conf >"$prod/site.conf"
assert_contains "the production block has the limit" "$(cat "$prod/site.conf")" "limit_req zone=monitoring_webhook burst=3 nodelay;"
user_line=
if is_root; then
	user_line="user $(nginx_worker_user) $(nginx_worker_group);"
fi
printf '%s\npid %s/nginx.pid;\nerror_log %s/nginx-prod-error.log;\nevents {}\nhttp {\n    include %s/site.conf;\n}\n' \
	"$user_line" "$prod" "$HARNESS_LOG_DIR" "$prod" >"$prod/nginx.conf"
if nginx_start "$prod"; then
	PROD=https://127.0.0.1:$https_port
	twilio() { http POST "$PROD/monitoring/twilio/webhook" 'Body=x' -k -H 'Content-Type: application/x-www-form-urlencoded'; }
	statuses=
	for i in 1 2 3 4; do
		twilio
		statuses+="$HTTP_STATUS "
	done
	assert_eq "Twilio webhook: the burst reaches the program (unsigned: 401)" "401 401 401 401 " "$statuses"
	twilio
	assert_eq "Twilio webhook over the limit: 429" 429 "$HTTP_STATUS"
	assert_eq "429 is JSON" "too_many_requests" "$(jq -r .error.code <<<"$HTTP_BODY")"
	assert_eq "429 says when to retry" 1 "$(http_header Retry-After)"
	# The same address on the Meta webhook: one zone for both (one client, one budget).
	http POST "$PROD$WH" '{}' -k -H 'X-Hub-Signature-256: sha256=00'
	assert_eq "Meta webhook from the same address: 429" 429 "$HTTP_STATUS"
	http GET "$PROD$WH?hub.mode=subscribe&hub.verify_token=$VERIFY&hub.challenge=42" '' -k
	assert_eq "a limited handshake: 429 JSON" "429 too_many_requests" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
	for i in 1 2 3 4 5 6; do
		http_auth GET "$PROD/monitoring/health" '' -k
		[[ $HTTP_STATUS == 200 ]] || break
	done
	assert_eq "health (not a webhook) is not limited" 200 "$HTTP_STATUS"
	assert_contains "a refusal is in the error log" "$(cat "$HARNESS_LOG_DIR/nginx-prod-error.log")" "limiting requests"
	assert_not_contains "the limited handshake's token is not" "$(cat "$HARNESS_LOG_DIR/nginx-prod-error.log")" "$VERIFY"
	nginx_stop "$prod" || fail "stopping the production nginx"
else
	fail "the production server block did not start"
fi
}

harness_scenarios handshake_webhook_down strict_decoding env_file_readable production_rate_limit

harness_finish
