"""Reading comfort (issue 15) in real Chromium: the reading keys on a list (static/keys.js), the dark
theme and its switch (static/theme.js, style.css), and TeX drawn by the vendored KaTeX (static/math.js)
under the site's own Content-Security-Policy, with the source text left in the HTML."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_a11y import run_axe
from webapp import ServerThread, load_store, make_app

PASSWORD = "amber-reading-lamp-93"
TEX_ID = "2608.99990"
TEX_TITLE = r"Zorblax: scaling $x^2$ attention in \(\mathcal{O}(n)\) memory"
DARK_BG, LIGHT_BG = "rgb(13, 17, 23)", "rgb(249, 250, 251)"


@pytest.fixture(scope="module")
def tex_server(tmp_path_factory):
    """The fixture lists plus a paper with TeX at the top of the latest day, and a member (this module
    upvotes, so it has a server of its own)."""
    from dailypapers.community.accounts import AccountService
    from dailypapers.models import Listing, Paper
    from dailypapers.search.engine import SearchEngine

    data_dir = tmp_path_factory.mktemp("browser-reading")
    store = load_store(data_dir)
    store.ingest_batch(
        [Paper(TEX_ID, TEX_TITLE, r"We bound the loss by $\sum_i \alpha_i^2 \le 1$ where \(\alpha\) is small.",
               ["Ada Reader"], published=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))],
        [Listing(TEX_ID, dt.date(2026, 8, 21), rank=1, upvotes=10_000)],
    )
    SearchEngine(store, data_dir / "index", None).sync()
    store.close()
    app, services = make_app(data_dir)
    AccountService(services.store, services.settings, None).create_user(
        "reader@example.org", "reader", PASSWORD, verified=True)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        yield srv
    services.store.close()


def selected_id(page) -> str | None:
    return page.evaluate("document.querySelector('.card.is-selected')?.id ?? null")


def active(page, expr: str) -> bool:
    return page.evaluate(f"document.activeElement === {expr}")


def test_reading_keys_move_open_search_and_help(desktop, server, artifacts):
    page = desktop
    page.goto(server.url + "/")
    ids = page.eval_on_selector_all("main .card[id^='paper-']", "cs => cs.map(c => c.id)")
    assert len(ids) > 3
    assert selected_id(page) is None  # nothing is selected until the keys are used

    page.keyboard.press("j")
    assert selected_id(page) == ids[0] and active(page, f"document.getElementById('{ids[0]}')")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert selected_id(page) == ids[2]
    page.keyboard.press("k")
    assert selected_id(page) == ids[1]
    assert page.locator(".card.is-selected").get_attribute("aria-current") == "true"
    assert page.evaluate("getComputedStyle(document.querySelector('.card.is-selected')).outlineStyle") == "solid"
    for _ in range(len(ids) + 2):  # stops at the last paper, scrolled into view
        page.keyboard.press("j")
    assert selected_id(page) == ids[-1]
    assert page.evaluate("window.scrollY") > 0
    assert page.evaluate("""(() => { const r = document.querySelector('.card.is-selected').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight; })()""")
    page.keyboard.press("k")
    assert selected_id(page) == ids[-2]

    # s, x: the selected paper's own [data-shortcut] controls (the library's Save and Not interested),
    # recorded here and stopped before they act; q has no control and does nothing
    page.evaluate("""() => {
        window.__pressed = [];
        document.addEventListener('click', e => {
            const b = e.target.closest('[data-shortcut]');
            if (!b) return;
            window.__pressed.push(b.getAttribute('data-shortcut') + ' ' + b.closest('.card').id);
            e.preventDefault(); e.stopImmediatePropagation();
        }, true);
        for (const key of ['s', 'x']) {  // a page without them (not expected): the same controls
            const card = document.querySelector('.card.is-selected');
            if (card.querySelector(`[data-shortcut="${key}"]`)) continue;
            const b = document.createElement('button');
            b.type = 'button'; b.textContent = key; b.setAttribute('data-shortcut', key);
            card.querySelector('.card-body').appendChild(b);
        }
    }""")
    for key in ("q", "s", "x"):
        page.keyboard.press(key)
    assert page.evaluate("window.__pressed") == [f"s {ids[-2]}", f"x {ids[-2]}"]
    assert page.url == server.url + "/"
    page.locator(f"#{ids[-2]}".replace(".", "\\.")).focus()

    # / goes to the search box, where letters are typed, not taken as keys
    page.keyboard.press("/")
    assert active(page, "document.getElementById('site-q')")
    page.keyboard.type("jk")
    assert page.input_value("#site-q") == "jk" and selected_id(page) == ids[-2]
    page.keyboard.press("Escape")
    page.locator(f"#{ids[-2]}".replace(".", "\\.")).focus()

    # ? opens the help as a modal dialog, focus inside; Esc closes it and focus comes back
    page.keyboard.press("?")
    dialog = page.locator("dialog#keys-help")
    assert dialog.is_visible()
    assert page.evaluate("document.getElementById('keys-help').matches(':modal')")
    assert page.evaluate("document.getElementById('keys-help').contains(document.activeElement)")
    assert "Next or previous paper" in dialog.inner_text() and "Save the paper" in dialog.inner_text()
    assert "Hide the paper" in dialog.inner_text()
    page.keyboard.press("j")  # the page behind does not move
    assert selected_id(page) == ids[-2]
    page.screenshot(path=str(artifacts / "desktop-keys-help.png"))
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert active(page, f"document.getElementById('{ids[-2]}')")

    # a row hidden in place ("not interested") is skipped; o opens the selected paper
    page.evaluate("id => { document.getElementById(id).closest('li').hidden = true; }", ids[-3])
    page.keyboard.press("k")
    assert selected_id(page) == ids[-4]
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url == server.url + "/papers/" + ids[-4].removeprefix("paper-")
    page.go_back()
    page.keyboard.press("j")
    target = selected_id(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == server.url + "/papers/" + target.removeprefix("paper-")


def test_u_upvotes_and_keys_work_on_for_you_and_search(desktop, tex_server):
    page, url = desktop, tex_server.url
    page.goto(url + "/login")
    page.fill("#email", "reader@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    card = page.locator(".card.is-selected")
    button = card.locator("button.upvote-button")
    assert button.get_attribute("aria-pressed") == "false"
    with page.expect_response(lambda r: r.url.endswith("/upvote") and r.request.method == "POST") as resp:
        page.keyboard.press("u")
    assert resp.value.status == 200 and resp.value.json()["voted"] is True
    page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'", arg=button.element_handle())

    # the same keys on For you and on search results
    for path in ("/for-you", "/papers/search?q=zorblax"):
        page.goto(url + path)
        first = page.eval_on_selector("main .card[id^='paper-']", "c => c.id")
        page.keyboard.press("j")
        assert selected_id(page) == first
        with page.expect_navigation():
            page.keyboard.press("o")
        assert page.url == url + "/papers/" + first.removeprefix("paper-")


def test_dark_theme_follows_the_system_and_the_switch_persists(browser, server, artifacts):
    dark = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        page = dark.new_page()
        page.goto(server.url + "/")
        bg = "getComputedStyle(document.documentElement).backgroundColor"
        assert page.evaluate(bg) == DARK_BG
        switch = page.locator("#theme-choice")
        assert switch.is_visible() and switch.input_value() == "system"
        page.screenshot(path=str(artifacts / "desktop-dark.png"))

        switch.select_option("light")
        assert page.evaluate(bg) == LIGHT_BG
        page.reload()
        assert page.evaluate(bg) == LIGHT_BG and switch.input_value() == "light"
        page.goto(server.url + "/papers/trending")  # and on every page
        assert page.evaluate(bg) == LIGHT_BG

        switch.select_option("system")
        assert page.evaluate(bg) == DARK_BG
        assert page.evaluate("localStorage.getItem('dp-theme')") is None
        switch.select_option("dark")
    finally:
        dark.close()

    # No JavaScript: the system's setting alone, and no dead switch.
    nojs = browser.new_context(color_scheme="dark", java_script_enabled=False)
    try:
        page = nojs.new_page()
        page.goto(server.url + "/")
        assert page.evaluate(bg) == DARK_BG
        assert not page.locator("#theme-choice").is_visible()
    finally:
        nojs.close()


def test_tex_is_drawn_by_katex_and_kept_in_the_source(browser, tex_server, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        for path, title in (("/", ".card-title"), (f"/papers/{TEX_ID}", "#paper-title"),
                            ("/papers/search?q=zorblax", ".card-title")):
            response = page.goto(tex_server.url + path)
            source = response.text()
            assert "$x^2$" in source and r"\(\mathcal{O}(n)\)" in source  # for search, feeds, copying
            page.wait_for_selector("html[data-math=ready]")
            heading = page.locator(title).first
            assert heading.locator(".katex").count() == 2
            assert heading.locator(".katex-mathml annotation").first.text_content() == "x^2"  # for screen readers
            assert "$" not in heading.locator(".katex-html").first.inner_text()
            # the stylesheet and fonts came from 'self' under the CSP
            assert page.evaluate("getComputedStyle(document.querySelector('.katex')).fontFamily").startswith("KaTeX")
            page.evaluate("document.fonts.ready")
            assert page.evaluate("[...document.fonts].some(f => f.family.includes('KaTeX') && f.status === 'loaded')")
            if path == "/":
                assert page.locator(".card .abstract-preview").first.locator(".katex").count() == 2
        page.goto(tex_server.url + f"/papers/{TEX_ID}")
        page.wait_for_selector("html[data-math=ready]")
        assert page.locator(".abstract-full .katex").count() == 2
        page.screenshot(path=str(artifacts / "desktop-katex-paper.png"))
        # a page without TeX does not fetch KaTeX at all
        with page.expect_response(lambda r: "/static/math.js" in r.url):
            page.goto(tex_server.url + "/api")
        assert page.evaluate("typeof window.katex") == "undefined"
    finally:
        context.close()
    real = [p for p in problems if "net::ERR" not in p and "Failed to load resource" not in p]
    assert real == [], real


def test_katex_page_in_dark_passes_axe(browser, tex_server, axe_path, artifacts):
    context = browser.new_context(color_scheme="dark", bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(tex_server.url + f"/papers/{TEX_ID}")
        page.wait_for_selector("html[data-math=ready]")
        violations = run_axe(page, axe_path)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        if violations:
            (artifacts / "axe-dark-katex-paper.json").write_text(json.dumps(violations, indent=2))
        assert serious == [], json.dumps(serious, indent=2)
    finally:
        context.close()
