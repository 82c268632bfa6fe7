#!/usr/bin/python3
"""tests/browser/settings_page.py: the seller's settings page in a real browser.

Run by tests/integration/test_settings_page.sh against its throwaway stack (nginx, the programs,
PostgreSQL, the mock WhatsApp provider); Debian's chromium, chromium-driver and python3-selenium,
headless. Prints one line per check, `ok   - NAME` or `FAIL - NAME` (then an indented detail),
which the shell counts; exits 0 unless the browser could not be driven at all.

Environment (set by the shell):
  HTTP_BASE        the stack's nginx, http://127.0.0.1:PORT
  MOCK_URL         the mock provider (the codes sent on WhatsApp are read from its records)
  PLATFORM_KEY     the platform's key (to read the tenants as the platform, to check the page)
  A_NUMBER, B_NUMBER, A_NEW_NUMBER   shop-a's and shop-b's numbers; shop-a's next number
  A_NAME, B_NAME   their display names
  A_JWT, C_JWT     platform JWTs for shop-a and shop-c (a shop without a number), embedded
  B_ALERT_ID       the message id of shop-b's alert (read), never on another shop's page
  SCREENSHOT_DIR   where the screenshots go
  WORK_DIR         the browser's profile, the driver's log, `tokens` (the session tokens seen,
                   one a line, so the shell can check no log holds them)
  MONITORING_ENV_FILE, BIN_DIR   to run `cron drain` if a code is slow to reach the mock

What only the suite can do (make shop-a's alerts, stop and start the database) is asked for by a
file: WORK_DIR/request holds the request, WORK_DIR/answer gets "ok ..." (ask_suite).
"""

import datetime
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import zoneinfo

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

ENV = os.environ
BASE = ENV["HTTP_BASE"]
PAGE = BASE + "/settings/"
MOCK = ENV["MOCK_URL"]
WORK = ENV["WORK_DIR"]
SHOTS = ENV["SCREENSHOT_DIR"]
A, B, A2 = ENV["A_NUMBER"], ENV["B_NUMBER"], ENV["A_NEW_NUMBER"]
A_NAME, B_NAME = ENV["A_NAME"], ENV["B_NAME"]

PHONE = (390, 844)
DESKTOP = (1280, 800)

# Console messages a test provokes on purpose: Chromium logs every 4xx answer to fetch() as
# "Failed to load resource", and the inline-script probe below is refused by the CSP. Anything
# else at level SEVERE is a failure.
EXPECTED_CONSOLE = [
    re.compile(r"/tenants/[a-z/]+ - Failed to load resource: the server responded with a status of (400|401|409|429)"),
    # The Recent alerts tab's failures on purpose: the database down, a page size refused, the
    # request blocked in the browser.
    re.compile(r"/tenants/me/alerts\?\S* - Failed to load resource: (the server responded with a status of (400|503)"
               r"|net::ERR_BLOCKED_BY_CLIENT)"),
]

passed = failed = 0
console_errors = []
session_tokens = []


def ok(name):
    global passed
    passed += 1
    print("ok   - " + name, flush=True)


def fail(name, detail=""):
    global failed
    failed += 1
    print("FAIL - " + name, flush=True)
    if detail:
        print("       " + str(detail)[:600], flush=True)


def check(name, cond, detail=""):
    if cond:
        ok(name)
    else:
        fail(name, detail)
    return cond


def eq(name, expected, actual):
    return check(name, expected == actual, "expected %r, got %r" % (expected, actual))


def contains(name, haystack, needle):
    return check(name, needle in (haystack or ""), "%r not in %r" % (needle, haystack))


# ------------------------------------------------------------------ the API, the mock

def http(method, url, body=None, token=None):
    """(status, parsed JSON or None) of a request."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


def tenant(external_id):
    """The tenant as the platform sees it (the page's doing, checked from outside the page)."""
    status, t = http("GET", BASE + "/tenants/" + external_id, token=ENV["PLATFORM_KEY"])
    return t if status == 200 else {}


def api_prefs(token):
    """The tenant's preferences as the API answers them to TOKEN ({} if refused)."""
    status, body = http("GET", BASE + "/tenants/me/preferences", token=token)
    return (body or {}).get("preferences", {}) if status == 200 else {}


def mock_records(since):
    _, recs = http("GET", MOCK + "/__mock/requests?since=%d" % since)
    return recs or []


def mock_mark():
    recs = mock_records(0)
    return recs[-1]["seq"] if recs else 0


def drain():
    env = dict(ENV)
    with open(os.path.join(WORK, "cron-drain.out"), "a") as out:
        subprocess.run([os.path.join(ENV["BIN_DIR"], "cron"), "drain"], env=env,
                       stdout=out, stderr=out, timeout=60, check=False)


def code_sent(number, since, timeout=15):
    """The 6-digit code of the newest WhatsApp text to NUMBER after record SINCE."""
    digits = number.lstrip("+")
    end = time.time() + timeout
    tries = 0
    while time.time() < end:
        for rec in reversed(mock_records(since)):
            if rec.get("to") != digits:
                continue
            text = ((rec.get("json") or {}).get("text") or {}).get("body") or ""
            m = re.search(r"\b(\d{6})\b", text)
            if m:
                return m.group(1)
        tries += 1
        if tries % 10 == 0:
            drain()  # the program drains after answering; cron's drain is the fallback
        time.sleep(0.2)
    return None


# ------------------------------------------------------------------ the browser

def start_browser():
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--password-store=basic",
                "--window-size=%d,%d" % DESKTOP, "--lang=en-US",
                "--user-data-dir=" + os.path.join(WORK, "profile")):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service("/usr/bin/chromedriver", log_path=os.path.join(WORK, "chromedriver.out"))
    return webdriver.Chrome(service=service, options=opts)


class Page:
    def __init__(self, driver):
        self.d = driver

    def el(self, id_):
        return self.d.find_element(By.ID, id_)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, what, cond, timeout=10):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                last = cond()
                if last:
                    return last
            except Exception as e:  # an element not there yet
                last = e
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))

    def visible(self, id_):
        return self.js("var e = document.getElementById(arguments[0]);"
                       "return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;", id_)

    def text(self, id_):
        return self.el(id_).text

    def value(self, id_):
        return self.el(id_).get_attribute("value")

    def attr(self, id_, name):
        return self.el(id_).get_attribute(name)

    def type(self, id_, text):
        e = self.el(id_)
        e.clear()
        e.send_keys(text)

    def wait_text(self, id_, needle, timeout=10):
        return self.wait("%r in #%s" % (needle, id_), lambda: needle in self.text(id_), timeout)

    def session_token(self):
        return self.js("return sessionStorage.getItem('whatsapp-monitoring.settings.token');")

    def logs(self):
        """The console's SEVERE messages since the last call that no test provoked."""
        for entry in self.d.get_log("browser"):
            if entry.get("level") != "SEVERE":
                continue
            msg = entry.get("message", "")
            if any(p.search(msg) for p in EXPECTED_CONSOLE):
                continue
            console_errors.append(msg)

    def viewport(self, size):
        w, h = size
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": h, "deviceScaleFactor": 1,
                                "mobile": w < 600})

    def shot(self, name):
        path = os.path.join(SHOTS, name + ".png")
        # The whole drawer, not only the first screen of it.
        height = self.js("return Math.ceil(document.documentElement.scrollHeight);")
        w, h = self.size
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": max(h, height), "deviceScaleFactor": 1,
                                "mobile": w < 600})
        self.d.save_screenshot(path)
        self.viewport(self.size)
        return path


# ------------------------------------------------------------------ the steps

