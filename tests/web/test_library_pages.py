"""Collections and reading states over real HTTP: forms with CSRF, the no-JS "Save" chooser, the
JSON API with API tokens, 404/403 for other members' collections (no IDOR), public pages and
feeds, import/export round trips, hidden papers leaving one member's lists, search and For you,
and "new since your last visit".

Real SQLite loaded with the HF fixtures, the real app (httpx over ASGI), sessions started through
AccountService (the login form has its own tests)."""

from __future__ import annotations

import datetime as dt
import json
import re

import feedparser
import pytest
from webapp import NOW, Client, make_app

from dailypapers.community.accounts import SESSION_COOKIE

CARD = re.compile(r'<article class="card" id="paper-([^"]+)"')
TITLE_LINK = re.compile(r'class="card-title"[^>]*><a href="/papers/([^"?#]+)"')


class MovingClock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def lib(fresh_data_dir):
    clock = MovingClock(NOW)
    app, services = make_app(fresh_data_dir, clock=clock)
    users = {}
    for name in ("ada", "bob", "eve"):
        users[name] = services.accounts.create_user(f"{name}@example.org", name, None, verified=True,
                                                    check_strength=False)
    app.state.clock = clock
    yield app, services, users
    services.store.close()


def member(app, services, user) -> Client:
    c = Client(app)
    c.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    return c


def csrf(c: Client, path: str = "/collections") -> str:
    return c.csrf(c.get(path))


def fresh(app) -> None:
    """Forget rendered pages (lists trust the store version for a short while)."""
    app.state.site.cache.clear()
    app.state.papers._version = None


def home_ids(c: Client) -> list[str]:
    return CARD.findall(c.get("/").text)


