#!/usr/bin/env bash
# tests/mock/test_provider_mock.sh: self-test of tests/mock/provider_mock.py
# and of the mock_* helpers in tests/integration/harness.sh. Needs bash,
# python3, curl and jq; no database, nginx or build. Prints `N passed,
# M failed` as its last line and exits non-zero if anything failed.
#
# Environment: MOCK_TEST_KEEP=1 keeps the temporary directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
harness=$here/../integration/harness.sh
# shellcheck source=tests/integration/harness.sh
. "$harness"

for prog in python3 curl jq; do
	command -v "$prog" >/dev/null || {
		printf 'FAIL - %s is not installed\n0 passed, 1 failed\n' "$prog"
		exit 1
	}
done

HARNESS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/provider-mock-test.XXXXXX")
HARNESS_LOG_DIR=$HARNESS_DIR/log
mkdir -p "$HARNESS_LOG_DIR"
export HARNESS_DIR HARNESS_LOG_DIR

_selftest_exit() {
	local rc=$?
	if ((rc != 0)); then
		fail "test script ended early with status $rc"
	fi
	mock_stop >/dev/null 2>&1 || true
	if ((HARNESS_FAILED > 0)) && [[ -s $HARNESS_LOG_DIR/mock.log ]]; then
		printf -- '--- last lines of mock.log\n'
		tail -n 20 "$HARNESS_LOG_DIR/mock.log" | sed 's/^/    /' || true
	fi
	if [[ ${MOCK_TEST_KEEP:-0} == 1 ]]; then
		printf 'kept %s\n' "$HARNESS_DIR"
	else
		rm -rf "$HARNESS_DIR"
	fi
	printf '%d passed, %d failed\n' "$HARNESS_PASSED" "$HARNESS_FAILED"
	((HARNESS_FAILED == 0)) || exit 1
	exit 0
}
trap _selftest_exit EXIT

# ---------------------------------------------------------------------------
# Helpers

META_PATH=/v25.0/106540352242922/messages
TWILIO_PATH=/2010-04-01/Accounts/ACtest0001/Messages.json

# meta TO [JSON]: send a Meta text message to TO (or JSON as the body).
meta() {
	local body=${2:-}
	[[ -n $body ]] || body=$(jq -cn --arg to "$1" \
		'{messaging_product: "whatsapp", recipient_type: "individual", to: $to,
		  type: "text", text: {preview_url: false, body: "ALERT db01: disk 97% full"}}')
	http POST "$MOCK_URL$META_PATH" "$body" -H 'Authorization: Bearer test-token'
}

# twilio TO [CURL ARGS...]: send a Twilio message to whatsapp:TO.
twilio() {
	local to=$1
	shift
	http POST "$MOCK_URL$TWILIO_PATH" "To=$(urlenc "whatsapp:$to")&From=$(urlenc 'whatsapp:+14155238886')&Body=hello" \
		-H 'Content-Type: application/x-www-form-urlencoded' -u ACtest0001:secret "$@"
}

urlenc() {
	jq -rn --arg s "$1" '$s | @uri'
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	printf '%s\n' $((t / 1000))
}

jqb() {
	jq -r "$1" <<<"$HTTP_BODY"
}

# ---------------------------------------------------------------------------
# Start

mock_start
assert_match "mock_start exports MOCK_URL" '^http://127\.0\.0\.1:[0-9]+$' "$MOCK_URL"
assert_eq "the pid file names the mock" "$MOCK_PID" "$(cat "$HARNESS_DIR/mock.pid" 2>/dev/null)"
assert_match "PORT= is the first line of its output" '^PORT=[0-9]+$' "$(head -n 1 "$HARNESS_LOG_DIR/mock.log")"
assert_eq "nothing recorded at start" 0 "$(mock_count)"

# ---------------------------------------------------------------------------
# Default answers

