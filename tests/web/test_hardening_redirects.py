"""Issue 16, long redirects: a redirect that echoes what a client sent (a refused saved search's query, a
form's `next`, a link's token) carried it whole into ``Location``, 10 KB and more, past what reverse
proxies take in a response header (nginx: 4-8 KB, a 502). Every Location is capped (web/guard.py,
MAX_LOCATION): past it, the query is dropped. Real HTTP through the app (httpx over ASGI)."""

from __future__ import annotations

import pytest
from webapp import Client, make_app

from dailypapers.community.accounts import SESSION_COOKIE
from dailypapers.web.guard import MAX_LOCATION

PASSWORD = "correct horse battery staple"
LONG_PATH = "/papers/search?q=" + "%E2%82%AC" * 490  # a local `next` of 500 characters, 4.4 KB as sent


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    user = services.accounts.create_user("ada@example.org", "ada", PASSWORD, verified=True, check_strength=False)
    member, visitor = Client(app), Client(app)
    member.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    yield member, visitor
    member.close()
    visitor.close()
    services.store.close()


def post(c: Client, url: str, data: dict, **kwargs):
    return c.post(url, data={**data, "csrf_token": Client.csrf(c.get("/login"))}, **kwargs)


def location(r) -> str:
    assert r.status_code in (301, 302, 303), (r.status_code, r.text[:200])
    value = r.headers["location"]
    assert len(value.encode()) <= MAX_LOCATION and value.startswith("/"), len(value)
    return value


def test_a_refused_saved_search_redirects_back_without_its_10_kb_query(site):
    member, _ = site
    r = post(member, "/saved-searches", {"q": "diffusion " * 1000, "name": "long"})
    assert location(r) == "/saved-searches"  # the handler's choice; the guard would have cut the query
    page = member.get("/saved-searches")  # the refusal is shown there, from its one-shot cookie
    assert page.status_code == 200 and "The query is too long" in page.text


def test_every_redirect_that_echoes_input_is_capped(site):
    member, visitor = site
    echoes = [
        post(visitor, "/papers/2608.19880/upvote", {"next": "/" + "€" * 499}),  # to the login page
        post(member, "/papers/2608.19880/upvote", {"next": "/" + "€" * 499}),  # back to the page
        post(visitor, "/login", {"email": "ada@example.org", "password": PASSWORD, "next": "/" + "€" * 499}),
        visitor.get("/unsubscribe/one-click?token=" + "t" * 12_000),  # the token, echoed to the manage page
        post(visitor, "/saved-searches", {"q": "€" * 3000}),  # a visitor: to the login page
        member.post("/papers/2608.19880/upvote", data={"csrf_token": Client.csrf(member.get("/login"))},
                    headers={"Referer": "http://testserver" + LONG_PATH}),
    ]
    for r in echoes:
        location(r)
    # short ones are kept whole
    r = post(member, "/papers/2608.19880/upvote", {"next": "/papers/search?q=graph"})
    assert location(r) == "/papers/search?q=graph#paper-2608.19880"
