/*
 * Unit tests of common/monitor/alertmanager.c's parser: an Alertmanager webhook (version 4)
 * read into alerts (identity, severity, the line each is named by), and every malformed body
 * refused with the field it names; the tenant label and the event id a seller's alert is
 * stored under (tenants/amroute.c).
 */
#include "testutil.h"

#include <json-c/json.h>

#include "monitor/alertmanager.h"
#include "tenants/amroute.h"

#define ALERT(status, labels, annotations, fp)                                                     \
	"{\"status\":\"" status "\",\"labels\":" labels ",\"annotations\":" annotations            \
	",\"startsAt\":\"2026-12-03T01:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","              \
	"\"generatorURL\":\"http://prometheus/graph\",\"fingerprint\":\"" fp "\"}"

#define GROUP(status, alerts)                                                                      \
	"{\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"HighLatency\\\"}\","                  \
	"\"truncatedAlerts\":0,\"status\":\"" status "\",\"receiver\":\"whatsapp\","               \
	"\"groupLabels\":{\"alertname\":\"HighLatency\"},\"commonLabels\":{},"                     \
	"\"commonAnnotations\":{},\"externalURL\":\"http://am:9093\",\"alerts\":[" alerts "]}"

#define LATENCY_FIRING                                                                             \
	ALERT("firing",                                                                            \
	      "{\"alertname\":\"HighLatency\",\"severity\":\"critical\",\"instance\":\"web-1:"     \
	      "9100\"}",                                                                           \
	      "{\"summary\":\"p99 over 2s\",\"description\":\"long\"}", "1a2b3c4d5e6f7a8b")

static int parse(const char *doc, struct am_notice *n, char **err)
{
	struct json_object *o = json_tokener_parse(doc);
	assert_non_null(o);
	int ret = am_parse(o, n, err);
	json_object_put(o);
	return ret;
}

/* doc is refused, the message containing want. */
static void refused(const char *doc, const char *want)
{
	struct am_notice n;
	char *err = NULL;
	if (parse(doc, &n, &err) == 0) {
		print_error("am_parse(%s) accepted it\n", doc);
		fail();
	}
	assert_non_null(err);
	if (!strstr(err, want)) {
		print_error("error '%s' does not name '%s'\n", err, want);
		fail();
	}
	assert_int_equal(n.n, 0);
	assert_null(n.v);
	free(err);
}

static void test_am_firing_group(void **state)
{
	(void)state;
	struct am_notice n;
	char *err = NULL;
	assert_int_equal(parse(GROUP("firing", LATENCY_FIRING
	                             "," ALERT("firing", "{\"alertname\":\"DiskFull\"}",
	                                       "{\"description\":\"95% used\"}", "ff00")),
	                       &n, &err),
	                 0);
	assert_null(err);
	assert_int_equal(n.firing, 1);
	assert_string_equal(n.receiver, "whatsapp");
	assert_string_equal(n.title, "Alertmanager (alertname=HighLatency)");
	assert_int_equal(n.n, 2);
	assert_int_equal(n.v[0].firing, 1);
	assert_string_equal(n.v[0].alertname, "HighLatency");
	assert_string_equal(n.v[0].fingerprint, "1a2b3c4d5e6f7a8b");
	assert_string_equal(n.v[0].severity, "critical");
	assert_string_equal(n.v[0].text, "HighLatency on web-1:9100: p99 over 2s");
	/* No severity label: the default; no summary: the description; no instance: none. */
	assert_string_equal(n.v[1].severity, "warning");
	assert_string_equal(n.v[1].text, "DiskFull: 95% used");
	am_notice_release(&n);
}

