"""New arrivals in real Chromium, on a desktop and a phone: a visitor opens /papers/new from the site's
navigation, filters the day by a category, then logs in and upvotes a paper there; the upvote is
still pressed after a reload (marked by the server on the shared page). axe checks the page."""

from __future__ import annotations

import re

import pytest
from arrivals_data import build_arrivals_data_dir, make_arrivals_app
from test_a11y import run_axe
from webapp import ServerThread

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def arrivals_server(tmp_path_factory):
    data_dir = build_arrivals_data_dir(tmp_path_factory.mktemp("browser-arrivals"))
    app, services = make_arrivals_app(data_dir)
    for device in ("desktop", "phone"):
        services.accounts.create_user(f"new-{device}@example.org", f"new-{device}", PASSWORD, verified=True)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        yield srv
    services.store.close()


def no_horizontal_scroll(page) -> None:
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px > {width}px"


def test_open_new_from_the_nav_filter_and_upvote(device_page, arrivals_server, axe_path, artifacts):
    page, url = device_page, arrivals_server.url
    page.goto(url + "/")
    page.locator("nav.main-nav").get_by_role("link", name="New", exact=True).click()
    page.wait_for_url(url + "/papers/new")
    assert page.locator("h1").inner_text() == "Friday, October 31, 2025"
    assert "Ranked by a model trained on" in page.locator(".model-note").inner_text()
    everything = page.locator("article.card").count()
    assert everything > 5
    assert page.locator("article.card .reasons").first.is_visible()
    no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / f"{page.device}-new-1-arrivals.png"))

    filters = page.get_by_role("navigation", name="Filter by category")
    chip = filters.get_by_role("link", name=re.compile(r"^cs\.LG \d+$"))
    expected = int(chip.locator(".chip-count").inner_text())
    chip.click()
    page.wait_for_url(url + "/papers/new?category=cs.LG")
    cards = page.locator("article.card")
    assert cards.count() == expected < everything
    assert filters.get_by_role("link", name=re.compile(r"^cs\.LG")).get_attribute("aria-current") == "true"
    for i in range(cards.count()):
        assert "cs.LG" in cards.nth(i).locator(".categories").inner_text()
    no_horizontal_scroll(page)
    violations = [v for v in run_axe(page, axe_path) if v["impact"] in ("serious", "critical")]
    assert not violations, violations

    # a visitor's click on ▲ asks them to log in first
    first = cards.first
    arxiv_id = first.get_attribute("id").removeprefix("paper-")
    first.locator("button.upvote-button").click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#email", f"new-{page.device}@example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/papers/new"))
    page.goto(url + "/papers/new?category=cs.LG")

    card = page.locator(f'article[id="paper-{arxiv_id}"]')
    button, count = card.locator("button.upvote-button"), card.locator(".upvote-count")
    before = int(count.inner_text())
    with page.expect_response(lambda r: r.url.endswith(f"/papers/{arxiv_id}/upvote")) as resp:
        button.click()
    assert resp.value.status == 200 and resp.value.json()["voted"] is True
    page.wait_for_function("([el, n]) => el.textContent.trim() === String(n)",
                           arg=[count.element_handle(), before + 1])
    assert button.get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(artifacts / f"{page.device}-new-2-upvoted.png"))

    page.reload()
    assert card.locator("button.upvote-button").get_attribute("aria-pressed") == "true"
    assert int(card.locator(".upvote-count").inner_text()) == before + 1