def shot_at(p, size, name):
    """A screenshot at SIZE, then back to the size the run was at."""
    keep = p.size
    p.size = size
    p.viewport(size)
    path = p.shot(name)
    p.size = keep
    p.viewport(keep)
    check("screenshot %s" % os.path.basename(path), os.path.getsize(path) > 1000)


def login(p, number, name_for_checks):
    """The WhatsApp login on the page: number, then the code read from the mock."""
    p.wait("the login form", lambda: p.visible("login-number"))
    mark = mock_mark()
    p.type("login-number", number)
    p.el("login-number").send_keys(Keys.ENTER)
    p.wait("the code form", lambda: p.visible("login-code"))
    code = code_sent(number, mark)
    if not check("%s: the login code reached the mock" % name_for_checks, code is not None):
        raise AssertionError("no login code")
    p.type("login-code", code)
    p.el("login-code").send_keys(Keys.ENTER)
    p.wait("the settings", lambda: p.visible("panel-general"))
    token = p.session_token()
    session_tokens.append(token or "")
    return token


def step_login_a(p):
    p.d.get(PAGE)
    p.wait("the login form", lambda: p.visible("login-number"))
    ok("standalone: no token, the WhatsApp login is shown")
    p.type("login-number", "12345")
    p.el("login-send").click()
    p.wait_text("login-number-error", "Start with +")
    eq("login: 12345 is refused next to the field", "true", p.attr("login-number", "aria-invalid"))
    check("login: still on the number step", p.visible("login-number") and not p.visible("login-code"))

    mark = mock_mark()
    p.type("login-number", A)
    p.el("login-send").click()
    p.wait("the code form", lambda: p.visible("login-code"))
    contains("login: the page says where the code went", p.text("login-code-sent"), A)
    shot_at(p, PHONE, "settings-login-phone")
    resend = p.text("login-resend")
    check("login: resend waits, with a countdown", not p.el("login-resend").is_enabled()
          and re.search(r"\(\d:\d\d\)", resend), resend)
    p.type("login-code", "12345")
    p.el("login-submit").click()
    p.wait_text("login-code-error", "6 digits")
    ok("login: a 5-digit code is refused in words")
    code = code_sent(A, mark)
    check("login: the code reached A's number (mock)", code is not None)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    p.type("login-code", wrong)
    p.el("login-submit").click()
    p.wait_text("login-code-error", "not right")
    ok("login: a wrong code is refused in words")
    p.type("login-code", code)
    p.el("login-submit").click()
    p.wait("the settings", lambda: p.visible("panel-general"))
    ok("login: the right code opens the settings")
    token = p.session_token()
    session_tokens.append(token or "")
    check("the session token is in sessionStorage (43 characters)",
          token and re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token)
    eq("the token is in no other storage", 0, p.js("return localStorage.length;"))
    eq("no cookie", "", p.js("return document.cookie;"))
    eq("shop A's name is shown", A_NAME, p.text("shop-name"))
    eq("shop A's number is in the field", A, p.value("whatsapp-number"))
    check("Log out is offered for a session", p.visible("logout"))


def step_number_checks(p):
    num = "whatsapp-number"
    p.type(num, "+234")
    p.wait_text("whatsapp-number-format", "Too short")
    ok("typing: '+234' is too short, said as the seller types")
    p.el(num).send_keys("901 234 5678")
    p.wait_text("whatsapp-number-format", "+2349012345678")
    contains("typing: the international format is shown", p.text("whatsapp-number-format"),
             "International format: +2349012345678")
    before = tenant("shop-a")
    for bad, needle in (("12345", "Start with +"), ("2349012345678", "Start with +"),
                        ("+12345", "Too short")):
        p.type(num, bad)
        p.el("save").click()
        p.wait_text("whatsapp-number-error", needle)
        eq("save %s: the error is next to the field, the field marked invalid" % bad,
           "true", p.attr(num, "aria-invalid"))
        eq("save %s: the field has the focus" % bad, num,
           p.js("return document.activeElement.id;"))
    eq("bad numbers: nothing was sent (the tenant unchanged)", before, tenant("shop-a"))

    # The server's refusals, next to the field they name.
    p.type(num, B)
    p.el("save").click()
    p.wait_text("whatsapp-number-error", "already used by another shop")
    ok("save B's number: 409 shown in words next to the number")
    p.type(num, A)
    p.type("time-zone", "Mars/Olympus")
    p.el("save").click()
    p.wait_text("time-zone-error", "IANA")
    contains("save a bad zone: the server's 400 names the field, shown next to it",
             p.text("time-zone-error"), "The time zone must be a time zone of the IANA database")
    eq("save a bad zone: the zone field marked invalid", "true", p.attr("time-zone", "aria-invalid"))
    eq("server refusals changed nothing", before, tenant("shop-a"))


def record_save_states(p, button="save"):
    p.js("""
      window.__saveStates = [];
      var b = document.getElementById(arguments[0]);
      new MutationObserver(function () {
        window.__saveStates.push(b.dataset.state + ':' + b.textContent + ':' + b.disabled);
      }).observe(b, {attributes: true, childList: true, characterData: true, subtree: true});
    """, button)


def step_change_number(p):
    p.type("whatsapp-number", A2)
    p.type("time-zone", "Africa/Lagos")
    p.type("quiet-start", "22:00")
    p.type("quiet-end", "7:00")
    p.js("var s = document.getElementById('language'); s.value = 'fr';")
    mark = mock_mark()
    record_save_states(p)
    p.el("save").click()
    p.wait_text("save-status", "Enter the code we sent to " + A2)
    states = p.js("return window.__saveStates;")
    check("save: the button showed its loading state (disabled, 'Saving…')",
          any(s.startswith("loading:Saving") and s.endswith(":true") for s in states), states)
    check("save: then its success state ('Saved ✓')",
          any(s.startswith("success:Saved") for s in states), states)
    check("save: the verification step is shown", p.visible("verify-code"))
    shot_at(p, DESKTOP, "settings-general-verify-desktop")
    contains("save: it names the new number", p.text("verify-text"), A2)
    contains("save: alerts keep going to the old number meanwhile", p.text("whatsapp-verified"), A)
    resend = p.text("verify-resend")
    check("save: resend waits, with a countdown", not p.el("verify-resend").is_enabled()
          and re.search(r"\(\d:\d\d\)", resend), resend)
    t = tenant("shop-a")
    eq("stored: the new number is pending, the old one still used",
       (A, A2, "Africa/Lagos", "22:00", "07:00", "fr"),
       (t.get("whatsapp_number"), t.get("pending_whatsapp_number"), t.get("time_zone"),
        t.get("quiet_start"), t.get("quiet_end"), t.get("language")))
    p.wait("the Save button back to idle", lambda: p.attr("save", "data-state") == "idle", 6)
    ok("save: the button goes back to Save")

    code = code_sent(A2, mark)
    check("the verification code reached the new number (mock)", code is not None)
    p.type("verify-code", "12345")
    p.el("verify-submit").click()
    p.wait_text("verify-code-error", "6 digits")
    eq("verify 12345: refused in words next to the code field", "true",
       p.attr("verify-code", "aria-invalid"))
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    p.type("verify-code", wrong)
    p.el("verify-submit").click()
    p.wait_text("verify-code-error", "not right")
    ok("verify a wrong code: the server's 400 shown in words")
    return code


