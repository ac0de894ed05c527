"""Reading comfort (issue 15) without a browser: the scripts every page loads, the vendored KaTeX served
from 'self' under a CSP that needs no 'unsafe-eval', and previews that never cut a formula in half.
The behaviour itself is tested in Chromium (tests/browser/test_reading.py)."""

from __future__ import annotations

import re

from dailypapers.web.security import CSP
from dailypapers.web.site import STATIC, preview

KATEX = STATIC / "vendor" / "katex"


def test_pages_load_the_reading_scripts_and_hide_the_theme_switch_without_js(client):
    html = client.get("/").text
    assert re.search(r'<script src="/static/theme\.js\?v=\w+"></script>', html)  # before the first paint
    for name in ("keys", "math"):
        assert re.search(rf'<script src="/static/{name}\.js\?v=\w+" defer></script>', html)
    assert re.search(r'<div class="theme-switch" hidden>', html)
    assert "<script>" not in html  # no inline script (CSP)


def test_katex_is_vendored_with_its_licence_and_served_from_self(client):
    readme = (KATEX / "README.md").read_text()
    version = re.search(r"# KaTeX (\d+\.\d+\.\d+)", readme).group(1)
    assert f"katex@{version}" in readme and "sha512-" in readme
    assert "MIT" in (KATEX / "LICENSE").read_text()
    css = (KATEX / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\((fonts/[^)]+)\)", css))
    assert fonts and all(f.endswith(".woff2") and (KATEX / f).is_file() for f in fonts)
    assert "//" not in "".join(fonts)  # nothing from another origin
    for path, kind in (("katex.min.js", "javascript"), ("contrib/auto-render.min.js", "javascript"),
                       ("katex.min.css", "text/css"), ("fonts/KaTeX_Main-Regular.woff2", "font/woff2")):
        r = client.get(f"/static/vendor/katex/{path}")
        assert r.status_code == 200 and kind in r.headers["content-type"], path


def test_the_csp_lets_katex_in_from_self_only():
    rules = dict(part.split(" ", 1) for part in CSP.split("; "))
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'" and rules["font-src"] == "'self'"
    assert "unsafe" not in CSP


def test_a_preview_does_not_cut_a_formula_in_half():
    text = "We study " + "word " * 45 + "the bound $\\sum_{i=1}^{n} \\alpha_i^2 \\le 1$ and more words after it."
    cut = preview(text)
    assert cut.endswith("…") and cut.count("$") % 2 == 0
    assert preview("Short $x^2$ abstract.") == "Short $x^2$ abstract."
