// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  function focusErrors(root) {
    var summary = root.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSettle", function (event) { focusErrors(event.target); });
  // Signing in renews the CSRF secret; the body's hx-headers would keep the old token.
  document.addEventListener("htmx:configRequest", function (event) {
    var holder = document.getElementById("csrf-token");
    if (holder && holder.dataset.token) { event.detail.headers["X-CSRFToken"] = holder.dataset.token; }
  });
})();