def step_reload_pending(p, code):
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    ok("reload: still logged in (sessionStorage)")
    eq("reload: the pending number is in the field", A2, p.value("whatsapp-number"))
    check("reload: the verification step is still there", p.visible("verify-code"))
    eq("reload: time zone, quiet hours, language stuck", ("Africa/Lagos", "22:00", "07:00", "fr"),
       (p.value("time-zone"), p.value("quiet-start"), p.value("quiet-end"), p.value("language")))
    # The page no longer knows when the last code went: the server's 429 tells it.
    p.el("verify-resend").click()
    p.wait_text("verify-code-error", "Too many code requests")
    label = p.text("verify-resend")
    m = re.search(r"\((\d):(\d\d)\)", label)
    secs = int(m.group(1)) * 60 + int(m.group(2)) if m else -1
    check("resend too soon: 429, the countdown follows Retry-After (1..60 s)",
          not p.el("verify-resend").is_enabled() and 0 < secs <= 60, label)

    p.type("verify-code", code)
    p.el("verify-submit").click()
    p.wait_text("save-status", "Number confirmed")
    check("verify: the step closes", not p.visible("verify-code"))
    contains("verify: the number is confirmed", p.text("whatsapp-verified"), "Confirmed")
    t = tenant("shop-a")
    eq("stored: the new number is A's, verified, nothing pending", (A2, True, None),
       (t.get("whatsapp_number"), t.get("whatsapp_verified"), t.get("pending_whatsapp_number")))
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    eq("reload: every change stuck",
       (A2, "Africa/Lagos", "22:00", "07:00", "fr"),
       (p.value("whatsapp-number"), p.value("time-zone"), p.value("quiet-start"),
        p.value("quiet-end"), p.value("language")))
    check("reload: no verification step", not p.visible("verify-code"))


def step_keyboard(p):
    # Tab from the number field reaches Save; Enter in a field saves.
    p.el("whatsapp-number").click()
    reached = False
    for _ in range(20):
        p.d.switch_to.active_element.send_keys(Keys.TAB)
        if p.js("return document.activeElement.id;") == "save":
            reached = True
            break
    check("keyboard: Tab goes from the number to Save", reached)
    p.el("time-zone").click()
    p.d.switch_to.active_element.send_keys(Keys.CONTROL, "a")
    p.d.switch_to.active_element.send_keys("Europe/Berlin", Keys.ENTER)
    p.wait_text("save-status", "Your settings are saved")
    eq("keyboard: Enter in the zone field saved it", "Europe/Berlin", tenant("shop-a").get("time_zone"))

    # The tabs: arrows move the selection and the focus, Home and End jump, panels follow.
    tabs = ["tab-general", "tab-notifications", "tab-alerts"]

    def selected():
        return [t for t in tabs if p.attr(t, "aria-selected") == "true"]

    def shown():
        return [pid for pid in ("panel-general", "panel-notifications", "panel-alerts")
                if p.attr(pid, "hidden") is None]

    eq("tabs: a tablist of three tabs", ["tablist", "tab", "tab", "tab"],
       [p.js("return document.querySelector('.tabs').getAttribute('role');")] +
       [p.attr(t, "role") for t in tabs])
    p.el("tab-general").send_keys(Keys.ARROW_RIGHT)
    eq("tabs: → selects Notifications", ["tab-notifications"], selected())
    eq("tabs: → moves the focus", "tab-notifications", p.js("return document.activeElement.id;"))
    eq("tabs: only its panel is shown", ["panel-notifications"], shown())
    p.d.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    eq("tabs: → selects Recent alerts", ["tab-alerts"], selected())
    p.d.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    eq("tabs: → wraps to General", ["tab-general"], selected())
    p.d.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    eq("tabs: ← wraps to Recent alerts", ["tab-alerts"], selected())
    p.d.switch_to.active_element.send_keys(Keys.HOME)
    eq("tabs: Home selects General", ["tab-general"], selected())
    p.d.switch_to.active_element.send_keys(Keys.END)
    eq("tabs: End selects Recent alerts", ["tab-alerts"], selected())
    eq("tabs: the selected tab alone is in the Tab order", [-1, -1, 0],
       [int(p.attr(t, "tabindex")) for t in tabs])
    for pid in ("panel-general", "panel-notifications", "panel-alerts"):
        tab = p.attr(pid, "aria-labelledby")
        eq("tabs: %s is a tabpanel labelled by its tab, which controls it" % pid,
           ("tabpanel", pid), (p.attr(pid, "role"), p.attr(tab, "aria-controls")))
    p.wait("Recent alerts loaded by End", lambda: alerts_settled(p))
    eq("Recent alerts lists A's three alerts once selected by keyboard", 3, len(shown_alerts(p)))
    p.el("tab-notifications").click()
    p.wait("the alert types", lambda: p.visible("pref-order-placed-enabled"))
    ok("Notifications lists the alert types")

    # Every field has a name a screen reader reads.
    unlabelled = p.js("""
      return Array.from(document.querySelectorAll('input, select')).filter(function (e) {
        return !(e.labels && e.labels.length) && !e.getAttribute('aria-label');
      }).map(function (e) { return e.id; });""")
    eq("every input and select has a label", [], unlabelled)
    described = p.js("""
      return Array.from(document.querySelectorAll('.error')).filter(function (p) {
        return !document.querySelector('[aria-describedby~="' + p.id + '"]') &&
          ['general-error', 'prefs-error', 'prefs-load-error', 'alerts-error',
           'alerts-more-error'].indexOf(p.id) < 0;
      }).map(function (p) { return p.id; });""")
    eq("every field's error is tied to its field (aria-describedby)", [], described)
    p.el("tab-general").click()


def pref_ui(p, type_):
    """(switch checked, switch enabled, delivery) of TYPE_ on the page."""
    base = "pref-" + re.sub(r"[^a-z0-9]+", "-", type_)
    sw = p.el(base + "-enabled")
    return (sw.is_selected(), sw.is_enabled(), p.value(base + "-delivery"))


def open_notifications(p):
    p.el("tab-notifications").click()
    p.wait("the alert types", lambda: p.visible("pref-order-placed-enabled")
           and not p.visible("prefs-loading"))


def record_fetches(p):
    """Keep the bodies of the page's PATCHes to the preferences in window.__prefsPatches."""
    p.js("""
      window.__prefsPatches = [];
      var f = window.fetch;
      window.fetch = function (url, opts) {
        if (String(url).indexOf('/tenants/me/preferences') >= 0 && opts && opts.method === 'PATCH')
          window.__prefsPatches.push(JSON.parse(opts.body));
        return f.apply(this, arguments);
      };""")


def tab_to(p, target, limit=120):
    """Press Tab from the focused element until TARGET has the focus; True if it did."""
    for _ in range(limit):
        if p.js("return document.activeElement.id;") == target:
            return True
        p.d.switch_to.active_element.send_keys(Keys.TAB)
    return p.js("return document.activeElement.id;") == target


