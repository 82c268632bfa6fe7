/*
 * Unit tests of common/tenants/eventstore.c's answer (event_answer, pure): what POST /events
 * says to one event or a batch given each item's verdict. The storing itself is proven
 * against PostgreSQL by tests/integration/test_events.sh.
 */
#include "testutil.h"

#include <json-c/json.h>

#include "tenants/event.h"
#include "tenants/eventstore.h"

#define ORDER(id, tenant)                                                                          \
	"{\"id\":\"" id "\",\"type\":\"order.placed\",\"tenant\":\"" tenant "\","                  \
	"\"occurred_at\":\"2026-12-02T14:05:00Z\",\"data\":{\"order_id\":\"1\",\"total\":"         \
	"{\"amount\":1,\"currency\":\"NGN\"},\"items\":1,\"customer\":{\"name\":\"Ada\"}}}"
#define NO_TOTAL                                                                                   \
	"{\"id\":\"e-m\",\"type\":\"order.placed\",\"tenant\":\"shop-a\","                         \
	"\"occurred_at\":\"2026-12-02T14:05:00Z\",\"data\":{\"order_id\":\"1\",\"items\":1,"       \
	"\"customer\":{\"name\":\"Ada\"}}}"

/* The answer to doc with verdicts v (items not ok must be EVENT_INVALID), parsed. */
static struct json_object *answer(const char *doc, const enum event_verdict *v, int *status)
{
	struct event_body b;
	char *field = NULL, *err = NULL;
	assert_int_equal(event_parse_body(doc, strlen(doc), &b, &field, &err), 0);
	char *s = event_answer(&b, v, status);
	struct json_object *o = json_tokener_parse(s);
	assert_non_null(o);
	free(s);
	event_body_release(&b);
	return o;
}

static const char *str_at(struct json_object *o, const char *path1, const char *path2)
{
	struct json_object *a = NULL, *b = NULL;
	assert_true(json_object_object_get_ex(o, path1, &a));
	assert_true(json_object_object_get_ex(a, path2, &b));
	return json_object_get_string(b);
}

static void test_eventstore_one_accepted(void **state)
{
	(void)state;
	enum event_verdict v[1] = {EVENT_ACCEPTED};
	int status = 0;
	struct json_object *o = answer(ORDER("e-1", "shop-a"), v, &status);
	assert_int_equal(status, 200);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                    "{\"accepted\":1,\"refused\":[]}");
	json_object_put(o);
}

static void test_eventstore_one_refused_is_its_error(void **state)
{
	(void)state;
	int status = 0;
	enum event_verdict v[1] = {EVENT_UNKNOWN_TENANT};
	struct json_object *o = answer(ORDER("e-1", "shop-x"), v, &status);
	assert_int_equal(status, 422);
	assert_string_equal(str_at(o, "error", "code"), "unknown_tenant");
	assert_string_equal(str_at(o, "error", "field"), "tenant");
	assert_string_equal(str_at(o, "error", "id"), "e-1");
	assert_contains(str_at(o, "error", "message"), "tenant shop-x");
	assert_false(json_object_object_get_ex(json_object_object_get(o, "error"), "index", NULL));
	json_object_put(o);

	v[0] = EVENT_TENANT_SUSPENDED;
	o = answer(ORDER("e-1", "shop-s"), v, &status);
	assert_int_equal(status, 422);
	assert_string_equal(str_at(o, "error", "code"), "tenant_suspended");
	json_object_put(o);

	v[0] = EVENT_INVALID;
	o = answer(NO_TOTAL, v, &status);
	assert_int_equal(status, 400);
	assert_string_equal(str_at(o, "error", "code"), "invalid_field");
	assert_string_equal(str_at(o, "error", "field"), "data.total");
	assert_int_equal(strncmp(str_at(o, "error", "message"), "data.total ", 11), 0);
	json_object_put(o);
}

static void test_eventstore_batch_lists_the_refused(void **state)
{
	(void)state;
	int status = 0;
	enum event_verdict v[4] = {EVENT_ACCEPTED, EVENT_INVALID, EVENT_TENANT_SUSPENDED,
	                           EVENT_ACCEPTED};
	struct json_object *o = answer("{\"events\":[" ORDER("e-1", "a") "," NO_TOTAL "," ORDER(
	                                   "e-3", "s") "," ORDER("e-4", "a") "]}",
	                               v, &status);
	assert_int_equal(status, 200);
	assert_false(json_object_object_get_ex(o, "error", NULL));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "accepted")), 2);
	struct json_object *r = json_object_object_get(o, "refused");
	assert_int_equal(json_object_array_length(r), 2);
	struct json_object *r0 = json_object_array_get_idx(r, 0),
	                   *r1 = json_object_array_get_idx(r, 1);
	assert_int_equal(json_object_get_int(json_object_object_get(r0, "index")), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(r0, "field")),
	                    "data.total");
	assert_false(
	    json_object_object_get_ex(r0, "id", NULL)); /* refused before its id was kept */
	assert_int_equal(json_object_get_int(json_object_object_get(r1, "index")), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(r1, "code")),
	                    "tenant_suspended");
	assert_string_equal(json_object_get_string(json_object_object_get(r1, "id")), "e-3");
	json_object_put(o);
}

static void test_eventstore_batch_all_refused_is_422(void **state)
{
	(void)state;
	int status = 0;
	enum event_verdict v[2] = {EVENT_UNKNOWN_TENANT, EVENT_INVALID};
	struct json_object *o =
	    answer("{\"events\":[" ORDER("e-1", "x") "," NO_TOTAL "]}", v, &status);
	assert_int_equal(status, 422);
	assert_string_equal(str_at(o, "error", "code"), "all_refused");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "accepted")), 0);
	assert_int_equal(json_object_array_length(json_object_object_get(o, "refused")), 2);
	json_object_put(o);

	/* A batch of one is still a batch: its answer lists the item with its index. */
	enum event_verdict one[1] = {EVENT_UNKNOWN_TENANT};
	o = answer("{\"events\":[" ORDER("e-1", "x") "]}", one, &status);
	assert_int_equal(status, 422);
	assert_string_equal(str_at(o, "error", "code"), "all_refused");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eventstore_one_accepted),
	    cmocka_unit_test(test_eventstore_one_refused_is_its_error),
	    cmocka_unit_test(test_eventstore_batch_lists_the_refused),
	    cmocka_unit_test(test_eventstore_batch_all_refused_is_422),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
