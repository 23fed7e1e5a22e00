// The requester's waiting page: poll the approval's status, show the time left, and
// continue to the application once an approver has decided.
(function () {
  "use strict";
  var card = document.getElementById("waiting");
  if (!card) { return; }
  var statusUrl = card.getAttribute("data-status-url");
  var skew = Number(card.getAttribute("data-now")) * 1000 - Date.now();
  var expiresAt = Number(card.getAttribute("data-expires-at")) * 1000;
  var stateEl = document.getElementById("state");
  var leftEl = document.getElementById("time-left");
  var decisionEl = document.getElementById("decision");
  var continueEl = document.getElementById("continue");
  var done = false;

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
    var delay = body.state === "approved" ? 500 : 5000;
    setTimeout(function () { window.location.assign(body.continue_url); }, delay);
  }

  function poll() {
    if (done) { return; }
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        stateEl.textContent = body.state;
        if (body.continue_url) { finish(body); }
      })
      .catch(function () {})
      .then(function () { if (!done) { setTimeout(poll, 2000); } });
  }

  tick();
  setInterval(tick, 1000);
  poll();
})();
