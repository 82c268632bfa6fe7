#!/usr/bin/env bash
# The seller's settings page (issue 19): static files under nginx/settings/, served by nginx at
# /settings/ with a strict Content-Security-Policy, driven in a real browser (Debian's headless
# chromium through chromium-driver and python3-selenium, which `make deps` installs: without
# them this suite fails, it does not skip) against this stack: the WhatsApp login with the code
# read from the mock provider's record, a number change with its loading and success states and
# its verification, the errors in words, changes that stick after a reload, the tabs by
# keyboard, the Notifications tab (a type switched off by keyboard and by mouse, a delivery
# changed, both sticking after a reload; locked types; only the changes sent; each type's
# channels after WhatsApp chosen by keyboard, sticking, confirmed by curl; the hint when the
# chain has a channel without an address, its button to the General tab's SMS number or email,
# which are checked and saved there), the Recent alerts
# tab (empty, then the alerts this suite makes for the seller appear on Refresh with their
# states as the webhook moved them, failure reasons in words, the 7- and 30-day rates, times in
# the seller's zone, older ones by keyboard, the error shown when the database is down, the
# network fails or the API refuses), the phone layout, a second tenant who never sees the
# first's data (preferences, alerts) nor has its preferences, the embedded handover
# (#token=...), no console errors. The browser's checks are in tests/browser/settings_page.py;
# its screenshots (each tab, phone and desktop) go to build/screenshots/ (SCREENSHOT_DIR=... to
# change). What only this side can do (make alerts through events, the tick and the webhook;
# take the database down) the browser script asks for by a file (serve_browser below).
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# Debian's python, which has python3-selenium (a python3 earlier on PATH may not).
BROWSER_PYTHON=${BROWSER_PYTHON:-/usr/bin/python3}
SCREENSHOT_DIR=${SCREENSHOT_DIR:-$REPO_ROOT/build/screenshots}

harness_start
mock_start

# Codes go out through Meta's API at the mock, at once; every request comes from 127.0.0.1, so
# the per-address limit is out of the way.
harness_set_env WHATSAPP_PROVIDER meta
harness_set_env META_WHATSAPP_TOKEN test-token-abcdefghijklmnop
harness_set_env META_PHONE_NUMBER_ID 1234567890
harness_set_env META_GRAPH_URL "$MOCK_URL/v25.0"
harness_set_env RECIPIENT_MIN_INTERVAL 0
harness_set_env LOGIN_REQUESTS_PER_ADDRESS_HOUR 100000
harness_restart_programs || fail "programs restarted"
harness_env_baseline

A=+2349010000001 B=+2349010000002 A2=+2349010000011
B_ALERT_ID= # the message of shop-b's alert (scenario_browser)


