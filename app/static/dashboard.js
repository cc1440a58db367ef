// The mechanic's dashboard stays live: a Server-Sent Events stream of the routing
// notifications for this mechanic's channels. A new or escalated request reloads the list
// from the server (get_mechanic_offers decides what this mechanic may see); a request
// accepted, expired or cancelled disappears at once. Accept goes to the API with the
// session's CSRF token; then "Your sessions" and the presence box are read again from the
// dashboard page itself (one call), so the session just taken shows with its Start button.
// Decline, Start, Complete, No-show and the online switch are plain forms.
(function () {
  "use strict";
  var section = document.getElementById("offers");
  if (!section || !window.EventSource) return;
  var status = document.getElementById("live-status");
  var result = document.getElementById("accept-result");
  var fragmentUrl = section.getAttribute("data-fragment-url");
  var eventsUrl = section.getAttribute("data-events-url");
  var seen = {};
  var lastId = null;
  var source = null;

  function refresh() {
    return fetch(fragmentUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) section.innerHTML = html; });
  }

  function refreshSessions() {
    return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["sessions", "presence"].forEach(function (id) {
          var fresh = doc.getElementById(id), here = document.getElementById(id);
          if (fresh && here) here.innerHTML = fresh.innerHTML;
        });
      });
  }

  function removeRequest(id) {
    var row = section.querySelector('[data-request-id="' + id + '"]');
    if (row) row.parentNode.removeChild(row);
    if (!section.querySelector(".offer")) refresh();
  }

  function onMessage(e) {
    if (e.lastEventId) lastId = e.lastEventId;
    if (seen[e.lastEventId]) return; // a replay may repeat an event
    seen[e.lastEventId] = true;
    var n;
    try { n = JSON.parse(e.data); } catch (err) { return; }
    // created, escalated, offered (a new wave of offers, or the end of the waves): the list again
    if (n.event === "created" || n.event === "escalated" || n.event === "offered") refresh();
    else removeRequest(n.request_id);
  }

  function connect() {
    var url = eventsUrl + (lastId ? "?last_event_id=" + encodeURIComponent(lastId) : "");
    source = new EventSource(url);
    source.onopen = function () {
      status.textContent = "Live updates: on";
      refresh(); // whatever changed before this stream started
    };
    source.onmessage = onMessage;
    // The engine took this mechanic offline (offers unanswered, dashboard silent): say why.
    source.addEventListener("presence", function () { refreshSessions(); refresh(); });
    source.onerror = function () {
      status.textContent = "Live updates: reconnecting…";
      if (source.readyState === EventSource.CLOSED) { // refused (e.g. busy): retry ourselves
        setTimeout(connect, 5000);
      }
    };
  }

  section.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList.contains("accept")) return;
    e.preventDefault();
    var token = form.querySelector('input[name="csrf_token"]').value;
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.getAttribute("data-api"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": token, Accept: "application/json" }
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        var row = form.closest(".offer");
        if (res.ok) {
          result.className = "flash success";
          result.textContent = "Accepted: the customer is told you are on your way.";
          if (row) row.parentNode.removeChild(row);
          refreshSessions();
        } else {
          result.className = "flash error";
          result.textContent = "Could not accept: " + res.body.error.message;
          refresh();
        }
      })
      .catch(function () { button.disabled = false; });
  });

  connect();
})();
