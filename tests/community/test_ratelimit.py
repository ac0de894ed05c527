"""Rate limits: 429 + Retry-After per IP and per account, for every limited action."""

from __future__ import annotations

import datetime as dt

import pytest
from community_helpers import csrf, make_env

from dailypapers.community.ratelimit import Limits, MemoryBackend, StoreBackend
from dailypapers.config import Settings
from dailypapers.errors import RateLimited

DAY = dt.date(2021, 4, 22)


class FakeTime:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_sliding_window_in_memory():
    check_sliding_window(MemoryBackend())


def test_memory_backend_keeps_a_bounded_number_of_addresses(monkeypatch):
    """Addresses that come and go cannot grow the process: past MAX_KEYS the least recently used is
    forgotten, and a busy address is still counted."""
    monkeypatch.setattr(MemoryBackend, "MAX_KEYS", 100)
    events = MemoryBackend()
    clock = FakeTime()
    limits = Limits(Settings(rate_search="25/60"), events, clock=clock)
    for i in range(1000):
        limits.check("search", ip=f"10.0.{i // 250}.{i % 250}")
        if i % 50 == 0:
            limits.check("search", ip="203.0.113.1")  # busy: kept as one of the most recently used
    assert len(events._events) == 100
    for _ in range(5):
        limits.check("search", ip="203.0.113.1")
    with pytest.raises(RateLimited):  # its 20 checks in the loop still count
        limits.check("search", ip="203.0.113.1")


def test_sliding_window_in_the_store(backend_store):
    check_sliding_window(StoreBackend(backend_store))


def check_sliding_window(events):
    """Per IP and per account, whichever backend holds the events."""
    settings = Settings(rate_login="3/60")
    clock = FakeTime()
    limits = Limits(settings, events, clock=clock)
    for _ in range(3):
        limits.check("login", ip="1.1.1.1", account="ada@example.org")
    with pytest.raises(RateLimited) as e:
        limits.check("login", ip="1.1.1.1", account="bob@example.org")  # the IP is over
    assert e.value.retry_after == 60
    with pytest.raises(RateLimited):
        limits.check("login", ip="2.2.2.2", account="ADA@example.org")  # the account is over, from anywhere
    limits.check("login", ip="2.2.2.2", account="bob@example.org")  # refused attempts were not counted
    clock.t += 30
    with pytest.raises(RateLimited) as e:
        limits.check("login", ip="1.1.1.1")
    assert e.value.retry_after == 30
    clock.t += 30.5
    limits.check("login", ip="1.1.1.1")  # the window slid past the first events


@pytest.fixture
def tight(tmp_path, smtp, arxiv_server, backend_url):
    limits = {f"rate_{n}": "2/120" for n in ("login", "signup", "reset", "submit", "comment", "vote", "search")}
    limits["rate_login_account"] = "3/120"
    env = make_env(tmp_path, smtp, arxiv_server.url, submit_max_age_days=5000, database_url=backend_url, **limits)
    env.paper("2104.00001", day=DAY)
    yield env
    env.close()
    env.store.close()


def assert_429(r):
    assert r.status_code == 429, (r.status_code, r.text[:300])
    assert 1 <= int(r.headers["retry-after"]) <= 120
    assert "Too many" in r.text


def test_login_signup_reset_are_limited_per_ip(tight):
    c = tight.client()
    t = csrf(c)
    for path, data in [
        ("/login", {"email": "x@example.org", "password": "whatever-123"}),
        ("/signup", {"email": "new@example.org", "name": "new", "password": "short"}),
        ("/reset", {"email": "x@example.org"}),
    ]:
        for _ in range(2):
            assert c.post(path, data={**data, "csrf_token": t}).status_code != 429
        assert_429(c.post(path, data={**data, "csrf_token": t}))
    other = tight.client(ip="10.9.9.9")  # another IP is not affected...
    assert other.post("/login", data={"email": "y@example.org", "password": "p", "csrf_token": csrf(other)}).status_code == 400
    # ...not even for the same account (the owner's address is not the attacker's: OWASP)...
    assert other.post("/login", data={"email": "x@example.org", "password": "p", "csrf_token": csrf(other)}).status_code == 400
    # ...until the account's own, slower limit over all addresses together is reached.
    third = tight.client(ip="10.8.8.8")
    assert_429(third.post("/login", data={"email": "x@example.org", "password": "p", "csrf_token": csrf(third)}))


def test_votes_comments_submissions_are_limited_per_account(tight):
    tight.member("ada")
    c = tight.client()
    t = tight.login(c, "ada")
    h = {"X-CSRF-Token": t, "Accept": "application/json"}
    for _ in range(2):
        assert c.post("/papers/2104.00001/upvote", headers=h).status_code == 200
    assert_429(c.post("/papers/2104.00001/upvote", headers=h))
    for i in range(2):
        assert c.post("/papers/2104.00001/comments", data={"csrf_token": t, "body": f"c{i}"}).status_code == 303
    assert_429(c.post("/papers/2104.00001/comments", data={"csrf_token": t, "body": "c3"}))
    for text in ("0000.0000", "not-an-id"):
        assert c.post("/papers/submit", data={"csrf_token": t, "id": text}).status_code == 400
    assert_429(c.post("/papers/submit", data={"csrf_token": t, "id": "2104.12255"}))
    # Per account: the same member from another IP is still limited.
    c2 = tight.client(ip="10.7.7.7")
    t2 = tight.login(c2, "ada")
    assert_429(c2.post("/papers/2104.00001/upvote", headers={"X-CSRF-Token": t2, "Accept": "application/json"}))


def test_search_is_limited_per_ip(tight):
    c = tight.client()
    for _ in range(2):
        assert c.get("/api/papers/search").status_code == 200
    assert_429(c.get("/api/papers/search"))
    assert_429(c.get("/papers/search"))
    assert tight.client(ip="10.8.8.8").get("/papers/search").status_code == 200


def test_store_backend_sweeps_events_of_addresses_never_seen_again(backend_store, backend):
    from dailypapers.storage.postgres import ratelog as postgres_rates
    from dailypapers.storage.sqlite import ratelog as sqlite_rates

    rates = sqlite_rates if backend == "sqlite" else postgres_rates
    events = StoreBackend(backend_store)
    events.hit(["search:ip:203.0.113.9"], 5, 60.0, 1000.0)  # a one-off visitor
    later = 1000.0 + rates.RATE_KEEP_SECONDS + 1
    for i in range(rates.RATE_SWEEP_EVERY):
        events.hit([f"search:ip:198.51.100.{i % 7}"], 10_000, 60.0, later + i / 1000)
    if backend == "sqlite":  # a file of its own, beside the database
        with backend_store._rates_lock:
            keys = {k for (k,) in backend_store._rate_conn()[0].execute("SELECT DISTINCT key FROM rate_events")}
    else:
        keys = {k for (k,) in backend_store.read("SELECT DISTINCT key FROM rate_events")}
    assert "search:ip:203.0.113.9" not in keys
    assert "search:ip:198.51.100.1" in keys  # recent events stay
