#!/usr/bin/env bash
# The stack comes up; nginx routes and answers its own errors as JSON.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

# ---------------------------------------------------------------- health: no token needed
scenario_health() {
http GET /monitoring/health
assert_eq "GET /monitoring/health answers 200" 200 "$HTTP_STATUS"
assert_match "health is JSON" '^application/json' "$HTTP_CONTENT_TYPE"
assert_match "health body is a JSON object" '^[[:space:]]*\{.*\}[[:space:]]*$' "$HTTP_BODY"

http HEAD /monitoring/health
assert_eq "HEAD /monitoring/health answers 200" 200 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- unrouted paths
scenario_not_found() {
# Anything nginx does not route is a JSON 404, from nginx itself.
not_found='{"error":{"code":"not_found","message":"no such endpoint"}}'
for path in /nope / /monitoring/nope /monitoring/health/ /monitoring/checkx /monitoring; do
	http GET "$path"
	assert_eq "GET $path answers 404" 404 "$HTTP_STATUS"
	assert_eq "GET $path is JSON" application/json "$HTTP_CONTENT_TYPE"
	assert_eq "GET $path has the not_found body" "$not_found" "$HTTP_BODY"
done
}

# ---------------------------------------------------------------- wrong method
scenario_wrong_method() {
# Wrong method: nginx's 405, as JSON, with Allow.
http GET /monitoring/check
assert_eq "GET /monitoring/check answers 405" 405 "$HTTP_STATUS"
assert_eq "405 is JSON" application/json "$HTTP_CONTENT_TYPE"
assert_contains "405 body has method_not_allowed" "$HTTP_BODY" '"code":"method_not_allowed"'
assert_eq "405 from check allows POST" POST "$(http_header Allow)"

http DELETE /monitoring/configure
assert_eq "DELETE /monitoring/configure answers 405" 405 "$HTTP_STATUS"
assert_eq "405 from configure allows GET, HEAD, POST" "GET, HEAD, POST" "$(http_header Allow)"

http POST /monitoring/health '{}'
assert_eq "POST /monitoring/health answers 405" 405 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- too large
scenario_too_large() {
# Over nginx's 1m cap: nginx's 413, as JSON.
big=$(head -c 1100000 /dev/zero | tr '\0' 'a')
http_auth POST /monitoring/check "$big"
assert_eq "a 1.1 MB body answers 413" 413 "$HTTP_STATUS"
assert_eq "413 is JSON" application/json "$HTTP_CONTENT_TYPE"
assert_contains "413 body has payload_too_large" "$HTTP_BODY" '"code":"payload_too_large"'
}

# ---------------------------------------------------------------- a program stopped
scenario_program_down() {
# A program that is not running: nginx's 502, as JSON.
fcgi_stop "$HARNESS_DIR/run" health
http GET /monitoring/health
assert_eq "health with its program stopped answers 502" 502 "$HTTP_STATUS"
assert_eq "502 is JSON" application/json "$HTTP_CONTENT_TYPE"
assert_contains "502 body has bad_gateway" "$HTTP_BODY" '"code":"bad_gateway"'
harness_restart_programs
http GET /monitoring/health
assert_eq "health answers 200 again after a restart" 200 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- the production server block
scenario_production_block() {
# The production server block, as README's deployment step renders it, is valid for this
# nginx (placeholders pointed at a throwaway certificate and this stack's files; the listen lines
# moved to free loopback ports, since nginx -t binds them and only root may bind 80 and 443).
prod=$HARNESS_DIR/prod
mkdir -p "$prod"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$prod/key.pem" -out "$prod/cert.pem" -days 1 \
	-subj /CN=monitoring.example.com >/dev/null 2>&1
sed -e "s|@RUN_DIR@|$HARNESS_DIR/run|g" -e "s|@SETTINGS_DIR@|$REPO_ROOT/nginx/settings|g" \
	-e "s|@SETTINGS_FRAME_ANCESTORS@|https://app.example.com|g" nginx/monitoring.conf.in >"$prod/monitoring.conf"
assert_eq "the README's rendering leaves no placeholder" "" "$(grep -oE '@[A-Z_]+@' "$prod/monitoring.conf" || true)"
sed -e "s|/etc/letsencrypt/live/monitoring.example.com/fullchain.pem|$prod/cert.pem|" \
	-e "s|/etc/letsencrypt/live/monitoring.example.com/privkey.pem|$prod/key.pem|" \
	-e "s|/etc/nginx/monitoring.conf|$prod/monitoring.conf|" \
	-e "s|/var/log/nginx/|$prod/|" \
	-e "s|listen 80;|listen 127.0.0.1:$(free_port);|" \
	-e "s|listen 443 ssl http2;|listen 127.0.0.1:$(free_port) ssl http2;|" -e '/listen \[::\]/d' \
	nginx/monitoring-production.conf >"$prod/site.conf"
printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    include %s/site.conf;\n}\n' \
	"$prod" "$prod" "$prod" >"$prod/nginx.conf"
out=$(nginx -t -p "$prod/" -c "$prod/nginx.conf" 2>&1) || true
assert_contains "the production server block passes nginx -t" "$out" "test is successful"
}

harness_scenarios health not_found wrong_method too_large program_down production_block

harness_finish
