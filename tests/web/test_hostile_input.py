"""Issue 16, "found, to fix by class": each class of defect, through real HTTP (httpx over ASGI), or a
real uvicorn server where connections matter (web/guard.py, web/errors.py, web/requests.py, days.py,
community/ratelimit.py, web/security.py)."""

from __future__ import annotations

import inspect
import json
import logging
import re
import socket
import time
from pathlib import Path

import pytest
from starlette.routing import Route
from webapp import LATEST_DAY, Client, ServerThread, make_app

from dailypapers.web.api import OPENAPI
from dailypapers.web.guard import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, RATE_LIMITED, TOKEN_FIRST_BYTES
from dailypapers.web.routes import route_table
from dailypapers.web.security import CSRF_COOKIE

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def site(fresh_data_dir):
    made = []

    def build(**settings):
        app, services = make_app(fresh_data_dir, **settings)
        client = Client(app)
        made.append((client, services))
        return client, services

    yield build
    for client, services in made:
        client.close()
        services.store.close()


def member(services, name: str, role: str = "member"):
    return services.accounts.create_user(f"{name}@example.org", name, PASSWORD, role=role, verified=True,
                                         check_strength=False)


def session_for(client: Client, services, user) -> str:
    """Logged in as `user` (a real session row), with a CSRF token bound to it."""
    client.http.cookies.set("dp_session", services.accounts.start_session(user))
    return Client.csrf(client.get("/settings"))


def api_token(services, user) -> str:
    return services.accounts.create_api_token(user, "test")[1]


# -- 1. dates at the edges of the calendar: the project's 400, never a 500 ----------------------------
OUT_OF_RANGE = ["0001-01-01", "9999-12-31", "1899-12-31"]
EDGES = ["1900-01-01", "9998-12-31"]


def date_paths(day: str) -> list[str]:
    year = day[:4]
    return [
        f"/papers/date/{day}", f"/papers/week/{year}-W01", f"/papers/week/{year}-W52", f"/papers/month/{year}-01",
        f"/papers/month/{year}-12", f"/papers/date/{day}.bib", f"/api/daily_papers?date={day}",
        f"/api/daily_papers?week={year}-W52", f"/api/daily_papers?month={year}-12", f"/papers/search?q=x&from={day}",
        f"/papers/search?q=x&to={day}", f"/papers/search.ris?q=x&to={day}", f"/api/papers/new?date={day}",
        f"/papers/new/{day}", f"/curate?day={day}", f"/curate/inbox/{day}", f"/curate/rules?day={day}",
        f"/feeds/date/{day}.xml", f"/feeds/week/{year}-W52.atom", f"/feeds/month/{year}-12.json",
    ]


def test_dates_out_of_range_are_400_and_the_edges_work_everywhere(site):
    client, services = site()
    session_for(client, services, member(services, "cura", role="curator"))
    for day in OUT_OF_RANGE:
        for path in date_paths(day):
            r = client.get(path)
            assert r.status_code == 400, (path, r.status_code)
    for day in EDGES:
        for path in date_paths(day):
            r = client.get(path)
            assert r.status_code < 500, (path, r.status_code)
    # the curator's day links stop at the edge instead of pointing past it
    page = client.get("/curate?day=9998-12-31").text
    assert "/curate?day=9998-12-30" in page and "9999-01-01" not in page


def test_deeply_nested_json_is_bad_input(site):
    client, services = site()
    ada = member(services, "ada")
    token = api_token(services, ada)
    deep = b"[" * 5000 + b"]" * 5000
    r = client.post("/api/collections", content=deep,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert r.status_code == 400 and "nested too deeply" in r.json()["error"]
    csrf = session_for(client, services, ada)  # the site's own fetch(): cookie + X-CSRF-Token
    r = client.post(f"/papers/{'2608.19880'}/upvote", content=b'{"vote": ' + deep + b"}",
                    headers={"X-CSRF-Token": csrf, "Content-Type": "application/json", "Accept": "application/json"})
    assert r.status_code == 400


def socket_buffers_max() -> int:
    """The most a loopback connection's two socket buffers can hold (receive + send maxima; Linux
    grows them on its own up to these): 4 MiB + 6 MiB when /proc does not say."""
    total = 0
    for name, default in (("tcp_rmem", 6 * 1024 * 1024), ("tcp_wmem", 4 * 1024 * 1024)):
        try:
            total += int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])
        except (OSError, IndexError, ValueError):
            total += default
    return total


