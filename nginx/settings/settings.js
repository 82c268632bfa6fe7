/*
 * The seller's settings page (issue 19). No build step, no library, nothing fetched from
 * elsewhere: the Content-Security-Policy (nginx/monitoring.conf.in) allows this file, the
 * stylesheet and fetch() to this origin, nothing more.
 *
 * The token. Embedded, the platform opens /settings/#token=<its JWT for the seller>: the
 * fragment never reaches a server or a log; it is read here and removed from the address bar
 * at once (history.replaceState). Standalone, the seller logs in by WhatsApp: the number
 * (POST /tenants/login), then the 6-digit code (POST /tenants/session) gives a session token.
 * Either token is kept in this tab's sessionStorage (so a reload keeps the seller logged in;
 * closing the tab forgets it) and in memory; never in localStorage, a cookie or a URL. Log out
 * ends a session on the server (DELETE /tenants/session) and forgets the token; a platform
 * token is the platform's to end, so there is no Log out for it.
 *
 * The API: GET/PATCH /tenants/me, GET/PATCH /tenants/me/preferences, POST /tenants/me/verify,
 * GET /tenants/me/alerts, POST /tenants/login, POST/DELETE /tenants/session (README, "Sellers",
 * "Alerts to sellers" and "The seller's alerts"). Errors are {"error":{"code","message","field"}}; a 400
 * names the field, and its message is shown next to that field.
 */
'use strict';

