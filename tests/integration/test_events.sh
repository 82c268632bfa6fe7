#!/usr/bin/env bash
# POST /events (issue 17): the platform's business events, signed the Standard Webhooks way with
# EVENTS_SIGNING_SECRET. One event or a batch; a bad, expired, future or missing signature is a
# 401 and stores nothing; several signatures are allowed (key rotation); a repeated webhook-id
# is answered as the first time and changes nothing, a repeated event id is stored once; in a
# batch the refused items are named and the rest stored; an unknown or suspended tenant, an
# unknown type, a missing field is a 4xx naming the field; the state database down is a 503
# and nothing is half-stored.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start

SECRET=$(env_get "$MONITORING_ENV_FILE" EVENTS_SIGNING_SECRET)
OTHER=whsec_$(head -c 32 /dev/urandom | base64 -w0)

# sig ID TS BODY [SECRET]: the base64 HMAC-SHA256 of "ID.TS.BODY" with the secret's key
sig() {
	local key=${4:-$SECRET} hex
	hex=$(printf '%s' "${key#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
	printf '%s.%s.%s' "$1" "$2" "$3" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hex" -binary |
		base64 -w0
}
# post BODY [ID] [TS] [SIGNATURE-HEADER]: POST /events signed now with SECRET unless told (an
# empty SIGNATURE-HEADER sends none)
post() {
	local body=$1 id=${2:-msg_$RANDOM$RANDOM} ts=${3:-$(date +%s)} s
	s=${4-v1,$(sig "$id" "$ts" "$body")}
	http POST /events "$body" -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: $s"
}
platform() { http POST "$1" "${2:-}" -H "Authorization: Bearer $PLATFORM_KEY"; }
tenant() { platform /tenants "{\"external_id\":\"$1\",\"display_name\":\"Shop $1\"}"; }
# order ID [TENANT] [TOTAL]: an order.placed event
order() {
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00+01:00","data":{"order_id":"1001","total":{"amount":%s,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"},"extra":"kept"}}' \
		"$1" "${2:-shop-a}" "${3:-1250000}"
}
# What the two tables hold, one line: any change shows.
rows() {
	psql_state "SELECT coalesce(string_agg(e.event_id || ':' || t.external_id || ':' || e.type || ':' || (e.data->'total'->>'amount') || ':' || e.webhook_id, ',' ORDER BY e.event_id), '')
	 || '/' || (SELECT count(*) FROM event_deliveries) FROM events e JOIN tenants t ON t.id = e.tenant_id"
}
code() { jq -r '.error.code // empty' <<<"$HTTP_BODY"; }

# ---------------------------------------------------------------- one event, a batch
scenario_single_and_batch() {
tenant shop-a
post "$(order e-1)" msg-one
assert_eq "one event: 200" 200 "$HTTP_STATUS"
assert_eq "one event: accepted 1, nothing refused" '1 0' "$(jq -r '"\(.accepted) \(.refused|length)"' <<<"$HTTP_BODY")"
assert_eq "stored with its tenant, type, time, data and webhook-id, no message yet" \
	"e-1|order.placed|2026-12-02 13:05:00+00|1250000|kept|msg-one|t|shop-a" \
	"$(psql_state "SET TimeZone = 'UTC'; SELECT e.event_id || '|' || e.type || '|' || e.occurred_at || '|' || (e.data->'total'->>'amount') || '|' || (e.data->>'extra') || '|' || e.webhook_id || '|' || (e.message_id IS NULL)::text::char || '|' || t.external_id FROM events e JOIN tenants t ON t.id = e.tenant_id")"
assert_eq "the delivery recorded with its answer" "msg-one 200" \
	"$(psql_state "SELECT webhook_id || ' ' || status FROM event_deliveries")"
batch="{\"events\":[$(order e-2),$(order e-3),$(order e-4)]}"
post "$batch" msg-batch
assert_eq "a batch: 200" 200 "$HTTP_STATUS"
assert_eq "a batch: accepted 3" '3 0' "$(jq -r '"\(.accepted) \(.refused|length)"' <<<"$HTTP_BODY")"
assert_eq "four events stored" 4 "$(psql_state "SELECT count(*) FROM events")"
# Two tenants in one batch: each event is stored for the tenant it names, none for the other.
tenant shop-b
post "{\"events\":[$(order e-a1 shop-a),$(order e-b1 shop-b),$(order e-a2 shop-a)]}" msg-two
assert_eq "two tenants in a batch: 200, 3 accepted" "200 3" "$HTTP_STATUS $(jq -r .accepted <<<"$HTTP_BODY")"
assert_eq "each event with its own tenant" "e-a1:shop-a e-a2:shop-a e-b1:shop-b" \
	"$(psql_state "SELECT string_agg(e.event_id || ':' || t.external_id, ' ' ORDER BY e.event_id) FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE e.webhook_id = 'msg-two'")"
}

