"""Upvotes: one per member per paper, toggled; the count is exact under concurrency."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time

from community_helpers import csrf

DAY = dt.date(2021, 4, 22)


def vote_counts(env, arxiv_id):
    stored = env.store.get_paper(arxiv_id).votes
    counted = env.store.count_votes(arxiv_id)
    return stored, counted


def run_parallel(n, fn):
    barrier = threading.Barrier(n)
    errors = []

    def worker(i):
        try:
            barrier.wait()
            fn(i)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_form_vote_toggles_and_page_shows_the_breakdown(env):
    env.paper("2104.00001", day=DAY, hf_upvotes=40)
    members = [env.member(f"m{i}") for i in range(2)]
    env.community.votes.vote(members[0], "2104.00001")
    c = env.client()
    token = env.login(c, "m1")
    r = c.post("/papers/2104.00001/upvote", data={"csrf_token": token, "next": "/papers/date/2021-04-22"})
    assert r.status_code == 303 and r.headers["location"] == "/papers/date/2021-04-22#paper-2104.00001"
    assert env.store.get_paper("2104.00001").upvotes == 42
    page = c.get("/papers/2104.00001").text
    assert "42 = 40 from HF + 2 here" in page
    # JSON for the page's script, toggling back.
    r = c.post("/papers/2104.00001/upvote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.json() == {"id": "2104.00001", "voted": False, "upvotes": 41, "votes": 1, "hfUpvotes": 40}
    assert vote_counts(env, "2104.00001") == (1, 1)


def test_anonymous_and_unverified_members_cannot_vote(env):
    env.paper("2104.00001", day=DAY)
    env.member("unverified", verified=False)
    anon = env.client(ip="10.1.1.1")
    token = csrf(anon)
    r = anon.post("/papers/2104.00001/upvote", data={"csrf_token": token, "next": "/"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = anon.post("/papers/2104.00001/upvote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.status_code == 403
    c = env.client()
    token = env.login(c, "unverified")
    r = c.post("/papers/2104.00001/upvote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.status_code == 403 and "Verify your email" in r.json()["error"]
    r = c.post("/papers/9999.99999/upvote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.status_code in (403, 404)
    assert vote_counts(env, "2104.00001") == (0, 0)


def test_unknown_paper_is_404(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = c.post("/papers/2104.55555/upvote", headers={"X-CSRF-Token": token, "Accept": "application/json"})
    assert r.status_code == 404


def test_50_parallel_toggles_by_different_members_threads(env):
    env.paper("2104.00001", day=DAY, hf_upvotes=7)
    members = [env.member(f"m{i}") for i in range(50)]
    votes = env.community.votes
    run_parallel(50, lambda i: votes.vote(members[i], "2104.00001"))
    assert vote_counts(env, "2104.00001") == (50, 50)
    assert env.store.get_paper("2104.00001").upvotes == 57
    run_parallel(50, lambda i: votes.vote(members[i], "2104.00001"))  # all take it back at once
    assert vote_counts(env, "2104.00001") == (0, 0)


def test_repeated_parallel_toggles_by_one_member_threads(env):
    env.paper("2104.00001", day=DAY)
    ada = env.member("ada")
    votes = env.community.votes
    run_parallel(50, lambda i: votes.vote(ada, "2104.00001"))
    assert vote_counts(env, "2104.00001") == (0, 0)  # 50 toggles: an even number
    run_parallel(51, lambda i: votes.vote(ada, "2104.00001"))
    assert vote_counts(env, "2104.00001") == (1, 1)
    run_parallel(20, lambda i: votes.vote(ada, "2104.00001", True))  # explicit: idempotent
    assert vote_counts(env, "2104.00001") == (1, 1)


CHILD = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from dailypapers.storage import open_store
    url, start, first, count, repeat_user, repeats = sys.argv[1], float(sys.argv[2]), *map(int, sys.argv[3:])
    store = open_store(url)
    while time.time() < start:
        time.sleep(0.001)
    now = dt.datetime.now(dt.timezone.utc)
    for i in range(repeats):  # one member toggling from every process at once
        assert store.toggle_vote(repeat_user, "2104.00001", now) is not None
    for user_id in range(first, first + count):
        assert store.toggle_vote(user_id, "2104.00001", now) is not None
    store.close()
    """
)


