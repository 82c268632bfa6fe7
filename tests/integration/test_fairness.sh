#!/usr/bin/env bash
# Accounts and the fair drain (issue 15, item 4): a producer with 1,000 queued messages does not
# delay another producer's single message beyond one pacing slot; each account keeps its own
# stop, 24-hour windows and provider; migration 007 applies to a database that has data.
set -euo pipefail

# shellcheck source=tests/integration/harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

harness_start
mock_start

export WHATSAPP_PROVIDER=meta META_WHATSAPP_TOKEN=test-token-abcdefghijklmnop \
	META_PHONE_NUMBER_ID=1234567890 META_GRAPH_URL=$MOCK_URL/v25.0 \
	RETRY_BASE_SECONDS=1 RETRY_MAX_SECONDS=1 RECIPIENT_MIN_INTERVAL=0 SEND_TIMEOUT_MS=2000
drain() { harness_cron drain; }
reset() {
	psql_state "TRUNCATE whatsapp_logs CASCADE; DELETE FROM recipient_slots; DELETE FROM contacts;
	 UPDATE send_rate SET next_slot = now()" >/dev/null
	mock_reset
}

# ---------------------------------------------------------------- the operator account
assert_eq "the operator's account after migrating: id 1, tenant-less" "1|operator|whatsapp||" \
	"$(psql_state "SELECT id || '|' || name || '|' || channel || '|' || coalesce(provider, '') || '|' || coalesce(tenant_id::text, '') FROM accounts WHERE id = 1")"
assert_eq "and the email (012) and sms (014) accounts: tenant-less; none other" \
	"email|email|smtp|,sms|sms|twilio|" \
	"$(psql_state "SELECT string_agg(name || '|' || channel || '|' || coalesce(provider, '') || '|' || coalesce(tenant_id::text, ''), ',') FROM accounts WHERE id <> 1")"
id=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550002001', 'old producer', 'critical', 'fair:old') RETURNING id")
assert_eq "a row written as before is a WhatsApp message of the operator account, no tenant" "whatsapp|1|" \
	"$(psql_state "SELECT channel || '|' || account_id || '|' || coalesce(tenant_id::text, '') FROM whatsapp_logs WHERE id = $id")"
drain >/dev/null
assert_eq "and is sent with the env file's provider" "sent|meta" \
	"$(psql_state "SELECT status || '|' || provider FROM whatsapp_logs WHERE id = $id")"

# ---------------------------------------------------------------- 1,000 of tenant A, one of the operator, one of tenant B
reset
# The tenants the rows below name (whatsapp_logs.tenant_id and accounts.tenant_id reference
# tenants since 008).
psql_state "INSERT INTO tenants (id, external_id, display_name) VALUES
 (7, 'fair-7', 'Tenant 7'), (8, 'fair-8', 'Tenant 8'), (101, 'fair-a', 'Tenant A'), (202, 'fair-b', 'Tenant B')" >/dev/null
# Tenant A's oldest row is a warning: within a producer critical goes first, then oldest first.
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id)
 VALUES ('+15551000000', 'A warning', 'warning', 'fair:a:w', 101)" >/dev/null
psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id)
 SELECT '+1555' || lpad(g::text, 7, '0'), 'A order ' || g, 'critical', 'fair:a:' || g, 101
 FROM generate_series(1, 999) g" >/dev/null
op=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15559990001', 'operator: db01 down', 'critical', 'fair:op') RETURNING id")
b=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, tenant_id)
 VALUES ('+15559990002', 'B: payment failed', 'critical', 'fair:b', 202) RETURNING id")
out=$(drain)
assert_eq "all 1,002 sent in one drain" 1002 "$(jq .sent <<<"$out")"
assert_eq "claimed in several claims (the test means something)" t \
	"$(psql_state "SELECT count(DISTINCT lease_id) > 1 FROM whatsapp_logs")"
first_lease=$(psql_state "SELECT min(lease_id) FROM whatsapp_logs")
assert_eq "the operator's single message was in the first claim" "$first_lease" \
	"$(psql_state "SELECT lease_id FROM whatsapp_logs WHERE id = $op")"
