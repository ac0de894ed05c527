// dailypapers: progressive enhancement only. Every page works without this file.
(function () {
  "use strict";

  // "Copy BibTeX" (and any [data-copy-target] button): shown only when the clipboard API exists.
  function setupCopy(button) {
    if (!navigator.clipboard) return;
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = "Copied!";
        setTimeout(function () { button.textContent = label; }, 1800);
      }, function () {
        button.textContent = "Copy failed";
      });
    });
  }

  // Keep the abstract preview and the <details> in sync for keyboard users: Escape closes it.
  function setupDetails(details) {
    details.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && details.open) {
        details.open = false;
        details.querySelector("summary").focus();
      }
    });
  }

  // community (issue 5): upvote without a reload. The form still works without this.
  function setupUpvote(form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch) return;
      var token = form.querySelector("input[name=csrf_token]");
      var count = form.querySelector(".upvote-count");
      if (!token || !count) return;
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token.value, "Accept": "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok) { form.submit(); return null; }  // not logged in, rate limited...: the page explains
        return response.json();
      }).then(function (data) {
        if (!data) return;
        count.textContent = data.upvotes;
        form.classList.toggle("voted", data.voted);
        form.title = data.upvotes + " = " + data.hfUpvotes + " from HF + " + data.votes + " here";
      }, function () { form.submit(); });
    });
  }

  function ready() {
    document.querySelectorAll("form.upvote-form").forEach(setupUpvote);
    document.querySelectorAll("[data-copy-target]").forEach(setupCopy);
    document.querySelectorAll("details.abstract").forEach(setupDetails);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