def raw_http(port: int, head: bytes, body_chunks=(), *, read_timeout: float = 10.0) -> tuple[bytes, int]:
    """Send a request over a real socket; returns (what came back, body bytes sent before it did)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(head)
        s.setblocking(False)
        answer = b""
        for chunk in body_chunks:
            try:
                answer += s.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                s.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        s.setblocking(True)
        s.settimeout(read_timeout)
        try:
            while b"\r\n\r\n" not in answer:
                more = s.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def test_a_client_leaving_mid_body_logs_one_short_line(fresh_data_dir, caplog):
    app, services = make_app(fresh_data_dir)
    token = api_token(services, member(services, "ada"))
    with ServerThread(app) as server, caplog.at_level(logging.DEBUG):
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", server.port)) as s:
                s.sendall(b"PUT /api/reading/2608.19880 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 5000\r\n\r\n{\"st")
                time.sleep(0.2)
        time.sleep(0.5)
    services.store.close()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    lines = [r for r in caplog.records if "/api/reading" in r.getMessage()]
    assert len(lines) <= 5 and all("\n" not in r.getMessage() for r in lines)


# -- 2. bodies: capped while they stream, the token checked first ------------------------------------
def test_a_declared_length_over_the_cap_is_413_before_any_body(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    with ServerThread(app) as server:
        for path, size in [("/login", MAX_BODY_BYTES + 1), ("/api/collections", 200 * 1024 * 1024),
                           ("/api/collections/1/import", MAX_UPLOAD_BYTES + 1)]:
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Authorization: Bearer whatever\r\nContent-Length: {size}\r\n\r\n").encode()
            answer, _ = raw_http(server.port, head)
            assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
    services.store.close()


def test_a_streamed_body_is_cut_off_at_the_cap_not_buffered(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    token = api_token(services, member(services, "ada"))
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with ServerThread(app) as server:
        for path, auth in [("/api/collections", f"Authorization: Bearer {token}\r\n"), ("/login", "")]:
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}"
                    "Transfer-Encoding: chunked\r\n\r\n").encode()
            # 200 MiB offered in 64 KiB chunks; the server answers once it has seen the cap
            answer, sent = raw_http(server.port, head, (framed for _ in range(3200)))
            assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:300])
            # the cap plus what the kernel may hold in the two sockets' buffers: far below the 200 MiB offered
            assert sent < MAX_BODY_BYTES + socket_buffers_max(), sent
    services.store.close()


def test_a_text_field_over_its_documented_length_is_refused_as_sent(site):
    """The OpenAPI document gives maxLength as sent; the services count after tidying spaces, so the
    API counts first (a fuzzer's 101-character name that tidied to 100 was once created)."""
    client, services = site()
    ada = member(services, "ada")
    auth = {"Authorization": f"Bearer {api_token(services, ada)}"}
    cid = services.library.create(ada, "Reading group", "", "private").id
    over = "\r" + "x" * 100  # 101 as sent, 100 once tidied
    for method, path, body in [
        ("POST", "/api/collections", {"name": over}),
        ("POST", "/api/collections", {"name": "Fine", "description": " " + "d" * 2000}),
        ("PATCH", f"/api/collections/{cid}", {"name": over}),
        ("PUT", f"/api/collections/{cid}/notes/2608.19880", {"note": "n" * 5000 + "\n"}),
        ("POST", "/api/follows", {"kind": "author", "name": " " + "A" * 200}),
        ("POST", "/api/saved-searches", {"q": "diffusion", "name": over}),
    ]:
        r = client.request(method, path, json=body, headers=auth)
        assert r.status_code == 400 and "too long" in r.json()["error"], (method, path, r.text[:200])
    r = client.post("/api/collections", json={"name": "\r" + "x" * 99}, headers=auth)  # 100 as sent
    assert r.status_code == 201 and r.json()["name"] == "x" * 99


def test_the_import_has_its_own_larger_cap(site):
    client, services = site()
    token = api_token(services, member(services, "ada"))
    cid = services.library.create(services.accounts.find("ada"), "Reading group", "", "private").id
    bib = b"@article{a, title={A}, eprint={2608.19880}, archivePrefix={arXiv}}\n" + b"%" * (2 * MAX_BODY_BYTES)
    r = client.post(f"/api/collections/{cid}/import", content=bib, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text[:300]


def test_a_bad_api_token_is_refused_before_the_body_is_read(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    with ServerThread(app) as server:
        size = TOKEN_FIRST_BYTES * 8
        head = (f"POST /api/collections HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer dp_not-a-token\r\nContent-Length: {size}\r\n\r\n").encode()
        answer, _ = raw_http(server.port, head)  # no body sent at all
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    services.store.close()


# -- 3. every route that runs a search shares the search limit; exports have theirs ------------------
def test_every_search_route_shares_one_limit(site):
    client, _ = site(rate_search="3/60", rate_export="1/60")
    for path in ["/papers/search?q=agents", "/api/papers/search?q=agents", "/feeds/search.xml?q=agents"]:
        assert client.get(path).status_code == 200, path
    for path in ["/feeds/search.atom?q=agents", "/papers/search.bib?q=agents", "/api/papers/search?q=x",
                 "/papers/search?q=other"]:
        r = client.get(path)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, path
    assert client.get(f"/papers/date/{LATEST_DAY}.bib").status_code == 200
    assert client.get(f"/papers/date/{LATEST_DAY}.ris").status_code == 429


def concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b" if m.group(1) else "x", path)


# The census: what makes a GET route expensive, found in its handler's source (the build functions
# inside it included), and the limit it must count against. A new route that does any of these
# without its line in web/guard.py's RATE_LIMITED fails here.
EXPENSIVE = {
    "runs a search": (r"\.search\.search\(|cite_search\(|SearchRequest\.from_params|_search_feed\(", "search"),
    "an author's papers (the search index's candidates)": (r"papers\.author\(", "search"),
    "a saved search's papers": (r"\.matches\(", "search"),
    "For you (the query model on the member's topics)": (r"foryou\.for_member\(", "search"),
    "a citation export of many papers": (r"cite_day\(|library\.export\b", "export"),
    "a whole collection": (r"library\.(view|public)\(", "export"),
    "a member's data or feeds": (r"account_data\.export\b|member_feeds\b", "export"),
}


def limit_of(path: str) -> str | None:
    """The limit web/guard.py counts a request to `path` against (its first matching line)."""
    return next((name for pattern, name in RATE_LIMITED if re.search(pattern, path)), None)


def test_every_expensive_route_is_rate_limited_under_its_class():
    found = {what: 0 for what in EXPENSIVE}
    unlimited = []
    for route in route_table():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        source = inspect.getsource(route.endpoint)
        for what, (marker, limit) in EXPENSIVE.items():
            if re.search(marker, source):
                found[what] += 1
                if limit_of(concrete(route.path)) != limit:
                    unlimited.append(f"{route.path} ({what}): {limit_of(concrete(route.path))}, not {limit}")
    assert unlimited == []
    assert all(found.values()), found  # each marker still finds its routes
    assert sum(found.values()) >= 20


def test_the_census_catches_a_new_expensive_route():
    async def author_digest(request):  # a new route that reads an author's papers
        return request.app.state.site.papers.author(request.path_params["name"], 1)

    route = Route("/digest/authors/{name:path}", author_digest)
    marker, limit = EXPENSIVE["an author's papers (the search index's candidates)"]
    assert re.search(marker, inspect.getsource(route.endpoint))
    assert limit_of(concrete(route.path)) is None  # no line in RATE_LIMITED: the census would fail


def test_author_pages_and_for_you_share_the_search_limit_collections_count_as_exports(site):
    client, services = site(rate_search="2/60", rate_export="2/60")
    assert client.get("/papers/search?q=agents").status_code == 200
    assert client.get("/authors/Ada%20Lovelace").status_code in (200, 404)
    assert client.get("/authors/Ada%20Lovelace").status_code == 429
    assert client.get("/feeds/authors/Ada%20Lovelace.xml").status_code == 429
    assert client.get("/for-you").status_code == 429
    ada = member(services, "ada")
    session_for(client, services, ada)
    assert client.get("/settings/export.json").status_code == 200
    assert client.get("/feeds.opml").status_code == 200
    r = client.get("/settings/export.json")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert client.get("/collections/1").status_code == 429
    assert client.get("/c/anything").status_code == 429


# -- 4. login: an attacker's address is stopped, the owner still logs in -------------------------------
def login(client: Client, email: str, password: str, address: str):
    token = Client.csrf(client.get("/login"))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers={"X-Forwarded-For": address})


def test_login_throttle_stops_the_attacker_not_the_owner(site):
    # the test client's peer is 127.0.0.1: a trusted proxy here, so X-Forwarded-For names the client
    client, services = site(rate_login="3/300", rate_login_account="6/900", trusted_proxies="127.0.0.1")
    member(services, "victim")
    for _ in range(3):
        assert login(client, "victim@example.org", "wrong guess", "203.0.113.9").status_code == 400
    assert login(client, "victim@example.org", PASSWORD, "203.0.113.9").status_code == 429
    owner = login(client, "victim@example.org", PASSWORD, "198.51.100.7")
    assert owner.status_code == 303
    # attempts from many addresses together reach the slower per-account limit
    client.http.cookies.clear()
    for i in range(5):
        login(client, "victim@example.org", "wrong guess", f"192.0.2.{i + 1}")
    r = login(client, "victim@example.org", PASSWORD, "192.0.2.99")
    assert r.status_code == 429 and "for this account" in r.text


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(site):
    client, services = site(rate_login="2/300")
    member(services, "ada")
    for i in range(2):
        login(client, "ada@example.org", "wrong", f"10.9.9.{i}")
    assert login(client, "ada@example.org", "wrong", "10.9.9.77").status_code == 429  # same peer: rotated in vain
    client2, _ = site(rate_login="2/300", trusted_proxies="127.0.0.1,10.0.0.0/8")
    for _ in range(2):
        login(client2, "ada@example.org", "wrong", "198.51.100.1, 10.0.0.5")
    # the right-most address that is not one of our proxies is the client
    assert login(client2, "ada@example.org", "wrong", "6.6.6.6, 198.51.100.1, 10.0.0.5").status_code == 429
    assert login(client2, "ada@example.org", "wrong", "198.51.100.2, 10.0.0.5").status_code == 400


# -- 5. password reset: the same answer for an account and for no account ---------------------------
def test_reset_answers_are_identical_for_known_and_unknown_accounts(site):
    client, services = site()
    member(services, "ada")
    token = Client.csrf(client.get("/reset"))
    known = client.post("/reset", data={"email": "ada@example.org", "csrf_token": token})
    unknown = client.post("/reset", data={"email": "nobody@example.org", "csrf_token": token})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ada@example.org", "E") == unknown.text.replace("nobody@example.org", "E")
    assert {k: v for k, v in known.headers.items() if k not in ("content-length", "date")} == \
        {k: v for k, v in unknown.headers.items() if k not in ("content-length", "date")}


# -- 6. the CSRF token is bound to the session -------------------------------------------------------------
def test_a_token_from_another_session_is_refused(site):
    client_a, services = site()
    client_b = Client(client_a.app)
    try:
        token_a = session_for(client_a, services, member(services, "ada"))
        token_b = session_for(client_b, services, member(services, "bob"))
        nonce_b = client_b.http.cookies[CSRF_COOKIE]
        # Bob's token and cookie pair, planted beside Ada's session, is refused
        client_a.http.cookies.set(CSRF_COOKIE, nonce_b)
        r = client_a.post("/settings/profile", data={"csrf_token": token_b, "show_upvotes": "on"})
        assert r.status_code == 403
        # a token issued before login (no session) does not work once logged in either
        visitor = Client(client_a.app)
        anon = Client.csrf(visitor.get("/login"))
        visitor.http.cookies.set("dp_session", services.accounts.start_session(services.accounts.find("ada")))
        assert visitor.post("/settings/profile", data={"csrf_token": anon}).status_code == 403
        visitor.close()
        # Ada's own pair works
        client_a.http.cookies.clear()
        token_a = session_for(client_a, services, services.accounts.find("ada"))
        assert client_a.post("/settings/profile", data={"csrf_token": token_a}).status_code == 303
    finally:
        client_b.close()


# -- 8. the smaller ones -----------------------------------------------------------------------------------
def test_no_store_survives_a_new_csrf_cookie(site):
    client, services = site()
    session_for(client, services, member(services, "ada"))
    client.http.cookies.delete(CSRF_COOKIE)
    r = client.get("/settings")
    assert "dp_csrf=" in r.headers.get("set-cookie", "")
    assert "no-store" in r.headers["cache-control"]


def test_bidi_overrides_never_reach_a_comment_link(site):
    client, services = site()
    token = session_for(client, services, member(services, "ada"))
    spoof = "see https://example.org/\u202egpj.exe\u202c and \u2066this\u2069"
    r = client.post("/papers/2608.19880/comments", data={"csrf_token": token, "body": spoof})
    assert r.status_code in (200, 303)
    page = client.get("/papers/2608.19880").text
    assert "https://example.org/gpj.exe" in page
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", page)


def test_openapi_agrees_with_the_server(site):
    client, _ = site()
    r = client.request("PUT", "/api/papers/search?q=x")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD" and r.json()["status"] == 405
    # q is counted as sent: 250 characters pass, 251 with control characters in them do not
    assert client.get("/api/papers/search", params={"q": "a" * 250}).status_code == 200
    assert client.get("/api/papers/search", params={"q": "a" * 240 + "\x01" * 11}).status_code == 400
    # date and month together: accepted, narrowed to the days they share
    both = client.get(f"/api/daily_papers?date={LATEST_DAY}&month={LATEST_DAY:%Y-%m}")
    assert both.status_code == 200 and both.json() == client.get(f"/api/daily_papers?date={LATEST_DAY}").json()
    assert client.get(f"/api/daily_papers?date={LATEST_DAY}&month=2020-01").json() == []
    doc = client.get("/openapi.json").json()
    assert "429" in doc["paths"]["/api/papers/search"]["get"]["responses"]
    assert "429" in doc["paths"]["/feeds/search.xml"]["get"]["responses"]
    writes = [(p, m) for p, ops in OPENAPI["paths"].items() for m in ops if p.startswith("/api/") and m != "get"]
    assert writes and all("429" in OPENAPI["paths"][p][m]["responses"] for p, m in writes)
    assert json.dumps(doc)  # serializable as served
