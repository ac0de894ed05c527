"""A member's data and account over real HTTP, on SQLite and PostgreSQL: the JSON download (page
and API token), an email change confirmed through a link a real SMTP server received (the old
address told, the rate limit of mail-sending forms), and deleting an account."""

from __future__ import annotations

import datetime as dt
import json
import re

from community_helpers import STRONG, csrf, fresh


def token_for(env, c, token: str) -> str:
    r = c.post("/settings/tokens", data={"name": "export script", "csrf_token": token})
    assert r.status_code == 303
    page = c.get("/settings").text
    return re.search(r'<code id="new-token-value">(dp_[^<]+)</code>', page).group(1)


def test_download_all_your_data(env):
    ada = env.member("ada")
    env.member("bob")
    env.paper("2104.00001", day=dt.date(2021, 4, 22))
    c = env.client()
    token = env.login(c, "ada")
    assert c.post("/papers/2104.00001/upvote", data={"csrf_token": token}).status_code == 303
    assert c.post("/papers/2104.00001/comments", data={"csrf_token": token, "body": "Nice."}).status_code == 303
    lib = env.services.library
    club = lib.create(ada, "Club", "", "shared")
    lib.add_paper(ada, club.id, "2104.00001")
    lib.set_note(ada, club.id, "2104.00001", "my private note")
    lib.add_member(ada, club.id, "bob", "editor")
    raw = token_for(env, c, token)

    r = c.get("/settings/export.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == 'attachment; filename="dailypapers-account-ada-2021-04-22.json"'
    assert "no-store" in r.headers["cache-control"]
    data = r.json()
    assert data["format"] == "dailypapers-account" and data["profile"]["name"] == "ada"
    assert [v["arxiv_id"] for v in data["votes"]] == ["2104.00001"]
    assert [x["body"] for x in data["comments"]] == ["Nice."]
    assert [(x["name"], [p["arxiv_id"] for p in x["papers"]]) for x in data["collections"]] == [("Club", ["2104.00001"])]
    assert data["collections"][0]["members"][0]["name"] == "bob"
    assert data["notes"][0]["body"] == "my private note"
    assert [t["name"] for t in data["api_tokens"]] == ["export script"]
    assert "password" not in r.text and raw not in r.text and "argon2" not in r.text
    # the settings page links it
    assert 'href="/settings/export.json"' in c.get("/settings").text
    # the API: the same document with the token, a 401 without
    script = env.client(ip="10.0.0.9")
    r = script.get("/api/account/export", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and r.json()["votes"] == data["votes"]
    assert script.get("/api/account/export").status_code == 401
    # a visitor is sent to log in
    assert env.client(ip="10.0.0.3").get("/settings/export.json").status_code == 303


def test_email_change_waits_for_the_new_address(env):
    env.member("ada")
    env.member("bob")
    c = env.client()
    token = env.login(c, "ada")
    r = c.post("/settings/email", data={"csrf_token": token, "email": "ada@new.example.org", "current": "wrong"})
    assert r.status_code == 400 and "not your current password" in r.text and 'id="ecur"' in r.text
    r = c.post("/settings/email", data={"csrf_token": token, "email": "ada@new.example.org", "current": STRONG})
    assert r.status_code == 200 and "ada@new.example.org" in r.text
    env.services.accounts.mail.join()
    msg = env.smtp.wait(1)[-1]
    assert msg["To"] == "ada@new.example.org"
    link = env.smtp.link(msg, "/settings/email/confirm")
    # nothing changed yet
    assert env.store.user_by_name("ada").email == "ada@example.org"
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = c.get("/" + path)
    assert page.status_code == 200 and "ada@new.example.org" in page.text
    assert env.store.user_by_name("ada").email == "ada@example.org"  # a GET changes nothing
    form_token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    r = c.post("/settings/email/confirm", data={"csrf_token": csrf(c, "/settings"), "token": form_token})
    assert r.status_code == 200 and "now uses ada@new.example.org" in r.text
    assert env.store.user_by_name("ada").email == "ada@new.example.org"
    env.services.accounts.mail.join()
    notice = env.smtp.wait(2)[-1]
    assert notice["To"] == "ada@example.org" and "ada@new.example.org" in notice.get_body(("plain",)).get_content()
    # the link worked once
    r = c.post("/settings/email/confirm", data={"csrf_token": csrf(c, "/settings"), "token": form_token})
    assert r.status_code == 400
    # the new address logs in
    other = env.client(ip="10.0.0.5")
    r = other.post("/login", data={"email": "ada@new.example.org", "password": STRONG, "csrf_token": csrf(other),
                                   "next": "/"})
    assert r.status_code == 303
    # another member's address: the same answer, but no mail goes to it
    sent = len(env.smtp.messages)
    r = c.post("/settings/email", data={"csrf_token": csrf(c, "/settings"), "email": "bob@example.org",
                                        "current": STRONG})
    assert r.status_code == 200 and "We sent a link to bob@example.org" in r.text
    env.services.accounts.mail.join()
    assert len(env.smtp.messages) == sent
    # rate limited like the other forms that send mail (5 an hour per account)
    codes = [c.post("/settings/email", data={"csrf_token": csrf(c, "/settings"), "email": f"ada{i}@example.org",
                                             "current": STRONG}).status_code for i in range(4)]
    assert codes[-1] == 429


def test_delete_your_account(env):
    ada = env.member("ada")
    env.paper("2104.00001", day=dt.date(2021, 4, 22))
    c = env.client()
    token = env.login(c, "ada")
    c.post("/papers/2104.00001/upvote", data={"csrf_token": token})
    c.post("/papers/2104.00001/comments", data={"csrf_token": token, "body": "Worth a read."})
    raw = token_for(env, c, token)
    assert env.store.get_paper("2104.00001").votes == 1
    page = c.get("/settings/delete")
    assert page.status_code == 200 and "[deleted member]" in page.text
    r = c.post("/settings/delete", data={"csrf_token": token, "password": "wrong"})
    assert r.status_code == 400 and env.store.get_user(ada.id) is not None
    r = c.post("/settings/delete", data={"csrf_token": token, "password": STRONG})
    assert r.status_code == 200 and "is deleted" in r.text
    assert 'dp_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert env.store.get_user(ada.id) is None
    fresh(env)
    paper = env.client(ip="10.0.0.7").get("/papers/2104.00001").text
    assert "Worth a read." in paper and "[deleted member]" in paper and "/u/ada" not in paper
    assert env.store.get_paper("2104.00001").votes == 0
    # every way in is closed
    script = env.client(ip="10.0.0.9")
    assert script.get("/api/account/export", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    again = env.client(ip="10.0.0.8")
    r = again.post("/login", data={"email": "ada@example.org", "password": STRONG, "csrf_token": csrf(again),
                                   "next": "/"})
    assert r.status_code == 400
    assert env.client(ip="10.0.0.6").get("/u/[deleted member]").status_code == 404
    # the name is free again
    assert env.member("ada").id != ada.id
    assert json.dumps(env.store.account_export(ada.id)["votes"]) == "[]"
