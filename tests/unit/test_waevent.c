/* Unit tests of common/webhook/waevent.c: reading Meta WhatsApp webhook bodies. */
#include "testutil.h"

#include "core/buf.h"
/* The .c itself, to reach the contact index (static). */
#include "webhook/waevent.c"

#define META                                                                                       \
	"\"metadata\":{\"display_phone_number\":\"15550783881\","                                  \
	"\"phone_number_id\":\"106540352242922\"}"

/* The reference's inbound text message (whatsapp-api.md A.4a), verbatim. */
static const char *text_body =
    "{ \"object\": \"whatsapp_business_account\",\n"
    "  \"entry\": [ { \"id\": \"102290129340398\",\n"
    "    \"changes\": [ { \"field\": \"messages\",\n"
    "      \"value\": {\n"
    "        \"messaging_product\": \"whatsapp\",\n"
    "        \"metadata\": { \"display_phone_number\": \"15550783881\", \"phone_number_id\": "
    "\"106540352242922\" },\n"
    "        \"contacts\": [ { \"profile\": { \"name\": \"Sheena Nelson\" }, \"wa_id\": "
    "\"16505551234\" } ],\n"
    "        \"messages\": [ { \"from\": \"16505551234\",\n"
    "                        \"id\": "
    "\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=\",\n"
    "                        \"timestamp\": \"1749416383\", \"type\": \"text\",\n"
    "                        \"text\": { \"body\": \"ack 8812\" } } ] } } ] } ] }";

/* A body with one entry and one change whose value is value_json. */
static char *wrap(const char *value_json)
{
	return xasprintf(
	    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":"
	    "\"102290129340398\",\"changes\":[{\"field\":\"messages\",\"value\":%s}]}]}",
	    value_json);
}

/* Parse a body that must be accepted. */
static void parse_ok(const char *body, struct wa_batch *b)
{
	char *err = NULL;
	int r = wa_batch_parse(body, strlen(body), b, &err);
	if (r != 0)
		print_error("rejected: %s\n", err ? err : "?");
	free(err);
	assert_int_equal(r, 0);
}

/* wrap(value_json) parsed. */
static void parse_value(const char *value_json, struct wa_batch *b)
{
	char *body = wrap(value_json);
	parse_ok(body, b);
	free(body);
}

static void assert_rejected(const char *body, size_t len)
{
	struct wa_batch b;
	char *err = NULL;
	if (wa_batch_parse(body, len, &b, &err) == 0) {
		print_error("accepted: %.*s\n", (int)len, body);
		wa_batch_release(&b);
		fail();
	}
	assert_non_null(err);
	assert_true(strlen(err) > 0);
	assert_int_equal(b.n_messages, 0);
	assert_int_equal(b.n_statuses, 0);
	assert_null(b.messages);
	assert_null(b.statuses);
	free(err);
	wa_batch_release(&b);
}

