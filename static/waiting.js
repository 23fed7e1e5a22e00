// The requester's waiting page: follow the approval's status, show the time left, and
// continue to the application once an approver has decided. The status is pushed over
// Server-Sent Events (data-events-url); without EventSource, or when the stream keeps
// failing, the page polls the status JSON (data-status-url) every 2 s instead.
(function () {
  "use strict";
  var card = document.getElementById("waiting");
  if (!card) { return; }
  var statusUrl = card.getAttribute("data-status-url");
  var eventsUrl = card.getAttribute("data-events-url");
  var skew = Number(card.getAttribute("data-now")) * 1000 - Date.now();
  var expiresAt = Number(card.getAttribute("data-expires-at")) * 1000;
  var stateEl = document.getElementById("state");
  var leftEl = document.getElementById("time-left");
  var decisionEl = document.getElementById("decision");
  var continueEl = document.getElementById("continue");
  var done = false;
  var polling = false;
  var maxFailures = 3;

  function tick() {
    var left = Math.max(0, Math.round((expiresAt - (Date.now() + skew)) / 1000));
    leftEl.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
  }

  function finish(body) {
    done = true;
    stateEl.textContent = body.state;
    var text = body.state === "approved" ? "Approved" : "The request was " + body.state;
    if (body.decided_by) { text += " by " + body.decided_by; }
    if (body.comment) { text += ": " + body.comment; }
    decisionEl.textContent = text + ".";
    decisionEl.hidden = false;
    continueEl.href = body.continue_url;
    continueEl.hidden = false;
    // Approved: continue at once (the whole point is not to wait); otherwise leave the
    // reason on screen for a moment before the application shows its error.
    if (body.state === "approved") {
      window.location.assign(body.continue_url);
    } else {
      setTimeout(function () { window.location.assign(body.continue_url); }, 5000);
    }
  }

  // The same for a pushed and a polled status: show it, and finish once decided.
  function show(body) {
    if (done || !body) { return; }
    stateEl.textContent = body.state;
    if (body.continue_url) { finish(body); }
  }

  function poll() {
    if (done) { return; }
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {})
      .then(function () { if (!done) { setTimeout(poll, 2000); } });
  }

  function startPolling() {
    if (polling) { return; }
    polling = true;
    poll();
  }

  function listen() {
    var source = new EventSource(eventsUrl);
    var failures = 0;
    source.addEventListener("open", function () { failures = 0; });
    source.addEventListener("status", function (e) {
      var body = null;
      try { body = JSON.parse(e.data); } catch (err) { return; }
      show(body);
      if (done) { source.close(); }
    });
    // The browser reconnects by itself after a dropped stream (retry:); a refused one
    // (CLOSED) or one that keeps failing falls back to polling.
    source.addEventListener("error", function () {
      if (done) { source.close(); return; }
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= maxFailures) {
        source.close();
        startPolling();
      }
    });
  }

  tick();
  setInterval(tick, 1000);
  if (eventsUrl && typeof window.EventSource === "function") {
    listen();
  } else {
    startPolling();
  }
})();