assert_eq "tenant B's single message was in the first claim" "$first_lease" \
	"$(psql_state "SELECT lease_id FROM whatsapp_logs WHERE id = $b")"
# sent_at is the paced start each row went at (outbox.c record_sent): it ranks the slots.
slot() { psql_state "SELECT n FROM (SELECT id, row_number() OVER (ORDER BY sent_at, id) AS n FROM whatsapp_logs) s WHERE id = $1"; }
# The first round takes each producer's first row, critical first, oldest first: A's, the
# operator's, B's. FIFO would have sent 999 of A's first.
assert_eq "the operator's message went in the second slot: one pacing slot after A's first" 2 "$(slot "$op")"
assert_eq "tenant B's in the third: the first round, one slot per producer" 3 "$(slot "$b")"
assert_eq "the first three slots: one message of each producer" 3 \
	"$(psql_state "SELECT count(DISTINCT coalesce(tenant_id, 0)) FROM (SELECT tenant_id FROM whatsapp_logs ORDER BY sent_at, id LIMIT 3) f")"
assert_eq "within tenant A, its criticals in order of queueing (no inversion)" 0 \
	"$(psql_state "SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY sent_at, id) AS prev FROM whatsapp_logs
	 WHERE tenant_id = 101 AND priority = 'critical') s WHERE prev > id")"
assert_eq "within tenant A, its older warning after all its criticals" t \
	"$(psql_state "SELECT (SELECT sent_at FROM whatsapp_logs WHERE idempotency_key = 'fair:a:w')
	 >= (SELECT max(sent_at) FROM whatsapp_logs WHERE tenant_id = 101 AND priority = 'critical')")"

# ---------------------------------------------------------------- per account: provider, stop, windows
reset
export WHATSAPP_ALERT_TEMPLATE=infra_alert
psql_state "INSERT INTO accounts (name, channel, provider, tenant_id) VALUES ('tenant 7 sandbox', 'whatsapp', 'sandbox', 7)" >/dev/null
acct=$(psql_state "SELECT id FROM accounts WHERE tenant_id = 7")
assert_ne "a second account" 1 "$acct"
# A window opened with the second account does not open one with the operator's.
psql_state "INSERT INTO contacts (account_id, phone_number, last_inbound_at) VALUES ($acct, '+15550003001', now())" >/dev/null
w=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550003001', 'to the operator window', 'critical', 'fair:w') RETURNING id")
drain >/dev/null
assert_eq "outside the operator account's window: a template" template "$(mock_requests | jq -r '.[-1].json.type')"
assert_eq "recipient slots are the operator account's" "1" \
	"$(psql_state "SELECT string_agg(DISTINCT account_id::text, ',') FROM recipient_slots")"
# The provider refuses the operator account: it stops; the other account keeps sending.
mock_reset
mock_script '[{"match":{"to":"+15550003002"},"meta_error":190}]'
s1=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550003002', 'token expired', 'critical', 'fair:s1') RETURNING id")
drain >/dev/null
assert_eq "190 stops the operator account" "t" \
	"$(psql_state "SELECT stopped FROM delivery_state WHERE account_id = 1")"
assert_eq "its message waits" queued "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $s1")"
s2=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, account_id, tenant_id)
 VALUES ('+15550003003', 'tenant 7: order paid', 'critical', 'fair:s2', $acct, 7) RETURNING id")
s3=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key)
 VALUES ('+15550003004', 'operator: still stopped', 'critical', 'fair:s3') RETURNING id")
n=$(mock_count)
drain >/dev/null
assert_eq "the other account's message is sent, by its own provider" "sent|sandbox" \
	"$(psql_state "SELECT status || '|' || provider FROM whatsapp_logs WHERE id = $s2")"
assert_match "with a sandbox id" '^sandbox-' "$(psql_state "SELECT provider_message_id FROM whatsapp_logs WHERE id = $s2")"
assert_eq "the stopped account's stays queued" queued "$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $s3")"
assert_eq "nothing reached the provider" "$n" "$(mock_count)"
assert_eq "the second account was never stopped" 0 \
	"$(psql_state "SELECT count(*) FROM delivery_state WHERE account_id = $acct AND stopped")"