# ---------------------------------------------------------------- signatures
scenario_signatures() {
tenant shop-a
body=$(order e-sig)
now=$(date +%s)
while IFS='|' read -r what id ts header want; do
	post "$body" "$id" "$ts" "$header"
	assert_eq "$what: 401" 401 "$HTTP_STATUS"
	assert_eq "$what: $want" "$want" "$(code)"
done <<EOT
signed with another key|m1|$now|v1,$(sig m1 "$now" "$body" "$OTHER")|bad_signature
a body changed after signing|m2|$now|v1,$(sig m2 "$now" "${body/1250000/1}")|bad_signature
another id than signed|m3|$now|v1,$(sig m-other "$now" "$body")|bad_signature
310 s old|m4|$((now - 310))|v1,$(sig m4 $((now - 310)) "$body")|too_old
a day old|m5|$((now - 86400))|v1,$(sig m5 $((now - 86400)) "$body")|too_old
310 s ahead|m6|$((now + 310))|v1,$(sig m6 $((now + 310)) "$body")|too_new
no signature|m7|$now||missing_header
another version only|m8|$now|v2,$(sig m8 "$now" "$body")|bad_signature
a timestamp that is no number|m9|12ab|v1,$(sig m9 12ab "$body")|malformed
EOT
http POST /events "$body"
assert_eq "no headers at all: 401 missing_header" "401 missing_header" "$HTTP_STATUS $(code)"
assert_eq "nothing stored" "/0" "$(rows)"
post "$body" m-edge $((now - 290))
assert_eq "290 s old, inside the window: 200" 200 "$HTTP_STATUS"
post "$(order e-rot)" m-rot "$now" "v1,$(sig m-rot "$now" "$(order e-rot)" "$OTHER") v1,$(sig m-rot "$now" "$(order e-rot)")"
assert_eq "rotation: the old key's and the new key's signatures: 200" 200 "$HTTP_STATUS"
post "$(order e-rot2)" m-rot2 "$now" "v1a,xyz v1,$(sig m-rot2 "$now" "$(order e-rot2)") v1,$(sig m-rot2 "$now" "$(order e-rot2)" "$OTHER")"
assert_eq "rotation: the right one second, an unknown version first: 200" 200 "$HTTP_STATUS"
assert_eq "three stored" 3 "$(psql_state "SELECT count(*) FROM events")"
}

# ---------------------------------------------------------------- no key configured, a bad key
scenario_not_configured() {
harness_unset_env EVENTS_SIGNING_SECRET
harness_restart_programs
post "$(order e-x)" m-x
assert_eq "no EVENTS_SIGNING_SECRET: 401 not_configured" "401 not_configured" "$HTTP_STATUS $(code)"
out=$(EVENTS_SIGNING_SECRET=not-a-secret harness_cron config 2>&1) && rc=0 || rc=$?
assert_ne "a secret of another form: refused at start" 0 "$rc"
assert_contains "the message names the setting" "$(cat "$HARNESS_LOG_DIR/cron.log") $out" "EVENTS_SIGNING_SECRET must start with whsec_"
out=$(EVENTS_SIGNING_SECRET=whsec_c2hvcnQ= harness_cron config 2>&1) && rc=0 || rc=$?
assert_ne "a key too short: refused at start" 0 "$rc"
}

