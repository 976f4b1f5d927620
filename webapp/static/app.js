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

  // A boosted swap is a new page: focus its heading (after the error summary, or a field the
  // page marks autofocus) and say its title, as a screen reader does on a full page load.
  var announcing = null;
  function arrive() {
    var main = document.getElementById("main");
    if (!main || main.querySelector(".error-summary")) { return; }
    var target = main.querySelector("[autofocus]") || main.querySelector("h1") || main;
    if (target.tagName === "H1" && !target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
    var announcer = document.getElementById("page-announcer");
    if (!announcer) { return; }
    announcer.textContent = "";
    window.clearTimeout(announcing);
    announcing = window.setTimeout(function () { announcer.textContent = document.title; }, 100);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    // A whole page only: a boosted link retargeted to a list leaves the focus where it was.
    if (event.detail && event.detail.boosted && event.target === document.body) { arrive(); }
  });

  // htmx swaps no error response: without this, a refused or failed request changes nothing
  // and the person never learns why. A followed link shows the error page as a page; any
  // other request keeps the page as it is (what was typed included) and says why above it.
  // A poll or a lazy panel (no event from the person) is left alone: nobody waits for it.
  function askedBy(detail) {
    var trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    return trigger && trigger.isTrusted ? trigger.type : "";
  }
  function problemRegion() { return document.getElementById("request-problem"); }
  function showProblem(asked, code, title, advice) {
    var region = problemRegion();
    if (!region) { return; }
    // A new alert each time: said even when the same problem comes back. (An empty alert left
    // in every page would be one more "alert" for tests and tools to tell apart.)
    var alert = document.createElement("div");
    alert.setAttribute("role", "alert");
    [[code, "error-code"], [title, "request-problem-title"], [advice, ""]].forEach(function (part) {
      if (!part[0]) { return; }
      var line = document.createElement("p");
      line.className = part[1];
      line.textContent = part[0];
      alert.appendChild(line);
    });
    region.textContent = "";
    region.appendChild(alert);
    // After a click or a submission, the focus goes to the reason; a field checked as one
    // types or leaves it keeps the focus, and the alert is heard all the same.
    if (asked === "click" || asked === "submit") { region.focus(); }
  }
  function textOf(root, selector) {
    var found = root.querySelector(selector);
    return found ? found.textContent.trim() : "";
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.isError) { return; }
    var page = new DOMParser().parseFromString(detail.xhr.responseText || "", "text/html");
    var problem = page.querySelector("[data-problem]");
    var verb = detail.requestConfig ? detail.requestConfig.verb : "";
    if (detail.boosted && (verb === "get" || (!problem && page.getElementById("main")))) {
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    var asked = askedBy(detail);
    var region = problemRegion();
    if (!asked || !region) { return; }
    if (problem) {
      showProblem(asked, textOf(problem, ".error-code"), textOf(problem, "h1"), textOf(problem, ".lead"));
    } else {
      showProblem(asked, region.dataset.code.replace("{code}", String(detail.xhr.status)),
        region.dataset.unknownTitle, region.dataset.unknownAdvice);
    }
  });
  function unreachable(event) {
    var asked = askedBy(event.detail);
    var region = problemRegion();
    if (asked && region) {
      showProblem(asked, "", region.dataset.networkTitle, region.dataset.networkAdvice);
    }
  }
  document.addEventListener("htmx:sendError", unreachable);
  document.addEventListener("htmx:timeout", unreachable);
  document.addEventListener("htmx:beforeSend", function (event) {
    var region = problemRegion();
    if (region && askedBy(event.detail)) { region.textContent = ""; }
  });

  // A file over the limit is refused before it is sent, beside its field: the form keeps what
  // was typed and the person waits for no upload. The server refuses it anyway (413).
  function megabytes(size) {
    var language = document.documentElement.lang || "fr";
    return (size / 1048576).toLocaleString(language, { maximumFractionDigits: 1 });
  }
  function checkSize(input) {
    var limit = Number(input.getAttribute("data-max-bytes"));
    var file = input.files && input.files[0];
    var id = input.id + "-size";
    var message = document.getElementById(id);
    var field = input.closest(".field");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (name) {
      return name && name !== id;
    });
    if (!limit || !file || file.size <= limit) {
      if (message) { message.remove(); }
      if (described.length) { input.setAttribute("aria-describedby", described.join(" ")); }
      else { input.removeAttribute("aria-describedby"); }
      if (input.hasAttribute("data-size-marked")) {
        input.removeAttribute("data-size-marked");
        input.removeAttribute("aria-invalid");
        if (field) { field.classList.remove("has-error"); }
      }
      return true;
    }
    if (!message) {
      message = document.createElement("p");
      message.id = id;
      message.className = "error";
      message.setAttribute("role", "alert");
      input.parentNode.insertBefore(message, input);
    }
    message.textContent = input.getAttribute("data-too-large").replace("{size}", megabytes(file.size));
    input.setAttribute("aria-describedby", described.concat([id]).join(" "));
    if (input.getAttribute("aria-invalid") !== "true") {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("data-size-marked", "");
      if (field) { field.classList.add("has-error"); }
    }
    return false;
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-max-bytes]")) { checkSize(input); }
  });
  // Capture: stops the submission before htmx (boosted forms) or the browser sends it.
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i += 1) {
      if (!checkSize(inputs[i])) {
        event.preventDefault();
        event.stopPropagation();
        inputs[i].focus();
        return;
      }
    }
  }, true);
})();
