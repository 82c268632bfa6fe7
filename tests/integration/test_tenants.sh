#!/usr/bin/env bash
# The platform's tenant endpoints (issue 16): PLATFORM_API_KEY, and only it, opens them; POST
# /tenants creates or updates by external_id, the same body twice is the same row with the same
# updated_at; a bad field is a 400 naming it and changes nothing; GET one (404 unknown), GET a
# page at a time, suspend and reactivate.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

platform() {
	local method=$1 path=$2 body=${3:-}
	http "$method" "$path" "$body" -H "Authorization: Bearer $PLATFORM_KEY"
}
# The tenants table as one line per row: any change shows.
rows() { psql_state "SELECT t::text FROM tenants t ORDER BY id"; }
ada='{"external_id":"shop-ada","display_name":"Ada Foods","whatsapp_number":"+234 901 234 5678","time_zone":"Africa/Lagos","quiet_start":"22:00","quiet_end":"07:00","language":"en-NG","email":"ada@example.com"}'

# ---------------------------------------------------------------- create, repeat, update
scenario_create_repeat_update() {
platform POST /tenants "$ada"
assert_eq "a new tenant: 201" 201 "$HTTP_STATUS"
assert_eq "its number in E.164, verified (the platform vouches)" "+2349012345678 true" \
	"$(jq -r '.whatsapp_number + " " + (.whatsapp_verified|tostring)' <<<"$HTTP_BODY")"
assert_eq "its settings" "Africa/Lagos 22:00 07:00 en-NG active ada@example.com" \
	"$(jq -r '[.time_zone, .quiet_start, .quiet_end, .language, .status, .email] | join(" ")' <<<"$HTTP_BODY")"
assert_eq "the SMS number defaults to the WhatsApp number (stored NULL)" null "$(jq .sms_number <<<"$HTTP_BODY")"
before=$(rows)
created=$(psql_state "SELECT created_at FROM tenants")
sleep 1
platform POST /tenants "$ada"
assert_eq "the same body again: 200" 200 "$HTTP_STATUS"
assert_eq "the same row, updated_at and verified time unchanged" "$before" "$(rows)"
assert_eq "one row" 1 "$(psql_state "SELECT count(*) FROM tenants")"
platform POST /tenants '{"external_id":"shop-ada","display_name":"Ada Foods Ltd","language":"fr"}'
assert_eq "an update: 200" 200 "$HTTP_STATUS"
assert_eq "the named fields changed, the others kept" "Ada Foods Ltd|fr|+2349012345678|Africa/Lagos|22:00:00" \
	"$(psql_state "SELECT display_name || '|' || language || '|' || whatsapp_number || '|' || time_zone || '|' || quiet_start FROM tenants")"
assert_eq "updated_at moved, created_at did not" "t|$created" \
	"$(psql_state "SELECT (updated_at > created_at)::text::char || '|' || created_at FROM tenants")"
verified=$(psql_state "SELECT whatsapp_verified_at FROM tenants")
platform POST /tenants '{"external_id":"shop-ada","display_name":"Ada Foods Ltd","whatsapp_number":"+2349012345678"}'
assert_eq "the same number again: still verified when it was" "$verified" "$(psql_state "SELECT whatsapp_verified_at FROM tenants")"
platform POST /tenants '{"external_id":"shop-ada","display_name":"Ada Foods Ltd","whatsapp_number":"+2348011112222"}'
assert_eq "a new number from the platform: verified now" t \
	"$(psql_state "SELECT (whatsapp_verified_at > '$verified')::text::char FROM tenants")"
platform POST /tenants '{"external_id":"shop-ada","display_name":"Ada Foods Ltd","email":null,"quiet_start":null,"quiet_end":null}'
assert_eq "null clears an optional field" "||" \
	"$(psql_state "SELECT coalesce(email, '') || '|' || coalesce(quiet_start::text, '') || '|' || coalesce(quiet_end::text, '') FROM tenants")"
platform GET /tenants/shop-ada
assert_eq "GET it: 200" 200 "$HTTP_STATUS"
assert_eq "GET it: as stored" "shop-ada Ada Foods Ltd null null" \
	"$(jq -r '[.external_id, .display_name, (.quiet_start|tostring), (.quiet_end|tostring)] | join(" ")' <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- a bad field: 400 naming it, nothing changed
scenario_bad_fields() {
platform POST /tenants "$ada"
assert_eq "the tenant: 201" 201 "$HTTP_STATUS"
before=$(rows)
ok='"external_id":"shop-ada","display_name":"Ada Foods"'
while IFS='|' read -r field body; do
	platform POST /tenants "{$body}"
	assert_eq "$body: 400" 400 "$HTTP_STATUS"
	assert_eq "$body: names $field" "invalid_field $field" "$(jq -r '.error.code + " " + .error.field' <<<"$HTTP_BODY")"
	assert_contains "$body: the message names it" "$(jq -r .error.message <<<"$HTTP_BODY")" "$field"
done <<EOT
external_id|"display_name":"x"
external_id|"external_id":"a b","display_name":"x"
external_id|"external_id":"me","display_name":"x"
external_id|"external_id":"$(printf 'a%.0s' {1..129})","display_name":"x"
display_name|"external_id":"shop-ada"
display_name|"external_id":"shop-ada","display_name":"   "
display_name|"external_id":"shop-ada","display_name":"a\\u0007b"
display_name|"external_id":"shop-ada","display_name":null
whatsapp_number|$ok,"whatsapp_number":"09012345678"
whatsapp_number|$ok,"whatsapp_number":"+12"
whatsapp_number|$ok,"whatsapp_number":"+1234567890123456"
whatsapp_number|$ok,"whatsapp_number":5551234
sms_number|$ok,"sms_number":"call me"
email|$ok,"email":"not-an-address"
email|$ok,"email":"a@b"
time_zone|$ok,"time_zone":"Mars/Olympus"
time_zone|$ok,"time_zone":"../../etc/passwd"
quiet_start|$ok,"quiet_start":"25:00","quiet_end":"07:00"
quiet_end|$ok,"quiet_start":"22:00","quiet_end":"7"
quiet_end|$ok,"quiet_start":"22:00"
quiet_end|$ok,"quiet_start":"22:00","quiet_end":"22:00"
language|$ok,"language":"English"
language|$ok,"language":"en_US"
status|$ok,"status":"suspended"
EOT
assert_eq "nothing changed in the database" "$before" "$(rows)"
platform POST /tenants '["not an object"]'
assert_eq "a body that is not an object: 400" 400 "$HTTP_STATUS"
assert_eq "nothing changed, still" "$before" "$(rows)"
}

# ---------------------------------------------------------------- paging
scenario_paging() {
for i in $(seq 1 7); do
	platform POST /tenants "{\"external_id\":\"page-$i\",\"display_name\":\"Shop $i\"}"
done
seen= after= pages=0
while :; do
	platform GET "/tenants?limit=3${after:+&after=$after}"
	[[ $HTTP_STATUS == 200 ]] || break
	pages=$((pages + 1))
	seen+=$(jq -r '[.tenants[].external_id] | join(" ")' <<<"$HTTP_BODY")" "
	after=$(jq -r '.next_after // empty' <<<"$HTTP_BODY")
	[[ -n $after && $pages -lt 10 ]] || break
done
assert_eq "three pages" 3 "$pages"
assert_eq "every tenant once, in order" "page-1 page-2 page-3 page-4 page-5 page-6 page-7 " "$seen"
platform GET "/tenants"
assert_eq "default page: all 7, no next" "7 null" "$(jq -r '(.tenants|length|tostring) + " " + (.next_after|tostring)' <<<"$HTTP_BODY")"
for q in limit=0 limit=201 limit=abc after=-1 after=1x; do
	platform GET "/tenants?$q"
	assert_eq "?$q: 400 naming ${q%%=*}" "400 ${q%%=*}" "$HTTP_STATUS $(jq -r .error.field <<<"$HTTP_BODY")"
done
}

# ---------------------------------------------------------------- suspend, reactivate
scenario_suspend() {
platform POST /tenants "$ada"
platform POST /tenants/shop-ada/suspend
assert_eq "suspend: 200, suspended" "200 suspended" "$HTTP_STATUS $(jq -r .status <<<"$HTTP_BODY")"
assert_eq "stored" suspended "$(psql_state "SELECT status FROM tenants")"
before=$(rows)
platform POST /tenants/shop-ada/suspend
assert_eq "suspend again: 200, nothing changed" "200|$before" "$HTTP_STATUS|$(rows)"
platform POST /tenants "$ada"
assert_eq "an upsert does not reactivate" suspended "$(psql_state "SELECT status FROM tenants")"
platform POST /tenants/shop-ada/reactivate
assert_eq "reactivate: 200, active" "200 active" "$HTTP_STATUS $(jq -r .status <<<"$HTTP_BODY")"
platform GET /tenants/shop-ada/suspend
assert_eq "GET .../suspend: 405" 405 "$HTTP_STATUS"
platform POST /tenants/nobody/suspend
assert_eq "suspend an unknown tenant: 404" 404 "$HTTP_STATUS"
}

# ---------------------------------------------------------------- the key
scenario_platform_key() {
platform POST /tenants "$ada"
before=$(rows)
for path in /tenants /tenants/shop-ada; do
	http GET "$path"
	assert_eq "GET $path without a key: 401 JSON" "401 unauthorized" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
	http GET "$path" '' -H "Authorization: Bearer ${PLATFORM_KEY}x"
	assert_eq "GET $path with a wrong key: 401" 401 "$HTTP_STATUS"
	http GET "$path" '' -H "Authorization: Bearer $API_TOKEN"
	assert_eq "GET $path with the operator's token: 401" 401 "$HTTP_STATUS"
done
http POST /tenants '{"external_id":"x1","display_name":"X"}' -H "Authorization: Bearer $API_TOKEN"
assert_eq "POST with the operator's token: 401" 401 "$HTTP_STATUS"
http POST /tenants/shop-ada/suspend '' -H "Authorization: Bearer $API_TOKEN"
assert_eq "suspend with the operator's token: 401" 401 "$HTTP_STATUS"
assert_eq "nothing changed" "$before" "$(rows)"
platform GET /tenants/nobody
assert_eq "an unknown tenant: 404" "404 tenant_not_found" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
platform GET /tenants/shop-ada/other
assert_eq "an unknown route under a tenant: 404" 404 "$HTTP_STATUS"
# No key configured: every request refused, the operator's token included.
harness_set_env PLATFORM_API_KEY ''
harness_restart_programs || fail "programs restarted"
platform GET /tenants
assert_eq "no PLATFORM_API_KEY: 401" 401 "$HTTP_STATUS"
assert_contains "saying so" "$(jq -r .error.message <<<"$HTTP_BODY")" "PLATFORM_API_KEY is not configured"
http GET /tenants '' -H "Authorization: Bearer $API_TOKEN"
assert_eq "no PLATFORM_API_KEY, the operator's token: 401" 401 "$HTTP_STATUS"
}

harness_scenarios create_repeat_update bad_fields paging suspend platform_key

harness_finish
