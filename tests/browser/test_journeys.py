"""Reader journeys in a real browser, on a desktop and a 390-px phone. Each step saves a screenshot
under test-artifacts/ (look at them: the layout is part of the product)."""

from __future__ import annotations

import re

import pytest


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=False)


def no_horizontal_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px > {width}px"


def check_layout(page, width: int | None) -> None:
    if width:
        no_horizontal_scroll(page, width)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_browse_days_expand_abstract_open_paper(request, server, artifacts, device):
    page = request.getfixturevalue(device)
    width = 390 if device == "phone" else None
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Friday, August 21, 2026"
    assert page.locator("article.card").count() == 17
    check_layout(page, width)
    shot(page, artifacts, f"{device}-1-home")

    page.get_by_role("link", name=re.compile("Previous day")).click()
    page.wait_for_url("**/papers/date/2026-08-20")
    assert page.locator("h1").inner_text() == "Thursday, August 20, 2026"
    check_layout(page, width)

    card = page.locator("article.card").first
    preview = card.locator(".abstract-preview")
    assert preview.is_visible()
    card.locator("details.abstract summary").click()
    assert card.locator("details.abstract").get_attribute("open") is not None
    assert card.locator("details.abstract p").is_visible()
    assert not preview.is_visible()  # the full abstract replaces the opening
    check_layout(page, width)
    shot(page, artifacts, f"{device}-2-day-expanded")

    title = card.locator(".card-title a").inner_text()
    card.locator(".card-title a").click()
    page.wait_for_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    assert page.locator("h1").inner_text() == title
    assert page.get_by_role("heading", name="Abstract").is_visible()
    copy = page.locator("button.copy")
    assert copy.is_visible()  # JS shows it where the clipboard API exists
    check_layout(page, width)
    shot(page, artifacts, f"{device}-3-paper")

    similar = page.locator("ul.similar a")
    if similar.count():
        target = similar.first.inner_text()
        similar.first.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == target
        check_layout(page, width)
        shot(page, artifacts, f"{device}-4-similar")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_search_filter_and_page_forward(request, server, artifacts, device):
    page = request.getfixturevalue(device)
    width = 390 if device == "phone" else None
    page.goto(server.url + "/")
    box = page.get_by_role("searchbox", name="Search papers")
    box.fill("language models")
    box.press("Enter")
    page.wait_for_url("**/papers/search?q=language+models")
    assert page.locator("#q").input_value() == "language models"
    assert page.locator("article.card").count() > 0
    check_layout(page, width)
    shot(page, artifacts, f"{device}-5-search")

    page.locator("details.filters summary").click()
    page.locator('input[name="from"]').fill("2026-08-01")
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.wait_for_url(re.compile(r"from=2026-08-01"))
    dates = page.locator("article.card time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all(d >= "2026-08-01" for d in dates)
    check_layout(page, width)
    shot(page, artifacts, f"{device}-6-search-filtered")

    nxt = page.get_by_role("link", name=re.compile("Next page"))
    if nxt.count():
        first_page = page.locator(".card-title a").first.inner_text()
        nxt.click()
        page.wait_for_url(re.compile(r"page=2"))
        assert page.locator(".card-title a").first.inner_text() != first_page
        assert "from=2026-08-01" in page.url
        check_layout(page, width)
        shot(page, artifacts, f"{device}-7-search-page2")


def test_every_page_type_fits_a_phone(phone, server, artifacts):
    for path in ("/", "/papers/date/2026-08-11", "/papers/week/2026-W34", "/papers/month/2026-08",
                 "/papers/trending", "/papers/2608.19880", "/orgs/google", "/api", "/papers/search",
                 "/papers/search?q=agents&has_code=1", "/no/such/page"):
        phone.goto(server.url + path)
        no_horizontal_scroll(phone, 390)
    shot(phone, artifacts, "phone-8-api")


def test_works_without_javascript(browser, server, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        details = page.locator("article.card details.abstract").first
        details.locator("summary").click()
        assert details.get_attribute("open") is not None  # native <details>
        page.goto(server.url + "/papers/2608.19880")
        assert not page.locator("button.copy").is_visible()  # no dead buttons without JS
        assert page.locator("#bibtex").is_visible()
        page.goto(server.url + "/papers/search?q=diffusion")
        assert page.locator("article.card").count() > 0
        shot(page, artifacts, "nojs-search")
    finally:
        context.close()


def test_keyboard_skip_link_and_focus(desktop, server):
    desktop.goto(server.url + "/")
    desktop.keyboard.press("Tab")
    focused = desktop.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    desktop.keyboard.press("Enter")
    assert desktop.evaluate("location.hash") == "#main"
    # a visible focus ring on links
    desktop.keyboard.press("Tab")
    outline = desktop.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_no_console_errors_or_csp_violations(desktop, server):
    errors: list[str] = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    desktop.on("pageerror", lambda e: errors.append(str(e)))
    for path in ("/", "/papers/2608.19880", "/papers/search?q=agents"):
        desktop.goto(server.url + path)
        desktop.wait_for_load_state("load")
    # external avatars cannot load in the sandbox; anything else is a bug
    real = [e for e in errors if "cdn-avatars" not in e and "net::ERR" not in e and "Failed to load resource" not in e]
    assert real == []
