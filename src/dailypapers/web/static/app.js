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

  // community (issue 5): upvote without a reload. Each button submits the page's shared
  // #upvote-form to its own formaction; without this script that plain POST still works.
  function setupUpvote(button) {
    var form = button.form;
    var box = button.closest(".upvote");
    var count = button.querySelector(".upvote-count");
    button.addEventListener("click", function (event) {
      if (!window.fetch || !form || !count) return;
      var token = form.querySelector("input[name=csrf_token]");
      if (!token) return;
      event.preventDefault();
      var fallback = function () { form.action = button.formAction; form.submit(); };
      fetch(button.formAction, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": token.value, "Accept": "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok) { fallback(); return null; }  // not logged in, rate limited...: the page explains
        return response.json();
      }).then(function (data) {
        if (!data) return;
        count.textContent = data.upvotes;
        // the same marks the server puts on a member's upvotes (web/personal.py)
        button.setAttribute("aria-pressed", data.voted ? "true" : "false");
        if (box) {
          box.classList.toggle("voted", data.voted);
          box.title = data.upvotes + " = " + data.hfUpvotes + " from HF + " + data.votes + " here";
        }
      }, fallback);
    });
  }

  // A form whose answer takes a while (a submission waits for arXiv): say so, and stop a second
  // click from sending it twice. Without this script the form still posts, just silently.
  function setupBusy(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit], button:not([type])");
      if (!button || button.disabled) return;
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
      var status = document.createElement("p");
      status.className = "note busy";
      status.setAttribute("role", "status");
      status.textContent = form.getAttribute("data-busy");
      button.insertAdjacentElement("afterend", status);
      // Back/forward cache: a page restored after navigating away gets its button back.
      window.addEventListener("pageshow", function () {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
        if (status.parentNode) status.parentNode.removeChild(status);
      }, { once: true });
    });
  }

  // The member menu is a <details> (works without this file): close it on Escape or a click elsewhere.
  function setupMemberMenu(menu) {
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  }

  function ready() {
    document.querySelectorAll("button.upvote-button[formaction]").forEach(setupUpvote);
    document.querySelectorAll("[data-copy-target]").forEach(setupCopy);
    document.querySelectorAll("details.member-menu").forEach(setupMemberMenu);
    document.querySelectorAll("details.abstract").forEach(setupDetails);
    document.querySelectorAll("form[data-busy]").forEach(setupBusy);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