meta +16505551234
assert_eq "Meta: default answer is 200" 200 "$HTTP_STATUS"
assert_eq "Meta: JSON content type" application/json "$HTTP_CONTENT_TYPE"
assert_eq "Meta: Content-Length matches the body" "${#HTTP_BODY}" "$(http_header Content-Length)"
assert_eq "Meta: messaging_product" whatsapp "$(jqb .messaging_product)"
assert_eq "Meta: contacts[0].input is the to" +16505551234 "$(jqb '.contacts[0].input')"
assert_eq "Meta: contacts[0].wa_id has no +" 16505551234 "$(jqb '.contacts[0].wa_id')"
assert_match "Meta: messages[0].id is a wamid" '^wamid\.[A-Za-z0-9_=-]+$' "$(jqb '.messages[0].id')"
first_id=$(jqb '.messages[0].id')
meta +16505551234
assert_ne "Meta: message ids are unique" "$first_id" "$(jqb '.messages[0].id')"
http POST "$MOCK_URL/v26.0/999/messages" '{"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}}' \
	-H 'Authorization: Bearer t'
assert_eq "Meta: any version and phone number id" 200 "$HTTP_STATUS"

twilio +15552229999
assert_eq "Twilio: default answer is 201" 201 "$HTTP_STATUS"
assert_match "Twilio: sid is SM + 32 hex" '^SM[0-9a-f]{32}$' "$(jqb .sid)"
assert_eq "Twilio: status queued" queued "$(jqb .status)"
assert_eq "Twilio: to echoed" whatsapp:+15552229999 "$(jqb .to)"
assert_eq "Twilio: account_sid from the path" ACtest0001 "$(jqb .account_sid)"
assert_eq "Twilio: Content-Length matches the body" "${#HTTP_BODY}" "$(http_header Content-Length)"
http POST "$MOCK_URL$TWILIO_PATH" "To=whatsapp%3A%2B15552229999&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&ContentSid=HX1&ContentVariables=%7B%221%22%3A%22db01%22%7D" \
	-H 'Content-Type: application/x-www-form-urlencoded' -u ACtest0001:secret
assert_eq "Twilio: with a Messaging Service the status is accepted" "201 accepted" "$HTTP_STATUS $(jqb .status)"

# Validation of default answers.
http POST "$MOCK_URL$META_PATH" '{"messaging_product":"whatsapp","to":"+1555"}'
assert_eq "Meta: no token answers 401 code 190" "401 190" "$HTTP_STATUS $(jqb .error.code)"
meta x '{"to":"+1555"}'
assert_eq "Meta: no messaging_product answers 400 code 100" "400 100" "$HTTP_STATUS $(jqb .error.code)"
meta x '{"messaging_product":"whatsapp"}'
assert_eq "Meta: no to answers 400 code 100" "400 100" "$HTTP_STATUS $(jqb .error.code)"
http POST "$MOCK_URL$TWILIO_PATH" "To=whatsapp%3A%2B1555&From=whatsapp%3A%2B1444&Body=x" \
	-H 'Content-Type: application/x-www-form-urlencoded'
assert_eq "Twilio: no credentials answers 401 code 20003" "401 20003" "$HTTP_STATUS $(jqb .code)"
http POST "$MOCK_URL$TWILIO_PATH" "From=whatsapp%3A%2B1444&Body=x" \
	-H 'Content-Type: application/x-www-form-urlencoded' -u AC:x
assert_eq "Twilio: no To answers 400 code 21604" "400 21604" "$HTTP_STATUS $(jqb .code)"

# ---------------------------------------------------------------------------
# Twilio SMS: strict fields, the account's credentials, signed status callbacks

