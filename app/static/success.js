// The success page follows the paid request live: it polls the JSON status of the Checkout
// Session (one SQL call, get_checkout_progress) and rewrites the state in place; while it
// searches, the customer's place in line too (GET /api/session-requests/<id>/queue).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var title = document.getElementById("state-title");
  var detail = document.getElementById("state-detail");
  var windowLine = document.getElementById("state-window");
  var queueLine = document.getElementById("state-queue");
  var queueUrl = box.getAttribute("data-queue-url");
  var queueAt = 0; // when the place in line was last asked (ms)
  var FINAL = { assigned: true, expired: true, cancelled: true, failed: true };
  var skew = 0; // server clock minus browser clock, ms
  var last = null;
  var timer = null;

  function strategy(s) {
    var w = s.preferred_workshop_name || "your workshop";
    if (s.routing_type === "workshop_only") return "Offered only to the mechanics of " + w + ".";
    if (s.routing_type === "hybrid") {
      if (s.exclusive_until) return "Offered to the mechanics of " + w + " first, then to anyone.";
      return "Offered to " + w + " first, then anyone: now open to every available mechanic.";
    }
    return "Offered to every available mechanic.";
  }

  // The refund owed, as the database has it (the same words as the page's first render).
  function refundText(s, fallback) {
    if (!s.refund_status) return fallback;
    var amount = (s.refund_amount_minor / 100).toFixed(2) + " " + String(s.refund_currency).toUpperCase();
    if (s.refund_status === "succeeded") {
      // "27 Nov 2026" (UTC), as the page's first render writes it.
      var d = new Date(s.refunded_at);
      var day = (d.getUTCDate() < 10 ? "0" : "") + d.getUTCDate() + " " +
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()] + " " +
        d.getUTCFullYear();
      return "Refunded " + amount + " on " + day + ": it can take 5 to 10 business days to show on your statement.";
    }
    if (s.refund_status === "failed") return "We could not refund " + amount + " automatically. Please contact support.";
    return "We are refunding " + amount + " to you in full.";
  }

  function mark(id, done) {
    var el = document.getElementById(id);
    if (el) el.className = done ? "done" : "";
  }

  function countdown() {
    if (!last || last.state !== "searching" || !last.exclusive_until) {
      windowLine.hidden = true;
      return;
    }
    var left = Math.round((Date.parse(last.exclusive_until) - (Date.now() + skew)) / 1000);
    if (left <= 0) {
      windowLine.textContent = "Now open to every available mechanic.";
    } else {
      var m = Math.floor(left / 60), sec = left % 60;
      windowLine.textContent = (last.preferred_workshop_name || "The workshop") + " has " + m + ":" +
        (sec < 10 ? "0" : "") + sec + " left before anyone may take it.";
    }
    windowLine.hidden = false;
  }

  // The place in line (get_request_queue_position), asked at most every 5 s while searching;
  // hidden when the page's visitor may not read it (not signed in as that customer) or it is over.
  function minutes(sec) {
    if (sec < 60) return "under a minute";
    var m = Math.round(sec / 60);
    return "about " + m + (m === 1 ? " minute" : " minutes");
  }

  function queueText(q) {
    if (!q || q.status !== "pending" || q.queue_position === null) return "";
    var text = q.queue_position === 1 ? "Your request is next in line." :
      "Your request is number " + q.queue_position + " in line.";
    if (q.pool_mechanics === 0) return text + " Nobody is available right now; we keep looking.";
    if (q.estimated_wait_seconds !== null) text += " Estimated wait: " + minutes(q.estimated_wait_seconds) + ".";
    return text;
  }

  function queue(s) {
    if (!queueLine || !queueUrl) return;
    if (s.state !== "searching" || !s.session_request_id) {
      queueLine.hidden = true;
      return;
    }
    if (Date.now() - queueAt < 5000) return;
    queueAt = Date.now();
    fetch(queueUrl.replace("REQUEST_ID", s.session_request_id),
      { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var text = queueText(body && body.queue);
        queueLine.textContent = text;
        queueLine.hidden = !text || !last || last.state !== "searching";
      })
      .catch(function () { queueLine.hidden = true; });
  }

  function render(s) {
    last = s;
    box.setAttribute("data-state", s.state);
    mark("step-searching", s.state !== "confirming" && s.state !== "failed");
    mark("step-assigned", s.state === "assigned");
    if (s.state === "confirming") {
      title.textContent = "Paid, confirming your payment…";
      detail.textContent = "Stripe took your payment; we are recording it. This page updates by itself.";
    } else if (s.state === "searching") {
      title.textContent = "Looking for a mechanic";
      detail.textContent = strategy(s);
    } else if (s.state === "assigned") {
      title.textContent = "Mechanic assigned: " + s.mechanic_name;
      detail.textContent = s.mechanic_name + (s.workshop_name ? " of " + s.workshop_name : " (independent mechanic)") +
        " took your session and will call you.";
    } else if (s.state === "expired") {
      title.textContent = "No mechanic was free in time";
      detail.textContent = "Your request expired. " + refundText(s, "You will be refunded in full.");
    } else if (s.state === "cancelled") {
      title.textContent = "Your request was cancelled";
      detail.textContent = refundText(s, "You will be refunded in full.");
    } else if (s.refund_status) {
      title.textContent = "The payment did not go through";
      detail.textContent = "We could not arrange your session after your payment. " + refundText(s, "");
    } else {
      title.textContent = "The payment did not go through";
      detail.textContent = s.failure_code === "payment_failed" ? "Your payment failed. Nothing was charged."
        : "Nothing was charged.";
    }
    countdown();
    queue(s);
  }

  var wait = 0; // ms the server asked us to wait (429 Retry-After)

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        wait = r.status === 429 ? 1000 * (parseInt(r.headers.get("Retry-After"), 10) || 5) : 0;
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (s) {
          skew = Date.parse(s.server_now) - Date.now();
          render(s);
          if (FINAL[s.state] && s.refund_status !== "pending") return;
        }
        // A final state whose refund is still on its way: follow the refund, more slowly.
        timer = setTimeout(poll, wait || (s && FINAL[s.state] ? 5000 : 1000));
      })
      .catch(function () { timer = setTimeout(poll, 3000); });
  }

  setInterval(countdown, 1000);
  poll();
})();
