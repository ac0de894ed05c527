"""Subscribing to the digest through the form in a real browser.

Subscription pages keep their signed links from leaking through the Referer header; the policy
that does so must still let the browser say where the page's own form comes from (Origin), or
the CSRF check refuses the subscription."""

from __future__ import annotations


def test_subscribe_form_posts_and_asks_to_check_the_inbox(desktop, server, artifacts):
    page = desktop
    page.goto(server.url + "/")
    page.get_by_role("link", name="Subscribe").click()
    page.wait_for_url("**/subscribe")
    page.fill("input[name=email]", "reader@example.org")
    with page.expect_response(lambda r: r.url.endswith("/subscribe") and r.request.method == "POST") as resp:
        page.get_by_role("button", name="Subscribe").click()
    assert resp.value.request.headers.get("origin") == server.url  # not "null"
    assert resp.value.status == 200
    assert page.locator("h1").inner_text() == "Check your inbox"
    assert "reader@example.org" in page.locator("main").inner_text()
    page.screenshot(path=str(artifacts / "desktop-10-subscribed.png"))
