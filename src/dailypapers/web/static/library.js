// dailypapers: "Save" as a small menu and reading states without a reload (issue 15).
// Progressive enhancement only: without this file every button posts the page's shared form,
// and "Save" opens the chooser page (/papers/ID/save).
(function () {
  "use strict";

  function token() {
    var input = document.querySelector("#upvote-form input[name=csrf_token]");
    return input ? input.value : null;
  }

  function call(method, url, body) {
    var headers = { "X-CSRF-Token": token(), "Accept": "application/json", "X-Requested-With": "fetch" };
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      if (!response.ok) throw response;
      return response.status === 204 ? null : response.json();
    });
  }

  // One polite live region says what a click did.
  var live = null;
  function say(text) {
    if (!live) {
      live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  }

  // Without the script the button posts the shared form with its own name and value.
  function plainSubmit(button) {
    var form = button.form;
    if (!form) return;
    if (form.requestSubmit) form.requestSubmit(button);
    else { form.action = button.formAction; form.submit(); }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  // -- reading states --------------------------------------------------------------------
  function markAll(id, state) {
    document.querySelectorAll("button[data-state]").forEach(function (b) {
      if (b.getAttribute("data-state") === id) {
        b.setAttribute("aria-pressed", b.getAttribute("data-value") === state ? "true" : "false");
      }
    });
  }

  // A hidden paper leaves the list at once, with a way back.
  function hideRow(button, id) {
    var row = button.closest("ol.cards > li");
    if (!row) return;
    var stub = el("li", "hidden-stub");
    stub.appendChild(el("span", null, "Not interested: hidden from your lists. "));
    var undo = el("button", "link-button", "Undo");
    undo.type = "button";
    undo.addEventListener("click", function () {
      call("POST", button.formAction, { state: "hidden" }).then(function (data) {
        markAll(id, data.state);
        row.hidden = false;
        stub.parentNode.removeChild(stub);
        button.focus();
        say("Shown again.");
      }, function () { say("That did not work; reload the page."); });
    });
    stub.appendChild(undo);
    row.hidden = true;
    row.parentNode.insertBefore(stub, row);
    undo.focus();
  }

  function setupState(button) {
    button.addEventListener("click", function (event) {
      if (!window.fetch || !token()) return;
      event.preventDefault();
      var id = button.getAttribute("data-state");
      call("POST", button.formAction, { state: button.value }).then(function (data) {
        markAll(id, data.state);
        if (data.state === "hidden") hideRow(button, id);
        else say(data.state ? button.textContent + ": marked." : "Unmarked.");
      }, function () { plainSubmit(button); });  // logged out, rate limited...: the page explains
    });
  }

  // -- the Save menu ---------------------------------------------------------------------
  var open = null;

  function close(refocus) {
    if (!open) return;
    var menu = open;
    open = null;
    menu.button.setAttribute("aria-expanded", "false");
    if (menu.node.parentNode) menu.node.parentNode.removeChild(menu.node);
    document.removeEventListener("click", menu.outside, true);
    if (refocus) menu.button.focus();
  }

  function addChoice(list, id, c) {
    var li = el("li");
    var label = el("label");
    var box = el("input");
    box.type = "checkbox";
    box.checked = !!c.contains;
    box.disabled = c.role !== "owner" && c.role !== "editor";
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + c.name));
    li.appendChild(label);
    list.appendChild(li);
    box.addEventListener("change", function () {
      var url = "/api/collections/" + c.id + "/papers/" + id;
      call(box.checked ? "PUT" : "DELETE", url).then(function () {
        say(box.checked ? "Saved to " + c.name + "." : "Removed from " + c.name + ".");
      }, function () {
        box.checked = !box.checked;
        say("That did not work; try the Save page.");
      });
    });
    return box;
  }

  function showMenu(button, id, collections) {
    var node = el("div", "save-menu");
    node.setAttribute("role", "dialog");
    node.setAttribute("aria-label", "Save to a collection");
    node.appendChild(el("p", "save-menu-title", "Save to a collection"));
    var list = el("ul", "save-menu-list");
    var first = null;
    collections.forEach(function (c) {
      var box = addChoice(list, id, c);
      if (!first && !box.disabled) first = box;
    });
    node.appendChild(list);

    var form = el("form", "save-menu-new");
    var fieldId = "save-new-" + id.replace(/[^A-Za-z0-9]/g, "-");
    var label = el("label", null, "New collection");
    label.htmlFor = fieldId;
    var input = el("input");
    input.id = fieldId;
    input.name = "new_name";
    input.maxLength = 100;
    input.required = true;
    input.autocomplete = "off";
    var create = el("button", "btn btn-small", "Create and save");
    create.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(create);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = input.value.trim();
      if (!name) return;
      call("POST", button.formAction, { new_name: name }).then(function (data) {
        var c = data.collection;
        c.contains = true;
        addChoice(list, id, c);
        input.value = "";
        say(data.message);
      }, function () { say("The collection could not be created; try the Save page."); });
    });
    node.appendChild(form);
    var more = el("p", "save-menu-more");
    var link = el("a", null, "Your collections");
    link.href = "/collections";
    more.appendChild(link);
    node.appendChild(more);

    node.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); close(true); }
    });
    var outside = function (event) {
      if (!node.contains(event.target) && event.target !== button) close(false);
    };
    var actions = button.closest(".paper-actions") || button.parentNode;
    actions.parentNode.insertBefore(node, actions.nextSibling);
    button.setAttribute("aria-expanded", "true");
    open = { node: node, button: button, outside: outside };
    document.addEventListener("click", outside, true);
    (first || input).focus();
  }

  function setupSave(button) {
    button.setAttribute("aria-haspopup", "dialog");
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", function (event) {
      if (!window.fetch || !token()) return;
      event.preventDefault();
      if (open && open.button === button) { close(true); return; }
      close(false);
      var id = button.getAttribute("data-save");
      fetch("/api/collections?paper=" + encodeURIComponent(id), {
        credentials: "same-origin", headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (!response.ok) throw response;
        return response.json();
      }).then(function (collections) { showMenu(button, id, collections); },
              function () { plainSubmit(button); });  // a visitor: the chooser asks them to log in
    });
  }

  function ready() {
    document.querySelectorAll("button.save-button[data-save]").forEach(setupSave);
    document.querySelectorAll("button.state-button[data-state]").forEach(setupState);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