def step_notifications(p):
    token = p.session_token()
    open_notifications(p)
    before = api_prefs(token)
    check("API: A's preferences are the defaults to start with",
          before and all(v["enabled"] == v["default"]["enabled"] and
                         v["delivery"] == v["default"]["delivery"] for v in before.values()), before)
    shown = p.js("return Array.from(document.querySelectorAll('#prefs-list > li'))"
                 ".map(function (li) { return li.dataset.type; });")
    eq("notifications: every type the API lists, in its order", list(before.keys()), shown)
    eq("notifications: readable names", ("New order", "Item added to a cart"),
       (p.js("return document.querySelector('label[for=\"pref-order-placed-enabled\"]').textContent;"),
        p.js("return document.querySelector('label[for=\"pref-cart-item-added-enabled\"]').textContent;")))
    contains("notifications: the urgency is shown", p.text("pref-order-placed-info"), "Normal")
    contains("notifications: an urgent type says so", p.text("pref-payment-failed-info"), "Urgent")
    contains("notifications: the fallback to SMS and email is explained", p.text("prefs-intro"),
             "urgent ones go on by SMS and then email")
    eq("notifications: the switch is a labelled checkbox with role=switch",
       ("checkbox", "switch", True),
       (p.attr("pref-order-placed-enabled", "type"), p.attr("pref-order-placed-enabled", "role"),
        p.js("return document.getElementById('pref-order-placed-enabled').labels.length === 1;")))
    eq("notifications: the API's state on the page (order.placed on, immediate; cart.item_added hourly)",
       ((True, True, "immediate"), (True, True, "hourly")),
       (pref_ui(p, "order.placed"), pref_ui(p, "cart.item_added")))
    eq("notifications: three deliveries to choose from", ["immediate", "hourly", "daily"],
       [o.get_attribute("value") for o in Select(p.el("pref-order-placed-delivery")).options])
    for locked in ("security.login", "security.password_changed", "payment.failed"):
        base = "pref-" + re.sub(r"[^a-z0-9]+", "-", locked)
        sw, en, _ = pref_ui(p, locked)
        eq("locked %s: the switch is on and disabled" % locked, (True, False), (sw, en))
        check("locked %s: the note is shown and tied to the switch" % locked,
              p.visible(base + "-locked") and "switched off" in p.text(base + "-locked")
              and base + "-locked" in (p.attr(base + "-enabled", "aria-describedby") or "").split(),
              (p.text(base + "-locked"), p.attr(base + "-enabled", "aria-describedby")))
    check("locked: its delivery may still change", p.el("pref-security-login-delivery").is_enabled())

    # Keyboard only: Tab from the tab to cart.item_added's switch, Space, Tab to Save, Enter.
    record_fetches(p)
    p.el("tab-notifications").click()
    check("keyboard: Tab reaches cart.item_added's switch", tab_to(p, "pref-cart-item-added-enabled"))
    p.d.switch_to.active_element.send_keys(Keys.SPACE)
    eq("keyboard: Space switches it off", False, p.el("pref-cart-item-added-enabled").is_selected())
    check("keyboard: Tab reaches Save", tab_to(p, "prefs-save"))
    p.d.switch_to.active_element.send_keys(Keys.ENTER)
    p.wait_text("prefs-status", "saved")
    now = api_prefs(token)
    eq("keyboard: the API says cart.item_added is off, the rest as before",
       dict(before, **{"cart.item_added": dict(before["cart.item_added"], enabled=False)}), now)
    eq("keyboard: the PATCH sent only the change",
       [{"preferences": {"cart.item_added": {"enabled": False}}}],
       p.js("return window.__prefsPatches;"))

    # The mouse: order.placed off, inventory.low in the daily digest, with the Save states.
    p.js("window.__prefsPatches = [];")
    p.wait("the Save button back to idle", lambda: p.attr("prefs-save", "data-state") == "idle", 6)
    record_save_states(p, "prefs-save")
    p.el("pref-order-placed-enabled").click()
    Select(p.el("pref-inventory-low-delivery")).select_by_value("daily")
    p.el("prefs-save").click()
    p.wait_text("prefs-status", "saved")
    states = p.js("return window.__saveStates;")
    check("save: the button showed its loading state (disabled, 'Saving…')",
          any(s.startswith("loading:Saving") and s.endswith(":true") for s in states), states)
    check("save: then its success state ('Saved ✓')",
          any(s.startswith("success:Saved") for s in states), states)
    eq("save: the PATCH sent only the two changes",
       [{"preferences": {"order.placed": {"enabled": False}, "inventory.low": {"delivery": "daily"}}}],
       p.js("return window.__prefsPatches;"))
    after = api_prefs(token)
    eq("stored: order.placed off, inventory.low daily, the rest as before",
       dict(now, **{"order.placed": dict(now["order.placed"], enabled=False),
                    "inventory.low": dict(now["inventory.low"], delivery="daily")}), after)

    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    open_notifications(p)
    eq("reload: order.placed still off, inventory.low still daily, cart.item_added still off",
       ((False, True, "immediate"), (True, True, "daily"), (False, True, "hourly")),
       (pref_ui(p, "order.placed"), pref_ui(p, "inventory.low"), pref_ui(p, "cart.item_added")))

    # Nothing changed: nothing sent.
    p.el("prefs-save").click()
    p.wait_text("prefs-status", "Nothing to save")
    ok("save with no change: says so, sends nothing")

    # The API's refusal, in words next to the type: a locked switch forced off in the page.
    p.js("var s = document.getElementById('pref-security-login-enabled');"
         "s.disabled = false; s.checked = false;")
    p.el("prefs-save").click()
    p.wait_text("pref-security-login-error", "switched off")
    contains("a locked type forced off: the API's 400 in words next to the type",
             p.text("pref-security-login-error"), "New login to your account can\u2019t be switched off")
    eq("a locked type forced off: the switch marked invalid", "true",
       p.attr("pref-security-login-enabled", "aria-invalid"))
    eq("a locked type forced off: nothing changed", after, api_prefs(token))
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    open_notifications(p)
    eq("reload: the locked type is on again", (True, False), pref_ui(p, "security.login")[:2])

    # A delivery the API does not know (forced into the page): its 400 names the member.
    p.js("var s = document.getElementById('pref-system-notice-delivery');"
         "var o = document.createElement('option'); o.value = 'weekly'; o.textContent = 'weekly';"
         "s.appendChild(o); s.value = 'weekly';")
    p.el("prefs-save").click()
    p.wait_text("pref-system-notice-error", "must be")
    contains("an unknown delivery: the API's words next to the type, named in words",
             p.text("pref-system-notice-error"), "Notices from the service: when it comes must be")
    eq("an unknown delivery: the select marked invalid, and focused", ("true", "pref-system-notice-delivery"),
       (p.attr("pref-system-notice-delivery", "aria-invalid"), p.js("return document.activeElement.id;")))
    eq("an unknown delivery: nothing changed", after, api_prefs(token))

    # Unsaved choices survive leaving the tab and coming back (no reload over them).
    Select(p.el("pref-system-notice-delivery")).select_by_value("hourly")
    p.el("tab-general").click()
    p.el("tab-notifications").click()
    time.sleep(0.5)
    eq("unsaved choices are kept when the tab is opened again", "hourly",
       p.value("pref-system-notice-delivery"))
    Select(p.el("pref-system-notice-delivery")).select_by_value("immediate")
    p.el("tab-general").click()


# ------------------------------------------------------------------ the channels of each type

def pref_base(type_):
    return "pref-" + re.sub(r"[^a-z0-9]+", "-", type_)


def chain_ui(p, type_):
    """TYPE_'s chain as the page's select holds it ("whatsapp,sms,email")."""
    return p.value(pref_base(type_) + "-channels")


def focused(p):
    return p.js("return document.activeElement.id;")


NO_EMAIL = "Add an email address in General to get email alerts"


