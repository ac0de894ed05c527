// Math (issue 15): TeX in titles and abstracts ($...$, \(...\), $$...$$, \[...\]) drawn by the
// bundled KaTeX (static/vendor/katex), fetched only when a page has some. The HTML keeps the source
// text (search, feeds, copy and paste); without this file readers see the TeX as written.
(function () {
  "use strict";
  var SELECTOR = ".card-title, .abstract-preview, details.abstract p, .snippet, #paper-title, " +
    ".abstract-full, .ai p";
  var TEX = /\$[^$]+\$|\\\([\s\S]+?\\\)|\\\[[\s\S]+?\\\]/;

  var script = document.currentScript;
  if (!script || !document.querySelector) return;
  var targets = Array.prototype.filter.call(document.querySelectorAll(SELECTOR), function (el) {
    return TEX.test(el.textContent);
  });
  if (!targets.length) return;

  // The vendored files sit beside this one, with the same ?v= cache buster.
  var match = /^(.*\/)math\.js(\?.*)?$/.exec(script.src);
  if (!match) return;
  var base = match[1] + "vendor/katex/";
  var query = match[2] || "";

  function load(src) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement("script");
      el.src = base + src + query;
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "katex.min.css" + query;
  document.head.appendChild(css);

  load("katex.min.js").then(function () { return load("contrib/auto-render.min.js"); }).then(function () {
    targets.forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: false },
          { left: "\\[", right: "\\]", display: false },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false }
        ],
        maxSize: 10,  // em: a hostile \rule cannot cover the page
        errorCallback: function () {}  // TeX that KaTeX cannot parse stays as its source text
      });
    });
    document.documentElement.setAttribute("data-math", "ready");
  }, function () { /* the TeX stays readable as text */ });
})();