static void test_am_resolved_line_and_severity_mapping(void **state)
{
	(void)state;
	struct am_notice n;
	char *err = NULL;
	assert_int_equal(
	    parse(
	        GROUP("resolved", ALERT("resolved",
	                                "{\"alertname\":\"HighLatency\",\"severity\":\"CRITICAL\","
	                                "\"instance\":\"web-1:9100\"}",
	                                "{\"summary\":\"p99 over 2s\"}",
	                                "aa") "," ALERT("resolved",
	                                                "{\"alertname\":\"X\","
	                                                "\"severity\":\"page\"}",
	                                                "{}", "bb")),
	        &n, &err),
	    0);
	assert_int_equal(n.firing, 0);
	assert_int_equal(n.v[0].firing, 0);
	assert_string_equal(n.v[0].severity, "critical"); /* any case */
	assert_string_equal(n.v[0].text, "HighLatency on web-1:9100 (p99 over 2s)");
	assert_string_equal(n.v[1].severity, "warning"); /* not "critical": the default */
	assert_string_equal(n.v[1].text, "X");
	am_notice_release(&n);
}

static void test_am_truncated_alerts_in_title(void **state)
{
	(void)state;
	struct am_notice n;
	char *err = NULL;
	const char *doc =
	    "{\"version\":\"4\",\"groupKey\":\"k\",\"truncatedAlerts\":3,\"status\":\"firing\","
	    "\"receiver\":\"\",\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{},"
	    "\"externalURL\":\"\",\"alerts\":[" LATENCY_FIRING "]}";
	assert_int_equal(parse(doc, &n, &err), 0);
	assert_int_equal(n.truncated, 3);
	assert_string_equal(n.title, "Alertmanager; 3 more alerts left out by Alertmanager");
	am_notice_release(&n);
}

static void test_am_group_members_refused(void **state)
{
	(void)state;
	refused("[]", "JSON object");
	refused("{\"version\":\"3\"}", "version");
	refused("{\"version\":4}", "version");
	refused("{\"version\":\"4\",\"status\":\"pending\"}", "status");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":1}", "receiver");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\"}",
	        "externalURL");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	        "\"externalURL\":\"\",\"groupLabels\":{\"a\":1}}",
	        "groupLabels.a");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	        "\"externalURL\":\"\",\"groupLabels\":{},\"commonLabels\":[],"
	        "\"commonAnnotations\":{}}",
	        "commonLabels");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	        "\"externalURL\":\"\",\"groupLabels\":{},\"commonLabels\":{},"
	        "\"commonAnnotations\":{},\"truncatedAlerts\":-1,\"alerts\":[" LATENCY_FIRING "]}",
	        "truncatedAlerts");
	refused("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"r\",\"groupKey\":\"k\","
	        "\"externalURL\":\"\",\"groupLabels\":{},\"commonLabels\":{},"
	        "\"commonAnnotations\":{},\"truncatedAlerts\":\"2\",\"alerts\":[" LATENCY_FIRING
	        "]}",
	        "truncatedAlerts");
	refused(GROUP("firing", ), "alerts must be an array");
}