# ---------------------------------------------------------------- replays
scenario_replay_webhook_id() {
tenant shop-a
post "$(order e-r1)" msg-r
first=$HTTP_BODY
before=$(rows)
sleep 1
post "$(order e-r1)" msg-r
assert_eq "the same delivery again (a new timestamp, re-signed): 200" 200 "$HTTP_STATUS"
assert_eq "answered as the first time" "$first" "$HTTP_BODY"
post "$(order e-r2 shop-a 5)" msg-r
assert_eq "the same webhook-id with another body: the first answer" "200 $first" "$HTTP_STATUS $HTTP_BODY"
assert_eq "nothing changed" "$before" "$(rows)"
# A refusal is an answer too: the same webhook-id gets it again, even once the tenant exists.
post "$(order e-r3 shop-new)" msg-refused
assert_eq "an unknown tenant: 422" "422 unknown_tenant" "$HTTP_STATUS $(code)"
refused=$HTTP_BODY
tenant shop-new
post "$(order e-r3 shop-new)" msg-refused
assert_eq "its webhook-id again: the same 422" "422 $refused" "$HTTP_STATUS $HTTP_BODY"
post "$(order e-r3 shop-new)" msg-refused-2
assert_eq "a new delivery of the event: stored" 200 "$HTTP_STATUS"
assert_eq "e-r3 stored once" 1 "$(psql_state "SELECT count(*) FROM events WHERE event_id = 'e-r3'")"
}

scenario_replay_event_id() {
tenant shop-a
post "$(order e-dup)" msg-d1
first=$HTTP_BODY
before=$(rows)
post "$(order e-dup shop-a 99)" msg-d2
assert_eq "the same event id in a new delivery: answered as the first time" "200 $first" "$HTTP_STATUS $HTTP_BODY"
assert_eq "the event unchanged (its first data and webhook-id)" "e-dup:shop-a:order.placed:1250000:msg-d1/2" "$(rows)"
[[ $before == */1 ]] && pass "one delivery recorded before" || fail "one delivery recorded before" "$before"
post "{\"events\":[$(order e-twice),$(order e-twice shop-a 7)]}" msg-d3
assert_eq "twice in one batch: both accepted" "200 2" "$HTTP_STATUS $(jq -r .accepted <<<"$HTTP_BODY")"
assert_eq "stored once, as the first item said" 1250000 "$(psql_state "SELECT data->'total'->>'amount' FROM events WHERE event_id = 'e-twice'")"
}

# ---------------------------------------------------------------- refusals
scenario_partial_batch() {
tenant shop-a
tenant shop-s
platform /tenants/shop-s/suspend
unknown_type='{"id":"e-t","type":"order.shipped","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{}}'
no_total='{"id":"e-m","type":"order.placed","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"1","items":1,"customer":{"name":"Ada"}}}'
post "{\"events\":[$(order e-ok1),$unknown_type,$no_total,$(order e-u shop-nobody),$(order e-s shop-s),$(order e-ok2)]}" msg-p
assert_eq "a partial batch: 200" 200 "$HTTP_STATUS"
assert_eq "two accepted" 2 "$(jq -r .accepted <<<"$HTTP_BODY")"
assert_eq "the refused named by index, code and field" \
	"1 invalid_field type|2 invalid_field data.total|3 unknown_tenant tenant|4 tenant_suspended tenant" \
	"$(jq -r '[.refused[] | "\(.index) \(.code) \(.field)"] | join("|")' <<<"$HTTP_BODY")"
assert_eq "a tenant refusal names the event by id" "e-u e-s" "$(jq -r '[.refused[] | .id // empty] | join(" ")' <<<"$HTTP_BODY")"
assert_contains "a message starts with the field" "$(jq -r '.refused[1].message' <<<"$HTTP_BODY")" "data.total "
assert_eq "the rest stored" "e-ok1 e-ok2" "$(psql_state "SELECT string_agg(event_id, ' ' ORDER BY event_id) FROM events")"
post "{\"events\":[$unknown_type,$(order e-u2 shop-nobody)]}" msg-all
assert_eq "every item refused: 422 all_refused" "422 all_refused" "$HTTP_STATUS $(code)"
assert_eq "and the list" "0 invalid_field|1 unknown_tenant" "$(jq -r '[.refused[] | "\(.index) \(.code)"] | join("|")' <<<"$HTTP_BODY")"
assert_eq "still two stored" 2 "$(psql_state "SELECT count(*) FROM events")"
}

