"""Search results a person can trust, judged on the bundled demo data (9.9k real papers with
embeddings, the packaged model) through real HTTP:

* every hit on the first page of a sorted (newest, most upvoted) search is among the relevance
  ranking's top 200 for the same query;
* the filters (dates, has code, min upvotes) restrict the rankers before the relevance rule: every
  hit of a filtered page passes the filters and is in the filtered relevance ranking; that ranking
  keeps every paper of the unfiltered top 200 that passes, and reaches beyond it only when the
  unfiltered count was marked incomplete ("About" or "Top");
* nonsense queries show no results and say so;
* the count shown is the number of hits one can page through, labelled "About" or "Top" when it
  is an estimate or a cap.

The queries are 20 topic queries from the shared query set (tests/fixtures/search_topic_queries.txt).
"""

from __future__ import annotations

import datetime as dt
import html as htmlmod
import re
from pathlib import Path

import pytest
from demo_data import build_demo_data_dir, make_demo_app
from webapp import Client

from dailypapers.search.request import SearchRequest

QUERIES_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "search_topic_queries.txt"
QUERIES = [
    line.strip() for line in QUERIES_FILE.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
# The search a tester reported: an RL paper on top of "diffusion transformer" sorted by upvotes.
REPORTED = {"q": "diffusion transformer", "sort": "upvotes", "from": "2026-01-01", "min_upvotes": "20", "has_code": "1"}
SORTS = [{"sort": "newest"}, {"sort": "upvotes"}]
FILTERS = [{"from": "2025-06-01"}, {"has_code": "1"}, {"min_upvotes": "20"},
           {"sort": "newest", "to": "2025-12-31", "has_code": "1"}]
NONSENSE = ["zzqxvbnm qwpfk", "qwxzvb plokijuh", "xkcdqzj"]
TOP = 200  # the depth of the relevance ranking a sorted or filtered hit must come from

CARD_LINK = re.compile(r'<h2 class="card-title"[^>]*><a href="/papers/([^"?#]+)"')
COUNT = re.compile(r'<p class="count"[^>]*>(About |Top )?(\d+) ')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo-data")
    embedder = build_demo_data_dir(data_dir)
    if embedder is None:
        pytest.skip("the packaged embedding model does not load here")
    app, services = make_demo_app(data_dir, embedder)
    client = Client(app)
    yield client, services
    client.close()
    services.store.close()


def get(client, params: dict) -> str:
    r = client.get("/papers/search", params=params)
    assert r.status_code == 200, r.text[:500]
    return r.text


def ids_on(page: str) -> list[str]:
    return CARD_LINK.findall(page)


def relevance_top(services, q: str, params: dict | None = None) -> list[str]:
    """The relevance ranking's first TOP ids (with the filters in ``params``), from the service the
    page uses."""
    out: list[str] = []
    for page in (1, 2):
        form = SearchRequest.from_params({**(params or {}), "q": q, "sort": ""}, defaults=SearchRequest(per_page=TOP // 2))
        res = services.search.search(SearchRequest(q=q, per_page=TOP // 2, page=page, filters=form.filters))
        out += [h.paper.arxiv_id for h in res.results]
    return out[:TOP]


def passes(p, params: dict) -> bool:
    day = p.published.date() if p.published else None
    if "from" in params and (day is None or day < dt.date.fromisoformat(params["from"])):
        return False
    if "to" in params and (day is None or day > dt.date.fromisoformat(params["to"])):
        return False
    if params.get("has_code") and not p.github_repo:
        return False
    return not ("min_upvotes" in params and p.upvotes < int(params["min_upvotes"]))


def check_filters(services, ids: list[str], params: dict) -> None:
    papers = services.store.get_papers(ids)
    for i in ids:
        p = papers[i]
        day = p.published.date() if p.published else None
        if "from" in params:
            assert day is not None and day >= dt.date.fromisoformat(params["from"]), (i, day)
        if "to" in params:
            assert day is not None and day <= dt.date.fromisoformat(params["to"]), (i, day)
        if params.get("has_code"):
            assert p.github_repo, i
        if "min_upvotes" in params:
            assert p.upvotes >= int(params["min_upvotes"]), (i, p.upvotes)
    order = [papers[i] for i in ids]
    if params.get("sort") == "newest":
        dates = [p.published for p in order if p.published]
        assert dates == sorted(dates, reverse=True)
    if params.get("sort") == "upvotes":
        votes = [p.upvotes for p in order]
        assert votes == sorted(votes, reverse=True)


@pytest.mark.parametrize("q", QUERIES)
def test_sorted_and_filtered_pages_hold_only_relevant_hits(demo, q):
    client, services = demo
    ranking = relevance_top(services, q)
    top = set(ranking)
    complete = services.search.search(SearchRequest(q=q)).total_kind == "exact"
    for variant in SORTS:
        params = {"q": q, **variant}
        ids = ids_on(get(client, params))
        stray = [i for i in ids if i not in top]
        assert not stray, (params, stray)
        check_filters(services, ids, params)
    for variant in FILTERS:
        params = {"q": q, **variant}
        ids = ids_on(get(client, params))
        check_filters(services, ids, params)
        filtered_top = set(relevance_top(services, q, params))
        assert set(ids) <= filtered_top, params
        papers = services.store.get_papers(ranking)
        kept = {i for i in ranking if passes(papers[i], params)}
        form = SearchRequest.from_params(params)
        if services.search.search(SearchRequest(q=q, filters=form.filters)).total_kind != "top":
            assert kept <= filtered_top, (params, kept - filtered_top)  # a filter loses no relevant paper
        if complete:
            assert filtered_top <= top, (params, filtered_top - top)


def test_the_reported_search_shows_only_diffusion_papers(demo):
    client, services = demo
    ids = ids_on(get(client, REPORTED))
    assert ids, "some diffusion transformers since 2026 have code and 20 upvotes"
    assert set(ids) <= set(relevance_top(services, REPORTED["q"], REPORTED))
    check_filters(services, ids, REPORTED)
    for p in services.store.get_papers(ids).values():
        assert "diffusion" in (p.title + " " + p.abstract).lower(), p.title


@pytest.mark.parametrize("q", QUERIES[:8])
def test_sorts_show_the_same_papers_in_another_order(demo, q):
    client, _ = demo
    counts = {s: COUNT.search(get(client, {"q": q, "sort": s})) for s in ("relevance", "newest", "upvotes")}
    shown = {s: m.group(0) if m else None for s, m in counts.items()}
    assert len(set(shown.values())) == 1, shown


def page_through(client, params: dict) -> tuple[str, list[str]]:
    """The first page, and every id reached by following "Next page"."""
    first = page = get(client, params)
    ids = ids_on(page)
    for _ in range(50):
        m = NEXT.search(page)
        if not m:
            break
        r = client.get(htmlmod.unescape(m.group(1)))
        assert r.status_code == 200
        page = r.text
        ids += ids_on(page)
    return first, ids


@pytest.mark.parametrize("q", QUERIES)
def test_counts_are_what_one_can_page_through(demo, q):
    client, _ = demo
    for variant in ({}, {"sort": "newest", "has_code": "1"}):
        first, ids = page_through(client, {"q": q, **variant})
        assert len(ids) == len(set(ids))
        m = COUNT.search(first)
        if not ids:
            assert m is None and "No papers match" in first
            continue
        assert m is not None, first
        label, n = m.group(1), int(m.group(2))
        assert n == len(ids), (q, variant, m.group(0), len(ids))
        if label == "Top ":
            assert n == TOP  # only a full set is a cap


@pytest.mark.parametrize("q", NONSENSE)
def test_nonsense_finds_nothing_and_says_so(demo, q):
    client, _ = demo
    for variant in ({}, {"sort": "upvotes"}, {"has_code": "1"}):
        page = get(client, {"q": q, **variant})
        assert ids_on(page) == [] and COUNT.search(page) is None
        assert "No papers match" in page and "Check the spelling" in page


def test_filters_that_leave_nothing_offer_to_drop_them(demo):
    client, _ = demo
    asked = {"q": "catastrophic forgetting", "min_upvotes": "100000", "has_code": "1"}
    page = get(client, asked)
    assert ids_on(page) == [] and "with these filters" in page
    links = {label: dict(_params(href)) for href, label in
             re.findall(r'<li><a href="([^"]+)">Remove (the filter “[^”]+”|all filters)</a></li>', page)}
    assert links["all filters"] == {"q": asked["q"]}
    singles = [params for label, params in links.items() if label != "all filters"]
    assert sorted(set(asked) - set(params) for params in singles) == [{"has_code"}, {"min_upvotes"}]
    assert ids_on(get(client, links["all filters"]))
    assert ids_on(get(client, next(params for params in singles if "min_upvotes" not in params)))


def _params(href: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(htmlmod.unescape(href)).query)
