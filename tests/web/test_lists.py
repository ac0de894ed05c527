"""List navigation over real HTTP on real HF data: week and month pages, the Day/Week/Month
switcher, Next and Latest, the Pinned badge, and /for-you's notion of "recent"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from webapp import LATEST_DAY, Client, make_app, open_data_store

from dailypapers import days as days_mod

TITLES = re.compile(r'<h2 class="card-title"[^>]*><a href="/papers/([^"]+)">')
UPVOTES = re.compile(r'class="upvote-count">(\d+)<')


def paper_ids(html: str) -> list[str]:
    return TITLES.findall(html)


def switcher(html: str) -> list[tuple[str, str, bool]]:
    """(label, href, current) of the Day / Week / Month links."""
    m = re.search(r'<nav class="view-switch" aria-label="Day, week or month">(.*?)</nav>', html, re.S)
    assert m, "no Day/Week/Month switcher"
    return [(label, href, bool(cur)) for href, cur, label in
            re.findall(r'<a href="([^"]+)"( aria-current="page")?[^>]*>(\w+)</a>', m.group(1))]


def week_ids_from_api(client, week: str) -> set[str]:
    items = client.get(f"/api/daily_papers?week={week}&limit=100").json()
    ids = {i["paper"]["id"] for i in items}
    page = 1
    while len(items) == 100:
        items = client.get(f"/api/daily_papers?week={week}&limit=100&p={page}").json()
        ids |= {i["paper"]["id"] for i in items}
        page += 1
    return ids


def test_week_pages_hold_every_paper_once_in_upvote_order(client):
    first = client.get("/papers/week/2026-W34")
    assert first.status_code == 200
    m = re.search(r"Papers 1–(\d+) of (\d+)", first.text)
    assert m, "no page count"
    per_page, total = int(m.group(1)), int(m.group(2))
    assert total > per_page
    assert 'rel="next" href="/papers/week/2026-W34?page=2"' in first.text
    seen, votes, page = [], [], 1
    html = first.text
    while True:
        seen += paper_ids(html)
        votes += [int(v) for v in UPVOTES.findall(html)]
        nxt = re.search(r'rel="next" href="(/papers/week/2026-W34\?page=\d+)"', html)
        if not nxt:
            break
        page += 1
        r = client.get(nxt.group(1))
        assert r.status_code == 200 and f"Page {page} of" in r.text
        html = r.text
    assert len(seen) == len(set(seen)) == total
    assert votes == sorted(votes, reverse=True)
    assert set(seen) == week_ids_from_api(client, "2026-W34")
    # the sort is kept from page to page, and a page past the end is a 404
    trending = client.get("/papers/week/2026-W34?sort=trending")
    assert 'href="/papers/week/2026-W34?sort=trending&amp;page=2"' in trending.text
    assert client.get(f"/papers/week/2026-W34?page={page + 1}").status_code == 404
    assert client.get("/papers/month/2026-08?page=0").status_code == 400
    assert client.get("/papers/month/2026-08?page=two").status_code == 400


def test_week_and_month_pages_show_previews_not_full_abstracts(client, services):
    for path in ("/papers/week/2026-W34", "/papers/month/2026-08"):
        html = client.get(path).text
        ids = paper_ids(html)
        assert ids and html.count('class="abstract-preview"') == len(ids)
        assert '<details class="abstract">' not in html
        # a full abstract is on the paper page, not here
        full = services.store.get_paper(ids[0]).abstract
        assert len(full) > 400 and full not in html
        assert len(html.encode()) < 3_000 * len(ids) + 20_000
    # the day page keeps its "Full abstract" disclosure
    assert '<details class="abstract">' in client.get("/papers/date/2026-08-21").text


def test_next_stops_at_the_latest_period_and_latest_links_back(client):
    latest_week = client.get("/papers/week/2026-W34").text
    assert 'rel="prev" href="/papers/week/2026-W33"' in latest_week
    assert 'rel="next"' not in latest_week.split('<ol class="cards"')[0]
    assert ">Latest<" not in latest_week
    earlier = client.get("/papers/week/2026-W33").text
    assert 'rel="next" href="/papers/week/2026-W34"' in earlier
    # an empty week after the last list: no Next into more empty weeks, a way back to the latest
    future = client.get("/papers/week/2026-W40")
    assert future.status_code == 200 and "No papers were listed" in future.text
    assert 'rel="next"' not in future.text
    assert 'href="/papers/week/2026-W34">Latest' in future.text
    month = client.get("/papers/month/2026-12").text
    assert 'rel="next"' not in month and 'rel="prev" href="/papers/month/2026-08"' in month
    assert 'href="/papers/month/2026-08">Latest' in month
    # a day: no Next after the latest day; an older day links to the latest
    assert 'rel="next"' not in client.get(f"/papers/date/{LATEST_DAY}").text
    old = client.get("/papers/date/2026-08-13").text
    assert f'href="/papers/date/{LATEST_DAY}">Latest' in old
    # a gap (no lists between January 2025 and August 2026) is skipped, not walked through
    assert 'rel="next" href="/papers/month/2026-08"' in client.get("/papers/month/2025-01").text


def test_day_week_and_month_pages_switch_between_each_other(client):
    day = switcher(client.get("/papers/date/2026-08-20").text)
    assert day == [("Day", "/papers/date/2026-08-20", True), ("Week", "/papers/week/2026-W34", False),
                   ("Month", "/papers/month/2026-08", False)]
    assert switcher(client.get("/").text)[0] == ("Day", f"/papers/date/{LATEST_DAY}", True)
    week = switcher(client.get("/papers/week/2026-W34?sort=newest").text)
    # from a week, Day opens its latest day with papers; the sort comes along
    assert week == [("Day", f"/papers/date/{LATEST_DAY}?sort=newest", False),
                    ("Week", "/papers/week/2026-W34?sort=newest", True),
                    ("Month", "/papers/month/2026-08?sort=newest", False)]
    month = switcher(client.get("/papers/month/2026-08").text)
    assert [c for _, _, c in month] == [False, False, True] and month[1][1] == "/papers/week/2026-W34"


def test_a_period_without_a_label_opens_the_latest_one(client):
    """/papers/week, /papers/month and /papers/date as people type them: the period of the latest
    day with papers (the home page's), the sort kept."""
    expected = {"/papers/week": "/papers/week/2026-W34", "/papers/month": "/papers/month/2026-08",
                "/papers/date": f"/papers/date/{LATEST_DAY}"}
    for path, target in expected.items():
        r = client.get(path)
        assert r.status_code == 302 and r.headers["location"] == target, path
        assert client.get(target).status_code == 200
    assert client.get("/papers/week?sort=newest").headers["location"] == "/papers/week/2026-W34?sort=newest"


def test_a_period_without_a_label_on_an_empty_site(tmp_path, data_dirs):
    open_data_store(tmp_path, data_dirs.new()).close()
    app, services = make_app(tmp_path)
    client = Client(app)
    try:
        assert client.get("/papers/date").headers["location"] == "/"
        week = client.get("/papers/week")
        assert week.headers["location"] == f"/papers/week/{days_mod.week_label(services.papers.today())}"
        assert "No papers were listed" in client.get(week.headers["location"]).text
    finally:
        client.close()
        services.store.close()
        data_dirs.drop(tmp_path)


def test_a_pinned_paper_says_so(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    c = Client(app)
    try:
        day = dt.date(2026, 8, 20)
        before = paper_ids(c.get("/papers/date/2026-08-20").text)
        low = before[-1]  # the least upvoted paper of the day
        curator = services.accounts.create_user("cur@example.org", "cur", None, role="curator", verified=True)
        services.curation.pin(curator, day, low)
        services.papers._version = None  # list pages trust the store version for a moment
        for path in ("/papers/date/2026-08-20", "/papers/week/2026-W34", "/papers/month/2026-08"):
            html = c.get(path).text
            assert "Most upvoted" in html
            assert paper_ids(html)[0] == low
            cards = html.split('<article class="card"')[1:]
            assert ">Pinned<" in cards[0] and sum(">Pinned<" in card for card in cards) == 1
            assert 'class="visually-hidden"> by a curator</span>' in cards[0]
    finally:
        c.close()
        services.store.close()


@pytest.mark.parametrize("now", [dt.datetime(2026, 9, 20, 12, tzinfo=dt.timezone.utc)])
def test_for_you_counts_recent_days_like_trending(fresh_data_dir, now):
    # A month after the last list: "recent" still means the last days that have papers.
    app, services = make_app(fresh_data_dir, clock=lambda: now)
    c = Client(app)
    try:
        trending = c.get("/papers/trending").text
        assert paper_ids(trending)
        window = re.search(r'<p class="subheading">(.*?) – (.*?)</p>', trending)
        assert window and window.group(2) == "Aug 21, 2026"
        user = services.accounts.create_user("ada@example.org", "ada", None, verified=True)
        c.http.cookies.set("dp_session", services.accounts.start_session(user))
        page = c.get("/for-you")
        assert page.status_code == 200
        picks = re.findall(r'<h2 class="card-title"><a href="/papers/([^"]+)">', page.text)
        assert picks and "No papers" not in page.text
        # every pick was listed in the last 14 list days up to the latest day, as trending counts them
        first = LATEST_DAY - dt.timedelta(days=13)
        for arxiv_id in picks:
            days = [listing.day for listing in services.store.listings_for_paper(arxiv_id)]
            assert any(first <= d <= LATEST_DAY for d in days), (arxiv_id, days)
        assert set(paper_ids(trending)[:5]) & set(picks)
    finally:
        c.close()
        services.store.close()