assert_eq "each account paced on its own send_rate row" 2 "$(psql_state "SELECT count(*) FROM send_rate")"
harness_cron drain --resume >/dev/null
drain >/dev/null
assert_eq "after --resume the operator's messages go" "sent|sent" \
	"$(psql_state "SELECT string_agg(status, '|' ORDER BY id) FROM whatsapp_logs WHERE id IN ($s1, $s3)")"
# An account this process has no credentials for: its rows wait (issue 16/18 decide where they come from).
psql_state "INSERT INTO accounts (name, channel, provider, tenant_id) VALUES ('tenant 8 meta', 'whatsapp', 'meta', 8)" >/dev/null
s4=$(psql_state "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, account_id, tenant_id)
 VALUES ('+15550003005', 'tenant 8', 'critical', 'fair:s4', (SELECT id FROM accounts WHERE tenant_id = 8), 8) RETURNING id")
n=$(mock_count)
drain >/dev/null
assert_eq "an account without credentials here: its row stays queued" queued \
	"$(psql_state "SELECT status FROM whatsapp_logs WHERE id = $s4")"
assert_eq "and is never sent with the operator's credentials" "$n" "$(mock_count)"
psql_state "DELETE FROM whatsapp_logs WHERE id = $s4" >/dev/null

# ---------------------------------------------------------------- 007 on a database with data
pg_psql "$PGHOST" postgres -c "CREATE DATABASE premig OWNER monitor" >/dev/null
premig() { pg_psql "$PGHOST" premig -At -U monitor "$@"; }
premig -c "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
 applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for f in "$repo"/sql/00[1-6]_*.sql; do
	v=$(basename "$f")
	premig -1 -f "$f" -c "INSERT INTO schema_migrations (version, name) VALUES (${v%%_*}, '${v#*_}')" >/dev/null
done
premig -c "INSERT INTO whatsapp_logs (phone_number, message_content, priority, idempotency_key, status)
 SELECT '+1555' || lpad(g::text, 7, '0'), 'old ' || g, 'critical', 'old:' || g, 'queued' FROM generate_series(1, 500) g;
 INSERT INTO contacts (phone_number, wa_id, last_inbound_at) VALUES ('+15550000001', '15550000001', now());
 INSERT INTO recipient_slots (phone_number, next_allowed_at) VALUES ('+15550000001', now() + interval '1 minute');
 UPDATE delivery_state SET stopped = true, stopped_reason = '190 expired', stopped_at = now();
 UPDATE send_rate SET next_slot = now() + interval '1 hour'" >/dev/null
DATABASE_URL="host=$PGHOST dbname=premig user=monitor" harness_cron migrate >/dev/null
assert_eq "007 applied on a populated database" 7 "$(premig -c "SELECT version FROM schema_migrations WHERE version = 7")"
last=$(find "$repo/sql" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -1)
assert_eq "and every later one (008: tenants and their foreign keys)" \
	"$((10#${last%%_*}))" "$(premig -c "SELECT max(version) FROM schema_migrations")"
assert_eq "its rows became the operator account's WhatsApp messages" "500|500|0" \
	"$(premig -c "SELECT count(*) || '|' || count(*) FILTER (WHERE account_id = 1 AND channel = 'whatsapp') || '|' || count(tenant_id) FROM whatsapp_logs")"
assert_eq "the contact, its window and wa_id kept, as the operator account's" "1|15550000001|t" \
	"$(premig -c "SELECT account_id || '|' || wa_id || '|' || (last_inbound_at > now() - interval '1 hour')::text::char FROM contacts")"
assert_eq "the recipient slot kept" 1 "$(premig -c "SELECT account_id FROM recipient_slots")"
assert_eq "the stop kept, as the operator account's" "1|t|190 expired" \
	"$(premig -c "SELECT account_id || '|' || stopped::text::char || '|' || stopped_reason FROM delivery_state")"
assert_eq "the pace kept" "1|t" "$(premig -c "SELECT account_id || '|' || (next_slot > now())::text::char FROM send_rate")"
assert_eq "contacts are keyed by (account, number)" "account_id, phone_number" \
	"$(premig -c "SELECT string_agg(a.attname, ', ' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i
	 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
	 WHERE i.indrelid = 'contacts'::regclass AND i.indisprimary")"

harness_finish
