"""A member's own actions on shared (cached) pages: their upvotes pressed, their name in the header,
"For you" in the navigation; visitors get the shared page with "Log in" and nothing pressed.

Real SQLite loaded with the HF fixtures, the real app over HTTP, members logging in through the form."""

from __future__ import annotations

import gzip
import re

import pytest
from webapp import LATEST_DAY, Client, make_app

PASSWORD = "quiet-harbour-lantern-47"
PRESSED = re.compile(r'data-vote="([^"]+)" aria-pressed="true"><span class="upvote-action visually-hidden">'
                     r'Upvote</span>')
UNPRESSED = re.compile(r'data-vote="([^"]+)" aria-pressed="false"><span class="upvote-action visually-hidden">'
                       r'Upvote</span>')


@pytest.fixture()
def member_app(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    for name, role in (("ada", "member"), ("bob", "member"), ("cy", "curator")):
        services.accounts.create_user(f"{name}@example.org", name, PASSWORD, role=role, verified=True)
    yield app, services
    services.store.close()


def logged_in(app, name: str) -> Client:
    c = Client(app)
    token = c.csrf(c.get("/login"))
    r = c.post("/login", data={"email": f"{name}@example.org", "password": PASSWORD, "csrf_token": token,
                               "next": "/"})
    assert r.status_code == 303, r.text
    return c


def upvote(c: Client, arxiv_id: str, page: str = "/") -> None:
    token = c.csrf(c.get(page))
    r = c.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "next": page})
    assert r.status_code == 303


def ids_on(html: str, pattern: re.Pattern) -> list[str]:
    return pattern.findall(html)


def test_a_members_upvotes_are_pressed_on_a_cached_list_and_nobody_elses(member_app):
    app, services = member_app
    ada, bob, visitor = logged_in(app, "ada"), logged_in(app, "bob"), Client(app)
    try:
        first = ids_on(visitor.get("/").text, UNPRESSED)
        assert len(first) >= 3
        mine = first[1:3]
        for arxiv_id in mine:
            upvote(ada, arxiv_id)

        # The list is served from the cache (rendered once for everyone), twice in a row.
        for _ in range(2):
            page = ada.get("/")
            assert page.status_code == 200
            assert sorted(ids_on(page.text, PRESSED)) == sorted(mine)
            assert set(ids_on(page.text, UNPRESSED)) == set(first) - set(mine)
            assert page.headers["cache-control"].startswith("private")
        assert ids_on(bob.get("/").text, PRESSED) == []
        anon = visitor.get("/")
        assert ids_on(anon.text, PRESSED) == [] and sorted(ids_on(anon.text, UNPRESSED)) == sorted(first)

        # Taking an upvote back un-presses it at once.
        upvote(ada, mine[0])
        assert ids_on(ada.get("/").text, PRESSED) == [mine[1]]
    finally:
        for c in (ada, bob, visitor):
            c.close()


