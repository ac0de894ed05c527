"""A curator clears arrivals from the keyboard in real Chromium, on a 1,280-px desktop and a
390-px phone: logs in through the form, opens the inbox of a day of real arXiv arrivals, presses
j j a, x, z, p, and sees each row change in place, without a reload, the selection ringed and
moving on to the next undecided paper; then finds the added and the pinned paper on the day's
public list, the pinned one first."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from inbox_data import DAY, PASSWORD, build_inbox_data_dir, build_services_for
from test_a11y import VIEWPORTS, run_axe
from webapp import ServerThread

from dailypapers.web.routes import build_app


@pytest.fixture(scope="module")
def inbox_data(tmp_path_factory):
    return build_inbox_data_dir(tmp_path_factory.mktemp("browser-inbox") / "data")


@pytest.fixture
def inbox_server(inbox_data, tmp_path):
    """A server over a copy of the data: each run (desktop, phone) triages the same untouched day."""
    data = tmp_path / "data"
    shutil.copytree(inbox_data, data)
    services = build_services_for(data)
    app = build_app(services)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        srv.services = services
        yield srv
    services.store.close()


def state_of(page, arxiv_id: str) -> str:
    return page.locator(f'li.inbox-item[data-arxiv-id="{arxiv_id}"]').get_attribute("data-state")


def wait_state(page, arxiv_id: str, state: str) -> None:
    page.wait_for_function(
        "([id, state]) => document.querySelector(`li.inbox-item[data-arxiv-id=\"${id}\"]`)"
        ".getAttribute('data-state') === state", arg=[arxiv_id, state])


def selected(page) -> str:
    return page.locator("li.inbox-item.is-selected").get_attribute("data-arxiv-id")


def test_a_curator_triages_arrivals_from_the_keyboard(device_page, inbox_server, artifacts, axe_path):
    page, url = device_page, inbox_server.url
    entries = inbox_server.services.arrivals.view(DAY, per_page=1000).entries
    ids = [e.paper.arxiv_id for e in entries]
    titles = [e.paper.title for e in entries]
    inbox = f"{url}/curate/inbox/{DAY.isoformat()}"

    # Log in through the form, asked for on the way to the inbox.
    page.goto(inbox)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill("cora@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(inbox)
    assert page.locator("h1").inner_text() == "Arrivals of Thursday, October 30, 2025"
    page.wait_for_selector("li.inbox-item.is-selected")
    assert selected(page) == ids[0]  # the first undecided paper, best first
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    # Typing in the search box is not triage.
    page.locator("#site-q").fill("ja")
    page.locator("#site-q").press("a")
    assert state_of(page, ids[0]) == "undecided"
    page.locator("#site-q").fill("")
    page.locator("#site-q").blur()

    # j j: down two papers, ringed and in view.
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert selected(page) == ids[2]
    ring = page.evaluate("getComputedStyle(document.querySelector('li.inbox-item.is-selected')).outlineStyle")
    assert ring == "solid"
    assert page.locator(f'li.inbox-item[data-arxiv-id="{ids[2]}"]').is_visible()

    # a: added, and on to the next undecided paper.
    page.keyboard.press("a")
    wait_state(page, ids[2], "added")
    assert selected(page) == ids[3]
    live = page.locator("#inbox-live")
    assert live.inner_text() == f"Added “{titles[2]}” to the list of Oct 30, 2025."
    row = page.locator(f'li.inbox-item[data-arxiv-id="{ids[2]}"]')
    assert row.locator("[data-state-text]").inner_text() == "Added by cora · on the list of Oct 30, 2025"
    assert row.get_by_role("button", name=f"Add “{titles[2]}”").is_disabled()
    assert row.get_by_role("button", name=f"Pin “{titles[2]}”").is_enabled()

    # x skips the next one; z takes that back and returns to it; p pins it.
    page.keyboard.press("x")
    wait_state(page, ids[3], "skipped")
    assert selected(page) == ids[4]
    page.keyboard.press("z")
    wait_state(page, ids[3], "undecided")
    assert selected(page) == ids[3]
    assert live.inner_text() == f"Undid the skip of “{titles[3]}”."
    page.keyboard.press("p")
    wait_state(page, ids[3], "pinned")
    assert selected(page) == ids[4]
    assert live.inner_text() == f"Pinned “{titles[3]}”: it comes first on the list of Oct 30, 2025."
    counts = {k: page.locator(f"[data-count={k}]").inner_text() for k in ("undecided", "added", "skipped")}
    assert counts == {"undecided": "12", "added": "2", "skipped": "0"}

    # A refusal is said in the live region, and nothing changes: ids[3] is pinned already.
    page.keyboard.press("k")
    page.keyboard.press("x")
    page.wait_for_function("document.querySelector('#inbox-live').classList.contains('flash-error')")
    assert live.inner_text() == f"{ids[3]} is pinned already: undo that first (z)."
    assert state_of(page, ids[3]) == "pinned"

    # ? shows the help, and hides it again.
    help_box = page.locator("#inbox-help")
    page.keyboard.press("?")
    assert help_box.is_visible()
    width = VIEWPORTS[page.device]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(artifacts / f"inbox-{page.device}.png"), full_page=False)
    violations = run_axe(page, axe_path)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)
    page.keyboard.press("?")
    assert not help_box.is_visible()
    assert page.evaluate("window.sameDocument") is True  # all of it without a reload

    # The day's public list: the pinned paper first, then the added one; the skipped-then-undone
    # paper is only pinned, once.
    page.goto(f"{url}/papers/date/{DAY.isoformat()}")
    cards = page.locator("article.card .card-title")
    assert [cards.nth(i).inner_text() for i in range(cards.count())] == [titles[3], titles[2]]

    # o opens the selected paper.
    page.goto(inbox)
    page.wait_for_selector("li.inbox-item.is-selected")
    page.keyboard.press("o")
    page.wait_for_url(f"{url}/papers/{ids[0]}")  # the first undecided paper, selected on load