scenario_single_refusals() {
tenant shop-a
tenant shop-s
platform /tenants/shop-s/suspend
while IFS='|' read -r what body want; do
	post "$body"
	assert_eq "$what" "$want" "$HTTP_STATUS $(jq -r '"\(.error.code) \(.error.field)"' <<<"$HTTP_BODY")"
	assert_contains "$what: the message names the field" "$(jq -r .error.message <<<"$HTTP_BODY")" "$(cut -d' ' -f3 <<<"$want")"
done <<EOT
an unknown tenant|$(order e-1 shop-nobody)|422 unknown_tenant tenant
a suspended tenant|$(order e-2 shop-s)|422 tenant_suspended tenant
an unknown type|{"id":"e-3","type":"order.shipped","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{}}|400 invalid_field type
no occurred_at|{"id":"e-4","type":"system.notice","tenant":"shop-a","data":{"title":"t","message":"m"}}|400 invalid_field occurred_at
no data.message|{"id":"e-5","type":"system.notice","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t"}}|400 invalid_field data.message
a bad currency|$(order e-6 shop-a 5 | sed 's/"NGN"/"naira"/')|400 invalid_field data.total.currency
a member beside the event's|{"id":"e-7","type":"system.notice","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"title":"t","message":"m"},"x":1}|400 invalid_field x
EOT
post '{"events":[]}'
assert_eq "an empty batch: 400 invalid_body events" "400 invalid_body events" "$HTTP_STATUS $(jq -r '"\(.error.code) \(.error.field)"' <<<"$HTTP_BODY")"
post "{\"events\":[$(for i in $(seq 1 101); do printf '%s,' "$(order "e-$i")"; done | sed 's/,$//')]}"
assert_eq "101 events: 413 too_many_items" "413 too_many_items" "$HTTP_STATUS $(code)"
post 'not json'
assert_eq "not JSON: 400" 400 "$HTTP_STATUS"
assert_eq "nothing stored" 0 "$(psql_state "SELECT count(*) FROM events")"
http GET /events
assert_eq "GET: 405" 405 "$HTTP_STATUS"
assert_eq "GET: Allow POST" POST "$(http_header Allow)"
}

# ---------------------------------------------------------------- the database down, a failed transaction
scenario_database_down() {
tenant shop-a
harness_stop_pg
post "{\"events\":[$(order e-d1),$(order e-d2)]}" msg-down
assert_eq "the state database down: 503" "503 state_database_unavailable" "$HTTP_STATUS $(code)"
harness_start_pg
assert_eq "nothing stored" "/0" "$(rows)"
post "{\"events\":[$(order e-d1),$(order e-d2)]}" msg-down
assert_eq "the platform's retry once it is back: 200" "200 2" "$HTTP_STATUS $(jq -r .accepted <<<"$HTTP_BODY")"
# A failure inside the transaction (after the delivery's row, at the events' INSERT): all of it
# is rolled back, the delivery included, so the retry is judged afresh.
psql_state "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.event_id = 'e-boom' THEN RAISE EXCEPTION 'boom'; END IF; IF NEW.event_id = 'e-slow' THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END \$\$;
CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION boom();" >/dev/null
before=$(rows)
post "{\"events\":[$(order e-b1),$(order e-boom)]}" msg-boom
assert_eq "a statement failing mid-way: 503" 503 "$HTTP_STATUS"
assert_eq "nothing half-stored: no event, no delivery" "$before" "$(rows)"
# Sharing a commit with it: the others are stored all the same (the group is stored again one
# delivery at a time when it fails), only it is refused. A slow delivery first (its INSERT
# waits a second) holds the store thread, so the eight pile up and share the next commit.
now=$(date +%s)
body="{\"events\":[$(order e-slow)]}"
printf '%s' "$body" >"$HARNESS_DIR/g0.json"
curl -sS -o /dev/null -w '%{http_code}\n' -X POST --data-binary "@$HARNESS_DIR/g0.json" \
	-H "webhook-id: m-g0" -H "webhook-timestamp: $now" \
	-H "webhook-signature: v1,$(sig m-g0 "$now" "$body")" "$HTTP_BASE/events" >"$HARNESS_DIR/g0.status" &
sleep 0.3
for i in 1 2 3 4 5 6 7 8; do
	body="{\"events\":[$(order "e-g$i")]}"
	[[ $i == 4 ]] && body="{\"events\":[$(order e-g4),$(order e-boom)]}"
	printf '%s' "$body" >"$HARNESS_DIR/g$i.json"
	curl -sS -o /dev/null -w '%{http_code}\n' -X POST --data-binary "@$HARNESS_DIR/g$i.json" \
		-H "webhook-id: m-g$i" -H "webhook-timestamp: $now" \
		-H "webhook-signature: v1,$(sig "m-g$i" "$now" "$body")" "$HTTP_BASE/events" >"$HARNESS_DIR/g$i.status" &
done
wait
assert_eq "eight at once behind a slow one, one failing: it alone 503" "200 200 200 200 503 200 200 200 200" \
	"$(cat "$HARNESS_DIR"/g{0..8}.status | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the seven others stored, nothing of the eighth" "e-g1 e-g2 e-g3 e-g5 e-g6 e-g7 e-g8" \
	"$(psql_state "SELECT string_agg(event_id, ' ' ORDER BY event_id) FROM events WHERE event_id LIKE 'e-g%' OR event_id = 'e-boom'")"
psql_state "DROP TRIGGER boom ON events" >/dev/null
post "{\"events\":[$(order e-b1),$(order e-boom)]}" msg-boom
assert_eq "the retry: 200, both stored" "200 2" "$HTTP_STATUS $(jq -r .accepted <<<"$HTTP_BODY")"
}

