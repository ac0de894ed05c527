"""Following in real Chromium, by clicks only: a member opens a paper, follows one of its authors
with the paper page's form (no JavaScript needed), opens For you and sees that author's paper with
"you follow X", opens "Why is this here" and unfollows there, and the reason is gone. axe-core
checks the new pages on the way."""

from __future__ import annotations

import pytest
from test_a11y import check_axe
from webapp import LATEST_DAY, own_server

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def follow_server(tmp_path_factory):
    """A server of its own: these tests add members and follows."""
    with own_server(tmp_path_factory.mktemp("browser-follows")) as srv:
        yield srv


@pytest.fixture()
def page(browser):
    """A desktop page; axe is injected as a script, which our CSP forbids: bypassed here only."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_follow_an_author_and_see_why_on_for_you(page, follow_server, axe_path, artifacts):
    url, services = follow_server.url, follow_server.services
    services.accounts.create_user("ada@example.org", "ada", PASSWORD, verified=True)
    # a paper of the latest list day, and its last author (the form's select lists every author)
    paper = next(p for _, p in services.store.day_listing(LATEST_DAY) if len(p.authors) >= 2)
    author = paper.authors[-1]

    page.goto(url + "/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")

    page.goto(f"{url}/papers/{paper.arxiv_id}")
    page.get_by_label("Follow an author").select_option(label=author)
    page.locator("form.follow-box").get_by_role("button", name="Follow").click()
    page.wait_for_url(f"{url}/papers/{paper.arxiv_id}")
    assert f"You follow {author}" in page.locator(".flash").inner_text()

    page.get_by_role("link", name="For you").first.click()
    page.wait_for_url(url + "/for-you")
    card = page.locator(f'[id="paper-{paper.arxiv_id}"]')
    assert f"you follow {author}" in card.locator(".why").inner_text()
    check_axe(page, axe_path, artifacts, "follows-for-you")

    card.get_by_role("link", name="(change)").click()
    page.wait_for_url(url + "/for-you/why")
    check_axe(page, axe_path, artifacts, "follows-why")
    page.get_by_role("button", name=f"Unfollow {author}").click()
    page.wait_for_url(url + "/for-you/why")
    assert f"You no longer follow {author}" in page.locator(".flash").inner_text()
    page.goto(url + "/for-you")
    assert f"you follow {author}" not in page.content()
