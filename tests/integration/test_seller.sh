#!/usr/bin/env bash
# The seller's own routes (issue 16): GET/PATCH /tenants/me, POST /tenants/me/verify, POST
# /tenants/login, POST and DELETE /tenants/session. A seller is a platform JWT (HS256 with
# TENANT_JWT_SECRET, minted here so it can be tampered with) or a session from a WhatsApp login
# (the code read from what the mock provider received). One tenant's credential only ever reads
# or changes that tenant; every refusal is the spec's code and changes nothing; codes, sessions
# and the rate limits behave as the spec says (their rows are aged in the database, no sleeping).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

# The programs and cron's drain send through Meta's API at the mock, without the per-recipient
# spacing. Every request comes from 127.0.0.1: the address limit is out of the way except in
# the scenario that tests it.
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID 1234567890
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env LOGIN_REQUESTS_PER_ADDRESS_HOUR 100000
harness_restart_programs || fail "programs restarted"
harness_env_baseline

JWT_SECRET=$(env_get "$MONITORING_ENV_FILE" TENANT_JWT_SECRET)
OTHER_SECRET=$(random_hex 32)
A=+2349010000001 B=+2349010000002 NOBODY=+2349010000099

# ---------------------------------------------------------------- helpers
# seller TOKEN METHOD PATH [BODY]: a request with Authorization: Bearer TOKEN
seller() {
	local token=$1
	shift
	http "$1" "$2" "${3:-}" -H "Authorization: Bearer $token"
}
# answer: the last answer's status and error code ("401 expired"; "200 " on success)
answer() { printf '%s %s' "$HTTP_STATUS" "$(jq -r '.error.code // empty' <<<"$HTTP_BODY" 2>/dev/null)"; }
# field: the last answer's error field
field() { jq -r '.error.field // empty' <<<"$HTTP_BODY" 2>/dev/null; }
# row EXTERNAL_ID: the tenant's whole row as one line; rows: every tenant's
row() { psql_state "SELECT t::text FROM tenants t WHERE external_id = '$1'"; }
rows() { psql_state "SELECT coalesce(string_agg(t::text, ',' ORDER BY id), '') FROM tenants t"; }
col() { psql_state "SELECT coalesce($2::text, 'NULL') FROM tenants WHERE external_id = '$1'"; }
now() { date +%s; }
b64url() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
# jwt PAYLOAD [SECRET] [HEADER] [DIGEST]: base64url(HEADER).base64url(PAYLOAD) and its HMAC with
# SECRET (TENANT_JWT_SECRET), DIGEST sha256 unless told; the JSON texts as given, unchecked.
jwt() {
	local header=${3:-'{"alg":"HS256","typ":"JWT"}'}
	python3 - "$1" "${2:-$JWT_SECRET}" "$header" "${4:-sha256}" <<'EOF'
import base64, hashlib, hmac, sys
payload, key, header, digest = sys.argv[1:5]
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
signing = enc(header.encode()) + "." + enc(payload.encode())
mac = hmac.new(key.encode(), signing.encode(), getattr(hashlib, digest)).digest()
print(signing + "." + enc(mac))
EOF
}
# claims TOKEN: a JWT's payload, decoded (not checked)
claims() {
	python3 -c 'import base64, sys; p = sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}
# token_for EXTERNAL_ID [SECONDS]: a good token, as the platform mints it
token_for() {
	local t
	t=$(now)
	jwt "{\"sub\":\"$1\",\"iat\":$t,\"exp\":$((t + ${2:-3600}))}"
}

# mark: the mock's last record (what came after it is new)
mark() { mock_requests | jq '.[-1].seq // 0'; }
# texts_to NUMBER SINCE: the texts the mock received for NUMBER after record SINCE, one a line
texts_to() { mock_requests "$2" | jq -r --arg to "${1#+}" '.[] | select(.to == $to) | .json.text.body'; }
# text_sent NUMBER SINCE: drain the outbox and wait (up to 10 s) for a message to NUMBER after
# record SINCE; print the last one (nothing if none came).
text_sent() {
	local i text
	for i in $(seq 50); do
		if ((i % 10 == 1)); then
			harness_cron drain >/dev/null || true
		fi
		text=$(texts_to "$1" "$2" | tail -n 1)
		if [[ -n $text ]]; then
			printf '%s\n' "$text"
			return 0
		fi
		sleep 0.2
	done
}
# code_in TEXT: the 6-digit run in TEXT
code_in() { grep -oE '[0-9]{6}' <<<"$1" | head -n 1 || true; }
# code_sent NUMBER SINCE: the code of the message to NUMBER after record SINCE
code_sent() { code_in "$(text_sent "$1" "$2")"; }
# nothing_sent NAME NUMBER SINCE: no message for NUMBER was queued, and none reached the mock
# after record SINCE (the outbox drained first)
nothing_sent() {
	harness_cron drain >/dev/null || true
	assert_eq "$1: nothing queued for $2" 0 "$(psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '$2'")"
	assert_eq "$1: nothing sent to $2" "" "$(texts_to "$2" "$3")"
}
# wrong CODE: a 6-digit code that is not CODE
wrong() { printf '%06d' $(((10#$1 + 1) % 1000000)); }
# login NUMBER: a session token for NUMBER's tenant through the WhatsApp login (nothing on failure)
login() {
	local m code
	m=$(mark)
	http POST /tenants/login "{\"whatsapp_number\":\"$1\"}"
	[[ $HTTP_STATUS == 202 ]] || return 0
	code=$(code_sent "$1" "$m")
	http POST /tenants/session "{\"whatsapp_number\":\"$1\",\"code\":\"$code\"}"
	if [[ $HTTP_STATUS == 201 ]]; then
		jq -r .token <<<"$HTTP_BODY"
	fi
}
# forget_requests: the rate limits' record moved two hours back (a new code may be asked for)
forget_requests() { psql_state "UPDATE tenant_auth_requests SET at = at - interval '2 hours'" >/dev/null; }
# age_requests SECONDS: the rate limits' record moved SECONDS back
age_requests() { psql_state "UPDATE tenant_auth_requests SET at = at - make_interval(secs => $1)" >/dev/null; }
# age_codes SECONDS: every code as if sent SECONDS earlier
age_codes() {
	psql_state "UPDATE tenant_codes SET created_at = created_at - make_interval(secs => $1),
	 expires_at = expires_at - make_interval(secs => $1)" >/dev/null
}
is_token='^[A-Za-z0-9_-]{43}$'

# ---------------------------------------------------------------- isolation between two tenants
# cred_name KEY: "A's JWT" for a-jwt
cred_name() { printf "%s's %s" "${1%%-*}" "${1#*-}" | sed 's/^a/A/; s/^b/B/; s/jwt$/JWT/'; }
scenario_isolation() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
declare -A cred
cred[a-jwt]=$(token_for shop-a)
cred[b-jwt]=$(token_for shop-b)
cred[a-session]=$(login "$A")
cred[b-session]=$(login "$B")
assert_match "A has a session" "$is_token" "${cred[a-session]}"
assert_match "B has a session" "$is_token" "${cred[b-session]}"
for k in a-jwt a-session b-jwt b-session; do
	seller "${cred[$k]}" GET /tenants/me
	assert_eq "GET /tenants/me with $(cred_name "$k"): its own tenant" "200 shop-${k%%-*}" \
		"$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
done
# PATCH, one tenant then the other, in both orders: each changes its own row and only it.
n=0
for order in "a b" "b a"; do
	for who in $order; do
		other=a
		[[ $who == a ]] && other=b
		for k in "$who-jwt" "$who-session"; do
			n=$((n + 1))
			before=$(row "shop-$other")
			seller "${cred[$k]}" PATCH /tenants/me "{\"display_name\":\"Name $n\"}"
			assert_eq "PATCH with $(cred_name "$k") ($order): 200, its own row" "200 shop-$who Name $n" \
				"$HTTP_STATUS $(jq -r '.external_id + " " + .display_name' <<<"$HTTP_BODY")"
			assert_eq "PATCH with $(cred_name "$k"): stored on shop-$who" "Name $n" "$(col "shop-$who" display_name)"
			assert_eq "PATCH with $(cred_name "$k"): shop-$other's row unchanged" "$before" "$(row "shop-$other")"
		done
	done
done

# A's number change: B's credentials cannot confirm it with A's code.
A2=+2349010000011
before_b=$(row shop-b)
m=$(mark)
seller "${cred[a-jwt]}" PATCH /tenants/me "{\"whatsapp_number\":\"$A2\"}"
assert_eq "A asks for a new number: 200, pending" "200 $A2" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
code=$(code_sent "$A2" "$m")
assert_match "the code reached A's new number" '^[0-9]{6}$' "$code"
for k in b-jwt b-session; do
	seller "${cred[$k]}" POST /tenants/me/verify "{\"code\":\"$code\"}"
	assert_eq "verify with $(cred_name "$k") and A's code: 409 nothing_to_verify" "409 nothing_to_verify" "$(answer)"
done
assert_eq "A's number still pending" "$A $A2" "$(col shop-a "whatsapp_number || ' ' || pending_whatsapp_number")"
seller "${cred[a-session]}" POST /tenants/me/verify "{\"code\":\"$code\"}"
assert_eq "verify with A's session: 200, A's number changed" "200 $A2 true null" \
	"$HTTP_STATUS $(jq -r '[.whatsapp_number, (.whatsapp_verified|tostring), (.pending_whatsapp_number|tostring)] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "B's row unchanged by A's number change" "$before_b" "$(row shop-b)"

# Forged and damaged tokens aimed at B: 401 with the check that failed, nothing read or changed.
t=$(now)
pb="{\"sub\":\"shop-b\",\"iat\":$t,\"exp\":$((t + 3600))}"
pa="{\"sub\":\"shop-a\",\"iat\":$t,\"exp\":$((t + 3600))}"
ja=${cred[a-jwt]} jb=${cred[b-jwt]}
before=$(rows)
while IFS='|' read -r what code token; do
	seller "$token" GET /tenants/me
	assert_eq "GET with $what: 401 $code" "401 $code" "$(answer)"
	assert_not_contains "GET with $what: no tenant in the answer" "$HTTP_BODY" "shop-"
	seller "$token" PATCH /tenants/me '{"display_name":"Hijacked"}'
	assert_eq "PATCH with $what: 401 $code" "401 $code" "$(answer)"
done <<EOT
B's header and payload with A's signature|bad_signature|${jb%.*}.${ja##*.}
A's token with B's payload put in|bad_signature|${ja%%.*}.$(b64url "$pb").${ja##*.}
sub shop-b signed with another secret|bad_signature|$(jwt "$pb" "$OTHER_SECRET")
A's token re-signed with another secret|bad_signature|$(jwt "$pa" "$OTHER_SECRET")
alg none, MAC of the right key|bad_alg|$(jwt "$pb" "$JWT_SECRET" '{"alg":"none","typ":"JWT"}')
alg HS384 signed with HMAC-SHA384|bad_alg|$(jwt "$pb" "$JWT_SECRET" '{"alg":"HS384","typ":"JWT"}' sha384)
alg RS256, MAC of the right key|bad_alg|$(jwt "$pb" "$JWT_SECRET" '{"alg":"RS256","typ":"JWT"}')
alg RS256 header on B's token, its MAC kept|bad_alg|$(b64url '{"alg":"RS256","typ":"JWT"}').${jb#*.}
B's token expired an hour ago|expired|$(jwt "{\"sub\":\"shop-b\",\"iat\":$((t - 7200)),\"exp\":$((t - 3600))}")
EOT
seller "$(b64url '{"alg":"none","typ":"JWT"}').$(b64url "$pb")." GET /tenants/me
assert_match "GET with alg none and no signature: 401 bad_alg or malformed" '^401 (bad_alg|malformed)$' "$(answer)"
assert_eq "no tampered token changed a row" "$before" "$(rows)"

# B suspended mid-session: its session then its JWT refused at once; A unaffected; back on
# reactivation.
platform POST /tenants/shop-b/suspend
assert_eq "B suspended" "200 suspended" "$HTTP_STATUS $(jq -r .status <<<"$HTTP_BODY")"
before=$(rows)
for k in b-session b-jwt; do
	seller "${cred[$k]}" GET /tenants/me
	assert_eq "suspended: GET with $(cred_name "$k"): 401 tenant_suspended" "401 tenant_suspended" "$(answer)"
	seller "${cred[$k]}" PATCH /tenants/me '{"display_name":"While suspended"}'
	assert_eq "suspended: PATCH with $(cred_name "$k"): 401 tenant_suspended" "401 tenant_suspended" "$(answer)"
	seller "${cred[$k]}" POST /tenants/me/verify '{"code":"123456"}'
	assert_eq "suspended: verify with $(cred_name "$k"): 401 tenant_suspended" "401 tenant_suspended" "$(answer)"
done
seller "${cred[b-session]}" DELETE /tenants/session
assert_eq "suspended: DELETE /tenants/session: 401 tenant_suspended" "401 tenant_suspended" "$(answer)"
assert_eq "suspended: nothing changed" "$before" "$(rows)"
seller "${cred[a-session]}" GET /tenants/me
assert_eq "A still served while B is suspended" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
platform POST /tenants/shop-b/reactivate
assert_eq "B reactivated" "200 active" "$HTTP_STATUS $(jq -r .status <<<"$HTTP_BODY")"
for k in b-session b-jwt; do
	seller "${cred[$k]}" GET /tenants/me
	assert_eq "reactivated: GET with $(cred_name "$k") works again" "200 shop-b" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
done

# The keys of the other side: the platform's and the operator's keys are no seller; a seller's
# credential is no platform key.
before=$(rows)
for key in "$PLATFORM_KEY" "$API_TOKEN"; do
	name="the platform key"
	[[ $key == "$API_TOKEN" ]] && name="the operator's token"
	seller "$key" GET /tenants/me
	assert_eq "GET /tenants/me with $name: 401" 401 "$HTTP_STATUS"
	seller "$key" PATCH /tenants/me '{"display_name":"Platform"}'
	assert_eq "PATCH /tenants/me with $name: 401" 401 "$HTTP_STATUS"
	seller "$key" POST /tenants/me/verify '{"code":"123456"}'
	assert_eq "verify with $name: 401" 401 "$HTTP_STATUS"
	seller "$key" DELETE /tenants/session
	assert_eq "DELETE /tenants/session with $name: 401" 401 "$HTTP_STATUS"
done
for k in a-jwt a-session; do
	seller "${cred[$k]}" GET /tenants
	assert_eq "GET /tenants with $(cred_name "$k"): 401" 401 "$HTTP_STATUS"
	seller "${cred[$k]}" GET /tenants/shop-a
	assert_eq "GET /tenants/shop-a with $(cred_name "$k"): 401" 401 "$HTTP_STATUS"
	seller "${cred[$k]}" POST /tenants '{"external_id":"shop-a","display_name":"Taken over"}'
	assert_eq "POST /tenants with $(cred_name "$k"): 401" 401 "$HTTP_STATUS"
	seller "${cred[$k]}" POST /tenants/shop-b/suspend
	assert_eq "suspend B with $(cred_name "$k"): 401" 401 "$HTTP_STATUS"
done
assert_eq "the other side's keys changed nothing" "$before" "$(rows)"

# A logs out: A's session ends, B's and A's JWT go on.
seller "${cred[a-session]}" DELETE /tenants/session
assert_eq "A's DELETE /tenants/session: 204" 204 "$HTTP_STATUS"
seller "${cred[a-session]}" GET /tenants/me
assert_eq "A's ended session: 401 invalid_session" "401 invalid_session" "$(answer)"
seller "${cred[b-session]}" GET /tenants/me
assert_eq "B's session still works" "200 shop-b" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
seller "${cred[a-jwt]}" GET /tenants/me
assert_eq "A's JWT still works" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- the JWT checks, one 401 code each
scenario_jwt_checks() {
make_tenant shop-a "$A"
before=$(rows)
http GET /tenants/me
assert_eq "no Authorization: 401 missing_token" "401 missing_token" "$(answer)"
assert_match "the 401 is JSON" '^application/json' "$HTTP_CONTENT_TYPE"
http GET /tenants/me '' -H 'Authorization: Basic YWRtaW46YWRtaW4='
assert_eq "Basic credentials: 401 missing_token" "401 missing_token" "$(answer)"
t=$(now)
hs='{"alg":"HS256","typ":"JWT"}'
while IFS='|' read -r what expect token; do
	seller "$token" GET /tenants/me
	assert_eq "$what: $expect" "$expect" "$(answer)"
done <<EOT
two parts|401 malformed|$(b64url "$hs").$(b64url '{"sub":"shop-a"}')
four parts|401 malformed|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}").x
a part not base64url|401 malformed|$(b64url "$hs")!.$(b64url '{"sub":"shop-a"}').AAAA
a header that is not JSON|401 malformed|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$JWT_SECRET" 'not json')
typ JWS|401 malformed|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$JWT_SECRET" '{"alg":"HS256","typ":"JWS"}')
no alg|401 bad_alg|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$JWT_SECRET" '{"typ":"JWT"}')
alg HS384|401 bad_alg|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$JWT_SECRET" '{"alg":"HS384","typ":"JWT"}' sha384)
alg none|401 bad_alg|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$JWT_SECRET" '{"alg":"none","typ":"JWT"}')
signed with another secret|401 bad_signature|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600))}" "$OTHER_SECRET")
a payload that is not JSON, signed|401 malformed|$(jwt 'sub=shop-a')
no exp|401 missing_claim|$(jwt "{\"sub\":\"shop-a\",\"iat\":$t}")
no sub|401 missing_claim|$(jwt "{\"exp\":$((t + 600))}")
exp 100 s ago (leeway 30)|401 expired|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t - 100))}")
exp 10 s ago, within the leeway|200 |$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t - 10))}")
nbf in 5 minutes|401 not_yet_valid|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600)),\"nbf\":$((t + 300))}")
iat in 5 minutes|401 not_yet_valid|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600)),\"iat\":$((t + 300))}")
nbf 10 s ahead, within the leeway|200 |$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600)),\"nbf\":$((t + 10))}")
an aud with none configured|401 bad_audience|$(jwt "{\"sub\":\"shop-a\",\"exp\":$((t + 600)),\"aud\":\"seller-api\"}")
a tenant that does not exist|401 unknown_tenant|$(token_for shop-nobody)
an unknown session token|401 invalid_session|$(random_hex 32 | head -c 43)
EOT
assert_eq "no refused token changed anything" "$before" "$(rows)"