static void test_reads_text_message(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_ok(text_body, &b);
	assert_int_equal(b.n_messages, 1);
	assert_int_equal(b.n_statuses, 0);
	assert_int_equal(b.n_errors, 0);
	assert_int_equal(b.n_skipped, 0);
	assert_int_equal(b.other_object, 0);
	const struct wa_message *m = &b.messages[0];
	assert_string_equal(m->id,
	                    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
	assert_string_equal(m->from, "16505551234");
	assert_string_equal(m->wa_id, "16505551234");
	assert_string_equal(m->profile_name, "Sheena Nelson");
	assert_true(m->timestamp == 1749416383LL);
	assert_string_equal(m->type, "text");
	assert_string_equal(m->text, "ack 8812");
	assert_null(m->button_payload);
	assert_null(m->context_id);
	assert_null(m->from_user_id);
	assert_string_equal(m->phone_number_id, "106540352242922");
	wa_batch_release(&b);
}

static void test_reads_template_button_reply(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value(
	    "{\"messaging_product\":\"whatsapp\"," META ","
	    "\"contacts\":[{\"profile\":{\"name\":\"Ops\"},\"wa_id\":\"16505551234\"}],"
	    "\"messages\":[{\"context\":{\"from\":\"15550783881\",\"id\":\"wamid.TEMPLATE\"},"
	    "\"from\":\"16505551234\",\"id\":\"wamid.REPLY\",\"timestamp\":\"1739321024\","
	    "\"type\":\"button\",\"button\":{\"payload\":\"ACK:8812\","
	    "\"text\":\"Acknowledge\"}}]}",
	    &b);
	assert_int_equal(b.n_messages, 1);
	const struct wa_message *m = &b.messages[0];
	assert_string_equal(m->type, "button");
	assert_string_equal(m->text, "Acknowledge");
	assert_string_equal(m->button_payload, "ACK:8812");
	assert_string_equal(m->context_id, "wamid.TEMPLATE");
	assert_string_equal(m->profile_name, "Ops");
	assert_true(m->timestamp == 1739321024LL);
	wa_batch_release(&b);
}

static void test_reads_interactive_replies(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value("{" META ",\"messages\":["
	            "{\"context\":{\"from\":\"15550783881\",\"id\":\"wamid.BUTTONS\"},"
	            "\"from\":\"16505551234\",\"id\":\"wamid.R1\",\"timestamp\":\"1739321024\","
	            "\"type\":\"interactive\",\"interactive\":{\"type\":\"button_reply\","
	            "\"button_reply\":{\"id\":\"ack:8812\",\"title\":\"Ack\"}}},"
	            "{\"from\":\"16505551234\",\"id\":\"wamid.R2\",\"timestamp\":\"1739321025\","
	            "\"type\":\"interactive\",\"interactive\":{\"type\":\"list_reply\","
	            "\"list_reply\":{\"id\":\"pause:2h\",\"title\":\"Pause 2h\","
	            "\"description\":\"Hold alerts\"}}},"
	            "{\"from\":\"16505551234\",\"id\":\"wamid.R3\",\"type\":\"interactive\","
	            "\"interactive\":{\"type\":\"nfm_reply\"}}]}",
	            &b);
	assert_int_equal(b.n_messages, 3);
	assert_int_equal(b.n_skipped, 0);
	assert_string_equal(b.messages[0].type, "interactive");
	assert_string_equal(b.messages[0].text, "Ack");
	assert_string_equal(b.messages[0].button_payload, "ack:8812");
	assert_string_equal(b.messages[0].context_id, "wamid.BUTTONS");
	assert_string_equal(b.messages[1].text, "Pause 2h");
	assert_string_equal(b.messages[1].button_payload, "pause:2h");
	assert_null(b.messages[1].context_id);
	assert_null(b.messages[2].text);
	assert_null(b.messages[2].button_payload);
	/* No contacts[]: wa_id falls back to from. */
	assert_string_equal(b.messages[2].wa_id, "16505551234");
	assert_null(b.messages[2].profile_name);
	wa_batch_release(&b);
}

static void test_reads_several_entries_changes_and_statuses(void **state)
{
	(void)state;
	const char *body =
	    "{\"object\":\"whatsapp_business_account\",\"entry\":["
	    "{\"id\":\"W1\",\"changes\":["
	    "{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"111\"},"
	    "\"statuses\":[{\"id\":\"wamid.A\",\"status\":\"sent\",\"timestamp\":\"1750857384\","
	    "\"recipient_id\":\"16505551234\",\"biz_opaque_callback_data\":\"alert-8812\","
	    "\"conversation\":{\"id\":\"c1\",\"origin\":{\"type\":\"utility\"}},"
	    "\"pricing\":{\"billable\":true,\"pricing_model\":\"PMP\"}},"
	    "{\"id\":\"wamid.A\",\"status\":\"delivered\",\"timestamp\":\"1750857390\","
	    "\"recipient_id\":\"16505551234\"}]}},"
	    "{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"222\"},"
	    "\"contacts\":[{\"profile\":{\"name\":\"Ana\"},\"wa_id\":\"447700900123\"}],"
	    "\"messages\":[{\"from\":\"447700900123\",\"id\":\"wamid.M1\",\"timestamp\":"
	    "\"1750857391\","
	    "\"type\":\"text\",\"text\":{\"body\":\"status\"}}]}}]},"
	    "{\"id\":\"W2\",\"changes\":[{\"field\":\"messages\",\"value\":{"
	    "\"metadata\":{\"phone_number_id\":\"333\"},"
	    "\"statuses\":[{\"id\":\"wamid.B\",\"status\":\"read\",\"timestamp\":\"1750857400\","
	    "\"recipient_id\":\"5215512345678\"},{\"id\":\"wamid.C\",\"status\":\"played\","
	    "\"timestamp\":\"1750857401\",\"recipient_id\":\"5215512345678\"}],"
	    "\"messages\":[{\"from\":\"5215512345678\",\"id\":\"wamid.M2\",\"type\":\"text\","
	    "\"text\":{\"body\":\"help\"}}]}}]}]}";
	struct wa_batch b;
	parse_ok(body, &b);
	assert_int_equal(b.n_statuses, 4);
	assert_int_equal(b.n_messages, 2);
	assert_int_equal(b.n_skipped, 0);

	assert_string_equal(b.statuses[0].id, "wamid.A");
	assert_string_equal(b.statuses[0].status, "sent");
	assert_true(b.statuses[0].timestamp == 1750857384LL);
	assert_string_equal(b.statuses[0].recipient_id, "16505551234");
	assert_string_equal(b.statuses[0].callback_data, "alert-8812");
	assert_string_equal(b.statuses[0].phone_number_id, "111");
	assert_int_equal(b.statuses[0].error_code, 0);
	assert_null(b.statuses[0].error_title);
	assert_null(b.statuses[0].error_details);
	assert_string_equal(b.statuses[1].status, "delivered");
	assert_null(b.statuses[1].callback_data);
	assert_string_equal(b.statuses[2].status, "read");
	assert_string_equal(b.statuses[2].phone_number_id, "333");
	assert_string_equal(b.statuses[3].status, "played"); /* unknown values kept as sent */

	assert_string_equal(b.messages[0].id, "wamid.M1");
	assert_string_equal(b.messages[0].profile_name, "Ana");
	assert_string_equal(b.messages[0].phone_number_id, "222");
	assert_string_equal(b.messages[0].text, "status");
	assert_string_equal(b.messages[1].id, "wamid.M2");
	assert_string_equal(b.messages[1].phone_number_id, "333");
	assert_true(b.messages[1].timestamp == 0);
	wa_batch_release(&b);
}

static void test_reads_failed_status_errors(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value(
	    "{" META ",\"statuses\":["
	    "{\"id\":\"wamid.F1\",\"status\":\"failed\",\"timestamp\":\"1744609253\","
	    "\"recipient_id\":\"16505551234\",\"errors\":[{\"code\":131047,"
	    "\"title\":\"Re-engagement message\",\"message\":\"Re-engagement message\","
	    "\"error_data\":{\"details\":\"Message failed to send because more than 24 hours have "
	    "passed since the customer last replied to this number.\"},"
	    "\"href\":\"https://developers.facebook.com/docs/whatsapp/cloud-api/support/"
	    "error-codes/\"},"
	    "{\"code\":131026,\"title\":\"second\"}]},"
	    "{\"id\":\"wamid.F2\",\"status\":\"failed\",\"errors\":[{\"code\":\"131026\","
	    "\"title\":\"Message undeliverable\",\"message\":\"Receiver is incapable\"}]},"
	    "{\"id\":\"wamid.F3\",\"status\":\"failed\",\"errors\":[]},"
	    "{\"id\":\"wamid.F4\",\"status\":\"failed\",\"errors\":[{\"code\":-3,"
	    "\"error_data\":{\"details\":7},\"title\":[]}]},"
	    "{\"id\":\"wamid.F5\",\"status\":\"failed\",\"errors\":[\"oops\"]},"
	    "{\"id\":\"wamid.F6\",\"status\":\"failed\",\"errors\":{\"code\":131047}},"
	    "{\"id\":\"wamid.F7\",\"status\":\"failed\",\"errors\":[{\"code\":1.5e5}]},"
	    "{\"id\":\"wamid.F8\",\"status\":\"failed\",\"errors\":[{\"code\":99999999999}]}]}",
	    &b);
	assert_int_equal(b.n_statuses, 8);
	assert_int_equal(b.n_skipped, 0);
	const struct wa_status *s = b.statuses;
	assert_int_equal(s[0].error_code, 131047);
	assert_string_equal(s[0].error_title, "Re-engagement message");
	assert_string_equal(s[0].error_details, "Message failed to send because more than 24 hours "
	                                        "have passed since the customer last replied to "
	                                        "this number.");
	assert_int_equal(s[1].error_code, 131026); /* code sent as a string */
	assert_string_equal(s[1].error_details, "Receiver is incapable");
	for (size_t i = 2; i < 8; i++) {
		assert_int_equal(s[i].error_code, 0);
		assert_string_equal(s[i].status, "failed");
	}
	assert_null(s[3].error_title);
	assert_null(s[3].error_details);
	wa_batch_release(&b);
}

static void test_reads_account_level_errors(void **state)
{
	(void)state;
	const char *body =
	    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":["
	    "{\"value\":{\"errors\":[\"junk\",{\"title\":\"no code\"},{\"code\":131031,"
	    "\"title\":\"Account locked\",\"message\":\"Business account locked\"}]}},"
	    "{\"value\":{\"errors\":[{\"code\":368,\"title\":\"Policy\","
	    "\"error_data\":{\"details\":\"Temporarily blocked\"}}]}}]}]}";
	struct wa_batch b;
	parse_ok(body, &b);
	assert_int_equal(b.n_errors, 4);
	assert_int_equal(b.first_error_code, 131031);
	assert_string_equal(b.first_error_title, "Account locked");
	assert_string_equal(b.first_error_details, "Business account locked");
	assert_int_equal(b.n_messages, 0);
	assert_int_equal(b.n_statuses, 0);
	wa_batch_release(&b);
}

static void test_ignores_unknown_fields_and_types(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value(
	    "{\"new_thing\":{\"a\":[1,2,{\"b\":null}]}," META ","
	    "\"contacts\":[{\"profile\":{\"name\":\"Sheena\",\"x\":1},\"wa_id\":\"16505551234\","
	    "\"identity_key_hash\":\"abc\",\"user_id\":\"US.1\"}],"
	    "\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.I1\",\"timestamp\":\"1\","
	    "\"type\":\"image\",\"image\":{\"id\":\"media1\",\"mime_type\":\"image/jpeg\"},"
	    "\"extra\":[true,false,null]},"
	    "{\"from\":\"16505551234\",\"id\":\"wamid.I2\",\"type\":\"unsupported\","
	    "\"errors\":[{\"code\":131051}]},"
	    "{\"from\":\"16505551234\",\"id\":\"wamid.I3\",\"type\":\"reaction\","
	    "\"reaction\":{\"message_id\":\"wamid.X\",\"emoji\":\"\\ud83d\\udc4d\"}}]}",
	    &b);
	assert_int_equal(b.n_messages, 3);
	assert_int_equal(b.n_skipped, 0);
	assert_string_equal(b.messages[0].type, "image");
	assert_null(b.messages[0].text);
	assert_string_equal(b.messages[0].profile_name, "Sheena");
	assert_string_equal(b.messages[1].type, "unsupported");
	assert_string_equal(b.messages[2].type, "reaction");
	assert_null(b.messages[2].text);
	wa_batch_release(&b);
}

static void test_skips_items_missing_required_fields(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value("{" META ",\"messages\":["
	            "{\"from\":\"16505551234\",\"type\":\"text\",\"text\":{\"body\":\"no id\"}},"
	            "{\"id\":\"\",\"from\":\"16505551234\"},"
	            "{\"id\":null,\"from\":\"16505551234\"},"
	            "{\"id\":\"wamid.OK\"}],"
	            "\"statuses\":[{\"status\":\"sent\"},{\"id\":\"wamid.S\"},"
	            "{\"id\":\"wamid.S\",\"status\":\"\"},{\"id\":\"wamid.S\",\"status\":null},"
	            "{\"id\":\"wamid.S2\",\"status\":\"sent\"}]}",
	            &b);
	assert_int_equal(b.n_messages, 1);
	assert_int_equal(b.n_statuses, 1);
	assert_int_equal(b.n_skipped, 7);
	/* Only the id: everything else NULL or 0. */
	const struct wa_message *m = &b.messages[0];
	assert_string_equal(m->id, "wamid.OK");
	assert_null(m->from);
	assert_null(m->wa_id);
	assert_null(m->profile_name);
	assert_null(m->type);
	assert_null(m->text);
	assert_null(m->context_id);
	assert_true(m->timestamp == 0);
	assert_string_equal(m->phone_number_id, "106540352242922");
	const struct wa_status *s = &b.statuses[0];
	assert_string_equal(s->id, "wamid.S2");
	assert_null(s->recipient_id);
	assert_true(s->timestamp == 0);
	wa_batch_release(&b);
}

static void test_missing_containers_are_empty_or_skipped(void **state)
{
	(void)state;
	const struct {
		const char *body;
		size_t skipped;
	} cases[] = {
	    {"{}", 0},
	    {"{\"object\":\"whatsapp_business_account\"}", 0},
	    {"{\"object\":\"whatsapp_business_account\",\"entry\":[]}", 0},
	    {"{\"entry\":null}", 0},
	    {"{\"entry\":[{}]}", 1},
	    {"{\"entry\":[{\"changes\":[]}]}", 0},
	    {"{\"entry\":[{\"changes\":[{}]}]}", 1},
	    {"{\"entry\":[{\"changes\":[{\"field\":\"messages\"}]}]}", 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":{}}]}]}", 0},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[]}}]}]}", 0},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"metadata\":{}}}]}]}", 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct wa_batch b;
		parse_ok(cases[i].body, &b);
		if (b.n_messages || b.n_statuses || b.n_errors || b.n_skipped != cases[i].skipped) {
			print_error("case %zu: %zu messages, %zu statuses, %zu skipped\n", i,
			            b.n_messages, b.n_statuses, b.n_skipped);
			fail();
		}
		wa_batch_release(&b);
	}
}