def step_channels(p):
    token = p.session_token()
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    open_notifications(p)
    before = api_prefs(token)
    eq("channels: each type's select shows the API's chain",
       {t: ",".join(v["channels"]) for t, v in before.items()},
       {t: chain_ui(p, t) for t in before})
    eq("channels: the defaults by urgency (order.placed normal: then email; payment.failed urgent: "
       "then SMS, then email)", ("whatsapp,email", "whatsapp,sms,email"),
       (chain_ui(p, "order.placed"), chain_ui(p, "payment.failed")))
    eq("channels: the chains to choose from",
       ["whatsapp", "whatsapp,sms", "whatsapp,email", "whatsapp,sms,email", "whatsapp,email,sms"],
       [o.get_attribute("value") for o in Select(p.el("pref-order-placed-channels")).options])
    eq("channels: the urgency's default is marked", "Then email (default)",
       Select(p.el("pref-order-placed-channels")).first_selected_option.text)
    eq("channels: the select has its label", "If WhatsApp fails",
       p.js("return document.getElementById('pref-order-placed-channels').labels[0].textContent;"))
    check("channels: a locked type's chain may change", p.el("pref-payment-failed-channels").is_enabled()
          and p.el("pref-security-login-channels").is_enabled())
    # No email yet (shop-a was made without one): the types whose chain has email say so.
    hint = "pref-order-placed-channels-hint"
    eq("no email: the hint under order.placed", NO_EMAIL, p.text(hint))
    check("no email: the hint is tied to the select (aria-describedby)",
          hint in (p.attr("pref-order-placed-channels", "aria-describedby") or "").split())
    only = [t for t, v in before.items() if v["channels"] == ["whatsapp"]]
    check("no email: no hint under a WhatsApp-only type (%s)" % (only[:1],),
          only and p.text(pref_base(only[0]) + "-channels-hint") == "", only)
    check("no SMS hint: the SMS number defaults to the WhatsApp number",
          "SMS" not in p.text("pref-payment-failed-channels-hint"), p.text("pref-payment-failed-channels-hint"))

    # Keyboard only: Tab to order.placed's chain, arrows to "Then SMS, then email", Tab to Save, Enter.
    record_fetches(p)
    p.el("tab-notifications").click()
    check("keyboard: Tab reaches order.placed's channels", tab_to(p, "pref-order-placed-channels"))
    for _ in range(4):
        if chain_ui(p, "order.placed") == "whatsapp,sms,email":
            break
        p.d.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    eq("keyboard: the arrows chose 'Then SMS, then email'", "whatsapp,sms,email", chain_ui(p, "order.placed"))
    eq("keyboard: the no-email hint stays", NO_EMAIL, p.text(hint))
    check("keyboard: Tab reaches Save", tab_to(p, "prefs-save"))
    record_save_states(p, "prefs-save")
    p.d.switch_to.active_element.send_keys(Keys.ENTER)
    p.wait_text("prefs-status", "saved")
    states = p.js("return window.__saveStates;")
    check("channels save: loading, then success",
          any(s.startswith("loading:Saving") for s in states) and any(s.startswith("success:Saved") for s in states),
          states)
    eq("channels save: the PATCH sent only the chain",
       [{"preferences": {"order.placed": {"channels": ["whatsapp", "sms", "email"]}}}],
       p.js("return window.__prefsPatches;"))
    now = api_prefs(token)
    eq("channels save: the API says order.placed goes WhatsApp, SMS, email; the rest as before",
       dict(before, **{"order.placed": dict(before["order.placed"], channels=["whatsapp", "sms", "email"])}), now)
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    open_notifications(p)
    eq("reload: order.placed's chain stuck", "whatsapp,sms,email", chain_ui(p, "order.placed"))
    eq("reload: the option's words", "Then SMS, then email",
       Select(p.el("pref-order-placed-channels")).first_selected_option.text)
    eq("reload: the no-email hint is back under order.placed", NO_EMAIL, p.text(hint))
    shot_at(p, PHONE, "settings-notifications-channels-phone")

    # The mouse: a locked type to WhatsApp only.
    p.wait("the Save button back to idle", lambda: p.attr("prefs-save", "data-state") == "idle", 6)
    record_fetches(p)
    Select(p.el("pref-payment-failed-channels")).select_by_value("whatsapp")
    eq("WhatsApp only: no hint", "", p.text("pref-payment-failed-channels-hint"))
    p.el("prefs-save").click()
    p.wait_text("prefs-status", "saved")
    after = api_prefs(token)
    eq("a locked type's chain saved (WhatsApp only), still on",
       (["whatsapp"], True, True),
       (after["payment.failed"]["channels"], after["payment.failed"]["enabled"], after["payment.failed"]["locked"]))
    eq("its PATCH: the chain only", [{"preferences": {"payment.failed": {"channels": ["whatsapp"]}}}],
       p.js("return window.__prefsPatches;"))

    # A chain the API refuses (forced into the page): its 400 next to the type, the select focused.
    p.js("var s = document.getElementById('pref-order-placed-channels');"
         "var o = document.createElement('option'); o.value = 'sms,whatsapp'; o.textContent = 'SMS first';"
         "s.appendChild(o); s.value = 'sms,whatsapp';")
    p.el("prefs-save").click()
    p.wait_text("pref-order-placed-error", "whatsapp first")
    contains("a chain without WhatsApp first: the API's words next to the type",
             p.text("pref-order-placed-error"), "New order: the channels must be a list of channels in order")
    eq("a refused chain: the select marked invalid, and focused", ("true", "pref-order-placed-channels"),
       (p.attr("pref-order-placed-channels", "aria-invalid"), focused(p)))
    eq("a refused chain: nothing changed", after, api_prefs(token))
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    open_notifications(p)

    # The hint's button, by keyboard: Tab from the select to it, Enter: the General tab's field.
    p.js("document.getElementById('pref-order-placed-channels').focus();")
    check("keyboard: Tab reaches the hint's button", tab_to(p, "pref-order-placed-channels-add-email", 5))
    p.d.switch_to.active_element.send_keys(Keys.ENTER)
    eq("the hint's button: the General tab, the email field focused", ("true", "email"),
       (p.attr("tab-general", "aria-selected"), focused(p)))

    # The General tab's addresses: refused in words next to the field, then saved.
    t0 = tenant("shop-a")
    for bad, needle in (("ada.example.com", "has an @"), ("ada@example", "name@example.com"),
                        ("ada @example.com", "No spaces")):
        p.type("email", bad)
        p.el("save").click()
        p.wait_text("email-error", needle)
        eq("email %r: refused next to the field, marked invalid, focused" % bad, ("true", "email"),
           (p.attr("email", "aria-invalid"), focused(p)))
    p.type("email", "")
    p.type("sms-number", "0803 123 4567")
    p.el("save").click()
    p.wait_text("sms-number-error", "Start with +")
    eq("SMS number without +: refused next to the field", "true", p.attr("sms-number", "aria-invalid"))
    eq("refused addresses: nothing sent", t0, tenant("shop-a"))
    p.type("sms-number", "+234 901 000 0099")
    contains("SMS number: the international format shown as typed", p.text("sms-number-format"), "+2349010000099")
    p.el("email").click()
    p.d.switch_to.active_element.send_keys("ada@example.com", Keys.ENTER)
    p.wait_text("save-status", "Your settings are saved")
    t = tenant("shop-a")
    eq("stored: the SMS number and the email", ("+2349010000099", "ada@example.com"),
       (t.get("sms_number"), t.get("email")))
    p.el("tab-notifications").click()
    p.wait("the hints gone", lambda: p.text("pref-order-placed-channels-hint") == "")
    ok("with an email: no hint under order.placed")
    p.el("tab-general").click()
    p.type("sms-number", "")
    p.el("save").click()
    p.wait_text("save-status", "Your settings are saved")
    eq("SMS number emptied: stored null (the WhatsApp number is used)", (None, "ada@example.com"),
       (tenant("shop-a").get("sms_number"), tenant("shop-a").get("email")))
    p.d.refresh()
    p.wait("the settings after a reload", lambda: p.visible("panel-general"))
    eq("reload: the addresses stuck", ("", "ada@example.com"), (p.value("sms-number"), p.value("email")))
    p.el("tab-general").click()


# ------------------------------------------------------------------ the Recent alerts tab

