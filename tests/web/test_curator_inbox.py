"""The curator's inbox and listing rules over real HTTP (issue 12): a real SQLite file or PostgreSQL
database holding a real slice of arXiv arrivals, ingested by the ingest jobs and scored by
ArrivalService.score(); the real app through Starlette's TestClient.

Add, pin, skip and undo work as plain forms (POST, redirect, one-shot message) and as JSON for
the keyboard script; what they decide shows on the day's public list. Rules list the top K or a
saved search's matches, their additions appear in the curator log as "rule: ...", and an undo
there takes the paper off for good."""

from __future__ import annotations

import html
import re

import pytest
from inbox_data import DAY, NEXT_DAY, PASSWORD, build_inbox_data_dir, build_services_for
from starlette.testclient import TestClient

from dailypapers.web.routes import build_app

INBOX = f"/curate/inbox/{DAY.isoformat()}"
LIST = f"/papers/date/{DAY.isoformat()}"
JSON = {"Accept": "application/json", "X-Requested-With": "fetch"}


@pytest.fixture(scope="module")
def built(tmp_path_factory, data_dirs):
    """Built once per backend (conftest's `data_dirs`); tests change copies."""
    return build_inbox_data_dir(tmp_path_factory.mktemp("inbox") / "data", data_dirs.new())


class Site:
    def __init__(self, data_dir):
        self.services = build_services_for(data_dir)
        self.app = build_app(self.services)
        self.clients: list[TestClient] = []

    def client(self, name: str | None = None) -> TestClient:
        c = TestClient(self.app, follow_redirects=False)
        c.__enter__()
        self.clients.append(c)
        c.token = token_of(c.get("/login"))
        if name:
            r = c.post("/login", data={"email": f"{name}@example.org", "password": PASSWORD,
                                       "csrf_token": c.token, "next": "/"})
            assert r.status_code == 303, r.text
            c.token = token_of(c.get("/login"))  # tokens are bound to the session
        return c

    def day(self, day=DAY):
        return self.services.arrivals.view(day, per_page=1000).entries

    def listed(self, day=DAY) -> dict[str, bool]:
        """The papers on the day's list (visible or not), with whether each is pinned."""
        return {row.paper.arxiv_id: row.pinned for row in self.services.store.curated_day(day)}

    def close(self):
        for c in self.clients:
            c.__exit__(None, None, None)
        self.services.store.close()


@pytest.fixture
def site(built, tmp_path, data_dirs):
    data = data_dirs.copy(built, tmp_path / "data")
    s = Site(data)
    yield s
    s.close()
    data_dirs.drop(data)


@pytest.fixture
def cora(site):
    return site.client("cora")


def token_of(page) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)


def decide(c, arxiv_id, action, day=DAY, **extra):
    return c.post("/curate/inbox/decide", data={"csrf_token": c.token, "day": day.isoformat(), "arxiv_id": arxiv_id,
                                                "action": action, **extra})


def undo(c, day=DAY):
    return c.post("/curate/inbox/undo", data={"csrf_token": c.token, "day": day.isoformat()})


def follow(c, response, kind: str = "status") -> tuple[str, str]:
    """Follow a 303 like a browser: (the page, its one-shot message of `kind`)."""
    assert response.status_code == 303, response.text[:500]
    page = c.get(response.headers["location"].split("#")[0])
    assert page.status_code == 200
    role = "alert" if kind == "error" else "status"
    # Site-wide (class flash), or beside the form whose field it is about (class error).
    m = re.search(rf'<p class="(?:flash[^"]*|error)" role="{role}"[^>]*>(.*?)</p>', page.text)
    assert m, page.text[:3000]
    return page.text, html.unescape(m.group(1))


def row(page: str, arxiv_id: str) -> str:
    m = re.search(rf'<li class="inbox-item" id="a-[^"]*" data-arxiv-id="{re.escape(arxiv_id)}".*?</form>\s*</li>', page, re.S)
    assert m, arxiv_id
    return m.group(0)


def state(page: str, arxiv_id: str) -> str:
    return html.unescape(re.search(r"<span data-state-text>(.*?)</span>", row(page, arxiv_id)).group(1))


