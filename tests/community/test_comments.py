"""Comments: plain text with clickable links, never raw HTML; edit, delete, curator hide; numComments."""

from __future__ import annotations

import datetime as dt

from community_helpers import fresh

from dailypapers.community.comments import render_comment

DAY = dt.date(2021, 4, 22)


def test_render_escapes_first_then_links():
    html = str(render_comment('<script>alert(1)</script> see https://example.org/a?b=1&c=2. "x"'))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert ('<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
            "https://example.org/a?b=1&amp;c=2</a>.") in html
    # No attribute injection through a URL, no javascript: links.
    html = str(render_comment('https://x.org/"onmouseover="alert(1) javascript:alert(1) <a href="https://y.org">y</a>'))
    assert 'onmouseover="' not in html and 'href="javascript' not in html
    assert html.count("<a ") == 2 and "&lt;a href=" in html
    assert str(render_comment("one\n\ntwo\nthree")) == "<p>one</p><p>two<br>\nthree</p>"
    assert str(render_comment("(see https://en.wikipedia.org/wiki/Foo_(bar))")).count("Foo_(bar)</a>)") == 1


def test_comment_lifecycle_and_num_comments(env):
    env.paper("2104.00001", day=DAY)
    env.member("ada")
    env.member("bob")
    env.member("cora", role="curator")
    ada = env.client()
    at = env.login(ada, "ada")
    r = ada.post("/papers/2104.00001/comments", data={"csrf_token": at, "body": "Nice <b>work</b>: https://github.com/x/y"})
    assert r.status_code == 303
    [c] = env.store.paper_comments("2104.00001")
    fresh(env)
    page = ada.get("/papers/2104.00001").text
    assert "Nice &lt;b&gt;work&lt;/b&gt;" in page and 'href="https://github.com/x/y" rel="nofollow ugc noopener"' in page
    api = ada.get(f"/api/daily_papers?date={DAY.isoformat()}").json()
    assert api[0]["numComments"] == 1
    # Someone else may not edit or delete it.
    bob = env.client(ip="10.0.0.2")
    bt = env.login(bob, "bob")
    assert bob.post(f"/comments/{c.id}/edit", data={"csrf_token": bt, "body": "pwned"}).status_code == 403
    assert bob.post(f"/comments/{c.id}/delete", data={"csrf_token": bt}).status_code == 403
    assert bob.post(f"/comments/{c.id}/hide", data={"csrf_token": bt}).status_code == 403
    # The author edits.
    assert ada.post(f"/comments/{c.id}/edit", data={"csrf_token": at, "body": "Edited."}).status_code == 303
    assert env.store.get_comment(c.id).body == "Edited." and env.store.get_comment(c.id).edited_at
    # A curator hides it: gone from the page and the count.
    cora = env.client(ip="10.0.0.3")
    ct = env.login(cora, "cora")
    assert cora.post(f"/comments/{c.id}/hide", data={"csrf_token": ct}).status_code == 303
    assert env.store.get_paper("2104.00001").num_comments == 0
    fresh(env)
    assert "Edited." not in bob.get("/papers/2104.00001").text
    assert bob.get(f"/comments/{c.id}").status_code == 404
    assert cora.get(f"/comments/{c.id}").status_code == 200
    assert env.store.curator_log()[0].action == "hide_comment"
    assert cora.post(f"/comments/{c.id}/unhide", data={"csrf_token": ct}).status_code == 303
    assert env.store.get_paper("2104.00001").num_comments == 1
    # The author deletes it.
    assert ada.post(f"/comments/{c.id}/delete", data={"csrf_token": at}).status_code == 303
    assert env.store.get_paper("2104.00001").num_comments == 0
    assert ada.get(f"/comments/{c.id}").status_code == 404


def test_comment_validation(env):
    env.paper("2104.00001", day=DAY)
    env.member("ada")
    env.member("newbie", verified=False)
    c = env.client()
    t = env.login(c, "ada")
    assert c.post("/papers/2104.00001/comments", data={"csrf_token": t, "body": "   "}).status_code == 400
    assert c.post("/papers/2104.00001/comments", data={"csrf_token": t, "body": "x" * 5001}).status_code == 400
    assert c.post("/papers/2104.77777/comments", data={"csrf_token": t, "body": "hi"}).status_code == 404
    n = env.client(ip="10.0.0.4")
    nt = env.login(n, "newbie")
    assert n.post("/papers/2104.00001/comments", data={"csrf_token": nt, "body": "hi"}).status_code == 403
