// Colour theme (issue 15). Loaded in <head> without defer so a stored choice applies before the first
// paint. No choice stored means the system's: the stylesheet follows prefers-color-scheme on its own,
// so without this file the site still has both themes. The header's switch is shown only from here.
(function () {
  "use strict";
  var KEY = "dp-theme";
  var root = document.documentElement;

  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function apply(theme) {
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
    else root.removeAttribute("data-theme");
  }

  function save(theme) {
    try {
      if (theme === "light" || theme === "dark") localStorage.setItem(KEY, theme);
      else localStorage.removeItem(KEY);
    } catch (e) { /* private mode: the choice lasts for this page */ }
  }

  apply(stored());

  function setup() {
    var select = document.getElementById("theme-choice");
    if (!select) return;
    var theme = stored();
    select.value = theme === "light" || theme === "dark" ? theme : "system";
    select.addEventListener("change", function () {
      apply(select.value);
      save(select.value);
    });
    var box = select.closest(".theme-switch");
    if (box) box.hidden = false;
  }

  // Another tab changed it: follow.
  window.addEventListener("storage", function (event) {
    if (event.key !== KEY) return;
    apply(event.newValue);
    var select = document.getElementById("theme-choice");
    if (select) select.value = event.newValue || "system";
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