def test_gzipped_member_page_is_the_same_page(member_app):
    app, _ = member_app
    ada = logged_in(app, "ada")
    try:
        arxiv_id = ids_on(ada.get("/").text, UNPRESSED)[0]
        upvote(ada, arxiv_id)
        r = ada.get("/", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        html = r.text  # httpx checks and inflates the gzip
        assert ids_on(html, PRESSED) == [arxiv_id]
        assert ">ada<" in html
        again = ada.get("/", headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304
    finally:
        ada.close()


def test_pressed_on_search_paper_page_and_for_you(member_app):
    app, services = member_app
    ada = logged_in(app, "ada")
    try:
        search = ada.get("/papers/search", params={"q": "language models"})
        found = ids_on(search.text, UNPRESSED)
        assert found
        arxiv_id = found[0]
        upvote(ada, arxiv_id, page="/papers/search?q=language+models")
        assert ids_on(ada.get("/papers/search", params={"q": "language models"}).text, PRESSED) == [arxiv_id]
        paper = ada.get(f"/papers/{arxiv_id}")
        assert ids_on(paper.text, PRESSED) == [arxiv_id]
        assert f'id="paper-{arxiv_id}"' in paper.text
        for_you = ada.get("/for-you")
        assert for_you.status_code == 200
        assert arxiv_id not in ids_on(for_you.text, UNPRESSED)  # shown pressed if picked at all
        assert ids_on(for_you.text, PRESSED) in ([], [arxiv_id])
        # Her profile lists the upvote, pressed for her.
        assert ids_on(ada.get("/u/ada").text, PRESSED) == [arxiv_id]
        # A visitor's search page and her profile: nothing pressed.
        anon = Client(app)
        assert ids_on(anon.get("/papers/search", params={"q": "language models"}).text, PRESSED) == []
        profile = anon.get("/u/ada")
        assert profile.status_code == 200 and ids_on(profile.text, PRESSED) == []
        anon.close()
    finally:
        ada.close()


def test_header_names_the_member_and_offers_visitors_log_in(member_app):
    app, _ = member_app
    ada, cy, visitor = logged_in(app, "ada"), logged_in(app, "cy"), Client(app)
    try:
        for path in ("/", f"/papers/date/{LATEST_DAY.isoformat()}", "/papers/trending", "/settings", "/for-you"):
            page = ada.get(path)
            assert page.status_code == 200, path
            nav = page.text.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
            assert '<span class="member-name">ada</span>' in nav, path
            assert 'href="/for-you"' in nav and 'href="/u/ada"' in nav and 'href="/settings"' in nav
            assert 'action="/logout"' in nav and 'name="csrf_token"' in nav
            assert "Log in" not in nav and 'href="/curate"' not in nav
        cy_nav = cy.get("/").text.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
        assert '<span class="member-name">cy</span>' in cy_nav and 'href="/curate"' in cy_nav

        page = visitor.get("/papers/trending")
        nav = page.text.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
        assert 'href="/login?next=/papers/trending"' in nav and 'href="/signup"' in nav
        assert "member-name" not in nav and 'href="/for-you"' not in nav
        assert page.headers.get("set-cookie", "").count("dp_session") == 0

        # Logging out through the menu's form: the visitor's header again.
        token = ada.csrf(ada.get("/"))
        assert ada.post("/logout", data={"csrf_token": token}).status_code == 303
        nav = ada.get("/").text.split('<nav class="main-nav"', 1)[1].split("</nav>", 1)[0]
        assert "member-name" not in nav and "Log in" in nav
    finally:
        for c in (ada, cy, visitor):
            c.close()


def test_no_js_upvote_returns_to_the_paper_on_the_page_it_came_from(member_app):
    app, _ = member_app
    ada = logged_in(app, "ada")
    try:
        page = ada.get("/?sort=newest")
        arxiv_id = ids_on(page.text, UNPRESSED)[4]
        assert f'id="paper-{arxiv_id}"' in page.text
        token = ada.csrf(page)
        r = ada.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "next": "/"},
                     headers={"referer": "http://testserver/?sort=newest"})
        assert r.headers["location"] == f"/?sort=newest#paper-{arxiv_id}"
        # Without a Referer: the form's own field, still with the fragment.
        r = ada.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "next": "/papers/trending"})
        assert r.headers["location"] == f"/papers/trending#paper-{arxiv_id}"
        # A Referer from another site is ignored.
        r = ada.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "next": "/"},
                     headers={"referer": "https://evil.example/x"})
        assert r.headers["location"] == f"/#paper-{arxiv_id}"
        search = ada.get("/papers/search", params={"q": "diffusion"})
        assert all(f'id="paper-{i}"' in search.text for i in ids_on(search.text, UNPRESSED))
    finally:
        ada.close()


def test_a_members_copy_of_a_cached_page_presses_exactly_their_votes(member_app):
    """The shared bytes, personalized: their votes pressed, their name in the header. (What it costs
    against a visitor's copy is measured by bench/bench_web.py's `home-member` scenario.)"""
    from starlette.requests import Request

    from dailypapers.web.personal import Viewer, personal_response

    app, services = member_app
    ada = logged_in(app, "ada")
    try:
        ids = ids_on(ada.get("/").text, UNPRESSED)
        for arxiv_id in ids[::4]:
            upvote(ada, arxiv_id)
        site = app.state.site
        entry = next(e for e in site.cache._data.values() if e.vote_ids and len(e.body) > 50_000)
        user = services.accounts.find("ada")
        scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "app": app, "state": {},
                 "headers": [(b"accept-encoding", b"gzip")], "dailypapers.csrf": app.state.csrf}
        request = Request(scope)
        viewer = Viewer(user, services.votes.voted(user, entry.vote_ids))
        assert viewer.voted

        def personal() -> bytes:
            return personal_response(request, site.env, entry, viewer).body

        html = gzip.decompress(personal()).decode()
        assert sorted(PRESSED.findall(html)) == sorted(viewer.voted) and ">ada<" in html
    finally:
        ada.close()
