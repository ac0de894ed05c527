"""The site on PostgreSQL answers as it does on SQLite.

The same HF fixtures go into a SQLite file and into a database on the session's real PostgreSQL
server, each with its own search index; the real app runs over each. The main pages and every
API read must answer alike (same status, same JSON, same papers in the same order on the
pages), and a member's round trip (log in, upvote, comment, curate) works on both.
"""

from __future__ import annotations

import re

import pytest
from webapp import HF_RAW, LATEST_DAY, Client, build_data_dir, make_app

PASSWORD = "quiet-harbour-lantern-47"
PAPER_IDS = re.compile(r'data-vote="([^"]+)"')
PAGES = [
    "/", f"/papers/date/{LATEST_DAY}", "/papers/week/2026-W34", "/papers/month/2026-08", "/papers/trending",
    "/papers/trending?period=week", "/papers/search?q=language+models", "/papers/search?q=diffusion&sort=newest",
    "/papers/new", "/feeds/daily.xml", "/feeds/trending.atom", "/subscribe", "/login",
]
API = [
    f"/api/daily_papers?date={LATEST_DAY}", "/api/daily_papers?week=2026-W34&limit=10&p=1",
    "/api/daily_papers?month=2026-08&sort=trending", "/api/daily_papers?submitter=akhaliq",
    "/api/papers/search?q=reinforcement+learning", "/api/papers/search?q=author:Wang&limit=5",
]


def build_postgres_data_dir(data_dir, url):
    from dailypapers.ingest.jobs import ingest_hf_daily
    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.postgres import PostgresStore

    store = PostgresStore(url)
    assert ingest_hf_daily(store, HF_RAW).rejected == 0
    SearchEngine(store, data_dir / "index", None).sync()
    store.close()
    return data_dir


@pytest.fixture(scope="module")
def apps(tmp_path_factory, pg_cluster):
    """{"sqlite": (app, services), "postgres": (app, services)} over the same data."""
    made = {}
    sqlite_dir = build_data_dir(tmp_path_factory.mktemp("web-sqlite"))
    made["sqlite"] = make_app(sqlite_dir)
    url = pg_cluster.new_database()
    pg_dir = build_postgres_data_dir(tmp_path_factory.mktemp("web-postgres"), url)
    made["postgres"] = make_app(pg_dir, database_url=url)
    yield made
    for _, services in made.values():
        services.store.close()


@pytest.fixture(scope="module")
def clients(apps):
    made = {name: Client(app) for name, (app, _) in apps.items()}
    yield made
    for c in made.values():
        c.close()


def test_the_pages_show_the_same_papers_on_both_backends(clients):
    for path in PAGES:
        lite, pg = clients["sqlite"].get(path), clients["postgres"].get(path)
        assert lite.status_code == pg.status_code == 200, (path, lite.status_code, pg.status_code)
        assert PAPER_IDS.findall(pg.text) == PAPER_IDS.findall(lite.text), path
        if path.startswith("/feeds/"):
            assert re.findall(r"<link>[^<]+</link>|<id>[^<]+</id>", pg.text) == \
                re.findall(r"<link>[^<]+</link>|<id>[^<]+</id>", lite.text)
    first = PAPER_IDS.findall(clients["sqlite"].get("/").text)
    assert first, "the front page lists papers"
    for arxiv_id in first[:3]:
        lite, pg = clients["sqlite"].get(f"/papers/{arxiv_id}"), clients["postgres"].get(f"/papers/{arxiv_id}")
        assert lite.status_code == pg.status_code == 200
        assert re.search(r"<h1[^>]*>(.*?)</h1>", pg.text, re.S).group(1) == \
            re.search(r"<h1[^>]*>(.*?)</h1>", lite.text, re.S).group(1)


def test_the_api_answers_the_same_json_on_both_backends(clients):
    ids = [item["paper"]["id"] for item in clients["sqlite"].get(API[0]).json()]
    assert len(ids) >= 3
    for path in API + [f"/api/papers/{i}" for i in ids[:5]] + ["/api/papers/2608.99999", "/api/daily_papers?date=x"]:
        lite, pg = clients["sqlite"].get(path), clients["postgres"].get(path)
        assert lite.status_code == pg.status_code, path
        assert pg.json() == lite.json(), path
        assert pg.headers.get("link") == lite.headers.get("link"), path


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_member_logs_in_upvotes_comments_and_a_curator_hides_on_either_backend(apps, backend):
    app, services = apps[backend]
    name = f"ada{backend}"
    services.accounts.create_user(f"{name}@example.org", name, PASSWORD, role="curator", verified=True)
    c = Client(app)
    try:
        token = c.csrf(c.get("/login"))
        r = c.post("/login", data={"email": f"{name}@example.org", "password": PASSWORD, "csrf_token": token,
                                   "next": "/"})
        assert r.status_code == 303, r.text
        day = c.get(f"/api/daily_papers?date={LATEST_DAY}").json()
        target, hidden = day[0]["paper"]["id"], day[1]["paper"]["id"]
        before = c.get(f"/api/papers/{target}").json()["upvotes"]

        token = c.csrf(c.get(f"/papers/{target}"))
        assert c.post(f"/papers/{target}/upvote", data={"csrf_token": token, "next": "/"}).status_code == 303
        assert c.get(f"/api/papers/{target}").json()["upvotes"] == before + 1
        r = c.post(f"/papers/{target}/comments", data={"csrf_token": token, "body": f"Read this on {backend}."})
        assert r.status_code == 303, r.text
        assert f"Read this on {backend}." in c.get(f"/papers/{target}").text

        page = c.get(f"/curate?day={LATEST_DAY}")
        assert page.status_code == 200
        r = c.post("/curate/hide", data={"day": LATEST_DAY.isoformat(), "id": hidden, "csrf_token": c.csrf(page)})
        assert r.status_code in (200, 303), r.text
        assert hidden not in [i["paper"]["id"] for i in c.get(f"/api/daily_papers?date={LATEST_DAY}").json()]
        assert any(a.action == "hide" for a in services.store.curator_log(10))
    finally:
        c.close()