# ---------------------------------------------------------------- what nginx serves
scenario_headers() {
	http GET /settings/
	assert_eq "GET /settings/: 200" 200 "$HTTP_STATUS"
	assert_eq "GET /settings/: HTML in UTF-8" "text/html; charset=utf-8" "$HTTP_CONTENT_TYPE"
	assert_contains "GET /settings/: the page" "$HTTP_BODY" '<script src="settings.js" defer></script>'
	csp=$(http_header Content-Security-Policy)
	assert_eq "the Content-Security-Policy" \
		"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'" \
		"$csp"
	assert_not_contains "CSP: nothing unsafe" "$csp" "unsafe"
	assert_eq "X-Content-Type-Options" nosniff "$(http_header X-Content-Type-Options)"
	assert_eq "Referrer-Policy" no-referrer "$(http_header Referrer-Policy)"
	assert_eq "Cache-Control" no-cache "$(http_header Cache-Control)"
	assert_eq "no X-Frame-Options (frame-ancestors decides)" "" "$(http_header X-Frame-Options)"
	local f type
	for f in settings.js:application/javascript settings.css:text/css favicon.svg:image/svg+xml; do
		type=${f#*:}
		f=${f%%:*}
		http GET "/settings/$f"
		assert_eq "GET /settings/$f: 200 $type" "200 $type" "$HTTP_STATUS ${HTTP_CONTENT_TYPE%%;*}"
		assert_contains "GET /settings/$f: the same CSP" "$(http_header Content-Security-Policy)" "script-src 'self'"
		assert_eq "GET /settings/$f: nosniff" nosniff "$(http_header X-Content-Type-Options)"
	done
	http GET /settings
	assert_eq "GET /settings: 301 to /settings/" "301 /settings/" \
		"$HTTP_STATUS $(http_header Location | sed 's|^http://[^/]*||')"
	http POST /settings/ '{}'
	assert_eq "POST /settings/: 405" 405 "$HTTP_STATUS"
	assert_eq "POST /settings/: Allow" "GET, HEAD" "$(http_header Allow)"
	http GET /settings/nothing-here.js
	assert_eq "an unknown file: 404 JSON" "404 not_found" "$HTTP_STATUS $(jq -r .error.code <<<"$HTTP_BODY")"
	http GET /settings/../monitoring.env '' --path-as-is
	assert_ne "no way out of the directory" 200 "$HTTP_STATUS"

	# What the CSP forbids is not in the files: no inline script, style or handler.
	local html=$REPO_ROOT/nginx/settings/index.html
	assert_eq "index.html: every <script> has a src" "" "$(grep -oE '<script( [^>]*)?>' "$html" | grep -v 'src=' || true)"
	assert_eq "index.html: no <style> element" "" "$(grep -oE '<style' "$html" || true)"
	assert_eq "index.html: no style= attribute" "" "$(grep -oE ' style=' "$html" || true)"
	assert_eq "index.html: no on...= handler" "" "$(grep -oiE ' on[a-z]+=' "$html" || true)"
	assert_eq "the page fetches nothing from elsewhere" "" \
		"$(grep -hoE '(src|href)="(https?:)?//[^"]*"' "$REPO_ROOT"/nginx/settings/* || true)"
	assert_eq "settings.js calls only /tenants/ routes" "" \
		"$(grep -oE "api\('[A-Z]+', '[^']*'" "$REPO_ROOT/nginx/settings/settings.js" | grep -v "'/tenants/" || true)"
}

# The alerts the browser then sees: an order the seller was sent (ORDER_ID in its text).
order() { # EVENT_ID TENANT ORDER_ID
	printf '{"id":"%s","type":"order.placed","tenant":"%s","occurred_at":"2026-12-02T14:05:00Z","data":{"order_id":"%s","total":{"amount":1250000,"currency":"NGN"},"items":3,"customer":{"name":"Ada","phone":"+2349012345678"}}}' \
		"$1" "$2" "$3"
}
# Sent times to the whole second, so that the webhook's whole-second times make exact figures.
whole_second() { psql_state "UPDATE whatsapp_logs SET sent_at = date_trunc('second', sent_at) WHERE id = $1" >/dev/null; }

# serve_browser REQUEST: what the browser script asked for (WORK/request); prints the answer.
#   alerts-a  shop-a's three alerts: #1001 delivered then read 20 s after it was sent; a new
#             login, delivered, made ten days old (in the 30 days, not the 7); #1003 failed
#             (Meta's 131026). Prints "ok ID1001 IDLOGIN ID1003".
#   held-a    quiet hours around now for shop-a, then an out-of-stock alert for it, held by
#             them. Prints "ok ID".
#   age-b     shop-b's alert made ten days old.
#   db-down, db-up   the cluster stopped, started.
serve_browser() {
	local m1 m2 m3
	case $1 in
	alerts-a)
		seller_alert_sent m1 "$(order ev-a1 shop-a 1001)" || { echo "failed: ev-a1 not sent"; return; }
		seller_alert_sent m2 '{"id":"ev-a2","type":"security.login","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"user":"owner@shop","ip":"203.0.113.9"}}' ||
			{ echo "failed: ev-a2 not sent"; return; }
		seller_alert_sent m3 "$(order ev-a3 shop-a 1003)" || { echo "failed: ev-a3 not sent"; return; }
		whole_second "$m1"
		whole_second "$m2"
		if ! { meta_status "$m1" delivered 2 && meta_status "$m1" read 20 && meta_status "$m2" delivered 3 &&
			meta_status "$m3" failed 4 131026 "Message undeliverable"; }; then
			echo "failed: a status"
			return
		fi
		psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '10 days' WHERE id = $m2" >/dev/null
		echo "ok $m1 $m2 $m3"
		;;
	held-a)
		# Quiet hours around now in shop-a's zone: a normal alert (out of stock) is held.
		local zone jwt id
		zone=$(psql_state "SELECT time_zone FROM tenants WHERE external_id = 'shop-a'")
		jwt=$(tenant_jwt shop-a)
		http PATCH /tenants/me "{\"quiet_start\":\"$(TZ=$zone date -d '-1 hour' +%H:%M)\",\"quiet_end\":\"$(TZ=$zone date -d '+1 hour' +%H:%M)\"}" \
			-H "Authorization: Bearer $jwt"
		[[ $HTTP_STATUS == 200 ]] || { echo "failed: quiet hours: $HTTP_STATUS"; return; }
		events_post '{"id":"ev-a4","type":"inventory.out_of_stock","tenant":"shop-a","occurred_at":"2026-12-02T14:05:00Z","data":{"sku":"KET-9","product":"Blue kettle"}}'
		[[ $HTTP_STATUS == 200 ]] || { echo "failed: event: $HTTP_STATUS"; return; }
		harness_cron tick >/dev/null
		id=$(psql_state "SELECT message_id FROM events WHERE event_id = 'ev-a4'")
		[[ -n $id && $(psql_state "SELECT not_before > now() FROM whatsapp_logs WHERE id = $id") == t ]] ||
			{ echo "failed: not held"; return; }
		echo "ok $id"
		;;
	age-b)
		psql_state "UPDATE whatsapp_logs SET created_at = created_at - interval '10 days' WHERE id = $B_ALERT_ID" >/dev/null &&
			echo ok || echo "failed: psql"
		;;
	db-down) harness_stop_pg && echo ok || echo "failed: pg_stop" ;;
	db-up) harness_start_pg && echo ok || echo "failed: pg_start" ;;
	*) echo "failed: unknown request $1" ;;
	esac
}