static void test_wrong_types_never_crash(void **state)
{
	(void)state;
	const struct {
		const char *body;
		size_t messages, statuses, skipped;
	} cases[] = {
	    {"{\"object\":42}", 0, 0, 0},
	    {"{\"entry\":{}}", 0, 0, 1},
	    {"{\"entry\":\"x\"}", 0, 0, 1},
	    {"{\"entry\":[1,\"a\",null,[],true]}", 0, 0, 5},
	    {"{\"entry\":[{\"changes\":{}}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[1,null,\"v\",[]]}]}", 0, 0, 4},
	    {"{\"entry\":[{\"changes\":[{\"value\":[]}]}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":\"v\"}]}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":{}}}]}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":7}}]}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"errors\":\"e\"}}]}]}", 0, 0, 1},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[1,\"m\",null,[],{}]}}]}]}", 0, 0,
	     5},
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"statuses\":[false,{}]}}]}]}", 0, 0, 2},
	    /* id of the wrong type */
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"id\":5}],"
	     "\"statuses\":[{\"id\":{},\"status\":\"sent\"},{\"id\":\"w\",\"status\":1}]}}]}]}",
	     0, 0, 3},
	    /* from, recipient_id, context.id, from_user_id of the wrong type */
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"id\":\"w\",\"from\":"
	     "16505551234},{\"id\":\"w\",\"context\":{\"id\":1}},{\"id\":\"w\","
	     "\"from_user_id\":[]}],\"statuses\":[{\"id\":\"w\",\"status\":\"sent\","
	     "\"recipient_id\":16505551234}]}}]}]}",
	     0, 0, 4},
	    /* optional fields of the wrong type: the item stays */
	    {"{\"entry\":[{\"changes\":[{\"value\":{\"metadata\":[],\"contacts\":{},"
	     "\"messages\":[{\"id\":\"w\",\"from\":\"1\",\"timestamp\":true,\"type\":7,"
	     "\"text\":\"hi\",\"context\":\"c\",\"button\":[]},{\"id\":\"w2\",\"type\":\"text\","
	     "\"text\":{\"body\":{}}},{\"id\":\"w3\",\"type\":\"button\",\"button\":{\"text\":1,"
	     "\"payload\":2}},{\"id\":\"w4\",\"type\":\"interactive\",\"interactive\":{"
	     "\"button_reply\":\"x\",\"list_reply\":[]}}],"
	     "\"statuses\":[{\"id\":\"w\",\"status\":\"sent\",\"timestamp\":{},"
	     "\"biz_opaque_callback_data\":5,\"errors\":[{\"code\":{}}]}]}}]}]}",
	     4, 1, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct wa_batch b;
		parse_ok(cases[i].body, &b);
		if (b.n_messages != cases[i].messages || b.n_statuses != cases[i].statuses ||
		    b.n_skipped != cases[i].skipped) {
			print_error("case %zu: %zu messages, %zu statuses, %zu skipped\n", i,
			            b.n_messages, b.n_statuses, b.n_skipped);
			fail();
		}
		for (size_t k = 0; k < b.n_messages; k++) {
			assert_non_null(b.messages[k].id);
			assert_null(b.messages[k].text);
			assert_null(b.messages[k].button_payload);
			assert_null(b.messages[k].phone_number_id);
			assert_true(b.messages[k].timestamp == 0);
		}
		wa_batch_release(&b);
	}
}