# -- who may triage ------------------------------------------------------------------
def test_only_curators_see_or_change_the_inbox(site):
    paper = site.day()[0].paper
    visitor = site.client()
    r = visitor.get(INBOX)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = decide(visitor, paper.arxiv_id, "add")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    member = site.client("mo")
    for path in (INBOX, "/curate/inbox", "/curate/rules"):
        assert member.get(path).status_code == 403, path
    assert decide(member, paper.arxiv_id, "add").status_code == 403
    r = member.post("/curate/inbox/decide", headers={**JSON, "X-CSRF-Token": member.token},
                    data={"day": DAY.isoformat(), "arxiv_id": paper.arxiv_id, "action": "add"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/json")
    assert member.post("/curate/rules/add", data={"csrf_token": member.token, "kind": "top", "top_k": "5"}
                       ).status_code == 403
    assert member.post("/curate/rules/run", data={"csrf_token": member.token, "day": DAY.isoformat()}
                       ).status_code == 403
    assert site.listed() == {}


def test_every_change_needs_the_csrf_token(site, cora):
    paper = site.day()[0].paper
    fields = {"day": DAY.isoformat(), "arxiv_id": paper.arxiv_id, "action": "add"}
    assert cora.post("/curate/inbox/decide", data=fields).status_code == 403
    assert cora.post("/curate/inbox/decide", data={**fields, "csrf_token": "0" * 64}).status_code == 403
    r = cora.post("/curate/inbox/decide", data=fields, headers=JSON)  # the script without its header
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert cora.post("/curate/inbox/undo", data={"day": DAY.isoformat()}).status_code == 403
    assert cora.post("/curate/rules/add", data={"kind": "top", "top_k": "5"}).status_code == 403
    assert cora.post("/curate/rules/run", data={"day": DAY.isoformat()}).status_code == 403
    assert site.listed() == {} and site.services.store.arrival_rules() == []


# -- the page ----------------------------------------------------------------------------
def test_the_inbox_lists_the_days_arrivals_best_first_with_their_reasons(site, cora):
    entries = site.day()
    assert len(entries) == 14 and all(e.score is not None for e in entries)
    page = cora.get(INBOX)
    assert page.status_code == 200
    text = page.text
    assert "Arrivals of Thursday, October 30, 2025" in text
    ids = re.findall(r'data-arxiv-id="([^"]+)"', text)
    assert ids == [e.paper.arxiv_id for e in entries]  # best score first
    assert [e.score for e in entries] == sorted((e.score for e in entries), reverse=True)
    top = entries[0]
    first = row(text, top.paper.arxiv_id)
    assert f'href="/papers/{top.paper.arxiv_id}"' in first
    assert html.escape(top.paper.title, quote=False) in first
    assert html.escape(top.paper.authors[0], quote=False) in first
    assert top.paper.categories[0] in first and f"score {top.score:.2f}" in first
    assert top.reasons and all(f"<li>{html.escape(r, quote=False)}</li>" in first for r in top.reasons)
    assert state(text, top.paper.arxiv_id) == "Undecided"
    for action in ("add", "pin", "skip"):
        assert f'name="action" value="{action}"' in first
    assert re.search(r'14 arrivals in the field:\s*<strong data-count="undecided">14</strong> undecided', text)
    assert site.services.arrivals.model_info().note in html.unescape(text)
    assert "<kbd>j</kbd>/<kbd>k</kbd>" in text and "<kbd>z</kbd> undo" in text
    assert f'href="/curate/inbox/{NEXT_DAY.isoformat()}"' in text  # day navigation
    assert 'src="/static/inbox.js?v=' in text
    # Without a day: the newest arrival day.
    latest = cora.get("/curate/inbox")
    assert latest.status_code == 200 and "Arrivals of Friday, October 31, 2025" in latest.text
    assert cora.get("/curate/inbox/2025-13-01").status_code == 400
    # Linked from the curator's pages.
    curate = cora.get("/curate").text
    assert 'href="/curate/inbox"' in curate and 'href="/curate/rules"' in curate


# -- deciding without JavaScript -------------------------------------------------------------
def test_add_pin_skip_and_undo_with_plain_forms(site, cora):
    e = site.day()
    first, second, third = e[0].paper, e[1].paper, e[2].paper

    r = decide(cora, first.arxiv_id, "add", next=f"a-{second.arxiv_id.replace('.', '-')}")
    assert r.headers["location"] == f"{INBOX}#a-{second.arxiv_id.replace('.', '-')}"  # on to the next paper
    page, message = follow(cora, r)
    assert message == f"Added “{first.title}” to the list of Oct 30, 2025."
    assert state(page, first.arxiv_id) == "Added by cora · on the list of Oct 30, 2025"
    assert 'data-count="undecided">13<' in page and 'data-count="added">1<' in page

    page, message = follow(cora, decide(cora, second.arxiv_id, "pin"))
    assert message == f"Pinned “{second.title}”: it comes first on the list of Oct 30, 2025."
    assert state(page, second.arxiv_id).startswith("Pinned by cora")
    page, message = follow(cora, decide(cora, third.arxiv_id, "skip"))
    assert message == f"Skipped “{third.title}”."
    assert state(page, third.arxiv_id) == "Skipped by cora"
    assert 'data-count="skipped">1<' in page and 'data-count="added">2<' in page

    # The day's public list shows the decisions: added and pinned papers, the pinned one first.
    assert site.listed() == {first.arxiv_id: False, second.arxiv_id: True}
    public = cora.get(LIST).text
    assert public.index(html.escape(second.title, quote=False)) < public.index(html.escape(first.title, quote=False))
    assert html.escape(third.title, quote=False) not in public

    # Undo takes back the newest decision first, each with its message, and comes back to that paper.
    r = undo(cora)
    assert r.headers["location"] == f"{INBOX}#a-{third.arxiv_id.replace('.', '-')}"
    page, message = follow(cora, r)
    assert message == f"Undid the skip of “{third.title}”."
    assert state(page, third.arxiv_id) == "Undecided"
    page, message = follow(cora, undo(cora))
    assert message == f"Undid the pin of “{second.title}”."
    assert state(page, second.arxiv_id) == "Undecided"
    assert site.listed() == {first.arxiv_id: False}
    assert html.escape(second.title, quote=False) not in cora.get(LIST).text


def test_refusals_are_messages_not_errors(site, cora):
    paper = site.day()[0].paper
    follow(cora, decide(cora, paper.arxiv_id, "skip"))
    _, message = follow(cora, decide(cora, paper.arxiv_id, "add"), "error")
    assert message == f"{paper.arxiv_id} is skipped already: undo that first (z)."
    _, message = follow(cora, decide(cora, "2510.99999", "add"), "error")
    assert message == "2510.99999 is not an arrival of 2025-10-30"
    _, message = follow(cora, decide(cora, site.day(NEXT_DAY)[0].paper.arxiv_id, "add"), "error")
    assert "is not an arrival of 2025-10-30" in message  # an arrival of another day
    _, message = follow(cora, decide(cora, paper.arxiv_id, "star"), "error")
    assert message == "Unknown action 'star': use add, pin or skip."
    follow(cora, undo(cora))
    _, message = follow(cora, undo(cora), "error")
    assert message == "Nothing to undo on 2025-10-30."
    r = cora.post("/curate/inbox/decide", data={"csrf_token": cora.token, "day": "yesterday",
                                                "arxiv_id": paper.arxiv_id, "action": "add"})
    assert r.headers["location"] == f"/curate/inbox#a-{paper.arxiv_id.replace('.', '-')}"
    # A forged return address is not followed.
    r = decide(cora, paper.arxiv_id, "add", next='x" onfocus="alert(1)')
    assert r.headers["location"] == INBOX
    assert site.listed() == {paper.arxiv_id: False}


# -- deciding from the keyboard script (JSON) -------------------------------------------------
def test_the_same_endpoints_answer_json(site, cora):
    e = site.day()
    first, second = e[0].paper, e[1].paper
    headers = {**JSON, "X-CSRF-Token": cora.token}

    def post(path, **fields):
        return cora.post(path, headers=headers, data={"day": DAY.isoformat(), **fields})

    r = post("/curate/inbox/decide", arxiv_id=first.arxiv_id, action="add")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    data = r.json()
    assert {k: data[k] for k in ("ok", "arxiv_id", "decision", "decided_by")} == {
        "ok": True, "arxiv_id": first.arxiv_id, "decision": "added", "decided_by": "cora"}
    assert data["message"] == f"Added “{first.title}” to the list of Oct 30, 2025."
    assert data["status"] == "added" and data["allowed"] == ["pin"] and data["listed_on"] == DAY.isoformat()

    data = post("/curate/inbox/decide", arxiv_id=first.arxiv_id, action="pin").json()
    assert data["decision"] == "pinned" and data["allowed"] == []
    data = post("/curate/inbox/decide", arxiv_id=second.arxiv_id, action="skip").json()
    assert data["decision"] == "skipped" and data["state"] == "Skipped by cora"

    r = post("/curate/inbox/decide", arxiv_id=second.arxiv_id, action="add")
    assert r.status_code == 400
    assert r.json() == {"ok": False, "arxiv_id": second.arxiv_id,
                        "message": f"{second.arxiv_id} is skipped already: undo that first (z)."}
    r = post("/curate/inbox/decide", arxiv_id="2510.99999", action="add")
    assert r.status_code == 404 and r.json()["ok"] is False

    data = post("/curate/inbox/undo").json()
    assert data["ok"] and data["undone"] == "skipped" and data["arxiv_id"] == second.arxiv_id
    assert data["decision"] is None and data["status"] == "undecided"
    data = post("/curate/inbox/undo").json()  # the pin: the paper is back to added, still listed
    assert (data["arxiv_id"], data["undone"], data["decision"]) == (first.arxiv_id, "pinned", "added")
    assert data["message"] == f"Undid the pin of “{first.title}”."
    assert site.listed() == {first.arxiv_id: False}
    data = post("/curate/inbox/undo").json()
    assert (data["undone"], data["decision"], data["listed_on"]) == ("added", None, None)
    r = post("/curate/inbox/undo")
    assert r.status_code == 400 and r.json()["message"] == "Nothing to undo on 2025-10-30."
    assert site.listed() == {}


# -- rules ---------------------------------------------------------------------------------------
def add_rule(c, **fields):
    return c.post("/curate/rules/add", data={"csrf_token": c.token, **fields})


def run_rules(c, day=DAY):
    return c.post("/curate/rules/run", data={"csrf_token": c.token, "day": day.isoformat()})


def log_rows(c) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", c.get("/curate/log").text, re.S)


def test_a_top_k_rule_lists_the_best_arrivals_and_an_undo_in_the_log_sticks(site, cora):
    page = cora.get("/curate/rules")
    assert page.status_code == 200 and "No rules yet" in page.text
    assert "Run the rules on Oct 31, 2025 now" in page.text  # the newest arrival day by default

    for bad in ("0", "101", "ten", ""):
        _, message = follow(cora, add_rule(cora, kind="top", top_k=bad), "error")
        assert message == "K must be a whole number from 1 to 100."
    r = add_rule(cora, kind="top", top_k="3")
    page, message = follow(cora, r)
    assert message.startswith("Created rule #1 top 3 by predicted interest.")
    assert "#1 top 3 by predicted interest" in page and 'href="/u/cora"' in page

    # Run it on DAY: the three best-scored arrivals join DAY's list.
    page = cora.get(f"/curate/rules?day={DAY.isoformat()}").text
    assert "Run the rules on Oct 30, 2025 now" in page
    _, message = follow(cora, run_rules(cora))
    assert message == "The rules listed 3 papers on Oct 30, 2025."
    best = [e.paper for e in site.day()[:3]]
    assert site.listed() == {p.arxiv_id: False for p in best}
    public = cora.get(LIST).text
    assert all(html.escape(p.title, quote=False) in public for p in best)
    inbox = cora.get(INBOX).text
    assert state(inbox, best[0].arxiv_id) == "Added by #1 top 3 by predicted interest · on the list of Oct 30, 2025"

    # The log names the rule as the actor, with an Undo button on each of its additions.
    rule_rows = [r for r in log_rows(cora) if "rule: #1 top 3 by predicted interest" in r]
    assert len(rule_rows) == 3 and all("/undo" in r for r in rule_rows)
    target = next(r for r in rule_rows if best[1].arxiv_id in r)
    action = re.search(r'action="(/curate/log/(\d+)/undo)"', target).group(1)
    _, message = follow(cora, cora.post(action, data={"csrf_token": cora.token}))
    assert message.startswith("Undid log entry #")
    assert best[1].arxiv_id not in site.listed()
    assert html.escape(best[1].title, quote=False) not in cora.get(LIST).text
    assert state(cora.get(INBOX).text, best[1].arxiv_id) == "Taken off the list by cora"
    _, message = follow(cora, cora.post(action, data={"csrf_token": cora.token}), "error")
    assert message == "That paper is no longer on that list."

    # A re-run does not bring it back (nor list anything else: the top 3 are decided).
    _, message = follow(cora, run_rules(cora))
    assert message == "The rules listed nothing new on Oct 30, 2025."
    assert best[1].arxiv_id not in site.listed() and len(site.listed()) == 2
    # Nor can the inbox: a curator took it off.
    _, message = follow(cora, decide(cora, best[1].arxiv_id, "add"), "error")
    assert "was taken off the list by a curator" in message

    # Deleting the rule keeps what it listed.
    page = cora.get("/curate/rules").text
    delete = re.search(r'action="(/curate/rules/1/delete)"', page).group(1)
    page, message = follow(cora, cora.post(delete, data={"csrf_token": cora.token}))
    assert message == "Deleted rule #1. What it listed stays listed."
    assert "No rules yet" in page and len(site.listed()) == 2
    _, message = follow(cora, cora.post(delete, data={"csrf_token": cora.token}), "error")
    assert message == "There is no rule #1."
    _, message = follow(cora, run_rules(cora), "error")
    assert message == "There are no rules to run: add one first."


def test_a_search_rule_lists_only_the_arrivals_it_matches(site, cora):
    entries = site.day()
    ids = [e.paper.arxiv_id for e in entries]
    matches = site.services.search.matching("agent", ids)
    assert 0 < len(matches) < len(ids)  # the index was synced: the rule has something to tell apart

    _, message = follow(cora, add_rule(cora, kind="search", query="  "), "error")
    assert message == "Type the search whose matches should be listed."
    page, message = follow(cora, add_rule(cora, kind="search", query="agent"))
    assert "#1 matches “agent”" in html.unescape(page)
    _, message = follow(cora, run_rules(cora))
    assert message == f"The rules listed {len(matches)} paper{'s' if len(matches) != 1 else ''} on Oct 30, 2025."
    assert set(site.listed()) == matches
    public = cora.get(LIST).text
    for e in entries:
        assert (html.escape(e.paper.title, quote=False) in public) == (e.paper.arxiv_id in matches)
    assert sum("rule: #1 matches “agent”" in html.unescape(r) for r in log_rows(cora)) == len(matches)


def test_a_paper_hidden_on_the_days_list_stays_hidden(site, cora):
    """A curator hid the paper on DAY's list (/curate): the inbox and the rules say so, not a 500."""
    paper = site.day()[0].paper
    for action in ("add", "hide"):
        r = cora.post(f"/curate/{action}", data={"csrf_token": cora.token, "day": DAY.isoformat(),
                                                  "id": paper.arxiv_id})
        assert r.status_code == 303
    page = cora.get(INBOX).text
    assert state(page, paper.arxiv_id) == "Undecided"  # readers see it on no list
    _, message = follow(cora, decide(cora, paper.arxiv_id, "add"), "error")
    assert message == (f"{paper.arxiv_id} is on the list of 2025-10-30 already, hidden by a curator: show it again "
                       f"from the curator's page of that day.")
    follow(cora, add_rule(cora, kind="top", top_k="1"))
    _, message = follow(cora, run_rules(cora))
    assert message == "The rules listed nothing new on Oct 30, 2025."
    [row_] = site.services.store.curated_day(DAY)
    assert row_.paper.arxiv_id == paper.arxiv_id and row_.hidden
