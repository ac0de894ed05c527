"""Error pages read as pages for readers in real Chromium: a 404 with a search box and the way back
to today's list, a bad date that says what dates look like. axe-core finds nothing on them."""

from __future__ import annotations

import json

import pytest
from test_a11y import VIEWPORTS, run_axe


@pytest.fixture
def reader(device_page):
    return device_page


def reads_well(page, axe_path, artifacts, name: str) -> None:
    width = VIEWPORTS[page.device]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("h1").count() == 1
    page.screenshot(path=str(artifacts / f"error-{page.device}-{name}.png"), full_page=False)
    violations = run_axe(page, axe_path)
    assert violations == [], json.dumps(violations, indent=2)


def test_a_missing_page_offers_search_and_todays_list(reader, server, axe_path, artifacts):
    page = reader
    response = page.goto(server.url + "/papers/2101.99999")
    assert response.status == 404
    assert page.title() == "Page not found · Daily Papers"
    assert page.get_by_role("heading", level=1).inner_text() == "We couldn't find that page"
    assert page.get_by_text("No paper 2101.99999 here.").is_visible()
    assert page.get_by_role("link", name="Today's papers").get_attribute("href") == "/"
    reads_well(page, axe_path, artifacts, "404")

    # The page's own search box works.
    box = page.locator("main").get_by_role("searchbox", name="Search papers")
    box.click()
    page.keyboard.type("agents")
    page.keyboard.press("Enter")
    page.wait_for_url("**/papers/search?q=agents")
    assert page.locator("article.card").count() > 0

    # And the way back to today's list.
    page.go_back()
    page.get_by_role("link", name="Today's papers").click()
    page.wait_for_url(server.url + "/")
    assert page.locator("h1").inner_text() == "Friday, August 21, 2026"


def test_a_bad_date_says_what_dates_look_like(reader, server, axe_path, artifacts):
    page = reader
    response = page.goto(server.url + "/papers/date/2026-02-30")
    assert response.status == 400
    assert page.get_by_role("heading", level=1).inner_text() == "We couldn't read that date"
    main = page.locator("main").inner_text()
    assert "Dates look like 2026-08-21" in main and "2026-02-30" in main
    assert "Traceback" not in main
    reads_well(page, axe_path, artifacts, "bad-date")
    page.get_by_role("link", name="Today's papers").click()
    page.wait_for_url(server.url + "/")