static void test_timestamps(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value("{\"statuses\":["
	            "{\"id\":\"a\",\"status\":\"sent\",\"timestamp\":\"1750857384\"},"
	            "{\"id\":\"b\",\"status\":\"sent\",\"timestamp\":1750857384},"
	            "{\"id\":\"c\",\"status\":\"sent\",\"timestamp\":\"-5\"},"
	            "{\"id\":\"d\",\"status\":\"sent\",\"timestamp\":\"+5\"},"
	            "{\"id\":\"e\",\"status\":\"sent\",\"timestamp\":\" 5\"},"
	            "{\"id\":\"f\",\"status\":\"sent\",\"timestamp\":\"12abc\"},"
	            "{\"id\":\"g\",\"status\":\"sent\",\"timestamp\":\"\"},"
	            "{\"id\":\"h\",\"status\":\"sent\",\"timestamp\":\"99999999999999999999\"},"
	            "{\"id\":\"i\",\"status\":\"sent\",\"timestamp\":99999999999999999999},"
	            "{\"id\":\"j\",\"status\":\"sent\",\"timestamp\":-1},"
	            "{\"id\":\"k\",\"status\":\"sent\",\"timestamp\":1.75e9},"
	            "{\"id\":\"l\",\"status\":\"sent\",\"timestamp\":\"253402300800\"}]}",
	            &b);
	assert_int_equal(b.n_statuses, 12);
	assert_true(b.statuses[0].timestamp == 1750857384LL);
	assert_true(b.statuses[1].timestamp == 1750857384LL);
	for (size_t i = 2; i < 12; i++) {
		if (b.statuses[i].timestamp != 0) {
			print_error("status %s: timestamp %lld\n", b.statuses[i].id,
			            b.statuses[i].timestamp);
			fail();
		}
	}
	wa_batch_release(&b);
}

static void test_matches_contacts(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value(
	    "{\"contacts\":[{\"profile\":{\"name\":\"Ana\"},\"wa_id\":\"111\"},"
	    "{\"profile\":{\"name\":\"Bo\"},\"wa_id\":\"222\"},"
	    "{\"profile\":{\"name\":\"Cy\"},\"user_id\":\"US.13491208655302741918\"}],"
	    "\"messages\":[{\"id\":\"m1\",\"from\":\"222\"},{\"id\":\"m2\",\"from\":\"111\"},"
	    "{\"id\":\"m3\",\"from\":\"333\"},"
	    "{\"id\":\"m4\",\"from_user_id\":\"US.13491208655302741918\"},"
	    "{\"id\":\"m5\"}]}",
	    &b);
	assert_int_equal(b.n_messages, 5);
	assert_string_equal(b.messages[0].profile_name, "Bo");
	assert_string_equal(b.messages[0].wa_id, "222");
	assert_string_equal(b.messages[1].profile_name, "Ana");
	/* No contact for 333: wa_id is from, no name. */
	assert_string_equal(b.messages[2].wa_id, "333");
	assert_null(b.messages[2].profile_name);
	/* A username user: matched by user_id, no phone number. */
	assert_null(b.messages[3].from);
	assert_string_equal(b.messages[3].from_user_id, "US.13491208655302741918");
	assert_string_equal(b.messages[3].profile_name, "Cy");
	assert_null(b.messages[3].wa_id);
	/* Neither from nor a single contact: nothing to match. */
	assert_null(b.messages[4].profile_name);
	assert_null(b.messages[4].wa_id);
	wa_batch_release(&b);

	/* One contact and a message without from: that contact is the sender. */
	parse_value("{\"contacts\":[{\"profile\":{\"name\":\"Di\"},\"wa_id\":\"444\"}],"
	            "\"messages\":[{\"id\":\"m1\"}]}",
	            &b);
	assert_string_equal(b.messages[0].wa_id, "444");
	assert_string_equal(b.messages[0].profile_name, "Di");
	wa_batch_release(&b);

	/* One contact with another number: from wins, the name is not borrowed. */
	parse_value("{\"contacts\":[{\"profile\":{\"name\":\"Ed\"},\"wa_id\":\"525512345678\"}],"
	            "\"messages\":[{\"id\":\"m1\",\"from\":\"5215512345678\"}]}",
	            &b);
	assert_string_equal(b.messages[0].wa_id, "5215512345678");
	assert_null(b.messages[0].profile_name);
	wa_batch_release(&b);
}