mock_reset
# sms FORM [SID:TOKEN] [ACCOUNT]: a Messages API request with that form body.
sms() {
	http POST "$MOCK_URL/2010-04-01/Accounts/${3:-ACtest0001}/Messages.json" "$1" \
		-H 'Content-Type: application/x-www-form-urlencoded' -u "${2:-ACtest0001:secret}"
}
last() { mock_requests | jq -r ".[-1] | $1"; }
sms "To=%2B15552229999&From=%2B15553330000&Body=disk%20full"
assert_eq "SMS: plain E.164 To and From answer 201 queued" "201 queued" "$HTTP_STATUS $(jqb .status)"
assert_eq "SMS: recorded as an sms with its sid" "sms $(jqb .sid)" "$(last '"\(.channel) \(.sid)"')"
assert_eq "SMS: one GSM-7 segment" "1 gsm7" "$(last '"\(.segments) \(.encoding)"')"
sms "To=%2B15552229999&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&Body=x"
assert_eq "SMS: a Messaging Service instead of From: 201 accepted" "201 accepted" "$HTTP_STATUS $(jqb .status)"
sms "To=%2B15552229999&From=%2B15553330000&Body=$(printf '%.0s%%D0%%96' $(seq 71))"
assert_eq "SMS: 71 Cyrillic letters are two UCS-2 segments" "2 ucs2 2" "$(last '"\(.segments) \(.encoding)"') $(jqb .num_segments)"
sms "To=%2B15552229999&From=%2B15553330000&Body=$(printf '%.0s%%7B' $(seq 153))"
assert_eq "SMS: 153 escape pairs are three GSM-7 segments" "3 gsm7" "$(last '"\(.segments) \(.encoding)"')"
sms "To=whatsapp%3A%2B15552229999&From=%2B15553330000&Body=x"
assert_eq "SMS: WhatsApp To with a plain From: 400 21910" "400 21910" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&From=whatsapp%3A%2B15553330000&Body=x"
assert_eq "SMS: plain To with a whatsapp: From: 400 21910" "400 21910" "$HTTP_STATUS $(jqb .code)"
sms "To=5552229999&From=%2B15553330000&Body=x"
assert_eq "SMS: a To that is not E.164: 400 21211" "400 21211" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&From=Ops&Body=x"
assert_eq "SMS: a From that is not E.164: 400 21212" "400 21212" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&MessagingServiceSid=MG1&Body=x"
assert_eq "SMS: a bad Messaging Service SID: 400 21701" "400 21701" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&From=%2B15553330000&Body=$(printf '%.0sa' $(seq 1601))"
assert_eq "SMS: a Body over 1600 characters: 400 21617" "400 21617" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&From=%2B15553330000&Body=x&StatusCallback=ftp%3A%2F%2Fexample.test%2F"
assert_eq "SMS: a StatusCallback that is not http(s): 400 21609" "400 21609" "$HTTP_STATUS $(jqb .code)"

mock_twilio_auth ACtest0001 secret
sms "To=%2B15552229999&From=%2B15553330000&Body=x" ACtest0001:wrong
assert_eq "SMS: with credentials set, a wrong token: 401 20003" "401 20003" "$HTTP_STATUS $(jqb .code)"
sms "To=%2B15552229999&From=%2B15553330000&Body=x" ACtest0001:secret ACother0002
assert_eq "SMS: another account's path: 401 20003" "401 20003" "$HTTP_STATUS $(jqb .code)"
sink=$MOCK_URL/status-sink
sms "To=%2B15552229999&From=%2B15553330000&Body=x&StatusCallback=$(jq -rn --arg u "$sink" '$u|@uri')"
assert_eq "SMS: the account's own credentials: 201" 201 "$HTTP_STATUS"
sid=$(jqb .sid)
out=$(mock_callback "$(jq -cn --arg s "$sid" '{sid: $s, status: "undelivered", error_code: 30003}')")
assert_eq "callback: posted to the StatusCallback (here the mock: 404)" 404 "$(jq -r .status <<<"$out")"
cb=$(mock_requests | jq -c '[.[] | select(.path == "/status-sink")][-1]')
assert_eq "callback: Twilio's fields" "$sid $sid ACtest0001 +15552229999 +15553330000 undelivered undelivered 30003 2010-04-01" \
	"$(jq -r '.form | "\(.MessageSid) \(.SmsSid) \(.AccountSid) \(.To) \(.From) \(.MessageStatus) \(.SmsStatus) \(.ErrorCode) \(.ApiVersion)"' <<<"$cb")"
