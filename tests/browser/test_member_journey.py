"""A member's journey in real Chromium, by clicks and typing only: sign up through the form, open the
verification link from a real SMTP sink (aiosmtpd), log in, upvote and see the upvote still marked
after a reload (aria-pressed, from the server), comment and delete the comment with confirmation,
create an API token and see it once. axe-core checks the member's pages on the way."""

from __future__ import annotations

import json
import re
import threading
import time
from email import message_from_bytes, policy

import pytest
from test_a11y import run_axe
from webapp import ServerThread, build_data_dir, free_port, make_app

EMAIL = "ada@example.org"
PASSWORD = "quiet-harbour-lantern-47"


class Inbox:
    """What a real aiosmtpd server received."""

    def __init__(self):
        self.messages: list = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        with self.cond:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.cond.notify_all()
        return "250 OK"

    def wait_for(self, to: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in self.messages if m["To"] == to]
                if found:
                    return found[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {to}")
                self.cond.wait(left)


@pytest.fixture(scope="module")
def smtp_sink():
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        pytest.skip("aiosmtpd is not installed")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory, smtp_sink):
    """A server of its own that sends real mail to the sink (these tests add a member and votes)."""
    data_dir = build_data_dir(tmp_path_factory.mktemp("browser-journey"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app, services = make_app(data_dir, base_url=url, smtp_host="127.0.0.1", smtp_port=smtp_sink.port,
                             smtp_security="none")
    with ServerThread(app, port=port) as srv:
        yield srv
    services.store.close()


def check_axe(page, axe_path, artifacts, name: str) -> None:
    violations = run_axe(page, axe_path)
    if violations:
        (artifacts / f"axe-member-{name}.json").write_text(json.dumps(violations, indent=2))
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], json.dumps(serious, indent=2)


def test_member_journey(browser, mail_server, smtp_sink, axe_path, artifacts):
    url = mail_server.url
    # axe is injected as a script tag, which our CSP forbids: bypassed for this context only.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = context.new_page()
    try:
        # A visitor: "Log in" and "Sign up" in the header, no member menu.
        page.goto(url + "/")
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="Log in").is_visible()
        assert page.locator("details.member-menu").count() == 0
        nav.get_by_role("link", name="Sign up").click()
        page.wait_for_url("**/signup")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Display name").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        assert "Check your email" in page.locator("h1").inner_text()

        # The link from the mail: a button that verifies, then the login form with the email filled in.
        text = smtp_sink.wait_for(EMAIL).get_body(("plain",)).get_content()
        link = re.search(r"https?://\S+/verify\?token=\S+", text).group(0)
        page.goto(url + "/verify?" + link.split("?", 1)[1])
        page.get_by_role("button", name="Verify my email address").click()
        page.wait_for_load_state()
        assert "Email verified" in page.get_by_role("status").first.inner_text()
        assert page.get_by_label("Email").input_value() == EMAIL
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(url + "/")

        # The header names the member, with their menu and "For you".
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="For you").first.is_visible()
        menu = page.locator("details.member-menu")
        assert menu.locator(".member-name").inner_text() == "ada"
        menu.locator("summary").click()
        for item in ("Your profile", "Settings", "Submit a paper"):
            assert menu.get_by_role("link", name=item).is_visible()
        assert menu.get_by_role("button", name="Log out").is_visible()
        page.screenshot(path=str(artifacts / "desktop-11-member-menu.png"))
        page.keyboard.press("Escape")
        assert menu.get_attribute("open") is None

        # Upvote the second paper; after a reload the server marks it (aria-pressed, filled).
        card = page.locator("article.card").nth(1)
        arxiv_id = card.get_attribute("id").removeprefix("paper-")
        button = card.locator("button.upvote-button")
        assert button.get_attribute("aria-pressed") == "false"
        before = int(card.locator(".upvote-count").inner_text())
        with page.expect_response(lambda r: r.url.endswith("/upvote") and r.request.method == "POST"):
            button.click()
        page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'", arg=button.element_handle())
        page.reload()
        card = page.locator(f'article[id="paper-{arxiv_id}"]')
        button = card.locator("button.upvote-button")
        assert button.get_attribute("aria-pressed") == "true"
        # a toggle keeps its name; screen readers hear "Upvote, pressed"
        assert card.get_by_role("button", name=re.compile("^Upvote"), pressed=True).count() == 1
        assert int(card.locator(".upvote-count").inner_text()) == before + 1
        assert page.locator("button.upvote-button[aria-pressed=true]").count() == 1
        fill = button.evaluate("b => getComputedStyle(b).backgroundColor")
        assert fill not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)")
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "desktop-12-upvote-kept-after-reload.png"))
        check_axe(page, axe_path, artifacts, "home")

        # Comment on the paper, then delete the comment: asked first, told after.
        card.locator(".card-title a").click()
        page.wait_for_url(f"**/papers/{arxiv_id}")
        assert page.locator("button.upvote-button").get_attribute("aria-pressed") == "true"
        page.get_by_label("Add a comment").fill("Clear write-up; the ablations convince me.")
        page.get_by_role("button", name="Comment", exact=True).click()
        page.wait_for_load_state()
        comment = page.locator("ol.comments li", has_text="Clear write-up")
        assert comment.is_visible()
        check_axe(page, axe_path, artifacts, "paper")
        comment.get_by_role("link", name="edit / moderate").click()
        page.get_by_role("link", name="Delete this comment").click()
        page.wait_for_url("**/delete")
        assert page.locator("h1").inner_text() == "Delete this comment?"
        page.screenshot(path=str(artifacts / "desktop-13-delete-comment-confirm.png"))
        check_axe(page, axe_path, artifacts, "delete-confirm")
        page.get_by_role("button", name="Delete the comment").click()
        page.wait_for_url(f"**/papers/{arxiv_id}#comments")
        assert page.get_by_role("status").filter(has_text="Comment deleted.").is_visible()
        assert page.locator("ol.comments li", has_text="Clear write-up").count() == 0
        page.screenshot(path=str(artifacts / "desktop-14-comment-deleted.png"))
        page.reload()
        assert page.get_by_text("Comment deleted.").count() == 0  # shown once

        # An API token: shown once after the redirect, with a copy button; a reload makes no second one.
        page.locator("details.member-menu summary").click()
        page.locator("details.member-menu").get_by_role("link", name="Settings").click()
        page.wait_for_url("**/settings")
        page.get_by_label("Token name").fill("my script")
        page.get_by_role("button", name="Create a token").click()
        page.wait_for_url("**/settings#new-token")
        token = page.locator("#new-token-value").inner_text().strip()
        assert token.startswith("dp_")
        copy = page.get_by_role("button", name="Copy the token")
        # The button copies the element it names. Whether headless Chromium then settles the
        # clipboard write depends on window focus here, so the test checks the wiring, not the OS.
        assert copy.is_visible()
        target = copy.get_attribute("data-copy-target")
        assert page.locator(f"#{target}").inner_text().strip() == token
        page.screenshot(path=str(artifacts / "desktop-15-new-token.png"))
        check_axe(page, axe_path, artifacts, "settings")
        page.reload()
        assert page.locator("#new-token-value").count() == 0 and token not in page.content()
        assert page.locator("table tbody tr").count() == 1

        # On a phone the header still fits, menu open.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url + "/")
        page.locator("details.member-menu summary").click()
        page.screenshot(path=str(artifacts / "phone-11-member-menu.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        check_axe(page, axe_path, artifacts, "phone-home")
    finally:
        context.close()
