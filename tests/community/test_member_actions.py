"""A member's own actions, over HTTP with the real app, SQLite and SMTP sink: visitors are asked to
log in before they type a comment; deleting a comment asks first and says it is done; a verified
email leads to logging in; a new API token is shown once, after a redirect."""

from __future__ import annotations

import datetime as dt
import re

from community_helpers import STRONG, csrf, fresh

DAY = dt.date(2021, 4, 22)
TOKEN_RE = re.compile(r'<code id="new-token-value">(dp_[^<]+)</code>')


def test_visitors_get_a_log_in_link_instead_of_the_comment_form(env):
    env.paper("2104.00001", day=DAY)
    env.member("ada")
    visitor = env.client()
    page = visitor.get("/papers/2104.00001")
    assert page.status_code == 200
    assert 'action="/papers/2104.00001/comments"' not in page.text and "<textarea" not in page.text
    assert 'href="/login?next=/papers/2104.00001%23comments">Log in to comment</a>' in page.text
    # The link's next= brings the member back to the comments after logging in.
    token = csrf(visitor, "/login?next=/papers/2104.00001%23comments")
    r = visitor.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": token,
                                     "next": "/papers/2104.00001#comments"})
    assert r.headers["location"] == "/papers/2104.00001#comments"
    # The same cached page, now with the form for the member.
    page = visitor.get("/papers/2104.00001")
    assert 'action="/papers/2104.00001/comments"' in page.text and "Log in to comment" not in page.text
    assert page.text.count('name="csrf_token"') >= 2 and "__DP_CSRF" not in page.text


def test_deleting_a_comment_asks_first_and_then_says_so(env):
    env.paper("2104.00001", day=DAY)
    env.member("ada")
    env.member("bob")
    ada = env.client()
    token = env.login(ada, "ada")
    r = ada.post("/papers/2104.00001/comments", data={"csrf_token": token, "body": "A thought worth keeping."})
    assert r.status_code == 303
    [comment] = env.store.paper_comments("2104.00001")
    page = ada.get(f"/comments/{comment.id}")
    assert f'href="/comments/{comment.id}/delete"' in page.text
    assert f'<form method="post" action="/comments/{comment.id}/delete"' not in page.text  # no one-click delete
    confirm = ada.get(f"/comments/{comment.id}/delete")
    assert confirm.status_code == 200 and "Delete this comment?" in confirm.text
    assert "A thought worth keeping." in confirm.text
    assert f'<form method="post" action="/comments/{comment.id}/delete"' in confirm.text
    assert env.store.get_comment(comment.id).deleted_at is None  # GET changed nothing

    # Only the author is asked; others are refused, visitors sent to log in.
    bob = env.client(ip="10.0.0.2")
    env.login(bob, "bob")
    assert bob.get(f"/comments/{comment.id}/delete").status_code == 403
    anon = env.client(ip="10.0.0.3")
    assert anon.get(f"/comments/{comment.id}/delete").headers["location"].startswith("/login?next=")

    r = ada.post(f"/comments/{comment.id}/delete", data={"csrf_token": csrf(ada, f"/comments/{comment.id}/delete")})
    assert r.status_code == 303 and r.headers["location"] == "/papers/2104.00001#comments"
    assert env.store.get_comment(comment.id).deleted_at is not None
    fresh(env)
    page = ada.get("/papers/2104.00001")
    assert '<p class="flash" role="status">Comment deleted.</p>' in page.text
    assert "A thought worth keeping." not in page.text
    assert "dp_flash=" in page.headers.get("set-cookie", "")  # cleared
    # Shown once.
    assert "Comment deleted." not in ada.get("/papers/2104.00001").text


def test_after_verifying_the_email_the_login_form_is_filled_in(env):
    c = env.client()
    token = csrf(c, "/signup")
    r = c.post("/signup", data={"email": "ada@example.org", "name": "ada", "password": STRONG, "csrf_token": token})
    assert r.status_code == 200
    link = env.smtp.link(env.smtp.wait(1)[0], "/verify")
    page = c.get("/verify?" + link.split("?", 1)[1])
    verify_token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    r = c.post("/verify", data={"token": verify_token, "csrf_token": csrf(c)})
    assert r.status_code == 200
    assert "Email verified" in r.text and "Log in to start" in r.text
    assert 'action="/login"' in r.text and 'value="ada@example.org"' in r.text
    r = c.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": csrf(c), "next": "/"})
    assert r.status_code == 303
    assert '<span class="member-name">ada</span>' in c.get("/").text


def test_a_new_api_token_is_shown_once_after_a_redirect(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = c.post("/settings/tokens", data={"name": "my script", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/settings#new-token"
    assert "dp_" not in r.headers["location"]
    cookie = r.headers["set-cookie"]
    assert "dp_new_token=" in cookie and "Path=/settings" in cookie and "HttpOnly" in cookie
    page = c.get("/settings")
    raw = TOKEN_RE.search(page.text).group(1)
    assert 'data-copy-target="new-token-value"' in page.text and "my script" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    # A reload shows no token and creates none.
    again = c.get("/settings")
    assert not TOKEN_RE.search(again.text) and raw not in again.text
    ada = env.store.user_by_name("ada")
    assert len(env.store.list_api_tokens(ada.id)) == 1
    # The cookie is signed and bound to its member: bob cannot be shown ada's, nor a forged one.
    env.member("bob")
    bob = env.client(ip="10.0.0.2")
    env.login(bob, "bob")
    bob.cookies.set("dp_new_token", cookie.split("dp_new_token=", 1)[1].split(";", 1)[0].strip('"'), path="/settings")
    assert not TOKEN_RE.search(bob.get("/settings").text)
