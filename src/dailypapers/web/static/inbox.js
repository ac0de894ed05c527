// The curator's inbox (/curate/inbox): keyboard triage over the page's own forms. Without this
// file every button still posts and the page comes back at the next paper; with it nothing
// reloads. The server decides; this script only sends the forms and redraws the row it answers for.
(function () {
  "use strict";

  var list = document.getElementById("inbox-list");
  if (!list || !window.fetch || !window.URLSearchParams) return;
  var items = Array.prototype.slice.call(list.querySelectorAll(".inbox-item"));
  var live = document.getElementById("inbox-live");
  var help = document.getElementById("inbox-help");
  var undoForm = document.querySelector("form[data-inbox-undo]");
  var current = -1;
  var busy = false;
  var queue = [];  // what was asked while a request was out: replayed in order, so nothing is lost

  function say(text, error) {
    live.textContent = text || "";
    live.classList.toggle("flash-error", !!error);
    live.classList.toggle("flash", !!text && !error);
  }

  function token() {
    var field = document.querySelector("main input[name=csrf_token]");
    return field ? field.value : "";
  }

  function select(i) {
    if (!items.length) return;
    i = Math.max(0, Math.min(items.length - 1, i));
    if (current >= 0) {
      items[current].classList.remove("is-selected");
      items[current].removeAttribute("aria-current");
    }
    current = i;
    var item = items[i];
    item.classList.add("is-selected");
    item.setAttribute("aria-current", "true");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function indexOf(arxivId) {
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute("data-arxiv-id") === arxivId) return i;
    }
    return -1;
  }

  // The next undecided paper after `from`, wrapping round; -1 when every paper is decided.
  function nextUndecided(from) {
    for (var step = 1; step <= items.length; step++) {
      var i = (from + step) % items.length;
      if (items[i].getAttribute("data-state") === "undecided") return i;
    }
    return -1;
  }

  function recount() {
    var counts = { undecided: 0, added: 0, skipped: 0 };
    items.forEach(function (item) {
      var state = item.getAttribute("data-state");
      if (state === "undecided") counts.undecided++;
      else if (state === "added" || state === "pinned") counts.added++;
      else if (state === "skipped") counts.skipped++;
    });
    Object.keys(counts).forEach(function (key) {
      var el = document.querySelector("[data-count=" + key + "]");
      if (el) el.textContent = counts[key];
    });
  }

  function redraw(data) {
    var i = indexOf(data.arxiv_id);
    if (i < 0) return -1;
    var item = items[i];
    item.setAttribute("data-state", data.status);
    item.querySelector("[data-state-text]").textContent = data.state;
    item.querySelectorAll("button[name=action]").forEach(function (button) {
      button.disabled = data.allowed.indexOf(button.value) < 0;
    });
    recount();
    return i;
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": token(),
        "Accept": "application/json",
        "X-Requested-With": "fetch",
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) data.ok = false;
        return data;
      }, function () {
        return { ok: false, message: "The server answered " + response.status + ": reload the page and try again." };
      });
    }, function () {
      return { ok: false, message: "The request did not reach the server: check the connection and try again." };
    });
  }

  function finish(data, moveOn) {
    if (!data.ok) {
      say(data.message || data.error || "That did not work.", true);
      return;
    }
    var i = redraw(data);
    var message = data.message;
    if (moveOn && i >= 0) {
      var next = nextUndecided(i);
      if (next >= 0) select(next);
      else message += " Every arrival of this day is decided.";
    } else if (i >= 0) {
      select(i);  // an undo: show the paper it changed
    }
    say(message, false);
  }

  function run(promise, moveOn) {
    busy = true;
    promise.then(function (data) { finish(data, moveOn); }).then(function () {
      busy = false;
      while (queue.length && !busy) queue.shift()();
    });
  }

  function decide(action) {
    if (current < 0) select(nextUndecided(-1) >= 0 ? nextUndecided(-1) : 0);
    var form = items[current].querySelector("form");
    // getAttribute: the form's buttons are named "action", which shadows form.action.
    run(post(form.getAttribute("action"), {
      day: form.elements.day.value, arxiv_id: form.elements.arxiv_id.value, action: action
    }), true);
  }

  function undo() {
    if (!undoForm) return;
    run(post(undoForm.getAttribute("action"), { day: undoForm.elements.day.value }), false);
  }

  function open() {
    var i = current >= 0 ? current : 0;
    var link = items[i] && items[i].querySelector(".inbox-title a");
    if (link) window.location.href = link.href;
  }

  // One key; returns false when the key is not ours (the browser keeps its default).
  function handle(key) {
    if (busy && key !== "?") {
      queue.push(function () { handle(key); });
      return true;
    }
    switch (key) {
      case "j": select(current + 1); return true;
      case "k": select(current < 0 ? 0 : current - 1); return true;
      case "a": decide("add"); return true;
      case "p": decide("pin"); return true;
      case "x": decide("skip"); return true;
      case "z": undo(); return true;
      case "o": case "Enter": open(); return true;
      case "?": help.hidden = !help.hidden; return true;
      case "Escape":
        if (help.hidden) return false;
        help.hidden = true;
        return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    // Typing in a field (the header's search box), or Enter on a link or button: not ours.
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "Enter" && target.closest && target.closest("a, button, summary")) return;
    if (handle(event.key)) event.preventDefault();
  });

  // The buttons too: a click sends the same form without leaving the page.
  list.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    if (!button || !button.value) return;
    event.preventDefault();
    var row = items.indexOf(form.closest(".inbox-item"));
    var click = function () { select(row); handle({ add: "a", pin: "p", skip: "x" }[button.value]); };
    if (busy) queue.push(click);
    else click();
  });
  if (undoForm) {
    undoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      handle("z");
    });
  }

  // Start on the paper the address names (a decision made without this script came back there),
  // else on the first undecided one.
  var start = window.location.hash ? items.indexOf(document.getElementById(window.location.hash.slice(1))) : -1;
  if (start < 0) start = nextUndecided(-1);
  if (start >= 0) {
    current = start;
    items[start].classList.add("is-selected");
    items[start].setAttribute("aria-current", "true");
  }
})();
