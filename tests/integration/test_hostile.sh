#!/usr/bin/env bash
# Hostile input at the edge, table-driven: every endpoint gets wrong methods,
# missing and wrong tokens, oversized, empty and truncated bodies, invalid
# UTF-8, deep nesting, huge numbers, SQL-looking strings, CR/LF in headers and
# path tricks through nginx. Every answer is a 4xx (JSON where the program or
# nginx answers it), never a 5xx, and the state database is unchanged.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

harness_set_env META_APP_SECRET hostile-test-secret-0123
harness_set_env TWILIO_AUTH_TOKEN hostile-twilio-token-0123
harness_set_env TWILIO_WEBHOOK_URL https://monitor.example.test/monitoring/twilio/webhook
# Every request comes from 127.0.0.1: the seller's login limit per address is out of the way.
harness_set_env LOGIN_REQUESTS_PER_ADDRESS_HOUR 100000
harness_set_env ALERTMANAGER_TOKEN hostile-alertmanager-token-0123
harness_restart_programs || fail "programs restarted"
harness_env_baseline

# What the database holds, as one line: any change shows.
state() {
	psql_state "SELECT (SELECT count(*) FROM check_runs) || '/' || (SELECT count(*) FROM alerts)
	 || '/' || (SELECT count(*) FROM whatsapp_logs) || '/' || (SELECT count(*) FROM settings)
	 || '/' || (SELECT count(*) FROM settings_history) || '/' || (SELECT count(*) FROM webhook_events)
	 || '/' || (SELECT count(*) FROM contacts) || '/' || (SELECT count(*) FROM pause_state WHERE paused_until IS NOT NULL)
	 || '/' || (SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') FROM tenants t)
	 || '/' || (SELECT count(*) FROM tenant_codes) || '/' || (SELECT count(*) FROM tenant_sessions)
	 || '/' || (SELECT count(*) FROM tenant_auth_requests)
	 || '/' || (SELECT coalesce(string_agg(p::text, ',' ORDER BY tenant_id, type), '') FROM alert_preferences p)"
}

deep=$(printf '%.0s[' $(seq 5000))
huge='{"thresholds":{"deadlocks":{"warning":1e999999,"critical":2}}}'
bigbody=$HARNESS_DIR/big
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$bigbody"
bad_utf8=$'{"severity":"critical","message":"\xff\xfe\xc0\xaf"}'
sqlish='{"severity":"critical\u0027; DROP TABLE alerts; --","message":"x"}'

# expect NAME STATUS-PATTERN: the last answer's status matches, and a 4xx comes as JSON
expect() {
	assert_match "$1: status" "$2" "$HTTP_STATUS"
	if [[ $HTTP_STATUS =~ ^4 ]]; then
		assert_match "$1: JSON error" '^application/json' "$HTTP_CONTENT_TYPE"
	fi
}
tok() { printf 'Authorization: Bearer %s' "$API_TOKEN"; }
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# seller_jwt PAYLOAD [HEADER]: a token signed HS256 with TENANT_JWT_SECRET (a seller's credential)
seller_jwt() {
	local h p secret header='{"alg":"HS256","typ":"JWT"}'
	secret=$(env_get "$MONITORING_ENV_FILE" TENANT_JWT_SECRET)
	h=$(printf '%s' "${2:-$header}" | b64u)
	p=$(printf '%s' "$1" | b64u)
	printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$secret" -binary | b64u)"
}
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac hostile-test-secret-0123 -r | cut -d' ' -f1; }