(function () {
  var TOKEN_KEY = 'whatsapp-monitoring.settings.token';
  /* The server's LOGIN_CODE_RESEND_SECONDS default; a 429's Retry-After corrects it. */
  var RESEND_SECONDS = 60;
  var SAVED_SHOWN_MS = 3000;

  var state = { token: null, tenant: null, loginNumber: null };
  var countdowns = {};

  function $(id) { return document.getElementById(id); }

  /* ------------------------------------------------------------------ the token */

  function tokenFromFragment() {
    if (!location.hash || location.hash.length < 2) return null;
    var params = new URLSearchParams(location.hash.slice(1));
    var token = params.get('token');
    /* Out of the address bar and the history entry, whatever the fragment held. */
    history.replaceState(null, '', location.pathname);
    return token;
  }

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function keepToken(token) {
    state.token = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage refused (private mode): memory only */ }
  }

  /* A platform JWT has dots; a session token (43 base64url characters) has none. */
  function isSession(token) { return !!token && token.indexOf('.') < 0; }

  /* ------------------------------------------------------------------ the API */

  function retryAfter(res, data) {
    var h = parseInt(res.headers.get('Retry-After') || '', 10);
    if (h > 0) return h;
    if (data && data.error && data.error.retry_after_seconds > 0) return data.error.retry_after_seconds;
    if (data && data.retry_after_seconds > 0) return data.retry_after_seconds;
    return 0;
  }

  /* {status, data, error, retryAfter}; status 0 when the service could not be reached. */
  async function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = 'Bearer ' + state.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    var res;
    try {
      res = await fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer'
      });
    } catch (e) {
      return { status: 0, data: null, error: { code: 'network', message: '' }, retryAfter: 0 };
    }
    var data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    var out = { status: res.status, data: data, error: null, retryAfter: retryAfter(res, data) };
    if (!res.ok) out.error = (data && data.error) || { code: 'http_' + res.status, message: '' };
    return out;
  }

  /* ------------------------------------------------------------------ words for errors */

  var NOUNS = {
    whatsapp_number: 'The number', time_zone: 'The time zone', quiet_start: 'The start time',
    quiet_end: 'The end time', language: 'The language', code: 'The code',
    sms_number: 'The SMS number', email: 'The email address'
  };

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  /* A sentence a seller understands for an API error. */
  function explain(r) {
    var e = r.error || {};
    switch (e.code) {
      case 'network':
        return 'The service cannot be reached. Check your connection and try again.';
      case 'whatsapp_number_in_use':
        return 'This number is already used by another shop.';
      case 'invalid_code':
        return 'That code is not right. Check the latest WhatsApp message and try again.';
      case 'code_expired':
        return 'That code has expired. Ask for a new code.';
      case 'too_many_attempts':
        return 'Too many wrong codes. Ask for a new code.';
      case 'nothing_to_verify':
        return 'There is no new number to confirm.';
      case 'rate_limited':
        return 'Too many code requests. You can ask again in ' + plural(r.retryAfter || RESEND_SECONDS, 'second') + '.';
      case 'login_unavailable':
      case 'verification_unavailable':
        return 'Codes cannot be sent on WhatsApp right now. Please try again later.';
      case 'invalid_field':
        if (e.message && e.field && e.message.indexOf(e.field + ' ') === 0 && NOUNS[e.field])
          return NOUNS[e.field] + e.message.slice(e.field.length) + '.';
        return e.message || 'This value is not accepted.';
    }
    if (r.status >= 500)
      return 'The service is not available right now. Nothing was changed; please try again in a moment.';
    return e.message || 'Something went wrong (' + r.status + '). Please try again.';
  }

  /* ------------------------------------------------------------------ fields and messages */

  function showError(inputId, text) {
    var input = $(inputId), err = $(inputId + '-error');
    if (err) err.textContent = text || '';
    if (input) {
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  function clearErrors(root) {
    root.querySelectorAll('.error').forEach(function (p) { p.textContent = ''; });
    root.querySelectorAll('[aria-invalid]').forEach(function (i) { i.removeAttribute('aria-invalid'); });
  }

  function banner(text, isError) {
    var b = $('banner');
    b.textContent = text || '';
    b.hidden = !text;
    b.classList.toggle('banner-error', !!isError);
  }

  /* The digits of a number as typed: spaces, dashes, dots and brackets are decoration. */
  function compactNumber(s) { return (s || '').replace(/[\s\-.()]/g, ''); }

  /* {ok, number, problem}: the international format (+, country code, 8 to 15 digits). */
  function checkNumber(s) {
    var n = compactNumber(s);
    if (!n) return { ok: false, number: '', problem: 'Enter your WhatsApp number, e.g. +2349012345678.' };
    if (n[0] !== '+')
      return { ok: false, number: n, problem: 'Start with + and the country code, e.g. +2349012345678.' };
    var digits = n.slice(1);
    if (!/^[0-9]*$/.test(digits))
      return { ok: false, number: n, problem: 'Only digits after the +.' };
    if (digits[0] === '0')
      return { ok: false, number: n, problem: 'The country code cannot start with 0: write + then the country code, e.g. +234.' };
    if (digits.length < 8)
      return { ok: false, number: n, problem: 'Too short: + then 8 to 15 digits (' + plural(digits.length, 'digit') + ' so far).' };
    if (digits.length > 15)
      return { ok: false, number: n, problem: 'Too long: + then at most 15 digits (' + digits.length + ' here).' };
    return { ok: true, number: n, problem: '' };
  }

  /* The live line under a number field: what will be saved, or what is missing. */
  function showFormat(input, line) {
    var v = input.value.trim();
    if (!v) { line.textContent = ''; line.classList.remove('ok'); return; }
    var c = checkNumber(v);
    line.textContent = c.ok ? 'International format: ' + c.number + ' \u2713' : c.problem;
    line.classList.toggle('ok', c.ok);
  }

  /*
   * An email address as the API takes it (common/tenants/tenant.c): one '@' with 1 to 64
   * characters before it, a dot in the domain, printable ASCII without spaces or <>()[],;:\",
   * at most 254 characters. '' when it is fine, else what is wrong in words.
   */
  function emailProblem(s) {
    var at = s.indexOf('@'), domain = s.slice(at + 1), dot = domain.lastIndexOf('.');
    if (at < 0) return 'An email address has an @, e.g. name@example.com.';
    if (s.length > 254) return 'Too long: at most 254 characters.';
    if (/[^\x21-\x7e]|[<>()[\],;:\\"]/.test(s)) return 'No spaces or <>()[],;:\\" in an email address.';
    if (at === 0 || at > 64 || domain.indexOf('@') >= 0 || dot <= 0 || dot === domain.length - 1 ||
        domain.indexOf('..') >= 0)
      return 'Write it as name@example.com.';
    return '';
  }

  /* "7:5" is not a time; "7:05" becomes "07:05". */
  function checkTime(s) {
    var m = /^([0-9]{1,2}):([0-9]{2})$/.exec((s || '').trim());
    if (!m || +m[1] > 23 || +m[2] > 59) return null;
    return (m[1].length === 1 ? '0' : '') + m[1] + ':' + m[2];
  }

  /* ------------------------------------------------------------------ countdowns */

  /* Disable BUTTON for SECONDS, its label counting down; then put it back. */
  function countdown(buttonId, seconds) {
    var b = $(buttonId);
    if (!b.dataset.label) b.dataset.label = b.textContent;
    clearInterval(countdowns[buttonId]);
    var end = Date.now() + seconds * 1000;
    function tick() {
      var left = Math.ceil((end - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(countdowns[buttonId]);
        delete countdowns[buttonId];
        b.disabled = false;
        b.textContent = b.dataset.label;
        return;
      }
      b.disabled = true;
      b.textContent = b.dataset.label + ' (' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0') + ')';
    }
    tick();
    countdowns[buttonId] = setInterval(tick, 1000);
  }

  function stopCountdowns() {
    Object.keys(countdowns).forEach(function (id) {
      clearInterval(countdowns[id]);
      var b = $(id);
      b.disabled = false;
      if (b.dataset.label) b.textContent = b.dataset.label;
    });
    countdowns = {};
  }

  /* ------------------------------------------------------------------ views */

  function showLogin(message, isError) {
    state.tenant = null;
    $('settings').hidden = true;
    $('logout').hidden = true;
    $('shop-name').hidden = true;
    $('shop-name').textContent = '';
    $('general-form').reset();
    clearErrors($('general-form'));
    $('verify').hidden = true;
    clearPrefs();
    clearAlerts();
    $('login').hidden = false;
    $('login-number-form').hidden = false;
    $('login-code-form').hidden = true;
    clearErrors($('login'));
    banner(message || '', isError);
    $('login-number').focus();
  }

  function showSettings() {
    $('login').hidden = true;
    $('settings').hidden = false;
    $('logout').hidden = !isSession(state.token);
  }

  function fillLanguage(tag) {
    var sel = $('language');
    if (tag && !Array.prototype.some.call(sel.options, function (o) { return o.value === tag; })) {
      var o = document.createElement('option');
      o.value = tag;
      o.textContent = tag;
      sel.appendChild(o);
    }
    sel.value = tag || 'en';
  }

  /* The form shows the tenant T (the API's object). */
  function fill(t) {
    state.tenant = t;
    var shop = $('shop-name');
    shop.textContent = t.display_name || '';
    shop.hidden = !t.display_name;
    var num = $('whatsapp-number');
    num.value = t.pending_whatsapp_number || t.whatsapp_number || '';
    showFormat(num, $('whatsapp-number-format'));
    var v = $('whatsapp-verified');
    if (t.pending_whatsapp_number && t.whatsapp_number)
      v.textContent = 'Alerts keep going to ' + t.whatsapp_number + ' until you confirm the new number.';
    else if (t.pending_whatsapp_number)
      v.textContent = 'Confirm the new number to start getting alerts.';
    else if (t.whatsapp_number && t.whatsapp_verified)
      v.textContent = 'Confirmed: your alerts go to this number.';
    else if (t.whatsapp_number)
      v.textContent = 'Not confirmed yet.';
    else
      v.textContent = 'No number yet: add one to get alerts on WhatsApp.';
    $('sms-number').value = t.sms_number || '';
    showFormat($('sms-number'), $('sms-number-format'));
    $('email').value = t.email || '';
    $('time-zone').value = t.time_zone || 'UTC';
    $('quiet-start').value = t.quiet_start || '';
    $('quiet-end').value = t.quiet_end || '';
    fillLanguage(t.language);
    var pending = !!t.pending_whatsapp_number;
    $('verify').hidden = !pending;
    if (pending)
      $('verify-text').textContent = 'We sent a 6-digit code on WhatsApp to ' + t.pending_whatsapp_number +
        '. Enter it to confirm the number.';
    channelHints();
  }

  async function loadMe() {
    var r = await api('GET', '/tenants/me');
    if (r.status === 200) {
      fill(r.data);
      showSettings();
      loadPrefs();
      if ($('tab-alerts').getAttribute('aria-selected') === 'true') loadAlerts();
      return;
    }
    if (r.status === 401) {
      keepToken(null);
      showLogin('Your session has ended. Log in again with your WhatsApp number.', true);
      return;
    }
    /* Keep the token: the service may be back in a moment. */
    showLogin('');
    $('login').hidden = true;
    banner(explain(r), true);
  }

  /* Any answer that says the token is no good ends the page's session. */
  function sessionEnded(r) {
    if (r.status !== 401) return false;
    keepToken(null);
    stopCountdowns();
    showLogin('Your session has ended. Log in again with your WhatsApp number.', true);
    return true;
  }

  /* ------------------------------------------------------------------ tabs */

  function selectTab(tab, focus) {
    var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    });
    if (focus) tab.focus();
    if (tab.id === 'tab-notifications') loadPrefs();
    if (tab.id === 'tab-alerts') loadAlerts();
  }

  function setupTabs() {
    var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
    tabs.forEach(function (tab, i) {
      tab.addEventListener('click', function () { selectTab(tab, false); });
      tab.addEventListener('keydown', function (ev) {
        var next = null;
        if (ev.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
        else if (ev.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
        else if (ev.key === 'Home') next = tabs[0];
        else if (ev.key === 'End') next = tabs[tabs.length - 1];
        if (!next) return;
        ev.preventDefault();
        selectTab(next, true);
      });
    });
  }

  /* ------------------------------------------------------------------ the General tab */

  /* A Save button's state: idle (LABEL), loading ("Saving…", disabled), success ("Saved ✓"). */
  function setButtonState(buttonId, formId, s, label) {
    var b = $(buttonId);
    b.dataset.state = s;
    b.disabled = s === 'loading';
    b.textContent = s === 'loading' ? 'Saving\u2026' : s === 'success' ? 'Saved \u2713' : label;
    $(formId).setAttribute('aria-busy', s === 'loading' ? 'true' : 'false');
  }

  function setSaveState(s) { setButtonState('save', 'general-form', s, 'Save'); }

  /* What the form says that differs from the tenant; null (and errors shown) if it is wrong. */
  function changes() {
    var t = state.tenant || {}, body = {}, ok = true;
    var num = checkNumber($('whatsapp-number').value);
    if (!num.number && !t.whatsapp_number && !t.pending_whatsapp_number) {
      /* No number yet, none typed: the other settings may still be saved. */
    } else if (!num.ok) {
      showError('whatsapp-number', num.problem);
      ok = false;
    } else if (num.number !== t.whatsapp_number && num.number !== t.pending_whatsapp_number) {
      body.whatsapp_number = num.number;
    } else if (num.number === t.whatsapp_number && t.pending_whatsapp_number) {
      body.whatsapp_number = num.number; /* back to the current number: cancels the change */
    }
    var sms = $('sms-number').value.trim(), smsCheck = sms ? checkNumber(sms) : null;
    if (smsCheck && !smsCheck.ok) {
      showError('sms-number', smsCheck.problem);
      ok = false;
    } else if ((smsCheck ? smsCheck.number : null) !== (t.sms_number || null)) {
      body.sms_number = smsCheck ? smsCheck.number : null; /* empty: the WhatsApp number */
    }
    var email = $('email').value.trim(), emailBad = email ? emailProblem(email) : '';
    if (emailBad) {
      showError('email', emailBad);
      ok = false;
    } else if ((email || null) !== (t.email || null)) {
      body.email = email || null;
    }
    var tz = $('time-zone').value.trim();
    if (!tz) {
      showError('time-zone', 'Choose a time zone, e.g. Africa/Lagos.');
      ok = false;
    } else if (tz !== t.time_zone) {
      body.time_zone = tz;
    }
    var qs = $('quiet-start').value.trim(), qe = $('quiet-end').value.trim();
    var s = qs ? checkTime(qs) : null, e = qe ? checkTime(qe) : null;
    if (qs && !s) { showError('quiet-start', 'Write the time as HH:MM, e.g. 22:00.'); ok = false; }
    if (qe && !e) { showError('quiet-end', 'Write the time as HH:MM, e.g. 07:00.'); ok = false; }
    if (ok && !!qs !== !!qe) {
      showError(qs ? 'quiet-end' : 'quiet-start', 'Give both times, or leave both empty for no quiet hours.');
      ok = false;
    }
    if (ok && s && s === e) { showError('quiet-end', 'The end must differ from the start.'); ok = false; }
    if (ok && (s !== (t.quiet_start || null) || e !== (t.quiet_end || null))) {
      body.quiet_start = s;
      body.quiet_end = e;
    }
    var lang = $('language').value;
    if (lang !== t.language) body.language = lang;
    return ok ? body : null;
  }

  var FIELD_INPUT = {
    whatsapp_number: 'whatsapp-number', time_zone: 'time-zone', quiet_start: 'quiet-start',
    quiet_end: 'quiet-end', language: 'language', sms_number: 'sms-number', email: 'email'
  };

  /* An error of a PATCH, next to its field when it names one. */
  function showSaveError(r) {
    var field = r.error && r.error.field;
    if (r.error && r.error.code === 'rate_limited') field = 'whatsapp_number';
    var id = field && FIELD_INPUT[field];
    if (id) {
      showError(id, explain(r));
      $(id).focus();
    } else {
      $('general-error').textContent = explain(r);
    }
    if (r.error && r.error.code === 'rate_limited' && r.retryAfter) countdown('verify-resend', r.retryAfter);
  }

  var savedTimer = null;

  async function save(ev) {
    ev.preventDefault();
    var form = $('general-form');
    clearErrors(form);
    $('save-status').textContent = '';
    clearTimeout(savedTimer);
    var body = changes();
    if (!body) {
      var bad = form.querySelector('[aria-invalid="true"]');
      if (bad) bad.focus();
      setSaveState('idle');
      return;
    }
    if (!Object.keys(body).length) {
      $('save-status').textContent = 'Nothing to save: no changes.';
      return;
    }
    setSaveState('loading');
    var r = await api('PATCH', '/tenants/me', body);
    if (sessionEnded(r)) return;
    if (r.status !== 200) {
      setSaveState('idle');
      showSaveError(r);
      return;
    }
    fill(r.data);
    setSaveState('success');
    var pending = body.whatsapp_number && r.data.pending_whatsapp_number === body.whatsapp_number;
    if (pending) {
      $('save-status').textContent = 'Saved. Enter the code we sent to ' + body.whatsapp_number + ' on WhatsApp.';
      countdown('verify-resend', RESEND_SECONDS);
      $('verify-code').value = '';
      $('verify-code').focus();
    } else {
      $('save-status').textContent = 'Your settings are saved.';
    }
    savedTimer = setTimeout(function () { setSaveState('idle'); }, SAVED_SHOWN_MS);
  }

  async function verify() {
    var code = $('verify-code').value.trim();
    showError('verify-code', '');
    $('save-status').textContent = '';
    if (!/^[0-9]{6}$/.test(code)) {
      showError('verify-code', 'The code is the 6 digits we sent you on WhatsApp.');
      $('verify-code').focus();
      return;
    }
    var b = $('verify-submit');
    b.disabled = true;
    b.dataset.state = 'loading';
    var r = await api('POST', '/tenants/me/verify', { code: code });
    b.disabled = false;
    b.dataset.state = 'idle';
    if (sessionEnded(r)) return;
    if (r.status === 200) {
      fill(r.data);
      stopCountdowns();
      $('save-status').textContent = 'Number confirmed: your alerts now go to ' + r.data.whatsapp_number + '.';
      $('whatsapp-number').focus();
      return;
    }
    showError('verify-code', explain(r));
    $('verify-code').focus();
    if (r.error && r.error.code === 'nothing_to_verify') loadMe();
  }

  async function resendVerification() {
    var t = state.tenant;
    if (!t || !t.pending_whatsapp_number) return;
    showError('verify-code', '');
    var b = $('verify-resend');
    b.disabled = true;
    var r = await api('PATCH', '/tenants/me', { whatsapp_number: t.pending_whatsapp_number });
    b.disabled = false;
    if (sessionEnded(r)) return;
    if (r.status === 200) {
      fill(r.data);
      $('save-status').textContent = 'A new code is on its way to ' + t.pending_whatsapp_number + '.';
      countdown('verify-resend', RESEND_SECONDS);
      return;
    }
    showError('verify-code', explain(r));
    if (r.retryAfter) countdown('verify-resend', r.retryAfter);
  }

  async function cancelVerification() {
    var t = state.tenant;
    if (!t || !t.whatsapp_number) {
      $('whatsapp-number').value = '';
      $('whatsapp-number').focus();
      return;
    }
    var r = await api('PATCH', '/tenants/me', { whatsapp_number: t.whatsapp_number });
    if (sessionEnded(r)) return;
    if (r.status !== 200) { showError('verify-code', explain(r)); return; }
    fill(r.data);
    stopCountdowns();
    $('save-status').textContent = 'Kept ' + r.data.whatsapp_number + ': the new number was not saved.';
    $('whatsapp-number').focus();
  }

  function timeZones() {
    var zones = [];
    try {
      if (typeof Intl.supportedValuesOf === 'function') zones = Intl.supportedValuesOf('timeZone');
    } catch (e) { zones = []; }
    if (zones.indexOf('UTC') < 0) zones = ['UTC'].concat(zones);
    var list = $('time-zones');
    zones.forEach(function (z) {
      var o = document.createElement('option');
      o.value = z;
      list.appendChild(o);
    });
  }

  /* ------------------------------------------------------------------ the Notifications tab */

  /*
   * GET /tenants/me/preferences lists every alert type: enabled, delivery (immediate, hourly,
   * daily), channels (the fallback chain in order, whatsapp first: chosen here among CHAINS),
   * locked (security.*, payment.failed: cannot be switched off; their channels may change),
   * urgency, default (the urgency's enabled, delivery, channels). Save sends PATCH with only
   * what the form changed; a 400 names the member ("preferences.order.placed.channels"), and
   * its words go next to that type. A chain with a channel the tenant has no address for (no
   * email; no SMS number and no WhatsApp number) says so under its select, with a button to
   * the General tab's field (channelHints, run again when the tenant changes).
   */
  var TYPE_NAMES = {
    'conversation.started': 'A customer starts a conversation',
    'order.placed': 'New order',
    'payment.confirmed': 'Payment received',
    'payment.failed': 'Payment failed',
    'inventory.low': 'Stock running low',
    'inventory.out_of_stock': 'Out of stock',
    'security.login': 'New login to your account',
    'security.password_changed': 'Password changed',
    'system.notice': 'Notices from the service',
    'cart.item_added': 'Item added to a cart',
    'cart.item_removed': 'Item removed from a cart',
    'cart.checked_out': 'Cart checked out',
    'cart.abandoned': 'Abandoned cart'
  };
  var URGENCY_WORDS = {
    urgent: 'Urgent: comes even in your quiet hours',
    normal: 'Normal: waits for the end of your quiet hours',
    low: 'Low: waits for the end of your quiet hours'
  };
  var DELIVERIES = [
    ['immediate', 'Immediately'], ['hourly', 'In an hourly digest'], ['daily', 'In a daily digest']
  ];
  var CHANNEL_NAMES = { whatsapp: 'WhatsApp', sms: 'SMS', email: 'Email' };
  /* The chains offered, as the select's values (the API's channels joined by commas). */
  var CHAINS = [
    ['whatsapp', 'WhatsApp only'], ['whatsapp,sms', 'Then SMS'], ['whatsapp,email', 'Then email'],
    ['whatsapp,sms,email', 'Then SMS, then email'], ['whatsapp,email,sms', 'Then email, then SMS']
  ];

  var prefs = { data: null, loading: null, loadingToken: null };

  function typeName(type) { return TYPE_NAMES[type] || type; }

  /* An id-safe form of a type's name: order.placed -> pref-order-placed. */
  function prefId(type) { return 'pref-' + type.replace(/[^a-z0-9]+/gi, '-'); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* One list item: the switch and its label, the urgency, the delivery, the channels. */
  function prefItem(type, p) {
    var id = prefId(type);
    var li = el('li', { 'class': 'pref', id: id, 'data-type': type });
    var head = el('div', { 'class': 'pref-head' });
    var described = [id + '-info'];
    if (p.locked) described.push(id + '-locked');
    described.push(id + '-error');
    var sw = el('input', {
      type: 'checkbox', role: 'switch', 'class': 'switch', id: id + '-enabled',
      'aria-describedby': described.join(' ')
    });
    sw.checked = !!p.enabled || !!p.locked;
    sw.disabled = !!p.locked;
    head.appendChild(sw);
    head.appendChild(el('label', { 'for': id + '-enabled', 'class': 'pref-name' }, typeName(type)));
    li.appendChild(head);
    li.appendChild(el('p', { 'class': 'hint', id: id + '-info' },
      (URGENCY_WORDS[p.urgency] || p.urgency) + '.'));
    if (p.locked)
      li.appendChild(el('p', { 'class': 'locked-note', id: id + '-locked' },
        'Can\u2019t be switched off: you always need to know about this.'));
    var field = el('div', { 'class': 'pref-delivery' });
    field.appendChild(el('label', { 'for': id + '-delivery' }, 'When'));
    var sel = el('select', { id: id + '-delivery', 'aria-describedby': id + '-error' });
    DELIVERIES.forEach(function (d) { sel.appendChild(el('option', { value: d[0] }, d[1])); });
    sel.value = p.delivery;
    field.appendChild(sel);
    li.appendChild(field);
    li.appendChild(channelField(id, p));
    li.appendChild(el('p', { 'class': 'error', id: id + '-error', 'aria-live': 'polite' }));
    return li;
  }

  /* "If WhatsApp does not get through": the chain after WhatsApp, the default marked. */
  function channelField(id, p) {
    var field = el('div', { 'class': 'pref-delivery pref-channels' });
    field.appendChild(el('label', { 'for': id + '-channels' }, 'If WhatsApp fails'));
    var sel = el('select', {
      id: id + '-channels', 'aria-describedby': id + '-channels-hint ' + id + '-error'
    });
    var value = (p.channels || ['whatsapp']).join(','), def = ((p['default'] || {}).channels || []).join(',');
    var chains = CHAINS.slice();
    if (!chains.some(function (c) { return c[0] === value; }))
      chains.push([value, p.channels.map(function (c) { return CHANNEL_NAMES[c] || c; }).join(', then ')]);
    chains.forEach(function (c) {
      sel.appendChild(el('option', { value: c[0] }, c[1] + (c[0] === def ? ' (default)' : '')));
    });
    sel.value = value;
    field.appendChild(sel);
    var wrap = el('div', {});
    wrap.appendChild(field);
    var hint = el('p', { 'class': 'channel-hint', id: id + '-channels-hint', 'aria-live': 'polite' });
    wrap.appendChild(hint);
    sel.addEventListener('change', function () { channelHint(hint, sel.value); });
    channelHint(hint, value);
    return wrap;
  }

  /* The General tab's field a channel needs, and the words when it is empty; null if it has one. */
  function missingAddress(channel) {
    var t = state.tenant || {};
    if (channel === 'email' && !t.email)
      return { field: 'email', text: 'Add an email address in General to get email alerts' };
    if (channel === 'sms' && !t.sms_number && !t.whatsapp_number)
      return { field: 'sms-number', text: 'Add a number for SMS in General to get SMS alerts' };
    return null;
  }

  /* Under a type's chain: a button to each missing address's field, or nothing. */
  function channelHint(hint, value) {
    hint.textContent = '';
    value.split(',').forEach(function (c) {
      var m = missingAddress(c);
      if (!m) return;
      var b = el('button', {
        type: 'button', 'class': 'link-button', id: hint.id.replace(/-hint$/, '-add-') + c, 'data-field': m.field
      }, m.text);
      b.addEventListener('click', function () {
        selectTab($('tab-general'), false);
        $(m.field).focus();
      });
      hint.appendChild(b);
    });
  }

  /* Every type's hint again (the tenant's addresses changed). */
  function channelHints() {
    document.querySelectorAll('#prefs-list select[id$="-channels"]').forEach(function (sel) {
      channelHint($(sel.id + '-hint'), sel.value);
    });
  }

  function fillPrefs(data) {
    prefs.data = data;
    var list = $('prefs-list');
    list.textContent = '';
    Object.keys(data).forEach(function (type) { list.appendChild(prefItem(type, data[type])); });
    $('prefs-form').hidden = false;
  }

  function clearPrefs() {
    prefs.data = null;
    $('prefs-list').textContent = '';
    $('prefs-form').hidden = true;
    $('prefs-loading').hidden = false;
    $('prefs-load-error').textContent = '';
    $('prefs-status').textContent = '';
    setButtonState('prefs-save', 'prefs-form', 'idle', 'Save');
  }

  /* What the form changed, as the PATCH's "preferences" (only the changed members). */
  function prefsChanges() {
    var out = {};
    if (!prefs.data) return out;
    Object.keys(prefs.data).forEach(function (type) {
      var p = prefs.data[type], id = prefId(type), c = {};
      var sw = $(id + '-enabled'), sel = $(id + '-delivery'), ch = $(id + '-channels');
      if (!sw || !sel || !ch) return;
      if (sw.checked !== !!p.enabled) c.enabled = sw.checked;
      if (sel.value !== p.delivery) c.delivery = sel.value;
      if (ch.value !== (p.channels || ['whatsapp']).join(',')) c.channels = ch.value.split(',');
      if (Object.keys(c).length) out[type] = c;
    });
    return out;
  }

  async function loadPrefs() {
    if (!state.token) return;
    if (prefs.loading && prefs.loadingToken === state.token) return prefs.loading;
    if (prefs.data && Object.keys(prefsChanges()).length) return; /* keep the seller's edits */
    var token = state.token;
    var run = (async function () {
      $('prefs-loading').hidden = false;
      $('prefs-load-error').textContent = '';
      var r = await api('GET', '/tenants/me/preferences');
      if (state.token !== token) return; /* logged out, or another token, meanwhile */
      $('prefs-loading').hidden = true;
      if (sessionEnded(r)) return;
      if (r.status !== 200 || !r.data || !r.data.preferences) {
        $('prefs-load-error').textContent = explain(r);
        return;
      }
      fillPrefs(r.data.preferences);
    })();
    /* A load for another token (a logout, a new #token=) meanwhile is ignored, not awaited. */
    prefs.loading = run;
    prefs.loadingToken = token;
    try { await run; } finally { if (prefs.loading === run) prefs.loading = null; }
  }

  /* The type a 400's field names: the longest known type "preferences.<type>..." starts with. */
  function fieldType(field) {
    if (!field || !prefs.data || field.indexOf('preferences.') !== 0) return null;
    var rest = field.slice('preferences.'.length), best = null;
    Object.keys(prefs.data).forEach(function (type) {
      if ((rest === type || rest.indexOf(type + '.') === 0) && (!best || type.length > best.length))
        best = type;
    });
    return best;
  }

  var MEMBER_WORDS = { delivery: 'when it comes', channels: 'the channels' };

  /* A refusal of a PATCH in words, next to the type it names. */
  function showPrefsError(r) {
    var e = r.error || {}, type = fieldType(e.field);
    if (!type) { $('prefs-error').textContent = explain(r); return; }
    var id = prefId(type), member = e.field.slice(('preferences.' + type + '.').length), text;
    if (e.code === 'locked_type')
      text = typeName(type) + ' can\u2019t be switched off: you always get this alert.';
    else if (e.message && e.message.indexOf(e.field + ' ') === 0)
      text = typeName(type) + ': ' + (MEMBER_WORDS[member] || member || 'this setting') +
        e.message.slice(e.field.length) + '.';
    else
      text = typeName(type) + ': ' + (e.message || 'this change is not accepted.');
    $(id + '-error').textContent = text;
    var input = $(id + (member === 'delivery' ? '-delivery' : member === 'channels' ? '-channels' : '-enabled'));
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (!input.disabled) input.focus();
    }
  }

  var prefsSavedTimer = null;

  async function savePrefs(ev) {
    ev.preventDefault();
    var form = $('prefs-form');
    clearErrors(form);
    $('prefs-status').textContent = '';
    clearTimeout(prefsSavedTimer);
    var changed = prefsChanges();
    if (!Object.keys(changed).length) {
      $('prefs-status').textContent = 'Nothing to save: no changes.';
      return;
    }
    setButtonState('prefs-save', 'prefs-form', 'loading', 'Save');
    var r = await api('PATCH', '/tenants/me/preferences', { preferences: changed });
    if (sessionEnded(r)) return;
    if (r.status !== 200 || !r.data || !r.data.preferences) {
      setButtonState('prefs-save', 'prefs-form', 'idle', 'Save');
      showPrefsError(r);
      return;
    }
    fillPrefs(r.data.preferences);
    setButtonState('prefs-save', 'prefs-form', 'success', 'Save');
    $('prefs-status').textContent = 'Your alert choices are saved.';
    prefsSavedTimer = setTimeout(function () {
      setButtonState('prefs-save', 'prefs-form', 'idle', 'Save');
    }, SAVED_SHOWN_MS);
  }

  /* ------------------------------------------------------------------ the Recent alerts tab */

  /*
   * GET /tenants/me/alerts (README, "The seller's alerts"): the alerts sent to the seller,
   * newest first, a page at a time (?limit= the panel's data-page-size; ?before= the previous
   * page's next_before, null when there is nothing older), each with its types, channel, state
   * (queued, held, sent, delivered, read, failed with error_code and reason) and UTC times; and
   * the 7- and 30-day figures. Loaded each time the tab opens and on Refresh; times are shown
   * in the tenant's time zone (GET /tenants/me), said above the list.
   */
  var STATE_WORDS = {
    queued: ['Queued', 'Waiting to be sent.'],
    held: ['Held', 'Held for your quiet hours.'],
    sent: ['Sent', 'Sent to WhatsApp, not delivered to your phone yet.'],
    delivered: ['Delivered', 'Delivered to your phone, not read yet.'],
    read: ['Read', 'Delivered and read.'],
    failed: ['Failed', 'It could not be sent.']
  };
  /* The providers' codes a seller can act on, in words (Meta's, then Twilio's). */
  var FAILURE_WORDS = {
    '131026': 'WhatsApp could not deliver it to your number. Check that WhatsApp is installed and up to date on that phone.',
    '131047': 'WhatsApp allows such a message only within 24 hours of your last message to us.',
    '131049': 'WhatsApp held it back to keep people from getting too many messages.',
    '131050': 'Your number has stopped messages of this kind on WhatsApp.',
    '131021': 'Your number is the one we send from: it cannot get alerts.',
    '131030': 'Your number is not on the list of numbers our test account may write to.',
    '130472': 'WhatsApp held it back (a WhatsApp experiment on your number).',
    '100': 'Your number is not on WhatsApp, or not valid.',
    '63016': 'WhatsApp allows such a message only within 24 hours of your last message to us.',
    '21610': 'Your number asked not to get our messages (it replied STOP).',
    '30003': 'Your phone could not be reached (switched off or out of coverage).',
    '30005': 'Your number is not known to its mobile network.',
    '30006': 'Your number cannot get text messages (a landline, or its network refuses them).'
  };

  var alerts = { seq: 0, nextBefore: null };

  function pageSize() {
    var n = parseInt($('panel-alerts').dataset.pageSize || '', 10);
    return n > 0 ? n : 20;
  }

  /* The tenant's zone if this browser knows it, else UTC; and whether it was the tenant's. */
  function alertZone() {
    var z = (state.tenant && state.tenant.time_zone) || 'UTC';
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: z });
      return z;
    } catch (e) {
      return 'UTC';
    }
  }

  /* "Thu 3 Dec 2026, 14:05" in ZONE, for an ISO time from the API. */
  function when(iso, zone) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
    }).format(d);
  }

  /* Seconds in words: "20 seconds", "3 minutes", "1 hour 5 minutes", "2 days 3 hours". */
  function duration(s) {
    if (s < 60) return plural(s, 'second');
    var m = Math.round(s / 60);
    if (m < 60) return plural(m, 'minute');
    var h = Math.floor(m / 60);
    m %= 60;
    if (h < 24) return plural(h, 'hour') + (m ? ' ' + plural(m, 'minute') : '');
    var d = Math.floor(h / 24);
    h %= 24;
    return plural(d, 'day') + (h ? ' ' + plural(h, 'hour') : '');
  }

  /* N of SENT as a percentage: whole, and never 100% unless all of them. */
  function percent(n, sent) {
    var p = Math.round((100 * n) / sent);
    if (p === 100 && n < sent) p = 99;
    if (p === 0 && n > 0) p = 1;
    return p + '%';
  }

  /*
   * A window's figures as the table's cells: {figure: text, or [rate, " (n of sent)"] shown on
   * two lines}; null when nothing was sent.
   */
  function figureCells(f) {
    f = f || {};
    var sent = f.sent || 0, failed = f.failed || 0, dash = '\u2013';
    if (!sent && !failed) return null;
    var median = f.median_seconds_to_read;
    function rate(n) { return [percent(n, sent), ' (' + n + ' of ' + sent + ')']; }
    return {
      sent: String(sent),
      delivered: sent ? rate(f.delivered || 0) : dash,
      read: sent ? rate(f.read || 0) : dash,
      median: median === null || median === undefined ? (sent ? 'none read yet' : dash) : duration(median),
      failed: String(failed)
    };
  }

  var FIGURE_ROWS = [
    ['sent', 'Sent'], ['delivered', 'Delivered'], ['read', 'Read'],
    ['median', 'Usually read within'], ['failed', 'Failed']
  ];

  /* A table: a row per figure, a column per window; a sentence when the 30 days had none. */
  function fillFigures(figures) {
    var box = $('alerts-figures-body');
    box.textContent = '';
    var windows = [['7d', 'Last 7 days'], ['30d', 'Last 30 days']];
    var cells = windows.map(function (w) { return figureCells(figures && figures[w[0]]); });
    if (!cells[1]) {
      box.appendChild(el('p', { 'class': 'figure-none', id: 'figures-none' },
        'No alerts sent in the last 30 days.'));
    } else {
      var table = el('table', { 'class': 'figures-table', id: 'figures-table' });
      var head = el('tr', {});
      head.appendChild(el('td', {}));
      windows.forEach(function (w) { head.appendChild(el('th', { scope: 'col' }, w[1])); });
      table.appendChild(el('thead', {})).appendChild(head);
      var body = el('tbody', {});
      FIGURE_ROWS.forEach(function (row) {
        var tr = el('tr', {});
        tr.appendChild(el('th', { scope: 'row' }, row[1]));
        windows.forEach(function (w, i) {
          var c = cells[i] || { sent: '0', failed: '0' }, v = c[row[0]] || '\u2013';
          var td = el('td', { 'data-window': w[0], 'data-figure': row[0] }, Array.isArray(v) ? v[0] : v);
          if (Array.isArray(v)) td.appendChild(el('span', { 'class': 'of' }, v[1]));
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(table);
      if (!cells[0])
        box.appendChild(el('p', { 'class': 'hint', id: 'figures-none-7d' }, 'None sent in the last 7 days.'));
    }
    $('alerts-figures').hidden = false;
  }

  /* What an alert was about: its types in words, or what kind of message it was. */
  function alertTitle(a) {
    var names = (a.types || []).map(typeName);
    var digest = a.kind === 'seller_digest';
    if (!names.length) return digest ? 'Digest' : 'Alert';
    return (digest ? 'Digest: ' : '') + names.join(', ');
  }

  function failureWords(a) {
    var words = a.error_code && FAILURE_WORDS[a.error_code];
    if (words) return words;
    if (a.reason) return 'The provider said: \u201c' + a.reason + '\u201d.';
    return 'It could not be sent.';
  }

  /* The state's detail: what happened when, in ZONE. */
  function stateDetail(a, zone) {
    var w = STATE_WORDS[a.state];
    switch (a.state) {
      case 'held':
        return a.held_until ? 'Held for your quiet hours, until ' + when(a.held_until, zone) + '.' : w[1];
      case 'delivered':
        return a.delivered_at ? 'Delivered to your phone ' + when(a.delivered_at, zone) + ', not read yet.' : w[1];
      case 'read':
        return a.read_at ? 'Read ' + when(a.read_at, zone) + '.' : w[1];
      case 'failed':
        return failureWords(a);
    }
    return w ? w[1] : a.state;
  }

  function alertItem(a, zone) {
    var id = 'alert-' + a.message_id;
    var li = el('li', {
      'class': 'alert-item', id: id, 'data-message-id': String(a.message_id), 'data-state': a.state
    });
    var top = el('div', { 'class': 'alert-top' });
    top.appendChild(el('span', { 'class': 'alert-title', id: id + '-title' }, alertTitle(a)));
    var w = STATE_WORDS[a.state] || [a.state, ''];
    top.appendChild(el('span', { 'class': 'state state-' + a.state, id: id + '-state' }, w[0]));
    li.appendChild(top);
    var meta = el('p', { 'class': 'alert-meta' });
    var t = el('time', { datetime: a.created_at, id: id + '-time' }, when(a.created_at, zone));
    meta.appendChild(t);
    meta.appendChild(document.createTextNode(' \u00b7 ' + (CHANNEL_NAMES[a.channel] || a.channel)));
    li.appendChild(meta);
    var detail = el('p', { 'class': 'alert-state-detail', id: id + '-detail' },
      (a.state === 'failed' ? 'Failed: ' : '') + stateDetail(a, zone));
    if (a.state === 'failed' && a.error_code)
      detail.appendChild(el('span', { 'class': 'code' }, ' (code ' + a.error_code + ')'));
    li.appendChild(detail);
    if (a.text) li.appendChild(el('p', { 'class': 'alert-text', id: id + '-text' }, a.text));
    return li;
  }

  function appendAlerts(list, zone) {
    var ol = $('alerts-list');
    list.forEach(function (a) { ol.appendChild(alertItem(a, zone)); });
  }

  function alertsError(r) {
    if (r.status === 0)
      return 'Your recent alerts could not be loaded: the service cannot be reached. Check your connection, then Refresh.';
    if (r.status >= 500)
      return 'Your recent alerts could not be loaded: the service is not available right now. Try Refresh in a moment.';
    var e = r.error || {};
    return 'Your recent alerts could not be loaded' + (e.message ? ' (' + e.message + ')' : ' (' + r.status + ')') +
      '. Try Refresh.';
  }

  function clearAlerts() {
    alerts.seq++;
    alerts.nextBefore = null;
    $('alerts-list').textContent = '';
    $('alerts-figures-body').textContent = '';
    $('alerts-figures').hidden = true;
    $('alerts-section').hidden = true;
    $('alerts-empty').hidden = true;
    $('alerts-more').hidden = true;
    $('alerts-more').disabled = false;
    $('alerts-loading').hidden = true;
    $('alerts-error').textContent = '';
    $('alerts-more-error').textContent = '';
    $('alerts-updated').textContent = '';
    $('alerts-refresh').disabled = false;
    $('panel-alerts').setAttribute('aria-busy', 'false');
  }

  function alertsBusy(on) {
    $('alerts-loading').hidden = !on;
    $('alerts-refresh').disabled = on;
    $('panel-alerts').setAttribute('aria-busy', on ? 'true' : 'false');
  }

  /* The newest page and the figures, replacing what is shown. */
  async function loadAlerts() {
    if (!state.token) return;
    var token = state.token, seq = ++alerts.seq;
    alertsBusy(true);
    $('alerts-error').textContent = '';
    $('alerts-more-error').textContent = '';
    var r = await api('GET', '/tenants/me/alerts?limit=' + pageSize());
    if (state.token !== token || seq !== alerts.seq) return; /* another load or token meanwhile */
    alertsBusy(false);
    if (sessionEnded(r)) return;
    if (r.status !== 200 || !r.data || !Array.isArray(r.data.alerts)) {
      clearAlerts();
      $('alerts-error').textContent = alertsError(r);
      return;
    }
    var zone = alertZone();
    $('alerts-list').textContent = '';
    fillFigures(r.data.figures);
    $('alerts-zone').textContent = zone === (state.tenant && state.tenant.time_zone)
      ? 'Times are in your time zone, ' + zone + '.' : 'Times are in UTC.';
    appendAlerts(r.data.alerts, zone);
    $('alerts-empty').hidden = r.data.alerts.length > 0;
    $('alerts-section').hidden = false;
    alerts.nextBefore = r.data.next_before;
    $('alerts-more').hidden = alerts.nextBefore === null || alerts.nextBefore === undefined;
    $('alerts-more').disabled = false; /* an older page still on its way is ignored */
    $('alerts-updated').textContent = 'Updated ' + when(new Date().toISOString(), zone) + '.';
  }

  /* The page below the last one shown, added under it. */
  async function moreAlerts() {
    if (!state.token || !alerts.nextBefore) return;
    var token = state.token, seq = alerts.seq, b = $('alerts-more');
    b.disabled = true;
    $('alerts-more-error').textContent = '';
    var r = await api('GET', '/tenants/me/alerts?limit=' + pageSize() + '&before=' + alerts.nextBefore);
    if (state.token !== token || seq !== alerts.seq) return;
    b.disabled = false;
    if (sessionEnded(r)) return;
    if (r.status !== 200 || !r.data || !Array.isArray(r.data.alerts)) {
      $('alerts-more-error').textContent = alertsError(r).replace('Your recent alerts', 'Older alerts');
      return;
    }
    var first = r.data.alerts[0];
    appendAlerts(r.data.alerts, alertZone());
    alerts.nextBefore = r.data.next_before;
    b.hidden = alerts.nextBefore === null || alerts.nextBefore === undefined;
    /* The keyboard goes on from the first alert added (the button may have gone). */
    if (first) {
      var li = $('alert-' + first.message_id);
      li.tabIndex = -1;
      li.focus();
    }
  }

  /* ------------------------------------------------------------------ the WhatsApp login */

  async function askForCode(ev) {
    if (ev) ev.preventDefault();
    clearErrors($('login'));
    banner('');
    var c = checkNumber($('login-number').value);
    if (!c.ok) {
      showError('login-number', c.problem);
      $('login-number').focus();
      return;
    }
    var b = $('login-send');
    b.disabled = true;
    var r = await api('POST', '/tenants/login', { whatsapp_number: c.number });
    b.disabled = false;
    if (r.status !== 202) {
      if ($('login-code-form').hidden) showError('login-number', explain(r));
      else showError('login-code', explain(r));
      if (r.retryAfter && !$('login-code-form').hidden) countdown('login-resend', r.retryAfter);
      return;
    }
    state.loginNumber = c.number;
    $('login-number-form').hidden = true;
    $('login-code-form').hidden = false;
    $('login-code-sent').textContent = 'If ' + c.number + ' is the WhatsApp number of a shop, we sent it a 6-digit code. Enter it below.';
    $('login-code').value = '';
    $('login-code').focus();
    countdown('login-resend', RESEND_SECONDS);
  }

  async function logIn(ev) {
    ev.preventDefault();
    showError('login-code', '');
    var code = $('login-code').value.trim();
    if (!/^[0-9]{6}$/.test(code)) {
      showError('login-code', 'The code is the 6 digits we sent you on WhatsApp.');
      $('login-code').focus();
      return;
    }
    var b = $('login-submit');
    b.disabled = true;
    var r = await api('POST', '/tenants/session', { whatsapp_number: state.loginNumber, code: code });
    b.disabled = false;
    if (r.status !== 201) {
      showError('login-code', explain(r));
      if (r.retryAfter) countdown('login-resend', r.retryAfter);
      $('login-code').focus();
      return;
    }
    keepToken(r.data.token);
    stopCountdowns();
    banner('');
    fill(r.data.tenant);
    showSettings();
    selectTab($('tab-general'), false);
    loadPrefs();
    $('whatsapp-number').focus();
  }

  function otherNumber() {
    stopCountdowns();
    $('login-code-form').hidden = true;
    $('login-number-form').hidden = false;
    clearErrors($('login'));
    $('login-number').focus();
  }

  async function logOut() {
    if (isSession(state.token)) await api('DELETE', '/tenants/session');
    keepToken(null);
    stopCountdowns();
    setSaveState('idle');
    $('save-status').textContent = '';
    $('login-number').value = '';
    $('login-code').value = '';
    selectTab($('tab-general'), false);
    showLogin('You are logged out.');
  }

  /* ------------------------------------------------------------------ start */

  function start() {
    setupTabs();
    timeZones();
    var num = $('whatsapp-number');
    num.addEventListener('input', function () {
      showFormat(num, $('whatsapp-number-format'));
      showError('whatsapp-number', '');
    });
    var sms = $('sms-number');
    sms.addEventListener('input', function () {
      showFormat(sms, $('sms-number-format'));
      showError('sms-number', '');
    });
    $('email').addEventListener('input', function () { showError('email', ''); });
    var ln = $('login-number');
    ln.addEventListener('input', function () { showError('login-number', ''); });
    $('general-form').addEventListener('submit', save);
    $('prefs-form').addEventListener('submit', savePrefs);
    $('verify-submit').addEventListener('click', verify);
    $('verify-code').addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter') { ev.preventDefault(); verify(); }
    });
    $('verify-resend').addEventListener('click', resendVerification);
    $('verify-cancel').addEventListener('click', cancelVerification);
    $('login-number-form').addEventListener('submit', askForCode);
    $('login-code-form').addEventListener('submit', logIn);
    $('login-resend').addEventListener('click', function () { askForCode(null); });
    $('login-other').addEventListener('click', otherNumber);
    $('logout').addEventListener('click', logOut);
    $('alerts-refresh').addEventListener('click', loadAlerts);
    $('alerts-more').addEventListener('click', moreAlerts);

    var handed = tokenFromFragment();
    if (handed) keepToken(handed);
    else state.token = storedToken();
    if (state.token) loadMe();
    else showLogin('');
    /* The platform may hand a new token to the page it already shows. */
    window.addEventListener('hashchange', function () {
      var t = tokenFromFragment();
      if (!t) return;
      stopCountdowns();
      keepToken(t);
      clearPrefs();
      clearAlerts();
      loadMe();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