static void test_object_other_than_whatsapp_is_ignored(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_ok("{\"object\":\"page\",\"entry\":[{\"changes\":[{\"value\":{\"messages\":"
	         "[{\"id\":\"m1\",\"from\":\"1\"}]}}]}]}",
	         &b);
	assert_int_equal(b.other_object, 1);
	assert_int_equal(b.n_messages, 0);
	assert_int_equal(b.n_skipped, 0);
	wa_batch_release(&b);
	/* Without "object" the entries are read. */
	parse_ok("{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"id\":\"m1\"}]}}]}]}", &b);
	assert_int_equal(b.other_object, 0);
	assert_int_equal(b.n_messages, 1);
	wa_batch_release(&b);
}

static void test_rejects_invalid_json(void **state)
{
	(void)state;
	size_t n = strlen(text_body);
	/* Every proper prefix of a real body is truncated JSON. */
	for (size_t len = 0; len < n; len++)
		assert_rejected(text_body, len);
	const char *cases[] = {
	    "[]",
	    "[{\"object\":\"whatsapp_business_account\"}]",
	    "\"text\"",
	    "42",
	    "null",
	    "",
	    "   ",
	    "{\"a\":1,}",
	    "{'a':1}",
	    "{\"a\":NaN}",
	    "{} {}",
	    "{\"entry\":[}",
	    "{\"a\":\"\xff\"}", /* not UTF-8 */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_rejected(cases[i], strlen(cases[i]));
	assert_rejected("{\"a\":\"x\0\"}", 9);
	/* Nested deeper than JSON_MAX_DEPTH. */
	struct buf b = BUF_INIT(4096);
	for (int i = 0; i < 40; i++)
		buf_puts(&b, "{\"a\":");
	buf_puts(&b, "1");
	for (int i = 0; i < 40; i++)
		buf_puts(&b, "}");
	assert_rejected(buf_str(&b), b.len);
	buf_release(&b);
}

static void test_rejects_null_body_and_allows_null_err(void **state)
{
	(void)state;
	struct wa_batch b;
	char *err = NULL;
	assert_int_equal(wa_batch_parse(NULL, 0, &b, &err), -1);
	assert_non_null(err);
	free(err);
	assert_int_equal(wa_batch_parse("{", 1, &b, NULL), -1);
	assert_int_equal(b.n_messages, 0);
	assert_int_equal(wa_batch_parse("{}", 2, &b, NULL), 0);
	wa_batch_release(&b);
}

/* A message whose text.body is prefix + n copies of ch. */
static char *text_message(const char *id, const char *prefix, size_t n, char ch)
{
	char *fill = xmalloc(n + 1);
	memset(fill, ch, n);
	fill[n] = '\0';
	char *v = xasprintf("{\"messages\":[{\"id\":\"%s\",\"type\":\"text\",\"text\":{\"body\":"
	                    "\"%s%s\"}}]}",
	                    id, prefix, fill);
	char *body = wrap(v);
	free(fill);
	free(v);
	return body;
}

static void test_truncates_text_at_utf8_boundary(void **state)
{
	(void)state;
	struct wa_batch b;
	char *body = text_message("m", "", 5000, 'a');
	parse_ok(body, &b);
	assert_int_equal(strlen(b.messages[0].text), WA_TEXT_MAX);
	wa_batch_release(&b);
	free(body);

	/* 4095 'a' then "\xc3\xa9" (é, bytes 4095-4096): the é does not fit. */
	char *pre = xmalloc(WA_TEXT_MAX);
	memset(pre, 'a', WA_TEXT_MAX - 1);
	pre[WA_TEXT_MAX - 1] = '\0';
	char *v = xasprintf("{\"messages\":[{\"id\":\"m\",\"type\":\"text\",\"text\":{\"body\":"
	                    "\"%s\xc3\xa9zzz\"}}]}",
	                    pre);
	body = wrap(v);
	parse_ok(body, &b);
	assert_int_equal(strlen(b.messages[0].text), WA_TEXT_MAX - 1);
	assert_true(str_is_utf8(b.messages[0].text, strlen(b.messages[0].text)));
	wa_batch_release(&b);
	free(body);
	free(v);

	/* 4094 'a' then "\xe2\x82\xac" (euro, bytes 4094-4096). */
	pre[WA_TEXT_MAX - 2] = '\0';
	v = xasprintf("{\"messages\":[{\"id\":\"m\",\"type\":\"text\",\"text\":{\"body\":"
	              "\"%s\xe2\x82\xac\"}}]}",
	              pre);
	body = wrap(v);
	parse_ok(body, &b);
	assert_int_equal(strlen(b.messages[0].text), WA_TEXT_MAX - 2);
	wa_batch_release(&b);
	free(body);
	free(v);

	/* Exactly WA_TEXT_MAX bytes ending in a whole 2-byte character: kept whole. */
	pre[WA_TEXT_MAX - 2] = '\0';
	v = xasprintf("{\"messages\":[{\"id\":\"m\",\"type\":\"text\",\"text\":{\"body\":"
	              "\"%s\xc3\xa9\"}}]}",
	              pre);
	body = wrap(v);
	parse_ok(body, &b);
	assert_int_equal(strlen(b.messages[0].text), WA_TEXT_MAX);
	wa_batch_release(&b);
	free(body);
	free(v);
	free(pre);
}

static void test_bounds_ids_and_payloads(void **state)
{
	(void)state;
	char id256[WA_ID_MAX + 1], id257[WA_ID_MAX + 2];
	memset(id256, 'i', WA_ID_MAX);
	id256[WA_ID_MAX] = '\0';
	memset(id257, 'i', WA_ID_MAX + 1);
	id257[WA_ID_MAX + 1] = '\0';
	char *pay1024 = xmalloc(WA_PAYLOAD_MAX + 1), *pay1025 = xmalloc(WA_PAYLOAD_MAX + 2);
	memset(pay1024, 'p', WA_PAYLOAD_MAX);
	pay1024[WA_PAYLOAD_MAX] = '\0';
	memset(pay1025, 'p', WA_PAYLOAD_MAX + 1);
	pay1025[WA_PAYLOAD_MAX + 1] = '\0';
	char name[400];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';

	char *v = xasprintf(
	    "{\"metadata\":{\"phone_number_id\":\"%s\"},"
	    "\"contacts\":[{\"profile\":{\"name\":\"%s\"},\"wa_id\":\"1\"}],\"messages\":["
	    "{\"id\":\"%s\",\"from\":\"1\",\"type\":\"button\",\"button\":{\"payload\":\"%s\"}},"
	    "{\"id\":\"%s\"},"
	    "{\"id\":\"ok2\",\"from\":\"%s\"},"
	    "{\"id\":\"ok3\",\"context\":{\"id\":\"%s\"}},"
	    "{\"id\":\"ok4\",\"type\":\"button\",\"button\":{\"payload\":\"%s\"}},"
	    "{\"id\":\"ok5\",\"from\":\"1\\u00002\"},"
	    "{\"id\":\"ok6\\u0000\"},"
	    "{\"id\":\"ok7\",\"type\":\"text\",\"text\":{\"body\":\"cut\\u0000here\"}}],"
	    "\"statuses\":[{\"id\":\"%s\",\"status\":\"sent\"},"
	    "{\"id\":\"s2\",\"status\":\"sent\",\"recipient_id\":\"%s\"},"
	    "{\"id\":\"s3\",\"status\":\"sent\",\"biz_opaque_callback_data\":\"%s\"},"
	    "{\"id\":\"s4\",\"status\":\"%s\"}]}",
	    id257, name, id256, pay1024, id257, id257, id257, pay1025, id256, id257, pay1025, name);
	struct wa_batch b;
	parse_value(v, &b);
	free(v);
	/* Kept: the 256-byte id, ok4 (payload dropped), ok7 (text cut at the NUL). */
	assert_int_equal(b.n_messages, 3);
	assert_string_equal(b.messages[0].id, id256);
	assert_string_equal(b.messages[0].button_payload, pay1024);
	assert_int_equal(strlen(b.messages[0].profile_name), WA_SHORT_MAX);
	assert_null(b.messages[0].phone_number_id); /* 257 bytes: as if absent */
	assert_string_equal(b.messages[1].id, "ok4");
	assert_null(b.messages[1].button_payload);
	assert_string_equal(b.messages[2].id, "ok7");
	assert_string_equal(b.messages[2].text, "cut");
	assert_int_equal(b.n_statuses, 3);
	assert_string_equal(b.statuses[0].id, id256);
	assert_string_equal(b.statuses[1].id, "s3");
	assert_null(b.statuses[1].callback_data);
	assert_string_equal(b.statuses[2].id, "s4");
	assert_int_equal(strlen(b.statuses[2].status), WA_SHORT_MAX);
	/* Skipped: 257-byte id, from, context.id, recipient_id, the NULs in ids. */
	assert_int_equal(b.n_skipped, 6);
	wa_batch_release(&b);
	free(pay1024);
	free(pay1025);
}

/* body refused as over a limit, with err naming it. */
static void assert_over_limit(const char *body, const char *limit_name)
{
	struct wa_batch b;
	char *err = NULL;
	int r = wa_batch_parse(body, strlen(body), &b, &err);
	if (r != WA_TOO_MANY)
		print_error("%s: got %d (%s)\n", limit_name, r, err ? err : "no error");
	assert_int_equal(r, WA_TOO_MANY);
	assert_non_null(err);
	if (!strstr(err, limit_name))
		print_error("'%s' does not name %s\n", err, limit_name);
	assert_non_null(strstr(err, limit_name));
	assert_null(b.messages);
	assert_null(b.statuses);
	assert_int_equal(b.n_messages + b.n_statuses + b.n_skipped + b.n_errors, 0);
	free(err);
	wa_batch_release(&b);
}

/* n copies of item, comma-separated, into v. */
static void repeat(struct buf *v, const char *item, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(v, "%s%s", i ? "," : "", item);
}

/* A body whose only value is {"<name>":[n items]} (plus extra members before it). */
static char *value_with(const char *extra, const char *name, const char *item, size_t n)
{
	struct buf v = BUF_INIT(1 << 24);
	buf_printf(&v, "{%s\"%s\":[", extra, name);
	repeat(&v, item, n);
	buf_puts(&v, "]}");
	char *body = wrap(buf_str(&v));
	buf_release(&v);
	return body;
}

static void test_refuses_arrays_over_their_limits(void **state)
{
	(void)state;
	const struct {
		const char *extra, *name, *item;
		size_t max;
		const char *limit;
	} cases[] = {
	    {"", "messages", "{\"id\":\"m\",\"from\":\"1\"}", WA_MAX_MESSAGES, "WA_MAX_MESSAGES"},
	    {"", "statuses", "{\"id\":\"s\",\"status\":\"sent\"}", WA_MAX_STATUSES,
	     "WA_MAX_STATUSES"},
	    {"", "contacts", "{\"wa_id\":\"1\"}", WA_MAX_CONTACTS, "WA_MAX_CONTACTS"},
	    {"\"messages\":[{\"id\":\"m\",\"from\":\"1\"}],", "contacts", "{\"wa_id\":\"1\"}",
	     WA_MAX_CONTACTS, "WA_MAX_CONTACTS"},
	    {"", "errors", "{\"code\":1}", WA_MAX_ERRORS, "WA_MAX_ERRORS"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		/* At the limit: read. */
		char *body = value_with(cases[i].extra, cases[i].name, cases[i].item, cases[i].max);
		struct wa_batch b;
		parse_ok(body, &b);
		assert_int_equal(b.n_messages + b.n_statuses + b.n_errors,
		                 strcmp(cases[i].name, "contacts") == 0 ? (*cases[i].extra ? 1 : 0)
		                                                        : cases[i].max);
		wa_batch_release(&b);
		free(body);
		/* One more: the whole body refused, naming the limit. */
		body = value_with(cases[i].extra, cases[i].name, cases[i].item, cases[i].max + 1);
		assert_over_limit(body, cases[i].limit);
		free(body);
	}

	/* The errors of the statuses count too, towards the same limit. */
	struct buf v = BUF_INIT(1 << 22);
	buf_puts(&v, "{\"statuses\":[{\"id\":\"s\",\"status\":\"failed\",\"errors\":[");
	repeat(&v, "{\"code\":131047}", WA_MAX_ERRORS + 1);
	buf_puts(&v, "]}]}");
	char *body = wrap(buf_str(&v));
	assert_over_limit(body, "WA_MAX_ERRORS");
	free(body);
	buf_release(&v);

	/* Limits hold for the body, not for each array: two values of 3000 messages each. */
	v = (struct buf)BUF_INIT(1 << 22);
	buf_puts(&v, "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[");
	for (int k = 0; k < 2; k++) {
		buf_printf(&v, "%s{\"value\":{\"messages\":[", k ? "," : "");
		repeat(&v, "{\"id\":\"m\",\"from\":\"1\"}", WA_MAX_MESSAGES / 2 + 500);
		buf_puts(&v, "]}}");
	}
	buf_puts(&v, "]}]}");
	assert_over_limit(buf_str(&v), "WA_MAX_MESSAGES");
	buf_release(&v);

	/* Entries, and changes over all entries. */
	v = (struct buf)BUF_INIT(1 << 22);
	buf_puts(&v, "{\"entry\":[");
	repeat(&v, "{}", WA_MAX_ENTRIES + 1);
	buf_puts(&v, "]}");
	assert_over_limit(buf_str(&v), "WA_MAX_ENTRIES");
	buf_release(&v);
	v = (struct buf)BUF_INIT(1 << 22);
	buf_puts(&v, "{\"entry\":[{\"changes\":[");
	repeat(&v, "{}", WA_MAX_CHANGES / 2 + 1);
	buf_puts(&v, "]},{\"changes\":[");
	repeat(&v, "{}", WA_MAX_CHANGES / 2);
	buf_puts(&v, "]}]}");
	assert_over_limit(buf_str(&v), "WA_MAX_CHANGES");
	buf_release(&v);

	/* JSON values anywhere, even in fields nobody reads: refused before they are built. */
	body = value_with("", "pad", "0", WA_MAX_VALUES);
	assert_over_limit(body, "WA_MAX_VALUES");
	free(body);

	/* The report's body: 5,000 messages and 274,000 contacts, refused at once. */
	v = (struct buf)BUF_INIT(1 << 24);
	buf_puts(&v, "{\"messages\":[");
	for (int i = 0; i < 5000; i++)
		buf_printf(&v, "%s{\"id\":\"m%d\",\"from\":\"1555%07d\"}", i ? "," : "", i, i);
	buf_puts(&v, "],\"contacts\":[");
	repeat(&v, "{\"wa_id\":\"9\"}", 274000);
	buf_puts(&v, "]}");
	body = wrap(buf_str(&v));
	struct wa_batch b;
	char *err = NULL;
	assert_int_equal(wa_batch_parse(body, strlen(body), &b, &err), WA_TOO_MANY);
	assert_non_null(strstr(err, "WA_MAX_VALUES"));
	free(err);
	free(body);
	buf_release(&v);
}

/* contacts as a json array, indexed; the caller releases both. */
static struct json_object *contacts_of(const char *json, struct contact_index *ix)
{
	struct json_object *arr = json_tokener_parse(json);
	assert_non_null(arr);
	contact_index_init(ix, arr);
	return arr;
}

static const char *name_of(struct json_object *c)
{
	struct json_object *p = json_member(c, "profile", json_type_object);
	struct json_object *n = json_member(p, "name", json_type_string);
	return n ? json_object_get_string(n) : NULL;
}

static void test_contact_index(void **state)
{
	(void)state;
	struct contact_index ix;
	struct json_object *arr =
	    contacts_of("[{\"wa_id\":\"222\",\"profile\":{\"name\":\"first 222\"}},"
	                "{\"wa_id\":\"111\",\"profile\":{\"name\":\"111\"}},"
	                "{\"wa_id\":\"222\",\"profile\":{\"name\":\"second 222\"}},"
	                "{\"wa_id\":\"2220\",\"profile\":{\"name\":\"2220\"}},"
	                "{\"wa_id\":\"22\",\"profile\":{\"name\":\"22\"}},"
	                "{\"wa_id\":\"333\\u0000x\",\"profile\":{\"name\":\"nul\"}},"
	                "{\"wa_id\":333,\"profile\":{\"name\":\"number\"}},"
	                "{\"user_id\":\"US.1\",\"profile\":{\"name\":\"user 1\"}},"
	                "\"not an object\",null]",
	                &ix);
	/* Equal keys: the first in contacts[] wins, as the linear scan did. */
	assert_string_equal(name_of(contact_index_find(&ix, "222", NULL)), "first 222");
	assert_string_equal(name_of(contact_index_find(&ix, "111", NULL)), "111");
	/* Prefixes are other keys. */
	assert_string_equal(name_of(contact_index_find(&ix, "2220", NULL)), "2220");
	assert_string_equal(name_of(contact_index_find(&ix, "22", NULL)), "22");
	assert_null(contact_index_find(&ix, "2", NULL));
	/* A key with a NUL in it, or of another type, matches nothing. */
	assert_null(contact_index_find(&ix, "333", NULL));
	/* from first, then from_user_id; no from and several contacts: nobody. */
	assert_string_equal(name_of(contact_index_find(&ix, "999", "US.1")), "user 1");
	assert_string_equal(name_of(contact_index_find(&ix, "111", "US.1")), "111");
	assert_string_equal(name_of(contact_index_find(&ix, NULL, "US.1")), "user 1");
	assert_null(contact_index_find(&ix, NULL, "US.2"));
	assert_null(contact_index_find(&ix, NULL, NULL));
	contact_index_release(&ix);
	json_object_put(arr);

	/* One contact and no from: that one. None at all: nothing. */
	arr = contacts_of("[{\"wa_id\":\"444\",\"profile\":{\"name\":\"only\"}}]", &ix);
	assert_string_equal(name_of(contact_index_find(&ix, NULL, NULL)), "only");
	assert_null(contact_index_find(&ix, "555", NULL));
	contact_index_release(&ix);
	json_object_put(arr);
	contact_index_init(&ix, NULL);
	assert_null(contact_index_find(&ix, "444", "US.1"));
	contact_index_release(&ix);

	/* Many contacts in reverse order: each number finds its own. */
	struct buf v = BUF_INIT(1 << 22);
	buf_puts(&v, "[");
	for (int i = WA_MAX_CONTACTS - 1; i >= 0; i--)
		buf_printf(&v, "{\"wa_id\":\"1555%07d\",\"profile\":{\"name\":\"n%d\"}}%s", i, i,
		           i ? "," : "");
	buf_puts(&v, "]");
	arr = contacts_of(buf_str(&v), &ix);
	for (int i = 0; i < WA_MAX_CONTACTS; i++) {
		char num[16], name[16];
		snprintf(num, sizeof(num), "1555%07d", i);
		snprintf(name, sizeof(name), "n%d", i);
		assert_string_equal(name_of(contact_index_find(&ix, num, NULL)), name);
	}
	assert_null(contact_index_find(&ix, "15550005000", NULL));
	contact_index_release(&ix);
	json_object_put(arr);
	buf_release(&v);
}

static void test_number_valid(void **state)
{
	(void)state;
	assert_true(wa_number_valid("1"));
	assert_true(wa_number_valid("16505551234"));
	assert_true(wa_number_valid("123456789012345"));
	assert_false(wa_number_valid("1234567890123456")); /* 16 digits */
	assert_false(wa_number_valid(""));
	assert_false(wa_number_valid(NULL));
	assert_false(wa_number_valid("+16505551234"));
	assert_false(wa_number_valid("1650555 1234"));
	assert_false(wa_number_valid("16505551234\n"));
	assert_false(wa_number_valid("\xef\xbc\x91\xef\xbc\x96\xef\xbc\x95")); /* fullwidth 165 */
	assert_false(wa_number_valid("\xd9\xa1\xd9\xa2"));                     /* Arabic-Indic 12 */
	assert_false(wa_number_valid("US.13491208655302741918"));
}

static void test_drops_items_whose_numbers_are_not_digits(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_value("{" META ",\"contacts\":[{\"wa_id\":\"\xef\xbc\x91\",\"profile\":"
	            "{\"name\":\"Wide\"}},{\"wa_id\":\"1\\n2\",\"user_id\":\"US.7\"}],"
	            "\"messages\":["
	            "{\"id\":\"wide\",\"from\":\"\xef\xbc\x91\xef\xbc\x95\xef\xbc\x95\"},"
	            "{\"id\":\"plus\",\"from\":\"+15550000001\"},"
	            "{\"id\":\"newline\",\"from\":\"1555\\n0000001\"},"
	            "{\"id\":\"long\",\"from\":\"1234567890123456\"},"
	            "{\"id\":\"ok\",\"from\":\"123456789012345\"},"
	            "{\"id\":\"user\",\"from_user_id\":\"US.7\"}],"
	            "\"statuses\":["
	            "{\"id\":\"s-wide\",\"status\":\"read\",\"recipient_id\":\"\xef\xbc\x91\"},"
	            "{\"id\":\"s-cr\",\"status\":\"read\",\"recipient_id\":\"1\\r\"},"
	            "{\"id\":\"s-none\",\"status\":\"read\"},"
	            "{\"id\":\"s-ok\",\"status\":\"read\",\"recipient_id\":\"15550000001\"}]}",
	            &b);
	assert_int_equal(b.n_bad_numbers, 6);
	assert_int_equal(b.n_skipped, 0);
	assert_int_equal(b.n_messages, 2);
	assert_string_equal(b.messages[0].id, "ok");
	assert_string_equal(b.messages[0].wa_id, "123456789012345");
	/* A username user has no number; its contact's wa_id is not one: none kept. */
	assert_string_equal(b.messages[1].id, "user");
	assert_null(b.messages[1].from);
	assert_null(b.messages[1].wa_id);
	assert_int_equal(b.n_statuses, 2);
	assert_string_equal(b.statuses[0].id, "s-none");
	assert_string_equal(b.statuses[1].id, "s-ok");
	wa_batch_release(&b);

	/* The only contact's wa_id is not a number: the sender's number is from. */
	parse_value("{\"contacts\":[{\"wa_id\":\"\xef\xbc\x91\"}],"
	            "\"messages\":[{\"id\":\"m\",\"from\":\"1\"}]}",
	            &b);
	assert_string_equal(b.messages[0].wa_id, "1");
	wa_batch_release(&b);
}

static void test_release_is_safe_twice(void **state)
{
	(void)state;
	struct wa_batch b;
	parse_ok(text_body, &b);
	wa_batch_release(&b);
	assert_null(b.messages);
	assert_int_equal(b.n_messages, 0);
	wa_batch_release(&b);
	wa_batch_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_text_message),
	    cmocka_unit_test(test_reads_template_button_reply),
	    cmocka_unit_test(test_reads_interactive_replies),
	    cmocka_unit_test(test_reads_several_entries_changes_and_statuses),
	    cmocka_unit_test(test_reads_failed_status_errors),
	    cmocka_unit_test(test_reads_account_level_errors),
	    cmocka_unit_test(test_ignores_unknown_fields_and_types),
	    cmocka_unit_test(test_skips_items_missing_required_fields),
	    cmocka_unit_test(test_missing_containers_are_empty_or_skipped),
	    cmocka_unit_test(test_wrong_types_never_crash),
	    cmocka_unit_test(test_timestamps),
	    cmocka_unit_test(test_matches_contacts),
	    cmocka_unit_test(test_object_other_than_whatsapp_is_ignored),
	    cmocka_unit_test(test_rejects_invalid_json),
	    cmocka_unit_test(test_rejects_null_body_and_allows_null_err),
	    cmocka_unit_test(test_truncates_text_at_utf8_boundary),
	    cmocka_unit_test(test_bounds_ids_and_payloads),
	    cmocka_unit_test(test_refuses_arrays_over_their_limits),
	    cmocka_unit_test(test_contact_index),
	    cmocka_unit_test(test_number_valid),
	    cmocka_unit_test(test_drops_items_whose_numbers_are_not_digits),
	    cmocka_unit_test(test_release_is_safe_twice),
	};
	return cmocka_run_group_tests_name("waevent", tests, NULL, NULL);
}
