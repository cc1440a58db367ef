// "My bookings" stays live for the open ones: a booking looking for a mechanic, or whose refund
// is on its way, polls the success page's status (GET /api/checkout/sessions/<cs_id>: one SQL
// call) and reloads the list when it moved on, so its state and its buttons are the server's.
(function () {
  "use strict";
  var open = document.querySelectorAll("[data-status-url]");
  if (!open.length || !window.fetch) return;

  function watch(el) {
    var url = el.getAttribute("data-status-url");
    var wasSearching = el.getAttribute("data-progress-state") === "searching";
    var refund = el.getAttribute("data-refund") || "";
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s && ((wasSearching && s.state !== "searching") || (refund && s.refund_status !== refund))) {
            window.location.reload();
            return;
          }
          setTimeout(poll, wasSearching ? 2000 : 5000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    poll();
  }

  Array.prototype.forEach.call(open, watch);
})();