valid=$(python3 -c '
import base64, hashlib, hmac, json, sys
r = json.loads(sys.argv[1]); f = r["form"]
data = sys.argv[2] + "".join(k + f[k] for k in sorted(f))
want = base64.b64encode(hmac.new(b"secret", data.encode(), hashlib.sha1).digest()).decode()
print(want == r["headers"].get("x-twilio-signature"))' "$cb" "$sink")
assert_eq "callback: X-Twilio-Signature over the URL and sorted fields" True "$valid"
out=$(mock_callback "$(jq -cn --arg s "$sid" '{sid: $s, status: "delivered", sign_url: "https://public.example.test/cb"}')")
cb=$(mock_requests | jq -c '[.[] | select(.path == "/status-sink")][-1]')
assert_eq "callback: delivered has no ErrorCode" "delivered null" "$(jq -r '.form | "\(.MessageStatus) \(.ErrorCode)"' <<<"$cb")"
valid=$(python3 -c '
import base64, hashlib, hmac, json, sys
r = json.loads(sys.argv[1]); f = r["form"]
data = sys.argv[2] + "".join(k + f[k] for k in sorted(f))
print(base64.b64encode(hmac.new(b"secret", data.encode(), hashlib.sha1).digest()).decode() == r["headers"].get("x-twilio-signature"))' "$cb" "https://public.example.test/cb")
assert_eq "callback: signed for sign_url when given" True "$valid"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"sid":"SMnone","status":"delivered"}' "$MOCK_URL/__mock/callback")
assert_eq "callback: an unknown sid: 404" 404 "$code"
mock_twilio_auth
sms "To=%2B15552229999&From=%2B15553330000&Body=x" ACtest0001:wrong
assert_eq "SMS: credentials cleared: any Basic auth again" 201 "$HTTP_STATUS"

# ---------------------------------------------------------------------------
# Scripted answers

mock_reset
mock_script '[{"match": {"to": "+15550000001"}, "meta_error": 131047, "times": -1}]'
meta +15550000001
assert_eq "131047: the scripted recipient gets 400" 400 "$HTTP_STATUS"
assert_eq "131047: error.code" 131047 "$(jqb .error.code)"
assert_eq "131047: error.type" OAuthException "$(jqb .error.type)"
assert_eq "131047: error_data.messaging_product" whatsapp "$(jqb .error.error_data.messaging_product)"
assert_contains "131047: error_data.details" "$(jqb .error.error_data.details)" "24 hours"
assert_match "131047: fbtrace_id" '^[A-Za-z0-9_-]+$' "$(jqb .error.fbtrace_id)"
meta 15550000001
assert_eq "131047: matches the recipient without +" "400 131047" "$HTTP_STATUS $(jqb .error.code)"
meta +15550000002
assert_eq "131047: another recipient gets 200" 200 "$HTTP_STATUS"
twilio +15550000001
assert_eq "131047: a meta_error rule leaves Twilio sends alone" 201 "$HTTP_STATUS"
meta +15550000001
assert_eq "131047: times -1 answers every time" 400 "$HTTP_STATUS"

mock_script '[{"match": {"to": "whatsapp:+15550000003"}, "twilio_error": 63016}]'
twilio +15550000003
assert_eq "Twilio 63016: 400" 400 "$HTTP_STATUS"
assert_eq "Twilio 63016: body" "63016 400 https://www.twilio.com/docs/errors/63016" \
	"$(jqb '"\(.code) \(.status) \(.more_info)"')"
assert_ne "Twilio 63016: message" "" "$(jqb .message)"

mock_script '[{"meta_error": 130429, "twilio_error": 20429, "times": 2}]'
meta +15550000004
assert_eq "times: 1st of 2 answers 429 (130429)" "429 130429" "$HTTP_STATUS $(jqb .error.code)"
twilio +15550000004
assert_eq "times: 2nd of 2 answers 429 (Twilio 20429)" "429 20429" "$HTTP_STATUS $(jqb .code)"
meta +15550000004
assert_eq "times: the 3rd gets the default answer" 200 "$HTTP_STATUS"
http GET "$MOCK_URL/__mock/script"
assert_eq "times: the rule shows 0 remaining" 0 "$(jqb '.[0].remaining')"

mock_script '[{"meta_error": 190}, {"meta_error": 131056}, {"meta_error": 131047, "status": 500}]'
meta +1555
assert_eq "meta_error 190 answers 401" "401 190" "$HTTP_STATUS $(jqb .error.code)"
meta +1555
assert_eq "meta_error 131056 answers 429" "429 131056" "$HTTP_STATUS $(jqb .error.code)"
meta +1555
assert_eq "an explicit status wins" "500 131047" "$HTTP_STATUS $(jqb .error.code)"

mock_script '[{"match": {"provider": "meta", "type": "text"}, "status": 503, "body_raw": "<html>busy</html>", "content_type": "text/html", "headers": {"Retry-After": "7"}},
	{"match": {"provider": "meta"}, "status": 502}]'
meta +1555
assert_eq "body_raw: status and body" "503 <html>busy</html>" "$HTTP_STATUS $HTTP_BODY"
assert_eq "body_raw: content type" text/html "$HTTP_CONTENT_TYPE"
assert_eq "extra headers" 7 "$(http_header Retry-After)"
meta +1555 '{"messaging_product":"whatsapp","to":"+1555","type":"template","template":{"name":"infra_alert","language":{"code":"en_US"}}}'
assert_eq "match.type: a template skips the text rule; a status alone has an empty body" "502 " "$HTTP_STATUS $HTTP_BODY"
assert_eq "an empty body has Content-Length: 0" 0 "$(http_header Content-Length)"

mock_script '[{"body": {"custom": true}, "status": 200}]'
meta +1555
assert_eq "body: sent as given" '200 {"custom": true}' "$HTTP_STATUS $HTTP_BODY"

mock_script '[{"delay_ms": 400, "meta_error": 131000}]'
meta +1555
assert_eq "meta_error 131000 answers 500" "500 131000" "$HTTP_STATUS $(jqb .error.code)"
mock_script '{"delay_ms": 300}'
t0=$(now_ms)
meta +1555
t1=$(now_ms)
assert_eq "delay: then the default answer" 200 "$HTTP_STATUS"
assert_match "delay: took at least 300 ms ($((t1 - t0)) ms)" '^1$' "$((t1 - t0 >= 300 && t1 - t0 < 10000))"
mock_default '{"delay_ms": 200}'
t0=$(now_ms)
twilio +1555
t1=$(now_ms)
assert_match "default delay: took at least 200 ms ($((t1 - t0)) ms)" '^1$' "$((t1 - t0 >= 200 && t1 - t0 < 10000))"
mock_default '{}'
http GET "$MOCK_URL/__mock/default"
assert_eq "default {} restores the built-in default" '{"default":{}}' "$(jq -c . <<<"$HTTP_BODY")"

mock_default '{"status": 500, "body": {"error": "down"}}'
meta +1555
assert_eq "default: a scripted default answer" '500 {"error": "down"}' "$HTTP_STATUS $HTTP_BODY"
mock_default '{"validate": false}'
http POST "$MOCK_URL$META_PATH" '{"to":"+1555"}'
assert_eq "default: validate false accepts a sloppy request" 200 "$HTTP_STATUS"
mock_default '{}'

# close: the connection is dropped without an answer.
mock_script '[{"match": {"to": "+15550000009"}, "close": true}, {"match": {"to": "+15550000010"}, "close": "reset", "delay_ms": 100}]'
rc=0
curl -s -o /dev/null --max-time 5 -H 'Authorization: Bearer t' -H 'Content-Type: application/json' \
	-d '{"messaging_product":"whatsapp","to":"+15550000009"}' "$MOCK_URL$META_PATH" || rc=$?
assert_eq "close: curl gets an empty reply (52)" 52 "$rc"
rc=0
curl -s -o /dev/null --max-time 5 -H 'Authorization: Bearer t' -H 'Content-Type: application/json' \
	-d '{"messaging_product":"whatsapp","to":"+15550000010"}' "$MOCK_URL$META_PATH" || rc=$?
assert_eq "close reset: curl sees a reset (56)" 56 "$rc"
meta +15550000009
assert_eq "close: times 1, the next one is answered" 200 "$HTTP_STATUS"
n=$(mock_requests | jq -c '[.[] | select(.to == "15550000009" or .to == "15550000010") | .answer.status]')
assert_eq "close: recorded with answer status null" '[null,null,200]' "$n"

# A delay longer than the client's timeout is a timeout.
mock_script '[{"delay_ms": 3000}]'
rc=0
curl -s -o /dev/null --max-time 0.5 -H 'Authorization: Bearer t' -H 'Content-Type: application/json' \
	-d '{"messaging_product":"whatsapp","to":"+1555"}' "$MOCK_URL$META_PATH" || rc=$?
assert_eq "delay: a client timeout (28)" 28 "$rc"
meta +1555
assert_eq "delay: the server goes on after the client gave up" 200 "$HTTP_STATUS"

# ---------------------------------------------------------------------------
# Keep-alive: one curl, several transfers on one connection, errors and
# control requests in between.

mock_reset
mock_script '[{"match": {"to": "+15550000020"}, "meta_error": 131047}]'
ka=$(curl -s --max-time 10 -o /dev/null -w '%{num_connects} %{http_code}\n' \
	-H 'Authorization: Bearer t' -H 'Content-Type: application/json' \
	-d '{"messaging_product":"whatsapp","to":"+15550000020"}' "$MOCK_URL$META_PATH" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' \
	-H 'Authorization: Bearer t' -H 'Content-Type: application/json' \
	-d '{"messaging_product":"whatsapp","to":"+15550000021"}' "$MOCK_URL$META_PATH" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' "$MOCK_URL/__mock/count" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' "$MOCK_URL/nowhere" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' \
	-u AC:x -d 'To=whatsapp%3A%2B1555&From=whatsapp%3A%2B1444&Body=x' "$MOCK_URL$TWILIO_PATH" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' -d '[' "$MOCK_URL/__mock/script" \
	--next -o /dev/null -w '%{num_connects} %{http_code}\n' "$MOCK_URL/__mock/requests")
assert_eq "keep-alive: 7 requests on one connection" \
	"1 400|0 200|0 200|0 404|0 201|0 400|0 200" "$(tr '\n' '|' <<<"$ka" | sed 's/|$//')"

# Every answer carries Content-Length (or the connection could not be reused).
hdrs=$(curl -s --max-time 10 -D - -o /dev/null "$MOCK_URL/__mock/count" --next -D - -o /dev/null "$MOCK_URL/x" \
	--next -D - -o /dev/null -X DELETE "$MOCK_URL$META_PATH" --next -D - -o /dev/null -X PUT "$MOCK_URL/__mock/count" | tr -d '\r')
assert_eq "Content-Length on every answer" 4 "$(grep -ci '^content-length: [0-9]' <<<"$hdrs")"
assert_eq "HTTP/1.1 answers" 4 "$(grep -c '^HTTP/1.1 ' <<<"$hdrs")"

# Chunked request bodies and Expect: 100-continue.
big=$(printf 'x%.0s' {1..3000})
http POST "$MOCK_URL$META_PATH" "{\"messaging_product\":\"whatsapp\",\"to\":\"+1555\",\"text\":{\"body\":\"$big\"}}" \
	-H 'Authorization: Bearer t' -H 'Transfer-Encoding: chunked' -H 'Expect: 100-continue'
assert_eq "a chunked body with Expect: 100-continue" 200 "$HTTP_STATUS"
assert_eq "the chunked body is recorded whole" 3000 "$(mock_requests | jq '.[-1].json.text.body | length')"

# A raw request without a body length, pipelined with a second one.
raw=$(python3 - "${MOCK_URL##*:}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /__mock/count HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /__mock/count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200"))
PY
)
assert_eq "two pipelined requests, two answers" 2 "$raw"

# ---------------------------------------------------------------------------
# Concurrency: 64 requests at once, 1 s each. The mock counts how many it held at the same
# time; a server answering one at a time would count 1, whatever the machine's load.

mock_reset
mock_default '{"delay_ms": 1000}'
conc=$HARNESS_DIR/conc
mkdir -p "$conc"
pids=()
for i in $(seq 1 64); do
	curl -s -o /dev/null --max-time 10 -w '%{http_code}' -H 'Authorization: Bearer t' \
		-H 'Content-Type: application/json' \
		-d "{\"messaging_product\":\"whatsapp\",\"to\":\"+1555000$i\"}" \
		"$MOCK_URL$META_PATH" >"$conc/$i" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
assert_eq "concurrency: 64 answers 200" 64 "$(cat "$conc"/* | grep -o 200 | wc -l)"
most=$(curl -s "$MOCK_URL/__mock/count" | jq '.max_in_flight')
assert_match "concurrency: at least 4 requests held at once (held $most)" '^1$' "$((most >= 4))"
assert_eq "concurrency: 64 recorded" 64 "$(mock_count)"
assert_eq "concurrency: 64 distinct seq" 64 "$(mock_requests | jq '[.[].seq] | unique | length')"
mock_default '{}'

# ---------------------------------------------------------------------------
# Records

mock_reset
assert_eq "reset clears the records" 0 "$(mock_count)"
meta +16505551234
twilio +15552229999
recs=$(mock_requests)
assert_eq "records: two sends, control requests not recorded" 2 "$(jq length <<<"$recs")"
s1=$(jq '.[0].seq' <<<"$recs")
s2=$(jq '.[1].seq' <<<"$recs")
assert_eq "records: seq increases by one" $((s1 + 1)) "$s2"
assert_eq "records: Meta method, path, kind" "POST $META_PATH meta" "$(jq -r '.[0] | "\(.method) \(.path) \(.kind)"' <<<"$recs")"
assert_eq "records: header names are lower-case" "Bearer test-token|application/json" \
	"$(jq -r '.[0].headers | "\(.authorization)|\(."content-type")"' <<<"$recs")"
assert_eq "records: no upper-case header name" 0 "$(jq '[.[].headers | keys[] | select(. != ascii_downcase)] | length' <<<"$recs")"
assert_eq "records: Meta JSON parsed" "+16505551234 text" "$(jq -r '.[0].json | "\(.to) \(.type)"' <<<"$recs")"
assert_contains "records: raw body kept" "$(jq -r '.[0].body' <<<"$recs")" '"messaging_product":"whatsapp"'
assert_eq "records: Meta answer" '{"status":200,"rule":null}' "$(jq -c '.[0].answer' <<<"$recs")"
assert_eq "records: Twilio form parsed" "whatsapp:+15552229999|hello|null" \
	"$(jq -r '.[1] | "\(.form.To)|\(.form.Body)|\(.json)"' <<<"$recs")"
assert_eq "records: Twilio to normalised" 15552229999 "$(jq -r '.[1].to' <<<"$recs")"
assert_match "records: Basic auth header kept" '^Basic ' "$(jq -r '.[1].headers.authorization' <<<"$recs")"
assert_match "records: time is epoch seconds" '^1[0-9]{9}(\.[0-9]+)?$' "$(jq -r '.[0].time' <<<"$recs")"
assert_eq "records: since=SEQ" "$s2" "$(mock_requests "$s1" | jq '.[0].seq')"
assert_eq "records: count since=SEQ" 1 "$(mock_count "$s1")"
jsonl=$HARNESS_DIR/mock.jsonl
assert_eq "record file: one valid JSON line per request" "$(wc -l <"$jsonl" | tr -d ' ')" \
	"$(jq -c . "$jsonl" | wc -l | tr -d ' ')"
assert_eq "record file: the last line is the last request" "$s2 twilio" "$(tail -n 1 "$jsonl" | jq -r '"\(.seq) \(.kind)"')"
assert_eq "record file: survives reset (seq never reused)" "$(wc -l <"$jsonl" | tr -d ' ')" "$s2"
http GET "$MOCK_URL/v25.0/1/elsewhere"
assert_eq "unknown path: 404 JSON" "404 application/json" "$HTTP_STATUS $HTTP_CONTENT_TYPE"
assert_eq "unknown path: recorded as kind unknown" unknown "$(mock_requests | jq -r '.[-1].kind')"
http GET "$MOCK_URL$META_PATH"
assert_eq "GET on a send path: 405" 405 "$HTTP_STATUS"

# ---------------------------------------------------------------------------
# Bad control input

http POST "$MOCK_URL/__mock/script" '[{"times": 1'
assert_eq "script: bad JSON answers 400" "400 application/json" "$HTTP_STATUS $HTTP_CONTENT_TYPE"
assert_contains "script: the error says why" "$(jqb .error)" "JSON"
for bad in '"x"' '[{"delay": 5}]' '[{"times": 0}]' '[{"status": 99}]' '[{"match": {"phone": "1"}}]' \
	'[{"match": {"to": 5}}]' '[{"close": "yes"}]' '[{"body": {}, "body_raw": "x"}]' '[{"delay_ms": -1}]' \
	'[{"meta_error": "131047"}]' '[{"headers": {"Content-Length": "5"}}]' '[{"meta_error": 1, "body": {}}]'; do
	http POST "$MOCK_URL/__mock/script" "$bad"
	assert_eq "script $bad answers 400" 400 "$HTTP_STATUS"
done
http POST "$MOCK_URL/__mock/default" '{"times": 3}'
assert_eq "default: rule-only keys answer 400" 400 "$HTTP_STATUS"
http POST "$MOCK_URL/__mock/default" ''
assert_eq "default: an empty body answers 400" 400 "$HTTP_STATUS"
http GET "$MOCK_URL/__mock/requests?since=abc"
assert_eq "requests: bad since answers 400" 400 "$HTTP_STATUS"
http GET "$MOCK_URL/__mock/nothing"
assert_eq "control: unknown endpoint 404" 404 "$HTTP_STATUS"
http GET "$MOCK_URL/__mock/reset"
assert_eq "control: wrong method 405" 405 "$HTTP_STATUS"
if mock_script '[{"bogus": true}]' 2>/dev/null; then
	fail "mock_script fails on a 400"
else
	pass "mock_script fails on a 400"
fi
http GET "$MOCK_URL/__mock/script"
assert_eq "a refused script leaves the rules as they were" '[]' "$(jq -c . <<<"$HTTP_BODY")"
mock_script '[{"meta_error": 131047}]'
mock_script '[{"meta_error": 131026}]'
http POST "$MOCK_URL/__mock/script?append=1" '[{"meta_error": 131049}]'
http GET "$MOCK_URL/__mock/script"
assert_eq "script replaces, ?append=1 appends" '[131026,131049]' "$(jq -c '[.[].meta_error]' <<<"$HTTP_BODY")"
mock_reset
http GET "$MOCK_URL/__mock/script"
assert_eq "reset clears the rules" '[]' "$(jq -c . <<<"$HTTP_BODY")"
assert_eq "the mock still runs after all that" 0 "$(mock_count)"
assert_eq "no traceback in the mock's output" 0 "$(grep -c Traceback "$HARNESS_LOG_DIR/mock.log" || true)"

# ---------------------------------------------------------------------------
# Stopping: through the harness's own EXIT trap, after harness_finish, and
# when the shell dies without running a trap.

child() {
	local dir=$HARNESS_DIR/$1
	shift
	mkdir -p "$dir/log"
	# harness.sh empties HARNESS_DIR when sourced: set it afterwards.
	CHILD_DIR=$dir bash -c "
		set -euo pipefail
		. '$harness'
		HARNESS_DIR=\$CHILD_DIR
		HARNESS_LOG_DIR=\$CHILD_DIR/log
		trap _harness_exit_trap EXIT
		mock_start
		echo \"MOCKPID=\$MOCK_PID\"
		$*" 2>&1
}
child_pid() {
	sed -n 's/^MOCKPID=//p' <<<"$1"
}

rc=0
out=$(child ok 'pass "child"; exit 0') || rc=$?
pid=$(child_pid "$out")
assert_eq "exit trap: status 0 kept" 0 "$rc"
assert_eq "exit trap: harness_finish's summary is the last line" "1 passed, 0 failed" "$(tail -n 1 <<<"$out")"
if [[ -n $pid ]] && wait_for 3 pids_all_gone "$pid"; then pass "exit trap: the mock is stopped"; else fail "exit trap: the mock is stopped" "pid $pid"; fi
assert_eq "exit trap: harness_finish removed the directory" no "$([[ -d $HARNESS_DIR/ok ]] && echo yes || echo no)"

rc=0
out=$(child failing 'false') || rc=$?
pid=$(child_pid "$out")
assert_eq "exit trap: a failing script still exits 1" 1 "$rc"
assert_contains "exit trap: the harness sees the status" "$out" "test script ended early with status 1"
assert_eq "exit trap: the summary counts it" "0 passed, 1 failed" "$(tail -n 1 <<<"$out")"
if [[ -n $pid ]] && wait_for 3 pids_all_gone "$pid"; then pass "exit trap (failure): the mock is stopped"; else fail "exit trap (failure): the mock is stopped" "pid $pid"; fi

rc=0
out=$(child finish 'harness_finish; echo after') || rc=$?
pid=$(child_pid "$out")
assert_eq "after harness_finish: status 0" 0 "$rc"
if [[ -n $pid ]] && wait_for 3 pids_all_gone "$pid"; then pass "after harness_finish: the mock is stopped"; else fail "after harness_finish: the mock is stopped" "pid $pid"; fi

rc=0
out=$(child killed 'kill -KILL $$') || rc=$?
pid=$(child_pid "$out")
if [[ -n $pid ]] && wait_for 5 pids_all_gone "$pid"; then pass "killed shell: the mock exits by itself"; else fail "killed shell: the mock exits by itself" "pid $pid"; fi
