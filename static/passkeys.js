// Passkeys (WebAuthn L2 §5.1.3 create, §5.1.4 get): registering one on the account page
// (form#passkey-register), deciding with one on the approval page (form#passkey-vote),
// signing in with one on the login page (form#passkey-sign-in), and confirming with one
// in a session (form#passkey-step-up, on the account and console step-up pages); the
// last two stay hidden until this script finds WebAuthn in the browser.
// Each form's POST starts a ceremony on the server, which answers {ceremony_id, options};
// the browser asks the authenticator, and the answer goes back, base64url-encoded, as
// the form field `credential` to `<form action>/<ceremony_id>`. The server keeps the
// ceremony's state; nothing here is trusted beyond carrying the answer.
(function () {
  "use strict";

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { throw new Error(body.error || "the server refused (" + response.status + ")"); }
        return body;
      });
    });
  }

  function answer(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }

  function show(form, error) {
    var el = form.querySelector("#passkey-error");
    if (el) { el.textContent = String(error.message || error); el.hidden = false; }
  }

  // The form's hidden inputs (where to go afterwards) go with the answer.
  function hiddenFields(form, fields) {
    form.querySelectorAll("input[type=hidden]").forEach(function (input) {
      fields[input.name] = input.value;
    });
    return fields;
  }

  function run(form, fields, ask) {
    var csrf = form.getAttribute("data-csrf");
    fields.csrf_token = csrf;
    post(form.action, fields)
      .then(function (started) {
        return ask(started.options.publicKey).then(function (credential) {
          return post(form.action + "/" + encodeURIComponent(started.ceremony_id),
            hiddenFields(form, { csrf_token: csrf, credential: answer(credential) }));
        });
      })
      .then(function (done) { window.location.assign(done.location); })
      .catch(function (error) { show(form, error); });
  }

  var register = document.getElementById("passkey-register");
  if (register && window.PublicKeyCredential) {
    register.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = register.querySelector("#passkey-code");
      var fields = { name: register.querySelector("#passkey-name").value };
      if (code) { fields.code = code.value; }
      run(register, fields, function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = withIds(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options });
      });
    });
  }

  // Signing in (any passkey of this site) and confirming in a session (one of the
  // user's): an assertion, then on to where the server says.
  ["passkey-sign-in", "passkey-step-up"].forEach(function (id) {
    var form = document.getElementById(id);
    if (!form || !window.PublicKeyCredential) { return; }
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form, {}, function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = withIds(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      });
    });
  });

  var vote = document.getElementById("passkey-vote");
  if (vote && window.PublicKeyCredential) {
    vote.addEventListener("submit", function (event) {
      event.preventDefault();
      var comment = document.getElementById("comment");
      var fields = {
        decision: event.submitter ? event.submitter.value : "approve",
        comment: comment ? comment.value : ""
      };
      run(vote, fields, function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = withIds(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      });
    });
  }
})();
