#!/usr/bin/env python3
"""tests/mock/provider_mock.py: a mock of the WhatsApp providers' send APIs.

A local stand-in for Meta's WhatsApp Cloud API send endpoint and Twilio's
Messages API, for the integration tests and the benchmarks. It listens on
127.0.0.1 only, records every request it receives and answers success, or
what a test scripted. Python 3 standard library only.

    provider_mock.py --port N [--record FILE] [--pidfile FILE]
                     [--watch-pid PID] [--max-records N] [--verbose]
                     [--twilio-auth SID:TOKEN]

  --port N         port on 127.0.0.1; 0 picks a free one. The first line on
                   stdout is always `PORT=<n>` (flushed) once it listens.
  --record FILE    append each recorded request to FILE as one JSON line
                   (flushed per line; never truncated, not even by reset).
  --pidfile FILE   write our pid there once listening; removed on exit.
  --watch-pid PID  exit by ourselves once process PID is gone (a safety net
                   for a test script that dies without stopping us).
  --max-records N  keep only the last N records in memory (0 = all, the
                   default); the count and the record file are not capped.
  --verbose        one stderr line per request.
  --twilio-auth SID:TOKEN  the Twilio credentials (as POST /__mock/twilio).
SIGTERM and SIGINT stop it cleanly (exit status 0).

Send endpoints (the only requests recorded):
  POST /<version>/<phone_number_id>/messages            Meta, JSON body
      200 {"messaging_product":"whatsapp",
           "contacts":[{"input":<to>,"wa_id":<to, digits only>}],
           "messages":[{"id":"wamid.<unique>"}]}
  POST /2010-04-01/Accounts/<AccountSid>/Messages.json  Twilio, form body
      201 {"sid":"SM<32 hex>","status":"queued",...the Message resource}
      ("accepted" instead of "queued" when MessagingServiceSid is given;
      "num_segments" as the network counts them: GSM-7 160 septets in one
      segment, 153 in each of several, else UCS-2 70 / 67 units)
  POST /<version>/<waba_id>/subscribed_apps          Meta app subscription
      200 {"success": true} with a bearer token, else 401 code 190
      (recorded, kind "subscribe")
  Any other path outside /__mock/ answers 404 (and is recorded, kind
  "unknown", so a test can see what a misrouted client sent); another
  method on a send path answers 405.

  Unless switched off ({"validate": false} in /__mock/default), a default
  answer first checks the request the way the provider would and answers its
  error instead of success: Meta 401 code 190 without `Authorization:
  Bearer`, 400 code 100 for a body that is not a JSON object, without
  "messaging_product":"whatsapp" or without "to"; Twilio 401 code 20003
  without `Authorization: Basic` (and, once credentials are set through
  /__mock/twilio or --twilio-auth, unless it is exactly the account SID and
  auth token, and the path names that account), 400 21604 without To, 21603
  without From or MessagingServiceSid, 21619 without Body, ContentSid or
  MediaUrl. A Twilio request is WhatsApp when To starts with "whatsapp:",
  else SMS; both addresses must then agree: WhatsApp From "whatsapp:+...",
  SMS To and From plain E.164 (21211 for a To that is not, 21212 for such a
  From, 21910 for a whatsapp: From with an SMS To or the reverse), a
  MessagingServiceSid MG and 32 hex digits (21701 else), a Body of at most
  1600 characters (21617), a StatusCallback an absolute http(s) URL (21609).
  Scripted answers are never validated.

Every recorded request is an object:
  {"seq": 1, "time": 1763900000.123456, "method": "POST", "path": "...",
   "kind": "meta" | "twilio" | "unknown", "headers": {lower-case name: value},
   "body": raw body text, "json": parsed JSON or null,
   "form": a body that is not JSON parsed as a form, {name: value} (a list
           for a repeated name), or null,
   "to": the recipient normalised (digits of Meta "to" / Twilio "To" without
         "whatsapp:" and "+") or null,
   "channel": Twilio only: "whatsapp" (To "whatsapp:...") or "sms";
   "sid": the Message SID answered (Twilio success) or null,
   "segments", "encoding": Twilio SMS only: the Body's segments, "gsm7" or
         "ucs2",
   "answer": {"status": 200 or null when the connection is dropped,
              "rule": index of the scripted rule that answered, or null}}
seq is monotonic for the life of the process (reset does not restart it).

Control API (never recorded), JSON in and out:
  POST /__mock/script   a JSON list of rules (or one rule object); replaces
                        the rules (?append=1 appends). Answers {"rules": N}.
  GET  /__mock/script   the rules with their "remaining" counts.
  POST /__mock/default  the answer used when no rule answers: the rule keys
                        below except match and times, plus "validate". It
                        replaces the previous default ({} = built-in). Its
                        delay_ms applies to default answers only; its
                        meta_error (twilio_error) to Meta (Twilio) sends.
  GET  /__mock/default
  POST /__mock/reset    clears rules, default and records.
  GET  /__mock/requests records as a JSON list, oldest first; ?since=SEQ
                        only those with seq > SEQ.
  GET  /__mock/count    {"count": N, "max_in_flight": M}: requests recorded
                        since the last reset (?since=SEQ: with seq > SEQ), and
                        the most send requests answered at the same time since
                        the last reset (counted while a delay_ms sleeps).
  POST /__mock/twilio   {"account_sid": "AC...", "auth_token": "..."}: the
                        Twilio credentials requests must carry (Basic auth)
                        and status callbacks are signed with; {} clears.
  POST /__mock/callback {"sid": "SM...", "status": "delivered",
                         "error_code": 30003, "url": "...", "sign_url": "..."}
                        sends the status callback of a message we answered
                        (To, From or MessagingServiceSid as it was sent),
                        as Twilio does: a form POST with MessageSid, SmsSid,
                        AccountSid, From, To, MessageStatus, SmsStatus,
                        ApiVersion (and MessagingServiceSid, ErrorCode when
                        set), signed with X-Twilio-Signature (HMAC-SHA1 of
                        sign_url and the sorted parameters with the auth
                        token, base64), to url (default the message's
                        StatusCallback) and signed for sign_url (default
                        url). Answers {"status": <its HTTP status>, "body":
                        <its body>}; 400 without credentials or a URL, 404
                        for an unknown sid. Never recorded.
  Bad input answers 400 {"error": "..."}; unknown /__mock/ paths 404.

A rule:
  {"match": {"to": "+15551234567",    optional, all given keys must match:
             "provider": "meta",      to: Meta "to" / Twilio "To", compared
             "type": "text",          with "whatsapp:", "+" and separators
             "body_contains": "..."}, removed; provider: meta | twilio;
                                      type: Meta "type" (text, template...)
                                      or for Twilio "template" (ContentSid)
                                      else "text"; body_contains: a
                                      substring of the raw body.
   "times": 1,          matching requests it answers (default 1, -1 = all)
   "status": 400,       HTTP status (200-599)
   "body": {...},       JSON body, or "body_raw": "text" (content_type
                        "text/plain" unless "content_type" is given)
   "headers": {"Retry-After": "1"},  extra response headers
   "delay_ms": 250,     sleep before answering (or before dropping)
   "close": true,       drop the connection without answering ("reset":
                        drop it with a TCP RST instead of a FIN)
   "meta_error": 131047,   the Meta error body for that code
   "twilio_error": 63016}  the Twilio error body for that code
Rules are tried in order; the first matching rule with times left answers
and counts one down; otherwise the default answers. A rule with meta_error
but no twilio_error only matches Meta requests, and the reverse; with both
it matches either and each provider gets its own error. Without "status",
meta_error answers 401 for 0 and 190, 403 for 3, 10, 200-299, 368 and
131031, 429 for 130429 and 131056, 500 for 131000, 503 for 2, 131016 and
131057, and 400 for the rest; twilio_error answers 401 for 20003, 404 for
20404, 429 for 20429 and 400 for the rest. A status without a body answers
the success body for 2xx and an empty body otherwise. Without status, body
or error, a rule answers like the default success (after its own delay).
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

MAX_BODY = 16 * 1024 * 1024
MAX_DELAY_MS = 600_000

META_PATH = re.compile(r"^/(v[0-9]+(?:\.[0-9]+)?)/([^/]+)/messages/?$")
TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
SUBSCRIBE_PATH = re.compile(r"^/(v[0-9]+(?:\.[0-9]+)?)/([^/]+)/subscribed_apps/?$")

# code: (message, details). Messages as Meta words them, paraphrased.
META_ERRORS = {
    0: ("AuthException", "We were unable to authenticate the app user."),
    1: ("API Unknown", "Invalid request or possible server error."),
    2: ("API Service", "Temporary due to downtime or due to being overloaded."),
    3: ("API Method", "Capability or permissions issue."),
    4: ("(#4) Application request limit reached",
        "The app has reached its API call rate limit."),
    10: ("(#10) Permission Denied", "Permission is either not granted or has been removed."),
    33: ("Parameter value is not valid", "The business phone number has been deleted."),
    100: ("(#100) Invalid parameter",
          "The request included one or more unsupported or misspelled parameters."),
    190: ("Error validating access token: Session has expired.",
          "Your access token has expired."),
    368: ("Temporarily blocked for policies violations",
          "The WhatsApp Business Account associated with the app has been restricted "
          "or disabled for violating a platform policy."),
    80007: ("(#80007) Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit."),
    130429: ("(#130429) Rate limit hit",
             "Message failed to send because there were too many messages sent from "
             "this phone number in a short period of time"),
    130472: ("(#130472) User's number is part of an experiment",
             "Message was not sent as part of an experiment."),
    131000: ("(#131000) Something went wrong",
             "Message failed to send due to an unknown error."),
    131008: ("(#131008) Required parameter is missing",
             "The request is missing a required parameter."),
    131009: ("(#131009) Parameter value is not valid",
             "One or more parameter values are invalid."),
    131016: ("(#131016) Service unavailable", "A service is temporarily unavailable."),
    131026: ("(#131026) Message Undeliverable", "Unable to deliver message."),
    131030: ("(#131030) Recipient phone number not in allowed list",
             "Recipient phone number not in allowed list."),
    131031: ("(#131031) Account has been locked",
             "The WhatsApp Business Account is restricted or disabled."),
    131042: ("(#131042) Business eligibility payment issue",
             "There was an error related to your payment method."),
    131047: ("(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have passed since "
             "the customer last replied to this number."),
    131048: ("(#131048) Spam rate limit hit",
             "Message failed to send because there are restrictions on how many "
             "messages can be sent from this phone number."),
    131049: ("(#131049) This message was not delivered to maintain healthy ecosystem "
             "engagement.", "Meta chose not to deliver this message."),
    131050: ("(#131050) User has stopped marketing messages",
             "The user has stopped marketing messages from this business."),
    131051: ("(#131051) Unsupported message type", "Unsupported message type."),
    131056: ("(#131056) (Business Account, Consumer Account) pair rate limit hit",
             "Too many messages sent from the sender phone number to the same "
             "recipient phone number in a short period of time."),
    131057: ("(#131057) Account in maintenance mode",
             "Business Account is in maintenance mode."),
    132000: ("(#132000) Number of parameters does not match the expected number of "
             "params", "The number of parameters does not match the template."),
    132001: ("(#132001) Template name does not exist in the translation",
             "The template does not exist in the specified language or has not "
             "been approved."),
    132005: ("(#132005) Translated text too long", "The translated text is too long."),
    132007: ("(#132007) Template Format Character Policy Violated",
             "Template content violates a WhatsApp policy."),
    132012: ("(#132012) Parameter format does not match format in the created template",
             "Variable parameter values are formatted incorrectly."),
    132015: ("(#132015) Template is Paused", "The template is paused due to low quality."),
    132016: ("(#132016) Template is Disabled",
             "The template has been paused too many times due to low quality and is "
             "now permanently disabled."),
}

TWILIO_ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
           "'To' number",
    21609: "Invalid StatusCallback URL",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable using the 'From' phone number "
           "via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21701: "The Messaging Service Sid is invalid",
    21910: "Invalid 'From' and 'To' pair. From and To should be of the same channel",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21619: "A text message body, media URL or content SID is required.",
    63003: "Channel could not find To address",
    63007: "Twilio could not find a Channel with the specified From address",
    63014: "The message could not be delivered because the user has blocked it",
    63016: "Failed to send freeform message because you are outside the allowed window. "
           "If you are using WhatsApp, please use a Message Template.",
    63017: "Rate limit exceeded for the account",
    63018: "Rate limit exceeded for Channel",
    63024: "Invalid message recipient",
    63032: "User's number is part of an experiment",
}

RULE_KEYS = {"match", "times", "status", "body", "body_raw", "content_type",
             "headers", "delay_ms", "close", "meta_error", "twilio_error"}
DEFAULT_KEYS = (RULE_KEYS - {"match", "times"}) | {"validate"}
MATCH_KEYS = {"to", "provider", "type", "body_contains"}


E164 = re.compile(r"\+[1-9][0-9]{1,14}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
GSM7_BASIC = set(
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9"
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?"
    "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0")
GSM7_EXT = set("\f^{}\\[~]|\u20ac")


def sms_segments(text):
    """(segments, "gsm7" | "ucs2") of an SMS body, as the network counts them:
    one segment of 160 septets (70 UCS-2 units), or segments of 153 (67); an
    escape pair or a surrogate pair is never split across two."""
    if all(c in GSM7_BASIC or c in GSM7_EXT for c in text):
        enc, single, part = "gsm7", 160, 153
        costs = [2 if c in GSM7_EXT else 1 for c in text]
    else:
        enc, single, part = "ucs2", 70, 67
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    total = sum(costs)
    if total == 0:
        return 0, enc
    if total <= single:
        return 1, enc
    parts, fill = 1, 0
    for c in costs:
        if fill + c > part:
            parts, fill = parts + 1, 0
        fill += c
    return parts, enc


def twilio_signature(token, url, params):
    """X-Twilio-Signature: base64 HMAC-SHA1 of url and the sorted name+value pairs."""
    data = url + "".join(k + v for k, v in sorted(params.items()))
    digest = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class BadInput(Exception):
    """Control input we refuse (answered 400)."""


def meta_error_status(code):
    if code in (0, 190):
        return 401
    if code in (3, 10, 368, 131031) or 200 <= code <= 299:
        return 403
    if code in (130429, 131056):
        return 429
    if code == 131000:
        return 500
    if code in (2, 131016, 131057):
        return 503
    return 400


def meta_error_body(code):
    message, details = META_ERRORS.get(code, ("(#%d) Mock error" % code,
                                               "Mock error %d." % code))
    return {"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": "Amock" + secrets.token_urlsafe(12),
    }}


def twilio_error_status(code):
    return {20003: 401, 20404: 404, 20429: 429}.get(code, 400)


def twilio_error_body(code, status=None):
    return {
        "code": code,
        "message": TWILIO_ERRORS.get(code, "Mock error %d" % code),
        "more_info": "https://www.twilio.com/docs/errors/%d" % code,
        "status": status if status is not None else twilio_error_status(code),
    }


def normalize_to(value):
    """A recipient for comparison: no "whatsapp:", and for a phone number
    its digits only (so "+1 555-01", "1555 01" and "whatsapp:+155501" are
    one); anything else (a BSUID) as is."""
    if not isinstance(value, str):
        return None
    v = value.strip()
    if v.lower().startswith("whatsapp:"):
        v = v[len("whatsapp:"):].strip()
    if re.fullmatch(r"[+0-9 ()\-.]*", v):
        return re.sub(r"[^0-9]", "", v)
    return v


def reject_constant(name):
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError("not JSON: %s" % name)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_answer_keys(spec, where):
    """Validate the answer part shared by rules and the default; returns a
    normalised copy."""
    out = {}
    if "status" in spec:
        if not is_int(spec["status"]) or not 200 <= spec["status"] <= 599:
            raise BadInput("%s: status must be an integer 200-599" % where)
        out["status"] = spec["status"]
    if "body" in spec and "body_raw" in spec:
        raise BadInput("%s: give body or body_raw, not both" % where)
    if "body" in spec:
        out["body"] = spec["body"]
    if "body_raw" in spec:
        if not isinstance(spec["body_raw"], str):
            raise BadInput("%s: body_raw must be a string" % where)
        out["body_raw"] = spec["body_raw"]
    if "content_type" in spec:
        ct = spec["content_type"]
        if not isinstance(ct, str) or not ct or "\r" in ct or "\n" in ct:
            raise BadInput("%s: content_type must be a one-line string" % where)
        out["content_type"] = ct
    if "headers" in spec:
        h = spec["headers"]
        if not isinstance(h, dict):
            raise BadInput("%s: headers must be an object" % where)
        for k, v in h.items():
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", k) or \
                    not isinstance(v, (str, int)) or isinstance(v, bool) or \
                    "\r" in str(v) or "\n" in str(v):
                raise BadInput("%s: bad header %r" % (where, k))
            if k.lower() in ("content-length", "transfer-encoding", "connection"):
                raise BadInput("%s: header %s is the mock's to set" % (where, k))
        out["headers"] = {k: str(v) for k, v in h.items()}
    if "delay_ms" in spec:
        d = spec["delay_ms"]
        if not isinstance(d, (int, float)) or isinstance(d, bool) or \
                not 0 <= d <= MAX_DELAY_MS:
            raise BadInput("%s: delay_ms must be a number 0-%d" % (where, MAX_DELAY_MS))
        out["delay_ms"] = d
    if "close" in spec:
        c = spec["close"]
        if c not in (True, False, "reset"):
            raise BadInput("%s: close must be true, false or \"reset\"" % where)
        if c:
            out["close"] = c
    for key in ("meta_error", "twilio_error"):
        if key in spec:
            if not is_int(spec[key]) or spec[key] < 0:
                raise BadInput("%s: %s must be a non-negative integer" % (where, key))
            out[key] = spec[key]
    if ("meta_error" in out or "twilio_error" in out) and \
            ("body" in out or "body_raw" in out):
        raise BadInput("%s: give an error code or a body, not both" % where)
    return out


def parse_rule(rule, index):
    where = "rule %d" % index
    if not isinstance(rule, dict):
        raise BadInput("%s: must be an object" % where)
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise BadInput("%s: unknown keys %s" % (where, ", ".join(sorted(unknown))))
    out = check_answer_keys(rule, where)
    match = rule.get("match", {})
    if match is None:
        match = {}
    if not isinstance(match, dict):
        raise BadInput("%s: match must be an object" % where)
    unknown = set(match) - MATCH_KEYS
    if unknown:
        raise BadInput("%s: unknown match keys %s" % (where, ", ".join(sorted(unknown))))
    for k, v in match.items():
        if not isinstance(v, str):
            raise BadInput("%s: match.%s must be a string" % (where, k))
    if "provider" in match and match["provider"] not in ("meta", "twilio"):
        raise BadInput("%s: match.provider must be meta or twilio" % where)
    out["match"] = dict(match)
    if "to" in match:
        out["match_to"] = normalize_to(match["to"])
    times = rule.get("times", 1)
    if not is_int(times) or (times < 1 and times != -1):
        raise BadInput("%s: times must be a positive integer or -1" % where)
    out["times"] = times
    out["remaining"] = times
    return out


def parse_default(spec):
    if not isinstance(spec, dict):
        raise BadInput("default: must be an object")
    unknown = set(spec) - DEFAULT_KEYS
    if unknown:
        raise BadInput("default: unknown keys %s" % ", ".join(sorted(unknown)))
    out = check_answer_keys(spec, "default")
    if "validate" in spec:
        if not isinstance(spec["validate"], bool):
            raise BadInput("default: validate must be true or false")
        out["validate"] = spec["validate"]
    return out


def public_rule(rule):
    return {k: v for k, v in rule.items() if k != "match_to"}


class State:
    """Rules, the default answer and the records, behind one lock."""

    def __init__(self, record_path, max_records):
        self.lock = threading.Lock()
        self.rules = []
        self.default = {}
        self.records = deque(maxlen=max_records or None)
        self.count = 0
        self.seq = 0
        self.ids = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.record_file = open(record_path, "a", encoding="utf-8") if record_path else None
        self.twilio_sid = None
        self.twilio_token = None
        self.messages = {}  # Message SID -> the Twilio fields it was sent with

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def next_id(self):
        with self.lock:
            self.ids += 1
            return self.ids

    def reset(self):
        with self.lock:
            self.rules = []
            self.default = {}
            self.records.clear()
            self.count = 0
            self.max_in_flight = self.in_flight

    def choose(self, req):
        """The rule (index, copy) answering req, counting it down, or
        (None, default)."""
        with self.lock:
            for i, rule in enumerate(self.rules):
                if rule["remaining"] == 0 or not rule_matches(rule, req):
                    continue
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                return i, dict(rule)
            return None, dict(self.default)

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.records.append(rec)
            self.count += 1
            if self.record_file is not None:
                try:
                    self.record_file.write(json.dumps(rec) + "\n")
                    self.record_file.flush()
                except OSError as e:
                    sys.stderr.write("provider_mock: cannot write the record file: %s\n" % e)
            return self.seq


def rule_matches(rule, req):
    m = rule["match"]
    kind = req["kind"]
    if kind not in ("meta", "twilio"):
        return False
    if "meta_error" in rule and "twilio_error" not in rule and kind != "meta":
        return False
    if "twilio_error" in rule and "meta_error" not in rule and kind != "twilio":
        return False
    if "provider" in m and m["provider"] != kind:
        return False
    if "to" in m and rule.get("match_to") != req["to"]:
        return False
    if "type" in m and m["type"] != req["type"]:
        return False
    if "body_contains" in m and m["body_contains"] not in req["body"]:
        return False
    return True


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, addr, handler, state, verbose):
        self.state = state
        self.verbose = verbose
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return
        sys.stderr.write("provider_mock: error with %s:\n" % (client_address,))
        traceback.print_exc()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "provider-mock/1"

    def version_string(self):
        return self.server_version
    timeout = 300  # idle keep-alive connections end after 5 minutes

    # -- plumbing ----------------------------------------------------------

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("provider_mock: %s %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        if self.server.verbose:
            super().log_request(code, size)

    def send_error(self, code, message=None, explain=None):
        # The base class's errors (bad request line, unsupported method):
        # JSON, Content-Length, and the connection closed.
        self.close_connection = True
        try:
            self.answer(code, {"error": message or self.responses.get(code, ("",))[0]},
                        extra={"Connection": "close"})
        except OSError:
            pass

    def answer(self, status, body=None, raw=None, content_type=None, extra=None):
        """Send a whole response. body is JSON-encoded; raw is text or
        bytes; neither means an empty body."""
        if raw is not None:
            data = raw.encode("utf-8") if isinstance(raw, str) else raw
            ctype = content_type or "text/plain; charset=utf-8"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            ctype = content_type or "application/json"
        else:
            data = b""
            ctype = content_type
        self.send_response(status)
        no_body = status in (204, 304) or self.command == "HEAD"
        if ctype and status not in (204, 304):
            self.send_header("Content-Type", ctype)
        if status != 204:
            self.send_header("Content-Length", str(0 if status == 304 else len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            if not any(k.lower() == "connection" for k in (extra or {})):
                self.send_header("Connection", "close")
        # Headers and body in one write: two small writes would meet the
        # client's delayed ACK (Nagle) and cost 40 ms per answer.
        if self.request_version == "HTTP/0.9" or not hasattr(self, "_headers_buffer"):
            self.end_headers()
            if not no_body:
                self.wfile.write(data)
        else:
            self._headers_buffer.append(b"\r\n")
            if not no_body:
                self._headers_buffer.append(data)
            self.flush_headers()
        self.wfile.flush()

    def read_body(self):
        """The request body as bytes, or None after answering an error."""
        te = self.headers.get("Transfer-Encoding", "")
        if te:
            if te.strip().lower() != "chunked":
                self.close_connection = True
                self.answer(501, {"error": "unsupported Transfer-Encoding"})
                return None
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not re.fullmatch(r"[0-9]{1,12}", length.strip()):
            self.close_connection = True
            self.answer(400, {"error": "bad Content-Length"})
            return None
        n = int(length)
        if n > MAX_BODY:
            self.close_connection = True
            self.answer(413, {"error": "body too large"})
            return None
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("short body")
        return data

    def read_chunked(self):
        parts = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ConnectionError("eof in chunked body")
            size = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size):
                self.close_connection = True
                self.answer(400, {"error": "bad chunk size"})
                return None
            n = int(size, 16)
            if n == 0:
                while True:  # trailers
                    t = self.rfile.readline(8192)
                    if t in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
            total += n
            if total > MAX_BODY:
                self.close_connection = True
                self.answer(413, {"error": "body too large"})
                return None
            chunk = self.rfile.read(n)
            if len(chunk) != n:
                raise ConnectionError("short chunk")
            parts.append(chunk)
            self.rfile.readline(1024)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True

    def do_any(self):
        try:
            self.route()
        except (ConnectionError, TimeoutError, socket.timeout):
            self.close_connection = True
        except Exception:  # never let one request take the server down
            traceback.print_exc()
            self.close_connection = True
            try:
                self.answer(500, {"error": "mock internal error"})
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_any

    # -- routing -----------------------------------------------------------

    def route(self):
        url = urlsplit(self.path)
        body = self.read_body()
        if body is None:
            return
        if url.path == "/__mock" or url.path.startswith("/__mock/"):
            self.control(url, body)
        else:
            self.send_request(url, body)

    # -- control API -------------------------------------------------------

    def control(self, url, body):
        state = self.server.state
        query = parse_qs(url.query)
        name = url.path[len("/__mock/"):].strip("/") if url.path != "/__mock" else ""
        method = self.command
        routes = {
            ("script", "POST"), ("script", "GET"), ("default", "POST"),
            ("default", "GET"), ("reset", "POST"), ("requests", "GET"), ("count", "GET"),
            ("twilio", "POST"), ("callback", "POST"),
        }
        if (name, method) not in routes:
            if any(n == name for n, _ in routes):
                self.answer(405, {"error": "method %s not allowed on %s" % (method, url.path)})
            else:
                self.answer(404, {"error": "no control endpoint %s" % url.path})
            return
        try:
            if name == "script" and method == "POST":
                rules = self.json_input(body)
                if isinstance(rules, dict):
                    rules = [rules]
                if not isinstance(rules, list):
                    raise BadInput("expected a JSON list of rules")
                parsed = [parse_rule(r, i) for i, r in enumerate(rules)]
                append = query.get("append", ["0"])[-1] not in ("0", "", "false")
                with state.lock:
                    if append:
                        state.rules.extend(parsed)
                    else:
                        state.rules = parsed
                    n = len(state.rules)
                self.answer(200, {"rules": n})
            elif name == "script":
                with state.lock:
                    rules = [public_rule(r) for r in state.rules]
                self.answer(200, rules)
            elif name == "default" and method == "POST":
                spec = self.json_input(body)
                parsed = parse_default(spec)
                with state.lock:
                    state.default = parsed
                self.answer(200, {"default": parsed})
            elif name == "default":
                with state.lock:
                    d = dict(state.default)
                self.answer(200, {"default": d})
            elif name == "twilio":
                spec = self.json_input(body)
                if not isinstance(spec, dict) or set(spec) - {"account_sid", "auth_token"}:
                    raise BadInput("expected {\"account_sid\": ..., \"auth_token\": ...}")
                sid, token = spec.get("account_sid"), spec.get("auth_token")
                if (sid is None) != (token is None) or \
                        any(v is not None and (not isinstance(v, str) or not v)
                            for v in (sid, token)):
                    raise BadInput("account_sid and auth_token: both non-empty strings, "
                                   "or neither")
                with state.lock:
                    state.twilio_sid, state.twilio_token = sid, token
                self.answer(200, {"account_sid": sid})
            elif name == "callback":
                self.answer(*self.status_callback(self.json_input(body)))
            elif name == "reset":
                state.reset()
                self.answer(200, {"reset": True})
            else:  # requests, count
                since = query.get("since", ["0"])[-1]
                if not re.fullmatch(r"-?[0-9]{1,18}", since):
                    raise BadInput("since must be an integer")
                since = int(since)
                with state.lock:
                    if name == "count" and since <= 0:
                        count = state.count
                    else:
                        recs = [r for r in state.records if r["seq"] > since]
                        count = len(recs)
                    most = state.max_in_flight
                if name == "count":
                    self.answer(200, {"count": count, "max_in_flight": most})
                else:
                    self.answer(200, recs)
        except BadInput as e:
            self.answer(400, {"error": str(e)})

    def status_callback(self, spec):
        """Send a message's status callback as Twilio would: (status, answer)."""
        state = self.server.state
        if not isinstance(spec, dict) or set(spec) - {"sid", "status", "error_code", "url",
                                                      "sign_url"}:
            raise BadInput("expected {\"sid\", \"status\"[, \"error_code\", \"url\", "
                           "\"sign_url\"]}")
        sid, status = spec.get("sid"), spec.get("status")
        if not isinstance(sid, str) or not isinstance(status, str) or not status:
            raise BadInput("sid and status must be strings")
        code = spec.get("error_code")
        if code is not None and not is_int(code):
            raise BadInput("error_code must be an integer")
        with state.lock:
            msg = state.messages.get(sid)
            account, token = state.twilio_sid, state.twilio_token
        if msg is None:
            return 404, {"error": "no message %s was sent here" % sid}
        if token is None:
            raise BadInput("no Twilio credentials: POST /__mock/twilio first")
        url = spec.get("url", msg.get("StatusCallback"))
        if not isinstance(url, str) or not url:
            raise BadInput("the message has no StatusCallback and no url was given")
        sign_url = spec.get("sign_url", url)
        if not isinstance(sign_url, str):
            raise BadInput("sign_url must be a string")
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account,
                  "To": msg.get("To", ""), "MessageStatus": status, "SmsStatus": status,
                  "ApiVersion": "2010-04-01"}
        if msg.get("From"):
            params["From"] = msg["From"]
        if msg.get("MessagingServiceSid"):
            params["MessagingServiceSid"] = msg["MessagingServiceSid"]
        if code is not None:
            params["ErrorCode"] = str(code)
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise BadInput("the mock posts callbacks over http only: %s" % url)
        body = urlencode(params)
        path = parts.path + ("?" + parts.query if parts.query else "")
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=15)
        try:
            conn.request("POST", path or "/", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": twilio_signature(token, sign_url, params),
                "User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16),
            })
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", errors="replace")
            return 200, {"status": resp.status, "body": text}
        except OSError as e:
            return 502, {"error": "callback to %s failed: %s" % (url, e)}
        finally:
            conn.close()

    @staticmethod
    def json_input(body):
        if not body.strip():
            raise BadInput("empty body; expected JSON")
        try:
            return json.loads(body.decode("utf-8"), parse_constant=reject_constant)
        except (UnicodeDecodeError, ValueError) as e:
            raise BadInput("body is not valid JSON: %s" % e) from None

    # -- send endpoints ----------------------------------------------------

    def send_request(self, url, body):
        state = self.server.state
        text = body.decode("utf-8", errors="replace")
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        parsed_json = None
        if text.strip():
            try:
                parsed_json = json.loads(text, parse_constant=reject_constant)
                # Lone surrogates ("\ud800") are not text: not JSON either.
                json.dumps(parsed_json, ensure_ascii=False).encode("utf-8")
            except (ValueError, UnicodeEncodeError):
                parsed_json = None
        form = None
        ctype = headers.get("content-type", "").lower()
        if parsed_json is None and text and (
                "application/x-www-form-urlencoded" in ctype or
                ("=" in text and "json" not in ctype)):
            form = {}
            for k, vs in parse_qs(text, keep_blank_values=True).items():
                form[k] = vs[0] if len(vs) == 1 else vs

        kind, m = "unknown", META_PATH.match(url.path)
        account = None
        if m:
            kind = "meta"
        else:
            m = TWILIO_PATH.match(url.path)
            if m:
                kind, account = "twilio", m.group(1)
        to_raw = None
        mtype = None
        if kind == "meta":
            src = parsed_json if isinstance(parsed_json, dict) else (form or {})
            to_raw = src.get("to")
            mtype = src.get("type", "text") if isinstance(src.get("type", "text"), str) else None
        elif kind == "twilio":
            to_raw = (form or {}).get("To")
            mtype = "template" if (form or {}).get("ContentSid") else "text"
        if not isinstance(to_raw, str):
            to_raw = None
        req = {"kind": kind, "to": normalize_to(to_raw), "type": mtype, "body": text}

        rule_index, spec = (None, {})
        if kind != "unknown" and self.command == "POST":
            rule_index, spec = state.choose(req)
        rec = {
            "seq": 0, "time": round(time.time(), 6), "method": self.command,
            "path": self.path, "kind": kind, "headers": headers, "body": text,
            "json": parsed_json, "form": form, "to": req["to"],
            "answer": {"status": None, "rule": rule_index},
        }
        if kind == "twilio":
            fields = form or {}
            to_field = fields.get("To") if isinstance(fields.get("To"), str) else ""
            rec["channel"] = "whatsapp" if to_field.lower().startswith("whatsapp:") else "sms"
            rec["sid"] = None
            if rec["channel"] == "sms" and isinstance(fields.get("Body"), str):
                rec["segments"], rec["encoding"] = sms_segments(fields["Body"])

        if kind == "unknown" and SUBSCRIBE_PATH.match(url.path) and self.command == "POST":
            # Meta's app subscription to a WhatsApp Business Account (start-monitoring).
            rec["kind"] = "subscribe"
            ok = headers.get("authorization", "").startswith("Bearer ")
            rec["answer"]["status"] = 200 if ok else 401
            state.record(rec)
            if ok:
                self.answer(200, {"success": True})
            else:
                self.answer(401, {"error": {"message": "Invalid OAuth access token.",
                                            "type": "OAuthException", "code": 190}})
            return
        if kind == "unknown":
            rec["answer"]["status"] = 404
            state.record(rec)
            self.answer(404, {"error": "no such endpoint: %s %s" % (self.command, url.path)})
            return
        if self.command != "POST":
            rec["answer"]["status"] = 405
            state.record(rec)
            self.answer(405, {"error": "method %s not allowed" % self.command},
                        extra={"Allow": "POST"})
            return

        status, body_obj, raw, ctype_out = self.build_answer(
            kind, spec, rule_index is None, parsed_json, form, to_raw, account)
        if spec.get("close"):
            status = None
        rec["answer"]["status"] = status
        if kind == "twilio" and isinstance(body_obj, dict) and status and 200 <= status < 300 \
                and isinstance(body_obj.get("sid"), str):
            rec["sid"] = body_obj["sid"]
            fields = {k: v for k, v in (form or {}).items() if isinstance(v, str)}
            with state.lock:
                state.messages[rec["sid"]] = fields
        seq = state.record(rec)

        delay = spec.get("delay_ms", 0)
        if delay:
            state.enter()
            try:
                time.sleep(delay / 1000.0)
            finally:
                state.leave()
        if spec.get("close"):
            self.close_connection = True
            if spec["close"] == "reset":
                # Close it here, before socketserver's shutdown(SHUT_WR)
                # could send a FIN: with a zero linger, close sends an RST
                # (the socket really closes once rfile, its last other
                # user, is closed too).
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.rfile.close()
                    self.connection.close()
                except OSError:
                    pass
            return
        extra = dict(spec.get("headers", {}))
        extra["X-Mock-Seq"] = str(seq)
        self.answer(status, body_obj, raw, ctype_out, extra)

    def build_answer(self, kind, spec, is_default, parsed_json, form, to_raw, account):
        """(status, JSON body or None, raw body or None, content type)."""
        if is_default and spec.get("validate", True) and not any(
                k in spec for k in ("status", "body", "body_raw", "meta_error",
                                    "twilio_error", "close")):
            err = self.validate(kind, parsed_json, form)
            if err is not None:
                return err + (None, None)
        ctype = spec.get("content_type")
        error_key = "meta_error" if kind == "meta" else "twilio_error"
        if error_key in spec:
            code = spec[error_key]
            if kind == "meta":
                return spec.get("status", meta_error_status(code)), \
                    meta_error_body(code), None, ctype
            status = spec.get("status", twilio_error_status(code))
            return status, twilio_error_body(code, status), None, ctype
        if "body_raw" in spec:
            return spec.get("status", 200), None, spec["body_raw"], ctype
        if "body" in spec:
            return spec.get("status", 200), spec["body"], None, ctype
        status = spec.get("status")
        if status is not None and not 200 <= status <= 299:
            return status, None, None, ctype
        if kind == "meta":
            return status or 200, self.meta_success(to_raw), None, ctype
        return status or 201, self.twilio_success(form or {}, account), None, ctype

    def validate(self, kind, parsed_json, form):
        """A provider error (status, body) for a request the real API would
        refuse, or None."""
        auth = self.headers.get("Authorization", "").strip()
        if kind == "meta":
            if not auth.lower().startswith("bearer ") or not auth[7:].strip():
                body = meta_error_body(190)
                body["error"]["message"] = "An active access token must be used to " \
                                           "query information about the current user."
                return 401, body
            if not isinstance(parsed_json, dict):
                return 400, meta_error_body(100)
            if parsed_json.get("messaging_product") != "whatsapp":
                body = meta_error_body(100)
                body["error"]["message"] = "(#100) The parameter messaging_product is " \
                                           "required."
                return 400, body
            if not isinstance(parsed_json.get("to"), str) or not parsed_json["to"].strip():
                body = meta_error_body(100)
                body["error"]["message"] = "(#100) The parameter to is required."
                return 400, body
            return None
        if not auth.lower().startswith("basic ") or not auth[6:].strip():
            return 401, twilio_error_body(20003)
        state = self.server.state
        with state.lock:
            want_sid, want_token = state.twilio_sid, state.twilio_token
        if want_sid is not None:
            try:
                user = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                user = None
            if user != want_sid + ":" + want_token or \
                    urlsplit(self.path).path.split("/")[3:4] != [want_sid]:
                return 401, twilio_error_body(20003)
        form = form or {}

        def one(name):
            v = form.get(name)
            return v if isinstance(v, str) else ("" if v is None else None)

        to, frm, service = one("To"), one("From"), one("MessagingServiceSid")
        if not to:
            return 400, twilio_error_body(21604)
        if not frm and not service:
            return 400, twilio_error_body(21603)
        if not form.get("Body") and not form.get("ContentSid") and not form.get("MediaUrl"):
            return 400, twilio_error_body(21619)
        whatsapp = to.lower().startswith("whatsapp:")
        if frm and frm.lower().startswith("whatsapp:") != whatsapp:
            return 400, twilio_error_body(21910)
        if not whatsapp:
            if not E164.fullmatch(to):
                return 400, twilio_error_body(21211)
            if frm and not E164.fullmatch(frm):
                return 400, twilio_error_body(21212)
        if service and not SERVICE_SID.fullmatch(service):
            return 400, twilio_error_body(21701)
        body = one("Body")
        if body is None or (body and len(body) > 1600):
            return 400, twilio_error_body(21617)
        callback = one("StatusCallback")
        if callback is None or (callback and (urlsplit(callback).scheme not in
                                              ("http", "https") or
                                              not urlsplit(callback).hostname)):
            return 400, twilio_error_body(21609)
        return None

    def meta_success(self, to_raw):
        to = to_raw if to_raw is not None else ""
        n = self.server.state.next_id()
        token = base64.urlsafe_b64encode(
            b"MOCK" + n.to_bytes(8, "big") + secrets.token_bytes(7)).decode("ascii")
        wa_id = normalize_to(to) or ""
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": "wamid." + token}],
        }

    def twilio_success(self, form, account):
        def one(name):
            v = form.get(name)
            return v[0] if isinstance(v, list) else v

        sid = "SM" + secrets.token_hex(16)
        now = email.utils.formatdate(usegmt=True).replace("GMT", "+0000")
        service = one("MessagingServiceSid")
        media = form.get("MediaUrl")
        num_media = len(media) if isinstance(media, list) else (1 if media else 0)
        uri = "/2010-04-01/Accounts/%s/Messages/%s" % (account, sid)
        return {
            "sid": sid, "account_sid": account, "messaging_service_sid": service,
            "to": one("To"), "from": one("From"), "body": one("Body") or "",
            "status": "accepted" if service else "queued",
            "num_segments": str(max(1, sms_segments(one("Body") or "")[0])),
            "num_media": str(num_media),
            "direction": "outbound-api", "api_version": "2010-04-01",
            "price": None, "price_unit": None, "error_code": None, "error_message": None,
            "date_created": now, "date_sent": None, "date_updated": now,
            "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json"},
        }


