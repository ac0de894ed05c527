"""Upvoting in a real browser: a logged-in member clicks ▲ on a list, with and without JavaScript.

The buttons submit the page's one shared form (#upvote-form) to their own formaction; app.js turns
the click into a fetch that updates the count in place."""

from __future__ import annotations

import pytest
from webapp import ServerThread, build_data_dir, make_app

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def member_server(tmp_path_factory):
    """A server of its own: these tests change vote counts that other browser tests read."""
    from dailypapers.community.accounts import AccountService

    data_dir = build_data_dir(tmp_path_factory.mktemp("browser-votes"))
    app, services = make_app(data_dir)
    accounts = AccountService(services.store, services.settings, None)
    for name in ("js-voter", "plain-voter"):
        accounts.create_user(f"{name}@example.org", name, PASSWORD, verified=True)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        yield srv
    services.store.close()


def log_in(page, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def first_card(page):
    card = page.locator("article.card").first
    return card, card.locator(".upvote-count")


def test_upvote_with_javascript_updates_the_count_in_place(browser, member_server, artifacts):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, member_server.url, "js-voter@example.org")
        card, count = first_card(page)
        before = int(count.inner_text())
        page.evaluate("window.__noReload = true")  # gone if the click reloads the page
        with page.expect_response(lambda r: r.url.endswith("/upvote") and r.request.method == "POST") as resp:
            card.locator("button.upvote-button").click()
        assert resp.value.status == 200
        assert resp.value.json()["voted"] is True
        page.wait_for_function("([el, n]) => el.textContent.trim() === String(n)",
                               arg=[count.element_handle(), before + 1])
        assert page.evaluate("window.__noReload") is True
        assert "voted" in (card.locator(".upvote").get_attribute("class") or "")
        assert card.locator("button.upvote-button").get_attribute("aria-pressed") == "true"
        page.screenshot(path=str(artifacts / "desktop-9-upvoted.png"))

        card.locator("button.upvote-button").click()  # toggles back
        page.wait_for_function("([el, n]) => el.textContent.trim() === String(n)",
                               arg=[count.element_handle(), before])
        assert "voted" not in (card.locator(".upvote").get_attribute("class") or "")
    finally:
        context.close()


def test_upvote_without_javascript_posts_the_shared_form_and_comes_back(browser, member_server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        log_in(page, member_server.url, "plain-voter@example.org")
        card, count = first_card(page)
        card = page.locator("article.card").nth(5)  # down the list: the page must come back to it
        card_id = card.get_attribute("id")
        count = card.locator(".upvote-count")
        before = int(count.inner_text())
        card.locator("button.upvote-button").click()
        page.wait_for_load_state()
        assert page.url == member_server.url + "/#" + card_id  # back where the member clicked
        card = page.locator(f'article[id="{card_id}"]')
        assert int(card.locator(".upvote-count").inner_text()) == before + 1
        assert card.locator("button.upvote-button").get_attribute("aria-pressed") == "true"
        box = card.bounding_box()
        assert box is not None and -2 <= box["y"] < 800  # scrolled to it, not to the top
    finally:
        context.close()


def test_anonymous_upvote_without_javascript_goes_to_log_in_and_counts_nothing(browser, member_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(member_server.url + "/")
        _, count = first_card(page)
        before = count.inner_text()
        page.locator("article.card button.upvote-button").first.click()
        page.wait_for_url("**/login?next=%2F")
        assert page.get_by_role("heading", name="Log in").is_visible()
        page.goto(member_server.url + "/")
        assert first_card(page)[1].inner_text() == before
    finally:
        context.close()