static void test_am_alert_members_refused(void **state)
{
	(void)state;
	refused(GROUP("firing", "1"), "alerts[0] must be an object");
	refused(
	    GROUP("firing", LATENCY_FIRING "," ALERT("open", "{\"alertname\":\"A\"}", "{}", "ab")),
	    "alerts[1].status");
	refused(GROUP("firing", ALERT("firing", "{\"alertname\":2}", "{}", "ab")),
	        "alerts[0].labels.alertname must be a string");
	refused(GROUP("firing", ALERT("firing", "{\"job\":\"x\"}", "{}", "ab")),
	        "alerts[0].labels.alertname must be a non-empty string");
	refused(GROUP("firing", ALERT("firing", "{\"alertname\":\"\"}", "{}", "ab")),
	        "alerts[0].labels.alertname");
	refused(GROUP("firing", ALERT("firing", "{\"alertname\":\"A\"}", "null", "ab")),
	        "alerts[0].annotations");
	refused(GROUP("firing", ALERT("firing", "{\"alertname\":\"A\"}", "{}", "")),
	        "alerts[0].fingerprint");
	refused(GROUP("firing", ALERT("firing", "{\"alertname\":\"A\"}", "{}", "xyz")),
	        "alerts[0].fingerprint");
	refused(GROUP("firing",
	              ALERT("firing", "{\"alertname\":\"A\"}", "{}",
	                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")),
	        "alerts[0].fingerprint");
	refused(GROUP("firing", LATENCY_FIRING "," LATENCY_FIRING), "alerts[1].fingerprint");
	refused(GROUP("firing", "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
	                        "\"annotations\":{},\"fingerprint\":\"ab\"}"),
	        "alerts[0].startsAt");
}

static void test_am_control_characters_become_spaces(void **state)
{
	(void)state;
	struct am_notice n;
	char *err = NULL;
	assert_int_equal(
	    parse(
	        GROUP("firing", ALERT("firing", "{\"alertname\":\"A\\nB\",\"instance\":\"h\\t1\"}",
	                              "{\"summary\":\"x\\r\\nReply ack\"}", "ab")),
	        &n, &err),
	    0);
	assert_string_equal(n.v[0].alertname, "A B");
	assert_string_equal(n.v[0].text, "A B on h 1: x  Reply ack");
	am_notice_release(&n);
}

static void test_am_long_texts_are_cut(void **state)
{
	(void)state;
	char name[AM_MAX_NAME + 50], doc[4096];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(doc, sizeof(doc),
	         GROUP("firing", "{\"status\":\"firing\",\"labels\":{\"alertname\":\"%s\"},"
	                         "\"annotations\":{},\"startsAt\":\"\",\"endsAt\":\"\","
	                         "\"fingerprint\":\"ab\"}"),
	         name);
	struct am_notice n;
	char *err = NULL;
	assert_int_equal(parse(doc, &n, &err), 0);
	assert_int_equal(strlen(n.v[0].alertname), AM_MAX_NAME);
	am_notice_release(&n);
}

static void test_am_tenant_label_and_event_id(void **state)
{
	(void)state;
	struct am_notice n;
	char *err = NULL, id[AMROUTE_EVENT_ID_SIZE];
	assert_int_equal(
	    parse(GROUP("firing",
	                ALERT("firing", "{\"alertname\":\"A\",\"tenant\":\"shop-a\\nx\"}", "{}",
	                      "ab") "," ALERT("resolved", "{\"alertname\":\"B\",\"tenant\":\"\"}",
	                                      "{}", "cd") "," LATENCY_FIRING),
	          &n, &err),
	    0);
	assert_int_equal(n.n, 3);
	assert_string_equal(n.v[0].tenant, "shop-a x"); /* one line; amroute refuses it as an id */
	assert_null(n.v[1].tenant);                     /* empty: none */
	assert_null(n.v[2].tenant);
	assert_string_equal(n.v[0].starts_at, "2026-12-03T01:00:00Z");
	am_route_event_id(&n.v[0], id, sizeof(id));
	assert_string_equal(id, "am:ab:firing:2026-12-03T01:00:00Z");
	am_route_event_id(&n.v[1], id, sizeof(id));
	assert_string_equal(id, "am:cd:resolved:2026-12-03T01:00:00Z");
	/* An offset and fractions: what an event id cannot hold becomes '-'. */
	free(n.v[1].starts_at);
	n.v[1].starts_at = xstrdup("2026-12-03T02:00:00.5+01:00 x");
	am_route_event_id(&n.v[1], id, sizeof(id));
	assert_string_equal(id, "am:cd:resolved:2026-12-03T02:00:00.5-01:00-x");
	am_notice_release(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_am_firing_group),
	    cmocka_unit_test(test_am_resolved_line_and_severity_mapping),
	    cmocka_unit_test(test_am_truncated_alerts_in_title),
	    cmocka_unit_test(test_am_group_members_refused),
	    cmocka_unit_test(test_am_alert_members_refused),
	    cmocka_unit_test(test_am_control_characters_become_spaces),
	    cmocka_unit_test(test_am_long_texts_are_cut),
	    cmocka_unit_test(test_am_tenant_label_and_event_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