# cron tenant-token mints what the programs accept; bad arguments are exit 2.
tok=$(harness_cron tenant-token shop-a 120) || true
seller "$tok" GET /tenants/me
assert_eq "a token from cron tenant-token: 200" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
assert_eq "its exp is 120 s on" 120 "$(claims "$tok" | jq '.exp - .iat' 2>/dev/null || true)"
for args in "" "shop-a 0" "shop-a 31536001" "shop-a 12x"; do
	rc=0
	# shellcheck disable=SC2086 # the arguments are words
	harness_cron tenant-token $args >/dev/null || rc=$?
	assert_eq "cron tenant-token $args: exit 2" 2 "$rc"
done

# An audience configured (and a wider leeway): only a token that names it.
harness_set_env TENANT_JWT_AUDIENCE seller-api
harness_set_env TENANT_JWT_LEEWAY_SECONDS 120
harness_restart_programs || fail "programs restarted"
t=$(now)
while IFS='|' read -r what expect payload; do
	seller "$(jwt "$payload")" GET /tenants/me
	assert_eq "audience seller-api, $what: $expect" "$expect" "$(answer)"
done <<EOT
aud seller-api|200 |{"sub":"shop-a","exp":$((t + 600)),"aud":"seller-api"}
aud a list holding seller-api|200 |{"sub":"shop-a","exp":$((t + 600)),"aud":["other","seller-api"]}
aud another service|401 bad_audience|{"sub":"shop-a","exp":$((t + 600)),"aud":"other"}
aud a list without seller-api|401 bad_audience|{"sub":"shop-a","exp":$((t + 600)),"aud":["other"]}
no aud|401 bad_audience|{"sub":"shop-a","exp":$((t + 600))}
exp 100 s ago, leeway 120|200 |{"sub":"shop-a","exp":$((t - 100)),"aud":"seller-api"}
exp 200 s ago, leeway 120|401 expired|{"sub":"shop-a","exp":$((t - 200)),"aud":"seller-api"}
EOT
tok=$(harness_cron tenant-token shop-a) || true
seller "$tok" GET /tenants/me
assert_eq "cron tenant-token names the audience: 200" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"