def ask_suite(what, timeout=90):
    """What only the shell can do (serve_browser in the suite): the answer's words."""
    req, ans = os.path.join(WORK, "request"), os.path.join(WORK, "answer")
    try:
        os.remove(ans)
    except FileNotFoundError:
        pass
    with open(req + ".tmp", "w") as f:
        f.write(what)
    os.rename(req + ".tmp", req)
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(ans):
            with open(ans) as f:
                words = f.read().split()
            os.remove(ans)
            if not words or words[0] != "ok":
                raise AssertionError("the suite could not do %r: %s" % (what, " ".join(words)))
            return words[1:]
        time.sleep(0.1)
    raise AssertionError("the suite did not answer %r in %d s" % (what, timeout))


def alerts_settled(p):
    """True once the tab is not loading and shows either the list or an error."""
    return (p.attr("alerts-loading", "hidden") is not None and
            (p.visible("alerts-section") or p.text("alerts-error") != ""))


def open_alerts(p):
    p.el("tab-alerts").click()
    p.wait("the Recent alerts tab loaded", lambda: alerts_settled(p))


def refresh_alerts(p):
    p.el("alerts-refresh").click()
    p.wait("the Recent alerts tab reloaded", lambda: alerts_settled(p))


def shown_alerts(p):
    """[(message id, state, state label, title)] of the list, top to bottom."""
    return p.js("""
      return Array.from(document.querySelectorAll('#alerts-list > li')).map(function (li) {
        return [li.dataset.messageId, li.dataset.state, li.querySelector('.state').textContent,
                li.querySelector('.alert-title').textContent];
      });""")


def figures(p, days):
    """{figure: text} of a window's column in the figures' table; {"none": the sentence} when
    there is no table (nothing in 30 days)."""
    return p.js("""
      var none = document.getElementById('figures-none'), out = {};
      if (none) return {none: none.textContent};
      document.querySelectorAll('#figures-table td[data-window="' + arguments[0] + '"]').forEach(
        function (td) { out[td.dataset.figure] = td.textContent; });
      return out;""", "%dd" % days)


def zone_time(iso, zone):
    """(day month, HH:MM) of an API time in ZONE, as the page should show it."""
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    t = t.astimezone(zoneinfo.ZoneInfo(zone))
    return "%d %s" % (t.day, t.strftime("%b")), t.strftime("%H:%M")


def check_alert_times(p, token, zone):
    status, body = http("GET", BASE + "/tenants/me/alerts", token=token)
    alerts = (body or {}).get("alerts", []) if status == 200 else []
    check("API: the alerts to compare times with", len(alerts) == 3, (status, body))
    for a in alerts:
        id_ = "alert-%d" % a["message_id"]
        day, hm = zone_time(a["created_at"], zone)
        text = p.text(id_ + "-time")
        eq("alert %d: its <time> holds the API's UTC time" % a["message_id"], a["created_at"],
           p.attr(id_ + "-time", "datetime"))
        check("alert %d: shown in %s (%s, %s)" % (a["message_id"], zone, day, hm),
              day in text and hm in text, text)


def step_alerts_appear(p):
    token = p.session_token()
    open_alerts(p)
    check("Recent alerts, none yet: the list section is shown", p.visible("alerts-section"))
    check("none yet: says so in words", p.visible("alerts-empty") and "No alerts yet" in p.text("alerts-empty"),
          p.text("alerts-empty"))
    eq("none yet: no items", [], shown_alerts(p))
    eq("none yet: the figures say none was sent", {"none": "No alerts sent in the last 30 days."},
       figures(p, 30))
    eq("none yet: no table of figures", 0, len(p.d.find_elements(By.ID, "figures-table")))
    check("none yet: shop-b's alert (sent and read) is not on A's page",
          "#2001" not in p.d.page_source and not p.js("return !!document.getElementById(arguments[0]);",
                                                     "alert-" + ENV["B_ALERT_ID"]))
    eq("none yet: the zone is said", "Times are in your time zone, UTC.", p.text("alerts-zone"))

    m1, m2, m3 = ask_suite("alerts-a")
    p.js("""
      window.__alertsStates = [];
      var l = document.getElementById('alerts-loading'), b = document.getElementById('alerts-refresh');
      new MutationObserver(function () {
        window.__alertsStates.push((l.hidden ? 'idle' : 'loading') + ':' + b.disabled + ':' +
          document.getElementById('panel-alerts').getAttribute('aria-busy'));
      }).observe(l, {attributes: true});""")
    refresh_alerts(p)
    states = p.js("return window.__alertsStates;")
    check("Refresh: the loading state showed (Refresh disabled, the panel aria-busy)",
          "loading:true:true" in states, states)
    check("Refresh: then back (Refresh enabled)", states and states[-1] == "idle:false:false", states)
    eq("the alerts appear, newest first, each with its state",
       [[m3, "failed", "Failed", "New order"], [m2, "delivered", "Delivered", "New login to your account"],
        [m1, "read", "Read", "New order"]], shown_alerts(p))
    check("no empty state once there are alerts", not p.visible("alerts-empty"))
    d3 = p.text("alert-%s-detail" % m3)
    contains("failed: the reason in words", d3, "Failed: WhatsApp could not deliver it to your number")
    contains("failed: with the provider's code", d3, "(code 131026)")
    contains("read: when it was read", p.text("alert-%s-detail" % m1), "Read ")
    contains("delivered: not read yet", p.text("alert-%s-detail" % m2), "not read yet")
    contains("the alert's text is shown", p.text("alert-%s-text" % m1), "New order #1001")
    contains("the channel is shown", p.el("alert-%s" % m1).find_element(By.CLASS_NAME, "alert-meta").text,
             "WhatsApp")
    eq("7 days: 1 sent, delivered and read 100%, read within 20 seconds, 1 failed",
       {"sent": "1", "delivered": "100% (1 of 1)", "read": "100% (1 of 1)",
        "median": "20 seconds", "failed": "1"}, figures(p, 7))
    eq("30 days: 2 sent, delivered 100%, read 50%, within 20 seconds, 1 failed",
       {"sent": "2", "delivered": "100% (2 of 2)", "read": "50% (1 of 2)",
        "median": "20 seconds", "failed": "1"}, figures(p, 30))
    check_alert_times(p, token, "UTC")
    check("shop-b's alert is still not on A's page",
          "#2001" not in p.d.page_source and "alert-" + ENV["B_ALERT_ID"] not in p.d.page_source)

    # A page at a time: two, then the older one by keyboard.
    p.js("document.getElementById('panel-alerts').dataset.pageSize = '2';")
    refresh_alerts(p)
    eq("two a page: the two newest", [m3, m2], [a[0] for a in shown_alerts(p)])
    check("two a page: 'Show older alerts' is offered", p.visible("alerts-more"))
    p.js("document.getElementById('alerts-refresh').focus();")
    check("keyboard: Tab goes from Refresh to 'Show older alerts'", tab_to(p, "alerts-more"))
    p.d.switch_to.active_element.send_keys(Keys.ENTER)
    p.wait("the older alert", lambda: len(shown_alerts(p)) == 3)
    eq("older: the third added below", [m3, m2, m1], [a[0] for a in shown_alerts(p)])
    check("older: nothing more to show, the button goes", not p.visible("alerts-more"))
    eq("older: the focus is on the first alert added", "alert-" + m1, p.js("return document.activeElement.id;"))
    p.js("document.getElementById('panel-alerts').dataset.pageSize = '20';")
    p.el("tab-general").click()
    return m1, m2, m3


