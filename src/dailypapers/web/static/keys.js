// Reading keys (issue 15) on pages that list papers: j/k select a paper, o or Enter opens it, u upvotes,
// any other letter clicks the selected paper's [data-shortcut="<letter>"] control (s: save, x: hide),
// / goes to the search box, ? lists the keys. Every control is still a plain link or form without it.
(function () {
  "use strict";

  // The curator's inbox has keys of its own (inbox.js).
  if (document.getElementById("inbox-list") || !document.querySelector) return;

  var cards = Array.prototype.slice.call(document.querySelectorAll("main .card[id^='paper-']"));
  var current = -1;
  var dialog = null;
  var opener = null;  // what had focus before the help opened: it gets it back
  var LABELS = { s: "Save the paper to a collection", x: "Hide the paper (not interested)" };

  function mark(i) {
    if (current >= 0) {
      cards[current].classList.remove("is-selected");
      cards[current].removeAttribute("aria-current");
    }
    current = i;
    cards[i].classList.add("is-selected");
    cards[i].setAttribute("aria-current", "true");
  }

  function shown(i) {
    return !cards[i].closest("[hidden]");  // "not interested" hides a row in place (library.js)
  }

  // The next shown paper in that direction; at the end of the list the selection stays.
  function move(step) {
    if (current < 0) step = 1;
    for (var i = current + step; i >= 0 && i < cards.length; i += step) {
      if (shown(i)) return select(i);
    }
    if (current >= 0 && shown(current)) return select(current);
    for (i = current - step; i >= 0 && i < cards.length; i -= step) {
      if (shown(i)) return select(i);
    }
    return false;
  }

  function select(i) {
    mark(i);
    var card = cards[i];
    if (!card.hasAttribute("tabindex")) card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
    return true;
  }

  function selected() {
    return current >= 0 && shown(current) ? cards[current] : null;
  }

  function open() {
    var card = selected();
    var link = card && card.querySelector(".card-title a");
    if (!link) return false;
    window.location.href = link.href;
    return true;
  }

  function press(el) {
    if (!el) return false;
    el.focus();
    // A field (a collection picker, say) is focused for the reader to fill; anything else is clicked.
    if (!el.matches("select, textarea, input:not([type=button]):not([type=submit]):not([type=checkbox])")) el.click();
    return true;
  }

  // A control of the selected paper.
  function act(selector) {
    var card = selected();
    return !!card && press(card.querySelector(selector));
  }

  function search() {
    var box = document.getElementById("q") || document.getElementById("site-q");
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  }

  function row(list, keys, text) {
    var dt = document.createElement("dt");
    keys.forEach(function (key, n) {
      if (n) dt.appendChild(document.createTextNode(" or "));
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.appendChild(kbd);
    });
    var dd = document.createElement("dd");
    dd.textContent = text;
    list.appendChild(dt);
    list.appendChild(dd);
  }

  // Built on first use, with the keys this page has.
  function buildHelp() {
    dialog = document.createElement("dialog");
    dialog.className = "keys-help";
    dialog.id = "keys-help";
    dialog.setAttribute("aria-labelledby", "keys-help-h");
    var heading = document.createElement("h2");
    heading.id = "keys-help-h";
    heading.textContent = "Keyboard shortcuts";
    var list = document.createElement("dl");
    if (cards.length) {
      row(list, ["j", "k"], "Next or previous paper");
      row(list, ["o", "Enter"], "Open the selected paper");
      row(list, ["u"], "Upvote the selected paper");
      var seen = {};
      document.querySelectorAll("main .card [data-shortcut]").forEach(function (el) {
        var key = el.getAttribute("data-shortcut");
        if (!/^[a-z]$/.test(key) || seen[key]) return;
        seen[key] = true;
        row(list, [key], LABELS[key] || el.getAttribute("aria-label") || el.textContent.trim());
      });
    }
    row(list, ["/"], "Search");
    row(list, ["?"], "Show or hide this help");
    row(list, ["Esc"], "Close this help");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-secondary btn-small";
    close.textContent = "Close";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      if (opener && opener.focus && document.contains(opener)) opener.focus({ preventScroll: true });
    });
    dialog.appendChild(heading);
    dialog.appendChild(list);
    dialog.appendChild(close);
    document.body.appendChild(dialog);
  }

  function toggleHelp() {
    if (!dialog) buildHelp();
    if (dialog.open) {
      dialog.close();
    } else if (dialog.showModal) {
      opener = document.activeElement;
      dialog.showModal();  // modal: focus moves in, Esc closes, the page behind is inert
    } else {
      return false;
    }
    return true;
  }

  function handle(key) {
    switch (key) {
      case "j": return move(1);
      case "k": return move(-1);
      case "o": case "Enter": return open();
      case "u": return act(".upvote-button");
      case "/": return search();
      case "?": return toggleHelp();
    }
    return /^[a-z]$/.test(key) && act("[data-shortcut='" + key + "']");
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    if (target.isContentEditable || (target.closest && target.closest("input, textarea, select, [contenteditable]"))) return;
    if (dialog && dialog.open) {
      if (event.key === "?") { dialog.close(); event.preventDefault(); }
      return;  // the dialog is modal: nothing else behind it moves
    }
    // Enter opens the paper only from the selected card itself: on a link or button it is theirs.
    if (event.key === "Enter" && target !== selected()) return;
    if (handle(event.key)) event.preventDefault();
  });

  // Once the keys are in use, a click or Tab into another paper selects it, so j/k go on from there.
  document.addEventListener("focusin", function (event) {
    if (current < 0 || !event.target.closest) return;
    var i = cards.indexOf(event.target.closest("main .card[id^='paper-']"));
    if (i >= 0 && i !== current) mark(i);
  });
})();