# No TENANT_JWT_SECRET: every JWT refused as such; a session still works.
session=$(login "$A")
assert_match "a session before the JWT secret goes" "$is_token" "$session"
harness_set_env TENANT_JWT_SECRET ''
harness_restart_programs || fail "programs restarted"
seller "$(token_for shop-a)" GET /tenants/me
assert_eq "no TENANT_JWT_SECRET: a JWT is 401 jwt_not_configured" "401 jwt_not_configured" "$(answer)"
seller "$(jwt '{"sub":"shop-a","exp":1}' "$OTHER_SECRET")" GET /tenants/me
assert_eq "no TENANT_JWT_SECRET: any JWT, jwt_not_configured" "401 jwt_not_configured" "$(answer)"
seller "$session" GET /tenants/me
assert_eq "no TENANT_JWT_SECRET: a session still works" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
rc=0
harness_cron tenant-token shop-a >/dev/null || rc=$?
assert_eq "cron tenant-token without TENANT_JWT_SECRET: exit 1" 1 "$rc"
}

# ---------------------------------------------------------------- the WhatsApp login, end to end
# session_for NUMBER CODE: POST /tenants/session
session_for() { http POST /tenants/session "{\"whatsapp_number\":\"$1\",\"code\":\"$2\"}"; }
# new_code NUMBER: the rate limits forgotten, a login code asked for NUMBER and read at the mock
new_code() {
	local m
	forget_requests
	m=$(mark)
	http POST /tenants/login "{\"whatsapp_number\":\"$1\"}"
	[[ $HTTP_STATUS == 202 ]] && code_sent "$1" "$m"
	return 0
}
scenario_login_flow() {
make_tenant shop-a "$A"
S=+2349010000003
make_tenant shop-s "$S"
platform POST /tenants/shop-s/suspend
# The operator's pause holds alerts, never a login code.
psql_state "UPDATE pause_state SET paused_until = now() + interval '1 hour', paused_by = 'test', paused_at = now()" >/dev/null
m=$(mark)
http POST /tenants/login "{\"whatsapp_number\":\"$A\"}"
accepted=$HTTP_BODY
assert_eq "login with A's number: 202" 202 "$HTTP_STATUS"
assert_eq "the answer" '{"status":"code_sent_if_registered","expires_in_seconds":600}' "$(jq -c . <<<"$HTTP_BODY")"
text=$(text_sent "$A" "$m")
code=$(code_in "$text")
assert_match "a 6-digit code reached A's number on WhatsApp" '^[0-9]{6}$' "$code"
assert_eq "the message" "Your login code is $code. It expires in 10 minutes. Never share it." "$text"
assert_eq "sent with A's tenant id, not held by the pause" "$(col shop-a id)|sent" \
	"$(psql_state "SELECT string_agg(coalesce(tenant_id::text, 'NULL') || '|' || status, ',') FROM whatsapp_logs WHERE phone_number = '$A'")"
assert_eq "the code is not stored as itself" 0 "$(psql_state "SELECT count(*) FROM tenant_codes c WHERE c::text LIKE '%$code%'")"

session_for "$A" "$code"
assert_eq "the code for a session: 201" 201 "$HTTP_STATUS"
token=$(jq -r .token <<<"$HTTP_BODY")
assert_match "a 43-character token" "$is_token" "$token"
assert_eq "with A's tenant" shop-a "$(jq -r .tenant.external_id <<<"$HTTP_BODY")"
expires=$(jq -r .expires_at <<<"$HTTP_BODY")
assert_match "expires_at in UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' "$expires"
left=$(($(date -d "$expires" +%s) - $(now)))
assert_match "expires in TENANT_SESSION_HOURS (168 h)" '^1$' "$((left > 168 * 3600 - 120 && left <= 168 * 3600 + 5))"
assert_eq "the token is not stored as itself" "1 0" \
	"$(psql_state "SELECT count(*) || ' ' || count(*) FILTER (WHERE s::text LIKE '%$token%') FROM tenant_sessions s")"
assert_eq "the spent code's digits masked in its message's row" "1 0" \
	"$(psql_state "SELECT count(*) || ' ' || count(*) FILTER (WHERE message_content LIKE '%$code%') FROM whatsapp_logs WHERE phone_number = '$A'")"
seller "$token" GET /tenants/me
assert_eq "GET /tenants/me with the session" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
session_for "$A" "$code"
assert_eq "the same code again: 401 invalid_code" "401 invalid_code" "$(answer)"
refused=$HTTP_BODY

# Unknown, suspended and unverified numbers: the same answers, and no message.
for n in "$NOBODY" "$S"; do
	m=$(mark)
	http POST /tenants/login "{\"whatsapp_number\":\"$n\"}"
	assert_eq "login with $n: the same 202 and body" "202 $accepted" "$HTTP_STATUS $HTTP_BODY"
	nothing_sent "login with $n" "$n" "$m"
	session_for "$n" 123456
	assert_eq "a session for $n: the same 401 body" "401 $refused" "$HTTP_STATUS $HTTP_BODY"
done
P=+2349010000013
m=$(mark)
seller "$(token_for shop-a)" PATCH /tenants/me "{\"whatsapp_number\":\"$P\"}"
assert_eq "A's new number pending" "200 $P" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
forget_requests
http POST /tenants/login "{\"whatsapp_number\":\"$P\"}"
assert_eq "login with a pending (unverified) number: the same 202" "202 $accepted" "$HTTP_STATUS $HTTP_BODY"
harness_cron drain >/dev/null || true
text_sent "$P" "$m" >/dev/null
assert_eq "the pending number got its confirmation code, no login code" "1|0" \
	"$(texts_to "$P" "$m" | grep -c 'confirm this number' || true)|$(texts_to "$P" "$m" | grep -c 'login code' || true)"

# Wrong codes: a try counts, the code survives a wrong one but not LOGIN_CODE_MAX_ATTEMPTS (5).
code=$(new_code "$A")
session_for "$A" "$(wrong "$code")"
assert_eq "a wrong code: 401 invalid_code, the same body" "401 $refused" "$HTTP_STATUS $HTTP_BODY"
session_for "$A" "$code"
assert_eq "then the right one: 201" 201 "$HTTP_STATUS"
code=$(new_code "$A")
for i in 1 2 3 4 5; do
	session_for "$A" "$(wrong "$code")"
	assert_eq "wrong code $i of 5: 401 invalid_code" "401 invalid_code" "$(answer)"
done
session_for "$A" "$code"
assert_eq "5 wrong then the right one: 401 invalid_code" "401 invalid_code" "$(answer)"
code=$(new_code "$A")
age_codes 601
session_for "$A" "$code"
assert_eq "a code older than LOGIN_CODE_TTL_SECONDS: 401 invalid_code" "401 invalid_code" "$(answer)"
old=$(new_code "$A")
code=$(new_code "$A")
assert_ne "a second code, another one" "$old" "$code"
session_for "$A" "$old"
assert_eq "only the newest code is live: the older one is 401" "401 invalid_code" "$(answer)"
session_for "$A" "$code"
assert_eq "the newest one: 201" 201 "$HTTP_STATUS"
other=$(jq -r .token <<<"$HTTP_BODY")

# Bad formats: 400 naming the field.
while IFS='|' read -r path field body; do
	http POST "$path" "$body"
	assert_eq "POST $path $body: 400 $field" "400 invalid_field $field" "$(answer) $(field)"
done <<EOT
/tenants/login|whatsapp_number|{"whatsapp_number":"2349010000001"}
/tenants/login|whatsapp_number|{"whatsapp_number":"12345"}
/tenants/login|whatsapp_number|{}
/tenants/session|code|{"whatsapp_number":"$A","code":"12345"}
/tenants/session|code|{"whatsapp_number":"$A","code":"12345a"}
/tenants/session|whatsapp_number|{"whatsapp_number":"0901","code":"123456"}
EOT
http POST /tenants/login '["+2349010000001"]'
assert_eq "login with a body that is not an object: 400 invalid_json" "400 invalid_json" "$(answer)"

# Logging out, and a session's end.
seller "$token" DELETE /tenants/session
assert_eq "DELETE /tenants/session: 204" 204 "$HTTP_STATUS"
assert_eq "revoked in the database" 1 "$(psql_state "SELECT count(*) FROM tenant_sessions WHERE revoked_at IS NOT NULL")"
seller "$token" GET /tenants/me
assert_eq "the ended session: 401 invalid_session" "401 invalid_session" "$(answer)"
seller "$token" DELETE /tenants/session
assert_eq "DELETE it again: 401 invalid_session" "401 invalid_session" "$(answer)"
seller "$(token_for shop-a)" DELETE /tenants/session
assert_eq "DELETE /tenants/session with a JWT: 400 not_a_session" "400 not_a_session" "$(answer)"
http DELETE /tenants/session
assert_eq "DELETE /tenants/session without a token: 401 missing_token" "401 missing_token" "$(answer)"
seller "$other" GET /tenants/me
assert_eq "the other session still works" "200 shop-a" "$HTTP_STATUS $(jq -r .external_id <<<"$HTTP_BODY")"
psql_state "UPDATE tenant_sessions SET expires_at = now() - interval '1 second'" >/dev/null
seller "$other" GET /tenants/me
assert_eq "a session past expires_at: 401 invalid_session" "401 invalid_session" "$(answer)"
}