def step_alerts_zone_and_failures(p, ids):
    token = p.session_token()
    m1, m2, m3 = ids
    open_alerts(p)
    eq("the zone changed on General: the times follow it", "Times are in your time zone, Europe/Berlin.",
       p.text("alerts-zone"))
    check_alert_times(p, token, "Europe/Berlin")

    # The database down: the API's 503 is said in words, not a blank tab.
    ask_suite("db-down")
    try:
        refresh_alerts(p)
        contains("database down: the error in words", p.text("alerts-error"),
                 "could not be loaded: the service is not available right now")
        check("database down: no stale list under the error", not p.visible("alerts-section"))
        eq("database down: the error is an alert for screen readers", "alert", p.attr("alerts-error", "role"))
        check("database down: Refresh stays usable", p.el("alerts-refresh").is_enabled())
    finally:
        ask_suite("db-up")
    end = time.time() + 20
    while time.time() < end:
        refresh_alerts(p)
        if p.visible("alerts-section"):
            break
        time.sleep(0.5)
    eq("database back: Refresh shows the alerts again, no error", ([m3, m2, m1], ""),
       ([a[0] for a in shown_alerts(p)], p.text("alerts-error")))

    # The network fails (the request blocked in the browser).
    p.d.execute_cdp_cmd("Network.enable", {})
    p.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/tenants/me/alerts*"]})
    try:
        refresh_alerts(p)
        contains("network down: the error in words", p.text("alerts-error"), "the service cannot be reached")
    finally:
        p.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    # Older alerts while the network fails: said under the list, the list kept.
    p.js("document.getElementById('panel-alerts').dataset.pageSize = '2';")
    refresh_alerts(p)
    eq("network back: the first page of two", [m3, m2], [a[0] for a in shown_alerts(p)])
    p.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/tenants/me/alerts*"]})
    try:
        p.el("alerts-more").click()
        p.wait_text("alerts-more-error", "cannot be reached")
        contains("older alerts, network down: the error in words", p.text("alerts-more-error"),
                 "Older alerts could not be loaded")
        eq("older alerts, network down: the list kept, the button usable again", ([m3, m2], True),
           ([a[0] for a in shown_alerts(p)], p.el("alerts-more").is_enabled()))
    finally:
        p.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    p.el("alerts-more").click()
    p.wait("the older alert", lambda: len(shown_alerts(p)) == 3)
    eq("older alerts, network back: added, the error gone", ([m3, m2, m1], ""),
       ([a[0] for a in shown_alerts(p)], p.text("alerts-more-error")))
    # The API refuses the request (a page size over its 200): its words are shown.
    p.js("document.getElementById('panel-alerts').dataset.pageSize = '500';")
    refresh_alerts(p)
    contains("the API's 400: its message shown", p.text("alerts-error"), "could not be loaded (limit")
    p.js("document.getElementById('panel-alerts').dataset.pageSize = '20';")
    refresh_alerts(p)
    eq("then Refresh: the alerts again", [m3, m2, m1], [a[0] for a in shown_alerts(p)])

    # An alert held for quiet hours: Held, until when, in the seller's zone.
    m4, = ask_suite("held-a")
    refresh_alerts(p)
    eq("held: on top, Held, its type in words", [m4, "held", "Held", "Out of stock"], shown_alerts(p)[0])
    status, body = http("GET", BASE + "/tenants/me/alerts?limit=1", token=token)
    until = ((body or {}).get("alerts") or [{}])[0].get("held_until") if status == 200 else None
    detail = p.text("alert-%s-detail" % m4)
    if check("held: the API gives held_until", until is not None, body):
        day, hm = zone_time(until, "Europe/Berlin")
        check("held: until the end of the quiet hours, in the seller's zone (%s, %s)" % (day, hm),
              detail.startswith("Held for your quiet hours, until") and day in detail and hm in detail, detail)
    p.el("tab-general").click()


def step_layout_and_shots(p):
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        p.size = size
        p.viewport(size)
        time.sleep(0.2)
        overflow = p.js("return document.documentElement.scrollWidth - window.innerWidth;")
        check("%s (%dx%d): no sideways scrolling" % (label, size[0], size[1]), overflow <= 0, overflow)
        for tab, name in (("tab-general", "general"), ("tab-notifications", "notifications"),
                          ("tab-alerts", "recent-alerts")):
            p.el(tab).click()
            fits = p.js("var t = document.querySelector('.tabs'); return t.scrollWidth <= t.clientWidth;")
            check("%s: the tabs fit on one line with %s selected" % (label, name), fits)
            if tab == "tab-notifications":
                open_notifications(p)
                overflow = p.js("return document.documentElement.scrollWidth - window.innerWidth;")
                check("%s: Notifications without sideways scrolling" % label, overflow <= 0, overflow)
                check("%s: a locked type's note is shown" % label, p.visible("pref-payment-failed-locked"))
                right = p.js("return document.getElementById('pref-order-placed-channels')"
                             ".getBoundingClientRect().right <= window.innerWidth;")
                check("%s: a type's channels select fits the width" % label, right)
            if tab == "tab-alerts":
                p.wait("the Recent alerts tab loaded", lambda: alerts_settled(p))
                overflow = p.js("return document.documentElement.scrollWidth - window.innerWidth;")
                check("%s: Recent alerts without sideways scrolling" % label, overflow <= 0, overflow)
                eq("%s: the four alerts are shown" % label, 4, len(shown_alerts(p)))
                if label == "phone":
                    cards = p.js("var r = document.getElementById('alerts-figures-body').getBoundingClientRect();"
                                 "return r.right <= window.innerWidth;")
                    check("phone: the figures fit the width", cards)
            path = p.shot("settings-%s-%s" % (name, label))
            check("screenshot %s" % os.path.basename(path), os.path.getsize(path) > 1000)
        p.el("tab-general").click()
        if label == "phone":
            w = p.js("return document.getElementById('save').getBoundingClientRect().width;")
            check("phone: Save spans the width (thumb-sized)", w > 300, w)
    p.size = DESKTOP
    p.viewport(DESKTOP)


def step_csp(p):
    # An inline script put into the page is not run: the CSP is in force in the browser.
    ran = p.js("""
      var s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.head.appendChild(s);
      return window.__inlineRan === true;""")
    eq("CSP: an inline script is refused by the browser", False, ran)
    found = False
    for entry in p.d.get_log("browser"):
        msg = entry.get("message", "")
        if "inline script" in msg and "Content Security Policy" in msg:
            found = True
        elif entry.get("level") == "SEVERE" and not any(x.search(msg) for x in EXPECTED_CONSOLE):
            console_errors.append(msg)
    check("CSP: the refusal is reported in the console", found)


