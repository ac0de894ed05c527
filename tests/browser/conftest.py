"""Browser tests: Playwright for Python driving Debian's Chromium (/usr/bin/chromium), never a
downloaded browser, against a real uvicorn server on a free loopback port.

Missing Chromium, Playwright or axe-core (tests/browser/node_modules, from `npm ci` here) skips these
tests with the reason, except under CI=true, where it fails them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "web"))

from test_a11y import VIEWPORTS  # noqa: E402
from webapp import ServerThread, build_data_dir, make_app  # noqa: E402

CHROMIUM = Path(os.environ.get("DAILYPAPERS_CHROMIUM", "/usr/bin/chromium"))
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    data_dir = build_data_dir(tmp_path_factory.mktemp("browser-data"))
    app, services = make_app(data_dir)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        yield srv
    services.store.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright (Python) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def axe_path() -> Path:
    if not AXE.exists():
        unavailable(f"{AXE} is missing: run `npm ci --no-fund --no-audit` in tests/browser")
    return AXE


@pytest.fixture()
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(params=list(VIEWPORTS))
def device_page(request, browser):
    """A page on a desktop and on a phone (390 px, touch), with ``page.device`` naming which.
    axe is injected as a script, which our CSP forbids: bypassed for this context only."""
    phone = request.param == "phone"
    context = browser.new_context(viewport=VIEWPORTS[request.param], bypass_csp=True, is_mobile=phone,
                                  has_touch=phone, device_scale_factor=2 if phone else 1)
    page = context.new_page()
    page.device = request.param
    yield page
    context.close()