# ---------------------------------------------------------------- requests in flight together
scenario_concurrent() {
tenant shop-a
dir=$HARNESS_DIR/conc
mkdir -p "$dir"
now=$(date +%s)
for i in $(seq 1 40); do
	body=$(order "e-c$i")
	printf '%s' "$body" >"$dir/$i.json"
	curl -sS -o /dev/null -w '%{http_code}\n' -X POST --data-binary "@$dir/$i.json" \
		-H "webhook-id: m-c$((i % 30))" -H "webhook-timestamp: $now" \
		-H "webhook-signature: v1,$(sig "m-c$((i % 30))" "$now" "$body")" \
		"$HTTP_BASE/events" >"$dir/$i.status" &
done
wait
assert_eq "40 requests at once: all 200" "40" "$(grep -c '^200$' "$dir"/*.status | awk -F: '{s += $2} END {print s}')"
assert_eq "30 deliveries, one event each (10 ids were sent twice)" "30 30" \
	"$(psql_state "SELECT (SELECT count(*) FROM event_deliveries) || ' ' || (SELECT count(*) FROM events)")"
}

# ---------------------------------------------------------------- the table's own rule for event ids
# The database refuses what the parser would (sql/022_events_ingest.sql: the same rule,
# checked cheaply): letters, digits and . _ : @ -, 1 to 128 of them.
scenario_event_id_rule() {
tenant shop-a
tid=$(psql_state "SELECT id FROM tenants WHERE external_id = 'shop-a'")
ins() {
	{ psql_state "INSERT INTO events (event_id, tenant_id, type, occurred_at, data, webhook_id)
	 VALUES ('$1', $tid, 'order.placed', now(), '{}', 'w') RETURNING 'stored'" 2>&1 || true; } |
		grep -o 'stored\|events_event_id_check' | head -1
}
assert_eq "128 allowed characters: stored" stored "$(ins "$(printf 'a%.0s' {1..120})A9._:@-x")"
assert_eq "129: refused by the check" events_event_id_check "$(ins "$(printf 'a%.0s' {1..129})")"
assert_eq "empty: refused" events_event_id_check "$(ins '')"
assert_eq "a space: refused" events_event_id_check "$(ins 'a b')"
assert_eq "a slash: refused" events_event_id_check "$(ins 'a/b')"
assert_eq "a newline at the end: refused" events_event_id_check "$(ins $'ab\n')"
assert_eq "the old rows still valid under it" t \
	"$(psql_state "SELECT convalidated FROM pg_constraint WHERE conname = 'events_event_id_check'")"
}

# ---------------------------------------------------------------- a second commit in flight
# One delivery holding its store thread (its INSERT waits 3 s) does not hold the others: once
# WEBHOOKQ_BACKLOG (8) wait, the second store thread takes them, and they are answered
# while the slow one is still in flight (fewer would wait for it, as with one store thread).
scenario_second_in_flight() {
tenant shop-a
psql_state "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.event_id = 'e-slow' THEN PERFORM pg_sleep(3); END IF; RETURN NEW; END \$\$;
CREATE TRIGGER slow BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow();" >/dev/null
dir=$HARNESS_DIR/second
mkdir -p "$dir"
now=$(date +%s)
send() { # send I EVENT: a delivery m-s<I>, its status in $dir/<I>.status once answered
	local body
	body="{\"events\":[$(order "$2")]}"
	printf '%s' "$body" >"$dir/$1.json"
	curl -sS -o /dev/null -w '%{http_code}\n' -X POST --data-binary "@$dir/$1.json" \
		-H "webhook-id: m-s$1" -H "webhook-timestamp: $now" \
		-H "webhook-signature: v1,$(sig "m-s$1" "$now" "$body")" "$HTTP_BASE/events" >"$dir/$1.tmp" &&
		mv "$dir/$1.tmp" "$dir/$1.status"
}
send 0 e-slow &
slow=$!
sleep 0.5
pids=()
for i in $(seq 1 8); do
	send "$i" "e-s$i" &
	pids+=($!)
done
wait "${pids[@]}"
assert_eq "eight behind a slow one: answered 200 while it is in flight" "8 no" \
	"$(cat "$dir"/{1..8}.status | grep -c '^200$') $([[ -e $dir/0.status ]] && echo yes || echo no)"
wait "$slow"
assert_eq "the slow one: 200 when its commit is done" 200 "$(cat "$dir/0.status")"
assert_eq "all nine stored" 9 "$(psql_state "SELECT count(*) FROM events WHERE event_id LIKE 'e-s%'")"
psql_state "DROP TRIGGER slow ON events" >/dev/null
}

# ---------------------------------------------------------------- a tenant's events keep it
# No foreign key checks each event's tenant (sql/023_events_tenant_lock.sql): the group's lookup
# locks the tenants' rows (FOR KEY SHARE) until its commit, and a trigger refuses to delete a
# tenant that has events, with the foreign key's error.
scenario_tenant_kept() {
tenant shop-a
tenant shop-b
events_post "$(order e-k1)"
assert_eq "an event for shop-a: 200" 200 "$HTTP_STATUS"
del() { # del EXTERNAL_ID [TIMEOUT]: what DELETE of the tenant says (deleted, or why not)
	{ psql_state "SET statement_timeout = '${2:-5s}';
	 DELETE FROM tenants WHERE external_id = '$1' RETURNING 'deleted'" 2>&1 || true; } |
		grep -o 'deleted\|still has events\|statement timeout' | head -1
}
assert_eq "shop-a, with an event: cannot be deleted" "still has events" "$(del shop-a)"
assert_eq "23503, the foreign key's code" 23503 \
	"$(psql_state "DO \$\$ BEGIN DELETE FROM tenants WHERE external_id = 'shop-a'; EXCEPTION WHEN foreign_key_violation THEN RAISE WARNING 'code %', SQLSTATE; END \$\$" 2>&1 | grep -o 'code [0-9]*' | cut -d' ' -f2)"
assert_eq "its event is still there" 1 "$(psql_state "SELECT count(*) FROM events WHERE event_id = 'e-k1'")"
# A group in flight holds its tenant: the delete waits for the commit, then finds the event.
psql_state "CREATE FUNCTION slow_kept() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN IF NEW.event_id = 'e-kslow' THEN PERFORM pg_sleep(3); END IF; RETURN NEW; END \$\$;
CREATE TRIGGER slow_kept BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_kept();" >/dev/null
events_post "$(order e-kslow shop-b)" &
post=$!
sleep 1
assert_eq "shop-b while its first event is in flight: the delete waits" "statement timeout" "$(del shop-b 1s)"
assert_eq "and after the commit: refused" "still has events" "$(del shop-b)"
wait "$post"
assert_eq "the event in flight was stored" "1" "$(psql_state "SELECT count(*) FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE t.external_id = 'shop-b'")"
psql_state "DROP TRIGGER slow_kept ON events; DROP FUNCTION slow_kept()" >/dev/null
tenant shop-c
assert_eq "a tenant without events: deleted" deleted "$(del shop-c)"
}

harness_scenarios single_and_batch signatures not_configured replay_webhook_id replay_event_id \
	partial_batch single_refusals database_down concurrent event_id_rule \
	second_in_flight tenant_kept
harness_finish