def step_logout_then_b(p):
    a_token = p.session_token()
    p.el("logout").click()
    p.wait("the login form", lambda: p.visible("login-number"))
    contains("logout: back to the login", p.text("banner"), "logged out")
    eq("logout: sessionStorage forgot the token", None, p.session_token())
    eq("logout: A's number is gone from the form", "", p.value("whatsapp-number"))
    eq("logout: A's name is gone", "", p.text("shop-name"))
    status, _ = http("GET", BASE + "/tenants/me", token=a_token)
    eq("logout: the server refuses the ended session", 401, status)

    b_before = tenant("shop-b")
    login(p, B, "B")
    eq("B: B's name is shown", B_NAME, p.text("shop-name"))
    eq("B: B's number is in the field", B, p.value("whatsapp-number"))
    eq("B: B's own zone and language", ("UTC", "en"), (p.value("time-zone"), p.value("language")))
    src = p.d.page_source
    for what, needle in (("name", A_NAME), ("old number", A), ("new number", A2)):
        check("B: A's %s appears nowhere on B's page" % what, needle not in src, needle)
    b_prefs = api_prefs(p.session_token())
    check("B: the API says B's preferences are all still the defaults",
          b_prefs and all(v["enabled"] == v["default"]["enabled"] and
                          v["delivery"] == v["default"]["delivery"] for v in b_prefs.values()), b_prefs)
    eq("B: the API says B's channels are all still the urgencies' defaults",
       {t: v["default"]["channels"] for t, v in b_prefs.items()},
       {t: v["channels"] for t, v in b_prefs.items()})
    open_notifications(p)
    eq("B: B's page shows B's chains (order.placed then email, payment.failed then SMS, then email)",
       ("whatsapp,email", "whatsapp,sms,email"), (chain_ui(p, "order.placed"), chain_ui(p, "payment.failed")))
    eq("B: B's page has no email hint though A now has an email (B has none)", NO_EMAIL,
       p.text("pref-order-placed-channels-hint"))
    eq("B's General tab: B's own (empty) addresses", ("", ""), (p.value("sms-number"), p.value("email")))
    eq("B: B's page shows B's preferences (order.placed on, inventory.low immediate, cart.item_added on)",
       ((True, True, "immediate"), (True, True, "immediate"), (True, True, "hourly")),
       (pref_ui(p, "order.placed"), pref_ui(p, "inventory.low"), pref_ui(p, "cart.item_added")))
    p.el("tab-general").click()
    p.d.refresh()
    p.wait("B's settings after a reload", lambda: p.visible("panel-general"))
    eq("B after a reload: still B", (B_NAME, B), (p.text("shop-name"), p.value("whatsapp-number")))
    eq("B: shop-b unchanged by everything A did", b_before, tenant("shop-b"))
    open_alerts(p)
    eq("B: Recent alerts shows B's one alert, read", [[ENV["B_ALERT_ID"], "read", "Read", "New order"]],
       shown_alerts(p))
    contains("B: its text", p.text("alert-%s-text" % ENV["B_ALERT_ID"]), "New order #2001")
    eq("B: B's figures (read within 5 seconds)",
       {"sent": "1", "delivered": "100% (1 of 1)", "read": "100% (1 of 1)", "median": "5 seconds",
        "failed": "0"},
       figures(p, 7))
    # B's alert ten days old: nothing in the 7 days, still in the 30.
    ask_suite("age-b")
    refresh_alerts(p)
    eq("B, ten days on: the 7 days say none, in numbers and words",
       ({"sent": "0", "delivered": "\u2013", "read": "\u2013", "median": "\u2013", "failed": "0"}, True),
       (figures(p, 7), p.visible("figures-none-7d") and "None sent in the last 7 days" in p.text("figures-none-7d")))
    eq("B, ten days on: the 30 days still count it",
       {"sent": "1", "delivered": "100% (1 of 1)", "read": "100% (1 of 1)", "median": "5 seconds",
        "failed": "0"}, figures(p, 30))
    src = p.d.page_source
    for needle in ("#1001", "#1003", "131026"):
        check("B: A's alert (%s) appears nowhere on B's page" % needle, needle not in src, needle)
    check("B: no alert about a new login (A's) in B's Recent alerts",
          "New login" not in p.js("return document.getElementById('panel-alerts').textContent;"))
    p.el("tab-general").click()
    p.el("logout").click()
    p.wait("the login form", lambda: p.visible("login-number"))


def step_embedded(p):
    jwt = ENV["A_JWT"]
    p.d.get("about:blank")  # a fresh load, as when the platform opens its frame
    p.d.get(PAGE + "#token=" + jwt)
    p.wait("the embedded settings", lambda: p.visible("panel-general"))
    ok("embedded: the fragment's token opens A's settings")
    url = p.d.current_url
    check("embedded: the token is gone from the address bar", jwt not in url and "#" not in url, url)
    eq("embedded: the address is the page's", PAGE, url)
    eq("embedded: A's data", (A_NAME, A2), (p.text("shop-name"), p.value("whatsapp-number")))
    check("embedded: no Log out for the platform's token", not p.visible("logout"))
    eq("embedded: no fragment left in the page's location", "", p.js("return location.hash;"))
    p.d.refresh()
    p.wait("the embedded settings after a reload", lambda: p.visible("panel-general"))
    eq("embedded reload: still A, from sessionStorage", A_NAME, p.text("shop-name"))

    # A shop the platform created without a number saves its other settings.
    p.d.get("about:blank")
    p.d.get(PAGE + "#token=" + ENV["C_JWT"])
    p.wait("shop C's settings", lambda: p.visible("panel-general"))
    eq("no number yet: the field is empty, and says so", ("", True),
       (p.value("whatsapp-number"), "No number yet" in p.text("whatsapp-verified")))
    p.type("time-zone", "Asia/Tokyo")
    p.el("save").click()
    p.wait_text("save-status", "Your settings are saved")
    eq("no number yet: the zone saved without one", ("Asia/Tokyo", None),
       (tenant("shop-c").get("time_zone"), tenant("shop-c").get("whatsapp_number")))
    open_notifications(p)
    eq("no number, no email: an urgent type's hint names both, each a button, in the chain's order",
       ["sms-number", "email"],
       p.js("return Array.from(document.querySelectorAll('#pref-payment-failed-channels-hint button'))"
            ".map(function (b) { return b.dataset.field; });"))
    contains("no number: the SMS hint's words", p.text("pref-payment-failed-channels-hint"),
             "Add a number for SMS in General to get SMS alerts")
    p.el("pref-payment-failed-channels-add-sms").click()
    eq("the SMS hint's button: the General tab's SMS field focused", "sms-number", focused(p))
    open_alerts(p)
    check("shop C, never sent an alert: 'No alerts yet'", p.visible("alerts-empty"))
    eq("shop C: no alerts listed, none of A's or B's", [], shown_alerts(p))
    eq("shop C: the figures say none was sent", {"none": "No alerts sent in the last 30 days."}, figures(p, 30))
    eq("shop C: times in its zone", "Times are in your time zone, Asia/Tokyo.", p.text("alerts-zone"))

    # A new token handed to the page already open (same document: the hashchange).
    p.js("sessionStorage.clear();")
    p.d.get(PAGE + "#token=not-a-token")
    p.wait("the login form", lambda: p.visible("login-number"))
    contains("a refused token: the login, with words", p.text("banner"), "session has ended")
    eq("a refused token: forgotten", None, p.session_token())
    check("a refused token: gone from the address bar", "not-a-token" not in p.d.current_url)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    try:
        os.remove(os.path.join(SHOTS, "failure.png"))  # a past run's
    except FileNotFoundError:
        pass
    try:
        driver = start_browser()
    except Exception as e:  # no chromium, no driver: the suite fails, loudly
        fail("start headless chromium (make deps installs chromium, chromium-driver)", e)
        return 1
    p = Page(driver)
    p.size = DESKTOP
    steps = [step_login_a, step_alerts_appear, step_number_checks, step_change_number]
    code = ids = None
    try:
        p.viewport(DESKTOP)
        for step in steps:
            r = step(p)
            if step is step_change_number:
                code = r
            if step is step_alerts_appear:
                ids = r
            p.logs()
        for step in (lambda q: step_reload_pending(q, code), step_keyboard, step_notifications, step_channels,
                     lambda q: step_alerts_zone_and_failures(q, ids),
                     step_layout_and_shots, step_csp, step_logout_then_b, step_embedded):
            step(p)
            p.logs()
    except Exception as e:
        fail("the browser run ended early: %s" % e, traceback.format_exc().splitlines()[-3:])
        try:
            p.d.save_screenshot(os.path.join(SHOTS, "failure.png"))
            print("       page at failure: " + os.path.join(SHOTS, "failure.png"), flush=True)
        except Exception:
            pass
    finally:
        try:
            p.logs()
        except Exception:
            pass
        eq("no unexpected console errors", [], console_errors)
        with open(os.path.join(WORK, "tokens"), "w") as f:
            for t in session_tokens:
                if t:
                    f.write(t + "\n")
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
