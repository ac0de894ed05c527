"""A paper a member marked "not interested" (reading state hidden) leaves that member's view of every
list, and nobody else's: the day, week, month and trending pages, organization pages, the new
arrivals page, and the JSON API lists when the caller sends their API token (a token that is not
ours, like huggingface_hub's own, reads as a visitor). The home page, search and For you are in
test_library_pages.py.

Real SQLite files loaded with the HF fixtures and the real arrivals slice, the real app over HTTP."""

from __future__ import annotations

import re
import shutil

import pytest
from arrivals_data import build_arrivals_data_dir, make_arrivals_app
from webapp import LATEST_DAY, Client, make_app

from dailypapers import days as days_mod
from dailypapers.community.accounts import SESSION_COOKIE

VOTE = re.compile(r'data-vote="([^"]+)" aria-pressed="(?:true|false)">')


def shown(html: str) -> list[str]:
    return list(dict.fromkeys(VOTE.findall(html)))


def member(app, services, user) -> Client:
    c = Client(app)
    c.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    return c


def api_ids(r) -> list[str]:
    assert r.status_code == 200, r.text[:300]
    data = r.json()
    items = data["papers"] if isinstance(data, dict) else data
    return [i["paper"]["id"] for i in items]


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    ada = services.accounts.create_user("ada@example.org", "ada", None, verified=True, check_strength=False)
    yield app, services, ada
    services.store.close()


def hide_second(services, ada, ids: list[str]) -> str:
    assert len(ids) >= 3, ids
    services.library.set_state(ada, ids[1], "hidden")
    return ids[1]


@pytest.mark.parametrize("path", [
    f"/papers/week/{days_mod.week_label(LATEST_DAY)}",
    f"/papers/month/{days_mod.month_label(LATEST_DAY)}",
    "/papers/trending",
    f"/papers/date/{LATEST_DAY.isoformat()}",
])
def test_list_pages(site, path):
    app, services, ada = site
    visitor, mine = Client(app), member(app, services, ada)
    before = shown(visitor.get(path).text)
    gone = hide_second(services, ada, before)
    assert shown(mine.get(path).text) == [i for i in before if i != gone]
    assert shown(visitor.get(path).text) == before  # the shared cached page is untouched


def test_organization_page(site):
    app, services, ada = site
    org = next(p.organization.name for p in services.store.iter_papers() if p.organization
               and len(services.papers.organization(p.organization.name).papers) >= 3)
    visitor, mine = Client(app), member(app, services, ada)
    before = shown(visitor.get(f"/orgs/{org}").text)
    gone = hide_second(services, ada, before)
    assert shown(mine.get(f"/orgs/{org}").text) == [i for i in before if i != gone]
    assert shown(visitor.get(f"/orgs/{org}").text) == before


def test_api_lists_with_a_token(site):
    app, services, ada = site
    _, raw = services.accounts.create_api_token(ada, "script")
    mine = {"Authorization": f"Bearer {raw}"}
    c = Client(app)
    for path in (f"/api/daily_papers?date={LATEST_DAY.isoformat()}", "/api/daily_papers?sort=trending",
                 "/api/papers/search?q=language+models"):
        before = api_ids(c.get(path))
        gone = hide_second(services, ada, before)
        r = c.get(path, headers=mine)
        assert api_ids(r) == [i for i in before if i != gone], path
        assert r.headers["cache-control"] == "private, no-store"
        assert api_ids(c.get(path)) == before  # the shared answer
        # huggingface_hub sends its own token: a visitor here, not a 401
        assert api_ids(c.get(path, headers={"Authorization": "Bearer hf_someone_elses"})) == before
        services.library.set_state(ada, gone, None)


@pytest.fixture(scope="module")
def arrivals_dir(tmp_path_factory):
    return build_arrivals_data_dir(tmp_path_factory.mktemp("arrivals-hidden"))


def test_new_arrivals_page_and_api(arrivals_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(arrivals_dir, data_dir)
    app, services = make_arrivals_app(data_dir)
    try:
        ada = services.accounts.create_user("ada@example.org", "ada", None, verified=True, check_strength=False)
        visitor, mine = Client(app), member(app, services, ada)
        before = shown(visitor.get("/papers/new").text)
        gone = hide_second(services, ada, before)
        page = mine.get("/papers/new").text
        assert shown(page) == [i for i in before if i != gone] and f'id="paper-{gone}"' not in page
        assert shown(visitor.get("/papers/new").text) == before
        _, raw = services.accounts.create_api_token(ada, "script")
        assert gone in api_ids(visitor.get("/api/papers/new"))
        assert gone not in api_ids(visitor.get("/api/papers/new", headers={"Authorization": f"Bearer {raw}"}))
    finally:
        services.store.close()
