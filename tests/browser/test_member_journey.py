"""A member's journey in real Chromium, by clicks and typing only: sign up through the form, open the
verification link from a real SMTP sink (aiosmtpd), log in, upvote and see the upvote still marked
after a reload (aria-pressed, from the server), comment and delete the comment with confirmation,
create an API token and see it once, submit a paper (metadata from a real HTTP server replaying a
recorded arXiv API response) and find it on today's list, and subscribe to the digest. axe-core
checks the member's pages on the way."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from test_a11y import check_axe
from webapp import NOW, ServerThread, build_data_dir, free_port, make_settings

from dailypapers import days
from dailypapers.app import build_services
from dailypapers.ingest.arxiv_api import ArxivClient
from dailypapers.mail import SMTPMailer
from dailypapers.web.routes import build_app

EMAIL = "ada@example.org"
PASSWORD = "quiet-harbour-lantern-47"
# The paper the member submits: a recorded arXiv API answer for an id lookup (tests/fixtures/arxiv).
SUBMIT_ID = "1605.08386"
SUBMIT_TITLE = "Heat-bath random walks with Markov bases"
SUBMIT_RECORDING = "id_1605.08386_s0_m100_199195aa31ad.json"
TODAY = days.list_day(NOW)  # the day submissions go on: Sunday 2026-08-23


def arxiv_fixtures():
    """tests/ingest/conftest.py (the recorded-arXiv HTTP server), loaded by path under the name
    tests/community/community_helpers.py uses: conftest modules are not importable by name."""
    name = "_arxiv_fixture_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[1] / "ingest" / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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
def arxiv_server():
    """A real HTTP server replaying the recorded arXiv API answer for SUBMIT_ID."""
    fixtures = arxiv_fixtures()
    server = fixtures.FixtureServer()
    params, reply = fixtures.recorded_atom(SUBMIT_RECORDING)
    server.add("/api/query", {"id_list": params["id_list"]}, reply)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory, smtp_sink, arxiv_server):
    """A server of its own (these tests add a member, votes, a submission and a subscription) that
    sends real mail to the sink and looks submissions up on the recorded arXiv server."""
    data_dir = build_data_dir(tmp_path_factory.mktemp("browser-journey"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The recorded paper is from 2016 and the clock stays at 2026-08-23 (the fixture lists'
    # week), so the age limit is widened for it; every other submission rule is the default.
    settings = make_settings(data_dir, base_url=url, submit_max_age_days=4000)
    arxiv = ArxivClient(arxiv_server.url + "/api/query", delay=0, timeout=10, max_retries=0)
    services = build_services(settings, embedder=False, clock=lambda: NOW, arxiv=arxiv,
                              mailer=SMTPMailer("127.0.0.1", smtp_sink.port, security="none"))
    with ServerThread(build_app(services), port=port) as srv:
        yield srv
    services.store.close()
    arxiv.close()


def test_member_journey(browser, mail_server, smtp_sink, arxiv_server, axe_path, artifacts):
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
        check_axe(page, axe_path, artifacts, "member-home")

        # Comment on the paper, then delete the comment: asked first, told after.
        card.locator(".card-title a").click()
        page.wait_for_url(f"**/papers/{arxiv_id}")
        assert page.locator("button.upvote-button").get_attribute("aria-pressed") == "true"
        page.get_by_label("Add a comment").fill("Clear write-up; the ablations convince me.")
        page.get_by_role("button", name="Comment", exact=True).click()
        page.wait_for_load_state()
        comment = page.locator("ol.comments li", has_text="Clear write-up")
        assert comment.is_visible()
        check_axe(page, axe_path, artifacts, "member-paper")
        comment.get_by_role("link", name="edit / moderate").click()
        page.get_by_role("link", name="Delete this comment").click()
        page.wait_for_url("**/delete")
        assert page.locator("h1").inner_text() == "Delete this comment?"
        page.screenshot(path=str(artifacts / "desktop-13-delete-comment-confirm.png"))
        check_axe(page, axe_path, artifacts, "member-delete-confirm")
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
        check_axe(page, axe_path, artifacts, "member-settings")
        page.reload()
        assert page.locator("#new-token-value").count() == 0 and token not in page.content()
        assert page.locator("table tbody tr").count() == 1

        # Submit a paper from the member menu: arXiv (the recorded server) gives its details, the
        # paper page names the member as its submitter on today's list, and the list shows it.
        page.locator("details.member-menu summary").click()
        page.locator("details.member-menu").get_by_role("link", name="Submit a paper").click()
        page.wait_for_url("**/papers/submit")
        assert page.locator("h1").inner_text() == "Submit a paper"
        page.get_by_label("arXiv id or URL").fill(SUBMIT_ID)
        page.screenshot(path=str(artifacts / "desktop-16-submit-form.png"))
        check_axe(page, axe_path, artifacts, "member-submit")
        page.get_by_role("button", name="Submit", exact=True).click()
        page.wait_for_url(f"{url}/papers/{SUBMIT_ID}")  # no query parameter: the message is one-shot
        assert page.locator("h1").inner_text() == SUBMIT_TITLE
        added = f"Added to the list of {TODAY:%b} {TODAY.day}, {TODAY.year}."  # Aug 23, 2026
        assert page.get_by_role("status").filter(has_text=added).is_visible()
        listed = page.locator("ul.listed li")
        assert listed.count() == 1
        assert "submitted by ada" in listed.inner_text()
        assert listed.get_by_role("link").get_attribute("href") == f"/papers/date/{TODAY.isoformat()}"
        assert [r.params["id_list"] for r in arxiv_server.requests] == [SUBMIT_ID]  # asked once, over HTTP
        listed.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "desktop-17-submitted-paper.png"))
        check_axe(page, axe_path, artifacts, "member-submitted-paper")
        page.reload()
        assert page.get_by_text(added).count() == 0  # shown once
        listed = page.locator("ul.listed li")
        listed.get_by_role("link").click()
        page.wait_for_url(f"**/papers/date/{TODAY.isoformat()}")
        card = page.locator(f'article.card[id="paper-{SUBMIT_ID}"]')
        assert card.locator(".card-title").inner_text() == SUBMIT_TITLE
        page.screenshot(path=str(artifacts / "desktop-18-todays-list.png"))
        check_axe(page, axe_path, artifacts, "member-todays-list")
        page.reload()
        assert page.locator(f'article.card[id="paper-{SUBMIT_ID}"]').is_visible()

        # Subscribe to the digest from the header's link. The member's own address is verified, so
        # no confirmation mail: subscribed at once, with a link to change or unsubscribe (no email will
        # bring one before the first digest), and the form shows it next time.
        page.locator(".promo").get_by_role("link", name="Subscribe").click()
        page.wait_for_url("**/subscribe")
        assert page.get_by_label("Email", exact=True).input_value() == EMAIL
        page.get_by_label("Weekly, on").check()
        page.get_by_label("Weekday", exact=True).select_option(label="Friday")
        page.get_by_label("Topics").fill("random walks\nsparse attention")
        page.get_by_label("Add papers like the ones I upvoted").check()
        page.screenshot(path=str(artifacts / "desktop-19-subscribe-form.png"))
        check_axe(page, axe_path, artifacts, "member-subscribe")
        mails = len(smtp_sink.messages)
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "You are subscribed"
        assert page.get_by_role("status").first.inner_text() == f"Your digest goes to {EMAIL} weekly, on Fridays."
        assert len(smtp_sink.messages) == mails  # the mail would have arrived before the page did
        assert page.get_by_role("link", name="See papers for you").is_visible()
        page.screenshot(path=str(artifacts / "desktop-20-subscribed.png"))
        check_axe(page, axe_path, artifacts, "member-subscribed")
        page.get_by_role("link", name="Change or unsubscribe").click()
        page.wait_for_url("**/subscriptions/manage?token=*")
        assert page.locator("h1").inner_text() == "Your subscription"
        assert f"Digests go to {EMAIL} (weekly, on Fridays)." in page.locator("main").inner_text()
        assert page.get_by_label("Weekday", exact=True).input_value() == "4"
        assert page.get_by_role("button", name="Save").is_visible()
        assert page.get_by_role("button", name="Unsubscribe").is_visible()
        page.screenshot(path=str(artifacts / "desktop-21-manage-subscription.png"))
        check_axe(page, axe_path, artifacts, "member-manage-subscription")
        page.locator(".promo").get_by_role("link", name="Subscribe").click()
        page.wait_for_url("**/subscribe")
        assert "You are subscribed (weekly, on Fridays)" in page.get_by_role("status").first.inner_text()
        assert page.get_by_label("Weekly, on").is_checked()
        assert page.get_by_label("Weekday", exact=True).input_value() == "4"
        assert page.get_by_label("Topics").input_value() == "random walks\nsparse attention"
        assert page.get_by_label("Add papers like the ones I upvoted").is_checked()
        page.get_by_role("link", name="Change or unsubscribe").click()
        page.wait_for_url("**/subscriptions/manage?token=*")
        assert page.locator("h1").inner_text() == "Your subscription"

        # On a phone the header still fits, menu open.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url + "/")
        page.locator("details.member-menu summary").click()
        page.screenshot(path=str(artifacts / "phone-11-member-menu.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        check_axe(page, axe_path, artifacts, "member-phone-home")
    finally:
        context.close()