def create(c: Client, name: str, visibility: str = "private") -> int:
    r = c.post("/collections", data={"csrf_token": csrf(c), "name": name, "description": "", "visibility": visibility})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_collections_pages_forms_and_permissions(lib):
    app, services, users = lib
    ada, bob, eve = (member(app, services, users[n]) for n in ("ada", "bob", "eve"))
    visitor = Client(app)
    papers = home_ids(visitor)
    assert len(papers) >= 3

    assert visitor.get("/collections").status_code == 303  # log in first
    # every change is a POST with the CSRF token
    assert ada.post("/collections", data={"name": "No token"}).status_code == 403
    cid = create(ada, "Journal club <script>alert(1)</script>")
    page = ada.get(f"/collections/{cid}")
    assert page.status_code == 200 and "Created “Journal club" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.headers["cache-control"].startswith("private")

    token = csrf(ada, f"/collections/{cid}")
    r = ada.post(f"/collections/{cid}/papers", data={"csrf_token": token, "arxiv_id": f"https://arxiv.org/abs/{papers[0]}v2"})
    assert r.status_code == 303 and r.headers["location"] == f"/collections/{cid}#paper-{papers[0]}"
    ada.post(f"/collections/{cid}/papers", data={"csrf_token": token, "arxiv_id": papers[1]})
    bad = ada.post(f"/collections/{cid}/papers", data={"csrf_token": token, "arxiv_id": "not an id"})
    assert bad.status_code == 303
    refused = ada.get(f"/collections/{cid}").text
    assert "is not an arXiv id" in refused and 'aria-invalid="true"' in refused
    r = ada.post(f"/collections/{cid}/note", data={"csrf_token": token, "arxiv_id": papers[0], "note": "Ada's <b>private</b> note"})
    assert r.status_code == 303
    page = ada.get(f"/collections/{cid}").text
    assert "Ada&#x27;s &lt;b&gt;private&lt;/b&gt; note" in page
    assert page.index(f'id="paper-{papers[1]}"') < page.index(f'id="paper-{papers[0]}"')  # newest first

    # another member's private collection does not exist for them, whatever they try (no IDOR)
    for c in (eve, bob, visitor):
        assert c.get(f"/collections/{cid}").status_code == 404
        assert c.get(f"/collections/{cid}/export.bib").status_code == 404
        assert c.get(f"/collections/{cid}/note?paper={papers[0]}").status_code in (303, 404)
    assert visitor.get(f"/c/{cid}").status_code == 404
    t_eve = csrf(eve)
    for path, data in ((f"/collections/{cid}/papers", {"arxiv_id": papers[2]}),
                       (f"/collections/{cid}/papers/remove", {"arxiv_id": papers[0]}),
                       (f"/collections/{cid}/settings", {"name": "Mine now", "visibility": "public"}),
                       (f"/collections/{cid}/delete", {"confirm": "yes"}),
                       (f"/collections/{cid}/members", {"name": "eve", "role": "editor"}),
                       (f"/collections/{cid}/note", {"arxiv_id": papers[0], "note": "x"})):
        assert eve.post(path, data={"csrf_token": t_eve, **data}).status_code == 404, path
    assert [c.name for c in services.library.mine(users["ada"])] == ["Journal club <script>alert(1)</script>"]

    # shared with bob as a viewer: he reads, without ada's note, and may not change the papers
    r = ada.post(f"/collections/{cid}/members", data={"csrf_token": token, "name": "bob", "role": "viewer"})
    assert r.status_code == 303
    page = bob.get(f"/collections/{cid}").text
    assert papers[0] in page and "private</b> note" not in page and "private&lt;/b&gt; note" not in page
    assert "you are a viewer" in page
    t_bob = csrf(bob)
    assert bob.post(f"/collections/{cid}/papers", data={"csrf_token": t_bob, "arxiv_id": papers[2]}).status_code == 403
    assert bob.post(f"/collections/{cid}/settings", data={"csrf_token": t_bob, "name": "x"}).status_code == 403
    assert eve.get(f"/collections/{cid}").status_code == 404  # still nobody else's
    # promoted to editor, he adds a paper; his note is his own
    ada.post(f"/collections/{cid}/members", data={"csrf_token": token, "name": "bob", "role": "editor"})
    assert bob.post(f"/collections/{cid}/papers", data={"csrf_token": t_bob, "arxiv_id": papers[2]}).status_code == 303
    bob.post(f"/collections/{cid}/note", data={"csrf_token": t_bob, "arxiv_id": papers[0], "note": "Bob's note"})
    assert "Bob&#x27;s note" not in ada.get(f"/collections/{cid}").text
    assert "Bob&#x27;s note" in bob.get(f"/collections/{cid}").text
    assert "added by bob" in ada.get(f"/collections/{cid}").text

    # public, with an address: anyone reads it and its feed; notes never show there
    r = ada.post(f"/collections/{cid}/settings", data={"csrf_token": token, "name": "Journal club",
                                                        "description": "Fridays", "visibility": "public",
                                                        "slug": "lab-club"})
    assert r.status_code == 303
    public = visitor.get("/c/lab-club")
    assert public.status_code == 200 and "Journal club" in public.text and papers[2] in public.text
    assert "private&lt;/b&gt; note" not in public.text and "Bob&#x27;s note" not in public.text
    assert "/note?" not in public.text  # no note links for visitors
    assert '<link rel="alternate" type="application/rss+xml"' in public.text and "/c/lab-club/feed.xml" in public.text
    assert visitor.get(f"/c/{cid}").status_code == 200
    assert visitor.get(f"/collections/{cid}").headers["location"] == "/c/lab-club"
    feed = feedparser.parse(visitor.get("/c/lab-club/feed.atom").content)
    assert {e.link.rsplit("/", 1)[1] for e in feed.entries} == set(papers[:3])
    assert visitor.get(f"/collections/{cid}/export.bib").status_code == 200
    taken = create(eve, "Eve's")
    t_eve = csrf(eve)
    r = eve.post(f"/collections/{taken}/settings", data={"csrf_token": t_eve, "name": "Eve's", "visibility": "public",
                                                         "slug": "lab-club"})
    assert r.status_code == 303 and "is taken" in eve.get(f"/collections/{taken}").text

    # bob leaves; ada deletes (with the box ticked)
    r = bob.post(f"/collections/{cid}/members/remove", data={"csrf_token": t_bob, "name": "bob"})
    assert r.headers["location"] == "/collections"
    assert ada.post(f"/collections/{cid}/delete", data={"csrf_token": token}).status_code == 303
    assert ada.get(f"/collections/{cid}").status_code == 200  # not ticked: still there
    assert ada.post(f"/collections/{cid}/delete", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    assert ada.get(f"/collections/{cid}").status_code == 404
    fresh(app)
    assert visitor.get("/c/lab-club").status_code == 404


def test_save_from_a_list_page_without_javascript(lib):
    app, services, users = lib
    ada = member(app, services, users["ada"])
    home = ada.get("/")
    first = CARD.findall(home.text)[0]
    assert f'formaction="/papers/{first}/save"' in home.text and 'data-shortcut="s"' in home.text
    assert 'data-shortcut="x"' in home.text
    token = ada.csrf(home)
    # the card's button posts the page's shared form (token and next): the chooser comes first
    r = ada.post(f"/papers/{first}/save", data={"csrf_token": token, "next": "/"},
                 headers={"referer": "http://testserver/?sort=newest"})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/papers/{first}/save?next=")
    chooser = ada.get(r.headers["location"])
    assert chooser.status_code == 200 and "Create and save" in chooser.text
    r = ada.post(f"/papers/{first}/save", data={"csrf_token": token, "new_name": "To discuss",
                                                "next": "/?sort=newest#paper-" + first})
    assert r.status_code == 303 and r.headers["location"] == f"/?sort=newest#paper-{first}"
    assert "Saved “" in ada.get(r.headers["location"]).text  # the message, once
    (c,) = services.library.mine(users["ada"])
    assert c.name == "To discuss" and c.paper_count == 1
    chooser = ada.get(f"/papers/{first}/save").text
    assert f'name="remove" value="{c.id}"' in chooser  # saved there: offered to remove
    # the menu's calls (static/library.js): JSON with the CSRF header
    second = CARD.findall(home.text)[1]
    r = ada.post(f"/papers/{second}/save", json={"collection": str(c.id)},
                 headers={"X-CSRF-Token": token, "Accept": "application/json", "X-Requested-With": "fetch"})
    assert r.status_code == 200 and r.json()["saved"] and r.json()["collection"]["paperCount"] == 2
    listed = ada.get(f"/api/collections?paper={second}", headers={"Accept": "application/json"}).json()
    assert [(x["name"], x["contains"], x["role"]) for x in listed] == [("To discuss", True, "owner")]
    r = ada.request("PUT", f"/api/collections/{c.id}/papers/{first}", headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["added"] is False
    assert ada.request("DELETE", f"/api/collections/{c.id}/papers/{first}").status_code == 403  # no CSRF header
    # a visitor is asked to log in
    visitor = Client(app)
    r = visitor.post(f"/papers/{first}/save", data={"csrf_token": visitor.csrf(visitor.get("/")), "next": "/"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def state(c: Client, arxiv_id: str, value: str, page: str = "/") -> None:
    r = c.post(f"/papers/{arxiv_id}/state", data={"csrf_token": c.csrf(c.get(page)), "state": value, "next": page})
    assert r.status_code == 303, r.text


def test_hidden_papers_leave_one_members_lists_search_and_for_you(lib):
    app, services, users = lib
    ada, bob, visitor = member(app, services, users["ada"]), member(app, services, users["bob"]), Client(app)
    before = home_ids(visitor)
    gone, marked = before[1], before[2]
    state(ada, gone, "hidden")
    state(ada, marked, "to_read")
    # the cached page stays shared: the hidden row is cut out of ada's copy only
    for _ in range(2):
        mine = ada.get("/")
        assert home_ids(ada) == [i for i in before if i != gone]
        assert f'data-state="{marked}" data-value="to_read" aria-pressed="true">' in mine.text
        assert home_ids(bob) == before and home_ids(visitor) == before
    # search: the paper's own title finds it, except for ada
    title = services.store.get_paper(gone).title
    q = " ".join(title.split()[:6])
    assert gone in TITLE_LINK.findall(bob.get("/papers/search", params={"q": q}).text)
    assert gone not in TITLE_LINK.findall(ada.get("/papers/search", params={"q": q}).text)
    # the paper page still opens, with "Not interested" pressed (the way back)
    page = ada.get(f"/papers/{gone}").text
    assert f'data-state="{gone}" data-value="hidden" aria-pressed="true">' in page
    # For you (trending, with no profile yet) drops it for ada only
    fy_ada, fy_bob = ada.get("/for-you").text, bob.get("/for-you").text
    assert f'id="paper-{gone}"' in fy_bob and f'id="paper-{gone}"' not in fy_ada
    assert f'data-state="{marked}" data-value="to_read" aria-pressed="true">' in fy_ada
    # the reading list, and pressing it again brings the paper back
    assert gone in ada.get("/reading?state=hidden").text and marked in ada.get("/reading").text
    state(ada, gone, "hidden")
    assert home_ids(ada) == before
    # JSON (static/library.js)
    token = ada.csrf(ada.get("/"))
    r = ada.post(f"/papers/{gone}/state", json={"state": "read"},
                 headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.json() == {"id": gone, "state": "read"}
    assert visitor.post(f"/papers/{gone}/state", data={"csrf_token": visitor.csrf(visitor.get("/")),
                                                       "state": "hidden"}).status_code == 303  # to log in


def test_new_since_your_last_visit(lib):
    app, services, users = lib
    clock = app.state.clock
    ada = member(app, services, users["ada"])
    clock.now = NOW - dt.timedelta(days=4)  # before the fixtures' latest day was listed
    assert "new since your last visit" not in ada.get("/papers/trending").text  # first visit: nothing new yet
    clock.now = NOW
    fresh(app)
    page = ada.get("/papers/trending").text
    m = re.search(r"(\d+) new since your last visit", page)
    assert m and int(m.group(1)) == page.count('class="badge badge-new"') > 0
    # a reload in the same sitting keeps the marks; a visitor sees none
    clock.now = NOW + dt.timedelta(minutes=5)
    assert page.count("badge-new") == ada.get("/papers/trending").text.count("badge-new")
    assert "badge-new" not in Client(app).get("/papers/trending").text
    # the next sitting: all seen
    clock.now = NOW + dt.timedelta(hours=3)
    assert "badge-new" not in ada.get("/papers/trending").text


def test_json_api_with_tokens(lib):
    app, services, users = lib
    _, ada_token = services.accounts.create_api_token(users["ada"], "script")
    _, eve_token = services.accounts.create_api_token(users["eve"], "script")
    api = Client(app)
    papers = home_ids(api)
    ada_h = {"Authorization": f"Bearer {ada_token}"}
    eve_h = {"Authorization": f"Bearer {eve_token}"}

    assert api.get("/api/collections").status_code == 401
    assert api.get("/api/collections", headers={"Authorization": "Bearer nope"}).status_code == 401
    r = api.post("/api/collections", json={"name": "Reading group", "visibility": "shared"}, headers=ada_h)
    assert r.status_code == 201, r.text  # a token needs no CSRF token
    c = r.json()
    assert (c["name"], c["visibility"], c["role"], c["paperCount"], c["publicUrl"]) == ("Reading group", "shared", "owner", 0, None)
    cid = c["id"]
    for p in papers[:3]:
        assert api.request("PUT", f"/api/collections/{cid}/papers/{p}", headers=ada_h).status_code == 201
    assert api.request("PUT", f"/api/collections/{cid}/notes/{papers[0]}", json={"note": "mine"},
                       headers=ada_h).status_code == 200
    detail = api.get(f"/api/collections/{cid}", headers=ada_h).json()
    assert [x["paper"]["id"] for x in detail["papers"]] == papers[:3][::-1]
    assert {x["paper"]["id"]: x["note"] for x in detail["papers"]}[papers[0]] == "mine"
    # eve: 404 everywhere (it is not shared with her), never 403, so ids cannot be probed
    for method, path in (("GET", f"/api/collections/{cid}"), ("PATCH", f"/api/collections/{cid}"),
                         ("DELETE", f"/api/collections/{cid}"), ("PUT", f"/api/collections/{cid}/papers/{papers[4]}"),
                         ("DELETE", f"/api/collections/{cid}/papers/{papers[0]}"),
                         ("PUT", f"/api/collections/{cid}/members/eve"), ("GET", "/api/collections/999999")):
        r = api.request(method, path, json={"role": "editor", "name": "x"}, headers=eve_h)
        assert r.status_code == 404, (method, path, r.status_code)
        assert r.json()["status"] == 404
    # shared with eve as a viewer: she reads (without ada's note), may not add (403)
    assert api.request("PUT", f"/api/collections/{cid}/members/eve", json={"role": "viewer"},
                       headers=ada_h).json()["role"] == "viewer"
    seen = api.get(f"/api/collections/{cid}", headers=eve_h).json()
    assert seen["role"] == "viewer" and all(x["note"] is None for x in seen["papers"])
    assert api.request("PUT", f"/api/collections/{cid}/papers/{papers[4]}", headers=eve_h).status_code == 403
    assert [x["name"] for x in api.get("/api/collections", headers=eve_h).json()] == ["Reading group"]
    r = api.request("PATCH", f"/api/collections/{cid}", json={"visibility": "public", "slug": "rgroup"}, headers=ada_h)
    assert r.json()["publicUrl"] == "http://testserver/c/rgroup"
    assert api.request("PATCH", f"/api/collections/{cid}", json={"slug": "Not OK!"}, headers=ada_h).status_code == 400
    assert api.request("DELETE", f"/api/collections/{cid}/members/eve", headers=eve_h).status_code == 204  # she leaves

    # reading states
    r = api.request("PUT", f"/api/reading/{papers[1]}", json={"state": "hidden"}, headers=ada_h)
    assert r.json() == {"id": papers[1], "state": "hidden"}
    assert api.request("PUT", f"/api/reading/{papers[1]}", json={"state": "later"}, headers=ada_h).status_code == 400
    assert api.request("PUT", "/api/reading/2999.99999", json={"state": "read"}, headers=ada_h).status_code == 404
    listed = api.get("/api/reading?state=hidden", headers=ada_h).json()
    assert [x["paper"]["id"] for x in listed] == [papers[1]] and listed[0]["state"] == "hidden"
    assert api.get("/api/reading?state=hidden", headers=eve_h).json() == []
    assert api.request("DELETE", f"/api/reading/{papers[1]}", headers=ada_h).json()["state"] is None
    assert api.request("DELETE", f"/api/collections/{cid}", headers=ada_h).status_code == 204
    assert api.get(f"/api/collections/{cid}", headers=ada_h).status_code == 404

    doc = api.get("/openapi.json").json()
    assert {"/api/collections", "/api/collections/{id}", "/api/collections/{id}/papers/{arxiv_id}",
            "/api/collections/{id}/import", "/api/reading", "/api/reading/{arxiv_id}"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/api/collections"]["post"]["security"] == [{"bearer": []}]


def test_export_then_import_gives_the_same_papers(lib):
    app, services, users = lib
    _, token = services.accounts.create_api_token(users["ada"], "script")
    h = {"Authorization": f"Bearer {token}"}
    api = Client(app)
    papers = home_ids(api)[:6]
    src = api.post("/api/collections", json={"name": "Source"}, headers=h).json()["id"]
    for p in papers:
        api.request("PUT", f"/api/collections/{src}/papers/{p}", headers=h)
    ada = member(app, services, users["ada"])
    order = [x["paper"]["id"] for x in api.get(f"/api/collections/{src}", headers=h).json()["papers"]]
    for suffix in (".bib", ".ris"):
        exported = ada.get(f"/collections/{src}/export{suffix}")
        assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
        new = api.post("/api/collections", json={"name": f"Copy {suffix}"}, headers=h).json()["id"]
        r = api.post(f"/api/collections/{new}/import", content=exported.content,
                     headers={**h, "Content-Type": "text/plain"})
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["added"] == order and not report["notFound"] and not report["withoutId"]
        copy = [x["paper"]["id"] for x in api.get(f"/api/collections/{new}", headers=h).json()["papers"]]
        assert copy == order  # the same papers, in the same order
        again = api.post(f"/api/collections/{new}/import", content=exported.content, headers=h).json()
        assert again["added"] == [] and again["already"] == order
    csl = json.loads(ada.get(f"/collections/{src}/export.csl.json").content)
    assert [item["number"] for item in csl] == [f"arXiv:{p}" for p in order]


def test_import_form_reports_what_it_could_not_add(lib):
    app, services, users = lib
    ada = member(app, services, users["ada"])
    known = home_ids(ada)[0]
    cid = create(ada, "Imported")
    bib = (f"@misc{{a, title={{Known}}, eprint={{{known}}}, archivePrefix={{arXiv}}}}\n"
           "@article{b, title={A journal paper}, journal={Nature}, year={2020}}\n"
           "@misc{c, title={Unknown here}, eprint={2101.00001}, archivePrefix={arXiv}}\n")
    page = ada.get(f"/collections/{cid}/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    r = ada.post(f"/collections/{cid}/import", data={"csrf_token": ada.csrf(page)},
                 files={"file": ("refs.bib", bib.encode(), "application/x-bibtex")})
    assert r.status_code == 200, r.text
    assert "1 paper added" in r.text
    assert "A journal paper" in r.text  # no arXiv id: reported, not dropped
    assert "2101.00001" in r.text and "not configured" in r.text  # this app has no arXiv client
    assert [cp.paper.arxiv_id for cp in services.library.view(users["ada"], cid).papers] == [known]
    eve = member(app, services, users["eve"])
    assert eve.post(f"/collections/{cid}/import", data={"csrf_token": csrf(eve)},
                    files={"file": ("refs.bib", bib.encode(), "text/plain")}).status_code == 404