# ---------------------------------------------------------------- rate limits
# login_as NUMBER: POST /tenants/login
login_as() { http POST /tenants/login "{\"whatsapp_number\":\"$1\"}"; }
# limited NAME MAX: the last answer is 429 rate_limited with 1 <= retry_after_seconds <= MAX,
# the same number in Retry-After
limited() {
	local after
	after=$(jq -r '.error.retry_after_seconds // empty' <<<"$HTTP_BODY" 2>/dev/null)
	assert_eq "$1: 429 rate_limited" "429 rate_limited" "$(answer)"
	assert_eq "$1: retry_after_seconds within 1..$2" 1 "$([[ $after =~ ^[0-9]+$ ]] && ((after >= 1 && after <= $2)) && echo 1 || echo "$after")"
	assert_eq "$1: Retry-After says the same" "$after" "$(http_header Retry-After)"
}
# shape: the last answer with its numbers of seconds left out (what must not tell numbers apart)
shape() { jq -c 'del(.error.retry_after_seconds)' <<<"$HTTP_BODY" 2>/dev/null | sed -E 's/[0-9]+/N/g'; }
codes_to() { psql_state "SELECT count(*) FROM whatsapp_logs WHERE phone_number = '$1'"; }
scenario_rate_limits() {
make_tenant shop-a "$A"
declare -A shapes
for n in "$A" "$NOBODY"; do
	login_as "$n"
	assert_eq "login $n: 202" 202 "$HTTP_STATUS"
	login_as "$n"
	limited "login $n again at once (LOGIN_CODE_RESEND_SECONDS 60)" 60
	shapes[resend$n]=$(shape)
done
assert_eq "the resend refusal is the same for an unknown number" "${shapes[resend$A]}" "${shapes[resend$NOBODY]}"
assert_eq "A got one code, not two" 1 "$(codes_to "$A")"
# LOGIN_CODES_PER_HOUR (5): a minute apart each, the sixth in the hour refused.
for n in "$A" "$NOBODY"; do
	for i in 2 3 4 5; do
		age_requests 61
		login_as "$n"
		assert_eq "login $n, request $i in the hour, a minute apart: 202" 202 "$HTTP_STATUS"
	done
	age_requests 61
	login_as "$n"
	limited "login $n, request 6 in the hour" 3600
	after=$(jq -r '.error.retry_after_seconds' <<<"$HTTP_BODY")
	assert_eq "login $n: the wait is the hour's, not the resend's" 1 "$((after > 60))"
	shapes[hour$n]=$(shape)
done
assert_eq "the hourly refusal is the same for an unknown number" "${shapes[hour$A]}" "${shapes[hour$NOBODY]}"
harness_cron drain >/dev/null || true
assert_eq "A got five codes" 5 "$(codes_to "$A")"
assert_eq "the unknown number got none" 0 "$(codes_to "$NOBODY")"
age_requests 3600
login_as "$A"
assert_eq "an hour on: 202 again" 202 "$HTTP_STATUS"

# LOGIN_REQUESTS_PER_ADDRESS_HOUR: logins and sessions from 127.0.0.1, whatever the number.
psql_state "TRUNCATE tenant_auth_requests" >/dev/null
harness_set_env LOGIN_REQUESTS_PER_ADDRESS_HOUR 4
harness_set_env LOGIN_CODE_TTL_SECONDS 61
harness_restart_programs || fail "programs restarted"
m=$(mark)
login_as "$A"
assert_eq "address request 1 (a login for A): 202, 61 s" "202 61" "$HTTP_STATUS $(jq -r .expires_in_seconds <<<"$HTTP_BODY")"
text=$(text_sent "$A" "$m")
code=$(code_in "$text")
assert_eq "61 s is 2 minutes, rounded up" "Your login code is $code. It expires in 2 minutes. Never share it." "$text"
login_as +2349010000020
assert_eq "address request 2 (an unknown number): 202" 202 "$HTTP_STATUS"
session_for +2349010000021 123456
assert_eq "address request 3 (a session, unknown number): 401" "401 invalid_code" "$(answer)"
login_as +2349010000022
assert_eq "address request 4: 202" 202 "$HTTP_STATUS"
login_as +2349010000023
limited "address request 5, a login for a new number" 3600
session_for "$A" "$code"
limited "address request 5, a session with the right code" 3600
age_requests 3600
session_for "$A" "$code"
assert_eq "an hour on, the same code: 201" 201 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- PATCH /tenants/me and the number's verification
# me BODY / verify CODE: with A's token
me() { seller "$ja" PATCH /tenants/me "$1"; }
verify() { seller "$ja" POST /tenants/me/verify "{\"code\":\"$1\"}"; }
numbers() { col shop-a "coalesce(whatsapp_number, '-') || ' ' || coalesce(pending_whatsapp_number, '-')"; }
scenario_patch_me() {
make_tenant shop-a "$A"
make_tenant shop-b "$B"
ja=$(token_for shop-a)
keys=created_at,display_name,email,external_id,id,language,pending_whatsapp_number,quiet_end,quiet_start,sms_number,status,time_zone,updated_at,whatsapp_number,whatsapp_verified,whatsapp_verified_at
seller "$ja" GET /tenants/me
assert_eq "GET /tenants/me: the tenant object's members" "200 $keys" "$HTTP_STATUS $(jq -r 'keys | join(",")' <<<"$HTTP_BODY")"
platform GET /tenants/shop-a
assert_eq "the platform's GET: the same members" "200 $keys" "$HTTP_STATUS $(jq -r 'keys | join(",")' <<<"$HTTP_BODY")"
while IFS=';' read -r body expr expect; do
	me "$body"
	assert_eq "PATCH $body: 200" 200 "$HTTP_STATUS"
	assert_eq "PATCH $body: stored" "$expect" "$(col shop-a "$expr")"
done <<'EOT'
{"display_name":"Ada Foods"};display_name;Ada Foods
{"sms_number":"+234 802 000 0001"};sms_number;+2348020000001
{"sms_number":null};sms_number;NULL
{"email":"ada@example.com"};email;ada@example.com
{"email":null};email;NULL
{"time_zone":"Africa/Lagos"};time_zone;Africa/Lagos
{"time_zone":null};time_zone;UTC
{"quiet_start":"22:00","quiet_end":"07:00"};quiet_start || '-' || quiet_end;22:00:00-07:00:00
{"quiet_start":null,"quiet_end":null};quiet_start || '-' || quiet_end;NULL
{"language":"pt-BR"};language;pt-BR
{"language":null};language;en
{"display_name":"Ada","language":"en-NG","time_zone":"Africa/Lagos"};display_name || ' ' || language || ' ' || time_zone;Ada en-NG Africa/Lagos
EOT
assert_eq "the answer is the tenant after the change" "Ada en-NG Africa/Lagos" \
	"$(jq -r '[.display_name, .language, .time_zone] | join(" ")' <<<"$HTTP_BODY")"
before=$(row shop-a)
me '{}'
assert_eq "PATCH {}: 200" 200 "$HTTP_STATUS"
assert_eq "PATCH {}: the row unchanged, updated_at included" "$before" "$(row shop-a)"

# A bad field: 400 naming it, and nothing changed (not even the good fields beside it).
while IFS='|' read -r field body; do
	me "$body"
	assert_eq "PATCH $body: 400 invalid_field $field" "400 invalid_field $field" "$(answer) $(field)"
	assert_contains "PATCH $body: the message names $field" "$(jq -r .error.message <<<"$HTTP_BODY")" "$field"
done <<'EOT'
whatsapp_number|{"whatsapp_number":"2349010000005"}
whatsapp_number|{"whatsapp_number":"12345"}
whatsapp_number|{"whatsapp_number":null}
time_zone|{"time_zone":"Mars/Base"}
time_zone|{"display_name":"Changed","time_zone":"Mars/Base"}
quiet_start|{"quiet_start":"25:00","quiet_end":"07:00"}
quiet_end|{"quiet_start":"22:00"}
external_id|{"external_id":"shop-z"}
status|{"status":"active"}
display_name|{"display_name":""}
email|{"email":"not-an-address"}
sms_number|{"sms_number":"call me"}
language|{"language":"English"}
EOT
for body in '[]' '"x"' '{"display_name":'; do
	me "$body"
	assert_eq "PATCH $body: 400 invalid_json" "400 invalid_json" "$(answer)"
done
assert_eq "no refused PATCH changed the row" "$before" "$(row shop-a)"
assert_eq "no refused PATCH sent a code" 0 "$(psql_state "SELECT count(*) FROM tenant_codes")"

# A new number: kept aside, a code sent to it (and nothing to the old one); alerts keep the old.
N2=+2349010000021 N3=+2349010000031 N4=+2349010000041 N5=+2349010000051
verified_at=$(col shop-a whatsapp_verified_at)
m=$(mark)
me '{"whatsapp_number":"+234 901 000 0021"}'
assert_eq "a new number: 200, pending, the old one still the number" "200 $A true $N2" \
	"$HTTP_STATUS $(jq -r '[.whatsapp_number, (.whatsapp_verified|tostring), .pending_whatsapp_number] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "stored: the alerts' number unchanged, the new one pending" "$A $N2" "$(numbers)"
text=$(text_sent "$N2" "$m")
code=$(code_in "$text")
assert_eq "the code sent to the new number" "Your code to confirm this number for alerts is $code. It expires in 10 minutes." "$text"
assert_eq "queued with A's tenant id" "$(col shop-a id)" "$(psql_state "SELECT string_agg(coalesce(tenant_id::text, 'NULL'), ',') FROM whatsapp_logs WHERE phone_number = '$N2'")"
nothing_sent "a number change" "$A" "$m"
verify 12345
assert_eq "verify a 5-digit code: 400 invalid_field code" "400 invalid_field code" "$(answer) $(field)"
verify "$(wrong "$code")"
assert_eq "verify a wrong code: 400 invalid_code" "400 invalid_code" "$(answer)"
assert_eq "still pending" "$A $N2" "$(numbers)"
verify "$code"
assert_eq "verify the right code: 200, the new number verified" "200 $N2 true null" \
	"$HTTP_STATUS $(jq -r '[.whatsapp_number, (.whatsapp_verified|tostring), (.pending_whatsapp_number|tostring)] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "stored" "$N2 -" "$(numbers)"
assert_eq "the spent code's digits masked in its message's row" "1 0" \
	"$(psql_state "SELECT count(*) || ' ' || count(*) FILTER (WHERE message_content LIKE '%$code%') FROM whatsapp_logs WHERE phone_number = '$N2'")"
assert_eq "verified now" t "$(col shop-a "(whatsapp_verified_at > '$verified_at')::text::char")"
verify "$code"
assert_eq "verify again: 409 nothing_to_verify" "409 nothing_to_verify" "$(answer)"

# The stored number again: the pending one dropped, no code.
forget_requests
me "{\"whatsapp_number\":\"$N3\"}"
assert_eq "a change to N3: pending" "$N2 $N3" "$(numbers)"
m=$(mark)
me "{\"whatsapp_number\":\"$N2\"}"
assert_eq "the stored number again: 200, nothing pending" "200 null" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
assert_eq "stored" "$N2 -" "$(numbers)"
harness_cron drain >/dev/null || true
assert_eq "no code for the stored number" "" "$(texts_to "$N2" "$m")"

# A resend: the pending number again (rate-limited), a new code; the old one dead; an expired one.
forget_requests
m=$(mark)
me "{\"whatsapp_number\":\"$N3\"}"
first=$(code_sent "$N3" "$m")
me "{\"whatsapp_number\":\"$N3\"}"
assert_eq "the pending number again at once: 429 rate_limited" "429 rate_limited" "$(answer)"
forget_requests
m=$(mark)
me "{\"whatsapp_number\":\"$N3\"}"
assert_eq "the pending number again a while later: 200" "200 $N3" "$HTTP_STATUS $(jq -r .pending_whatsapp_number <<<"$HTTP_BODY")"
second=$(code_sent "$N3" "$m")
assert_match "a new code sent" '^[0-9]{6}$' "$second"
if [[ $first != "$second" ]]; then
	verify "$first"
	assert_eq "the first code, after the resend: 400 invalid_code" "400 invalid_code" "$(answer)"
fi
age_codes 601
verify "$second"
assert_eq "a code older than LOGIN_CODE_TTL_SECONDS: 400 code_expired" "400 code_expired" "$(answer)"
assert_eq "still pending" "$N2 $N3" "$(numbers)"
forget_requests
m=$(mark)
me "{\"whatsapp_number\":\"$N3\"}"
code=$(code_sent "$N3" "$m")
verify "$code"
assert_eq "a fresh code after the expired one: 200" "200 $N3" "$HTTP_STATUS $(jq -r .whatsapp_number <<<"$HTTP_BODY")"

# Too many attempts: LOGIN_CODE_MAX_ATTEMPTS (5) wrong tries use the code up.
forget_requests
m=$(mark)
me "{\"whatsapp_number\":\"$N4\"}"
code=$(code_sent "$N4" "$m")
for i in 1 2 3 4 5; do
	verify "$(wrong "$code")"
	assert_eq "verify wrong code $i of 5: 400 invalid_code" "400 invalid_code" "$(answer)"
done
verify "$code"
assert_eq "then the right one: 429 too_many_attempts" "429 too_many_attempts" "$(answer)"
assert_eq "the number unchanged, still pending" "$N3 $N4" "$(numbers)"

# Another tenant's number: 409 at the PATCH; at the verify when it was taken meanwhile.
forget_requests
before=$(row shop-a)
m=$(mark)
me "{\"whatsapp_number\":\"$B\"}"
assert_eq "B's number: 409 whatsapp_number_in_use" "409 whatsapp_number_in_use whatsapp_number" "$(answer) $(field)"
assert_eq "the row unchanged" "$before" "$(row shop-a)"
harness_cron drain >/dev/null || true
assert_eq "no code to B's number" "" "$(texts_to "$B" "$m")"
platform POST /tenants "{\"external_id\":\"shop-c\",\"display_name\":\"C\",\"whatsapp_number\":\"$B\"}"
assert_eq "the platform giving B's number to a new tenant: 409 too" "409 whatsapp_number_in_use" "$(answer)"
assert_eq "no tenant shop-c" "" "$(row shop-c)"
forget_requests
m=$(mark)
me "{\"whatsapp_number\":\"$N5\"}"
code=$(code_sent "$N5" "$m")
platform POST /tenants "{\"external_id\":\"shop-b\",\"display_name\":\"Shop shop-b\",\"whatsapp_number\":\"$N5\"}"
assert_eq "the platform gives B the number A has pending: 200" 200 "$HTTP_STATUS"
verify "$code"
assert_eq "A confirms it now: 409 whatsapp_number_in_use" "409 whatsapp_number_in_use" "$(answer)"
assert_eq "A's number unchanged" "$N3" "$(col shop-a whatsapp_number)"
assert_eq "B's number unchanged" "$N5" "$(col shop-b whatsapp_number)"

# No TENANT_CODE_SECRET: no code can be made; nothing changes.
harness_set_env TENANT_CODE_SECRET ''
harness_restart_programs || fail "programs restarted"
forget_requests
before=$(row shop-a)
codes=$(psql_state "SELECT count(*) FROM tenant_codes")
me '{"whatsapp_number":"+2349010000061"}'
assert_eq "no TENANT_CODE_SECRET: a number change is 503 verification_unavailable" "503 verification_unavailable" "$(answer)"
assert_eq "the row unchanged" "$before" "$(row shop-a)"
assert_eq "no code made" "$codes" "$(psql_state "SELECT count(*) FROM tenant_codes")"
login_as "$N3"
assert_eq "no TENANT_CODE_SECRET: login is 503 login_unavailable" "503 login_unavailable" "$(answer)"
}

harness_scenarios isolation jwt_checks login_flow rate_limits patch_me

harness_finish
