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
 * The API: GET/PATCH /tenants/me, POST /tenants/me/verify, POST /tenants/login, POST/DELETE
 * /tenants/session (README, "Sellers"). Errors are {"error":{"code","message","field"}}; a 400
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
    quiet_end: 'The end time', language: 'The language', code: 'The code'
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
    $('time-zone').value = t.time_zone || 'UTC';
    $('quiet-start').value = t.quiet_start || '';
    $('quiet-end').value = t.quiet_end || '';
    fillLanguage(t.language);
    var pending = !!t.pending_whatsapp_number;
    $('verify').hidden = !pending;
    if (pending)
      $('verify-text').textContent = 'We sent a 6-digit code on WhatsApp to ' + t.pending_whatsapp_number +
        '. Enter it to confirm the number.';
  }

  async function loadMe() {
    var r = await api('GET', '/tenants/me');
    if (r.status === 200) {
      fill(r.data);
      showSettings();
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

  function setSaveState(s) {
    var b = $('save');
    b.dataset.state = s;
    b.disabled = s === 'loading';
    b.textContent = s === 'loading' ? 'Saving\u2026' : s === 'success' ? 'Saved \u2713' : 'Save';
    $('general-form').setAttribute('aria-busy', s === 'loading' ? 'true' : 'false');
  }

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
    quiet_end: 'quiet-end', language: 'language'
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
    var ln = $('login-number');
    ln.addEventListener('input', function () { showError('login-number', ''); });
    $('general-form').addEventListener('submit', save);
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
      loadMe();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
