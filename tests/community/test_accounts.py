"""Accounts over HTTP: sign-up with a verified email, login sessions, reset, API tokens, profiles."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest
from community_helpers import STRONG, csrf, make_env

from dailypapers.community.accounts import LOGIN_FAILED, RESET_SENT, SESSION_COOKIE, check_password
from dailypapers.errors import Invalid


def signup(client, email="ada@example.org", name="ada", password=STRONG):
    token = csrf(client, "/signup")
    return client.post("/signup", data={"email": email, "name": name, "password": password, "csrf_token": token})


def test_signup_sends_a_verification_link_and_get_does_not_verify(env):
    c = env.client()
    r = signup(c)
    assert r.status_code == 200 and "We sent a link to ada@example.org" in r.text
    user = env.store.user_by_email("ada@example.org")
    assert user.role == "member" and not user.verified
    assert user.password_hash.startswith("$argon2id$")
    [msg] = env.smtp.wait(1)
    assert msg["To"] == "ada@example.org" and "Verify" in msg["Subject"]
    assert msg.get_body(("html",)) is not None  # text + HTML parts
    link = env.smtp.link(msg, "/verify")
    path = link.split("://", 1)[1].split("/", 1)[1]
    # Following the link (GET) shows a confirmation button and changes nothing.
    r = c.get("/" + path)
    assert r.status_code == 200 and 'action="/verify"' in r.text
    assert not env.store.get_user(user.id).verified
    token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
    r = c.post("/verify", data={"token": token, "csrf_token": csrf(c)})
    assert r.status_code == 200 and "Email verified" in r.text
    assert env.store.get_user(user.id).verified
    # A tampered link is refused.
    r = c.get("/verify?token=" + token[:-2] + "xx")
    assert r.status_code == 400


def test_verification_link_expires(env):
    c = env.client()
    signup(c)
    link = env.smtp.link(env.smtp.wait(1)[0], "/verify")
    env.clock.advance(days=4)
    r = c.get("/verify?" + link.split("?", 1)[1])
    assert r.status_code == 400 and "expired" in r.text


@pytest.mark.parametrize(
    "password,expected",
    [
        ("short", "at least 8 characters"),
        ("x" * 129, "at most 128 characters"),
        ("password123", "very common password"),
        ("ada@example.org", ""),  # the member's own email: guessable
        ("adaada2021", ""),
    ],
)
def test_weak_passwords_are_refused_with_zxcvbn_feedback(env, password, expected):
    c = env.client()
    r = signup(c, password=password)
    assert r.status_code == 400
    assert expected in r.text
    assert env.store.user_by_email("ada@example.org") is None


def test_password_rules_have_no_composition_rules():
    check_password("correct horse battery staple", ["bob@example.org", "bob"])  # lower case, no digits: fine
    check_password("Ω" * 2 + "violet-tractor-mango-91")
    with pytest.raises(Invalid):
        check_password("aaaaaaaaaaaa")


def test_signup_with_a_taken_email_reveals_nothing_and_mails_the_owner(env):
    env.member("ada")
    c = env.client()
    r = signup(c, email="ADA@example.org", name="someone")
    assert r.status_code == 200 and "We sent a link to ADA@example.org" in r.text
    [msg] = env.smtp.wait(1)
    assert msg["To"] == "ada@example.org" and "already have an account" in msg["Subject"]
    assert env.store.user_by_name("someone") is None


def test_login_failures_look_the_same_and_cost_the_same_work(env):
    env.member("ada")
    c = env.client()
    token = csrf(c)

    def attempt(email):
        return c.post("/login", data={"email": email, "password": "wrong-password-here", "csrf_token": token})

    for _ in range(4):  # the login limit is 10 per 5 minutes per IP
        r1 = attempt("ada@example.org")
        r2 = attempt("nobody@example.org")
        assert r1.status_code == r2.status_code == 400
        assert LOGIN_FAILED in r1.text and LOGIN_FAILED in r2.text
        strip = lambda text: re.sub(r'value="[^"]*"', "", text)  # noqa: E731 (the typed email is echoed)
        assert strip(r1.text) == strip(r2.text)
    # The same work, at the service: a known and an unknown email each cost one argon2 verify with
    # the same parameters. (Counted, not timed: the wall-clock figure is bench/bench_reset_timing.py's.)
    from argon2 import PasswordHasher, extract_parameters

    from dailypapers.community.accounts import AccountService

    class CountingHasher(PasswordHasher):
        def __init__(self):
            super().__init__()
            self.verified: list = []

        def verify(self, hash, password):
            self.verified.append(extract_parameters(hash))
            return super().verify(hash, password)

    accounts = AccountService(env.store, env.settings, None, hasher=CountingHasher())
    accounts.store.set_password(env.store.user_by_email("ada@example.org").id, accounts.hasher.hash(STRONG),
                                env.clock.now)
    for email in ("ada@example.org", "nobody@example.org", "not an email"):
        accounts.hasher.verified.clear()
        with pytest.raises(Invalid):
            accounts.authenticate(email, "wrong-password-here")
        assert accounts.hasher.verified == [extract_parameters(accounts.hasher.hash("x"))], email


def test_login_sets_a_new_server_side_session_with_safe_cookie_flags(env):
    env.member("ada")
    c = env.client()
    token = csrf(c)
    r = c.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": token, "next": "/u/ada"})
    assert r.status_code == 303 and r.headers["location"] == "/u/ada"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    raw = c.cookies[SESSION_COOKIE]
    assert len(raw) >= 22  # 128 bits, urlsafe base64
    stored = [r[0] for r in env.store.read("SELECT token_hash FROM sessions")]
    assert stored == [hashlib.sha256(raw.encode()).hexdigest()]  # only the hash is stored
    assert c.get("/settings").status_code == 200
    # A second login replaces the token (no fixation): the old one is gone. (The form's CSRF token is
    # bound to the session now open, as a browser's login page would carry.)
    r = c.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": csrf(c)})
    assert c.cookies[SESSION_COOKIE] != raw
    assert len(env.store.read("SELECT token_hash FROM sessions")) == 1
    # Logout ends it.
    r = c.post("/logout", data={"csrf_token": csrf(c)})
    assert r.status_code == 303
    assert env.store.read("SELECT COUNT(*) FROM sessions")[0][0] == 0
    assert c.get("/settings").status_code == 303  # to /login


def test_secure_cookie_on_https(tmp_path, smtp, backend_url):
    env = make_env(tmp_path, smtp, None, base_url="https://papers.example.org", database_url=backend_url)
    try:
        env.member("ada")
        c = env.client(base_url="https://papers.example.org")
        token = csrf(c)
        r = c.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": token},
                   headers={"Origin": "https://papers.example.org"})
        assert r.status_code == 303, r.text
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "=")][0]
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        env.close()
        env.store.close()


def test_sessions_time_out_when_idle_and_absolutely(env):
    env.member("ada")
    c = env.client()
    env.login(c, "ada")
    env.clock.advance(minutes=env.settings.session_idle_minutes - 1)
    assert c.get("/settings").status_code == 200  # used: the idle clock restarts
    env.clock.advance(minutes=env.settings.session_idle_minutes - 1)
    assert c.get("/settings").status_code == 200
    env.clock.advance(minutes=env.settings.session_idle_minutes + 1)
    assert c.get("/settings").status_code == 303  # idle too long
    # Absolute: used every day, still over after session_max_days.
    env.login(c, "ada")
    for _ in range(env.settings.session_max_days - 1):
        env.clock.advance(days=1)
        assert c.get("/settings").status_code == 200
    env.clock.advance(days=1, minutes=1)
    assert c.get("/settings").status_code == 303


def test_reset_answers_the_same_whether_or_not_the_account_exists(env):
    env.member("ada")
    c = env.client()
    token = csrf(c)
    r1 = c.post("/reset", data={"email": "ada@example.org", "csrf_token": token})
    r2 = c.post("/reset", data={"email": "nobody@example.org", "csrf_token": token})
    assert r1.status_code == r2.status_code == 200
    assert r1.text == r2.text and RESET_SENT in r1.text
    [msg] = env.smtp.wait(1)
    time.sleep(0.3)
    assert len(env.smtp.messages) == 1 and msg["To"] == "ada@example.org"
    link = env.smtp.link(msg, "/reset/confirm")
    query = link.split("?", 1)[1]
    other = env.client(ip="10.0.0.2")
    env.login(other, "ada")  # a session that the reset must end
    r = c.get("/reset/confirm?" + query)
    assert r.status_code == 200 and 'name="password"' in r.text
    reset_token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
    r = c.post("/reset/confirm", data={"token": reset_token, "password": "password1", "csrf_token": token})
    assert r.status_code == 400 and "common" in r.text.lower()
    r = c.post("/reset/confirm", data={"token": reset_token, "password": "saffron-kayak-lantern-7",
                                       "csrf_token": token})
    assert r.status_code == 200 and "Password changed" in r.text
    assert other.get("/settings").status_code == 303  # every session ended
    # The link works once.
    r = c.post("/reset/confirm", data={"token": reset_token, "password": "another-saffron-kayak-8",
                                       "csrf_token": token})
    assert r.status_code == 400
    env.login(c, "ada", "saffron-kayak-lantern-7")


def test_reset_link_expires_after_an_hour(env):
    env.member("ada")
    c = env.client()
    c.post("/reset", data={"email": "ada@example.org", "csrf_token": csrf(c)})
    link = env.smtp.link(env.smtp.wait(1)[0], "/reset/confirm")
    env.clock.advance(minutes=61)
    assert c.get("/reset/confirm?" + link.split("?", 1)[1]).status_code == 400


def test_disabled_accounts_cannot_log_in(env):
    user = env.member("ada")
    env.community.accounts.disable(user)
    c = env.client()
    r = c.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": csrf(c)})
    assert r.status_code == 400 and "disabled" in r.text


def test_api_tokens_authenticate_scripts_without_csrf(env):
    env.member("ada")
    env.paper("2104.00001", day=dt.date(2021, 4, 22))
    c = env.client()
    token = env.login(c, "ada")
    r = c.post("/settings/tokens", data={"name": "my script", "csrf_token": token})
    assert r.status_code == 303
    r = c.get(r.headers["location"].split("#")[0])
    raw = re.search(r'<code id="new-token-value">(dp_[^<]+)</code>', r.text).group(1)
    assert raw not in str(env.store.read("SELECT * FROM api_tokens"))  # hashed
    script = env.client(ip="10.0.0.9")  # no cookies at all
    r = script.post("/api/papers/2104.00001/upvote", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and r.json()["voted"] is True and r.json()["upvotes"] == 1
    r = script.post("/api/papers/2104.00001/upvote", headers={"Authorization": f"Bearer {raw}"},
                    json={"vote": True})
    assert r.json()["upvotes"] == 1  # explicit vote: idempotent
    # A bad token is a 401, never a fall back to cookies.
    r = c.post("/api/papers/2104.00001/upvote", headers={"Authorization": "Bearer dp_nope"})
    assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
    # An Authorization header does not exempt non-API routes from CSRF.
    r = script.post("/papers/2104.00001/upvote", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 403
    # Revoked: refused.
    token_id = env.store.list_api_tokens(env.store.user_by_name("ada").id)[0].id
    c.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": token})
    r = script.post("/api/papers/2104.00001/upvote", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401


def test_profile_lists_submissions_and_upvotes_unless_hidden(env):
    ada = env.member("ada")
    env.paper("2104.00001", day=dt.date(2021, 4, 22), title="Visible upvoted paper")
    env.community.votes.vote(ada, "2104.00001")
    anon = env.client(ip="10.0.0.7")
    r = anon.get("/u/ada")
    assert r.status_code == 200 and "Visible upvoted paper" in r.text
    c = env.client()
    token = env.login(c, "ada")
    c.post("/settings/profile", data={"csrf_token": token, "show_submissions": "on"})
    r = anon.get("/u/ada")
    assert "Visible upvoted paper" not in r.text and "keeps their upvotes private" in r.text
    assert "Visible upvoted paper" in c.get("/u/ada").text  # the owner still sees them
    assert anon.get("/u/nobody").status_code == 404


def test_a_bad_authorization_header_on_a_page_is_ignored_not_an_error(env):
    c = env.client()
    assert c.get("/settings", headers={"Authorization": "Bearer nope"}).status_code == 303  # to /login
    assert c.get("/u/nobody", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 404
    r = c.post("/api/papers/2104.00001/upvote", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 401