# ---------------------------------------------------------------- in the browser
scenario_browser() {
	if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] ||
		! "$BROWSER_PYTHON" -c 'import selenium' 2>/dev/null; then
		fail "chromium, chromium-driver and python3-selenium are installed (make deps)" \
			"missing: $(for x in /usr/bin/chromium /usr/bin/chromedriver; do [[ -x $x ]] || printf '%s ' "$x"; done)$("$BROWSER_PYTHON" -c 'import selenium' 2>/dev/null || printf 'selenium for %s' "$BROWSER_PYTHON")"
		return 0
	fi
	platform POST /tenants "{\"external_id\":\"shop-a\",\"display_name\":\"Ada Foods\",\"whatsapp_number\":\"$A\"}"
	assert_eq "tenant shop-a created" 201 "$HTTP_STATUS"
	platform POST /tenants "{\"external_id\":\"shop-b\",\"display_name\":\"Bola Crafts\",\"whatsapp_number\":\"$B\"}"
	assert_eq "tenant shop-b created" 201 "$HTTP_STATUS"
	platform POST /tenants '{"external_id":"shop-c","display_name":"Chidi Books"}'
	assert_eq "tenant shop-c created, without a number" 201 "$HTTP_STATUS"
	local jwt jwt_c work out line rc=0 pid req
	# shop-b's alert, read 5 s after it was sent: never on shop-a's page.
	seller_alert_sent B_ALERT_ID "$(order ev-b1 shop-b 2001)" || fail "shop-b's alert sent"
	whole_second "$B_ALERT_ID"
	if ! { meta_status "$B_ALERT_ID" delivered 1 && meta_status "$B_ALERT_ID" read 5; }; then
		fail "shop-b's alert read"
	fi
	jwt=$(harness_cron tenant-token shop-a 3600)
	jwt_c=$(harness_cron tenant-token shop-c 3600)
	assert_match "a platform JWT for shop-a" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$jwt"
	work=$HARNESS_DIR/browser
	mkdir -p "$work" "$SCREENSHOT_DIR"
	out=$work/output
	touch "$out.start"
	HTTP_BASE=$HTTP_BASE MOCK_URL=$MOCK_URL PLATFORM_KEY=$PLATFORM_KEY \
		A_NUMBER=$A B_NUMBER=$B A_NEW_NUMBER=$A2 A_NAME="Ada Foods" B_NAME="Bola Crafts" \
		A_JWT=$jwt C_JWT=$jwt_c B_ALERT_ID=$B_ALERT_ID SCREENSHOT_DIR=$SCREENSHOT_DIR WORK_DIR=$work \
		PYTHONDONTWRITEBYTECODE=1 timeout -k 10 240 "$BROWSER_PYTHON" "$REPO_ROOT/tests/browser/settings_page.py" \
		>"$out" 2>"$work/stderr" &
	pid=$!
	# Its requests, one at a time: WORK/request (written whole by a rename), answered in WORK/answer.
	while kill -0 "$pid" 2>/dev/null; do
		if [[ -f $work/request ]]; then
			req=$(<"$work/request")
			rm -f "$work/request"
			# In a condition: a step that fails does not end the suite; its answer says so.
			serve_browser "$req" >"$work/answer.tmp" 2>>"$work/serve.err" ||
				echo "failed: status $?" >>"$work/answer.tmp"
			mv "$work/answer.tmp" "$work/answer"
		fi
		sleep 0.1
	done
	wait "$pid" || rc=$?
	# The browser's lines, counted here: `ok   - ...`, `FAIL - ...` and its detail.
	local name=
	while IFS= read -r line; do
		case $line in
		"ok   - "*) pass "browser: ${line#ok   - }" ;;
		"FAIL - "*)
			[[ -z $name ]] || fail "browser: $name"
			name=${line#FAIL - }
			;;
		"       "*)
			if [[ -n $name ]]; then
				fail "browser: $name" "${line#       }"
				name=
			else
				printf '%s\n' "$line"
			fi
			;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$out"
	[[ -z $name ]] || fail "browser: $name"
	assert_eq "the browser script ended normally" 0 "$rc"

	# What the page saved, as the API answers it outside the browser (curl): shop-a's chains
	# as chosen on the page, shop-b's all still the urgencies' defaults.
	http GET /tenants/me/preferences '' -H "Authorization: Bearer $jwt"
	assert_eq "API (curl): shop-a's order.placed goes WhatsApp, then SMS, then email" \
		'["whatsapp","sms","email"]' "$(jq -c '.preferences["order.placed"].channels' <<<"$HTTP_BODY")"
	assert_eq "API (curl): shop-a's payment.failed (locked) goes on WhatsApp only, still on" \
		'["whatsapp"] true' "$(jq -c '.preferences["payment.failed"] | .channels, .enabled' <<<"$HTTP_BODY" | paste -sd' ')"
	local jwt_b
	jwt_b=$(harness_cron tenant-token shop-b 3600)
	http GET /tenants/me/preferences '' -H "Authorization: Bearer $jwt_b"
	assert_eq "API (curl): shop-b's preferences answered" 200 "$HTTP_STATUS"
	assert_eq "API (curl): shop-b's channels are all its defaults" "[]" \
		"$(jq -c '[.preferences | to_entries[] | select(.value.channels != .value.default.channels) | .key]' <<<"$HTTP_BODY")"
	assert_eq "stored: shop-b's addresses untouched" "|" \
		"$(psql_state "SELECT coalesce(sms_number, '') || '|' || coalesce(email, '') FROM tenants WHERE external_id = 'shop-b'")"
	if [[ -s $work/stderr ]]; then
		printf -- '--- browser stderr\n'
		sed 's/^/    /' "$work/stderr" | tail -n 20
	fi
	if [[ -s $work/serve.err ]]; then
		printf -- '--- stderr of what the browser asked for\n'
		sed 's/^/    /' "$work/serve.err" | tail -n 20
	fi

	# Neither the platform's token nor a session token reached a log (the fragment is never
	# sent; the API takes tokens in a header).
	local t leaked=
	while IFS= read -r t; do
		[[ -n $t ]] || continue
		if grep -rqF -- "$t" "$HARNESS_LOG_DIR"; then
			leaked+="${t:0:6}... "
		fi
	done < <(printf '%s\n' "$jwt" "$jwt_c"; cat "$work/tokens" 2>/dev/null)
	assert_eq "no token in any log (nginx, programs)" "" "$leaked"
	assert_eq "session tokens were seen (the check above checked some)" 1 \
		"$(($(grep -c . "$work/tokens" 2>/dev/null || echo 0) >= 2))"
	local shots
	shots=$(find "$SCREENSHOT_DIR" -name 'settings-*.png' -newer "$out.start" 2>/dev/null | wc -l)
	assert_eq "nine screenshots: three tabs at phone and desktop, the login, the verification, the channels' hint" 9 "$shots"
}

harness_scenarios headers browser

harness_finish
