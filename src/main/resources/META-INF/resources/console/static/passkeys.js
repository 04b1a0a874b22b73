// Keyhold console: custodians' passkeys (WebAuthn).
// - "My credentials": enroll a passkey. Keyhold gives a one-time challenge; the authenticator makes a key pair and
//   signs the challenge's UTF-8 bytes (navigator.credentials.create); Keyhold checks it and seals the public key.
// - A request's page, "Approve with passkey": the statement's exact bytes are fetched and shown in readable form
//   FIRST; only when the custodian confirms does the browser ask the passkey to sign, with the statement's SHA-256
//   as the challenge (navigator.credentials.get), limited to the custodian's own passkeys. The approval is posted
//   with that signature; Keyhold refuses (422, nothing recorded) any signature that does not check out.
// The calls go to /console/api/… under the console session, with the page's CSRF token in X-Keyhold-Csrf.
// Handlers are delegated from the document, so they survive the live refresh of the page (console.js).
(function () {
  'use strict';

  var KINDS = {
    KEY_ACTIVATION: 'Key activation', ISSUER_RESUME: 'Issuer resume', POLICY_CHANGE: 'Policy change',
    TRUST_ROLLBACK: 'Trust bundle rollback', TRUST_KEY_ROTATION: 'Trust key rotation'
  };
  var pending = {}; // request id -> { digest: ArrayBuffer, info: passkeys of the custodian }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.crypto && window.crypto.subtle);
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function fromB64url(text) {
    var s = text.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var raw = atob(s);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function csrf() {
    var field = document.querySelector('input[name=csrf]');
    return field ? field.value : '';
  }

  /** Rejects with the problem's detail (RFC 9457), or a plain sentence when the answer is not problem JSON. */
  function refuse(res) {
    return res.text().then(function (text) {
      var p = null;
      try { p = JSON.parse(text); } catch (ignored) { /* not JSON: a login page or an error page */ }
      var msg;
      if (res.status === 401 || res.redirected || (!p && res.status < 400)) {
        msg = 'Your session has ended: reload the page and sign in again.';
      } else if (p && p.errors && p.errors.length) {
        msg = p.errors.map(function (e) { return (e.field ? e.field + ': ' : '') + e.message; }).join('; ');
      } else {
        msg = (p && (p.detail || p.title)) || ('The request was refused (HTTP ' + res.status + ').');
      }
      var err = new Error(msg);
      err.status = res.status;
      throw err;
    });
  }

  function call(method, url, body) {
    var headers = { 'Accept': 'application/json' };
    var init = { method: method, credentials: 'same-origin', headers: headers, redirect: 'manual' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-Keyhold-Csrf'] = csrf();
      init.body = JSON.stringify(body || {});
    }
    return fetch(url, init).then(function (res) {
      if (res.type === 'opaqueredirect' || !res.ok) { return refuse(res); }
      return res;
    });
  }

  function say(el, text, bad) {
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle('error', !!bad);
  }

  function why(e) {
    if (e && e.name === 'NotAllowedError') {
      return 'The browser or the authenticator did not sign (cancelled, timed out, or no matching passkey on this device).';
    }
    if (e && e.name === 'InvalidStateError') {
      return 'This authenticator already holds a passkey of yours for Keyhold.';
    }
    if (e && e.name === 'SecurityError') {
      return 'The browser refused: this page\'s address does not match Keyhold\'s relying-party id (keyhold.webauthn.rp-id).';
    }
    return (e && e.message) || String(e);
  }

  // ---- enrollment ----------------------------------------------------------------------------------------------

  function enroll(button) {
    var status = document.getElementById('enroll-status');
    if (!supported()) { say(status, 'This browser cannot use passkeys here (WebAuthn needs HTTPS or localhost).', true); return; }
    button.disabled = true;
    say(status, 'Asking Keyhold for a one-time challenge…');
    var info;
    var challenge;
    call('GET', '/console/api/passkeys').then(function (res) { return res.json(); })
      .then(function (p) {
        info = p;
        return call('POST', '/console/api/credentials/challenges', {}).then(function (res) { return res.json(); });
      })
      .then(function (c) {
        challenge = c.challenge;
        say(status, 'Your browser now asks your authenticator to make a passkey for ' + info.rpId + '…');
        return navigator.credentials.create({
          publicKey: {
            challenge: new TextEncoder().encode(challenge),
            rp: { id: info.rpId, name: 'Keyhold' },
            user: { id: fromB64url(info.userHandle), name: info.user, displayName: info.user },
            pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }, { type: 'public-key', alg: -257 }],
            excludeCredentials: info.credentials.map(function (k) { return { type: 'public-key', id: fromB64url(k.credentialId) }; }),
            authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
            attestation: 'none',
            timeout: 120000
          }
        });
      })
      .then(function (cred) {
        say(status, 'Enrolling the passkey…');
        return call('POST', '/console/api/credentials', {
          format: 'webauthn',
          attestationObject: toB64url(cred.response.attestationObject),
          clientDataJSON: toB64url(cred.response.clientDataJSON),
          challenge: challenge
        });
      })
      .then(function () { window.location.assign('/console/credentials?done=enrolled'); })
      .catch(function (e) {
        say(status, 'Not enrolled: ' + why(e), true);
        button.disabled = false;
      });
  }

  // ---- approval ------------------------------------------------------------------------------------------------

  function field(panel, cls, text) {
    var el = panel.querySelector('.' + cls);
    if (el) { el.textContent = text; }
  }

  function subjectText(s) {
    if (!s) { return '—'; }
    if (s.kid) {
      if (s.jwkThumbprint === s.kid) { return 'Key ' + s.kid + ' (its kid is its RFC 7638 JWK thumbprint)'; }
      return 'Key ' + s.kid + (s.jwkThumbprint ? ' (JWK thumbprint ' + s.jwkThumbprint + ')' : '');
    }
    if (s.policyDigest) { return 'The proposed policy version with digest ' + s.policyDigest; }
    if (s.toSequence !== undefined) { return 'Trust bundles rolled back to sequence ' + s.toSequence; }
    return JSON.stringify(s);
  }

  function openApproval(button) {
    var id = button.getAttribute('data-request');
    var panel = document.getElementById('passkey-' + id);
    if (!panel) { return; }
    var status = panel.querySelector('.passkey-status');
    var sign = panel.querySelector('.sign-passkey');
    panel.hidden = false;
    sign.disabled = true;
    delete pending[id];
    if (!supported()) { say(status, 'This browser cannot use passkeys here (WebAuthn needs HTTPS or localhost).', true); return; }
    say(status, 'Fetching the statement to sign…');
    var bytes;
    var info;
    Promise.all([
      call('GET', '/console/api/activations/' + encodeURIComponent(id) + '/statement').then(function (res) { return res.arrayBuffer(); }),
      call('GET', '/console/api/passkeys').then(function (res) { return res.json(); })
    ]).then(function (r) {
      bytes = r[0];
      info = r[1];
      var st = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      // What is shown is what is signed; and it must be this page's request.
      if (st.type !== 'keyhold.approval.v1' || st.request !== id || st.issuer !== panel.getAttribute('data-issuer')
          || (panel.getAttribute('data-kid') && (!st.subject || st.subject.kid !== panel.getAttribute('data-kid')))) {
        throw new Error('The statement Keyhold sent is not for this request: not signing it.');
      }
      field(panel, 'st-issuer', st.issuer);
      field(panel, 'st-kind', (KINDS[st.kind] || st.kind) + ' (' + st.kind + ')');
      field(panel, 'st-subject', subjectText(st.subject));
      field(panel, 'st-requester', st.requester || '—');
      field(panel, 'st-policy', 'version ' + st.policyVersion + ' · ' + st.policyDigest);
      field(panel, 'st-required', String(st.approvalsRequired));
      var local = new Date(st.expiresAt);
      field(panel, 'st-expires', st.expiresAt + (isNaN(local) ? '' : ' (' + local.toLocaleString() + ' here)'));
      field(panel, 'st-request', st.request);
      return crypto.subtle.digest('SHA-256', bytes);
    }).then(function (digest) {
      field(panel, 'st-digest', toB64url(digest));
      if (!info.credentials.length) {
        say(status, 'You have no passkey enrolled: enroll one on "My credentials" first.', true);
        return;
      }
      pending[id] = { digest: digest, info: info };
      say(status, 'Check the statement above, then sign it with your passkey.');
      sign.disabled = false;
      sign.focus();
    }).catch(function (e) {
      say(status, why(e), true);
    });
  }

  function signApproval(button) {
    var panel = button.closest('.passkey-approve');
    var id = panel.getAttribute('data-request');
    var status = panel.querySelector('.passkey-status');
    var p = pending[id];
    if (!p) { return; }
    button.disabled = true;
    say(status, 'Your browser now asks your passkey to sign the statement…');
    navigator.credentials.get({
      publicKey: {
        challenge: p.digest,
        rpId: p.info.rpId,
        allowCredentials: p.info.credentials.map(function (k) { return { type: 'public-key', id: fromB64url(k.credentialId) }; }),
        userVerification: 'preferred',
        timeout: 120000
      }
    }).then(function (a) {
      say(status, 'Recording your approval…');
      var comment = document.getElementById('comment-' + id);
      var text = comment && comment.value.trim() ? comment.value.trim() : null;
      return call('POST', '/console/api/activations/' + encodeURIComponent(id) + '/decisions', {
        decision: 'approve',
        comment: text,
        signature: {
          format: 'webauthn',
          credentialId: toB64url(a.rawId),
          authenticatorData: toB64url(a.response.authenticatorData),
          clientDataJSON: toB64url(a.response.clientDataJSON),
          signature: toB64url(a.response.signature)
        }
      });
    }).then(function () {
      delete pending[id];
      window.location.assign('/console/requests/' + encodeURIComponent(id) + '?done=approved');
    }).catch(function (e) {
      say(status, 'Not approved: ' + why(e), true);
      button.disabled = false;
    });
  }

  function cancel(button) {
    var panel = button.closest('.passkey-approve');
    delete pending[panel.getAttribute('data-request')];
    panel.hidden = true;
  }

  document.addEventListener('click', function (e) {
    var t = e.target.closest ? e.target.closest('button') : null;
    if (!t) { return; }
    if (t.id === 'enroll-passkey') { enroll(t); }
    else if (t.classList.contains('approve-passkey')) { openApproval(t); }
    else if (t.classList.contains('sign-passkey')) { signApproval(t); }
    else if (t.classList.contains('cancel-passkey')) { cancel(t); }
  });
}());