def watch_pid(pid):
    """Shut the server down once process pid is gone (or a zombie)."""
    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        try:
            with open("/proc/%d/stat" % pid, "rb") as f:
                stat = f.read()
            return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] == b"Z"
        except (OSError, ValueError):
            return False

    while not gone():
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv=None):
    p = argparse.ArgumentParser(description="Mock of the Meta WhatsApp Cloud API and "
                                            "Twilio Messages API on 127.0.0.1.")
    p.add_argument("--port", type=int, required=True, help="port (0: pick a free one)")
    p.add_argument("--record", metavar="FILE", help="append each request as a JSON line")
    p.add_argument("--pidfile", metavar="FILE", help="write the pid there")
    p.add_argument("--watch-pid", type=int, metavar="PID",
                   help="exit once process PID is gone")
    p.add_argument("--max-records", type=int, default=0, metavar="N",
                   help="keep only the last N records in memory (0: all)")
    p.add_argument("--verbose", action="store_true", help="log every request on stderr")
    p.add_argument("--twilio-auth", metavar="SID:TOKEN",
                   help="the Twilio credentials requests must carry")
    args = p.parse_args(argv)
    if args.twilio_auth is not None and (":" not in args.twilio_auth or
                                         args.twilio_auth.startswith(":") or
                                         args.twilio_auth.endswith(":")):
        p.error("--twilio-auth must be SID:TOKEN")
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0-65535")
    if args.max_records < 0:
        p.error("--max-records must be >= 0")

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    state = State(args.record, args.max_records)
    if args.twilio_auth:
        state.twilio_sid, state.twilio_token = args.twilio_auth.split(":", 1)
    try:
        server = MockServer(("127.0.0.1", args.port), Handler, state, args.verbose)
    except OSError as e:
        sys.stderr.write("provider_mock: cannot listen on 127.0.0.1:%d: %s\n" % (args.port, e))
        return 1
    port = server.server_address[1]
    pid = str(os.getpid())
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(pid + "\n")
        os.replace(args.pidfile + ".tmp", args.pidfile)
    print("PORT=%d" % port, flush=True)
    if args.watch_pid:
        threading.Thread(target=watch_pid, args=(args.watch_pid,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    if f.read().strip() == pid:
                        os.unlink(args.pidfile)
            except OSError:
                pass
        if state.record_file is not None:
            state.record_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
