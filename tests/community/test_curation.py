"""Curator pages over HTTP: a message after each action (POST-redirect-GET), removal asks first,
the log names papers by title and day, and a refused addition marks the field."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

DAY = dt.date(2021, 4, 20)


@pytest.fixture
def curator(env):
    env.paper("2104.00001", day=DAY, hf_upvotes=10, title="Sparse Mixtures of Tiny Experts")
    env.paper("2104.00002", day=DAY, hf_upvotes=5, title="Retrieval Heads in Long Context")
    env.member("cora", role="curator")
    c = env.client()
    token = env.login(c, "cora")
    return c, token


def act(client, token, action, arxiv_id, day=DAY, **extra):
    return client.post(f"/curate/{action}", data={"csrf_token": token, "day": day.isoformat(), "id": arxiv_id,
                                                  **extra})


def message_after(client, response) -> str:
    """Follow the redirect like a browser and return the page's one-shot message."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/curate?day={DAY.isoformat()}"
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    m = re.search(r'<p class="flash[^"]*" role="status">(.*?)</p>', page.text)
    assert m, page.text[:3000]
    return html.unescape(m.group(1))


@pytest.mark.parametrize("action, arxiv_id, expected", [
    ("add", "arXiv:1605.08386", "Added “{title}” to the list of Apr 20, 2021."),
    ("pin", "2104.00002", "Pinned “Retrieval Heads in Long Context”: it now comes first on the list of Apr 20, 2021."),
    ("hide", "2104.00001", "Hid “Sparse Mixtures of Tiny Experts”: readers no longer see it on the list of "
                           "Apr 20, 2021."),
    ("remove", "2104.00001", "Removed “Sparse Mixtures of Tiny Experts” from the list of Apr 20, 2021."),
])
def test_each_curator_action_says_what_it_did_once(env, curator, action, arxiv_id, expected):
    c, token = curator
    text = message_after(c, act(c, token, action, arxiv_id))
    title = env.store.get_paper(arxiv_id.removeprefix("arXiv:")).title  # 1605.08386 comes from arXiv
    assert text == expected.format(title=title)
    # The message is shown once: a reload does not repeat it.
    assert 'role="status"' not in c.get(f"/curate?day={DAY.isoformat()}").text


def test_undo_actions_say_so_too(env, curator):
    c, token = curator
    message_after(c, act(c, token, "pin", "2104.00001"))
    assert message_after(c, act(c, token, "unpin", "2104.00001")) == "Unpinned “Sparse Mixtures of Tiny Experts”."
    message_after(c, act(c, token, "hide", "2104.00001"))
    assert message_after(c, act(c, token, "unhide", "2104.00001")) == (
        "“Sparse Mixtures of Tiny Experts” is shown again on the list of Apr 20, 2021.")


def test_the_message_cannot_be_forged(env, curator):
    c, _ = curator
    c.cookies.set("dp_flash", "eyJ0IjoiWW91IHdvbiJ9.forged.signature")
    page = c.get(f"/curate?day={DAY.isoformat()}")
    assert page.status_code == 200 and 'role="status"' not in page.text


def test_remove_asks_for_confirmation_first(env, curator):
    c, token = curator
    page = c.get(f"/curate?day={DAY.isoformat()}").text
    link = html.unescape(re.search(r'href="(/curate/remove\?[^"]+id=2104.00001)"', page).group(1))
    confirm = c.get(link)
    assert confirm.status_code == 200
    assert "Remove this paper from the list?" in confirm.text
    assert "Sparse Mixtures of Tiny Experts" in confirm.text
    # Opening the confirmation changed nothing.
    assert [r.paper.arxiv_id for r in env.store.curated_day(DAY)].count("2104.00001") == 1
    form = re.search(r'<form method="post" action="/curate/remove">(.*?)</form>', confirm.text, re.S).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert fields["id"] == "2104.00001" and fields["day"] == DAY.isoformat()
    r = c.post("/curate/remove", data=fields)
    assert "Removed “Sparse Mixtures of Tiny Experts”" in message_after(c, r)
    assert "2104.00001" not in [r.paper.arxiv_id for r in env.store.curated_day(DAY)]
    # A paper no longer on the list has nothing to confirm.
    assert c.get(link).status_code == 404


def test_the_log_names_papers_by_title_and_day(env, curator):
    c, token = curator
    message_after(c, act(c, token, "pin", "2104.00002"))
    message_after(c, act(c, token, "remove", "2104.00001"))
    log = c.get("/curate/log")
    assert log.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", log.text, re.S)[1:]  # after the header row
    assert len(rows) == 2
    removed, pinned = rows  # newest first
    assert "Removed" in removed and '<a href="/papers/2104.00001">Sparse Mixtures of Tiny Experts</a>' in removed
    assert "Pinned" in pinned and '<a href="/papers/2104.00002">Retrieval Heads in Long Context</a>' in pinned
    for row in rows:
        assert f'<a href="/curate?day={DAY.isoformat()}"><time datetime="{DAY.isoformat()}">Apr 20, 2021</time>' in row
        assert '<a href="/u/cora">cora</a>' in row


def test_a_refused_addition_marks_the_field_and_keeps_what_was_typed(env, curator):
    c, token = curator
    r = act(c, token, "add", "2104.00001")  # already on that day
    page = c.get(r.headers["location"]).text
    assert re.search(r'<p class="error" role="alert" id="form-error" tabindex="-1">2104.00001 is already on the '
                     r'list of 2021-04-20.</p>', page)
    field = re.search(r'<input id="id"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and "autofocus" in field and 'value="2104.00001"' in field
    assert 'aria-describedby="form-error id-hint"' in field
    # A later visit is clean again.
    again = c.get(f"/curate?day={DAY.isoformat()}").text
    assert 'aria-invalid' not in again and 'role="alert"' not in again


def test_members_cannot_open_the_confirmation(env, curator):
    env.member("ada")
    m = env.client(ip="10.0.0.9")
    env.login(m, "ada")
    assert m.get(f"/curate/remove?day={DAY.isoformat()}&id=2104.00001").status_code == 403