def test_parallel_toggles_across_processes(env):
    env.paper("2104.00001", day=DAY)
    ids = [env.member(f"m{i}").id for i in range(48)]
    repeat_user = env.member("ada").id
    path = env.settings.db_url  # four processes writing to the same database, SQLite or PostgreSQL
    start = time.time() + 1.5
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, path, str(start), str(ids[k * 12]), "12", str(repeat_user), "25"])
        for k in range(4)
    ]
    for p in procs:
        assert p.wait(120) == 0
    # 48 members once each; ada toggled 4 x 25 = 100 times (even): not counted.
    assert vote_counts(env, "2104.00001") == (48, 48)
    assert repeat_user not in {r[0] for r in env.store.read("SELECT user_id FROM votes")}


def test_parallel_votes_over_http_with_api_tokens(env):
    env.paper("2104.00001", day=DAY)
    raws = []
    for i in range(24):
        user = env.member(f"m{i}")
        raws.append(env.community.accounts.create_api_token(user, "bench")[1])
    clients = [env.client(ip=f"10.2.0.{i}") for i in range(24)]
    results = [None] * 24

    def go(i):
        r = clients[i].post("/api/papers/2104.00001/upvote", headers={"Authorization": f"Bearer {raws[i]}"})
        results[i] = r.status_code

    run_parallel(24, go)
    assert results == [200] * 24
    assert vote_counts(env, "2104.00001") == (24, 24)
    r = clients[0].get("/api/papers/2104.00001")
    assert r.json()["upvotes"] == 24


def test_a_vote_updates_the_trending_key(env):
    env.paper("2104.00001", day=DAY)
    env.paper("2104.00002", day=DAY)
    env.store.refresh_trending()
    before = env.store.read("SELECT trending_score FROM papers WHERE arxiv_id = '2104.00001'")[0][0]
    env.community.votes.vote(env.member("ada"), "2104.00001")
    after = env.store.read("SELECT trending_score FROM papers WHERE arxiv_id = '2104.00001'")[0][0]
    assert after > before
    top = env.store.trending_listings(DAY - dt.timedelta(days=6), DAY, 10)
    assert [p.arxiv_id for _, p in top] == ["2104.00001", "2104.00002"]


def test_trending_page_ranks_by_time_decayed_votes(env):
    from community_helpers import fresh

    old_day, new_day = dt.date(2021, 4, 18), dt.date(2021, 4, 22)
    env.paper("2104.00001", day=old_day, hf_upvotes=40, title="Old popular paper")
    env.paper("2104.00002", day=new_day, hf_upvotes=6, title="New rising paper")
    env.paper("2104.00003", day=new_day, hf_upvotes=0, title="New quiet paper")
    c = env.client()
    page = c.get("/papers/trending").text  # imported papers get keys on the first read
    assert page.index("New rising paper") < page.index("Old popular paper") < page.index("New quiet paper")
    members = [env.member(f"m{i}") for i in range(8)]
    for m in members:
        env.community.votes.vote(m, "2104.00003")  # votes land: the key moves at once
    fresh(env)
    page = c.get("/papers/trending").text
    assert page.index("New quiet paper") < page.index("New rising paper")
    api = c.get("/api/daily_papers?sort=trending").json()
    assert [i["paper"]["id"] for i in api] == ["2104.00003", "2104.00002", "2104.00001"]
    assert c.get("/papers/top/week").headers["location"] == "/papers/week/2021-W16"
    assert c.get("/papers/top/month").headers["location"] == "/papers/month/2021-04"
