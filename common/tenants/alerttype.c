#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonutil.h"
#include "core/money.h"
#include "core/phone.h"
#include "core/util.h"
#include "tenants/alerttype.h"

/* ------------------------------------------------------------------ the table */

#define CUSTOMER_NAME_MAX 200

static const struct alert_field conversation_fields[] = {
    {"customer", AF_CONTACT, 1, "Customer", NULL, 0},
    {"message", AF_TEXT, 0, "Message", NULL, 120},
    {"conversation_id", AF_ID, 0, "Conversation", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field order_fields[] = {
    {"order_id", AF_ID, 1, "Order", NULL, 0},
    {"total", AF_MONEY, 1, "Total", NULL, 0},
    {"items", AF_COUNT, 1, "Items", "item", 0},
    {"customer", AF_CUSTOMER, 1, "Customer", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field paid_fields[] = {
    {"order_id", AF_ID, 1, "Order", NULL, 0},          {"amount", AF_MONEY, 1, "Amount", NULL, 0},
    {"method", AF_TEXT, 0, "Method", NULL, 30},        {"payment_id", AF_ID, 0, "Payment", NULL, 0},
    {"customer", AF_CUSTOMER, 0, "Customer", NULL, 0}, {NULL, AF_ID, 0, NULL, NULL, 0},
};

/* payment.failed: the same, and why it failed. */
static const struct alert_field payment_failed_fields[] = {
    {"order_id", AF_ID, 1, "Order", NULL, 0},
    {"amount", AF_MONEY, 1, "Amount", NULL, 0},
    {"method", AF_TEXT, 0, "Method", NULL, 30},
    {"reason", AF_TEXT, 0, "Reason", NULL, 80},
    {"payment_id", AF_ID, 0, "Payment", NULL, 0},
    {"customer", AF_CUSTOMER, 0, "Customer", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field out_of_stock_fields[] = {
    {"sku", AF_ID, 1, "SKU", NULL, 0},
    {"product", AF_TEXT, 1, "Product", NULL, 0},
    {"quantity", AF_INT, 0, "In stock", NULL, 0},
    {"threshold", AF_INT, 0, "Alert level", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

/* inventory.low: the same, with the quantity left required. */
static const struct alert_field inventory_low_fields[] = {
    {"sku", AF_ID, 1, "SKU", NULL, 0},
    {"product", AF_TEXT, 1, "Product", NULL, 0},
    {"quantity", AF_INT, 1, "In stock", NULL, 0},
    {"threshold", AF_INT, 0, "Alert level", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field security_fields[] = {
    {"user", AF_TEXT, 1, "Account", NULL, 60},
    {"ip", AF_ID, 0, "IP address", NULL, 45},
    {"location", AF_TEXT, 0, "Location", NULL, 40},
    {"device", AF_TEXT, 0, "Device", NULL, 40},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field notice_fields[] = {
    {"title", AF_TEXT, 1, "Title", NULL, 60},
    {"message", AF_TEXT, 1, "Message", NULL, 200},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field cart_item_fields[] = {
    {"cart_id", AF_ID, 1, "Cart", NULL, 0},
    {"product", AF_TEXT, 1, "Product", NULL, 0},
    {"quantity", AF_INT, 1, "Quantity", NULL, 0},
    {"price", AF_MONEY, 0, "Unit price", NULL, 0},
    {"customer", AF_CUSTOMER, 0, "Customer", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field checkout_fields[] = {
    {"cart_id", AF_ID, 1, "Cart", NULL, 0},     {"total", AF_MONEY, 1, "Total", NULL, 0},
    {"items", AF_COUNT, 1, "Items", "item", 0}, {"customer", AF_CUSTOMER, 0, "Customer", NULL, 0},
    {"order_id", AF_ID, 0, "Order", NULL, 0},   {NULL, AF_ID, 0, NULL, NULL, 0},
};

static const struct alert_field abandoned_fields[] = {
    {"cart_id", AF_ID, 1, "Cart", NULL, 0},
    {"total", AF_MONEY, 1, "Total", NULL, 0},
    {"items", AF_COUNT, 1, "Items", "item", 0},
    {"customer", AF_CUSTOMER, 0, "Customer", NULL, 0},
    {"idle_minutes", AF_INT, 0, "Idle (minutes)", NULL, 0},
    {NULL, AF_ID, 0, NULL, NULL, 0},
};

/*
 * The types, in the order the preferences page lists them. Urgent: what the seller must act
 * on now (a failed payment, a login or password change they may not have made); low: what can
 * wait for a digest or the morning (cart operations, low stock). The texts lead with numbers
 * (ids, amounts, counts), then who; a format never starts with a field, so nothing an event
 * says can begin a line (WhatsApp's "> quote" and lists).
 */
static const struct alert_type types[] = {
    {
        .name = "conversation.started",
        .urgency = ALERT_NORMAL,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = conversation_fields,
        .text = "New chat: {customer}[: \"{message}\"]",
        .sms = "New chat: {customer}[: {message}]",
        .subject = "New chat from {customer}",
        .template_name = "conversation_started",
        .template_body = "New chat on your shop from {{1}}. Their message: {{2}}.",
        .template_example = "{\"customer\":{\"phone\":\"+2348031234567\",\"name\":\"Ada\"},"
                            "\"message\":\"Is the blue dress in stock?\"}",
        .params = {"{customer}", "[{message}]"},
    },
    {
        .name = "order.placed",
        .urgency = ALERT_NORMAL,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = order_fields,
        .text = "New order #{order_id}: {total}, {items}, {customer}",
        .sms = "New order #{order_id}: {total}, {items}, {customer.name}",
        .subject = "New order #{order_id}: {total}",
        .template_name = "order_placed",
        .template_body = "New order #{{1}} on your shop: {{2}}, {{3}}, customer {{4}}.",
        .template_example =
            "{\"order_id\":\"1001\",\"total\":{\"amount\":1250000,\"currency\":\"NGN\"},\"items\":"
            "3,\"customer\":{\"name\":\"Ada\",\"phone\":\"+2348031234567\"}}",
        .params = {"{order_id}", "{total}", "{items}", "{customer.name}"},
    },
    {
        .name = "payment.confirmed",
        .urgency = ALERT_NORMAL,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = paid_fields,
        .text = "Paid #{order_id}: {amount}[ by {method}][, {customer}]",
        .sms = "Paid #{order_id}: {amount}[ by {method}]",
        .subject = "Payment received #{order_id}: {amount}",
        .template_name = "payment_confirmed",
        .template_body = "Payment received for order #{{1}} on your shop: {{2}}.",
        .template_example = "{\"order_id\":\"1001\",\"amount\":{\"amount\":1250000,\"currency\":"
                            "\"NGN\"},\"method\":\"card\"}",
        .params = {"{order_id}", "{amount}"},
    },
    {
        .name = "payment.failed",
        .urgency = ALERT_URGENT,
        .can_switch_off = 0,
        .delivery = ALERT_IMMEDIATE,
        .fields = payment_failed_fields,
        .text = "Payment FAILED #{order_id}: {amount}[ by {method}][: {reason}][, {customer}]",
        .sms = "Payment FAILED #{order_id}: {amount}[: {reason}]",
        .subject = "Payment failed #{order_id}: {amount}",
        .template_name = "payment_failed",
        .template_body = "Payment FAILED for order #{{1}} on your shop: {{2}}. Reason: {{3}}.",
        .template_example = "{\"order_id\":\"1001\",\"amount\":{\"amount\":1250000,\"currency\":"
                            "\"NGN\"},\"reason\":\"card declined\"}",
        .params = {"{order_id}", "{amount}", "[{reason}]"},
    },
    {
        .name = "inventory.low",
        .urgency = ALERT_LOW,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = inventory_low_fields,
        .text = "Low stock: {product} ({sku}): {quantity} left[, alert at {threshold}]",
        .sms = "Low stock: {product} ({sku}): {quantity} left",
        .subject = "Low stock: {product}: {quantity} left",
        .template_name = "inventory_low",
        .template_body = "Low stock on your shop: {{1}} (SKU {{2}}), {{3}} left.",
        .template_example = "{\"sku\":\"TSHIRT-BLU-M\",\"product\":\"Blue T-shirt, "
                            "M\",\"quantity\":3,\"threshold\":5}",
        .params = {"{product}", "{sku}", "{quantity}"},
    },
    {
        .name = "inventory.out_of_stock",
        .urgency = ALERT_NORMAL,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = out_of_stock_fields,
        .text = "Out of stock: {product} ({sku})",
        .sms = "Out of stock: {product} ({sku})",
        .subject = "Out of stock: {product}",
        .template_name = "inventory_out_of_stock",
        .template_body = "Out of stock on your shop: {{1}} (SKU {{2}}).",
        .template_example =
            "{\"sku\":\"TSHIRT-BLU-M\",\"product\":\"Blue T-shirt, M\",\"quantity\":0}",
        .params = {"{product}", "{sku}"},
    },
    {
        .name = "security.login",
        .urgency = ALERT_URGENT,
        .can_switch_off = 0,
        .delivery = ALERT_IMMEDIATE,
        .fields = security_fields,
        .text = "New login: {user}[ from {ip}][, {location}][, {device}]",
        .sms = "New login: {user}[ from {ip}][, {location}]",
        .subject = "New login to your account: {user}",
        .template_name = "security_login",
        .template_body = "New login to your shop account {{1}} from IP address {{2}}, location "
                         "{{3}}. If it was not you, change your password now.",
        .template_example = "{\"user\":\"owner@shop.example\",\"ip\":\"203.0.113.9\",\"location\":"
                            "\"Lagos, NG\",\"device\":\"Chrome on Android\"}",
        .params = {"{user}", "[{ip}]", "[{location}]"},
    },
    {
        .name = "security.password_changed",
        .urgency = ALERT_URGENT,
        .can_switch_off = 0,
        .delivery = ALERT_IMMEDIATE,
        .fields = security_fields,
        .text = "Password changed: {user}[ from {ip}][, {location}]",
        .sms = "Password changed: {user}[ from {ip}]",
        .subject = "Your password was changed: {user}",
        .template_name = "security_password_changed",
        .template_body = "The password of your shop account {{1}} was changed from IP address "
                         "{{2}}. If it was not you, contact support now.",
        .template_example = "{\"user\":\"owner@shop.example\",\"ip\":\"203.0.113.9\"}",
        .params = {"{user}", "[{ip}]"},
    },
    {
        .name = "system.notice",
        .urgency = ALERT_NORMAL,
        .can_switch_off = 1,
        .delivery = ALERT_IMMEDIATE,
        .fields = notice_fields,
        .text = "Notice: {title}: {message}",
        .sms = "Notice: {title}: {message}",
        .subject = "Notice: {title}",
        .template_name = "system_notice",
        .template_body = "Notice for your shop: {{1}}. Details: {{2}}.",
        .template_example = "{\"title\":\"Scheduled maintenance\",\"message\":\"Checkout is paused "
                            "on Sunday from 02:00 to 03:00 UTC\"}",
        .params = {"{title}", "{message}"},
    },
    {
        .name = "cart.item_added",
        .urgency = ALERT_LOW,
        .can_switch_off = 1,
        .delivery = ALERT_DIGEST,
        .fields = cart_item_fields,
        .text = "Cart {cart_id}: +{quantity} {product}[ at {price}][, {customer}]",
        .sms = "Cart {cart_id}: +{quantity} {product}",
        .subject = "Cart {cart_id}: {product} added",
        .template_name = "cart_item_added",
        .template_body = "A customer added to cart {{1}} on your shop: {{2}} x {{3}}.",
        .template_example =
            "{\"cart_id\":\"c-77\",\"product\":\"Blue T-shirt, "
            "M\",\"quantity\":2,\"price\":{\"amount\":450000,\"currency\":\"NGN\"}}",
        .params = {"{cart_id}", "{quantity}", "{product}"},
    },
    {
        .name = "cart.item_removed",
        .urgency = ALERT_LOW,
        .can_switch_off = 1,
        .delivery = ALERT_DIGEST,
        .fields = cart_item_fields,
        .text = "Cart {cart_id}: -{quantity} {product}[ at {price}][, {customer}]",
        .sms = "Cart {cart_id}: -{quantity} {product}",
        .subject = "Cart {cart_id}: {product} removed",
        .template_name = "cart_item_removed",
        .template_body = "A customer removed from cart {{1}} on your shop: {{2}} x {{3}}.",
        .template_example = "{\"cart_id\":\"c-77\",\"product\":\"Blue T-shirt, M\",\"quantity\":1}",
        .params = {"{cart_id}", "{quantity}", "{product}"},
    },
    {
        .name = "cart.checked_out",
        .urgency = ALERT_LOW,
        .can_switch_off = 1,
        .delivery = ALERT_DIGEST,
        .fields = checkout_fields,
        .text = "Cart {cart_id} checked out: {total}, {items}[, {customer}][, order #{order_id}]",
        .sms = "Cart {cart_id} checked out: {total}, {items}",
        .subject = "Cart {cart_id} checked out: {total}",
        .template_name = "cart_checked_out",
        .template_body = "Cart {{1}} on your shop was checked out: {{2}}, {{3}}.",
        .template_example = "{\"cart_id\":\"c-77\",\"total\":{\"amount\":900000,\"currency\":"
                            "\"NGN\"},\"items\":2,\"order_id\":\"1002\"}",
        .params = {"{cart_id}", "{total}", "{items}"},
    },
    {
        .name = "cart.abandoned",
        .urgency = ALERT_LOW,
        .can_switch_off = 1,
        .delivery = ALERT_DIGEST,
        .fields = abandoned_fields,
        .text =
            "Cart {cart_id} abandoned: {total}, {items}[, {customer}][, idle {idle_minutes} min]",
        .sms = "Cart {cart_id} abandoned: {total}, {items}",
        .subject = "Cart {cart_id} abandoned: {total}",
        .template_name = "cart_abandoned",
        .template_body = "Cart {{1}} on your shop was abandoned: {{2}}, {{3}}.",
        .template_example = "{\"cart_id\":\"c-78\",\"total\":{\"amount\":450000,\"currency\":"
                            "\"NGN\"},\"items\":1,\"idle_minutes\":90}",
        .params = {"{cart_id}", "{total}", "{items}"},
    },
};

const struct alert_type *alert_type_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(types); i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

size_t alert_type_count(void)
{
	return ARRAY_LEN(types);
}

const struct alert_type *alert_type_at(size_t i)
{
	return i < ARRAY_LEN(types) ? &types[i] : NULL;
}

const char *alert_urgency_name(enum alert_urgency u)
{
	return u == ALERT_URGENT ? "urgent" : u == ALERT_NORMAL ? "normal" : "low";
}

const char *alert_delivery_name(enum alert_delivery d)
{
	return d == ALERT_DIGEST ? "digest" : "immediate";
}

/* ------------------------------------------------------------------ checking data */

/* A string member of 1..max bytes; with no_ctl, without control characters; not blank. */
static int check_string(struct json_object *v, size_t max, int no_ctl, const char **why)
{
	*why = no_ctl ? "must be a string of 1 to 128 bytes without control characters"
	              : "must be a string of 1 to 1000 bytes, not blank";
	if (!json_object_is_type(v, json_type_string))
		return -1;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	int visible = 0;
	if (n == 0 || n > max || strlen(s) != n || !str_is_utf8(s, n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (no_ctl && (c < 0x20 || c == 0x7f))
			return -1;
		visible |= !isspace(c);
	}
	return visible ? 0 : -1;
}

static int check_int(struct json_object *v, const char **why)
{
	*why = "must be an integer from 0 to 1000000000";
	if (!json_object_is_type(v, json_type_int))
		return -1;
	long long n = (long long)json_object_get_int64(v);
	return n >= 0 && n <= ALERT_FIELD_INT_MAX ? 0 : -1;
}

/* A person: name (required unless phone_required), phone (required when phone_required). */
static int check_person(struct json_object *v, int phone_required, const char **sub,
                        const char **why)
{
	*sub = "";
	if (!json_object_is_type(v, json_type_object)) {
		*why = phone_required ? "must be an object {phone, name}"
		                      : "must be an object {name, phone}";
		return -1;
	}
	struct json_object *name = json_get(v, "name"), *phone = json_get(v, "phone");
	*sub = "name";
	if (!name && !phone_required) {
		*why = "is required";
		return -1;
	}
	if (name && check_string(name, CUSTOMER_NAME_MAX, 0, why) < 0) {
		*why = "must be a string of 1 to 200 bytes, not blank";
		return -1;
	}
	*sub = "phone";
	if (!phone && phone_required) {
		*why = "is required";
		return -1;
	}
	char num[PHONE_MAX];
	const char *s = phone ? json_object_get_string(phone) : NULL;
	if (phone && (!json_object_is_type(phone, json_type_string) || s[0] != '+' ||
	              phone_normalize(s, num, why) < 0)) {
		*why = "must be in international format: + then the country code and number, 8 to "
		       "15 digits (e.g. +2349012345678)";
		return -1;
	}
	*sub = "";
	return 0;
}

/* One present field. 0, or -1 with *sub (the member of v at fault, "" for v) and *why. */
static int check_value(const struct alert_field *f, struct json_object *v, const char **sub,
                       const char **why)
{
	struct money m;
	*sub = "";
	switch (f->kind) {
	case AF_ID:
		return check_string(v, ALERT_FIELD_ID_MAX, 1, why);
	case AF_TEXT:
		return check_string(v, ALERT_FIELD_TEXT_MAX, 0, why);
	case AF_MONEY:
		return money_from_json(v, &m, sub, why);
	case AF_INT:
		return check_int(v, why);
	case AF_COUNT:
		if (json_object_is_type(v, json_type_array))
			return 0;
		if (check_int(v, why) < 0) {
			*why = "must be an integer from 0 to 1000000000 or an array";
			return -1;
		}
		return 0;
	case AF_CUSTOMER:
		return check_person(v, 0, sub, why);
	case AF_CONTACT:
		return check_person(v, 1, sub, why);
	}
	*why = "has an unknown kind";
	return -1;
}

int alert_type_check_data(const struct alert_type *t, struct json_object *data, char **path,
                          const char **why)
{
	*path = NULL;
	if (!data || !json_object_is_type(data, json_type_object)) {
		*path = xstrdup("");
		*why = "must be an object";
		return -1;
	}
	for (const struct alert_field *f = t->fields; f->name; f++) {
		struct json_object *v = json_get(data, f->name);
		const char *sub = "";
		if (!v && !f->required)
			continue;
		if (!v)
			*why = "is required";
		if (!v || check_value(f, v, &sub, why) < 0) {
			*path = *sub ? xasprintf("%s.%s", f->name, sub) : xstrdup(f->name);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ cleaning text */

/* The code point at s (left bytes) into *cp: its length in bytes, or 0 for an invalid byte. */
static size_t utf8_next(const unsigned char *s, size_t left, unsigned *cp)
{
	size_t n;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0 && s[0] >= 0xC2) {
		n = 2;
		*cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		*cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0 && s[0] <= 0xF4) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3F);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000 || *cp > 0x10FFFF)) ||
	    (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(b, s, n);
}

/* Line breaks, tabs and the other spaces: one space. */
static int is_space_cp(unsigned cp)
{
	return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200A);
}

/* Control characters, bidirectional overrides and marks, zero-width spaces: removed. */
static int is_dropped_cp(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200B || cp == 0x200E ||
	       cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0xFEFF;
}

static int is_alnum_cp(unsigned cp)
{
	return cp < 0x80 && isalnum((int)cp);
}

/* WhatsApp's formatting markers and their inert look-alikes. */
static unsigned wa_lookalike(unsigned cp)
{
	switch (cp) {
	case '*':
		return 0x2217; /* ∗ */
	case '_':
		return 0xFF3F; /* ＿ */
	case '~':
		return 0x223C; /* ∼ */
	case '`':
		return 0x02CB; /* ˋ */
	}
	return 0;
}

/* The ASCII for SMS of typographic punctuation (GSM-7 has none of it), or NULL. */
static const char *sms_ascii(unsigned cp)
{
	if ((cp >= 0x2018 && cp <= 0x201B) || cp == 0x2032)
		return "'";
	if ((cp >= 0x201C && cp <= 0x201F) || cp == 0x2033)
		return "\"";
	if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x2022)
		return "-";
	if (cp == 0x2026)
		return "...";
	return NULL;
}

/*
 * Pictographs, dingbats, variation selectors and the emoji joiner: decoration that GSM-7 does
 * not have, and one of them would make the whole SMS UCS-2 (70 characters a part, not 160).
 */
static int is_sms_decoration(unsigned cp)
{
	return cp >= 0x1F000 || (cp >= 0x2600 && cp <= 0x27BF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	       cp == 0x200D;
}

/* One kept character, prev the one before it (' ' at the start) and next the one after (0). */
static void put_clean(struct buf *b, unsigned cp, unsigned prev, unsigned next, enum alert_medium m)
{
	unsigned alike = wa_lookalike(cp);
	const char *ascii = sms_ascii(cp);
	if (m == ALERT_WHATSAPP && alike && !(is_alnum_cp(prev) && is_alnum_cp(next)))
		put_utf8(b, alike);
	else if (m == ALERT_SMS && ascii)
		buf_puts(b, ascii);
	else
		put_utf8(b, cp);
}

/* s cut in place to at most max characters (max >= 4), ending in "..." when cut. */
static void cut_chars(char *s, size_t max)
{
	size_t count = 0, keep = 0, i = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (count == max - 3)
				keep = i;
			count++;
		}
		i++;
	}
	if (count <= max)
		return;
	/* Nor a space, nor a marker left before the "..." (it would not sit between letters). */
	while (keep > 0 && strchr(" *_~`", s[keep - 1]))
		keep--;
	memcpy(s + keep, "...", 4);
}

char *alert_clean(const char *s, size_t max, enum alert_medium m)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	struct buf b = BUF_INIT(left * 3 + 16);
	unsigned prev = ' ', cp, next;
	int space = 0;
	while (left > 0) {
		size_t n = utf8_next(p, left, &cp);
		p += n ? n : 1;
		left -= n ? n : 1;
		if (n != 0 && is_space_cp(cp)) {
			space = 1;
			continue;
		} else if (n == 0 || is_dropped_cp(cp) ||
		           (m == ALERT_SMS && is_sms_decoration(cp))) {
			continue;
		}
		if (space && b.len > 0) {
			buf_puts(&b, " ");
			prev = ' ';
		}
		space = 0;
		if (left == 0 || utf8_next(p, left, &next) == 0)
			next = 0;
		put_clean(&b, cp, prev, next, m);
		prev = cp;
	}
	char *out = buf_detach(&b);
	cut_chars(out, max < 4 ? 4 : max);
	return out;
}

/* ------------------------------------------------------------------ rendering */

#define RENDER_MAX 32768     /* bytes of any text while it is built */
#define EMAIL_FIELD_MAX 1000 /* characters of one field in an email */
#define REF_MAX 64

static const struct alert_field *field_def(const struct alert_type *t, const char *name)
{
	for (const struct alert_field *f = t->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Characters of a field's text in a WhatsApp or SMS text. */
static size_t field_cap(const struct alert_field *f, enum alert_medium m)
{
	if (m == ALERT_EMAIL)
		return EMAIL_FIELD_MAX;
	if (f->show)
		return (size_t)f->show;
	return f->kind == AF_ID ? 40 : f->kind == AF_TEXT ? 60 : 40;
}

/* Cleaned text of a string value into out: 0, or 1 when it is not a string or cleans to "". */
static int put_text(struct buf *out, struct json_object *v, size_t cap, enum alert_medium m)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return 1;
	char *c = alert_clean(json_object_get_string(v), cap, m);
	int absent = *c == '\0';
	if (!absent)
		buf_puts(out, c);
	free(c);
	return absent;
}

/* A phone as E.164, shortened on a phone ("+234...5678"), whole in an email. */
static int put_phone(struct buf *out, struct json_object *v, enum alert_medium m)
{
	char num[PHONE_MAX];
	const char *why;
	if (!v || !json_object_is_type(v, json_type_string) ||
	    phone_normalize(json_object_get_string(v), num, &why) < 0)
		return 1;
	size_t n = strlen(num);
	if (m == ALERT_EMAIL || n < 9)
		buf_puts(out, num);
	else
		buf_printf(out, "%.4s...%s", num, num + n - 4);
	return 0;
}

/* A person, or one part of it ("name", "phone"): 0, or 1 when nothing of it is there. */
static int put_person(struct buf *out, struct json_object *v, const char *part, size_t cap,
                      enum alert_medium m)
{
	struct json_object *name = json_get(v, "name"), *phone = json_get(v, "phone");
	if (part && strcmp(part, "name") == 0)
		return put_text(out, name, cap, m);
	if (part && strcmp(part, "phone") == 0)
		return put_phone(out, phone, m);
	size_t before = out->len;
	int no_name = put_text(out, name, cap, m);
	if (!no_name && phone)
		buf_puts(out, " ");
	if (put_phone(out, phone, m) != 0 && out->len > before && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	return out->len == before;
}

/* A count: "3", or with the field's unit "3 items" / "1 item". */
static int put_count(struct buf *out, const struct alert_field *f, struct json_object *v)
{
	long long n;
	if (json_object_is_type(v, json_type_array))
		n = (long long)json_object_array_length(v);
	else if (json_object_is_type(v, json_type_int))
		n = (long long)json_object_get_int64(v);
	else
		return 1;
	if (f->unit)
		buf_printf(out, "%lld %s%s", n, f->unit, n == 1 ? "" : "s");
	else
		buf_printf(out, "%lld", n);
	return 0;
}

/* The value of ref ("total", "customer.name") into out: 0, or 1 when absent. */
static int put_value(struct buf *out, const struct alert_type *t, struct json_object *data,
                     const char *ref, enum alert_medium m)
{
	char name[REF_MAX], text[MONEY_TEXT_MAX];
	const char *dot = strchr(ref, '.'), *why;
	snprintf(name, sizeof(name), "%.*s", dot ? (int)(dot - ref) : (int)strlen(ref), ref);
	const struct alert_field *f = field_def(t, name);
	struct json_object *v = f ? json_get(data, name) : NULL;
	struct money money;
	if (!v)
		return 1;
	switch (f->kind) {
	case AF_ID:
	case AF_TEXT:
		return put_text(out, v, field_cap(f, m), m);
	case AF_MONEY:
		if (money_from_json(v, &money, &why, &why) < 0 ||
		    money_format(money.amount, money.currency, text) < 0)
			return 1;
		buf_puts(out, text);
		return 0;
	case AF_INT:
		if (!json_object_is_type(v, json_type_int))
			return 1;
		buf_printf(out, "%lld", (long long)json_object_get_int64(v));
		return 0;
	case AF_COUNT:
		return put_count(out, f, v);
	case AF_CUSTOMER:
	case AF_CONTACT:
		return put_person(out, v, dot ? dot + 1 : NULL, field_cap(f, m), m);
	}
	return 1;
}

/*
 * fmt up to end into out: {ref} a value, [...] a part kept only when every value it names is
 * there. An absent value outside [...] reads "-" when dash. Returns how many were absent.
 */
static int render_span(struct buf *out, const struct alert_type *t, struct json_object *data,
                       enum alert_medium m, const char *fmt, const char *end, int dash)
{
	int absent = 0;
	const char *p = fmt;
	while (p < end) {
		const char *close = NULL;
		if (*p == '[' && (close = memchr(p, ']', (size_t)(end - p)))) {
			struct buf part = BUF_INIT(RENDER_MAX);
			if (render_span(&part, t, data, m, p + 1, close, 0) == 0)
				buf_puts(out, buf_str(&part));
			buf_release(&part);
		} else if (*p == '{' && (close = memchr(p, '}', (size_t)(end - p)))) {
			char ref[REF_MAX];
			snprintf(ref, sizeof(ref), "%.*s", (int)(close - p - 1), p + 1);
			if (put_value(out, t, data, ref, m) != 0) {
				absent++;
				if (dash)
					buf_puts(out, "-");
			}
		} else {
			buf_append(out, p, 1);
			close = p;
		}
		p = close + 1;
	}
	return absent;
}

/* fmt rendered for m and cut to max characters: a new string. */
static char *render(const struct alert_type *t, struct json_object *data, enum alert_medium m,
                    const char *fmt, size_t max)
{
	struct buf b = BUF_INIT(RENDER_MAX);
	render_span(&b, t, data, m, fmt, fmt + strlen(fmt), 1);
	char *s = buf_detach(&b);
	cut_chars(s, max);
	return s;
}

char *alert_text(const struct alert_type *t, struct json_object *data)
{
	return render(t, data, ALERT_WHATSAPP, t->text, ALERT_TEXT_MAX);
}

char *alert_sms(const struct alert_type *t, struct json_object *data)
{
	return render(t, data, ALERT_SMS, t->sms, ALERT_SMS_MAX);
}

void alert_email(const struct alert_type *t, struct json_object *data, char **subject, char **body)
{
	struct buf b = BUF_INIT(RENDER_MAX * 4);
	*subject = render(t, data, ALERT_EMAIL, t->subject, ALERT_SUBJECT_MAX);
	render_span(&b, t, data, ALERT_EMAIL, t->text, t->text + strlen(t->text), 1);
	buf_puts(&b, "\n");
	for (const struct alert_field *f = t->fields; f->name; f++) {
		struct buf value = BUF_INIT(RENDER_MAX);
		if (put_value(&value, t, data, f->name, ALERT_EMAIL) == 0)
			buf_printf(&b, "\n%s: %s", f->label, buf_str(&value));
		buf_release(&value);
	}
	buf_puts(&b, "\n");
	*body = buf_detach(&b);
}

void alert_template_build(const struct alert_type *t, struct json_object *data,
                          struct alert_template *out)
{
	memset(out, 0, sizeof(*out));
	out->name = t->template_name;
	for (size_t i = 0; i < ALERT_TEMPLATE_PARAMS && t->params[i]; i++) {
		char *p = render(t, data, ALERT_WHATSAPP, t->params[i], ALERT_PARAM_MAX);
		if (*p == '\0') {
			free(p);
			p = xstrdup("-");
		}
		out->params[out->n++] = p;
	}
}

/* Meta's template creation request of t ("UTILITY", its body and an example per parameter). */
struct json_object *alert_template_spec(const struct alert_type *t, const char *language)
{
	struct json_object *spec = json_object_new_object();
	struct json_object *body = json_object_new_object();
	struct json_object *comps = json_object_new_array();
	struct json_object *row = json_object_new_array();
	struct json_object *example = json_object_new_object();
	struct json_object *rows = json_object_new_array();
	struct json_object *data = json_tokener_parse(t->template_example);
	struct alert_template tpl;
	alert_template_build(t, data, &tpl);
	for (size_t i = 0; i < tpl.n; i++)
		json_object_array_add(row, json_object_new_string(tpl.params[i]));
	json_object_array_add(rows, row);
	json_object_object_add(example, "body_text", rows);
	json_object_object_add(body, "type", json_object_new_string("BODY"));
	json_object_object_add(body, "text", json_object_new_string(t->template_body));
	json_object_object_add(body, "example", example);
	json_object_array_add(comps, body);
	json_object_object_add(spec, "name", json_object_new_string(t->template_name));
	json_object_object_add(spec, "language", json_object_new_string(language));
	json_object_object_add(spec, "category", json_object_new_string("UTILITY"));
	json_object_object_add(spec, "parameter_format", json_object_new_string("POSITIONAL"));
	json_object_object_add(spec, "components", comps);
	alert_template_release(&tpl);
	json_object_put(data);
	return spec;
}

void alert_template_release(struct alert_template *tpl)
{
	for (size_t i = 0; i < tpl->n; i++)
		free(tpl->params[i]);
	memset(tpl, 0, sizeof(*tpl));
}
