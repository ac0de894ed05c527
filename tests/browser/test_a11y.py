"""Accessibility: axe-core (tests/browser/node_modules) on every page type, desktop and phone.
No serious or critical violations allowed."""

from __future__ import annotations

import json

import pytest

PAGES = {
    "home": "/",
    "day": "/papers/date/2026-08-20",
    "empty-day": "/papers/date/2026-08-11",
    "week": "/papers/week/2026-W34",
    "month": "/papers/month/2025-01",
    "trending": "/papers/trending",
    "paper": "/papers/2608.19880",
    "search-empty": "/papers/search",
    "search": "/papers/search?q=agents&from=2026-08-01",
    "search-error": "/papers/search?q=x&from=2026-02-30",
    "org": "/orgs/google",
    "api": "/api",
    "404": "/no/such/page",
}


def run_axe(page, axe_path) -> list[dict]:
    page.add_script_tag(path=str(axe_path))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return result


def check_axe(page, axe_path, artifacts, name: str) -> None:
    """No serious or critical axe violation on the page; every violation is kept as an artifact."""
    violations = run_axe(page, axe_path)
    if violations:
        (artifacts / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)


VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module", params=list(VIEWPORTS))
def axe_page(request, browser):
    # Our CSP forbids inline scripts, which is how axe is injected: bypass it for these checks only.
    context = browser.new_context(viewport=VIEWPORTS[request.param], bypass_csp=True)
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_violations(axe_page, server, axe_path, artifacts, name):
    page, device = axe_page, axe_page.device
    page.goto(server.url + PAGES[name])
    if name in ("home", "day", "search"):  # check the expanded abstracts too
        page.locator("details").first.evaluate("d => d.open = true")
    violations = run_axe(page, axe_path)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    if violations:
        (artifacts / f"axe-{device}-{name}.json").write_text(json.dumps(violations, indent=2))
    assert serious == [], json.dumps(serious, indent=2)


def test_dark_theme_and_keys_help(device_page, server, axe_path, artifacts):
    """Issue 15: a list page in the dark theme, then with the reading keys' help dialog open."""
    page, device = device_page, device_page.device
    page.emulate_media(color_scheme="dark")
    page.goto(server.url + "/papers/date/2026-08-20")
    page.locator("details.abstract").first.evaluate("d => d.open = true")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(13, 17, 23)"
    for name in ("dark-day", "dark-keys-help"):
        if name == "dark-keys-help":
            page.keyboard.press("j")
            page.keyboard.press("?")
            assert page.locator("dialog#keys-help").is_visible()
        violations = run_axe(page, axe_path)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        if violations:
            (artifacts / f"axe-{device}-{name}.json").write_text(json.dumps(violations, indent=2))
        assert serious == [], json.dumps(serious, indent=2)
