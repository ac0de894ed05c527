"""Saved searches and author pages in real Chromium, by clicks: a member searches, presses "Save
this search", finds it on /saved-searches and its feed links work (fetched and parsed as RSS and
JSON Feed); then opens a paper, clicks an author's name, follows the author from the author page
(no JavaScript needed) and sees "Following" there and the author on /follows. axe-core checks the
new pages on the way."""

from __future__ import annotations

from urllib.parse import quote

import feedparser
import pytest
from test_a11y import check_axe
from webapp import LATEST_DAY, own_server

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def saved_server(tmp_path_factory):
    """A server of its own: these tests add a member, saved searches and follows."""
    with own_server(tmp_path_factory.mktemp("browser-saved")) as srv:
        srv.services.accounts.create_user("ada@example.org", "ada", PASSWORD, verified=True)
        yield srv


@pytest.fixture()
def page(browser):
    """A desktop page; axe is injected as a script, which our CSP forbids: bypassed here only."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


def log_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def test_save_a_search_and_read_its_feed(page, saved_server, axe_path, artifacts):
    url = saved_server.url
    log_in(page, url)
    page.get_by_role("searchbox").first.fill("agents")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/papers/search?*")
    shown = page.locator("article.card h2 a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert shown
    page.get_by_role("button", name="Save this search").click()
    page.wait_for_url(f"{url}/saved-searches*")
    assert "Saved “agents”" in page.locator(".flash").inner_text()
    item = page.locator("li.saved-search", has=page.get_by_role("heading", name="agents"))
    assert item.count() == 1
    check_axe(page, axe_path, artifacts, "saved-searches")

    rss_href = item.get_by_role("link", name="RSS").get_attribute("href")
    json_href = item.get_by_role("link", name="JSON Feed").get_attribute("href")
    assert rss_href.startswith("/feeds/saved/") and rss_href.endswith(".xml")
    # a feed reader has no cookie: fetch the links as one
    reader = page.context.browser.new_context()
    try:
        rss = reader.request.get(url + rss_href)
        assert rss.ok and rss.headers["content-type"].startswith("application/rss+xml")
        feed = feedparser.parse(rss.body())
        assert not feed.bozo and feed.feed.title == "Daily Papers: agents" and feed.entries
        js = reader.request.get(url + json_href).json()
        assert js["version"] == "https://jsonfeed.org/version/1.1"
        assert [i["url"] for i in js["items"]] == [e.link for e in feed.entries]
        found = {e.link.removeprefix(url) for e in feed.entries}
        assert found & set(shown)  # the search's papers, newest first
    finally:
        reader.close()


def test_follow_an_author_from_their_page(page, saved_server, axe_path, artifacts):
    url, services = saved_server.url, saved_server.services
    paper = next(p for _, p in services.store.day_listing(LATEST_DAY) if len(p.authors) >= 2)
    author = paper.authors[1]
    log_in(page, url)

    page.goto(f"{url}/papers/{paper.arxiv_id}")
    page.locator(".author-list").get_by_role("link", name=author, exact=True).click()
    page.wait_for_url(f"{url}/authors/{quote(author, safe='')}")
    assert page.get_by_role("heading", level=1).inner_text() == author
    assert page.locator(f'[id="paper-{paper.arxiv_id}"]').count() == 1
    alternates = page.locator('link[rel="alternate"]').evaluate_all("els => els.map(e => e.getAttribute('type'))")
    assert alternates == ["application/rss+xml", "application/atom+xml", "application/feed+json"]
    check_axe(page, axe_path, artifacts, "saved-author")

    page.locator("form.follow-box").get_by_role("button", name=f"Follow {author}").click()
    page.wait_for_url(f"{url}/authors/{quote(author, safe='')}")
    assert f"You follow {author}" in page.locator(".flash").inner_text()
    assert page.locator("form.follow-box .follow-kind").inner_text() == "Following"
    unfollow = page.locator("form.follow-box").get_by_role("button", name=f"Unfollow {author}")
    assert unfollow.count() == 1

    page.goto(url + "/follows")
    page.locator(".follow-list").get_by_role("link", name=author, exact=True).click()
    page.wait_for_url(f"{url}/authors/{quote(author, safe='')}")
    page.locator("form.follow-box").get_by_role("button", name=f"Unfollow {author}").click()
    page.wait_for_url(f"{url}/authors/{quote(author, safe='')}")
    assert f"You no longer follow {author}" in page.locator(".flash").inner_text()
    assert services.store.follows(services.store.user_by_email("ada@example.org").id) == []
