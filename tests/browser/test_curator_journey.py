"""A curator runs a day's list in real Chromium, on a 1,280-px desktop and a 390-px phone: logs in
through the form, adds a paper by id, pins it, hides it, removes it (confirming first), reads the
message after each step, and finds the actions, with titles, in the curator log. Screenshots go to
test-artifacts/; the table must never break a word in two at 1,280 px."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner
from test_a11y import VIEWPORTS, run_axe
from webapp import ServerThread, build_data_dir, make_app

from dailypapers.cli import main

PASSWORD = "quiet-harbour-lantern-47"
DAY = dt.date(2026, 8, 21)
OTHER_DAY = dt.date(2026, 8, 20)


@pytest.fixture(scope="module")
def curator_server(tmp_path_factory):
    """A server of its own (this journey changes a day's list), with a curator made by the CLI."""
    data_dir = build_data_dir(tmp_path_factory.mktemp("browser-curator"))
    r = CliRunner().invoke(main, ["--data-dir", str(data_dir), "users", "create", "cora@example.org", "cora",
                                  "--role", "curator", "--password-stdin"], input=PASSWORD + "\n",
                           env={"DAILYPAPERS_SECRET_KEY": "test-secret-key-for-web-tests"})
    assert r.exit_code == 0, r.output
    app, services = make_app(data_dir)
    on_day = {row.paper.arxiv_id for row in services.store.curated_day(DAY)}
    candidate = next(row.paper for row in services.store.curated_day(OTHER_DAY) if row.paper.arxiv_id not in on_day)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        srv.paper = candidate
        yield srv
    services.store.close()


@pytest.fixture
def curator_page(device_page):
    return device_page


BROKEN_WORDS = """(selector) => {
    // Every word (split at spaces and hyphens) must sit on one line: a Range over a word that the
    // layout broke in two has two client rects.
    const broken = [];
    for (const root of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.parentElement.getClientRects().length) continue;  // not displayed
            const re = /[^\\s\\-\u2010-\u2014\\/]+/g;
            let m;
            while ((m = re.exec(node.data))) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(m[0]);
            }
        }
    }
    return broken;
}"""

OVERFLOWING_CELLS = """(selector) => Array.from(document.querySelectorAll(selector))
    .filter(el => el.getClientRects().length && el.scrollWidth > el.clientWidth + 1)
    .map(el => el.textContent.trim().slice(0, 60))"""


def check(page, artifacts, name: str) -> None:
    page.wait_for_load_state()
    width = VIEWPORTS[page.device]["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px > {width}px"
    if page.locator("table").count():
        if page.device == "desktop":
            assert page.evaluate(BROKEN_WORDS, "table th, table td") == []
            assert page.evaluate(OVERFLOWING_CELLS, "table th, table td") == []
        else:  # the rows are cards on a phone: their labels and buttons stay whole
            assert page.evaluate(BROKEN_WORDS, "table .btn, table td:not(.paper-cell)") == []
    page.screenshot(path=str(artifacts / f"curator-{page.device}-{name}.png"), full_page=False)
    violations = run_axe(page, axe_path_of(page))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: " + json.dumps(serious, indent=2)


def axe_path_of(page):
    return page.axe_path


def status_message(page) -> str:
    status = page.get_by_role("status")
    status.wait_for()
    return status.inner_text()


def test_a_curator_adds_pins_hides_and_removes_a_paper(curator_page, curator_server, artifacts, axe_path):
    page, url, paper = curator_page, curator_server.url, curator_server.paper
    page.axe_path = axe_path
    title, on = paper.title, "Aug 21, 2026"
    curate = f"{url}/curate?day={DAY.isoformat()}"

    # Log in through the form: asked for on the way to /curate.
    page.goto(curate)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").click()
    page.keyboard.type("cora@example.org")
    page.get_by_label("Password").click()
    page.keyboard.type(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(curate)
    assert page.locator("h1").inner_text() == "List of Friday, August 21, 2026"
    check(page, artifacts, "1-day")

    # Add a paper from the day before by its id.
    page.get_by_label("Add a paper to this day").click()
    page.keyboard.type(paper.arxiv_id)
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(curate)
    assert status_message(page) == f"Added “{title}” to the list of {on}."
    row = page.locator("tbody tr", has=page.get_by_role("link", name=title, exact=True))
    assert row.count() == 1
    check(page, artifacts, "2-added")

    # Adding it twice is refused: the field is marked and focused, without any script's help.
    page.get_by_label("Add a paper to this day").fill(paper.arxiv_id)
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(curate)
    assert "is already on the list" in page.get_by_role("alert").inner_text()
    field = page.get_by_label("Add a paper to this day")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "id"
    check(page, artifacts, "3-refused")

    # Pin it: it comes first, marked Pinned.
    page.get_by_role("button", name=f"Pin “{title}”").click()
    page.wait_for_url(curate)
    assert status_message(page) == f"Pinned “{title}”: it now comes first on the list of {on}."
    first = page.locator("tbody tr").first
    assert title in first.inner_text() and "Pinned" in first.inner_text()
    check(page, artifacts, "4-pinned")

    # Hide it.
    page.get_by_role("button", name=f"Hide “{title}”").click()
    page.wait_for_url(curate)
    assert status_message(page) == f"Hid “{title}”: readers no longer see it on the list of {on}."
    assert "Hidden" in page.locator("tbody tr").first.inner_text()
    check(page, artifacts, "5-hidden")

    # Remove it: a confirmation first, which names the paper.
    page.get_by_role("link", name=f"Remove “{title}”", exact=True).click()
    page.wait_for_url(re.compile(r"/curate/remove\?"))
    assert page.get_by_role("heading", level=1).inner_text() == "Remove this paper from the list?"
    assert title in page.locator("main").inner_text()
    check(page, artifacts, "6-confirm-remove")
    page.get_by_role("button", name="Remove it").click()
    page.wait_for_url(curate)
    assert status_message(page) == f"Removed “{title}” from the list of {on}."
    assert page.get_by_role("link", name=title, exact=True).count() == 0
    check(page, artifacts, "7-removed")

    # The log names each action with the paper's title and the day.
    page.get_by_role("link", name="Log", exact=True).click()
    page.wait_for_url(f"{url}/curate/log")
    rows = page.locator("tbody tr")
    actions = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(4)]
    assert actions == ["Removed", "Hid", "Pinned", "Added"]
    for i in range(4):
        cells = rows.nth(i)
        assert cells.get_by_role("link", name=title, exact=True).get_attribute("href") == f"/papers/{paper.arxiv_id}"
        assert cells.get_by_role("link", name=on).get_attribute("href") == f"/curate?day={DAY.isoformat()}"
    check(page, artifacts, "8-log")
