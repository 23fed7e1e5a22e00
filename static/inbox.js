// The approver inbox: new requests appear without a reload. The server pushes the ids
// the inbox lists (data-events-url, Server-Sent Events); when they differ from the ids
// on the page, the list is fetched again and replaced. Without EventSource the page
// stays as it is (reloading it still works).
(function () {
  "use strict";
  var inbox = document.getElementById("inbox");
  if (!inbox || typeof window.EventSource !== "function") { return; }
  var eventsUrl = inbox.getAttribute("data-events-url");
  var listId = "inbox-list";
  var fetching = false;
  var wanted = null;
  var fetchedFor = null;

  function shownIds() {
    var items = document.querySelectorAll("#" + listId + " [data-approval-id]");
    var ids = [];
    for (var i = 0; i < items.length; i += 1) { ids.push(items[i].getAttribute("data-approval-id")); }
    return ids.sort().join(" ");
  }

  function refresh() {
    if (fetching) { return; }
    fetching = true;
    fetchedFor = wanted;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(listId);
        var current = document.getElementById(listId);
        if (!fresh || !current) { window.location.reload(); return; }
        current.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {})
      .then(function () {
        fetching = false;
        // Another change arrived while this one was fetched (once per change, so a
        // page that still differs cannot make it loop).
        if (wanted !== fetchedFor && wanted !== shownIds()) { refresh(); }
      });
  }

  var source = new EventSource(eventsUrl);
  source.addEventListener("inbox", function (e) {
    var body = null;
    try { body = JSON.parse(e.data); } catch (err) { return; }
    if (!body || !body.ids) { return; }
    wanted = body.ids.slice().sort().join(" ");
    if (wanted !== shownIds()) { refresh(); }
  });
  // A refused stream (signed out) closes; the next reload shows the sign-in page.
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) { source.close(); }
  });
})();