# ---------------------------------------------------------------- the API endpoints
scenario_api_endpoints() {
before=$(state)
for ep in /monitoring/check /monitoring/test-alert /monitoring/configure; do
	http POST "$ep" '{}'
	expect "$ep without a token" '^401$'
	http POST "$ep" '{}' -H 'Authorization: Bearer wrong-token-0123456789abcdef'
	expect "$ep with a wrong token" '^401$'
	http POST "$ep" '{}' -H 'Authorization: Basic YWRtaW46YWRtaW4='
	expect "$ep with basic auth" '^401$'
	http DELETE "$ep" '' -H "$(tok)"
	expect "$ep DELETE" '^405$'
	http POST "$ep" "$deep" -H "$(tok)"
	expect "$ep deeply nested JSON" '^400$'
	http POST "$ep" '{"mode":' -H "$(tok)"
	expect "$ep truncated JSON" '^400$'
	http POST "$ep" "$bad_utf8" -H "$(tok)"
	expect "$ep invalid UTF-8" '^400$'
	http POST "$ep" '' -H "$(tok)" -H 'Content-Type: application/json' --data-binary ''
	expect "$ep empty body" '^(400|200)$'
	# An empty body is a plain check (the default mode): it may store one.
	[[ $ep == /monitoring/check && $HTTP_STATUS == 200 ]] && before=$(state)
	HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(tok)" \
		-H 'Content-Type: application/json' --data-binary "@$bigbody" "$HTTP_BASE$ep")
	assert_eq "$ep 2 MiB body: 413" 413 "$HTTP_STATUS"
done
http POST /monitoring/configure "$huge" -H "$(tok)"
expect "configure: a huge number" '^400$'
http POST /monitoring/configure '{"thresholds":{"deadlocks; DROP TABLE settings":{"warning":1}}}' -H "$(tok)"
expect "configure: an SQL-looking metric name" '^400$'
http POST /monitoring/test-alert "$sqlish" -H "$(tok)"
expect "test-alert: an SQL-looking severity" '^400$'
http POST /monitoring/check '{"mode":"emergency","extra":1}' -H "$(tok)"
expect "check: an unknown field" '^400$'

for ep in /monitoring/metrics /monitoring/alerts /monitoring/configure; do
	http GET "$ep"
	expect "GET $ep without a token" '^401$'
	http GET "$ep?limit=99999999999999999999&since=2026-13-45T99:99:99Z&format=../../etc" '' -H "$(tok)"
	expect "GET $ep with hostile parameters" '^(400|200)$'
	http PUT "$ep" '{}' -H "$(tok)"
	expect "PUT $ep" '^405$'
done
http GET "/monitoring/alerts?limit=1%27%20OR%201=1" '' -H "$(tok)"
expect "alerts: an SQL-looking limit" '^400$'
assert_eq "the API endpoints: the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- header injection
scenario_header_injection() {
before=$(state)
# Header injection: curl refuses raw CR/LF in a header; send it by hand to nginx.
port=${HTTP_BASE##*:}
answer=$(printf 'GET /monitoring/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\rX-Evil: 1\r\nConnection: close\r\n\r\n' "$API_TOKEN" |
	timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" 2>/dev/null | head -1 | tr -d '\r')
assert_match "a bare CR in a header: refused, not a 5xx" '^HTTP/1.1 (400|401)' "$answer"
answer=$(printf 'GET /monitoring/health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n' |
	timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" 2>/dev/null | head -1 | tr -d '\r')
assert_match "a folded header: answered without a 5xx" '^HTTP/1.1 [24]' "$answer"
assert_eq "header injection: the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- path tricks
scenario_path_tricks() {
before=$(state)
# Path tricks through nginx.
for path in "/monitoring/../monitoring/check" "/monitoring/check/" "/monitoring/check%00" \
	"/monitoring//check" "/monitoring/%2e%2e/etc/passwd" "/monitoring/check.php" \
	"/monitoring/CHECK" "/monitoring/whatsapp/webhook/../../check"; do
	HTTP_STATUS=$(curl -s --path-as-is -o "$HARNESS_DIR/p.body" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data '{}' "$HTTP_BASE$path")
	assert_match "path $path: 4xx" '^4[0-9][0-9]$' "$HTTP_STATUS"
done
assert_eq "path tricks: the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- the platform's tenant routes
scenario_tenant_routes() {
pkey() { printf 'Authorization: Bearer %s' "$PLATFORM_KEY"; }
http POST /tenants '{"external_id":"hostile-1","display_name":"Hostile One"}' -H "$(pkey)"
assert_eq "a tenant to aim at: 201" 201 "$HTTP_STATUS"
before=$(state)
for ep in /tenants /tenants/hostile-1/suspend /tenants/hostile-1/reactivate; do
	http POST "$ep" '{}'
	expect "$ep without a key" '^401$'
	http POST "$ep" '{}' -H 'Authorization: Bearer wrong-token-0123456789abcdef'
	expect "$ep with a wrong key" '^401$'
	http POST "$ep" '{}' -H "$(tok)"
	expect "$ep with the operator's token" '^401$'
	http POST "$ep" '{}' -H 'Authorization: Basic YWRtaW46YWRtaW4='
	expect "$ep with basic auth" '^401$'
	http DELETE "$ep" '' -H "$(pkey)"
	expect "$ep DELETE" '^405$'
	HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(pkey)" \
		-H 'Content-Type: application/json' --data-binary "@$bigbody" "$HTTP_BASE$ep")
	assert_eq "$ep 2 MiB body: 413" 413 "$HTTP_STATUS"
done
for body in "$deep" '{"external_id":' "$bad_utf8" '[]' '{"external_id":"x\u0000y","display_name":"N"}' \
	'{"external_id":"hostile-1; DROP TABLE tenants; --","display_name":"x"}' \
	'{"external_id":"hostile-1","display_name":"x","status":"suspended"}' \
	'{"external_id":"hostile-1","display_name":"x","whatsapp_number":"+1555000000\r\nX: y"}' \
	'{"external_id":"hostile-1","display_name":"x","time_zone":"../../../../etc/passwd"}' \
	'{"external_id":"hostile-1","display_name":"x","quiet_start":"99:99","quiet_end":"00:00"}' \
	'{"external_id":"hostile-1","display_name":"x","language":1e999999}'; do
	http POST /tenants "$body" -H "$(pkey)" -H 'Content-Type: application/json'
	expect "POST /tenants ${body:0:60}" '^400$'
done
http POST /tenants '' -H "$(pkey)" -H 'Content-Type: application/json' --data-binary ''
expect "POST /tenants with an empty body" '^400$'
http POST /tenants '' -H "$(pkey)"
expect "POST /tenants without Content-Length" '^411$'
for ep in /tenants /tenants/hostile-1; do
	http GET "$ep"
	expect "GET $ep without a key" '^401$'
	http GET "$ep" '' -H "$(tok)"
	expect "GET $ep with the operator's token" '^401$'
	http PUT "$ep" '{}' -H "$(pkey)"
	expect "PUT $ep" '^405$'
done
for q in 'limit=99999999999999999999' 'after=-1' 'after=1%27%20OR%201=1' 'limit=%zz' 'after=%00'; do
	http GET "/tenants?$q" '' -H "$(pkey)"
	expect "GET /tenants?$q" '^400$'
done
for path in "/tenants/hostile-1%00" "/tenants/hostile-1%27%20OR%20%271%27=%271" "/tenants/..%2f..%2fetc%2fpasswd" \
	"/tenants/../tenants/hostile-1" "/tenants//hostile-1" "/tenants/hostile-1/suspend/" "/tenants/me" \
	"/tenants/hostile-1/suspend%00" "/tenants/$(printf 'a%.0s' {1..300})"; do
	HTTP_STATUS=$(curl -s --path-as-is -o "$HARNESS_DIR/p.body" -w '%{http_code}' -X POST \
		-H "$(pkey)" -H 'Content-Type: application/json' --data '{}' "$HTTP_BASE$path")
	assert_match "POST $path: 4xx" '^4[0-9][0-9]$' "$HTTP_STATUS"
	HTTP_STATUS=$(curl -s --path-as-is -o "$HARNESS_DIR/p.body" -w '%{http_code}' \
		-H "$(pkey)" "$HTTP_BASE$path")
	assert_match "GET $path: 4xx or the tenant itself" '^(4[0-9][0-9]|200)$' "$HTTP_STATUS"
done
assert_eq "the tenant routes: the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- the seller's routes
scenario_seller_routes() {
pkey() { printf 'Authorization: Bearer %s' "$PLATFORM_KEY"; }
http POST /tenants '{"external_id":"hostile-1","display_name":"Hostile One","whatsapp_number":"+15550009001"}' -H "$(pkey)"
assert_eq "a tenant to aim at: 201" 201 "$HTTP_STATUS"
now=$(date +%s)
jwt="Authorization: Bearer $(seller_jwt "{\"sub\":\"hostile-1\",\"exp\":$((now + 600))}")"
before=$(state)
# The credentials: none, wrong, the other sides' keys, forged and oversized tokens.
for cred in '' 'Authorization: Bearer wrong-token-0123456789abcdef' "$(tok)" "$(pkey)" \
	'Authorization: Basic YWRtaW46YWRtaW4=' 'Authorization: Bearer a.b.c' 'Authorization: Bearer ..' \
	"Authorization: Bearer $(seller_jwt "{\"sub\":\"hostile-1\",\"exp\":$((now + 600))}" '{"alg":"none"}')" \
	"Authorization: Bearer $(seller_jwt "{\"sub\":\"hostile-1' OR '1'='1\",\"exp\":$((now + 600))}")" \
	"Authorization: Bearer $(seller_jwt "{\"sub\":\"hostile-1\",\"exp\":1e999999}")" \
	"Authorization: Bearer x' OR 1=1 --" "Authorization: Bearer $(printf 'A%.0s' {1..43})" \
	"Authorization: Bearer $(printf 'a%.0s' {1..5000})"; do
	args=()
	[[ -n $cred ]] && args=(-H "$cred")
	name="${cred:0:40}"
	for route in "GET /tenants/me" "PATCH /tenants/me" "POST /tenants/me/verify" "DELETE /tenants/session" \
		"GET /tenants/me/preferences" "PATCH /tenants/me/preferences" "GET /tenants/me/alerts" \
		"HEAD /tenants/me/alerts"; do
		body='{"display_name":"x","code":"123456"}'
		[[ ${route% *} == GET || ${route% *} == DELETE || ${route% *} == HEAD ]] && body=
		http "${route% *}" "${route#* }" "$body" "${args[@]}"
		expect "$route with '${name:-no token}'" '^401$'
	done
done
# Methods each route does not take.
for route in "PUT /tenants/me" "POST /tenants/me" "DELETE /tenants/me" "GET /tenants/me/verify" \
	"PATCH /tenants/me/verify" "GET /tenants/login" "DELETE /tenants/login" "GET /tenants/session" \
	"PATCH /tenants/session" "PUT /tenants/session" "PUT /tenants/me/preferences" \
	"POST /tenants/me/preferences" "DELETE /tenants/me/preferences" "POST /tenants/me/alerts" \
	"PATCH /tenants/me/alerts" "PUT /tenants/me/alerts" "DELETE /tenants/me/alerts"; do
	http "${route% *}" "${route#* }" '{}' -H "$jwt"
	expect "$route" '^405$'
done
# GET /tenants/me/alerts: every bad parameter a 400 naming it.
for q in 'limit=%00' 'limit=1%00' 'limit=%ZZ' 'limit=1e3' 'limit=99999999999999999999999' 'limit=+5' \
	'limit=0x10' 'limit=%201' 'before=1;DROP%20TABLE%20tenants' "before=1'%20OR%20'1'='1" 'before=-9223372036854775808' \
	"before=$(printf '9%.0s' {1..300})"; do
	http GET "/tenants/me/alerts?$q" "" -H "$jwt"
	expect "GET /tenants/me/alerts?${q:0:50}" '^400$'
	assert_eq "GET /tenants/me/alerts?${q:0:50} names ${q%%=*}" "${q%%=*}" "$(jq -r .error.field <<<"$HTTP_BODY")"
done
# Sizes: 2 MiB, empty, no Content-Length.
for route in "PATCH /tenants/me" "POST /tenants/me/verify" "POST /tenants/login" "POST /tenants/session" \
	"PATCH /tenants/me/preferences"; do
	HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X "${route% *}" -H "$jwt" \
		-H 'Content-Type: application/json' --data-binary "@$bigbody" "$HTTP_BASE${route#* }")
	assert_eq "$route 2 MiB body: 413" 413 "$HTTP_STATUS"
	http "${route% *}" "${route#* }" '' -H "$jwt" -H 'Content-Type: application/json' --data-binary ''
	expect "$route with an empty body" '^400$'
	# 411 is POST's (app/http.c); a PATCH without a length is an empty body.
	http "${route% *}" "${route#* }" '' -H "$jwt"
	if [[ ${route% *} == POST ]]; then
		expect "$route without Content-Length" '^411$'
	else
		expect "$route without Content-Length" '^400$'
	fi
done
# Bodies: PATCH /tenants/me (a seller's token), verify, login and session (none needed).
for body in "$deep" '{"display_name":' "$bad_utf8" '[]' '{"display_name":"x\u0000y"}' \
	'{"external_id":"hostile-2"}' '{"status":"suspended"}' '{"id":1}' \
	'{"whatsapp_number":"+15550009002\r\nX: y"}' "{\"whatsapp_number\":\"+15550009002' OR '1'='1\"}" \
	'{"whatsapp_number":"+15550009002\u0000"}' '{"time_zone":"../../../../etc/passwd"}' \
	'{"quiet_start":"99:99","quiet_end":"00:00"}' '{"language":1e999999}'; do
	http PATCH /tenants/me "$body" -H "$jwt"
	expect "PATCH /tenants/me ${body:0:60}" '^400$'
done
# PATCH /tenants/me/preferences: every refusal a 400 that stores nothing (state() has the rows).
for body in "$deep" '{"preferences":' "$bad_utf8" '[]' '{}' '{"preferences":null}' \
	'{"preferences":{"order.placed\u0000":{"enabled":false}}}' \
	"{\"preferences\":{\"order.placed' OR '1'='1\":{\"enabled\":false}}}" \
	'{"preferences":{"order.placed":{"enabled":false,"tenant_id":1}}}' \
	'{"preferences":{"order.placed":{"delivery":"hourly\u0000"}}}' \
	'{"preferences":{"order.placed":{"enabled":1e999999}}}' \
	'{"preferences":{"security.login":{"enabled":false}}}' \
	'{"preferences":{"payment.failed":{"enabled":false}}}' \
	'{"preferences":{"order.placed":{"channels":["whatsapp","whatsapp"]}}}' \
	'{"preferences":{"order.placed":{"enabled":false}},"tenant":"hostile-2"}'; do
	http PATCH /tenants/me/preferences "$body" -H "$jwt"
	expect "PATCH /tenants/me/preferences ${body:0:60}" '^400$'
done
for body in "$deep" '{"code":' "$bad_utf8" '[]' '{"code":123456}' '{"code":"12345\u0000"}' \
	"{\"code\":\"1' OR '1'='1\"}" '{"code":"1234567"}' '{"code":"123456","extra":1}' '{"code":1e999999}'; do
	http POST /tenants/me/verify "$body" -H "$jwt"
	expect "POST /tenants/me/verify ${body:0:60}" '^(400|409)$'
done
bad_numbers=("$deep" '{"whatsapp_number":' "$bad_utf8" '[]' '{}' '{"whatsapp_number":"+15550009001\u0000"}'
	"{\"whatsapp_number\":\"+1555' OR '1'='1\"}" '{"whatsapp_number":"+15550009001\r\nX: y"}'
	'{"whatsapp_number":15550009001}' '{"whatsapp_number":1e999999}')
for body in "${bad_numbers[@]}"; do
	http POST /tenants/login "$body"
	expect "POST /tenants/login ${body:0:60}" '^400$'
done
for body in "${bad_numbers[@]}" '{"whatsapp_number":"+15550009001"}' '{"whatsapp_number":"+15550009001","code":123456}' \
	'{"whatsapp_number":"+15550009001","code":"12345\u0000"}' "{\"whatsapp_number\":\"+15550009001\",\"code\":\"1' OR '1\"}" \
	'{"whatsapp_number":"+15550009001","code":"1234567"}' '{"whatsapp_number":"+15550009001","code":1e999999}'; do
	http POST /tenants/session "$body"
	expect "POST /tenants/session ${body:0:60}" '^400$'
done
# Path tricks: 4xx, or the route itself when nginx makes it that path.
for path in "/tenants/me/" "/tenants/me%00" "/tenants/ME" "/tenants/me%2fverify" "/tenants/me/verify/" \
	"/tenants/me/verify/x" "/tenants/login/" "/tenants/login%00" "/tenants/session/x" "/tenants/me;x" \
	"/tenants/me/..%2f..%2fhostile-1" "/tenants/%2e%2e/monitoring/check" "/tenants/me/../hostile-1/suspend" \
	"/tenants/me/preferences/" "/tenants/me/preferences%00" "/tenants/me/PREFERENCES" "/tenants/me/preferences/x" \
	"/tenants/me/alerts/" "/tenants/me/alerts%00" "/tenants/me/ALERTS" "/tenants/me/alerts/x"; do
	for method in POST PATCH DELETE; do
		HTTP_STATUS=$(curl -s --path-as-is -o "$HARNESS_DIR/p.body" -w '%{http_code}' -X "$method" \
			-H "$jwt" -H 'Content-Type: application/json' --data '{"display_name":"Tricked"}' "$HTTP_BASE$path")
		assert_match "$method $path: 4xx" '^4[0-9][0-9]$' "$HTTP_STATUS"
	done
	HTTP_STATUS=$(curl -s --path-as-is -o "$HARNESS_DIR/p.body" -w '%{http_code}' -H "$jwt" "$HTTP_BASE$path")
	assert_match "GET $path: 4xx or the seller itself" '^(4[0-9][0-9]|200)$' "$HTTP_STATUS"
done
assert_eq "the seller's routes: the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- the webhooks
scenario_webhooks() {
before=$(state)
# The webhook: unsigned, empty, invalid UTF-8, deep nesting (signed), a form flood of pairs.
http POST /monitoring/whatsapp/webhook "$bad_utf8"
expect "webhook: unsigned invalid UTF-8" '^401$'
body="{\"object\":\"whatsapp_business_account\",\"entry\":$deep"
http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
expect "webhook: signed deep nesting" '^400$'
http POST /monitoring/whatsapp/webhook "$bad_utf8" -H "X-Hub-Signature-256: sha256=$(sign "$bad_utf8")"
expect "webhook: signed invalid UTF-8" '^400$'
body="{\"object\":\"whatsapp_business_account\",\"entry\":[$(printf '{},%.0s' $(seq 1000)){}]}"
http POST /monitoring/whatsapp/webhook "$body" -H "X-Hub-Signature-256: sha256=$(sign "$body")"
expect "webhook: signed, 1,001 entries (over WA_MAX_ENTRIES)" '^413$'
assert_contains "the refusal names the limit" "$HTTP_BODY" "WA_MAX_ENTRIES"
http GET "/monitoring/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=%27%20OR%201=1&hub.challenge=%0d%0aSet-Cookie:x"
expect "webhook handshake: injection attempts" '^403$'
form=$(printf 'a%d=1&' $(seq 300))
http POST /monitoring/twilio/webhook "$form" -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Twilio-Signature: x'
expect "twilio: 300 pairs" '^(400|401)$'
http POST /monitoring/twilio/webhook 'Body=%zz' -H 'Content-Type: application/x-www-form-urlencoded'
expect "twilio: a bad escape" '^(400|401)$'
# An SMS status callback (To and From without whatsapp:) with control characters, unsigned and
# wrongly signed: refused like any Twilio request, nothing stored.
sms_cb='MessageSid=SM0123456789abcdef0123456789abcdef&MessageStatus=undelivered&ErrorCode=30003%0d%0aX:1&To=%2B1555%00%0a0001&From=%2B15553330000&SmsStatus=undelivered'
http POST /monitoring/twilio/webhook "$sms_cb" -H 'Content-Type: application/x-www-form-urlencoded'
expect "twilio: an unsigned SMS status callback with control characters" '^(400|401)$'
http POST /monitoring/twilio/webhook "$sms_cb" -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA='
expect "twilio: a wrongly signed SMS status callback" '^(400|401)$'

assert_eq "the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- the platform's events
# ev_sig ID TS BODY: the Standard Webhooks v1 signature with EVENTS_SIGNING_SECRET
ev_sig() {
	local key hex
	key=$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)
	hex=$(printf '%s' "${key#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
	printf 'v1,%s' "$(printf '%s.%s.%s' "$1" "$2" "$3" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary | base64 -w0)"
}
# ev_post BODY [ID]: POST /events signed now
ev_post() {
	local id=${2:-hostile-$RANDOM} ts
	ts=$(date +%s)
	http POST /events "$1" -H "webhook-id: $id" -H "webhook-timestamp: $ts" \
		-H "webhook-signature: $(ev_sig "$id" "$ts" "$1")"
}
ev_rows() { psql_state "SELECT (SELECT count(*) FROM events) || '/' || (SELECT count(*) FROM event_deliveries)"; }

scenario_events() {
http POST /tenants '{"external_id":"hostile-1","display_name":"Hostile One"}' \
	-H "Authorization: Bearer $PLATFORM_KEY"
before=$(state)
evs=$(ev_rows)
ts=$(date +%s)
good='{"id":"e-1","type":"system.notice","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}}'
# Unsigned or badly signed: 401 whatever the body.
for body in "$good" "$bad_utf8" "$deep" "$sqlish"; do
	http POST /events "$body"
	expect "events: unsigned ${body:0:40}" '^401$'
done
while IFS='|' read -r what id stamp signature; do
	http POST /events "$good" -H "webhook-id: $id" -H "webhook-timestamp: $stamp" -H "webhook-signature: $signature"
	expect "events: $what" '^401$'
done <<EOT
a signature that is not base64|m-1|$ts|v1,!!!!
a signature of the wrong length|m-2|$ts|v1,$(printf 'QUFB%.0s' {1..20})
a signature header of 5,000 bytes|m-3|$ts|$(printf 'v1,x %.0s' {1..1000})
an id with a dot|a.b|$ts|$(ev_sig a.b "$ts" "$good")
an id of 300 bytes|$(printf 'i%.0s' {1..300})|$ts|v1,x
an SQL-looking id|x'; DROP TABLE events; --|$ts|v1,x
a negative timestamp|m-4|-1|$(ev_sig m-4 -1 "$good")
a timestamp in exponent form|m-5|1e9|v1,x
a 20-digit timestamp|m-6|99999999999999999999|v1,x
a timestamp from 1970|m-7|1|$(ev_sig m-7 1 "$good")
EOT
assert_eq "events: refused signatures store nothing" "$evs" "$(ev_rows)"
# Signed, and still not an event body: 400/413, nothing stored.
for body in "$deep" "$bad_utf8" '{"id":' '[]' '"x"' '{"events":{}}' '{"events":[],"x":1}' \
	'{"id":"e-1","type":"system.notice","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t\u0000","message":"m"}}'; do
	ev_post "$body"
	expect "events: signed ${body:0:40}" '^400$'
done
ev_post "{\"events\":[$(for _ in {1..100}; do printf '%s,' "$good"; done)$good]}"
expect "events: signed, 101 events" '^413$'
assert_eq "events: bodies of the wrong shape store nothing" "$evs" "$(ev_rows)"
# Signed events with hostile fields: refused by name (the refusal is the delivery's recorded
# answer), never stored.
for body in '{"id":"e-1; DROP TABLE events; --","type":"system.notice","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}}' \
	'{"id":"e-2","type":"system.notice","tenant":"hostile-1'"'"' OR '"'"'1'"'"'='"'"'1","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}}' \
	'{"id":"e-3","type":"order.placed","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"1","total":{"amount":1e999999,"currency":"NGN"},"items":1,"customer":{"name":"A"}}}' \
	'{"id":"e-4","type":"system.notice","tenant":"hostile-1","occurred_at":"2026-13-45T99:99:99Z","data":{"title":"t","message":"m"}}' \
	'{"id":"e-5","type":"../../etc/passwd","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{}}' \
	'{"id":"e-6","type":"system.notice","tenant":"nobody","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"}}'; do
	ev_post "$body"
	expect "events: signed ${body:0:60}" '^(400|422)$'
done
assert_eq "events: no hostile event stored" "${evs%/*}" "$(psql_state "SELECT count(*) FROM events")"
# Members of data beyond the type's fields are kept as they came (jsonb): values PostgreSQL's
# jsonb could refuse must be refused or made safe before, never fail the transaction (a 503
# the platform would retry for ever, and that fails the other requests sharing the commit).
for extra in '"x":1e999999' '"x":-1e999999' '"x":"\ud800"' '"x":"\udc00\ud800"' '"x":123456789012345678901234567890' \
	'"x":1.5e-999999' '"x":"\u00e9\ud83d\ude00"' '"x":{"y":[[[[1]]]]}'; do
	ev_post '{"id":"e-x'$RANDOM'","type":"system.notice","tenant":"hostile-1","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m",'"$extra"'}}'
	expect "events: signed, data with $extra" '^(200|400)$'
done
HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "@$bigbody" "$HTTP_BASE/events")
assert_eq "events: 2 MiB body: 413" 413 "$HTTP_STATUS"
http POST /events ''
expect "events: POST without Content-Length" '^411$'
for m in GET PUT PATCH DELETE; do
	http "$m" /events
	expect "events: $m" '^405$'
done
for path in "/events/" "/events%00" "/EVENTS" "/events/../events/x" "/events;x" "/events/1"; do
	HTTP_STATUS=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data "$good" "$HTTP_BASE$path")
	assert_match "events: path $path: 4xx" '^4[0-9][0-9]$' "$HTTP_STATUS"
done
assert_eq "events: the rest of the state database is unchanged" "$before" "$(state)"
}

# ---------------------------------------------------------------- Alertmanager's receiver
scenario_alertmanager() {
before=$(state)
local ep=/monitoring/alertmanager amtok='Authorization: Bearer hostile-alertmanager-token-0123'
local alert='{"status":"firing","labels":{"alertname":"X"},"annotations":{},"startsAt":"","endsAt":"","fingerprint":"ab"}'
local sqlfp='"ab\u0027 OR 1=1; --"' nulfp='"ab\u0000cd"' nulname='"X\u0000Y"'
local group='{"version":"4","status":"firing","receiver":"r","groupKey":"k","externalURL":"","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"alerts":[ALERTS]}'
http POST $ep "${group/ALERTS/$alert}"
expect "alertmanager without a token" '^401$'
http POST $ep "${group/ALERTS/$alert}" -H "$(tok)"
expect "alertmanager with the admin token" '^401$'
http POST $ep "${group/ALERTS/$alert}" -H 'Authorization: Bearer hostile-alertmanager-token-012'
expect "alertmanager with a token one character short" '^401$'
http POST $ep "${group/ALERTS/$alert}" -H 'Authorization: Basic YWRtaW46YWRtaW4='
expect "alertmanager with basic auth" '^401$'
for m in GET PUT DELETE PATCH; do
	http "$m" $ep '' -H "$amtok"
	expect "alertmanager $m" '^405$'
done
for body in "$deep" '{"version":' "$bad_utf8" "$huge" \
	"${group/ALERTS/${alert/\"ab\"/$nulfp}}" "${group/ALERTS/${alert/\"X\"/$nulname}}" \
	"${group/ALERTS/${alert/\"ab\"/$sqlfp}}" \
	"${group/ALERTS/${alert/\"ab\"/99999999999999999999}}" \
	"${group/ALERTS/$(printf '%s,' $(seq 1001) | sed 's/,$//')}" \
	"${group/\"4\"/4}" "${group/\"firing\"/\"FIRING\"}" \
	"${group/ALERTS/$alert,$alert}"; do
	http POST $ep "$body" -H "$amtok"
	expect "alertmanager ${body:0:60}" '^400$'
done
http POST $ep '' -H "$amtok" -H 'Content-Type: application/json' --data-binary ''
expect "alertmanager with an empty body" '^400$'
http POST $ep '' -H "$amtok"
expect "alertmanager without Content-Length" '^411$'
HTTP_STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$amtok" \
	-H 'Content-Type: application/json' --data-binary "@$bigbody" "$HTTP_BASE$ep")
assert_eq "alertmanager 2 MiB body: 413" 413 "$HTTP_STATUS"
for path in "$ep/" "$ep%00" "/monitoring/ALERTMANAGER" "/monitoring/alertmanager/../check"; do
	HTTP_STATUS=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' -X POST -H "$amtok" \
		-H 'Content-Type: application/json' --data "${group/ALERTS/$alert}" "$HTTP_BASE$path")
	assert_match "alertmanager path $path: 4xx" '^4[0-9][0-9]$' "$HTTP_STATUS"
done
assert_eq "alertmanager: the state database is unchanged" "$before" "$(state)"
}

harness_scenarios api_endpoints header_injection path_tricks tenant_routes seller_routes webhooks \
	events alertmanager

assert_eq "no program wrote a sanitizer report" "" "$(grep -l 'ERROR: AddressSanitizer\|runtime error:' "$HARNESS_LOG_DIR"/*.log 2>/dev/null || true)"

harness_finish
