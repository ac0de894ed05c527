"""A reader's library in real Chromium, on a desktop and a phone, by clicks and typing only: a member
logs in, saves a paper from the list page to a new collection through the Save menu
(static/library.js), opens the collection and adds a private note, makes the collection public, and
a visitor opens its public page (which never shows the note). "Not interested" hides a paper from
the member's list at once, with an undo. axe-core checks the new pages on the way."""

from __future__ import annotations

import re

import pytest
from test_a11y import check_axe
from webapp import own_server

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def lib_server(tmp_path_factory):
    """A server of its own: these tests add members and collections."""
    with own_server(tmp_path_factory.mktemp("browser-library")) as srv:
        yield srv


def log_in(page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill(f"{name}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def test_save_note_publish_and_a_visitor_reads_it(device_page, lib_server, browser, axe_path, artifacts):
    page, url, services = device_page, lib_server.url, lib_server.services
    name = f"ada-{page.device}"
    services.accounts.create_user(f"{name}@example.org", name, PASSWORD, verified=True)
    log_in(page, url, name)

    # Save the first paper of the list to a new collection, from the Save menu
    card = page.locator("main .card").first
    title = card.locator(".card-title a").inner_text()
    card.get_by_role("button", name="Save").click()
    menu = page.get_by_role("dialog", name="Save to a collection")
    menu.get_by_label("New collection").fill(f"Journal club {page.device}")
    menu.get_by_role("button", name="Create and save").click()
    saved = menu.get_by_role("checkbox", name=f"Journal club {page.device}")
    saved.wait_for()
    assert saved.is_checked()
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog", name="Save to a collection").count() == 0

    # The collection, from the member menu's page; a private note on the paper
    page.goto(url + "/collections")
    page.get_by_role("link", name=f"Journal club {page.device}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Journal club {page.device}"
    assert page.get_by_role("link", name=title, exact=True).is_visible()
    check_axe(page, axe_path, artifacts, f"library-collection-{page.device}")
    page.get_by_role("link", name=re.compile(r"^Add a note")).click()
    page.get_by_role("textbox", name="Note").fill("Discuss section 3 on Friday.")
    page.get_by_role("button", name="Save the note").click()
    assert page.get_by_text("Discuss section 3 on Friday.").is_visible()

    # Public: the visitor's page and feed
    page.get_by_label("Anyone").check()
    page.get_by_role("button", name="Save the settings").click()
    flash = page.locator(".flash")
    assert "public page" in flash.inner_text()
    public_path = re.search(r"/c/\S+?(?=\.?$)", flash.inner_text()).group(0)

    visitor = browser.new_context(viewport=page.viewport_size, bypass_csp=True)
    try:
        v = visitor.new_page()
        v.goto(url + public_path)
        assert v.get_by_role("heading", level=1).inner_text() == f"Journal club {page.device}"
        assert v.get_by_role("link", name=title, exact=True).is_visible()
        assert "Discuss section 3" not in v.content()  # the note is the member's alone
        feeds = v.locator('link[rel="alternate"]')
        assert [feeds.nth(i).get_attribute("href").rsplit("/", 1)[1] for i in range(feeds.count())] == [
            "feed.xml", "feed.atom", "feed.json"]
        check_axe(v, axe_path, artifacts, f"library-public-{page.device}")
    finally:
        visitor.close()


def test_not_interested_hides_a_paper_at_once_with_an_undo(device_page, lib_server):
    page, url, services = device_page, lib_server.url, lib_server.services
    name = f"bob-{page.device}"
    services.accounts.create_user(f"{name}@example.org", name, PASSWORD, verified=True)
    log_in(page, url, name)
    card = page.locator("main .card").nth(1)
    title = card.locator(".card-title a").inner_text()
    card.get_by_role("button", name="Not interested").click()
    undo = page.get_by_role("button", name="Undo")
    undo.wait_for()
    assert not page.get_by_role("link", name=title, exact=True).is_visible()
    page.reload()  # the server drops it from this member's copy of the cached list
    assert page.get_by_role("link", name=title, exact=True).count() == 0
    page.goto(url + "/reading?state=hidden")
    assert page.get_by_role("link", name=title, exact=True).is_visible()
    # pressed again on the reading list: back on the list
    page.get_by_role("button", name="Not interested").first.click()
    page.wait_for_function("() => !document.querySelector('button[data-value=hidden][aria-pressed=true]')")
    page.goto(url + "/")
    assert page.get_by_role("link", name=title, exact=True).first.is_visible()
