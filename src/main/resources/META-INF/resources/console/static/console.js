// Keyhold console: live updates from the public event feed (GET /v1/events/stream, Server-Sent Events).
// When an event of a kind this page shows arrives, the page is fetched again and its live region replaced, so a
// decided request disappears and a new one appears without a reload. A region where the user is typing is left
// alone; the page then says that it is out of date.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var status = document.getElementById('live-status');
  if (!live || !window.EventSource) { return; }
  var prefixes = (live.getAttribute('data-live') || '').split(/\s+/).filter(Boolean);
  if (!prefixes.length) { return; }
  var TYPES = ['keyhold.issuer.created', 'keyhold.issuer.suspended', 'keyhold.issuer.resumed',
    'keyhold.issuer.policy-changed', 'keyhold.key.created', 'keyhold.key.activated', 'keyhold.key.retired',
    'keyhold.key.unpublished', 'keyhold.key.revoked', 'keyhold.key.destroyed', 'keyhold.key.hsm-missing',
    'keyhold.activation.requested', 'keyhold.activation.approved', 'keyhold.activation.rejected',
    'keyhold.activation.expired', 'keyhold.rotation.overdue', 'keyhold.key.compromise-suspected'];
  var timer = null;
  var busy = false;
  var again = false;

  function say(text) { if (status) { status.textContent = text; } }

  function editing() {
    // a passkey approval under way: its statement panel stays as it is until signed or cancelled (passkeys.js)
    if (live.querySelector('.passkey-approve:not([hidden])')) { return true; }
    var a = document.activeElement;
    if (a && live.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) { return true; }
    var fields = live.querySelectorAll('textarea, input:not([type=hidden])');
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) { return true; } }
    return false;
  }

  function refresh() {
    if (busy) { again = true; return; }
    if (editing()) { say('This page has changed since it was loaded: reload it when you are done.'); return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (res) {
        if (!res.ok || res.redirected) { throw new Error('status ' + res.status); }
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('live');
        if (fresh && !editing()) {
          live.innerHTML = fresh.innerHTML;
          say('Updated at ' + new Date().toLocaleTimeString());
        }
      })
      .catch(function () { say('Could not update this page: reload it.'); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onEvent(e) {
    var type = e.type;
    if (!prefixes.some(function (p) { return type.indexOf(p) === 0; })) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  }

  var source = new EventSource('/v1/events/stream');
  TYPES.forEach(function (t) { source.addEventListener(t, onEvent); });
  source.onopen = function () { live.setAttribute('data-live-connected', 'true'); };
  window.addEventListener('pagehide', function () { source.close(); });
}());
