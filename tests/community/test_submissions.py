"""Submissions through /papers/submit and /api/papers/submit, with metadata from a recorded arXiv
server; curator actions and their audit log."""

from __future__ import annotations

import datetime as dt
import json

from community_helpers import NOW

from dailypapers import days

TODAY = days.list_day(NOW, "21:30", "America/New_York")


def submit(client, token, text):
    return client.post("/papers/submit", data={"id": text, "csrf_token": token})


def test_a_verified_member_submits_and_the_paper_goes_on_todays_list(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = submit(c, token, "https://arxiv.org/abs/2104.12255v1")
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/papers/2104.12255")
    paper = env.store.get_paper("2104.12255")
    assert paper.title and paper.authors and paper.published.year == 2021  # from the arXiv API
    [listing] = env.store.listings_for_paper("2104.12255")
    assert listing.day == TODAY and listing.submitted_by == "ada" and listing.source == "member"
    # The day page and the API show it, submitted by ada.
    assert "2104.12255" in c.get(f"/papers/date/{TODAY.isoformat()}").text
    items = c.get(f"/api/daily_papers?date={TODAY.isoformat()}").json()
    assert items[0]["paper"]["id"] == "2104.12255" and items[0]["submittedBy"]["name"] == "ada"
    assert "2104.12255" in c.get("/u/ada").text
    # The arXiv API was asked once, for the bare id.
    assert [s.params["id_list"] for s in env_requests(env)] == ["2104.12255"]


def test_after_submitting_the_paper_page_says_where_it_went_once(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = submit(c, token, "2104.12255")
    # the day travels in a one-shot signed cookie, not in the URL (a reload or a bookmark would repeat it)
    assert r.status_code == 303 and r.headers["location"] == "/papers/2104.12255"
    assert "dp_flash=" in r.headers.get("set-cookie", "")
    page = c.get(r.headers["location"])
    said = f"Added to the list of {TODAY:%b} {TODAY.day}, {TODAY.year}."  # Apr 22, 2021
    assert page.status_code == 200
    assert f'<p class="flash" role="status">{said}</p>' in page.text
    assert "dp_flash=" in page.headers.get("set-cookie", "")  # cleared
    again = c.get("/papers/2104.12255")
    assert again.status_code == 200 and said not in again.text
    # a forged message is not shown
    c.cookies.set("dp_flash", "eyJ0IjoiWW91IHdvbiJ9.forged.signature")
    assert "You won" not in c.get("/papers/2104.12255").text


def env_requests(env):
    return env.community.submissions.arxiv and env._arxiv_server.requests


def test_submission_rules_each_have_a_clear_message(env):
    env.member("ada")
    c = env.client()
    token = env.login(c, "ada")
    r = submit(c, token, "not an id")
    assert r.status_code == 400 and "is not an arXiv id" in r.text
    r = submit(c, token, "0000.0000")
    assert r.status_code == 400 and "arXiv has no paper 0000.0000" in r.text
    r = submit(c, token, "2104.99999")
    assert r.status_code == 400 and "withdrawn" in r.text
    r = submit(c, token, "1707.08567")
    assert r.status_code == 400 and "only papers from the last 14 days" in r.text
    assert submit(c, token, "2104.12255").status_code == 303
    r = submit(c, token, "arXiv:2104.12255v2")
    assert r.status_code == 400 and "already on today" in r.text
    # Max age is measured with the injected clock: 15 days later the same paper is too old.
    env.clock.advance(days=15)
    token = env.login(c, "ada")  # (the session went idle meanwhile)
    r = submit(c, token, "2104.12255")
    assert r.status_code == 400 and "days ago" in r.text


def test_the_daily_cap_is_per_member_and_per_day(tmp_path, smtp, arxiv_server, backend_url):
    from community_helpers import make_env

    env = make_env(tmp_path, smtp, arxiv_server.url, submit_daily_cap=1, submit_max_age_days=2000,
                   database_url=backend_url)
    try:
        env.member("ada")
        env.member("bob")
        c = env.client()
        token = env.login(c, "ada")
        assert submit(c, token, "2104.12255").status_code == 303
        r = submit(c, token, "1605.08386")
        assert r.status_code == 400 and "daily limit" in r.text
        other = env.client(ip="10.0.0.5")
        assert submit(other, env.login(other, "bob"), "1605.08386").status_code == 303
        env.clock.advance(days=1)  # a new list day
        token = env.login(c, "ada")
        assert submit(c, token, "1707.08567").status_code == 303
    finally:
        env.close()
        env.store.close()


def test_unverified_members_cannot_submit_and_api_tokens_can(env):
    env.member("newbie", verified=False)
    c = env.client()
    token = env.login(c, "newbie")
    r = submit(c, token, "2104.12255")
    assert r.status_code == 403
    ada = env.member("ada")
    _, raw = env.community.accounts.create_api_token(ada, "script")
    r = env.client(ip="10.3.3.3").post("/api/papers/submit", json={"id": "2104.12255"},
                                       headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 201 and r.json()["id"] == "2104.12255" and r.json()["day"] == TODAY.isoformat()
    assert "dp_flash" not in r.headers.get("set-cookie", "")  # the API answers JSON, no page message
    r = env.client(ip="10.3.3.4").post("/api/papers/submit", json={"id": "2104.12255"},
                                       headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 400 and "already on today" in r.json()["error"]


def test_curators_add_pin_hide_and_remove_with_an_audit_log(env):
    day = dt.date(2021, 4, 20)
    env.paper("2104.00001", day=day, hf_upvotes=10)
    env.paper("2104.00002", day=day, hf_upvotes=5)
    env.paper("2104.00003", day=day, hf_upvotes=1)
    env.member("cora", role="curator")
    env.member("ada")
    c = env.client()
    token = env.login(c, "cora")
    def post(action, arxiv_id):
        r = c.post(f"/curate/{action}", data={"csrf_token": token, "day": day.isoformat(), "id": arxiv_id})
        c.get(r.headers["location"])  # as a browser does: the curate page shows (and clears) the message
        return r

    assert post("add", "1605.08386").status_code == 303  # any day, any age
    assert post("pin", "2104.00003").status_code == 303
    assert post("hide", "2104.00002").status_code == 303
    page = c.get(f"/papers/date/{day.isoformat()}").text
    assert page.index("2104.00003") < page.index("2104.00001")  # pinned first
    assert "2104.00002" not in page  # hidden
    api = [i["paper"]["id"] for i in c.get(f"/api/daily_papers?date={day.isoformat()}").json()]
    assert "2104.00002" not in api and "1605.08386" in api
    assert post("remove", "2104.00001").status_code == 303
    assert "2104.00001" not in c.get(f"/papers/date/{day.isoformat()}").text
    assert post("unhide", "2104.00002").status_code == 303
    assert "2104.00002" in c.get(f"/papers/date/{day.isoformat()}").text
    log = env.store.curator_log()
    assert [(a.actor, a.action, a.arxiv_id) for a in reversed(log)] == [
        ("cora", "add", "1605.08386"), ("cora", "pin", "2104.00003"), ("cora", "hide", "2104.00002"),
        ("cora", "remove", "2104.00001"), ("cora", "unhide", "2104.00002"),
    ]
    assert all(a.created_at == NOW and a.day == day for a in log)
    assert json.loads(log[1].detail)["upvotes"] == 10  # the removed row is kept in the log
    assert "2104.00003" in c.get("/curate/log").text
    assert "2104.00002" in c.get(f"/curate?day={day.isoformat()}").text
    # Members cannot curate.
    m = env.client(ip="10.0.0.8")
    mt = env.login(m, "ada")
    r = m.post("/curate/hide", data={"csrf_token": mt, "day": day.isoformat(), "id": "2104.00003"})
    assert r.status_code == 403
    assert m.get("/curate").status_code == 403


def test_when_arxiv_does_not_answer_the_submission_gives_up_within_the_bound(tmp_path, smtp, backend_url):
    import re
    import time

    from community_helpers import make_env
    from silent_server import SilentServer

    silent = SilentServer()
    # No arXiv client passed in: the app builds its own from the settings, as in production.
    env = make_env(tmp_path, smtp, None, arxiv_api_url=silent.url, arxiv_submit_timeout=1.5,
                   database_url=backend_url)
    try:
        env.member("ada")
        c = env.client()
        token = env.login(c, "ada")
        started = time.monotonic()
        r = submit(c, token, "2104.12255")
        elapsed = time.monotonic() - started
        assert r.status_code == 400
        assert "arXiv did not answer in 1.5 s; try again." in r.text
        assert 1.4 < elapsed < 4, elapsed  # one bounded try, no retries
        assert len(silent.held) == 1
        # the form is kept filled for the retry, and nothing went on the list
        assert re.search(r'<input id="id" name="id"[^>]* value="2104.12255"', r.text)
        assert env.store.listings_for_paper("2104.12255") == []
    finally:
        env.close()
        env.store.close()
        silent.close()
