"""Issue 15 gaps in real Chromium: s and x acting for real (the Save menu opens, the paper leaves the
member's page) on a list and on search, axe-core on the library and account pages in light and
dark, and a member who downloads their data and deletes their account by clicks and typing."""

from __future__ import annotations

import json

import pytest
from test_a11y import run_axe
from webapp import own_server

PASSWORD = "quiet-harbour-lantern-47"


@pytest.fixture(scope="module")
def acct_server(tmp_path_factory):
    """A server of its own: these tests add members, collections, and delete an account."""
    with own_server(tmp_path_factory.mktemp("browser-account")) as srv:
        yield srv


def log_in(page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Email").fill(f"{name}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")


def selected(page) -> str:
    return page.eval_on_selector("main .card.is-selected", "c => c.id")


def test_s_and_x_save_and_hide_on_a_list_and_on_search(desktop, acct_server):
    page, url, services = desktop, acct_server.url, acct_server.services
    services.accounts.create_user("keys@example.org", "keys", PASSWORD, verified=True)
    log_in(page, url, "keys")
    for path in ("/", "/papers/search?q=agents"):
        page.goto(url + path)
        page.keyboard.press("j")
        page.keyboard.press("j")
        gone = selected(page)
        title = page.locator(f"#{gone}".replace(".", "\\.")).locator(".card-title a").inner_text()
        page.keyboard.press("x")  # not interested: out of the page at once, with an undo
        page.get_by_role("button", name="Undo").wait_for()
        assert not page.get_by_role("link", name=title, exact=True).is_visible()
        page.reload()  # and out of this member's copy of the page
        assert page.get_by_role("link", name=title, exact=True).count() == 0
        page.keyboard.press("j")
        page.keyboard.press("s")  # the Save menu of the selected paper
        menu = page.get_by_role("dialog", name="Save to a collection")
        menu.wait_for()
        page.keyboard.press("Escape")
        assert menu.count() == 0
        services.library.set_state(services.store.user_by_name("keys"), gone.removeprefix("paper-"), None)


def axe(page, axe_path, artifacts, name: str) -> None:
    violations = run_axe(page, axe_path)
    if violations:
        (artifacts / f"axe-account-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_library_and_account_pages_pass_axe(browser, acct_server, axe_path, artifacts, scheme):
    url, services = acct_server.url, acct_server.services
    name = f"axe-{scheme}"
    user = services.accounts.create_user(f"{name}@example.org", name, PASSWORD, verified=True)
    club = services.library.create(user, "Journal club", "Fridays", "shared")
    first = services.papers.home().entries[0].paper.arxiv_id
    services.library.add_paper(user, club.id, first)
    services.library.set_note(user, club.id, first, "Section 3.")
    services.library.set_state(user, first, "to_read")
    context = browser.new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, url, name)
        for label, path in (("collections", "/collections"), ("collection", f"/collections/{club.id}"),
                            ("note", f"/collections/{club.id}/note?paper={first}"),
                            ("import", f"/collections/{club.id}/import"), ("reading", "/reading"),
                            ("save", f"/papers/{first}/save"), ("settings", "/settings"),
                            ("delete", "/settings/delete")):
            response = page.goto(url + path)
            assert response.status == 200, path
            if scheme == "dark":
                assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(13, 17, 23)"
            axe(page, axe_path, artifacts, f"{scheme}-{label}")
    finally:
        context.close()


def test_download_your_data_then_delete_the_account(desktop, acct_server):
    page, url, services = desktop, acct_server.url, acct_server.services
    services.accounts.create_user("leaving@example.org", "leaving", PASSWORD, verified=True)
    log_in(page, url, "leaving")
    page.goto(url + "/settings")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all your data").click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert data["profile"]["name"] == "leaving" and download.value.suggested_filename.endswith(".json")
    page.get_by_role("link", name="Delete your account").click()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    assert "not your password" in page.get_by_role("alert").inner_text()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Account deleted"
    assert services.store.user_by_name("leaving") is None
    page.goto(url + "/settings")
    assert "/login" in page.url  # logged out
