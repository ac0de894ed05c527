"""A visitor finds their way around in real Chromium, on a desktop and a 390-px phone: home, the
previous day, the week through the Day/Week/Month switcher, its second page, a paper, its
organization, trending and a feed. Every step: a screenshot in test-artifacts/, no sideways
scrolling on the phone, and axe-core finds nothing serious."""

from __future__ import annotations

import json
import re

import pytest
from test_a11y import run_axe


@pytest.fixture
def visitor(device_page):
    return device_page


def step(page, artifacts, axe_path, name: str) -> None:
    page.wait_for_load_state()
    device = page.device
    if device == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} scrolls sideways on a phone: {width}px"
    page.screenshot(path=str(artifacts / f"visitor-{device}-{name}.png"), full_page=False)
    violations = run_axe(page, axe_path)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: " + json.dumps(serious, indent=2)


def test_a_visitor_walks_from_the_day_to_the_week_a_paper_its_org_and_a_feed(visitor, server, artifacts,
                                                                            axe_path):
    page = visitor
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Friday, August 21, 2026"
    switch = page.get_by_role("navigation", name="Day, week or month")
    assert switch.get_by_role("link", name="Day").get_attribute("aria-current") == "page"
    step(page, artifacts, axe_path, "1-home")

    page.get_by_role("link", name=re.compile("Previous day")).click()
    page.wait_for_url("**/papers/date/2026-08-20")
    assert page.locator("h1").inner_text() == "Thursday, August 20, 2026"
    step(page, artifacts, axe_path, "2-previous-day")

    page.get_by_role("navigation", name="Day, week or month").get_by_role("link", name="Week").click()
    page.wait_for_url("**/papers/week/2026-W34")
    assert page.locator("h1").inner_text() == "Week 2026-W34"
    count = page.locator("p.count").inner_text()
    m = re.fullmatch(r"Papers 1–(\d+) of (\d+)", count)
    assert m and int(m.group(2)) > int(m.group(1)) == page.locator("article.card").count()
    assert page.locator("details.abstract").count() == 0  # previews only: a week is long
    # the latest week: nothing to walk forward into
    assert page.get_by_role("navigation", name="Weeks").get_by_role("link", name=re.compile("^Next")).count() == 0
    step(page, artifacts, axe_path, "3-week")

    page.get_by_role("navigation", name="Pages").get_by_role("link", name=re.compile("Next page")).click()
    page.wait_for_url("**/papers/week/2026-W34?page=2")
    assert page.get_by_text(re.compile(r"^Page 2 of \d+$")).is_visible()
    assert page.locator("p.count").inner_text().startswith(f"Papers {int(m.group(1)) + 1}–")
    step(page, artifacts, axe_path, "4-week-page-2")

    card = page.locator("article.card", has=page.locator("a.org")).first
    title = card.locator(".card-title a").inner_text()
    org = card.locator("a.org").inner_text()
    card.locator(".card-title a").click()
    page.wait_for_url(re.compile(r"/papers/\d{4}\.\d{4,5}$"))
    assert page.locator("h1").inner_text() == title
    step(page, artifacts, axe_path, "5-paper")

    page.locator("main a.org").first.click()
    page.wait_for_url(re.compile(r"/orgs/[\w.\-]+$"))
    assert org in page.locator("h1").inner_text()
    assert page.locator("article.card").count() > 0
    step(page, artifacts, axe_path, "6-org")

    page.get_by_role("link", name="Trending", exact=True).first.click()
    page.wait_for_url("**/papers/trending")
    assert page.locator("h1").inner_text() == "Trending papers"
    assert page.locator("article.card").count() > 10
    step(page, artifacts, axe_path, "7-trending")

    feed = page.locator("footer a[href$='.xml']", has_text="trending")
    href = feed.get_attribute("href")
    response = page.request.get(server.url + href)
    assert response.status == 200
    assert "xml" in response.headers["content-type"]
    body = response.text()
    assert body.lstrip().startswith("<?xml") and "<rss" in body and "<item>" in body


def test_a_submission_waiting_on_arxiv_says_so_and_keeps_the_form(browser, tmp_path, artifacts, axe_path):
    from argon2 import PasswordHasher
    from silent_server import SilentServer
    from webapp import NOW, ServerThread, make_settings

    from dailypapers.app import build_services
    from dailypapers.storage.sqlite import SQLiteStore
    from dailypapers.web.routes import build_app

    with SilentServer() as arxiv:
        settings = make_settings(tmp_path, arxiv_api_url=arxiv.url, arxiv_submit_timeout=2.0, arxiv_delay=0.0)
        store = SQLiteStore(tmp_path / "dailypapers.db")
        store.migrate()
        # no arXiv client passed in: the app builds the bounded one from the settings
        services = build_services(settings, store=store, embedder=False, clock=lambda: NOW,
                                  hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        app = build_app(services)
        member = services.accounts.create_user("ada@example.org", "ada", None, verified=True)
        with ServerThread(app) as srv:
            context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
            context.add_cookies([{"name": "dp_session", "value": services.accounts.start_session(member),
                                  "url": srv.url}])
            page = context.new_page()
            page.device = "phone"
            page.goto(srv.url + "/papers/submit")
            page.get_by_label("arXiv id or URL").fill("2608.99999")
            # Click, and look at the page in the same breath (locators would wait for the navigation
            # the click starts, which is the whole arXiv wait).
            waiting = page.evaluate("""() => {
                const button = document.querySelector("form[data-busy] button[type=submit]");
                button.click();
                const status = document.querySelector("[role=status]");
                return {disabled: button.disabled, text: status && status.textContent,
                        shown: !!status && status.getClientRects().length > 0};
            }""")
            assert waiting == {"disabled": True, "text": "Fetching from arXiv…", "shown": True}
            page.wait_for_url("**/papers/submit")
            error = page.get_by_role("alert")
            error.wait_for(timeout=10_000)
            assert "arXiv did not answer in 2 s; try again." in error.inner_text()
            assert page.get_by_label("arXiv id or URL").input_value() == "2608.99999"
            assert page.get_by_role("button", name="Submit").is_enabled()
            step(page, artifacts, axe_path, "9-submit-timed-out")
            context.close()
        store.close()
